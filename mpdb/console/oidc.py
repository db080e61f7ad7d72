"""The console as an OpenID Connect relying party: authorization code flow with PKCE (RFC 7636, S256).

Works with any provider that publishes `/.well-known/openid-configuration`: the embedded dev IdP in
dev and test, an agency's provider (Entra ID, Keycloak, Okta...) in production by configuration
alone (MPDB_CONSOLE_OIDC_ISSUER, MPDB_CONSOLE_CLIENT_ID, optional MPDB_CONSOLE_CLIENT_SECRET).

The access token the provider returns is verified by the API's own TokenVerifier (issuer, audience,
signature via JWKS, agency registry, role policy) and becomes the session's principal: the console
acts with exactly the rights a bearer of that token has at /graphql. The ID token is verified here
(signature, issuer, audience = our client id, expiry, nonce) and only names the user on screen.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from mpdb.settings import Settings

DISCOVERY_CACHE_SECONDS = 3600.0
ID_TOKEN_ALGORITHMS = ["RS256", "ES256"]


class SignInError(Exception):
    """Sign-in failed; the message is safe to show the user (no token contents)."""


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    end_session_endpoint: str | None


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    id_token_claims: dict[str, Any]
    id_token: str
    expires_at: float


def console_issuer(settings: Settings) -> str:
    if settings.console_oidc_issuer:
        return settings.console_oidc_issuer.rstrip("/")
    if settings.oauth_issuer:
        return settings.oauth_issuer.rstrip("/")
    from mpdb.auth.dev_idp import dev_idp_issuer

    return dev_idp_issuer(settings)


class OidcClient:
    def __init__(self, settings: Settings, http: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self.issuer = console_issuer(settings)
        self.client_id = settings.console_client_id
        self._secret = settings.console_client_secret.get_secret_value() if settings.console_client_secret else None
        self._http = http or httpx.AsyncClient(timeout=10.0)
        self._metadata: ProviderMetadata | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None

    async def aclose(self) -> None:
        await self._http.aclose()

    async def metadata(self) -> ProviderMetadata:
        if self._metadata is None or time.monotonic() - self._metadata_at > DISCOVERY_CACHE_SECONDS:
            url = f"{self.issuer}/.well-known/openid-configuration"
            try:
                response = await self._http.get(url)
                response.raise_for_status()
                doc = response.json()
                metadata = ProviderMetadata(
                    issuer=doc["issuer"], authorization_endpoint=doc["authorization_endpoint"],
                    token_endpoint=doc["token_endpoint"], jwks_uri=doc["jwks_uri"],
                    end_session_endpoint=doc.get("end_session_endpoint"),
                )
            except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
                raise SignInError("the sign-in service cannot be reached; try again shortly") from exc
            if metadata.issuer.rstrip("/") != self.issuer:
                raise SignInError("the sign-in service is misconfigured (issuer mismatch)")
            self._metadata, self._metadata_at = metadata, time.monotonic()
        return self._metadata

    async def authorization_url(self, *, redirect_uri: str, state: str, nonce: str, code_verifier: str,
                                login_hint: str | None = None) -> str:
        metadata = await self.metadata()
        params = {
            "response_type": "code", "client_id": self.client_id, "redirect_uri": redirect_uri,
            "scope": "openid profile", "state": state, "nonce": nonce,
            "code_challenge": create_s256_code_challenge(code_verifier), "code_challenge_method": "S256",
        }
        if login_hint:
            params["login_hint"] = login_hint
        separator = "&" if "?" in metadata.authorization_endpoint else "?"
        return metadata.authorization_endpoint + separator + urlencode(params)

    async def logout_url(self, post_logout_redirect_uri: str, id_token: str | None) -> str | None:
        metadata = await self.metadata()
        if not metadata.end_session_endpoint:
            return None
        params = {"client_id": self.client_id, "post_logout_redirect_uri": post_logout_redirect_uri}
        if id_token:
            params["id_token_hint"] = id_token
        separator = "&" if "?" in metadata.end_session_endpoint else "?"
        return metadata.end_session_endpoint + separator + urlencode(params)

    async def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str, nonce: str) -> TokenSet:
        metadata = await self.metadata()
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "client_id": self.client_id, "code_verifier": code_verifier}
        auth = (self.client_id, self._secret) if self._secret else None
        try:
            response = await self._http.post(metadata.token_endpoint, data=form, auth=auth)
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise SignInError("the sign-in service cannot be reached; try again shortly") from exc
        if response.status_code != 200 or not isinstance(body, dict):
            error = body.get("error") if isinstance(body, dict) else None
            raise SignInError(f"the sign-in service refused the sign-in ({error or response.status_code}); "
                              "please sign in again")
        access_token, id_token = body.get("access_token"), body.get("id_token")
        if not isinstance(access_token, str) or not isinstance(id_token, str):
            raise SignInError("the sign-in service returned no access token or ID token")
        claims = await self._verify_id_token(id_token, nonce)
        expires_in = body.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, int | float) and expires_in > 0 else 900.0
        return TokenSet(access_token=access_token, id_token=id_token, id_token_claims=claims,
                        expires_at=time.time() + lifetime)

    async def _key_set(self, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            metadata = await self.metadata()
            try:
                response = await self._http.get(metadata.jwks_uri)
                response.raise_for_status()
                self._keys = KeySet.import_key_set(response.json())
            except (httpx.HTTPError, ValueError, JoseError) as exc:
                raise SignInError("the sign-in service's keys cannot be read; try again shortly") from exc
        return self._keys

    async def _verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        try:
            try:
                token = jwt.decode(id_token, await self._key_set(), algorithms=ID_TOKEN_ALGORITHMS)
            except JoseError:  # perhaps a rotated key: read the key set once more
                token = jwt.decode(id_token, await self._key_set(refresh=True), algorithms=ID_TOKEN_ALGORITHMS)
            leeway = self.settings.oauth_leeway_seconds
            jwt.JWTClaimsRegistry(
                leeway=leeway,
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.client_id},
                sub={"essential": True},
                exp={"essential": True},
                nonce={"essential": True, "value": nonce},
            ).validate(token.claims)
        except (JoseError, ValueError) as exc:
            raise SignInError("the sign-in could not be verified; please sign in again") from exc
        return dict(token.claims)
