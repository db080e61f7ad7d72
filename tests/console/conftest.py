"""Fixtures for the console's HTTP-level tests (pages rendered by the live server, read with httpx).

`console_as(agency, role)` opens a console session for a user of that agency and role the way the
sign-in callback does after a successful OIDC sign-in (a principal with exactly the scopes the policy
gives the role), without driving the provider's pages: the sign-in itself is tested in a real browser
(tests/browser) and in tests/console/test_sign_in.py. Everything after the session cookie is the real
thing: real HTTP, real templates, the API's own operations, real Neo4j, real audit events.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from html.parser import HTMLParser

import httpx
import pytest

from mpdb.auth.policy import get_policy
from mpdb.auth.principal import AgencyKind, Principal, Role
from mpdb.console.sessions import SESSION_COOKIE
from mpdb.ingest.reference import reference_agency_kinds

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


class ConsoleClient(httpx.Client):
    def csrf_token(self, path: str = "/") -> str:
        match = CSRF_INPUT.search(self.get(path).text)
        assert match, f"no CSRF token on {path}"
        return match.group(1)


def console_principal(settings, agency_id: str, role: str, kind: str | None = None) -> Principal:  # type: ignore[no-untyped-def]
    agency_kind = AgencyKind(kind or reference_agency_kinds()[agency_id])
    role_enum = Role(role)
    scopes = get_policy(settings.policy_file).scopes_for(agency_kind, role_enum)
    return Principal(subject=f"test-user:{agency_id}:{role}", client_id="mpdb-console", agency_id=agency_id,
                     agency_kind=agency_kind, role=role_enum, scopes=frozenset(scopes))


@pytest.fixture
def console_as(live_server, registered_agencies) -> Iterator[Callable[..., ConsoleClient]]:  # type: ignore[no-untyped-def]
    clients: list[ConsoleClient] = []
    store = live_server.app.state.console_sessions

    def open_session(agency_id: str, role: str, *, purpose: str | None = "test: console",
                     kind: str | None = None) -> ConsoleClient:
        principal = console_principal(live_server.settings, agency_id, role, kind)
        session = store.create(principal=principal, access_token="not-used-by-the-console",
                               id_token="", user_name=f"Test {role}", agency_name=agency_id,
                               expires_at=time.time() + 900)
        if purpose is not None:
            store.set_purpose(session, purpose)
        client = ConsoleClient(base_url=live_server.base_url, cookies={SESSION_COOKIE: session.id},
                               follow_redirects=False, timeout=60)
        clients.append(client)
        return client

    yield open_session
    for client in clients:
        client.close()


class _TableReader(HTMLParser):
    """Rows of the <table data-testid=...> as lists of cell texts (whitespace collapsed)."""

    def __init__(self, testid: str) -> None:
        super().__init__()
        self.testid = testid
        self.depth = 0  # >0 while inside the wanted table
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None
        self.in_head = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            if self.depth or dict(attrs).get("data-testid") == self.testid:
                self.depth += 1
        elif self.depth == 1:
            if tag == "thead":
                self.in_head = True
            elif tag == "tr" and not self.in_head:
                self.rows.append([])
            elif tag in ("td", "th") and not self.in_head and self.rows:
                self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table" and self.depth:
            self.depth -= 1
        elif self.depth == 1:
            if tag == "thead":
                self.in_head = False
            elif tag in ("td", "th") and self.cell is not None:
                self.rows[-1].append(" ".join(" ".join(self.cell).split()))
                self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def table_rows(html: str, testid: str) -> list[list[str]]:
    """The body rows of the table marked data-testid=`testid`; AssertionError when there is none."""
    assert f'data-testid="{testid}"' in html, f"no table {testid!r} on the page"
    reader = _TableReader(testid)
    reader.feed(html)
    return reader.rows
