"""The console as an OIDC relying party, over real HTTP against the dev IdP: the whole
authorization-code + PKCE round trip, and each way a callback is refused without a session."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from mpdb.console.sessions import LOGIN_COOKIE, SESSION_COOKIE
from tests.e2e.test_dev_idp_oidc import parse

pytestmark = pytest.mark.integration


class Person:
    """A browser: a cookie jar that follows nothing by itself, so each hop is checked."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.client = httpx.Client(base_url=base, timeout=60, follow_redirects=False)

    def start(self, next_url: str = "/search") -> httpx.Response:
        login = self.client.get("/login", params={"next": next_url})
        assert login.status_code == 302
        # The cookie is Secure: a browser sends it to http://127.0.0.1 (a secure context), httpx's
        # jar does not, so this browser stand-in carries it over by hand.
        state = login.headers["set-cookie"].split(";")[0].split("=", 1)[1]
        self.client.cookies.set(LOGIN_COOKIE, state, path="/auth/callback")
        return login

    def choose(self, authorize_url: str, user: str, action: str = "sign_in") -> str:
        """The IdP's page: pick `user`; the callback URL the IdP redirects to."""
        page = self.client.get(authorize_url)
        assert page.status_code == 200, page.text
        resp = self.client.post(f"{self.base}/dev-idp/authorize",
                                data={**parse(page.text).hidden, "user": user, "action": action})
        assert resp.status_code == 302, resp.text
        return resp.headers["location"]

    def close(self) -> None:
        self.client.close()


@pytest.fixture
def person(live_server, registered_agencies):  # type: ignore[no-untyped-def]
    p = Person(live_server.base_url)
    yield p
    p.close()


def test_sign_in_round_trip_with_pkce(person) -> None:  # type: ignore[no-untyped-def]
    login = person.start("/search?name=Amy")
    authorize = login.headers["location"]
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize).query).items()}
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["client_id"] == "mpdb-console" and query["redirect_uri"] == f"{person.base}/auth/callback"
    assert "code_verifier" not in authorize  # the verifier never leaves the server
    login_cookie = login.headers["set-cookie"]
    assert f"{LOGIN_COOKIE}={query['state']}" in login_cookie and "HttpOnly" in login_cookie
    assert "Path=/auth/callback" in login_cookie and "SameSite=lax" in login_cookie and "Secure" in login_cookie
    callback = person.client.get(person.choose(authorize, "kent-la-missing-lead"))
    assert callback.status_code == 303 and callback.headers["location"] == "/search?name=Amy"
    session_cookie = [c for c in callback.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE + "=")]
    assert session_cookie and "HttpOnly" in session_cookie[0] and "Secure" in session_cookie[0]
    assert "SameSite=lax" in session_cookie[0]
    person.client.cookies.set(SESSION_COOKIE, session_cookie[0].split(";")[0].split("=", 1)[1])
    home = person.client.get("/")
    assert "(synthetic)" in home.text and "Kent County Council" in home.text
    # signing out ends the session here and at the provider, and comes back to the signed-out page
    token = parse(home.text).hidden["csrf_token"]
    out = person.client.post("/logout", data={"csrf_token": token})
    assert out.status_code == 303 and out.headers["location"].startswith(f"{person.base}/dev-idp/logout?")
    back = person.client.get(out.headers["location"])
    assert back.status_code in (302, 303) and back.headers["location"] == f"{person.base}/auth/signed-out"
    assert person.client.get("/search").status_code == 303


def test_a_callback_not_started_in_this_browser_is_refused(person, live_server) -> None:  # type: ignore[no-untyped-def]
    callback_url = person.choose(person.start().headers["location"], "kent-investigator")
    with httpx.Client(base_url=live_server.base_url, follow_redirects=False) as attacker_victim:
        # login CSRF: someone else's code pushed into a browser that never started the sign-in
        refused = attacker_victim.get(callback_url)
    assert refused.status_code == 400 and "was not started in this browser" in refused.text
    assert SESSION_COOKIE not in refused.headers.get("set-cookie", "")


def test_a_callback_is_good_once(person) -> None:  # type: ignore[no-untyped-def]
    login = person.start()
    state = {k: v[0] for k, v in parse_qs(urlsplit(login.headers["location"]).query).items()}["state"]
    callback_url = person.choose(login.headers["location"], "kent-investigator")
    assert person.client.get(callback_url).status_code == 303
    person.client.cookies.set(LOGIN_COOKIE, state, path="/auth/callback")  # a replay, cookie and all
    again = person.client.get(callback_url)
    assert again.status_code == 400 and "expired or was not started" in again.text


def test_cancelling_at_the_provider_signs_nobody_in(person) -> None:  # type: ignore[no-untyped-def]
    callback_url = person.choose(person.start().headers["location"], "kent-investigator", action="cancel")
    assert "error=access_denied" in callback_url
    resp = person.client.get(callback_url)
    assert resp.status_code == 400 and "access was denied" in resp.text
    assert SESSION_COOKIE not in resp.headers.get("set-cookie", "")


def test_a_next_address_on_another_site_is_ignored(person) -> None:  # type: ignore[no-untyped-def]
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        callback_url = person.choose(person.start(evil).headers["location"], "kent-investigator")
        assert person.client.get(callback_url).headers["location"] == "/"
