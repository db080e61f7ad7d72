"""End to end over real HTTP: OpenID Connect sign-in at the dev IdP (authorization code + PKCE).

The whole app (the conftest's `live_server`: real uvicorn, real Neo4j for the agency registry)
plays the identity provider; the test plays the console (a public client at a loopback redirect
URI that never has to exist: the test reads the redirect's Location instead of following it).
The PKCE pair is made here with hashlib, independently of the code under test.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from mpdb.auth import dev_idp
from mpdb.auth.policy import get_policy
from mpdb.settings import PROJECT_ROOT

CONSOLE = "mpdb-console"
CALLBACK = "http://127.0.0.1:53117/auth/callback"  # RFC 8252 loopback: any port
USERS_FILE = PROJECT_ROOT / "auth" / "dev_users.toml"


# --- the test's own client side -----------------------------------------------------------------


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)  # 64 characters of [A-Za-z0-9_-]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class Flow:
    verifier: str
    params: dict[str, str]

    @classmethod
    def new(cls, **overrides: str | None) -> Flow:
        verifier, challenge = pkce_pair()
        params: dict[str, str | None] = {
            "response_type": "code",
            "client_id": CONSOLE,
            "redirect_uri": CALLBACK,
            "scope": "openid profile",
            "state": secrets.token_urlsafe(16),
            "nonce": secrets.token_urlsafe(16),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        params.update(overrides)
        return cls(verifier, {k: v for k, v in params.items() if v is not None})


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hidden: dict[str, str] = {}
        self.radios: list[str] = []
        self.checked: list[str] = []
        self.labels: dict[str, str] = {}
        self.buttons: list[str] = []
        self.error_code: str | None = None
        self.scripts = 0
        self.external: list[str] = []
        self._label_for: str | None = None
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "input" and a.get("type") == "hidden":
            self.hidden[a["name"] or ""] = a.get("value") or ""
        if tag == "input" and a.get("type") == "radio":
            self.radios.append(a["value"] or "")
            if "checked" in a:
                self.checked.append(a["value"] or "")
        if tag == "label":
            self._label_for = a.get("for")
            self.labels[self._label_for or ""] = ""
        if tag == "button":
            self._in = "button"
            self.buttons.append("")
        if tag == "code" and a.get("id") == "error-code":
            self._in = "error-code"
        if tag == "script":
            self.scripts += 1
        for name in ("src", "href"):
            if (a.get(name) or "").startswith(("http:", "https:", "//")):
                self.external.append(a[name] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._label_for = None
        if tag in ("button", "code"):
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._label_for is not None:
            self.labels[self._label_for] += data
        if self._in == "button":
            self.buttons[-1] += data
        if self._in == "error-code":
            self.error_code = (self.error_code or "") + data


def parse(html: str) -> _Form:
    form = _Form()
    form.feed(html)
    return form


def query_of(location: str) -> dict[str, str]:
    parsed = {k: v for k, v in parse_qs(urlsplit(location).query, keep_blank_values=True).items()}
    assert all(len(v) == 1 for v in parsed.values()), location
    return {k: v[0] for k, v in parsed.items()}


@dataclass
class Browser:
    """An httpx client with a cookie jar, standing in for the person's browser."""

    base: str
    client: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))

    @property
    def idp(self) -> str:
        return f"{self.base}/dev-idp"

    def authorize(self, flow: Flow, **extra: str) -> httpx.Response:
        return self.client.get(f"{self.idp}/authorize", params={**flow.params, **extra})

    def submit(self, form: dict[str, str]) -> httpx.Response:
        return self.client.post(f"{self.idp}/authorize", data=form)

    def sign_in(self, flow: Flow, user: str) -> dict[str, str]:
        """Choose `user` on the sign-in page; the callback's query parameters."""
        page = self.authorize(flow)
        assert page.status_code == 200, page.text
        resp = self.submit({**parse(page.text).hidden, "user": user, "action": "sign_in"})
        assert resp.status_code == 302, resp.text
        location = resp.headers["location"]
        assert location.startswith(CALLBACK + "?"), location
        return query_of(location)

    def token(self, **form: str) -> httpx.Response:
        return self.client.post(f"{self.idp}/token", data=form)

    def redeem(self, flow: Flow, code: str, /, **overrides: str | None) -> httpx.Response:
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": flow.params["redirect_uri"],
                "client_id": CONSOLE, "code_verifier": flow.verifier, **overrides}
        return self.token(**{k: v for k, v in form.items() if v is not None})


