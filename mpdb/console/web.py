"""What every console page shares: templates, the signed-in session, CSRF, purpose, headers.

Pages are server-rendered with Jinja and the GOV.UK Frontend macros (govuk-frontend-jinja). Every
response carries `Cache-Control: no-store` (children's records must not sit in a browser or proxy
cache) and a strict Content-Security-Policy: scripts only from this origin, plus the one inline
script of the GOV.UK template, allowed by a per-response nonce.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader, select_autoescape

from mpdb.auth.principal import Scope
from mpdb.console.sessions import SESSION_COOKIE, ConsoleSession, SessionStore

if TYPE_CHECKING:
    from mpdb.ingest.reference import ReferenceData

CONSOLE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = CONSOLE_DIR / "templates"
STATIC_DIR = CONSOLE_DIR / "static"
STATIC_URL = "/static"
# GOV.UK Frontend's compiled CSS asks for its fonts and images under /assets (its default
# $govuk-assets-path), so its vendored assets folder is served there.
GOVUK_ASSETS_URL = "/assets"
GOVUK_ASSETS_DIR = STATIC_DIR / "vendor" / "govuk" / "assets"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


@lru_cache(maxsize=1)
def reference_data() -> "ReferenceData":
    """The reference data files (forces, LAs, agencies), read once per process: they change only
    with a release."""
    from mpdb.ingest.reference import read_reference_data

    return read_reference_data()


@lru_cache(maxsize=1)
def agency_names() -> dict[str, str]:
    """Agency id (GSS code for forces and LAs) -> name, from the reference data files."""
    ref = reference_data()
    names = {code: force.name for code, force in ref.forces.items()}
    names.update({code: la.name for code, la in ref.las.items()})
    names.update({agency.id: agency.name for agency in ref.agencies})
    return names


def agency_name(code: str | None) -> str:
    """An agency's name for display; the code itself when it is not reference data."""
    if not code:
        return "not recorded"
    return agency_names().get(code, code)


def parse_date_input(day: str, month: str, year: str, label: str,
                     example: str = "27 3 2026") -> tuple[date | None, str | None]:
    """A GOV.UK date input's three fields: (the date, None), (None, None) when all are empty, or
    (None, the error message naming `label`) when it is not a whole real date."""
    parts = [p.strip() for p in (day, month, year)]
    if not any(parts):
        return None, None
    if not all(parts):
        missing = [n for n, p in zip(("day", "month", "year"), parts, strict=True) if not p]
        return None, f"{label} must include a " + " and a ".join(missing)
    if not all(p.isdigit() for p in parts) or len(parts[2]) != 4:
        return None, f"{label} must be a real date, for example {example}"
    try:
        return date(int(parts[2]), int(parts[1]), int(parts[0])), None
    except ValueError:
        return None, f"{label} must be a real date, for example {example}"


def _environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader([
            FileSystemLoader(TEMPLATES_DIR),
            PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
        ]),
        autoescape=select_autoescape(["html", "xml"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["agency_name"] = agency_name
    env.filters["la_name"] = agency_name
    return env


templates = Jinja2Templates(env=_environment())


# --- exceptions the console's handlers turn into pages or redirects ------------------------------

class NeedsSignIn(Exception):
    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


class NeedsPurpose(Exception):
    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


class CsrfFailure(Exception):
    pass


# --- sessions -------------------------------------------------------------------------------------

def session_store(request: Request) -> SessionStore:
    return request.app.state.console_sessions  # type: ignore[no-any-return]


def current_session(request: Request) -> ConsoleSession | None:
    return session_store(request).get(request.cookies.get(SESSION_COOKIE))


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def safe_next(url: str | None) -> str:
    """A local path to return to after sign-in or the purpose form; never another site."""
    if not url or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/"
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return "/"
    return url


async def signed_in(request: Request) -> ConsoleSession:
    """Dependency: the session, or a redirect to sign in (and back here afterwards)."""
    session = current_session(request)
    if session is None:
        raise NeedsSignIn(_here(request) if request.method == "GET" else "/")
    request.state.console_session = session
    return session


async def with_purpose(request: Request) -> ConsoleSession:
    """Dependency for pages that show children's records: a purpose must have been given."""
    session = await signed_in(request)
    if not session.purpose:
        raise NeedsPurpose(_here(request))
    return session


async def checked_form(request: Request) -> dict[str, str]:
    """Dependency for every POST: the signed-in session's CSRF token must come back, in the form
    (or the X-CSRF-Token header from a script), and the request must come from our own pages."""
    session = await signed_in(request)
    origin = request.headers.get("origin")
    if origin and origin != f"{request.url.scheme}://{request.url.netloc}":
        raise CsrfFailure()
    form = await request.form()
    supplied = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    if not isinstance(supplied, str) or not hmac.compare_digest(supplied.encode(), session.csrf_token.encode()):
        raise CsrfFailure()
    return {k: v for k, v in form.items() if isinstance(v, str)}


# --- rendering ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NavItem:
    href: str
    text: str


def navigation(session: ConsoleSession | None, graphiql: bool) -> list[NavItem]:
    if session is None:
        return []
    p = session.principal
    items = []
    if p.has(Scope.CHILD_READ):
        items.append(NavItem("/search", "Search children"))
    if p.has(Scope.CHILD_READ, Scope.INTEL_READ):
        items.append(NavItem("/area", "My area"))
        items.append(NavItem("/duties", "Duties"))
    if p.has(Scope.CHILD_READ):
        items.append(NavItem("/duplicates", "Possible duplicates"))
    if p.has(Scope.ALERTS_READ):
        items.append(NavItem("/alerts", "Alerts"))
    if p.has(Scope.INTEL_READ) or p.has(Scope.ANALYTICS_READ):
        items.append(NavItem("/hotspots", "Hot spots"))
    if p.has(Scope.AUDIT_READ):
        items.append(NavItem("/audit", "Audit trail"))
    if graphiql:
        items.append(NavItem("/graphql", "GraphiQL"))
    return items


def security_headers(response: Response, nonce: str, form_targets: str = "") -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    # Child ids in URLs never leave for another site; same-origin (not no-referrer) because with
    # no-referrer browsers send `Origin: null` on our own form posts, which the CSRF check refuses.
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self' 'unsafe-inline'; "  # Leaflet and Cytoscape position elements with style=""
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; object-src 'none'; "
        f"base-uri 'none'; frame-ancestors 'none'; form-action 'self'{form_targets}"
    )
    return response


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    session = getattr(request.state, "console_session", None) or current_session(request)
    settings = request.app.state.settings
    nonce = secrets.token_urlsafe(16)
    response = templates.TemplateResponse(
        request, template,
        {
            "session": session,
            "nav": navigation(session, settings.graphiql_enabled),
            "current_path": request.url.path,
            "here": _here(request),
            "csrf_field": CSRF_FIELD,
            "csrf_token": session.csrf_token if session else "",
            "cspNonce": nonce,
            "assetPath": GOVUK_ASSETS_URL,
            "static": STATIC_URL,
            **context,
        },
        status_code=status_code,
    )
    return security_headers(response, nonce)  # type: ignore[return-value]


def redirect(url: str, status_code: int = 303) -> RedirectResponse:
    response = RedirectResponse(url, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


def sign_in_url(next_url: str) -> str:
    return f"/login?next={quote(safe_next(next_url), safe='')}"
