"""Access-token verification: mpdb as an OAuth2 resource server.

`TokenVerifier.verify(token)` turns a bearer JWT into a `Principal` or raises a `TokenError`
subclass. It accepts only RS256 / ES256 tokens signed by a key from the configured issuer's JWKS
(`JwksCache`), checks `iss`, `aud`, `exp`, `nbf`, `iat` (with a small leeway), requires `sub`,
`client_id`/`azp`, the agency, agency-kind and role claims, refuses an (agency kind, role) pair
the policy does not allow, and clips the token's scopes to what the policy grants the role.

The JWKS is fetched with httpx (or an in-process loader for the embedded dev IdP), cached for
`cache_seconds`, and refetched early, at most once per `min_refresh_seconds` (one budget for both
cases), when a token names an unknown `kid` or fails its signature check under a known one (a
provider that rotates to a new key under the same `kid`); the verifier fails closed (rejects every
token) when no fresh JWKS can be had. Keys are selected by this module, not by the JOSE library: the algorithm allow-list is
checked against the header before any key is touched, and the key's type must match the
algorithm, so `alg=none` and HS256-with-the-public-key can never verify.

A client sends the same token with every request until it expires, so a verified token's claims
and Principal are kept (keyed by the whole token string, at most `cache_size` of them) and a
later request with the identical token skips the header parsing and the signature check (RS256,
~0.3 ms of CPU with the rest). Everything that can change while a token is cached is checked
again on every use: the key set must still be the one the token was verified under (a JWKS
refetch, or a failed one, sends the token through the whole check again, so a key the issuer
withdrew stops its tokens at the next refetch), the registered claims at this instant (a token is
refused from the moment `exp` plus the leeway passes, as without the cache) and the agency's kind
in the registry.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc import jwt
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwk import ECKey, Key, RSAKey, import_key

from mpdb.auth.policy import Policy
from mpdb.auth.principal import AgencyKind, Principal, Role
from mpdb.auth.registry import AgencyRegistry
from mpdb.domain.errors import ServiceUnavailable

log = logging.getLogger(__name__)

SUPPORTED_ALGORITHMS: Mapping[str, type[Key]] = {"RS256": RSAKey, "ES256": ECKey}
_ES256_CURVE = "P-256"
_ACCEPTED_TYP = frozenset({"jwt", "at+jwt", "application/at+jwt", "application/jwt"})
MAX_TOKEN_BYTES = 16 * 1024
_MIN_RSA_BITS = 2048


# --- errors -------------------------------------------------------------------------------------


class TokenError(Exception):
    """A token was rejected. `reason` is a stable machine code, `description` is safe to show."""

    reason: str = "invalid_token"

    def __init__(self, description: str, *, reason: str | None = None) -> None:
        super().__init__(description)
        self.description = description
        if reason is not None:
            self.reason = reason

    def __repr__(self) -> str:
        return f"{type(self).__name__}(reason={self.reason!r}, description={self.description!r})"


class MalformedTokenError(TokenError):
    reason = "malformed"


class UnsupportedAlgorithmError(TokenError):
    reason = "unsupported_algorithm"


class UnknownKeyError(TokenError):
    reason = "unknown_key"


class KeySetUnavailableError(TokenError):
    reason = "jwks_unavailable"


class InvalidSignatureError(TokenError):
    reason = "bad_signature"


class ExpiredTokenError(TokenError):
    reason = "expired"


class NotYetValidError(TokenError):
    reason = "not_yet_valid"


class InvalidIssuerError(TokenError):
    reason = "wrong_issuer"


class InvalidAudienceError(TokenError):
    reason = "wrong_audience"


class MissingClaimError(TokenError):
    reason = "missing_claim"


class InvalidClaimError(TokenError):
    reason = "invalid_claim"


class UnknownAgencyError(TokenError):
    reason = "unknown_agency"


class AgencyKindMismatchError(TokenError):
    reason = "agency_kind_mismatch"


class RegistryUnavailableError(TokenError):
    reason = "registry_unavailable"


class RoleNotAllowedError(TokenError):
    reason = "role_not_allowed"


# --- JWKS ---------------------------------------------------------------------------------------

JwksLoader = Callable[[], Awaitable[Mapping[str, Any]]]


class JwksCache:
    """The issuer's signing keys, fetched on demand and cached.

    Exactly one of `url` (fetched with httpx) or `loader` (an async callable returning the JWKS
    dict, used for the in-process dev IdP and tests) must be given.
    """

    def __init__(
        self,
        *,
        url: str | None = None,
        loader: JwksLoader | None = None,
        http: httpx.AsyncClient | None = None,
        cache_seconds: float = 600.0,
        min_refresh_seconds: float = 30.0,
        fetch_timeout_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if (url is None) == (loader is None):
            raise ValueError("JwksCache needs exactly one of url= or loader=")
        self.url = url
        self._loader = loader
        self._http = http
        self._owns_http = False
        self.cache_seconds = cache_seconds
        self.min_refresh_seconds = min_refresh_seconds
        self.fetch_timeout_seconds = fetch_timeout_seconds
        self._clock = clock
        self._lock = asyncio.Lock()
        self._keys: list[Key] | None = None
        self._fetched_at: float | None = None
        self._last_forced_refresh: float | None = None
        self.fetch_count = 0  # attempts, for tests and metrics
        # Bumped whenever the key set is replaced or dropped: what a verified-token cache keys on.
        self.generation = 0

    async def aclose(self) -> None:
        if self._owns_http and self._http is not None:
            await self._http.aclose()
            self._http = None

    def _fresh(self) -> bool:
        return (
            self._keys is not None
            and self._fetched_at is not None
            and self._clock() - self._fetched_at < self.cache_seconds
        )

    async def _load(self) -> Mapping[str, Any]:
        if self._loader is not None:
            return await self._loader()
        if self._http is None:
            self._http = httpx.AsyncClient(follow_redirects=False)
            self._owns_http = True
        assert self.url is not None
        resp = await self._http.get(
            self.url, timeout=self.fetch_timeout_seconds, headers={"Accept": "application/json"}
        )
        resp.raise_for_status()
        return resp.json()

    async def _fetch(self) -> None:
        """Fetch and replace the key set. On failure the stale cache is DROPPED (fail closed)."""
        self.fetch_count += 1
        try:
            document = await self._load()
            keys = _parse_jwks(document)
        except Exception as exc:  # noqa: BLE001 - any fetch/parse failure means "no keys"
            log.warning("JWKS fetch from %s failed: %s", self.url or "loader", exc)
            if not self._fresh():
                self._keys = None
                self._fetched_at = None
                self.generation += 1
            raise KeySetUnavailableError("the issuer's signing keys are unavailable") from exc
        self._keys = keys
        self._fetched_at = self._clock()
        self.generation += 1

    async def keys(self) -> list[Key]:
        """The current keys, fetching them if the cache is empty or older than cache_seconds."""
        if self._fresh():
            assert self._keys is not None
            return self._keys
        async with self._lock:
            if not self._fresh():
                await self._fetch()
            assert self._keys is not None
            return self._keys

    async def refresh_early(self, seen: list[Key]) -> list[Key] | None:
        """Refetch before the cache expires, because a token suggests the issuer rotated its keys:
        it names a kid we do not know, or its signature fails under the key we hold for its kid
        (some providers rotate to a new key under the same kid).

        Returns the new keys, or None when a refetch is not allowed yet: at most one early
        refetch per `min_refresh_seconds`, so a stream of tokens with made-up kids or forged
        signatures cannot turn into a stream of requests to the issuer. Concurrent callers share
        one refetch.
        """
        async with self._lock:
            if self._keys is not seen and self._keys is not None:
                return self._keys  # someone else refreshed while we waited
            now = self._clock()
            if (
                self._last_forced_refresh is not None
                and now - self._last_forced_refresh < self.min_refresh_seconds
            ):
                return None
            self._last_forced_refresh = now
            await self._fetch()
            return self._keys


def _parse_jwks(document: Mapping[str, Any]) -> list[Key]:
    if not isinstance(document, Mapping) or not isinstance(document.get("keys"), list):
        raise ValueError("not a JWK Set (no 'keys' array)")
    keys: list[Key] = []
    for entry in document["keys"]:
        if not isinstance(entry, Mapping):
            continue
        if entry.get("use") not in (None, "sig"):
            continue  # encryption keys are never signature keys
        if entry.get("kty") not in ("RSA", "EC"):
            continue
        if any(k in entry for k in ("d", "p", "q", "dp", "dq", "qi", "k")):
            continue  # never accept private or symmetric material from a JWKS
        try:
            key = import_key(dict(entry))
        except (JoseError, ValueError, TypeError) as exc:
            log.warning("ignoring unusable JWKS key kid=%r: %s", entry.get("kid"), exc)
            continue
        keys.append(key)
    return keys


# --- verifier -----------------------------------------------------------------------------------


def _b64json(segment: str) -> Any:
    padded = segment + "=" * (-len(segment) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))


def _claim(claims: Mapping[str, Any], name: str) -> Any:
    """A claim by exact name, else by dotted path into nested objects (`ext.agency`)."""
    if name in claims:
        return claims[name]
    node: Any = claims
    for part in name.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _key_matches(key: Key, alg: str) -> bool:
    if not isinstance(key, SUPPORTED_ALGORITHMS[alg]):
        return False
    if key.alg is not None and key.alg != alg:
        return False
    if key.get("use") not in (None, "sig"):
        return False
    if alg == "ES256" and key.get("crv") != _ES256_CURVE:
        return False
    if alg == "RS256" and key.raw_value.key_size < _MIN_RSA_BITS:
        return False
    return True


class TokenVerifier:
    """Verifies bearer access tokens from ONE issuer and builds the `Principal`."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks: JwksCache,
        policy: Policy,
        registry: AgencyRegistry,
        agency_claim: str = "agency",
        agency_kind_claim: str = "agency_kind",
        role_claim: str = "role",
        scope_claim: str = "scope",
        leeway_seconds: int = 30,
        algorithms: Iterable[str] = ("RS256", "ES256"),
        clock: Callable[[], float] = time.time,
        cache_size: int = 1024,
    ) -> None:
        algs = tuple(algorithms)
        unsupported = set(algs) - set(SUPPORTED_ALGORITHMS)
        if unsupported or not algs:
            raise ValueError(f"unsupported algorithms {sorted(unsupported)}; use RS256/ES256")
        if not issuer or not audience:
            raise ValueError("issuer and audience are required")
        self.issuer = issuer
        self.audience = audience
        self.jwks = jwks
        self.policy = policy
        self.registry = registry
        self.agency_claim = agency_claim
        self.agency_kind_claim = agency_kind_claim
        self.role_claim = role_claim
        self.scope_claim = scope_claim
        self.leeway = leeway_seconds
        self.algorithms = algs
        self._clock = clock
        self.cache_size = cache_size
        self._verified: dict[str, _Verified] = {}  # token -> what it verified to (module docstring)

    async def aclose(self) -> None:
        await self.jwks.aclose()
        await self.registry.aclose()

    # -- signature ---------------------------------------------------------------------------

    def _header(self, token: str) -> dict[str, Any]:
        if len(token) > MAX_TOKEN_BYTES:
            raise MalformedTokenError("token too large")
        parts = token.split(".")
        if len(parts) != 3 or not all(parts[:2]):
            raise MalformedTokenError("not a signed JWT (JWS compact serialisation)")
        try:
            header = _b64json(parts[0])
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedTokenError("token header is not base64url JSON") from exc
        if not isinstance(header, dict):
            raise MalformedTokenError("token header is not a JSON object")
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self.algorithms:
            raise UnsupportedAlgorithmError(f"algorithm {alg!r} is not accepted")
        if not parts[2]:
            raise InvalidSignatureError("token is not signed")
        typ = header.get("typ")
        if typ is not None and (not isinstance(typ, str) or typ.lower() not in _ACCEPTED_TYP):
            raise MalformedTokenError(f"token type {typ!r} is not an access token")
        if "crit" in header:
            raise MalformedTokenError("critical header parameters are not supported")
        for banned in ("jku", "x5u", "jwk", "x5c"):
            if banned in header:
                # keys only ever come from the configured JWKS, never from the token
                raise MalformedTokenError(f"header parameter {banned!r} is not accepted")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise MalformedTokenError("kid must be a string")
        return header

    @staticmethod
    def _select(keys: list[Key], kid: str | None, alg: str) -> Key | None:
        if kid is None:
            # Without a kid the choice is only unambiguous when the issuer publishes ONE key.
            if len(keys) == 1 and _key_matches(keys[0], alg):
                return keys[0]
            return None
        for key in keys:
            if key.kid == kid:
                return key if _key_matches(key, alg) else None
        return None

    @staticmethod
    def _decode(token: str, key: Key, alg: str) -> Any:
        try:
            return jwt.decode(token, key, algorithms=[alg])
        except BadSignatureError as exc:
            raise InvalidSignatureError("signature verification failed") from exc
        except (JoseError, ValueError, TypeError) as exc:
            raise MalformedTokenError("token could not be decoded") from exc

    async def _verified_claims(self, token: str) -> tuple[dict[str, Any], int]:
        """The token's claims once its signature checks out, and the generation of the key set
        that checked it."""
        header = self._header(token)
        alg: str = header["alg"]
        kid: str | None = header.get("kid")
        keys = await self.jwks.keys()
        generation = self.jwks.generation  # no await since `keys`: the generation of that set
        key = self._select(keys, kid, alg)
        if key is None:
            if kid is None:
                raise UnknownKeyError(
                    "token has no kid and the issuer publishes several keys"
                    if len(keys) > 1
                    else "no key of the issuer matches the token's algorithm"
                )
            if not any(k.kid == kid for k in keys):
                refreshed = await self.jwks.refresh_early(keys)
                if refreshed is not None:
                    keys, generation = refreshed, self.jwks.generation
                    key = self._select(refreshed, kid, alg)
            if key is None:
                raise UnknownKeyError("token signed with an unknown or mismatched key")
        try:
            decoded = self._decode(token, key, alg)
        except InvalidSignatureError:
            # The issuer may have replaced the key behind this kid; one early refetch (shared
            # budget) tells a rotation from a forgery.
            refreshed = await self.jwks.refresh_early(keys)
            generation = self.jwks.generation
            rotated = self._select(refreshed, kid, alg) if refreshed is not None else None
            if rotated is None or rotated.as_dict() == key.as_dict():
                raise
            decoded = self._decode(token, rotated, alg)
        if not isinstance(decoded.claims, dict):
            raise MalformedTokenError("token payload is not a JSON object")
        return decoded.claims, generation

    # -- claims ------------------------------------------------------------------------------

    def _check_registered(self, claims: Mapping[str, Any]) -> None:
        now = self._clock()
        if claims.get("iss") != self.issuer:
            raise InvalidIssuerError("token issuer is not trusted")

        aud = claims.get("aud")
        if isinstance(aud, str):
            audiences = [aud]
        elif isinstance(aud, list) and all(isinstance(a, str) for a in aud):
            audiences = aud
        elif aud is None:
            raise InvalidAudienceError("token has no audience")
        else:
            raise InvalidAudienceError("token audience is malformed")
        if self.audience not in audiences:
            raise InvalidAudienceError("token is not intended for this API")

        exp = claims.get("exp")
        if exp is None:
            raise MissingClaimError("token has no expiry (exp)")
        if not _numeric(exp):
            raise InvalidClaimError("exp is not a NumericDate")
        if now >= exp + self.leeway:
            raise ExpiredTokenError("token has expired")

        nbf = claims.get("nbf")
        if nbf is not None:
            if not _numeric(nbf):
                raise InvalidClaimError("nbf is not a NumericDate")
            if now + self.leeway < nbf:
                raise NotYetValidError("token is not yet valid")

        iat = claims.get("iat")
        if iat is not None:
            if not _numeric(iat):
                raise InvalidClaimError("iat is not a NumericDate")
            if now + self.leeway < iat:
                raise NotYetValidError("token was issued in the future")

    def _string_claim(self, claims: Mapping[str, Any], name: str) -> str:
        value = _claim(claims, name)
        if value is None or value == "":
            raise MissingClaimError(f"token has no {name!r} claim")
        if not isinstance(value, str):
            raise InvalidClaimError(f"claim {name!r} must be a string")
        return value

    def _role(self, claims: Mapping[str, Any]) -> str:
        value = _claim(claims, self.role_claim)
        if isinstance(value, list):
            # IdPs often emit roles as an array; mpdb principals hold exactly one role.
            if len(value) != 1:
                raise InvalidClaimError(f"claim {self.role_claim!r} must name exactly one role")
            value = value[0]
        if value is None or value == "":
            raise MissingClaimError(f"token has no {self.role_claim!r} claim")
        if not isinstance(value, str):
            raise InvalidClaimError(f"claim {self.role_claim!r} must be a string")
        return value

    def _requested_scopes(self, claims: Mapping[str, Any]) -> list[str]:
        value = _claim(claims, self.scope_claim)
        if value is None:
            return []
        if isinstance(value, str):
            return value.split()
        if isinstance(value, list) and all(isinstance(s, str) for s in value):
            return list(value)
        raise InvalidClaimError(f"claim {self.scope_claim!r} must be a string or list of strings")

    def principal_from_claims(self, claims: Mapping[str, Any], registered_kind: AgencyKind | None) -> Principal:
        """Validate already signature-checked claims and build the Principal.

        `registered_kind` is the agency registry's kind for the token's agency (None: unknown
        agency, refused). The agency-kind claim is optional; when present it must agree with the
        registry, which is the authority: the kind decides reach (a national unit reads nationally)."""
        self._check_registered(claims)
        subject = self._string_claim(claims, "sub")
        client_id = claims.get("client_id") or claims.get("azp")
        if not client_id:
            raise MissingClaimError("token has no 'client_id' (or 'azp') claim")
        if not isinstance(client_id, str):
            raise InvalidClaimError("client_id must be a string")
        agency_id = self._string_claim(claims, self.agency_claim)
        if registered_kind is None:
            raise UnknownAgencyError(f"agency {agency_id!r} is not in the agency registry")
        kind_value = _claim(claims, self.agency_kind_claim)
        if kind_value is not None and kind_value != "":
            if not isinstance(kind_value, str):
                raise InvalidClaimError(f"claim {self.agency_kind_claim!r} must be a string")
            if kind_value != registered_kind.value:
                raise AgencyKindMismatchError(
                    f"claim {self.agency_kind_claim!r} says {kind_value!r} but the agency registry "
                    f"lists agency {agency_id!r} as {registered_kind.value!r}")
        kind = registered_kind
        role_value = self._role(claims)
        try:
            role = Role(role_value)
        except ValueError as exc:
            raise InvalidClaimError(f"unknown role {role_value!r}") from exc
        if not self.policy.allowed(kind, role):
            raise RoleNotAllowedError(f"role {role.value!r} is not allowed for a {kind.value}")
        scopes = self.policy.effective_scopes(kind, role, self._requested_scopes(claims))
        return Principal(
            subject=subject,
            client_id=client_id,
            agency_id=agency_id,
            agency_kind=kind,
            role=role,
            scopes=scopes,
        )

    async def verify(self, token: str) -> Principal:
        """Verify `token` (the bearer string, without 'Bearer ') and return its Principal."""
        return (await self.verify_with_expiry(token))[0]

    async def verify_with_expiry(self, token: str) -> tuple[Principal, float]:
        """`verify`, plus the token's `exp` (seconds since the epoch, leeway included): a
        long-lived connection (the alerts WebSocket) is closed when its token runs out."""
        if not isinstance(token, str) or not token:
            raise MalformedTokenError("empty token")
        token = token.strip()
        cached = self._verified.get(token)
        if cached is not None:
            try:
                principal = await self._still_valid(cached)
            except TokenError:
                self._verified.pop(token, None)
                raise
            if principal is not None:
                return principal, self._expiry(cached.claims)
            self._verified.pop(token, None)
        claims, generation = await self._verified_claims(token)
        # Issuer, audience and lifetime first: the registry is only asked about tokens that are ours.
        self._check_registered(claims)
        agency_id = self._string_claim(claims, self.agency_claim)
        principal = self.principal_from_claims(claims, await self._registered_kind(agency_id))
        if self.cache_size > 0:
            if len(self._verified) >= self.cache_size:
                del self._verified[next(iter(self._verified))]  # the oldest entry
            self._verified[token] = _Verified(claims, principal, generation)
        return principal, self._expiry(claims)

    def _expiry(self, claims: dict[str, Any]) -> float:
        return float(claims["exp"]) + self.leeway

    async def _still_valid(self, cached: _Verified) -> Principal | None:
        """The cached Principal if the token would verify to it now; None: check it in full. Raises
        what the full check raises for the same reason (no key set, expired)."""
        await self.jwks.keys()  # KeySetUnavailableError when no fresh key set can be had, as in full
        if self.jwks.generation != cached.generation:
            return None
        self._check_registered(cached.claims)
        principal = cached.principal
        if await self._registered_kind(principal.agency_id) is not principal.agency_kind:
            return None
        return principal

    async def _registered_kind(self, agency_id: str) -> AgencyKind | None:
        try:
            return await self.registry.kind_of(agency_id)
        except ServiceUnavailable:
            raise  # the database is down: the caller should retry (503), not sign in again (401)
        except Exception as exc:  # noqa: BLE001 - fail closed: no registry, no principal
            log.warning("agency registry unavailable: %s", type(exc).__name__)
            raise RegistryUnavailableError("the agency registry is unavailable; try again shortly") from exc


@dataclass(frozen=True)
class _Verified:
    claims: dict[str, Any]
    principal: Principal
    generation: int  # of the JWKS key set the token was verified under


def _numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