@pytest.fixture
def browser(live_server, registered_agencies) -> Iterator[Browser]:  # type: ignore[no-untyped-def]
    b = Browser(live_server.base_url)
    yield b
    b.client.close()


def signed_in(browser: Browser, user: str, **overrides: str | None) -> tuple[Flow, dict[str, Any]]:
    flow = Flow.new(**overrides)
    callback = browser.sign_in(flow, user)
    resp = browser.redeem(flow, callback["code"])
    assert resp.status_code == 200, resp.text
    return flow, resp.json()


def claims_of(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    header, payload, _ = token.split(".")
    return _json_part(header), _json_part(payload)


def _json_part(part: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def dev_users() -> list[dict[str, str]]:
    return tomllib.loads(USERS_FILE.read_text(encoding="utf-8"))["users"]


def assert_redirected_error(resp: httpx.Response, flow: Flow, error: str, issuer: str) -> dict[str, str]:
    assert resp.status_code == 302, resp.text
    location = resp.headers["location"]
    assert location.startswith(flow.params["redirect_uri"] + "?"), location
    q = query_of(location)
    assert q["error"] == error, q
    assert q.get("state") == flow.params.get("state")  # echoed exactly, or absent when not sent
    assert q["iss"] == issuer
    assert "code" not in q
    return q


def assert_error_page(resp: httpx.Response, status: int, error: str) -> None:
    assert resp.status_code == status, resp.text
    assert "location" not in resp.headers
    assert resp.headers["content-type"].startswith("text/html")
    assert parse(resp.text).error_code == error


# --- discovery ------------------------------------------------------------------------------------


def test_discovery_advertises_the_code_flow(browser: Browser) -> None:
    conf = browser.client.get(f"{browser.idp}/.well-known/openid-configuration").json()
    issuer = browser.idp
    assert conf["issuer"] == issuer
    assert conf["authorization_endpoint"] == f"{issuer}/authorize"
    assert conf["token_endpoint"] == f"{issuer}/token"
    assert conf["end_session_endpoint"] == f"{issuer}/logout"
    assert conf["jwks_uri"] == f"{issuer}/jwks.json"
    assert conf["response_types_supported"] == ["code"]
    assert conf["grant_types_supported"] == ["client_credentials", "authorization_code"]
    assert conf["code_challenge_methods_supported"] == ["S256"]
    assert conf["token_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post", "none"]
    assert conf["id_token_signing_alg_values_supported"] == ["RS256"]
    assert conf["scopes_supported"][:2] == ["openid", "profile"]
    assert conf["claims_supported"] == ["agency", "agency_kind", "agency_name", "at_hash", "aud", "auth_time",
                                        "exp", "iat", "iss", "name", "nonce", "preferred_username", "role", "sub"]
    assert conf["authorization_response_iss_parameter_supported"] is True


# --- the sign-in page -------------------------------------------------------------------------------


def test_sign_in_page_lists_exactly_the_users_of_the_file(browser: Browser) -> None:
    resp = browser.authorize(Flow.new())
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "text/html; charset=utf-8"
    assert resp.headers["cache-control"] == "no-store"
    assert resp.headers["x-frame-options"] == "DENY"
    csp = resp.headers["content-security-policy"]
    assert csp.startswith("default-src 'none'; style-src 'sha256-") and "frame-ancestors 'none'" in csp
    page = parse(resp.text)
    users = dev_users()
    assert page.radios == [u["id"] for u in users]
    assert page.checked == []
    agency_names = {"E23000032": "Kent Police", "E23000015": "Staffordshire Police",
                    "E10000016": "Kent County Council", "E08000025": "Birmingham",
                    "E06000021": "Stoke-on-Trent City Council", "RHI-KENT-01": "Kent Return Home Interview Service (sample provider)",
                    "NCA-MPU": "NCA UK Missing Persons Unit", "OFSTED": "Ofsted"}
    role_labels = {"la_missing_lead": "LA missing lead", "rhi_practitioner": "RHI practitioner"}
    assert page.labels == {
        f"user-{u['id']}": f"{u['name']} {agency_names[u['agency_id']]} ({u['agency_id']}), "
                           f"{role_labels.get(u['role'], u['role'].replace('_', ' '))}"
        for u in users
    }
    assert [b.strip() for b in page.buttons] == ["Sign in", "Cancel"]
    assert "<h1>Development sign-in: choose a synthetic user</h1>" in resp.text
    assert '<html lang="en-GB">' in resp.text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in resp.text
    assert page.scripts == 0 and page.external == []
    assert set(page.hidden) == {"response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
                                "code_challenge", "code_challenge_method", "csrf_token"}
    assert resp.cookies.get(dev_idp.CSRF_COOKIE)
    cookie = resp.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/dev-idp" in cookie


def test_login_hint_preselects_a_user(browser: Browser) -> None:
    page = parse(browser.authorize(Flow.new(), login_hint="stoke-la-missing-lead").text)
    assert page.checked == ["stoke-la-missing-lead"]
    page = parse(browser.authorize(Flow.new(), login_hint="nobody-at-all").text)
    assert page.checked == []


# --- the whole flow ---------------------------------------------------------------------------------


def test_full_flow_then_graphql(browser: Browser, live_server) -> None:  # type: ignore[no-untyped-def]
    flow = Flow.new()
    before = int(time.time())
    callback = browser.sign_in(flow, "kent-investigator")
    assert set(callback) == {"code", "state", "iss"}
    assert callback["state"] == flow.params["state"] and callback["iss"] == browser.idp
    assert len(callback["code"]) >= 43

    resp = browser.redeem(flow, callback["code"])
    assert resp.status_code == 200, resp.text
    assert resp.headers["cache-control"] == "no-store"
    body = resp.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "id_token", "scope"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    investigator = ["alerts:read", "child:read", "child:read:sensitive", "episode:write", "flag:write",
                    "identity:review", "intel:read", "notification:write"]
    assert body["scope"] == " ".join(["openid", "profile", *investigator])

    header, access = claims_of(body["access_token"])
    assert header["typ"] == "at+jwt" and header["alg"] == "RS256"
    assert {k: access[k] for k in ("iss", "aud", "sub", "client_id", "agency", "agency_kind", "role", "scope")} == {
        "iss": browser.idp, "aud": "mpdb", "sub": "kent-investigator", "client_id": CONSOLE,
        "agency": "E23000032", "agency_kind": "police_force", "role": "investigator",
        "scope": " ".join(investigator),
    }

    # The ID token, verified as a relying party would: against the published JWKS.
    jwks = KeySet.import_key_set(browser.client.get(f"{browser.idp}/jwks.json").json())
    id_token = jwt.decode(body["id_token"], jwks, algorithms=["RS256"])
    assert id_token.header["typ"] == "JWT" and id_token.header["kid"] == header["kid"]
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": browser.idp},
        aud={"essential": True, "value": CONSOLE},
        nonce={"essential": True, "value": flow.params["nonce"]},
        sub={"essential": True, "value": "kent-investigator"},
    ).validate(id_token.claims)
    c = id_token.claims
    assert {k: c[k] for k in ("name", "agency", "agency_name", "agency_kind", "role", "preferred_username")} == {
        "name": "DC Alex Morgan (synthetic)", "agency": "E23000032", "agency_name": "Kent Police",
        "agency_kind": "police_force", "role": "investigator", "preferred_username": "kent-investigator",
    }
    assert before <= c["auth_time"] <= c["iat"] < c["exp"] == c["iat"] + 900
    digest = hashlib.sha256(body["access_token"].encode()).digest()
    assert c["at_hash"] == base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()

    # The access token is an API token like any other.
    gql = live_server.graphql("{ forces { code } }", token=body["access_token"])
    assert gql.status_code == 200, gql.text
    assert "E23000032" in [f["code"] for f in gql.json()["data"]["forces"]]
    absent = live_server.graphql('{ child(id: "NO-SUCH-CHILD") { id } }', token=body["access_token"])
    assert absent.json() == {"data": {"child": None}}
    # The ID token is not: it is for the console (aud), not the API.
    refused = live_server.graphql("{ forces { code } }", token=body["id_token"])
    assert refused.status_code == 401
    assert "not intended for this API" in refused.headers["www-authenticate"]


@pytest.mark.parametrize(
    ("user", "agency", "kind", "role"),
    [
        ("kent-analyst", "E23000032", "police_force", "analyst"),
        ("staffordshire-investigator", "E23000015", "police_force", "investigator"),
        ("kent-la-missing-lead", "E10000016", "local_authority", "la_missing_lead"),
        ("birmingham-la-missing-lead", "E08000025", "local_authority", "la_missing_lead"),
        ("stoke-la-missing-lead", "E06000021", "local_authority", "la_missing_lead"),
        ("kent-la-analyst", "E10000016", "local_authority", "analyst"),
        ("nca-investigator", "NCA-MPU", "national_unit", "investigator"),
        ("nca-auditor", "NCA-MPU", "national_unit", "auditor"),
    ],
)
def test_each_user_gets_its_agency_role_and_the_policy_scopes(  # type: ignore[no-untyped-def]
    browser: Browser, live_server, user: str, agency: str, kind: str, role: str
) -> None:
    _, body = signed_in(browser, user)
    _, access = claims_of(body["access_token"])
    scopes = sorted(s.value for s in get_policy().scopes_for(kind, role))
    assert (access["sub"], access["agency"], access["agency_kind"], access["role"], access["scope"]) == (
        user, agency, kind, role, " ".join(scopes))
    # What the role may ask the API, and what it may not (the policy, not the console, decides).
    audit = live_server.graphql("{ auditEvents(first: 1) { nodes { id } } }", token=body["access_token"]).json()
    if "audit:read" in scopes:
        assert "errors" not in audit, audit
    else:
        assert audit["data"] is None
        assert [e["extensions"]["code"] for e in audit["errors"]] == ["FORBIDDEN"]
    child = live_server.graphql('{ child(id: "NO-SUCH-CHILD") { id } }', token=body["access_token"]).json()
    if "child:read" in scopes:
        assert child == {"data": {"child": None}}
    else:
        assert [e["extensions"]["code"] for e in child["errors"]] == ["FORBIDDEN"]


def test_asked_api_scopes_narrow_the_access_token(browser: Browser) -> None:
    _, body = signed_in(browser, "kent-la-missing-lead", scope="openid child:read intel:read audit:read")
    assert body["scope"] == "openid child:read intel:read"  # audit:read is not the role's: not granted
    assert claims_of(body["access_token"])[1]["scope"] == "child:read intel:read"


def test_state_and_nonce_come_back_byte_for_byte(browser: Browser) -> None:
    # Opaque to the IdP: escaped in the page's hidden fields, never interpreted.
    state, nonce = '"><script>alert(1)</script>&amp; é+/=?', "n'<b>ü</b> %20"
    flow, body = signed_in(browser, "kent-la-analyst", state=state, nonce=nonce)
    assert claims_of(body["id_token"])[1]["nonce"] == nonce
    page = browser.authorize(Flow.new(state=state))
    assert "<script>" not in page.text and parse(page.text).hidden["state"] == state
    assert browser.sign_in(Flow.new(state=state), "kent-la-analyst")["state"] == state


def test_localhost_loopback_any_port(browser: Browser) -> None:
    flow = Flow.new(redirect_uri="http://localhost:8711/auth/callback")
    page = browser.authorize(flow)
    resp = browser.submit({**parse(page.text).hidden, "user": "nca-auditor"})
    assert resp.status_code == 302
    assert resp.headers["location"].startswith("http://localhost:8711/auth/callback?code=")
    assert browser.redeem(flow, query_of(resp.headers["location"])["code"]).status_code == 200


# --- the token endpoint refuses ---------------------------------------------------------------------


def _code(browser: Browser, user: str = "kent-investigator", **overrides: str | None) -> tuple[Flow, str]:
    flow = Flow.new(**overrides)
    return flow, browser.sign_in(flow, user)["code"]


def _refused(resp: httpx.Response, error: str, description: str, status: int = 400) -> None:
    assert resp.status_code == status, resp.text
    assert resp.json() == {"error": error, "error_description": description}
    assert resp.headers["cache-control"] == "no-store"


def test_wrong_code_verifier(browser: Browser) -> None:
    flow, code = _code(browser)
    other_verifier, _ = pkce_pair()
    _refused(browser.redeem(flow, code, code_verifier=other_verifier),
             "invalid_grant", "code_verifier does not match the code_challenge")
    # the failed attempt used the code up: a stolen code gives one guess
    _refused(browser.redeem(flow, code), "invalid_grant", "authorization code was already used")


def test_replayed_code(browser: Browser) -> None:
    flow, code = _code(browser)
    assert browser.redeem(flow, code).status_code == 200
    _refused(browser.redeem(flow, code), "invalid_grant", "authorization code was already used")


def test_expired_code(browser: Browser, monkeypatch: pytest.MonkeyPatch) -> None:
    flow, code = _code(browser)
    issued = time.time()
    monkeypatch.setattr(dev_idp, "_now", lambda: issued + dev_idp.CODE_TTL_SECONDS + 1)
    _refused(browser.redeem(flow, code), "invalid_grant", "authorization code has expired")


def test_code_just_within_its_lifetime(browser: Browser, monkeypatch: pytest.MonkeyPatch) -> None:
    flow, code = _code(browser)
    issued = time.time()
    monkeypatch.setattr(dev_idp, "_now", lambda: issued + dev_idp.CODE_TTL_SECONDS - 5)
    assert browser.redeem(flow, code).status_code == 200


def test_wrong_redirect_uri(browser: Browser) -> None:
    flow, code = _code(browser)
    # registered too (another loopback port), but not the one the code was issued for
    _refused(browser.redeem(flow, code, redirect_uri="http://127.0.0.1:53118/auth/callback"),
             "invalid_grant", "redirect_uri does not match the authorization request")


def test_unknown_code(browser: Browser) -> None:
    flow = Flow.new()
    _refused(browser.redeem(flow, secrets.token_urlsafe(32)), "invalid_grant", "authorization code is not valid")


@pytest.mark.parametrize(
    ("overrides", "error", "description"),
    [
        ({"code_verifier": None}, "invalid_request", "code_verifier required"),
        ({"code": None, "redirect_uri": None}, "invalid_request", "code, redirect_uri required"),
        ({"code_verifier": "too-short"}, "invalid_request",
         "code_verifier must be 43-128 characters of [A-Za-z0-9-._~] (RFC 7636)"),
        ({"grant_type": "client_credentials"}, "unauthorized_client", "this client may not use client_credentials"),
        ({"grant_type": "password"}, "unsupported_grant_type",
         "only client_credentials and authorization_code are supported"),
    ],
)
def test_token_request_errors(browser: Browser, overrides: dict[str, str | None], error: str,
                              description: str) -> None:
    flow, code = _code(browser)
    _refused(browser.redeem(flow, code, **overrides), error, description)  # type: ignore[arg-type]


def test_client_authentication_for_the_code_grant(browser: Browser) -> None:
    flow, code = _code(browser)
    # A public client has no secret: sending one is a failed authentication, not a bonus.
    _refused(browser.redeem(flow, code, client_secret="dev-only-anything"), "invalid_client",
             "client authentication failed", 401)
    # A confidential client that is not registered for the grant may not use it (nor the code).
    resp = browser.client.post(f"{browser.idp}/token", auth=("kent-police", "dev-only-kent-police-secret"),
                               data={"grant_type": "authorization_code", "code": code,
                                     "redirect_uri": CALLBACK, "code_verifier": flow.verifier})
    _refused(resp, "unauthorized_client", "this client may not use authorization_code")
    # No client at all
    resp = browser.token(grant_type="authorization_code", code=code, redirect_uri=CALLBACK,
                         code_verifier=flow.verifier)
    _refused(resp, "invalid_client", "client authentication required", 401)
    # The code was never presented by its client, so it still works.
    assert browser.redeem(flow, code).status_code == 200


# --- the authorization endpoint refuses ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"client_id": "no-such-client"}, "invalid_client"),
        ({"client_id": None}, "invalid_request"),
        ({"redirect_uri": None}, "invalid_request"),
        ({"redirect_uri": "https://evil.example/auth/callback"}, "invalid_redirect_uri"),
        ({"redirect_uri": "http://127.0.0.1:53117/auth/other"}, "invalid_redirect_uri"),
        ({"redirect_uri": "http://127.0.0.1:53117/auth/callback?next=/x"}, "invalid_redirect_uri"),
        ({"redirect_uri": "http://127.0.0.1:53117/auth/callback#frag"}, "invalid_redirect_uri"),
        ({"redirect_uri": "http://127.0.0.1.evil.example:53117/auth/callback"}, "invalid_redirect_uri"),
        ({"redirect_uri": "http://evil@127.0.0.1:53117/auth/callback"}, "invalid_redirect_uri"),
        ({"redirect_uri": "https://127.0.0.1:53117/auth/callback"}, "invalid_redirect_uri"),
        ({"redirect_uri": "http://127.0.0.1:99999/auth/callback"}, "invalid_redirect_uri"),
        ({"redirect_uri": "http://[::2]:53117/auth/callback"}, "invalid_redirect_uri"),
        # a confidential sample-agency client has no redirect URIs at all
        ({"client_id": "kent-police"}, "invalid_redirect_uri"),
    ],
)
def test_untrusted_client_or_redirect_uri_is_an_html_page_never_a_redirect(
    browser: Browser, overrides: dict[str, str | None], error: str
) -> None:
    assert_error_page(browser.authorize(Flow.new(**overrides)), 400, error)


