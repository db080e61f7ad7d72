"""End to end over real HTTP: the dev IdP issues tokens, `authenticate` guards a route.

A minimal FastAPI app (dev IdP router + one protected route) runs under a real uvicorn on a free
port; every request goes through httpx over the loopback interface.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from fastapi import Depends, FastAPI
from joserfc import jwt
from joserfc.jwk import RSAKey
from typer.testing import CliRunner

from conftest import free_port, graph_connection, serve_in_thread
from mpdb import cli_token
from mpdb.auth import dev_idp
from mpdb.auth.dependencies import authenticate, create_verifier
from mpdb.auth.dev_idp import (
    DevIdpDisabledError,
    DevIdpError,
    create_dev_idp_router,
    mint_dev_token,
)
from mpdb.auth.principal import AgencyKind, Principal, Role, Scope
from mpdb.settings import Settings

KENT = ("kent-police", "dev-only-kent-police-secret")
HARINGEY = ("haringey", "dev-only-haringey-secret")


def _settings(state_dir: Path, port: int, **kw: Any) -> Settings:
    base: dict[str, Any] = {
        "env": "test",
        "state_dir": state_dir,
        "host": "127.0.0.1",
        "port": port,
        "oauth_issuer": None,
        "oauth_jwks_url": None,
        "dev_idp": True,
        "dev_idp_issuer": None,
    }
    base.update(kw)
    return Settings(_env_file=None, **base)


def build_app(settings: Settings) -> FastAPI:
    app = FastAPI()
    app.state.settings = settings
    app.include_router(create_dev_idp_router(settings))

    @app.get("/protected")
    async def protected(principal: Principal = Depends(authenticate)) -> dict[str, Any]:
        return {
            "sub": principal.subject,
            "client_id": principal.client_id,
            "agency": principal.agency_id,
            "agency_kind": principal.agency_kind.value,
            "role": principal.role.value,
            "scopes": sorted(s.value for s in principal.scopes),
        }

    return app


@dataclass
class Live:
    base: str
    settings: Settings
    app: FastAPI

    @property
    def issuer(self) -> str:
        return f"{self.base}/dev-idp"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, neo4j_settings: Settings,
         registered_agencies: object) -> Iterator[Live]:
    port = free_port()
    # Its own state dir (the dev IdP's key); the session's Neo4j for the agency registry.
    settings = _settings(tmp_path_factory.mktemp("state"), port, **graph_connection(neo4j_settings))
    app = build_app(settings)
    with serve_in_thread(app, port, lifespan="off"):
        yield Live(f"http://127.0.0.1:{port}", settings, app)


@pytest.fixture
async def http() -> Any:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


async def fetch_token(http: httpx.AsyncClient, live: Live, **form: str) -> httpx.Response:
    return await http.post(f"{live.issuer}/token", data=form)


async def basic_token(
    http: httpx.AsyncClient, live: Live, client: tuple[str, str] = KENT, **form: str
) -> httpx.Response:
    return await http.post(
        f"{live.issuer}/token", data={"grant_type": "client_credentials", **form}, auth=client
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    h, p, _ = token.split(".")
    return (json.loads(base64.urlsafe_b64decode(h + "==")), json.loads(base64.urlsafe_b64decode(p + "==")))


# --- discovery ----------------------------------------------------------------------------------


async def test_discovery_and_jwks(http: httpx.AsyncClient, live: Live) -> None:
    conf = (await http.get(f"{live.issuer}/.well-known/openid-configuration")).json()
    assert conf["issuer"] == live.issuer
    assert conf["token_endpoint"] == f"{live.issuer}/token"
    assert conf["jwks_uri"] == f"{live.issuer}/jwks.json"
    jwks = (await http.get(conf["jwks_uri"])).json()
    assert len(jwks["keys"]) == 1
    key = jwks["keys"][0]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["kid"]
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)


def test_signing_key_file_is_private(live: Live) -> None:
    path = dev_idp.signing_key_path(live.settings)
    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "d" in json.loads(path.read_text())


# --- the happy path -----------------------------------------------------------------------------


async def test_client_secret_basic_then_protected_route(http: httpx.AsyncClient, live: Live) -> None:
    resp = await basic_token(http, live, role="investigator")
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert resp.headers["cache-control"] == "no-store"
    header, claims = _parts(body["access_token"])
    assert header["alg"] == "RS256" and header["typ"] == "at+jwt" and header["kid"]
    for claim in ("iss", "aud", "sub", "client_id", "agency", "agency_kind", "role", "scope",
                  "iat", "nbf", "exp", "jti"):
        assert claim in claims, claim
    assert claims["exp"] - claims["iat"] == 900
    assert claims["iss"] == live.issuer and claims["aud"] == "mpdb"

    me = await http.get(f"{live.base}/protected", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200, me.text
    assert me.json() == {
        "sub": "kent-police",
        "client_id": "kent-police",
        "agency": "E23000032",
        "agency_kind": "police_force",
        "role": "investigator",
        "scopes": sorted(
            ["child:read", "child:read:sensitive", "episode:write", "flag:write", "intel:read",
             "notification:write", "identity:review", "alerts:read"]
        ),
    }


async def test_client_secret_post_with_narrower_scope(http: httpx.AsyncClient, live: Live) -> None:
    resp = await fetch_token(
        http,
        live,
        grant_type="client_credentials",
        client_id=HARINGEY[0],
        client_secret=HARINGEY[1],
        role="social_worker",
        scope="child:read placement:write",
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["scope"] == "child:read placement:write"
    me = await http.get(
        f"{live.base}/protected", headers={"Authorization": f"Bearer {resp.json()['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["agency"] == "E09000014"
    assert me.json()["scopes"] == ["child:read", "placement:write"]


async def test_lowercase_bearer_scheme_accepted(http: httpx.AsyncClient, live: Live) -> None:
    token = mint_dev_token(live.settings, "OFSTED", "analyst")
    me = await http.get(f"{live.base}/protected", headers={"Authorization": f"bearer {token}"})
    assert me.status_code == 200
    assert me.json()["agency_kind"] == "inspectorate"


# --- the token endpoint refuses ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "auth", "status", "error"),
    [
        ({"role": "investigator"}, ("kent-police", "wrong"), 401, "invalid_client"),
        ({"role": "investigator"}, ("nobody", "dev-only-kent-police-secret"), 401, "invalid_client"),
        ({"role": "investigator"}, None, 401, "invalid_client"),
        ({"role": "social_worker"}, KENT, 400, "unauthorized_client"),
        ({"role": "operator"}, KENT, 400, "unauthorized_client"),
        ({"role": "chief_constable"}, KENT, 400, "invalid_request"),
        ({}, KENT, 400, "invalid_request"),  # kent-police has several roles: role required
        ({"role": "call_handler", "scope": "child:read intel:read"}, KENT, 400, "invalid_scope"),
        ({"role": "call_handler", "grant_type": "password"}, KENT, 400, "unsupported_grant_type"),
    ],
)
async def test_token_endpoint_errors(
    http: httpx.AsyncClient, live: Live, form: dict[str, str], auth: Any, status: int, error: str
) -> None:
    data = {"grant_type": "client_credentials", **form}
    resp = await http.post(f"{live.issuer}/token", data=data, auth=auth)
    assert resp.status_code == status, resp.text
    assert resp.json()["error"] == error
    assert "access_token" not in resp.json()


async def test_both_auth_methods_at_once_refused(http: httpx.AsyncClient, live: Live) -> None:
    resp = await http.post(
        f"{live.issuer}/token",
        data={"grant_type": "client_credentials", "role": "investigator",
              "client_id": KENT[0], "client_secret": KENT[1]},
        auth=KENT,
    )
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_request"


# --- the protected route refuses -----------------------------------------------------------------


async def _call(http: httpx.AsyncClient, live: Live, authorization: str | None) -> httpx.Response:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return await http.get(f"{live.base}/protected", headers=headers)


@pytest.mark.parametrize("authorization", [None, "", "Basic a2VudDpzZWNyZXQ=", "Bearer", "Negotiate abc"])
async def test_no_token_gets_bare_challenge(http: httpx.AsyncClient, live: Live, authorization: str | None) -> None:
    resp = await _call(http, live, authorization)
    assert resp.status_code == 401
    assert resp.headers["www-authenticate"] == 'Bearer realm="mpdb"'


def _assert_invalid_token(resp: httpx.Response, description_part: str) -> None:
    assert resp.status_code == 401, resp.text
    challenge = resp.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="mpdb", error="invalid_token", error_description="')
    assert description_part in challenge, challenge


def _forge_hs256(header: dict[str, Any], claims: dict[str, Any], secret: bytes) -> str:
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


async def test_each_failure_is_401_invalid_token(http: httpx.AsyncClient, live: Live) -> None:
    s = live.settings
    good = mint_dev_token(s, "E23000032", "investigator")
    header, claims = _parts(good)
    key = dev_idp.signing_key(s)
    other_key = RSAKey.generate_key(2048, parameters={"kid": header["kid"]})

    def signed(**overrides: Any) -> str:
        return jwt.encode({"alg": "RS256", "kid": header["kid"]}, {**claims, **overrides}, key,
                          algorithms=["RS256"])

    cases = {
        "garbage": ("Bearer not-a-jwt", "not a signed JWT"),
        "expired": (f"Bearer {mint_dev_token(s, 'E23000032', 'investigator', ttl=-120)}", "expired"),
        "wrong audience": (f"Bearer {mint_dev_token(s, 'E23000032', 'investigator', audience='other-api')}",
                           "not intended for this API"),
        "wrong issuer": (f"Bearer {signed(iss='http://127.0.0.1:1/evil')}", "issuer"),
        "not yet valid": (f"Bearer {signed(nbf=int(time.time()) + 300)}", "not yet valid"),
        "no agency": (f"Bearer {signed(agency='')}", "agency"),
        "role not allowed": (f"Bearer {signed(agency='OFSTED', agency_kind='inspectorate')}",
                             "role 'investigator' is not allowed for a inspectorate"),
        "kind not the registry's": (f"Bearer {signed(agency_kind='national_unit')}",
                                    "claim 'agency_kind' says 'national_unit' but the agency registry lists "
                                    "agency 'E23000032' as 'police_force'"),
        "agency not registered": (f"Bearer {signed(agency='E23999999', agency_kind='police_force')}",
                                  "agency 'E23999999' is not in the agency registry"),
        "other key same kid": (
            "Bearer " + jwt.encode({"alg": "RS256", "kid": header["kid"]}, claims, other_key,
                                   algorithms=["RS256"]),
            "signature",
        ),
        "tampered": (
            "Bearer " + ".".join([good.split(".")[0],
                                  _b64(json.dumps({**claims, "agency": "NCA-MPU"}).encode()),
                                  good.split(".")[2]]),
            "signature",
        ),
        "alg none": (
            "Bearer " + f"{_b64(json.dumps({'alg': 'none', 'kid': header['kid']}).encode())}."
            f"{_b64(json.dumps(claims).encode())}.",
            "algorithm",
        ),
        "hs256 with public key": (
            "Bearer " + _forge_hs256({"alg": "HS256", "kid": header["kid"]}, claims,
                                     key.as_pem(private=False)),
            "algorithm",
        ),
        "two tokens": (f"Bearer {good} {good}", "malformed"),
    }
    for name, (authorization, description) in cases.items():
        resp = await _call(http, live, authorization)
        try:
            _assert_invalid_token(resp, description)
        except AssertionError as exc:
            raise AssertionError(f"case {name!r}: {exc}") from None
    # and the good token still works
    assert (await _call(http, live, f"Bearer {good}")).status_code == 200


async def test_one_verifier_per_app_with_in_process_jwks(http: httpx.AsyncClient, live: Live) -> None:
    token = mint_dev_token(live.settings, "NCA-MPU", "investigator")
    assert (await _call(http, live, f"Bearer {token}")).status_code == 200
    verifier = live.app.state.verifier
    assert (await _call(http, live, f"Bearer {token}")).status_code == 200
    assert live.app.state.verifier is verifier
    assert verifier.issuer == live.issuer
    assert verifier.jwks.url is None  # dev IdP keys are read in-process, not over HTTP


async def test_verifier_via_public_jwks_url(live: Live) -> None:
    """The same dev-IdP tokens verify when the JWKS is fetched over HTTP (external-IdP mode)."""
    settings = _settings(
        live.settings.state_dir,
        live.settings.port,
        neo4j_uri=live.settings.neo4j_uri,
        neo4j_password=live.settings.neo4j_password,
        oauth_issuer=live.issuer,
        oauth_jwks_url=f"{live.issuer}/jwks.json",
    )
    verifier = create_verifier(settings)
    try:
        assert verifier.jwks.url == f"{live.issuer}/jwks.json"
        p = await verifier.verify(mint_dev_token(live.settings, "RHI-KENT-01", "rhi_practitioner"))
        assert p.agency_kind is AgencyKind.RHI_PROVIDER
        assert p.scopes == {Scope.CHILD_READ, Scope.RHI_WRITE, Scope.RHI_READ_CONFIDENTIAL, Scope.ALERTS_READ}
        assert verifier.jwks.fetch_count == 1
    finally:
        await verifier.aclose()


# --- mint_dev_token, prod refusal, the CLI -------------------------------------------------------


def test_mint_dev_token_rules(live: Live) -> None:
    s = live.settings
    _, claims = _parts(mint_dev_token(s, "E23000032", Role.CALL_HANDLER, [Scope.CHILD_READ]))
    assert claims["scope"] == "child:read" and claims["client_id"] == "kent-police"
    with pytest.raises(DevIdpError, match="not granted"):
        mint_dev_token(s, "E23000032", "call_handler", ["intel:read"])
    with pytest.raises(DevIdpError, match="no dev client"):
        mint_dev_token(s, "E23000032", "social_worker")
    # Every agency of the reference data, its kind from there (Medway Council is not a dev client)
    _, claims = _parts(mint_dev_token(s, "E06000035", "social_worker"))
    assert claims["agency"] == "E06000035" and claims["agency_kind"] == "local_authority"
    _, claims = _parts(mint_dev_token(s, "E06000035", "social_worker", agency_kind="local_authority"))
    assert claims["agency"] == "E06000035" and claims["agency_kind"] == "local_authority"
    with pytest.raises(DevIdpError, match="is a local_authority, not police_force"):
        mint_dev_token(s, "E06000035", "investigator", agency_kind="police_force")
    with pytest.raises(DevIdpError, match="not allowed"):
        mint_dev_token(s, "E06000035", "investigator")
    with pytest.raises(DevIdpError, match="not in the reference data"):
        mint_dev_token(s, "E06999999", "social_worker")
    # an agency registered by hand (not reference data) names its kind
    _, claims = _parts(mint_dev_token(s, "RC-PROV", "rhi_practitioner", agency_kind="rhi_provider"))
    assert claims["agency_kind"] == "rhi_provider"


def _prod_settings(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,
        env="prod",
        state_dir=tmp_path,
        oauth_issuer="https://idp.example/",
        oauth_jwks_url="https://idp.example/jwks",
        neo4j_uri="neo4j://db.example:7687",
        neo4j_password="x",
    )


def test_dev_idp_refuses_prod(tmp_path: Path) -> None:
    prod = _prod_settings(tmp_path)
    with pytest.raises(DevIdpDisabledError):
        create_dev_idp_router(prod)
    with pytest.raises(DevIdpDisabledError):
        mint_dev_token(prod, "E23000032", "investigator")
    assert not (tmp_path / "dev-idp").exists()
    with pytest.raises(DevIdpDisabledError):
        create_dev_idp_router(_settings(tmp_path, 8000, dev_idp=False))
    with pytest.raises(ValueError):
        Settings(_env_file=None, env="prod", dev_idp=True, oauth_issuer="https://i/",
                 oauth_jwks_url="https://i/j", neo4j_uri="neo4j://x", neo4j_password="x")


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command("token")(cli_token.token)
    app.command("noop")(lambda: None)  # keep `token` a named sub-command
    return app


def test_cli_token(monkeypatch: pytest.MonkeyPatch, live: Live) -> None:
    monkeypatch.setattr(cli_token, "get_settings", lambda: live.settings)
    result = CliRunner().invoke(
        _cli(), ["token", "--agency", "E23000032", "--role", "call_handler", "--scope", "child:read"]
    )
    assert result.exit_code == 0, result.output
    _, claims = _parts(result.stdout.strip())
    assert claims["role"] == "call_handler" and claims["scope"] == "child:read"

    result = CliRunner().invoke(_cli(), ["token", "--agency", "E23000032", "--role", "auditor"])
    assert result.exit_code == 0
    assert _parts(result.stdout.strip())[1]["scope"] == "analytics:read audit:read"

    result = CliRunner().invoke(_cli(), ["token", "--agency", "OFSTED", "--role", "investigator"])
    assert result.exit_code == 1 and "investigator" in result.output


def test_cli_token_refused_in_prod(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(cli_token, "get_settings", lambda: _prod_settings(tmp_path))
    result = CliRunner().invoke(_cli(), ["token", "--agency", "E23000032", "--role", "investigator"])
    assert result.exit_code == 2
    assert "development only" in result.output and "env=prod" in result.output
    assert result.stdout.strip() == "" or "eyJ" not in result.stdout


def test_signing_key_reused_across_loads(tmp_path: Path) -> None:
    s = _settings(tmp_path, 8000)
    first = dev_idp.signing_key(s)
    dev_idp._keys.clear()  # simulate a new process
    second = dev_idp.signing_key(s)
    assert first.kid == second.kid
    path = dev_idp.signing_key_path(s)
    os.chmod(path, 0o644)
    dev_idp._keys.clear()
    dev_idp.signing_key(s)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
