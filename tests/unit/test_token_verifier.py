"""TokenVerifier against a real local JWKS HTTP server (the httpx fetch path is real)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, Key, OctKey, RSAKey

from mpdb.auth.policy import load_policy
from mpdb.auth.principal import AgencyKind, Role, Scope
from mpdb.auth.registry import CachedAgencyRegistry, StaticAgencyRegistry
from mpdb.auth.tokens import (
    AgencyKindMismatchError,
    ExpiredTokenError,
    InvalidAudienceError,
    InvalidClaimError,
    InvalidIssuerError,
    InvalidSignatureError,
    JwksCache,
    KeySetUnavailableError,
    MalformedTokenError,
    MissingClaimError,
    NotYetValidError,
    RegistryUnavailableError,
    RoleNotAllowedError,
    TokenError,
    TokenVerifier,
    UnknownAgencyError,
    UnknownKeyError,
    UnsupportedAlgorithmError,
)

ISSUER = "https://idp.test.example/realms/mpdb"
AUDIENCE = "mpdb"
POLICY = load_policy()


# --- a real JWKS server -------------------------------------------------------------------------


@dataclass
class JwksState:
    keys: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    body: bytes | None = None  # raw override (garbage responses)
    hits: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def publish(self, *keys: Key) -> None:
        with self.lock:
            self.keys = [k.as_dict(private=False) for k in keys]


class _Handler(BaseHTTPRequestHandler):
    state: JwksState

    def do_GET(self) -> None:  # noqa: N802
        state = self.server.state  # type: ignore[attr-defined]
        with state.lock:
            state.hits += 1
            status, body = state.status, state.body
            if body is None:
                body = json.dumps({"keys": state.keys}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def jwks_server() -> Iterator[tuple[str, JwksState]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.state = JwksState()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield f"http://{host}:{port}/jwks.json", server.state  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()


# --- keys and tokens ----------------------------------------------------------------------------

RSA_1 = RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "use": "sig", "alg": "RS256"})
RSA_2 = RSAKey.generate_key(2048, parameters={"kid": "rsa-2", "use": "sig", "alg": "RS256"})
EC_1 = ECKey.generate_key("P-256", parameters={"kid": "ec-1", "use": "sig", "alg": "ES256"})
ATTACKER = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})  # same kid, other key


# The agency registry the verifier checks tokens against (in production: the graph's Agency nodes).
REGISTRY = {
    "E23000032": "police_force", "E23000001": "police_force", "E10000016": "local_authority",
    "E06000021": "local_authority",
    "RHI-KENT-01": "rhi_provider", "NCA-MPU": "national_unit", "OFSTED": "inspectorate",
}


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@dataclass
class Env:
    url: str
    state: JwksState
    clock: Clock
    verifier: TokenVerifier

    def make(self, **kw: Any) -> TokenVerifier:
        return make_verifier(self.url, self.clock, **kw)


def make_verifier(url: str, clock: Clock, **kw: Any) -> TokenVerifier:
    jwks = JwksCache(
        url=url,
        cache_seconds=kw.pop("cache_seconds", 600),
        min_refresh_seconds=kw.pop("min_refresh_seconds", 30),
        fetch_timeout_seconds=2,
        clock=clock,
    )
    kw.setdefault("registry", StaticAgencyRegistry(REGISTRY))
    return TokenVerifier(issuer=ISSUER, audience=AUDIENCE, jwks=jwks, policy=POLICY, **kw)


@pytest.fixture
async def env(jwks_server: tuple[str, JwksState]) -> Any:
    url, state = jwks_server
    with state.lock:
        state.status, state.body, state.hits = 200, None, 0
    state.publish(RSA_1, EC_1)
    clock = Clock()
    verifier = make_verifier(url, clock)
    yield Env(url, state, clock, verifier)
    await verifier.aclose()


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "officer-4711",
        "client_id": "kent-police",
        "agency": "E23000032",
        "agency_kind": "police_force",
        "role": "investigator",
        "scope": "child:read child:read:sensitive episode:write",
        "iat": now,
        "nbf": now,
        "exp": now + 900,
        "jti": "t-1",
    }
    for name, value in overrides.items():
        if value is _DROP:
            base.pop(name, None)
        else:
            base[name] = value
    return base


_DROP = object()


def sign(key: Key, payload: dict[str, Any] | None = None, alg: str | None = None, **header: Any) -> str:
    alg = alg or ("ES256" if isinstance(key, ECKey) else "RS256")
    hdr: dict[str, Any] = {"alg": alg, "kid": key.kid, **header}
    if hdr.get("kid") is None:
        hdr.pop("kid")
    return jwt.encode(hdr, payload or claims(), key, algorithms=[alg])


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header: dict[str, Any], payload: dict[str, Any], secret: bytes | None) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    if secret is None:
        return signing_input + "."
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


async def rejected(verifier: TokenVerifier, token: str, error: type[TokenError]) -> TokenError:
    with pytest.raises(error) as info:
        await verifier.verify(token)
    assert isinstance(info.value, TokenError)
    return info.value


# --- valid tokens -------------------------------------------------------------------------------


async def test_valid_rs256(env: Env) -> None:
    p = await env.verifier.verify(sign(RSA_1))
    assert (p.subject, p.client_id, p.agency_id) == ("officer-4711", "kent-police", "E23000032")
    assert p.agency_kind is AgencyKind.POLICE_FORCE and p.role is Role.INVESTIGATOR
    assert p.scopes == {Scope.CHILD_READ, Scope.CHILD_READ_SENSITIVE, Scope.EPISODE_WRITE}
    assert env.state.hits == 1


async def test_valid_es256(env: Env) -> None:
    p = await env.verifier.verify(sign(EC_1))
    assert p.agency_id == "E23000032" and p.role is Role.INVESTIGATOR


async def test_audience_list_and_azp_and_at_jwt_type(env: Env) -> None:
    token = sign(
        RSA_1,
        claims(aud=["account", AUDIENCE], client_id=_DROP, azp="kent-azp"),
        typ="at+jwt",
    )
    p = await env.verifier.verify(token)
    assert p.client_id == "kent-azp"


async def test_jwks_is_cached_then_refreshed_after_ttl(env: Env) -> None:
    for _ in range(5):
        await env.verifier.verify(sign(RSA_1))
        await env.verifier.verify(sign(EC_1))
    assert env.state.hits == 1
    env.clock.t += 601
    await env.verifier.verify(sign(RSA_1))
    assert env.state.hits == 2


async def test_leeway_accepts_small_clock_skew(env: Env) -> None:
    now = int(time.time())
    await env.verifier.verify(sign(RSA_1, claims(exp=now - 10)))
    await env.verifier.verify(sign(RSA_1, claims(nbf=now + 10, iat=now + 10)))


# --- algorithm attacks --------------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
async def test_alg_none_rejected(env: Env, alg: str) -> None:
    token = forge({"alg": alg, "kid": "rsa-1", "typ": "JWT"}, claims(), None)
    await rejected(env.verifier, token, UnsupportedAlgorithmError)
    # ... also with a (meaningless) signature segment attached
    await rejected(env.verifier, token + b64(b"sig"), UnsupportedAlgorithmError)


@pytest.mark.parametrize("secret_form", ["pem", "jwk-json", "n"])
async def test_hs256_signed_with_the_rsa_public_key_rejected(env: Env, secret_form: str) -> None:
    public = RSA_1.as_dict(private=False)
    secret = {
        "pem": RSA_1.as_pem(private=False),
        "jwk-json": json.dumps(public).encode(),
        "n": public["n"].encode(),
    }[secret_form]
    token = forge({"alg": "HS256", "kid": "rsa-1", "typ": "JWT"}, claims(), secret)
    error = await rejected(env.verifier, token, UnsupportedAlgorithmError)
    assert error.reason == "unsupported_algorithm"


async def test_other_algorithms_rejected(env: Env) -> None:
    oct_key = OctKey.generate_key(256, parameters={"kid": "rsa-1"})
    for alg in ("HS256", "HS512"):
        token = jwt.encode({"alg": alg, "kid": "rsa-1"}, claims(), oct_key, algorithms=[alg])
        await rejected(env.verifier, token, UnsupportedAlgorithmError)
    ps256 = jwt.encode({"alg": "PS256", "kid": "rsa-1"}, claims(), ATTACKER, algorithms=["PS256"])
    await rejected(env.verifier, ps256, UnsupportedAlgorithmError)


def test_verifier_refuses_symmetric_algorithms(env: Env) -> None:
    with pytest.raises(ValueError):
        env.make(algorithms=["RS256", "HS256"])


async def test_alg_key_type_mismatch_rejected(env: Env) -> None:
    # header claims ES256 but names the RSA key's kid
    token = sign(EC_1, kid="rsa-1")
    await rejected(env.verifier, token, UnknownKeyError)


async def test_embedded_keys_in_header_rejected(env: Env) -> None:
    token = sign(ATTACKER, jwk=ATTACKER.as_dict(private=False))
    await rejected(env.verifier, token, MalformedTokenError)
    token = sign(ATTACKER, jku="http://127.0.0.1:1/evil.json")
    await rejected(env.verifier, token, MalformedTokenError)


# --- keys and the JWKS --------------------------------------------------------------------------


async def test_unknown_kid_refetches_once_then_rejects(env: Env) -> None:
    await env.verifier.verify(sign(RSA_1))
    assert env.state.hits == 1
    await rejected(env.verifier, sign(RSA_2), UnknownKeyError)
    assert env.state.hits == 2  # exactly one refetch
    # a storm of unknown kids inside the rate-limit window causes no further fetches
    for i in range(10):
        other = RSAKey.generate_key(2048, parameters={"kid": f"junk-{i}"}) if i == 0 else RSA_2
        await rejected(env.verifier, sign(other), UnknownKeyError)
    assert env.state.hits == 2
    # the issuer now rotates in RSA_2; after the window one refetch picks it up
    env.state.publish(RSA_1, EC_1, RSA_2)
    env.clock.t += 31
    p = await env.verifier.verify(sign(RSA_2))
    assert p.agency_id == "E23000032"
    assert env.state.hits == 3
    await env.verifier.verify(sign(RSA_2))
    assert env.state.hits == 3


async def test_rotated_key_accepted_on_first_unknown_kid(env: Env) -> None:
    await env.verifier.verify(sign(RSA_1))
    env.state.publish(RSA_2)  # issuer rotated: old key gone, new key in
    p = await env.verifier.verify(sign(RSA_2))
    assert p.role is Role.INVESTIGATOR
    assert env.state.hits == 2
    # the retired key is no longer trusted (and the refetch is rate-limited)
    await rejected(env.verifier, sign(RSA_1), UnknownKeyError)
    assert env.state.hits == 2


async def test_concurrent_unknown_kids_share_one_refetch(env: Env) -> None:
    await env.verifier.verify(sign(RSA_1))
    results = await asyncio.gather(
        *(env.verifier.verify(sign(RSA_2)) for _ in range(20)), return_exceptions=True
    )
    assert all(isinstance(r, UnknownKeyError) for r in results)
    assert env.state.hits == 2


async def test_same_kid_other_key_is_bad_signature(env: Env) -> None:
    await rejected(env.verifier, sign(ATTACKER), InvalidSignatureError)


async def test_rotation_under_the_same_kid_refetches_once(env: Env) -> None:
    await env.verifier.verify(sign(RSA_1))
    assert env.state.hits == 1
    rotated = RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "use": "sig", "alg": "RS256"})
    env.state.publish(rotated, EC_1)  # the issuer replaced the key behind kid rsa-1
    p = await env.verifier.verify(sign(rotated))
    assert p.agency_id == "E23000032"
    assert env.state.hits == 2  # one early refetch, not a wait for the 600 s cache
    await env.verifier.verify(sign(rotated))
    assert env.state.hits == 2
    # the replaced key no longer verifies, and the failed signature cannot force another fetch
    await rejected(env.verifier, sign(RSA_1), InvalidSignatureError)
    assert env.state.hits == 2


async def test_forged_signatures_cause_at_most_one_refetch_per_window(env: Env) -> None:
    await env.verifier.verify(sign(RSA_1))
    for _ in range(10):
        await rejected(env.verifier, sign(ATTACKER), InvalidSignatureError)
    assert env.state.hits == 2  # the first forgery refetched (the key was unchanged); the rest did not
    env.clock.t += 31
    await rejected(env.verifier, sign(ATTACKER), InvalidSignatureError)
    assert env.state.hits == 3
    # the budget is shared with unknown kids: neither kind of token can fetch again in this window
    await rejected(env.verifier, sign(RSA_2), UnknownKeyError)
    assert env.state.hits == 3
    await env.verifier.verify(sign(RSA_1))  # genuine tokens were never affected


async def test_concurrent_tokens_after_same_kid_rotation_share_one_refetch(env: Env) -> None:
    await env.verifier.verify(sign(RSA_1))
    rotated = RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "use": "sig", "alg": "RS256"})
    env.state.publish(rotated, EC_1)
    token = sign(rotated)
    principals = await asyncio.gather(*(env.verifier.verify(token) for _ in range(20)))
    assert {p.agency_id for p in principals} == {"E23000032"}
    assert env.state.hits == 2


async def test_token_without_kid_rejected_when_jwks_has_several_keys(env: Env) -> None:
    token = sign(RSA_1, kid=None)
    assert "kid" not in json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    error = await rejected(env.verifier, token, UnknownKeyError)
    assert "several keys" in error.description


async def test_token_without_kid_accepted_when_jwks_has_one_key(env: Env) -> None:
    env.state.publish(RSA_1)
    p = await env.verifier.verify(sign(RSA_1, kid=None))
    assert p.subject == "officer-4711"


@pytest.mark.parametrize("failure", ["503", "not-json", "no-keys-array", "refused"])
async def test_jwks_unavailable_fails_closed(env: Env, failure: str) -> None:
    if failure == "503":
        env.state.status = 503
    elif failure == "not-json":
        env.state.body = b"<html>proxy error</html>"
    elif failure == "no-keys-array":
        env.state.body = b'{"error": "nope"}'
    verifier = (
        make_verifier("http://127.0.0.1:9/jwks.json", env.clock)  # discard port: refused
        if failure == "refused"
        else env.verifier
    )
    try:
        error = await rejected(verifier, sign(RSA_1), KeySetUnavailableError)
        assert error.reason == "jwks_unavailable"
    finally:
        if verifier is not env.verifier:
            await verifier.aclose()


async def test_stale_cache_is_not_used_when_jwks_goes_down(env: Env) -> None:
    await env.verifier.verify(sign(RSA_1))
    env.state.status = 503
    await env.verifier.verify(sign(RSA_1))  # still within the cache lifetime
    env.clock.t += 601
    await rejected(env.verifier, sign(RSA_1), KeySetUnavailableError)
    await rejected(env.verifier, sign(RSA_1), KeySetUnavailableError)
    env.state.status = 200
    await env.verifier.verify(sign(RSA_1))  # recovers once the issuer is back


async def test_jwks_private_and_symmetric_material_ignored(env: Env) -> None:
    oct_key = OctKey.generate_key(256, parameters={"kid": "oct-1"})
    env.state.keys = [RSA_1.as_dict(private=True), oct_key.as_dict(private=True)]
    await rejected(env.verifier, sign(RSA_1), UnknownKeyError)


# --- payload and claims -------------------------------------------------------------------------


async def test_tampered_payload_rejected(env: Env) -> None:
    header, _, signature = sign(RSA_1).split(".")
    evil = claims(agency="NCA-MPU", agency_kind="national_unit")
    token = f"{header}.{b64(json.dumps(evil).encode())}.{signature}"
    await rejected(env.verifier, token, InvalidSignatureError)


async def test_tampered_signature_rejected(env: Env) -> None:
    token = sign(RSA_1)
    flipped = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    await rejected(env.verifier, flipped, InvalidSignatureError)


@pytest.mark.parametrize("junk", ["", "abc", "a.b", "a.b.c.d.e", "!!!.???.***", "x" * 20000])
async def test_malformed_tokens_rejected(env: Env, junk: str) -> None:
    with pytest.raises(TokenError):
        await env.verifier.verify(junk)


async def test_expired_rejected(env: Env) -> None:
    now = int(time.time())
    await rejected(env.verifier, sign(RSA_1, claims(exp=now - 31, nbf=now - 900, iat=now - 900)),
                   ExpiredTokenError)
    await rejected(env.verifier, sign(RSA_1, claims(exp=_DROP)), MissingClaimError)


async def test_not_yet_valid_rejected(env: Env) -> None:
    now = int(time.time())
    await rejected(env.verifier, sign(RSA_1, claims(nbf=now + 120)), NotYetValidError)
    await rejected(env.verifier, sign(RSA_1, claims(iat=now + 120, nbf=_DROP)), NotYetValidError)


async def test_wrong_audience_rejected(env: Env) -> None:
    await rejected(env.verifier, sign(RSA_1, claims(aud="another-api")), InvalidAudienceError)
    await rejected(env.verifier, sign(RSA_1, claims(aud=["a", "b"])), InvalidAudienceError)
    await rejected(env.verifier, sign(RSA_1, claims(aud=_DROP)), InvalidAudienceError)
    await rejected(env.verifier, sign(RSA_1, claims(aud=42)), InvalidAudienceError)


async def test_wrong_issuer_rejected(env: Env) -> None:
    await rejected(env.verifier, sign(RSA_1, claims(iss="https://evil.example/")),
                   InvalidIssuerError)
    await rejected(env.verifier, sign(RSA_1, claims(iss=ISSUER + "/")), InvalidIssuerError)
    await rejected(env.verifier, sign(RSA_1, claims(iss=_DROP)), InvalidIssuerError)


@pytest.mark.parametrize("claim", ["agency", "role", "sub", "client_id"])
async def test_missing_required_claim_rejected(env: Env, claim: str) -> None:
    error = await rejected(env.verifier, sign(RSA_1, claims(**{claim: _DROP})), MissingClaimError)
    assert error.reason == "missing_claim"
    await rejected(env.verifier, sign(RSA_1, claims(**{claim: ""})), MissingClaimError)


async def test_non_string_agency_rejected(env: Env) -> None:
    await rejected(env.verifier, sign(RSA_1, claims(agency=["E23000032", "E23000001"])),
                   InvalidClaimError)


@pytest.mark.parametrize(
    ("agency", "role"),
    [
        ("OFSTED", "investigator"),
        ("RHI-KENT-01", "la_missing_lead"),
        ("E10000016", "call_handler"),
        ("E23000032", "social_worker"),
        ("E23000032", "operator"),  # the CLI principal can never come from a token
    ],
)
async def test_role_not_allowed_for_agency_kind(env: Env, agency: str, role: str) -> None:
    token = sign(RSA_1, claims(agency=agency, agency_kind=_DROP, role=role))
    error = await rejected(env.verifier, token, RoleNotAllowedError)
    assert error.reason == "role_not_allowed"


async def test_unknown_role_rejected(env: Env) -> None:
    await rejected(env.verifier, sign(RSA_1, claims(role="chief_constable")), InvalidClaimError)
    await rejected(env.verifier, sign(RSA_1, claims(role=["investigator", "auditor"])),
                   InvalidClaimError)


# --- the agency registry ------------------------------------------------------------------------


async def test_agency_kind_is_derived_from_the_registry_when_the_claim_is_absent(env: Env) -> None:
    p = await env.verifier.verify(sign(RSA_1, claims(agency_kind=_DROP)))
    assert (p.agency_id, p.agency_kind) == ("E23000032", AgencyKind.POLICE_FORCE)
    p = await env.verifier.verify(sign(RSA_1, claims(agency="NCA-MPU", agency_kind=_DROP, scope="child:read")))
    assert (p.agency_kind, p.scopes) == (AgencyKind.NATIONAL_UNIT, {Scope.CHILD_READ})
    p = await env.verifier.verify(sign(RSA_1, claims(agency_kind="")))  # empty claim = absent
    assert p.agency_kind is AgencyKind.POLICE_FORCE


@pytest.mark.parametrize("kind", ["national_unit", "local_authority", "system", "army"])
async def test_agency_kind_claim_disagreeing_with_the_registry_is_refused(env: Env, kind: str) -> None:
    # A force claiming to be the national unit must not read nationally.
    error = await rejected(env.verifier, sign(RSA_1, claims(agency_kind=kind)), AgencyKindMismatchError)
    assert error.reason == "agency_kind_mismatch"
    assert error.description == (f"claim 'agency_kind' says {kind!r} but the agency registry lists agency "
                                 "'E23000032' as 'police_force'")


@pytest.mark.parametrize("agency", ["E23999999", "MPDB", "nca-mpu", "E23000032 "])
async def test_agency_unknown_to_the_registry_is_refused(env: Env, agency: str) -> None:
    error = await rejected(env.verifier, sign(RSA_1, claims(agency=agency, agency_kind=_DROP)), UnknownAgencyError)
    assert (error.reason, error.description) == ("unknown_agency", f"agency {agency!r} is not in the agency registry")


async def test_registry_failure_fails_closed(env: Env) -> None:
    class Down:
        async def kind_of(self, agency_id: str) -> AgencyKind | None:
            raise OSError("connection refused")

        async def aclose(self) -> None:
            return None

    verifier = env.make(registry=Down())
    try:
        error = await rejected(verifier, sign(RSA_1), RegistryUnavailableError)
        assert error.reason == "registry_unavailable"
    finally:
        await verifier.aclose()


async def test_cached_registry_reads_once_and_rereads_on_a_miss_at_most_every_few_seconds() -> None:
    loads: list[dict[str, str]] = []
    current = {"E23000032": "police_force", "MPDB": "system", "X-ODD": "army"}
    now = [0.0]

    async def load() -> dict[str, str]:
        loads.append(dict(current))
        return dict(current)

    registry = CachedAgencyRegistry(load, refresh_seconds=60, miss_refresh_seconds=5, clock=lambda: now[0])
    assert await registry.kind_of("E23000032") is AgencyKind.POLICE_FORCE
    assert await registry.kind_of("MPDB") is None  # the CLI operator is never a token's agency
    assert await registry.kind_of("X-ODD") is None  # a kind mpdb has no policy for
    assert len(loads) == 1
    current["RHI-NEW"] = "rhi_provider"
    assert await registry.kind_of("RHI-NEW") is None  # a miss within 5 s does not re-read
    now[0] = 5.0
    assert await registry.kind_of("RHI-NEW") is AgencyKind.RHI_PROVIDER  # added a moment ago: accepted
    assert len(loads) == 2
    for _ in range(20):
        assert await registry.kind_of("E99999999") is None  # a stream of unknown ids: no re-read storm
    assert len(loads) == 2
    now[0] = 70.0
    assert await registry.kind_of("E23000032") is AgencyKind.POLICE_FORCE
    assert len(loads) == 3  # periodic refresh


async def test_scope_claim_wider_than_policy_is_clipped(env: Env) -> None:
    every_scope = " ".join(s.value for s in Scope) + " admin:all"
    p = await env.verifier.verify(sign(RSA_1, claims(role="call_handler", scope=every_scope)))
    assert p.scopes == {Scope.CHILD_READ, Scope.EPISODE_WRITE, Scope.ALERTS_READ}
    p = await env.verifier.verify(sign(RSA_1, claims(scope=["audit:read", "intel:read"])))
    assert p.scopes == {Scope.INTEL_READ}
    p = await env.verifier.verify(sign(RSA_1, claims(scope=_DROP)))
    assert p.scopes == frozenset()


async def test_national_unit_investigator(env: Env) -> None:
    token = sign(RSA_1, claims(agency="NCA-MPU", agency_kind="national_unit",
                               scope="intel:read child:read"))
    p = await env.verifier.verify(token)
    assert p.agency_kind is AgencyKind.NATIONAL_UNIT
    assert p.scopes == {Scope.INTEL_READ, Scope.CHILD_READ}


async def test_configurable_claim_names(env: Env) -> None:
    verifier = env.make(
        agency_claim="https://mpdb.police.uk/agency",
        agency_kind_claim="ext.agency_kind",
        role_claim="roles",
        scope_claim="scp",
    )
    try:
        payload = claims(agency=_DROP, agency_kind=_DROP, role=_DROP, scope=_DROP)
        payload |= {
            "https://mpdb.police.uk/agency": "E06000021",
            "ext": {"agency_kind": "local_authority"},
            "roles": ["social_worker"],
            "scp": ["child:read", "placement:write", "intel:read"],
        }
        p = await verifier.verify(sign(RSA_1, payload))
        assert (p.agency_id, p.agency_kind, p.role) == (
            "E06000021",
            AgencyKind.LOCAL_AUTHORITY,
            Role.SOCIAL_WORKER,
        )
        assert p.scopes == {Scope.CHILD_READ, Scope.PLACEMENT_WRITE}
        # the default claim names are not consulted any more
        await rejected(verifier, sign(RSA_1), MissingClaimError)
    finally:
        await verifier.aclose()


def test_token_error_reasons_are_distinct() -> None:
    classes = [
        MalformedTokenError, UnsupportedAlgorithmError, UnknownKeyError, KeySetUnavailableError,
        InvalidSignatureError, ExpiredTokenError, NotYetValidError, InvalidIssuerError,
        InvalidAudienceError, MissingClaimError, InvalidClaimError, RoleNotAllowedError,
    ]
    assert len({c.reason for c in classes}) == len(classes)
    assert all(issubclass(c, TokenError) for c in classes)
    assert TokenError("x", reason="custom").reason == "custom"


# --- the verified-token cache -------------------------------------------------------------------


class Wall:
    """The verifier's wall clock, moved by the test."""

    def __init__(self) -> None:
        self.t = float(int(time.time()))

    def __call__(self) -> float:
        return self.t