def test_repeated_redirect_uri_is_an_html_page(browser: Browser) -> None:
    flow = Flow.new()
    resp = browser.client.get(f"{browser.idp}/authorize",
                              params=[*flow.params.items(), ("redirect_uri", "https://evil.example/cb")])
    assert_error_page(resp, 400, "invalid_request")


@pytest.mark.parametrize(
    ("overrides", "error", "description"),
    [
        ({"code_challenge_method": "plain"}, "invalid_request", "code_challenge_method must be S256"),
        ({"code_challenge_method": None}, "invalid_request", "code_challenge_method must be S256"),
        ({"code_challenge": None}, "invalid_request", "code_challenge is required (PKCE)"),
        ({"code_challenge": "not-a-sha256-digest"}, "invalid_request",
         "code_challenge is not a base64url SHA-256 digest"),
        ({"response_type": "token"}, "unsupported_response_type", "only response_type=code is supported"),
        ({"response_type": None}, "invalid_request", "response_type is required"),
        ({"scope": "profile"}, "invalid_scope", "scope must include openid"),
        ({"scope": "openid email"}, "invalid_scope", "unknown scope(s): email"),
        ({"nonce": None}, "invalid_request", "nonce is required (it binds the ID token to the session)"),
        ({"state": None}, "invalid_request", "state is required (it protects the client from CSRF)"),
        ({"state": "s" * 513}, "invalid_request", "state is longer than 512 characters"),
        ({"response_mode": "fragment"}, "invalid_request", "only response_mode=query is supported"),
        ({"prompt": "none"}, "login_required", "the development IdP keeps no session: sign in"),
    ],
)
def test_other_errors_go_back_to_the_client_with_the_state(
    browser: Browser, overrides: dict[str, str | None], error: str, description: str
) -> None:
    flow = Flow.new(**overrides)
    q = assert_redirected_error(browser.authorize(flow), flow, error, browser.idp)
    assert q["error_description"] == description


