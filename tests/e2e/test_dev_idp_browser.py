"""The dev IdP's sign-in page in a real browser: Debian's chromium driven by Playwright (by path).

At 320 px wide with the keyboard only: the page fits, its one stylesheet is allowed by the page's
own Content-Security-Policy, and Tab / arrow keys / Enter sign a person in. A stand-in for
the console's callback (a tiny app under real uvicorn on another loopback port) receives the
redirect; the test reads the code and state the IdP sent there.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Page, sync_playwright

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from conftest import free_port, serve_in_thread
from test_dev_idp_oidc import CONSOLE, Flow, dev_users

CHROMIUM = os.environ.get("MPDB_CHROMIUM", "/usr/bin/chromium")

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium (make browser)")


@pytest.fixture
def page(live_server, registered_agencies) -> Iterator[Page]:  # type: ignore[no-untyped-def]
    # Started after the async fixtures: Playwright's sync API runs an event loop of its own.
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM)
        context = browser.new_context(viewport={"width": 320, "height": 640})
        yield context.new_page()
        context.close()
        browser.close()


def test_sign_in_at_320px_with_the_keyboard(page: Page, live_server) -> None:  # type: ignore[no-untyped-def]
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    callback_app = FastAPI()
    callback_app.get("/auth/callback", response_class=PlainTextResponse)(lambda: "signed in")
    port = free_port()
    callback = f"http://127.0.0.1:{port}/auth/callback"
    flow = Flow.new(redirect_uri=callback)
    page.goto(str(httpx.URL(f"{live_server.base_url}/dev-idp/authorize", params=flow.params)))

    assert page.title() == "Development sign-in – mpdb development identity provider"
    assert page.evaluate("document.documentElement.scrollWidth") <= 320  # no sideways scrolling
    button = page.get_by_role("button", name="Sign in", exact=True)
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(0, 112, 60)"  # CSS applied
    assert problems == []  # e.g. no Content-Security-Policy refusal
    users = dev_users()
    radios = page.get_by_role("radio")
    assert radios.count() == len(users)
    assert page.get_by_role("group", name="Synthetic users").count() == 1
    first = page.get_by_label(users[0]["name"])
    assert first.get_attribute("value") == users[0]["id"]

    # Keyboard only: Tab into the radio group, arrow to the second person, Tab to "Sign in", Enter.
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.type") == "radio":
            break
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.value") == users[1]["id"]
    assert page.get_by_label(users[1]["name"]).is_checked()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Sign in"
    with serve_in_thread(callback_app, port, lifespan="off"), page.expect_navigation(url=f"{callback}?*"):
        page.keyboard.press("Enter")
    assert page.text_content("body") == "signed in"
    q = {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}
    assert set(q) == {"code", "state", "iss"} and q["state"] == flow.params["state"]

    resp = httpx.post(f"{live_server.base_url}/dev-idp/token", data={
        "grant_type": "authorization_code", "code": q["code"], "redirect_uri": callback,
        "client_id": CONSOLE, "code_verifier": flow.verifier})
    assert resp.status_code == 200, resp.text
