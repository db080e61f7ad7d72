"""The embedded DEVELOPMENT identity provider (never in prod).

A tiny OAuth2 authorisation server for dev and tests, so mpdb runs without an external IdP:

* `POST /dev-idp/token`: client-credentials grant (RFC 6749 §4.4) with `client_secret_basic` or
  `client_secret_post`, optional `scope`, plus the non-standard `role` parameter. Clients, their
  agency and their allowed roles come from `auth/dev_clients.toml`; roles and scopes are checked
  against `auth/policy.toml`. Issues an RS256 `at+jwt` access token (RFC 9068 shape) valid 15 min.
* `GET /dev-idp/jwks.json` and `GET /dev-idp/.well-known/openid-configuration`.

`create_dev_idp_router(settings)` builds the router (routes already carry the `/dev-idp` prefix:
mount it with `app.include_router(router)` and no extra prefix). It refuses to build when
`settings.env == "prod"` or the dev IdP is disabled. The RSA signing key is generated once and
kept in `<state_dir>/dev-idp/signing-key.json` (mode 600, under the git-ignored state dir).

`mint_dev_token(...)` issues the same tokens without HTTP (CLI `mpdb token`, tests).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import os
import secrets
import threading
import time
import tomllib
import uuid
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from joserfc import jwt
from joserfc.jwk import RSAKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mpdb.auth.policy import Policy, get_policy
from mpdb.auth.principal import AgencyKind, Role, Scope
from mpdb.settings import Settings

log = logging.getLogger(__name__)

DEV_IDP_PREFIX = "/dev-idp"
DEFAULT_TTL = timedelta(minutes=15)
SIGNING_ALG = "RS256"
TOKEN_TYPE = "at+jwt"


class DevIdpDisabledError(RuntimeError):
    """The dev IdP was asked for in an environment where it must not exist."""


class DevIdpError(ValueError):
    """A dev token cannot be issued (unknown agency, role not allowed, scope too wide...)."""


# --- configuration ------------------------------------------------------------------------------


class DevClient(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: str = Field(min_length=1)
    client_secret: str = Field(min_length=8)
    agency_id: str = Field(min_length=1)
    agency_name: str = ""
    agency_kind: AgencyKind
    roles: tuple[Role, ...] = Field(min_length=1)


class DevClientsDocument(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1, le=1)
    clients: tuple[DevClient, ...]

    @model_validator(mode="after")
    def _unique(self) -> DevClientsDocument:
        ids = [c.client_id for c in self.clients]
        if len(ids) != len(set(ids)):
            raise ValueError("duplicate client_id")
        return self


class DevClients:
    def __init__(self, document: DevClientsDocument, policy: Policy) -> None:
        for client in document.clients:
            for role in client.roles:
                if not policy.allowed(client.agency_kind, role):
                    raise DevIdpError(
                        f"dev client {client.client_id}: role {role.value} is not allowed for "
                        f"a {client.agency_kind.value} by the policy"
                    )
        self.clients = {c.client_id: c for c in document.clients}

    def get(self, client_id: str) -> DevClient | None:
        return self.clients.get(client_id)

    def for_agency(self, agency_id: str) -> list[DevClient]:
        return [c for c in self.clients.values() if c.agency_id == agency_id]


def load_dev_clients(path: Path | str, policy: Policy) -> DevClients:
    file = Path(path)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
        return DevClients(DevClientsDocument.model_validate(raw), policy)
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise DevIdpError(f"dev clients file {file} is invalid: {exc}") from exc


def _require_dev(settings: Settings) -> None:
    if settings.env == "prod":
        raise DevIdpDisabledError("the development identity provider never runs in prod")
    if not settings.dev_idp_enabled:
        raise DevIdpDisabledError("the development identity provider is disabled (MPDB_DEV_IDP)")


def dev_idp_issuer(settings: Settings) -> str:
    """The issuer URL of the embedded dev IdP (also the base of its endpoints)."""
    if settings.dev_idp_issuer:
        return settings.dev_idp_issuer.rstrip("/")
    return f"http://{settings.host}:{settings.port}{DEV_IDP_PREFIX}"


# --- signing key --------------------------------------------------------------------------------

_key_lock = threading.Lock()
_keys: dict[Path, RSAKey] = {}


def signing_key_path(settings: Settings) -> Path:
    return Path(settings.state_dir) / "dev-idp" / "signing-key.json"


def signing_key(settings: Settings) -> RSAKey:
    """The dev IdP's RSA private key: loaded from disk, or generated (once) and saved mode 600."""
    path = signing_key_path(settings).resolve()
    with _key_lock:
        key = _keys.get(path)
        if key is None:
            key = _load_or_create_key(path)
            _keys[path] = key
        return key