def count_signature_checks(verifier: TokenVerifier, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    checked: list[str] = []
    decode = TokenVerifier._decode

    def spy(token: str, key: Key, alg: str) -> Any:
        checked.append(token)
        return decode(token, key, alg)

    monkeypatch.setattr(verifier, "_decode", spy)
    return checked


async def test_a_verified_token_is_not_checked_again_until_it_expires(env: Env,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    wall = Wall()
    verifier = env.make()
    verifier._clock = wall  # the verifier's own clock (env.clock is the JWKS cache's)
    try:
        checked = count_signature_checks(verifier, monkeypatch)
        exp = int(wall.t) + 60
        token = sign(RSA_1, claims(exp=exp, iat=int(wall.t), nbf=int(wall.t)))
        first = await verifier.verify(token)
        assert await verifier.verify(token) == first
        assert await verifier.verify(" " + token + " ") == first  # the same token as `authenticate` strips it
        assert checked == [token]  # one signature check for three requests
        wall.t = exp + verifier.leeway - 0.001
        assert await verifier.verify(token) == first
        wall.t = exp + verifier.leeway  # the very moment the full check refuses it
        await rejected(verifier, token, ExpiredTokenError)
        await rejected(verifier, token, ExpiredTokenError)
        assert len(checked) == 2  # after expiry the cache no longer answers: the full check refuses it
    finally:
        await verifier.aclose()


async def test_the_cache_never_gives_one_token_s_principal_for_another(env: Env) -> None:
    kent = sign(RSA_1, claims(sub="officer-1", agency="E23000032", agency_kind="police_force"))
    nca = sign(RSA_1, claims(sub="analyst-2", agency="NCA-MPU", agency_kind="national_unit", role="analyst",
                             client_id="nca"))
    kent_es = sign(EC_1, claims(sub="officer-3"))
    for _ in range(3):
        a, b, c = [await env.verifier.verify(t) for t in (kent, nca, kent_es)]
        assert (a.subject, a.agency_id, a.agency_kind, a.role) == ("officer-1", "E23000032",
                                                                   AgencyKind.POLICE_FORCE, Role.INVESTIGATOR)
        assert (b.subject, b.agency_id, b.agency_kind, b.role, b.client_id) == ("analyst-2", "NCA-MPU",
                                                                                AgencyKind.NATIONAL_UNIT,
                                                                                Role.ANALYST, "nca")
        assert (c.subject, c.agency_id) == ("officer-3", "E23000032")
    header, payload, signature = kent.split(".")
    other_signature = nca.split(".")[2]
    await rejected(env.verifier, f"{header}.{payload}.{other_signature}", InvalidSignatureError)


async def test_a_cached_token_is_refused_once_the_issuer_withdraws_its_key(env: Env) -> None:
    token = sign(RSA_1)
    await env.verifier.verify(token)
    env.state.publish(RSA_2, EC_1)  # RSA_1 withdrawn (e.g. compromised)
    await env.verifier.verify(token)  # the key set in hand is still fresh: as without the cache
    env.clock.t += 601  # the JWKS cache lifetime: the next use refetches
    await rejected(env.verifier, token, UnknownKeyError)
    await rejected(env.verifier, token, UnknownKeyError)


async def test_a_cached_token_is_refused_when_no_key_set_can_be_had(env: Env) -> None:
    token = sign(RSA_1)
    await env.verifier.verify(token)
    env.state.status = 503
    env.clock.t += 601
    await rejected(env.verifier, token, KeySetUnavailableError)
    env.state.status = 200
    env.clock.t += 31  # past the early-refresh budget
    assert (await env.verifier.verify(token)).agency_id == "E23000032"


async def test_a_cached_token_follows_the_agency_registry(env: Env) -> None:
    kinds = dict(REGISTRY)

    class Mutable:
        async def kind_of(self, agency_id: str) -> AgencyKind | None:
            kind = kinds.get(agency_id)
            return AgencyKind(kind) if kind else None

        async def aclose(self) -> None:
            return None

    verifier = env.make(registry=Mutable())
    try:
        token = sign(RSA_1, claims(agency_kind=_DROP))
        assert (await verifier.verify(token)).agency_kind is AgencyKind.POLICE_FORCE
        kinds["E23000032"] = "local_authority"  # the registry now says otherwise: the policy decides again
        await rejected(verifier, token, RoleNotAllowedError)
        del kinds["E23000032"]
        await rejected(verifier, token, UnknownAgencyError)
        kinds["E23000032"] = "police_force"
        assert (await verifier.verify(token)).agency_kind is AgencyKind.POLICE_FORCE
    finally:
        await verifier.aclose()


async def test_the_cache_is_bounded(env: Env) -> None:
    verifier = env.make(cache_size=2)
    try:
        tokens = [sign(RSA_1, claims(sub=f"officer-{i}")) for i in range(5)]
        for t in tokens:
            await verifier.verify(t)
        assert list(verifier._verified) == tokens[-2:]
    finally:
        await verifier.aclose()
