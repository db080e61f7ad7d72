"""Interop: tokens from an OAuth2 server this project did not write, verified by TokenVerifier.

The server is the npm package `oauth2-mock-server` (pinned in tests/e2e/external_idp/package.json
and package-lock.json), run on Node.js on 127.0.0.1. It issues client-credentials JWT access
tokens signed with its own RS256 and ES256 keys (it alternates between them), publishes them in
its JWKS (found through its OpenID discovery document), and lets us add claims: we use
IdP-style claim names (a namespaced URI for the agency, a `roles` array) so the configurable
claim names are exercised too.

The npm packages are installed on first use with `npm ci` into the git-ignored `.mpdb/` folder.
The test skips (saying why) only when Node.js/npm are missing or the install cannot be done.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import graph_connection
from mpdb.auth.dependencies import create_verifier
from mpdb.auth.principal import AgencyKind, Role, Scope
from mpdb.auth.tokens import (
    InvalidAudienceError,
    InvalidIssuerError,
    InvalidSignatureError,
    MissingClaimError,
    RoleNotAllowedError,
    TokenVerifier,
)
from mpdb.settings import PROJECT_ROOT, Settings

SOURCE = Path(__file__).parent / "external_idp"
CACHE = PROJECT_ROOT / ".mpdb" / "test-cache" / "external-idp"

AGENCY_CLAIM = "https://mpdb.police.uk/claims/agency"
KIND_CLAIM = "https://mpdb.police.uk/claims/agency_kind"
ROLE_CLAIM = "roles"

CLIENT_CLAIMS = {
    "kent-police-ext": {
        AGENCY_CLAIM: "E23000032",
        KIND_CLAIM: "police_force",
        ROLE_CLAIM: ["call_handler"],
    },
    "stoke-ext": {
        AGENCY_CLAIM: "E06000021",
        KIND_CLAIM: "local_authority",
        ROLE_CLAIM: ["la_missing_lead"],
    },
    # misconfigured at the IdP: an inspectorate client mapped to a police role
    "ofsted-misconfigured": {
        AGENCY_CLAIM: "OFSTED",
        KIND_CLAIM: "inspectorate",
        ROLE_CLAIM: ["investigator"],
    },
    # no mpdb claims at all
    "plain-client": {},
}


def _install() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("Node.js and npm are needed to run the third-party oauth2-mock-server")
    CACHE.mkdir(parents=True, exist_ok=True)
    lock = (SOURCE / "package-lock.json").read_bytes()
    stamp = CACHE / ".installed-lock.sha256"
    digest = hashlib.sha256(lock + (SOURCE / "package.json").read_bytes()).hexdigest()
    for name in ("package.json", "package-lock.json", "server.mjs"):
        shutil.copyfile(SOURCE / name, CACHE / name)
    installed = CACHE / "node_modules" / "oauth2-mock-server" / "package.json"
    if not installed.exists() or not stamp.exists() or stamp.read_text() != digest:
        try:
            result = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
                cwd=CACHE,
                capture_output=True,
                text=True,
                timeout=300,
            )
        except subprocess.TimeoutExpired:
            pytest.skip("npm ci for oauth2-mock-server timed out (no package registry?)")
        if result.returncode != 0:
            pytest.skip(f"npm ci for oauth2-mock-server failed: {result.stderr.strip()[-500:]}")
        stamp.write_text(digest)
    return CACHE / "server.mjs"


@dataclass
class ExternalIdp:
    issuer: str
    token_endpoint: str
    jwks_uri: str
    process: subprocess.Popen[str]

    def rotate_keys_under_same_kids(self) -> list[str]:
        """Ask the server to replace each signing key with a new one under the same kid."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("rotate\n")
        self.process.stdin.flush()
        reply: list[str] = []
        reader = threading.Thread(target=lambda: reply.append(self.process.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout=30)
        assert reply and reply[0].strip(), "oauth2-mock-server did not rotate its keys"
        return json.loads(reply[0])["rotated"]


@pytest.fixture(scope="module")
def external_idp() -> Iterator[ExternalIdp]:
    script = _install()
    proc = subprocess.Popen(
        ["node", str(script)],
        cwd=script.parent,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "MOCK_CLIENT_CLAIMS": json.dumps(CLIENT_CLAIMS)},
    )
    try:
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout=30)
        if not line or not line[0].strip():
            proc.kill()
            err = proc.stderr.read() if proc.stderr else ""
            pytest.fail(f"oauth2-mock-server did not start: {err[-1000:]}")
        issuer = json.loads(line[0])["issuer"]
        conf = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
        assert conf["issuer"] == issuer
        yield ExternalIdp(issuer, conf["token_endpoint"], conf["jwks_uri"], proc)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


@pytest.fixture
async def verifier(external_idp: ExternalIdp, tmp_path: Path, neo4j_settings: Settings,
                   registered_agencies: object) -> Any:
    settings = Settings(
        _env_file=None,
        env="test",
        state_dir=tmp_path,
        **graph_connection(neo4j_settings),  # the agency registry
        oauth_issuer=external_idp.issuer,
        oauth_jwks_url=external_idp.jwks_uri,
        oauth_audience="mpdb",
        oauth_agency_claim=AGENCY_CLAIM,
        oauth_agency_kind_claim=KIND_CLAIM,
        oauth_role_claim=ROLE_CLAIM,
    )
    v = create_verifier(settings)
    yield v
    await v.aclose()