def _load_or_create_key(path: Path) -> RSAKey:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = RSAKey.generate_key(2048, parameters={"use": "sig", "alg": SIGNING_ALG})
        key.ensure_kid()
        data = json.dumps(key.as_dict(private=True)).encode()
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)  # atomic, and never replaces a key another process just wrote
            log.info("dev IdP: generated a new signing key at %s", path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        log.warning("dev IdP signing key %s had mode %o; resetting to 600", path, mode)
        path.chmod(0o600)
    key = RSAKey.import_key(json.loads(path.read_text(encoding="utf-8")))
    if not key.is_private:
        raise DevIdpError(f"{path} does not hold a private key")
    key.ensure_kid()
    return key


def public_jwks(settings: Settings) -> dict[str, Any]:
    """The dev IdP's JWK Set (public key only)."""
    key = signing_key(settings)
    public = key.as_dict(private=False)
    public.setdefault("use", "sig")
    public.setdefault("alg", SIGNING_ALG)
    return {"keys": [public]}


# --- issuing ------------------------------------------------------------------------------------


def _policy(settings: Settings) -> Policy:
    return get_policy(settings.policy_file)


def _clients(settings: Settings) -> DevClients:
    return load_dev_clients(settings.dev_clients_file, _policy(settings))


def _ttl_seconds(ttl: timedelta | int | float) -> int:
    return int(ttl.total_seconds()) if isinstance(ttl, timedelta) else int(ttl)


def _grant_scopes(
    policy: Policy, kind: AgencyKind, role: Role, requested: Iterable[str] | None
) -> list[str]:
    granted = policy.scopes_for(kind, role)
    if requested is None:
        return sorted(s.value for s in granted)
    wanted = list(dict.fromkeys(requested))
    too_wide = [s for s in wanted if s not in {g.value for g in granted}]
    if too_wide:
        raise DevIdpError(
            f"scope(s) {' '.join(too_wide)} not granted to {role.value} at a {kind.value}"
        )
    return wanted


def _issue(
    settings: Settings,
    *,
    client_id: str,
    agency_id: str,
    agency_kind: AgencyKind,
    role: Role,
    scopes: list[str],
    ttl_seconds: int,
    audience: str | list[str] | None = None,
    subject: str | None = None,
) -> str:
    key = signing_key(settings)
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": dev_idp_issuer(settings),
        "aud": audience if audience is not None else settings.oauth_audience,
        "sub": subject or client_id,
        "client_id": client_id,
        settings.oauth_agency_claim: agency_id,
        settings.oauth_agency_kind_claim: agency_kind.value,
        settings.oauth_role_claim: role.value,
        settings.oauth_scope_claim: " ".join(scopes),
        "iat": now,
        "nbf": now,
        "exp": now + ttl_seconds,
        "jti": str(uuid.uuid4()),
    }
    header = {"alg": SIGNING_ALG, "typ": TOKEN_TYPE, "kid": key.kid}
    return jwt.encode(header, claims, key, algorithms=[SIGNING_ALG])


