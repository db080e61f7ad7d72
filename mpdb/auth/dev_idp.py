"""The embedded DEVELOPMENT identity provider (never in prod).

A tiny OAuth2 authorisation server for dev and tests, so mpdb runs without an external IdP:

* `POST /dev-idp/token`: client-credentials grant (RFC 6749 §4.4) with `client_secret_basic` or
  `client_secret_post`, optional `scope`, plus the non-standard `role` parameter. Clients, their
  agency and their allowed roles come from `auth/dev_clients.toml`; roles and scopes are checked
  against `auth/policy.toml`. Issues an RS256 `at+jwt` access token (RFC 9068 shape) valid 15 min.
* OpenID Connect sign-in for the web console: the authorization-code grant (RFC 6749 §4.1) with
  PKCE S256 required (RFC 7636). `GET /dev-idp/authorize` shows a sign-in page listing the synthetic
  people of `auth/dev_users.toml`; `POST /dev-idp/authorize` (CSRF-protected) issues a one-time
  code for the chosen one; `POST /dev-idp/token` with `grant_type=authorization_code` swaps it for
  the same RS256 access token (sub = the user, the user's agency and role) plus an ID token.
  Public clients (no secret, `public = true` in dev_clients.toml) may only use this grant.
* `GET /dev-idp/logout`: RP-initiated sign-out; the dev IdP keeps no login session, so it only
  redirects back to a registered post-logout URI.
* `GET /dev-idp/jwks.json` and `GET /dev-idp/.well-known/openid-configuration`.

docs/DEV_IDP.md describes the flow, its checks and where it departs from a real provider.

`create_dev_idp_router(settings)` builds the router (routes already carry the `/dev-idp` prefix:
mount it with `app.include_router(router)` and no extra prefix). It refuses to build when
`settings.env == "prod"` or the dev IdP is disabled. The RSA signing key is generated once and
kept in `<state_dir>/dev-idp/signing-key.json` (mode 600, under the git-ignored state dir).

`mint_dev_token(...)` issues the same tokens without HTTP (CLI `mpdb token`, tests).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import threading
import time
import tomllib
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

import jinja2
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oauth2.rfc7636.challenge import CODE_VERIFIER_PATTERN
from authlib.oidc.core.util import create_half_hash
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey
from markupsafe import Markup
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mpdb.auth.policy import Policy, get_policy
from mpdb.auth.principal import AgencyKind, Role, Scope
from mpdb.settings import Settings

log = logging.getLogger(__name__)

DEV_IDP_PREFIX = "/dev-idp"
DEFAULT_TTL = timedelta(minutes=15)
SIGNING_ALG = "RS256"
TOKEN_TYPE = "at+jwt"
ID_TOKEN_TYPE = "JWT"
CODE_TTL_SECONDS = 60  # authorization codes: short-lived and one-time (RFC 6749 §4.1.2)
FORM_TTL_SECONDS = 600  # how long a sign-in page may stay open before its form token expires
CSRF_COOKIE = "mpdb_dev_idp_csrf"
OIDC_SCOPES = ("openid", "profile")
GrantType = Literal["client_credentials", "authorization_code"]
GRANT_TYPES: tuple[GrantType, ...] = ("client_credentials", "authorization_code")


class DevIdpDisabledError(RuntimeError):
    """The dev IdP was asked for in an environment where it must not exist."""


class DevIdpError(ValueError):
    """A dev token cannot be issued (unknown agency, role not allowed, scope too wide...)."""


# --- configuration ------------------------------------------------------------------------------


_LOOPBACK_HOSTS = ("127.0.0.1", "localhost")


def _check_redirect_uri(uri: str) -> str:
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment or "#" in uri:
        raise ValueError(f"redirect URI {uri!r} must be an absolute http(s) URI without a fragment")
    return uri


def _check_path(path: str) -> str:
    if not path.startswith("/") or any(c in path for c in "?#\\ ") or "//" in path:
        raise ValueError(f"loopback path {path!r} must be an absolute path without query or fragment")
    return path


def _loopback_match(uri: str, paths: Iterable[str]) -> bool:
    """RFC 8252 §7.3: http on a loopback host, any port, one of the registered paths exactly."""
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 (raises ValueError on a port that is not a number in range)
    except ValueError:
        return False
    return (
        parts.scheme == "http"
        and parts.hostname in _LOOPBACK_HOSTS
        and parts.username is None
        and parts.password is None
        and not parts.query
        and not parts.fragment
        and "#" not in uri
        and parts.netloc.rsplit(":", 1)[0].lower() in _LOOPBACK_HOSTS  # no userinfo or odd forms
        and parts.path in paths
    )


class DevClient(BaseModel):
    """A client of the dev IdP. Confidential clients (a secret; the client-credentials grant, the
    sample agencies) speak for their own agency; public clients (`public = true`, token endpoint
    auth method "none") only sign people in with the authorization-code grant and PKCE."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: str = Field(min_length=1)
    client_name: str = ""
    client_secret: str | None = Field(default=None, min_length=8)
    public: bool = False
    grant_types: tuple[GrantType, ...] = Field(default=("client_credentials",), min_length=1)
    agency_id: str | None = Field(default=None, min_length=1)
    agency_name: str = ""
    agency_kind: AgencyKind | None = None
    roles: tuple[Role, ...] = ()
    redirect_uris: tuple[str, ...] = ()
    loopback_redirect_paths: tuple[str, ...] = ()
    post_logout_redirect_uris: tuple[str, ...] = ()
    post_logout_loopback_paths: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> DevClient:
        if self.public and self.client_secret is not None:
            raise ValueError(f"{self.client_id}: a public client has no client_secret")
        if not self.public and self.client_secret is None:
            raise ValueError(f"{self.client_id}: client_secret is required (or public = true)")
        if "client_credentials" in self.grant_types:
            # RFC 6749 §4.4: only a confidential client may use client credentials.
            if self.public:
                raise ValueError(f"{self.client_id}: a public client cannot use client_credentials")
            if self.agency_id is None or self.agency_kind is None or not self.roles:
                raise ValueError(
                    f"{self.client_id}: client_credentials needs agency_id, agency_kind and roles"
                )
        if self.roles and (self.agency_id is None or self.agency_kind is None):
            raise ValueError(f"{self.client_id}: roles need agency_id and agency_kind")
        if "authorization_code" in self.grant_types and not (
            self.redirect_uris or self.loopback_redirect_paths
        ):
            raise ValueError(f"{self.client_id}: authorization_code needs redirect URIs")
        for uri in self.redirect_uris + self.post_logout_redirect_uris:
            _check_redirect_uri(uri)
        for path in self.loopback_redirect_paths + self.post_logout_loopback_paths:
            _check_path(path)
        return self

    @property
    def display_name(self) -> str:
        return self.client_name or self.client_id

    def allows_redirect(self, uri: str) -> bool:
        # Exact string comparison (RFC 9700 §4.1.3), plus the loopback rule.
        return uri in self.redirect_uris or _loopback_match(uri, self.loopback_redirect_paths)

    def allows_post_logout_redirect(self, uri: str) -> bool:
        return uri in self.post_logout_redirect_uris or _loopback_match(
            uri, self.post_logout_loopback_paths
        )


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
                assert client.agency_kind is not None  # the model requires it with roles
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

    def agency(self, agency_id: str) -> tuple[AgencyKind, str] | None:
        """The kind and name the clients give an agency, if any client speaks for it."""
        for c in self.for_agency(agency_id):
            if c.agency_kind is not None:
                return c.agency_kind, c.agency_name
        return None