def test_repeated_parameter_goes_back_to_the_client(browser: Browser) -> None:
    flow = Flow.new()
    resp = browser.client.get(f"{browser.idp}/authorize", params=[*flow.params.items(), ("scope", "openid")])
    q = assert_redirected_error(resp, flow, "invalid_request", browser.idp)
    assert q["error_description"] == "repeated parameter(s): scope"


# --- the sign-in form refuses ---------------------------------------------------------------------------


def _form(browser: Browser, flow: Flow | None = None) -> dict[str, str]:
    page = browser.authorize(flow or Flow.new())
    return {**parse(page.text).hidden, "user": "kent-investigator", "action": "sign_in"}


def test_csrf_token_missing(browser: Browser) -> None:
    form = _form(browser)
    del form["csrf_token"]
    assert_error_page(browser.submit(form), 403, "invalid_csrf_token")


def test_csrf_token_forged(browser: Browser) -> None:
    form = _form(browser)
    issued = form["csrf_token"].split(".")[0]
    form["csrf_token"] = f"{issued}.{base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b'=').decode()}"
    assert_error_page(browser.submit(form), 403, "invalid_csrf_token")
    form["csrf_token"] = "garbage"
    assert_error_page(browser.submit(form), 403, "invalid_csrf_token")


@pytest.mark.parametrize("field_name", ["redirect_uri", "state", "code_challenge", "nonce", "scope"])
def test_csrf_token_bound_to_the_request_parameters(browser: Browser, field_name: str) -> None:
    form = _form(browser)
    other = Flow.new(redirect_uri="http://127.0.0.1:40000/auth/callback", scope="openid").params
    assert other[field_name] != form[field_name]
    form[field_name] = other[field_name]  # an attacker's own request, with the victim's form token
    assert_error_page(browser.submit(form), 403, "invalid_csrf_token")