async def _token(idp: ExternalIdp, client_id: str, *, scope: str, aud: str | None = "mpdb") -> str:
    data = {"grant_type": "client_credentials", "scope": scope}
    if aud is not None:
        data["aud"] = aud
    async with httpx.AsyncClient(timeout=10) as http:
        resp = await http.post(idp.token_endpoint, data=data, auth=(client_id, "irrelevant"))
    assert resp.status_code == 200, resp.text
    return resp.json()["access_token"]


def _header(token: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))


async def test_rs256_and_es256_tokens_from_external_idp(
    external_idp: ExternalIdp, verifier: TokenVerifier
) -> None:
    algs = set()
    for _ in range(4):  # the server alternates between its RSA and EC keys
        token = await _token(external_idp, "kent-police-ext",
                             scope="child:read episode:write intel:read audit:read")
        algs.add(_header(token)["alg"])
        p = await verifier.verify(token)
        assert p.agency_id == "E23000032"
        assert p.agency_kind is AgencyKind.POLICE_FORCE
        assert p.role is Role.CALL_HANDLER
        assert p.client_id == "kent-police-ext"  # from azp
        assert p.subject == "kent-police-ext"
        # intel:read and audit:read asked for, but a call handler's policy ceiling clips them
        assert p.scopes == {Scope.CHILD_READ, Scope.EPISODE_WRITE}
    assert algs == {"RS256", "ES256"}
    assert verifier.jwks.fetch_count == 1  # both keys came from one JWKS fetch


async def test_local_authority_token(external_idp: ExternalIdp, verifier: TokenVerifier) -> None:
    token = await _token(external_idp, "stoke-ext", scope="child:read import:write rhi:write")
    p = await verifier.verify(token)
    assert (p.agency_id, p.agency_kind, p.role) == (
        "E06000021",
        AgencyKind.LOCAL_AUTHORITY,
        Role.LA_MISSING_LEAD,
    )
    assert p.scopes == {Scope.CHILD_READ, Scope.IMPORT_WRITE}


async def test_misconfigured_role_mapping_rejected(
    external_idp: ExternalIdp, verifier: TokenVerifier
) -> None:
    token = await _token(external_idp, "ofsted-misconfigured", scope="child:read")
    with pytest.raises(RoleNotAllowedError):
        await verifier.verify(token)


async def test_token_without_mpdb_claims_rejected(
    external_idp: ExternalIdp, verifier: TokenVerifier
) -> None:
    token = await _token(external_idp, "plain-client", scope="child:read")
    with pytest.raises(MissingClaimError):
        await verifier.verify(token)


async def test_token_for_another_audience_rejected(
    external_idp: ExternalIdp, verifier: TokenVerifier
) -> None:
    token = await _token(external_idp, "kent-police-ext", scope="child:read", aud="payroll-api")
    with pytest.raises(InvalidAudienceError):
        await verifier.verify(token)
    token = await _token(external_idp, "kent-police-ext", scope="child:read", aud=None)
    with pytest.raises(InvalidAudienceError):
        await verifier.verify(token)


async def test_other_issuer_configuration_rejects(external_idp: ExternalIdp, tmp_path: Path) -> None:
    settings = Settings(
        _env_file=None,
        env="test",
        state_dir=tmp_path,
        oauth_issuer="https://login.example.org/tenant",
        oauth_jwks_url=external_idp.jwks_uri,
        oauth_agency_claim=AGENCY_CLAIM,
        oauth_agency_kind_claim=KIND_CLAIM,
        oauth_role_claim=ROLE_CLAIM,
    )
    v = create_verifier(settings)
    try:
        token = await _token(external_idp, "kent-police-ext", scope="child:read")
        with pytest.raises(InvalidIssuerError):
            await v.verify(token)
    finally:
        await v.aclose()


async def test_provider_rotating_keys_under_the_same_kid(
    external_idp: ExternalIdp, verifier: TokenVerifier
) -> None:
    """Runs last in this module: it leaves the server with new keys."""
    before = {}
    for _ in range(2):  # one token per key (the server alternates)
        token = await _token(external_idp, "kent-police-ext", scope="child:read")
        await verifier.verify(token)
        before[_header(token)["kid"]] = token
    assert verifier.jwks.fetch_count == 1
    kids = external_idp.rotate_keys_under_same_kids()
    assert set(kids) == set(before)
    after = {}
    for _ in range(2):
        token = await _token(external_idp, "kent-police-ext", scope="child:read")
        after[_header(token)["kid"]] = token
    assert set(after) == set(before)  # same kids, new keys
    for token in after.values():
        assert (await verifier.verify(token)).agency_id == "E23000032"
    # one early refetch picked up both new keys (not a wait for the 600 s cache to expire)
    assert verifier.jwks.fetch_count == 2
    for token in before.values():  # the replaced keys no longer verify, and cannot force a refetch
        with pytest.raises(InvalidSignatureError):
            await verifier.verify(token)
    assert verifier.jwks.fetch_count == 2