def mint_dev_token(
    settings: Settings,
    agency_id: str,
    role: Role | str,
    scopes: Iterable[Scope | str] | None = None,
    ttl: timedelta | int = DEFAULT_TTL,
    *,
    agency_kind: AgencyKind | str | None = None,
    audience: str | list[str] | None = None,
    subject: str | None = None,
) -> str:
    """Issue a dev access token for `agency_id` acting as `role` (no HTTP, no client secret).

    The agency is looked up in dev_clients.toml (its kind and a client allowed `role`), then in the
    reference data (its kind); only an agency in neither needs `agency_kind=`. `scopes=None` grants everything the policy gives the
    role; explicit scopes must be within the policy. `ttl` may be negative (expired tokens for
    tests). Raises `DevIdpDisabledError` in prod and `DevIdpError` for anything not allowed.
    """
    _require_dev(settings)
    policy = _policy(settings)
    try:
        role_enum = Role(role)
    except ValueError as exc:
        raise DevIdpError(f"unknown role {role!r}") from exc
    candidates = _clients(settings).for_agency(agency_id)
    client = next((c for c in candidates if role_enum in c.roles), None)
    if client is not None:
        kind = client.agency_kind
        if agency_kind is not None and AgencyKind(agency_kind) is not kind:
            raise DevIdpError(f"agency {agency_id} is a {kind.value}, not {agency_kind}")
        client_id = client.client_id
    elif candidates:
        raise DevIdpError(
            f"agency {agency_id} has no dev client allowed the role {role_enum.value}"
        )
    else:
        # Every agency of the reference data (forces, LAs, providers, national agencies) has its kind
        # there, as in the registry the API checks tokens against; `agency_kind` is only needed for
        # an agency registered in the graph by hand (tests do that).
        from mpdb.ingest.reference import reference_agency_kinds

        registered = reference_agency_kinds().get(agency_id)
        if registered is None and agency_kind is None:
            raise DevIdpError(f"agency {agency_id!r} is not in the reference data (seed/reference/) "
                              "or dev_clients.toml: check the id (forces and LAs by ONS GSS code)")
        try:
            kind = AgencyKind(agency_kind if agency_kind is not None else registered)
        except ValueError as exc:
            raise DevIdpError(f"unknown agency kind {agency_kind!r}") from exc
        if registered is not None and kind.value != registered:
            raise DevIdpError(f"agency {agency_id} is a {registered}, not {kind.value}")
        client_id = f"dev-{agency_id.lower()}"
    if not policy.allowed(kind, role_enum):
        raise DevIdpError(f"role {role_enum.value} is not allowed for a {kind.value}")
    granted = _grant_scopes(
        policy, kind, role_enum, None if scopes is None else [str(Scope(s)) for s in scopes]
    )
    return _issue(
        settings,
        client_id=client_id,
        agency_id=agency_id,
        agency_kind=kind,
        role=role_enum,
        scopes=granted,
        ttl_seconds=_ttl_seconds(ttl),
        audience=audience,
        subject=subject,
    )


# --- HTTP ---------------------------------------------------------------------------------------

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _oauth_error(
    error: str, description: str, status: int = 400, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={**_NO_STORE, **(headers or {})},
    )


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    if not sep:
        return None
    # RFC 6749 §2.3.1: both are form-urlencoded before being put in the Basic header
    return unquote_plus(user), unquote_plus(password)