def test_csrf_token_bound_to_the_browser(browser: Browser) -> None:
    form = _form(browser)
    with httpx.Client(timeout=30) as other_browser:  # no cookie from the sign-in page
        assert_error_page(other_browser.post(f"{browser.idp}/authorize", data=form), 403, "invalid_csrf_token")
        other_browser.cookies.set(dev_idp.CSRF_COOKIE, "someone-elses-cookie", path="/dev-idp")
        assert_error_page(other_browser.post(f"{browser.idp}/authorize", data=form), 403, "invalid_csrf_token")
    assert browser.submit(form).status_code == 302  # and it still works from its own browser


def test_sign_in_page_expires(browser: Browser, monkeypatch: pytest.MonkeyPatch) -> None:
    form = _form(browser)
    shown = time.time()
    monkeypatch.setattr(dev_idp, "_now", lambda: shown + dev_idp.FORM_TTL_SECONDS + 2)
    resp = browser.submit(form)
    assert_error_page(resp, 403, "invalid_csrf_token")
    assert "expired" in resp.text


@pytest.mark.parametrize("user", [None, "nobody-at-all"])
def test_no_or_unknown_user_chosen(browser: Browser, user: str | None) -> None:
    form = _form(browser)
    if user is None:
        del form["user"]
    else:
        form["user"] = user
    resp = browser.submit(form)
    assert resp.status_code == 400 and "location" not in resp.headers
    assert 'role="alert"' in resp.text and "Choose a synthetic user to sign in as" in resp.text
    page = parse(resp.text)
    assert page.radios == [u["id"] for u in dev_users()]
    form = {**page.hidden, "user": "kent-analyst", "action": "sign_in"}  # and the re-shown page works
    assert browser.submit(form).status_code == 302


