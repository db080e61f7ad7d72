"""Real-browser fixtures: Playwright (PyPI) driving Debian's chromium by path, headless.

Playwright's async API on the session's event loop (pytest-asyncio, as the rest of the suite): its
sync API would leave its own loop marked as running in the main thread and break every async test
that runs after it. So browser tests are `async def` and `await page.goto(...)`.

No `playwright install`: the browser is the machine's /usr/bin/chromium (`make browser` installs it;
MPDB_CHROMIUM points elsewhere). `browser` is one chromium for the whole session; `offline_page`
is a fresh context and page that refuses, and records, every request not to 127.0.0.1, so a test can
prove that nothing is fetched from outside (no CDN, no map tiles).
"""

from __future__ import annotations

import os
import threading
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import pytest_asyncio

from mpdb.settings import PROJECT_ROOT

CHROMIUM = Path(os.environ.get("MPDB_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
LOCAL_HOSTS = {"127.0.0.1"}


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[object]:
    """A headless chromium (playwright.async_api.Browser) shared by the session's browser tests."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: run `make browser` (Debian's chromium) or set MPDB_CHROMIUM")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()


@dataclass
class OfflinePage:
    page: object  # playwright.async_api.Page
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    external_requests: list[str] = field(default_factory=list)  # refused: not to 127.0.0.1
    console_errors: list[str] = field(default_factory=list)  # console.error, failed loads
    page_errors: list[str] = field(default_factory=list)  # uncaught JavaScript exceptions


@pytest_asyncio.fixture(loop_scope="session")
async def offline_page(browser) -> AsyncIterator[OfflinePage]:
    context = await browser.new_context(viewport={"width": 1024, "height": 768})
    page = await context.new_page()
    out = OfflinePage(page)

    async def guard(route) -> None:
        url = route.request.url
        out.requests.append(url)
        if urlsplit(url).hostname in LOCAL_HOSTS or url.startswith(("data:", "blob:", "about:")):
            await route.continue_()
        else:
            out.external_requests.append(url)
            await route.abort()

    await context.route("**/*", guard)
    page.on("console", lambda m: out.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: out.page_errors.append(str(e)))
    try:
        yield out
    finally:
        await context.close()


class _MountedHandler(SimpleHTTPRequestHandler):
    """Serves several folders under URL prefixes, read-only; anything else is a 404."""

    mounts: Mapping[str, Path] = {}

    def translate_path(self, path: str) -> str:
        path = unquote(urlsplit(path).path)
        for prefix, folder in self.mounts.items():
            if path.startswith(prefix):
                target = (folder / path[len(prefix):]).resolve()
                if target.is_relative_to(folder.resolve()):
                    return str(target)
        return str(PROJECT_ROOT / ".no-such-path")

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass


STATIC_MOUNTS: Mapping[str, Path] = {
    "/static/": PROJECT_ROOT / "mpdb" / "console" / "static",
    "/geo/outlines/": PROJECT_ROOT / "seed" / "reference" / "outlines",
    "/fixtures/": Path(__file__).resolve().parent / "fixtures",
}


@pytest.fixture(scope="session")
def static_site() -> Iterator[str]:
    """http://127.0.0.1:<port>: the console's static folder at /static/, the map outlines at
    /geo/outlines/ and tests/browser/fixtures/ at /fixtures/, for testing front-end code without
    the app."""
    handler = type("Handler", (_MountedHandler,), {"mounts": STATIC_MOUNTS})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