def create_dev_idp_router(settings: Settings) -> APIRouter:
    """The dev IdP routes (already under `/dev-idp`). Refuses to build in prod."""
    _require_dev(settings)
    # Fail at startup, not at the first request, if the configuration is broken.
    clients = _clients(settings)
    policy = _policy(settings)
    signing_key(settings)
    issuer = dev_idp_issuer(settings)

    router = APIRouter(prefix=DEV_IDP_PREFIX, tags=["dev-idp"], include_in_schema=False)

    @router.get("/.well-known/openid-configuration")
    async def openid_configuration() -> JSONResponse:
        return JSONResponse(
            {
                "issuer": issuer,
                "token_endpoint": f"{issuer}/token",
                "jwks_uri": f"{issuer}/jwks.json",
                "grant_types_supported": ["client_credentials"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
                "token_endpoint_auth_signing_alg_values_supported": [SIGNING_ALG],
                "id_token_signing_alg_values_supported": [SIGNING_ALG],
                "scopes_supported": sorted(s.value for s in Scope),
                "response_types_supported": ["token"],
                "subject_types_supported": ["public"],
            }
        )

    @router.get("/jwks.json")
    async def jwks() -> JSONResponse:
        return JSONResponse(public_jwks(settings), headers={"Cache-Control": "max-age=300"})

    @router.post("/token")
    async def token(request: Request) -> JSONResponse:
        form = await request.form()
        params = {k: v for k, v in form.items() if isinstance(v, str)}
        if len(form.getlist("scope")) > 1 or len(form.getlist("role")) > 1:
            return _oauth_error("invalid_request", "repeated parameter")
        basic = _basic_credentials(request.headers.get("authorization"))
        post_id, post_secret = params.get("client_id"), params.get("client_secret")
        if basic and post_secret:
            return _oauth_error("invalid_request", "use one client authentication method")
        if basic:
            client_id, secret, method = basic[0], basic[1], "basic"
            if post_id and post_id != client_id:
                return _oauth_error("invalid_request", "client_id does not match")
        elif post_id and post_secret:
            client_id, secret, method = post_id, post_secret, "post"
        else:
            return _oauth_error(
                "invalid_client",
                "client authentication required",
                401,
                {"WWW-Authenticate": 'Basic realm="mpdb-dev-idp"'},
            )
        client = clients.get(client_id)
        # compare against a dummy secret for unknown clients so timing does not reveal ids
        expected = client.client_secret if client else "x" * 32
        if not hmac.compare_digest(secret.encode(), expected.encode()) or client is None:
            log.info("dev IdP: client authentication failed for %r", client_id)
            headers = {"WWW-Authenticate": 'Basic realm="mpdb-dev-idp"'} if method == "basic" else {}
            return _oauth_error("invalid_client", "client authentication failed", 401, headers)

        grant_type = params.get("grant_type")
        if grant_type is None:
            return _oauth_error("invalid_request", "grant_type is required")
        if grant_type != "client_credentials":
            return _oauth_error("unsupported_grant_type", "only client_credentials is supported")

        role_param = params.get("role")
        if role_param is None:
            if len(client.roles) != 1:
                return _oauth_error(
                    "invalid_request",
                    "role is required; this client may act as: "
                    + " ".join(r.value for r in client.roles),
                )
            role = client.roles[0]
        else:
            try:
                role = Role(role_param)
            except ValueError:
                return _oauth_error("invalid_request", f"unknown role {role_param!r}")
            if role not in client.roles or not policy.allowed(client.agency_kind, role):
                return _oauth_error(
                    "unauthorized_client", f"this client may not act as {role.value}"
                )

        scope_param = params.get("scope")
        try:
            scopes = _grant_scopes(
                policy,
                client.agency_kind,
                role,
                None if scope_param is None or not scope_param.strip() else scope_param.split(),
            )
        except DevIdpError as exc:
            return _oauth_error("invalid_scope", str(exc))

        ttl = _ttl_seconds(DEFAULT_TTL)
        access_token = _issue(
            settings,
            client_id=client.client_id,
            agency_id=client.agency_id,
            agency_kind=client.agency_kind,
            role=role,
            scopes=scopes,
            ttl_seconds=ttl,
        )
        return JSONResponse(
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": ttl,
                "scope": " ".join(scopes),
            },
            headers=_NO_STORE,
        )

    return router