def test_cancel(browser: Browser) -> None:
    flow = Flow.new()
    form = {**_form(browser, flow), "action": "cancel"}
    q = assert_redirected_error(browser.submit(form), flow, "access_denied", browser.idp)
    assert q["error_description"] == "the user cancelled sign-in"


def test_post_with_untrusted_redirect_uri_is_a_page(browser: Browser) -> None:
    form = _form(browser)
    form["redirect_uri"] = "https://evil.example/auth/callback"
    assert_error_page(browser.submit(form), 400, "invalid_redirect_uri")


# --- sign-out ---------------------------------------------------------------------------------------------


def test_logout_redirects_to_a_registered_uri_only(browser: Browser) -> None:
    logout = f"{browser.idp}/logout"
    resp = browser.client.get(logout, params={"post_logout_redirect_uri": "http://127.0.0.1:8711/",
                                              "client_id": CONSOLE, "state": "s1"})
    assert resp.status_code == 302 and resp.headers["location"] == "http://127.0.0.1:8711/?state=s1"
    resp = browser.client.get(logout, params={"post_logout_redirect_uri": "http://localhost:9000/auth/signed-out",
                                              "client_id": CONSOLE})
    assert resp.status_code == 302 and resp.headers["location"] == "http://localhost:9000/auth/signed-out"

    for params, error in [
        ({"post_logout_redirect_uri": "https://evil.example/", "client_id": CONSOLE},
         "invalid_post_logout_redirect_uri"),
        ({"post_logout_redirect_uri": "http://127.0.0.1:8711/auth/callback", "client_id": CONSOLE},
         "invalid_post_logout_redirect_uri"),
        ({"post_logout_redirect_uri": "http://127.0.0.1:8711/", "client_id": "no-such-client"}, "invalid_client"),
        ({"post_logout_redirect_uri": "http://127.0.0.1:8711/"}, "invalid_request"),
        ({"post_logout_redirect_uri": "http://127.0.0.1:8711/", "id_token_hint": "not.a.token"}, "invalid_request"),
    ]:
        assert_error_page(browser.client.get(logout, params=params), 400, error)

    resp = browser.client.get(logout)
    assert resp.status_code == 200 and "<h1>Signed out</h1>" in resp.text


def test_logout_with_id_token_hint(browser: Browser) -> None:
    _, body = signed_in(browser, "kent-la-missing-lead")
    resp = browser.client.get(f"{browser.idp}/logout", params={
        "post_logout_redirect_uri": "http://127.0.0.1:8711/auth/signed-out", "id_token_hint": body["id_token"]})
    assert resp.status_code == 302 and resp.headers["location"] == "http://127.0.0.1:8711/auth/signed-out"
    # an access token is not an ID token of the console: its audience is the API
    resp = browser.client.get(f"{browser.idp}/logout", params={
        "post_logout_redirect_uri": "http://127.0.0.1:8711/", "id_token_hint": body["access_token"]})
    assert_error_page(resp, 400, "invalid_client")