def load_dev_clients(path: Path | str, policy: Policy) -> DevClients:
    file = Path(path)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
        return DevClients(DevClientsDocument.model_validate(raw), policy)
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise DevIdpError(f"dev clients file {file} is invalid: {exc}") from exc


class DevUser(BaseModel):
    """A synthetic person who may sign in through the dev IdP (auth/dev_users.toml)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    name: str = Field(min_length=1, max_length=120)
    agency_id: str = Field(min_length=1)
    role: Role


class DevUsersDocument(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1, le=1)
    users: tuple[DevUser, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> DevUsersDocument:
        ids = [u.id for u in self.users]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate user id(s): {', '.join(duplicates)}")
        names = [u.name for u in self.users]
        same = sorted({n for n in names if names.count(n) > 1})
        if same:  # people pick by name on the sign-in page
            raise ValueError(f"duplicate user name(s): {', '.join(same)}")
        return self


@dataclass(frozen=True, slots=True)
class SignInUser:
    """A dev user with its agency resolved (kind and name) and checked against the policy."""

    id: str
    name: str
    agency_id: str
    agency_name: str
    agency_kind: AgencyKind
    role: Role


def _reference_agencies() -> dict[str, tuple[str, str]]:
    """Every agency of seed/reference/ as id -> (kind, name)."""
    from mpdb.ingest.reference import read_reference_data

    ref = read_reference_data()
    agencies = {code: ("police_force", f.name) for code, f in ref.forces.items()}
    agencies.update({code: ("local_authority", la.name) for code, la in ref.las.items()})
    agencies.update({a.id: (a.kind, a.name) for a in ref.agencies})
    return agencies


class DevUsers:
    def __init__(
        self,
        document: DevUsersDocument,
        policy: Policy,
        clients: DevClients,
        reference: Mapping[str, tuple[str, str]],
    ) -> None:
        users: dict[str, SignInUser] = {}
        for user in document.users:
            from_client = clients.agency(user.agency_id)
            from_reference = reference.get(user.agency_id)
            if from_client is None and from_reference is None:
                raise DevIdpError(
                    f"dev user {user.id}: agency {user.agency_id!r} is neither in dev_clients.toml "
                    "nor in the reference data (seed/reference/)"
                )
            if from_client is not None:
                kind, name = from_client
                if from_reference is not None and from_reference[0] != kind.value:
                    raise DevIdpError(
                        f"dev user {user.id}: dev_clients.toml says agency {user.agency_id} is a "
                        f"{kind.value}, the reference data a {from_reference[0]}"
                    )
                name = name or (from_reference[1] if from_reference else user.agency_id)
            else:
                assert from_reference is not None
                kind, name = AgencyKind(from_reference[0]), from_reference[1]
            if not policy.allowed(kind, user.role):
                raise DevIdpError(
                    f"dev user {user.id}: role {user.role.value} is not allowed for a {kind.value} "
                    "by the policy"
                )
            users[user.id] = SignInUser(user.id, user.name, user.agency_id, name, kind, user.role)
        self.users = users  # in file order: the sign-in page lists them so

    def get(self, user_id: str) -> SignInUser | None:
        return self.users.get(user_id)

    def __iter__(self) -> Iterator[SignInUser]:
        return iter(self.users.values())


def dev_users_path(settings: Settings) -> Path:
    """auth/dev_users.toml beside the clients file (or `settings.dev_users_file` when one exists)."""
    configured = getattr(settings, "dev_users_file", None)
    return Path(configured) if configured else Path(settings.dev_clients_file).with_name("dev_users.toml")


def load_dev_users(path: Path | str, policy: Policy, clients: DevClients) -> DevUsers:
    file = Path(path)
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
        return DevUsers(DevUsersDocument.model_validate(raw), policy, clients, _reference_agencies())
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise DevIdpError(f"dev users file {file} is invalid: {exc}") from exc


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


# --- authorization codes, ID tokens, form tokens ------------------------------------------------


def _now() -> float:
    """The clock of authorization codes and form tokens (tests replace it to expire them)."""
    return time.time()


@dataclass(slots=True)
class AuthorizationGrant:
    """What one authorization code stands for, and everything the token request must match."""

    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str
    user_id: str
    scopes: tuple[str, ...]
    auth_time: int
    expires_at: float
    used: bool = False


_CODES_SCHEMA = """
CREATE TABLE IF NOT EXISTS dev_idp_code (
    code_hash TEXT PRIMARY KEY,
    grant_data TEXT NOT NULL,
    expires_at REAL NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
);
"""


class AuthorizationCodes:
    """One-time authorization codes (dev only), in mpdb.shared_state: a SQLite file the workers of
    `mpdb serve --workers N` share (the sign-in form and the token request may reach different
    workers), or process memory with one worker. Lost on restart.

    A redeemed code stays, marked used, until it expires, so a replay is told apart from an
    unknown code in the log. Every presentation by a client uses the code up, whatever else is
    wrong with the request: a leaked code gives an attacker one guess at the PKCE verifier.
    """

    def __init__(self, path: Path | None = None) -> None:
        from mpdb.shared_state import SharedDb

        self._db = SharedDb(path, _CODES_SCHEMA)

    @staticmethod
    def _key(code: str) -> str:
        return hashlib.sha256(code.encode()).hexdigest()  # the store never holds a usable code

    def issue(self, grant: AuthorizationGrant) -> str:
        code = secrets.token_urlsafe(32)
        data = json.dumps([grant.client_id, grant.redirect_uri, grant.code_challenge, grant.nonce,
                           grant.user_id, list(grant.scopes), grant.auth_time])
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM dev_idp_code WHERE expires_at <= ?", (_now(),))
            conn.execute("INSERT INTO dev_idp_code (code_hash, grant_data, expires_at) VALUES (?, ?, ?)",
                         (self._key(code), data, grant.expires_at))
        return code

    def redeem(self, code: str) -> AuthorizationGrant | str:
        """The grant, or why not: "unknown", "expired" or "replayed"."""
        now = _now()
        with self._db.transaction() as conn:
            row = conn.execute("SELECT grant_data, expires_at, used FROM dev_idp_code WHERE code_hash = ?",
                               (self._key(code),)).fetchone()
            if row is None:
                return "unknown"
            if row[2]:
                return "replayed"
            conn.execute("UPDATE dev_idp_code SET used = 1 WHERE code_hash = ?", (self._key(code),))
        if row[1] <= now:
            return "expired"
        client_id, redirect_uri, challenge, nonce, user_id, scopes, auth_time = json.loads(row[0])
        return AuthorizationGrant(client_id, redirect_uri, challenge, nonce, user_id, tuple(scopes), auth_time,
                                  row[1], used=True)


def _issue_id_token(
    settings: Settings,
    *,
    client_id: str,
    user: SignInUser,
    nonce: str,
    auth_time: int,
    access_token: str,
    ttl_seconds: int,
) -> str:
    key = signing_key(settings)
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": dev_idp_issuer(settings),
        "aud": client_id,
        "sub": user.id,
        "iat": now,
        "exp": now + ttl_seconds,
        "auth_time": auth_time,
        "nonce": nonce,
        "at_hash": create_half_hash(access_token, SIGNING_ALG).decode(),
        "name": user.name,
        "preferred_username": user.id,
        settings.oauth_agency_claim: user.agency_id,
        "agency_name": user.agency_name,
        settings.oauth_agency_kind_claim: user.agency_kind.value,
        settings.oauth_role_claim: user.role.value,
    }
    header = {"alg": SIGNING_ALG, "typ": ID_TOKEN_TYPE, "kid": key.kid}
    return jwt.encode(header, claims, key, algorithms=[SIGNING_ALG])


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """A validated authorization request (GET, or the sign-in form's hidden fields on POST)."""

    client: DevClient
    redirect_uri: str
    scopes: tuple[str, ...]
    state: str
    nonce: str
    code_challenge: str
    login_hint: str | None = None

    def form_fields(self) -> dict[str, str]:
        return {
            "response_type": "code",
            "client_id": self.client.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": " ".join(self.scopes),
            "state": self.state,
            "nonce": self.nonce,
            "code_challenge": self.code_challenge,
            "code_challenge_method": "S256",
        }


def form_token_key(settings: Settings) -> bytes:
    """The sign-in form's HMAC key, derived from the signing key every worker reads from disk, so
    a form shown by one worker is accepted by another (and a new signing key retires old forms)."""
    private = json.dumps(signing_key(settings).as_dict(private=True), sort_keys=True).encode()
    return hmac.new(private, b"mpdb dev IdP sign-in form tokens", hashlib.sha256).digest()


class FormTokens:
    """CSRF tokens for the sign-in form: an HMAC over a per-browser cookie value, every request
    parameter and the time the page was shown, under a key every worker derives alike.

    Bound to the cookie, a token lifted from one browser does not work from another; bound to the
    parameters, it cannot carry an attacker's redirect URI, state or PKCE challenge.
    """

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def _mac(self, binding: str, request: AuthorizationRequest, issued: int) -> str:
        message = json.dumps([binding, request.form_fields(), issued], sort_keys=True).encode()
        return _b64url(hmac.new(self._key, message, hashlib.sha256).digest())

    def issue(self, binding: str, request: AuthorizationRequest) -> str:
        issued = int(_now())
        return f"{issued}.{self._mac(binding, request, issued)}"

    def check(self, token: str | None, binding: str | None, request: AuthorizationRequest) -> str | None:
        """None when valid, otherwise why not."""
        if not binding:
            return "the sign-in cookie is missing (were cookies blocked?)"
        if not token:
            return "the form token is missing"
        issued_text, _, mac = token.partition(".")
        if not issued_text.isdigit() or not mac:
            return "the form token is malformed"
        issued = int(issued_text)
        if not hmac.compare_digest(mac, self._mac(binding, request, issued)):
            return "the form token does not match this sign-in request"
        if not 0 <= _now() - issued <= FORM_TTL_SECONDS:
            return "the sign-in page has expired"
        return None


# --- HTML ---------------------------------------------------------------------------------------

_CSS = """\
*,*::before,*::after{box-sizing:border-box}
body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;font-size:1.1875rem;
line-height:1.4;color:#0b0c0c;background:#fff}
.banner{margin:0;padding:.5rem 1rem;background:#1d70b8;color:#fff}
main{max-width:42rem;margin:0 auto;padding:1rem}
h1{font-size:1.75rem;line-height:1.2;margin:.5rem 0 1rem}
p{margin:0 0 1rem}
fieldset{border:0;padding:0;margin:0 0 1.5rem;min-width:0}
legend{font-weight:700;font-size:1.25rem;margin-bottom:.25rem}
.hint{display:block;color:#505a5f;font-size:1rem}
ul.users{list-style:none;margin:.5rem 0 0;padding:0}
ul.users li{display:flex;align-items:flex-start;gap:.75rem;padding:.5rem 0;border-bottom:1px solid #b1b4b6}
ul.users input{flex:none;width:1.5rem;height:1.5rem;margin:.1rem 0 0;accent-color:#0b0c0c}
ul.users label{flex:1;min-width:0;cursor:pointer;overflow-wrap:anywhere}
button{font:inherit;font-weight:700;margin:0 1rem 1rem 0;padding:.5rem 1rem;border:2px solid transparent;
border-radius:0;color:#fff;background:#00703c;box-shadow:0 2px 0 #002d18;cursor:pointer}
button.secondary{color:#0b0c0c;background:#f3f2f1;box-shadow:0 2px 0 #929191}
:focus-visible{outline:3px solid #fd0;outline-offset:0;box-shadow:0 0 0 5px #0b0c0c}
.error-summary{border:5px solid #d4351c;padding:1rem;margin-bottom:1.5rem}
.error-summary h2{margin:0 0 .5rem;font-size:1.25rem}
.error{color:#d4351c;font-weight:700}
code{overflow-wrap:anywhere}
@media (max-width:40rem){body{font-size:1rem}h1{font-size:1.5rem}}
"""
_CSS_HASH = base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()
_HTML_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    # No scripts at all, this one stylesheet, never in a frame (a sign-in page must not be
    # clickjacked). No form-action: browsers apply it to the redirect back to the client too.
    "Content-Security-Policy": f"default-src 'none'; style-src 'sha256-{_CSS_HASH}'; "
    "base-uri 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

_TEMPLATES = {
    "base.html": """<!doctype html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>{{ title }} – mpdb development identity provider</title>
<style>{{ css }}</style>
</head>
<body>
<p class="banner"><strong>Development only.</strong> mpdb's embedded development identity provider:
synthetic people, no passwords. It never runs in production.</p>
<main id="main">
{% block main %}{% endblock %}
</main>
</body>
</html>
""",
    "signin.html": """{% extends "base.html" %}
{% block main %}
<h1>Development sign-in: choose a synthetic user</h1>
<p>You are signing in to <strong>{{ client_name }}</strong>. It will act with the agency and role of
the person you choose.</p>
{% if error %}
<div class="error-summary" role="alert" aria-labelledby="error-summary-title">
<h2 id="error-summary-title">There is a problem</h2>
<p><a href="#user-{{ users[0].id }}">{{ error }}</a></p>
</div>
{% endif %}
<form method="post" action="{{ action }}">
{% for name, value in fields.items() %}<input type="hidden" name="{{ name }}" value="{{ value }}">
{% endfor %}<input type="hidden" name="csrf_token" value="{{ csrf_token }}">
<fieldset aria-describedby="users-hint{% if error %} users-error{% endif %}">
<legend>Synthetic users</legend>
<span id="users-hint" class="hint">Each line shows the person, then their agency and role.</span>
{% if error %}<p id="users-error" class="error">{{ error }}</p>{% endif %}
<ul class="users">
{% for user in users %}<li><input type="radio" name="user" id="user-{{ user.id }}" value="{{ user.id }}"{% if user.id == selected %} checked{% endif %}>
<label for="user-{{ user.id }}">{{ user.name }} <span class="hint">{{ user.agency_name }} ({{ user.agency_id }}), {{ roles[user.role] }}</span></label></li>
{% endfor %}</ul>
</fieldset>
<button type="submit" name="action" value="sign_in">Sign in</button>
<button type="submit" name="action" value="cancel" class="secondary">Cancel</button>
</form>
{% endblock %}
""",
    "error.html": """{% extends "base.html" %}
{% block main %}
<h1>{{ title }}</h1>
<p>{{ description }}</p>
<p>Error code: <code id="error-code">{{ error }}</code></p>
{% if not redirect_safe %}<p>Nothing was sent back to the application: this request cannot be trusted to say
where to send it.</p>{% endif %}
{% endblock %}
""",
    "signed_out.html": """{% extends "base.html" %}
{% block main %}
<h1>Signed out</h1>
<p>The development identity provider keeps no sign-in session, so there was nothing to end here.</p>
{% endblock %}
""",
}
_jinja = jinja2.Environment(
    loader=jinja2.DictLoader(_TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
)


def _page(template: str, status: int = 200, headers: Mapping[str, str] | None = None,
          **context: Any) -> HTMLResponse:
    html = _jinja.get_template(template).render(css=Markup(_CSS), **context)
    return HTMLResponse(html, status_code=status, headers={**_HTML_HEADERS, **(headers or {})})


def _error_page(error: str, description: str, status: int = 400) -> HTMLResponse:
    return _page("error.html", status, title="Sign-in request refused", error=error,
                 description=description, redirect_safe=False)


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


def _with_query(uri: str, params: Mapping[str, str | None]) -> str:
    """`uri` with `params` added to its query, keeping the query it already has (RFC 6749 §3.1.2)."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query += [(k, v) for k, v in params.items() if v is not None]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _redirect(uri: str, params: Mapping[str, str | None]) -> RedirectResponse:
    return RedirectResponse(_with_query(uri, params), status_code=302, headers=_NO_STORE)


_AUTHORIZE_PARAMS = ("response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
                     "code_challenge", "code_challenge_method", "login_hint", "prompt",
                     "response_mode")
_S256_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # BASE64URL(SHA-256), no padding
_ROLE_LABELS = {Role.LA_MISSING_LEAD: "LA missing lead", Role.RHI_PRACTITIONER: "RHI practitioner"}
_MAX_PARAM = 512  # state and nonce are opaque to us, but need not be unbounded


@dataclass(slots=True)
class _Refusal:
    """An authorization request refused: on an HTML page (redirect_uri not trusted) or back to
    the client's redirect URI with `error` and `state` (RFC 6749 §4.1.2.1)."""

    error: str
    description: str
    redirect_uri: str | None = None
    state: str | None = None


def create_dev_idp_router(settings: Settings) -> APIRouter:
    """The dev IdP routes (already under `/dev-idp`). Refuses to build in prod."""
    _require_dev(settings)
    # Fail at startup, not at the first request, if the configuration is broken.
    clients = _clients(settings)
    policy = _policy(settings)
    users = load_dev_users(dev_users_path(settings), policy, clients)
    signing_key(settings)
    issuer = dev_idp_issuer(settings)
    from mpdb.shared_state import shared_file

    codes = AuthorizationCodes(shared_file(settings.shared_dir, "dev-idp-codes"))
    form_tokens = FormTokens(form_token_key(settings))
    role_labels = {r: _ROLE_LABELS.get(r, r.value.replace("_", " ")) for r in Role}
    supported_scopes = set(OIDC_SCOPES) | {s.value for s in Scope}

    router = APIRouter(prefix=DEV_IDP_PREFIX, tags=["dev-idp"], include_in_schema=False)

    @router.get("/.well-known/openid-configuration")
    async def openid_configuration() -> JSONResponse:
        return JSONResponse(
            {
                "issuer": issuer,
                "authorization_endpoint": f"{issuer}/authorize",
                "token_endpoint": f"{issuer}/token",
                "jwks_uri": f"{issuer}/jwks.json",
                "end_session_endpoint": f"{issuer}/logout",
                "grant_types_supported": list(GRANT_TYPES),
                "response_types_supported": ["code"],
                "response_modes_supported": ["query"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                    "none",
                ],
                "token_endpoint_auth_signing_alg_values_supported": [SIGNING_ALG],
                "id_token_signing_alg_values_supported": [SIGNING_ALG],
                "scopes_supported": [*OIDC_SCOPES, *sorted(s.value for s in Scope)],
                "subject_types_supported": ["public"],
                "claims_supported": sorted({
                    "iss", "aud", "sub", "iat", "exp", "auth_time", "nonce", "at_hash", "name",
                    "preferred_username", settings.oauth_agency_claim, "agency_name",
                    settings.oauth_agency_kind_claim, settings.oauth_role_claim,
                }),
                "authorization_response_iss_parameter_supported": True,
            }
        )

    @router.get("/jwks.json")
    async def jwks() -> JSONResponse:
        return JSONResponse(public_jwks(settings), headers={"Cache-Control": "max-age=300"})

    # --- authorization endpoint ---------------------------------------------------------------

    def check_request(params: Mapping[str, list[str]]) -> AuthorizationRequest | _Refusal:
        """Validate an authorization request, in the order RFC 6749 §4.1.2.1 implies: until the
        client and its redirect URI are trusted, every error is shown here, never redirected."""

        def one(name: str) -> str | None:
            values = params.get(name) or []
            return values[0] if values else None

        client_id = one("client_id")
        if len(params.get("client_id", [])) > 1:
            return _Refusal("invalid_request", "client_id is repeated")
        if not client_id:
            return _Refusal("invalid_request", "client_id is required")
        client = clients.get(client_id)
        if client is None:
            return _Refusal("invalid_client", f"unknown client {client_id!r}")
        redirect_uri = one("redirect_uri")
        if len(params.get("redirect_uri", [])) > 1:
            return _Refusal("invalid_request", "redirect_uri is repeated")
        if not redirect_uri:
            return _Refusal("invalid_request", "redirect_uri is required")
        if not client.allows_redirect(redirect_uri):
            return _Refusal("invalid_redirect_uri",
                            f"redirect_uri is not registered for the client {client_id!r}")

        # From here the redirect URI is the client's own: errors go back to it.
        state = one("state")
        if len(params.get("state", [])) > 1:
            state = None

        def refuse(error: str, description: str) -> _Refusal:
            return _Refusal(error, description, redirect_uri, state)

        repeated = [n for n in _AUTHORIZE_PARAMS if len(params.get(n, [])) > 1]
        if repeated:
            return refuse("invalid_request", f"repeated parameter(s): {', '.join(repeated)}")
        response_type = one("response_type")
        if not response_type:
            return refuse("invalid_request", "response_type is required")
        if response_type != "code":
            return refuse("unsupported_response_type", "only response_type=code is supported")
        if "authorization_code" not in client.grant_types:
            return refuse("unauthorized_client", "this client may not use the authorization code grant")
        if one("response_mode") not in (None, "query"):
            return refuse("invalid_request", "only response_mode=query is supported")
        if not state:
            return refuse("invalid_request", "state is required (it protects the client from CSRF)")
        if len(state) > _MAX_PARAM:
            return refuse("invalid_request", f"state is longer than {_MAX_PARAM} characters")
        scopes = tuple(dict.fromkeys((one("scope") or "").split()))
        if "openid" not in scopes:
            return refuse("invalid_scope", "scope must include openid")
        unknown = [s for s in scopes if s not in supported_scopes]
        if unknown:
            return refuse("invalid_scope", f"unknown scope(s): {' '.join(unknown)}")
        nonce = one("nonce")
        if not nonce:
            return refuse("invalid_request", "nonce is required (it binds the ID token to the session)")
        if len(nonce) > _MAX_PARAM:
            return refuse("invalid_request", f"nonce is longer than {_MAX_PARAM} characters")
        # RFC 7636 §4.4.1: PKCE is required here, and only with S256 (plain exposes the verifier).
        challenge, method = one("code_challenge"), one("code_challenge_method")
        if not challenge:
            return refuse("invalid_request", "code_challenge is required (PKCE)")
        if method != "S256":
            return refuse("invalid_request", "code_challenge_method must be S256")
        if not _S256_CHALLENGE.match(challenge):
            return refuse("invalid_request", "code_challenge is not a base64url SHA-256 digest")
        if one("prompt") == "none":
            # No login session to reuse: the user must always choose.
            return refuse("login_required", "the development IdP keeps no session: sign in")
        return AuthorizationRequest(client, redirect_uri, scopes, state, nonce, challenge,
                                    one("login_hint"))

    def refused(refusal: _Refusal) -> Response:
        log.info("dev IdP: authorization request refused: %s", refusal.error)
        if refusal.redirect_uri is None:
            return _error_page(refusal.error, refusal.description)
        return _redirect(refusal.redirect_uri, {"error": refusal.error,
                                                "error_description": refusal.description,
                                                "state": refusal.state, "iss": issuer})

    def sign_in_page(request: Request, authz: AuthorizationRequest, *, selected: str | None,
                     error: str | None = None, status: int = 200) -> HTMLResponse:
        binding = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
        response = _page(
            "signin.html", status, title="Development sign-in", client_name=authz.client.display_name,
            action=f"{DEV_IDP_PREFIX}/authorize", fields=authz.form_fields(),
            csrf_token=form_tokens.issue(binding, authz), users=list(users), roles=role_labels,
            selected=selected, error=error,
        )
        response.set_cookie(CSRF_COOKIE, binding, max_age=FORM_TTL_SECONDS * 6,
                            path=DEV_IDP_PREFIX, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")
        return response

    @router.get("/authorize")
    async def authorize(request: Request) -> Response:
        params = {k: request.query_params.getlist(k) for k in request.query_params}
        authz = check_request(params)
        if isinstance(authz, _Refusal):
            return refused(authz)
        hint = authz.login_hint if authz.login_hint and users.get(authz.login_hint) else None
        return sign_in_page(request, authz, selected=hint)

    @router.post("/authorize")
    async def authorize_submit(request: Request) -> Response:
        form = await request.form()
        params = {k: [v for v in form.getlist(k) if isinstance(v, str)] for k in form}
        authz = check_request(params)
        if isinstance(authz, _Refusal):
            return refused(authz)
        problem = form_tokens.check(
            (params.get("csrf_token") or [None])[0], request.cookies.get(CSRF_COOKIE), authz
        )
        if problem is not None:
            log.info("dev IdP: sign-in form refused: %s", problem)
            return _error_page("invalid_csrf_token", f"The sign-in form was refused: {problem}. "
                               "Go back to the application and sign in again.", 403)
        action = (params.get("action") or ["sign_in"])[0]
        if action == "cancel":
            return _redirect(authz.redirect_uri, {"error": "access_denied",
                                                  "error_description": "the user cancelled sign-in",
                                                  "state": authz.state, "iss": issuer})
        chosen = params.get("user") or []
        user = users.get(chosen[0]) if len(chosen) == 1 else None
        if user is None:
            return sign_in_page(request, authz, selected=None, status=400,
                                error="Choose a synthetic user to sign in as")
        now = _now()
        code = codes.issue(AuthorizationGrant(
            client_id=authz.client.client_id, redirect_uri=authz.redirect_uri,
            code_challenge=authz.code_challenge, nonce=authz.nonce, user_id=user.id,
            scopes=authz.scopes, auth_time=int(now), expires_at=now + CODE_TTL_SECONDS,
        ))
        log.info("dev IdP: %s signed in to %s", user.id, authz.client.client_id)
        return _redirect(authz.redirect_uri, {"code": code, "state": authz.state, "iss": issuer})

    # --- end session --------------------------------------------------------------------------

    @router.get("/logout")
    async def logout(request: Request) -> Response:
        """OpenID Connect RP-initiated logout, minus the session: there is none to end."""
        q = request.query_params
        target = q.get("post_logout_redirect_uri")
        if not target:
            return _page("signed_out.html", title="Signed out")
        client_id = q.get("client_id")
        hint = q.get("id_token_hint")
        if hint:
            try:
                hinted = jwt.decode(hint, signing_key(settings), algorithms=[SIGNING_ALG])
                aud = hinted.claims.get("aud")
                hinted_client = aud if isinstance(aud, str) else None
            except (JoseError, ValueError):
                return _error_page("invalid_request", "id_token_hint is not an ID token of this IdP")
            if client_id and hinted_client != client_id:
                return _error_page("invalid_request", "id_token_hint was issued to another client")
            client_id = client_id or hinted_client
        if not client_id:
            return _error_page("invalid_request",
                               "client_id (or id_token_hint) is required with post_logout_redirect_uri")
        client = clients.get(client_id)
        if client is None:
            return _error_page("invalid_client", f"unknown client {client_id!r}")
        if not client.allows_post_logout_redirect(target):
            return _error_page("invalid_post_logout_redirect_uri",
                               f"post_logout_redirect_uri is not registered for the client {client_id!r}")
        return _redirect(target, {"state": q.get("state")})

    # --- token endpoint -----------------------------------------------------------------------

    @router.post("/token")
    async def token(request: Request) -> JSONResponse:
        form = await request.form()
        params = {k: v for k, v in form.items() if isinstance(v, str)}
        repeated = [k for k in ("scope", "role", "grant_type", "code", "redirect_uri",
                                "code_verifier", "client_id") if len(form.getlist(k)) > 1]
        if repeated:
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
        elif post_id and post_secret is None and (public := clients.get(post_id)) and public.public:
            # A public client identifies itself and proves nothing (auth method "none"): the
            # PKCE verifier is what ties the token request to the authorization request.
            client_id, secret, method = post_id, None, "none"
        else:
            return _oauth_error(
                "invalid_client",
                "client authentication required",
                401,
                {"WWW-Authenticate": 'Basic realm="mpdb-dev-idp"'},
            )
        client = clients.get(client_id)
        if method != "none":
            # compare against a dummy secret for unknown (and public) clients so timing does not
            # reveal ids
            expected = client.client_secret if client and client.client_secret else "x" * 32
            assert secret is not None
            if (not hmac.compare_digest(secret.encode(), expected.encode()) or client is None
                    or client.public):
                log.info("dev IdP: client authentication failed for %r", client_id)
                headers = {"WWW-Authenticate": 'Basic realm="mpdb-dev-idp"'} if method == "basic" else {}
                return _oauth_error("invalid_client", "client authentication failed", 401, headers)
        assert client is not None

        grant_type = params.get("grant_type")
        if grant_type is None:
            return _oauth_error("invalid_request", "grant_type is required")
        if grant_type not in GRANT_TYPES:
            return _oauth_error("unsupported_grant_type",
                                "only client_credentials and authorization_code are supported")
        if grant_type not in client.grant_types:
            return _oauth_error("unauthorized_client", f"this client may not use {grant_type}")
        if grant_type == "authorization_code":
            return authorization_code_grant(client, params)
        return client_credentials_grant(client, params)

    def client_credentials_grant(client: DevClient, params: Mapping[str, str]) -> JSONResponse:
        assert client.agency_id is not None and client.agency_kind is not None
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

    def authorization_code_grant(client: DevClient, params: Mapping[str, str]) -> JSONResponse:
        code, redirect_uri = params.get("code"), params.get("redirect_uri")
        verifier = params.get("code_verifier")
        missing = [n for n, v in (("code", code), ("redirect_uri", redirect_uri),
                                  ("code_verifier", verifier)) if not v]
        if missing:
            return _oauth_error("invalid_request", f"{', '.join(missing)} required")
        assert code and redirect_uri and verifier
        if not CODE_VERIFIER_PATTERN.match(verifier):
            return _oauth_error("invalid_request",
                                "code_verifier must be 43-128 characters of [A-Za-z0-9-._~] (RFC 7636)")
        grant = codes.redeem(code)
        if isinstance(grant, str):
            log.info("dev IdP: authorization code refused (%s) for %s", grant, client.client_id)
            return _oauth_error("invalid_grant", {
                "unknown": "authorization code is not valid",
                "expired": "authorization code has expired",
                "replayed": "authorization code was already used",
            }[grant])
        if grant.client_id != client.client_id:
            return _oauth_error("invalid_grant", "authorization code was issued to another client")
        if grant.redirect_uri != redirect_uri:
            return _oauth_error("invalid_grant", "redirect_uri does not match the authorization request")
        if not hmac.compare_digest(create_s256_code_challenge(verifier), grant.code_challenge):
            return _oauth_error("invalid_grant", "code_verifier does not match the code_challenge")
        user = users.get(grant.user_id)
        if user is None:  # only if the file changed under a running server: it never reloads
            return _oauth_error("invalid_grant", "the signed-in user no longer exists")

        granted = sorted(s.value for s in policy.scopes_for(user.agency_kind, user.role))
        asked = [s for s in grant.scopes if s not in OIDC_SCOPES]
        # RFC 6749 §3.3: the grant may be narrower than asked; the `scope` answer says what it is.
        api_scopes = [s for s in granted if s in asked] if asked else granted
        ttl = _ttl_seconds(DEFAULT_TTL)
        access_token = _issue(
            settings,
            client_id=client.client_id,
            agency_id=user.agency_id,
            agency_kind=user.agency_kind,
            role=user.role,
            scopes=api_scopes,
            ttl_seconds=ttl,
            subject=user.id,
        )
        id_token = _issue_id_token(settings, client_id=client.client_id, user=user,
                                   nonce=grant.nonce, auth_time=grant.auth_time,
                                   access_token=access_token, ttl_seconds=ttl)
        oidc = [s for s in OIDC_SCOPES if s in grant.scopes]
        return JSONResponse(
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": ttl,
                "id_token": id_token,
                "scope": " ".join(oidc + api_scopes),
            },
            headers=_NO_STORE,
        )

    return router
