"""Copy the console's front-end files from node_modules (installed by `npm ci` from the lockfile
beside this file) into mpdb/console/static/vendor/, which is git-ignored and served at
/console/static/vendor/. Run by `make setup`; idempotent (a file is copied only when it changed).

Only the built files the pages load are copied, so the served tree is small and reviewable:
the list below is the whole of the third-party code a browser ever receives.
"""

from __future__ import annotations

import filecmp
import shutil
import sys
from pathlib import Path

ASSETS = Path(__file__).resolve().parent
MODULES = ASSETS / "node_modules"
VENDOR = ASSETS.parent / "static" / "vendor"

# (source under node_modules, destination under static/vendor); a directory is copied whole.
FILES: tuple[tuple[str, str], ...] = (
    ("govuk-frontend/dist/govuk/govuk-frontend.min.css", "govuk/govuk-frontend.min.css"),
    ("govuk-frontend/dist/govuk/govuk-frontend.min.js", "govuk/govuk-frontend.min.js"),
    ("govuk-frontend/dist/govuk/assets", "govuk/assets"),
    ("cytoscape/dist/cytoscape.min.js", "cytoscape/cytoscape.min.js"),
    ("leaflet/dist/leaflet.js", "leaflet/leaflet.js"),
    ("leaflet/dist/leaflet.css", "leaflet/leaflet.css"),
    ("leaflet/dist/images", "leaflet/images"),
    ("graphiql/graphiql.min.js", "graphiql/graphiql.min.js"),
    ("graphiql/graphiql.min.css", "graphiql/graphiql.min.css"),
    ("react/umd/react.production.min.js", "react/react.production.min.js"),
    ("react-dom/umd/react-dom.production.min.js", "react-dom/react-dom.production.min.js"),
    ("graphql-ws/umd/graphql-ws.min.js", "graphql-ws/graphql-ws.min.js"),  # the alerts page's live list
)


def _copy_file(src: Path, dst: Path) -> bool:
    if dst.exists() and filecmp.cmp(src, dst, shallow=False):
        return False
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)
    return True


def vendor() -> int:
    """Copy every listed file; returns how many were (re)copied. Raises when one is missing."""
    missing = [src for src, _ in FILES if not (MODULES / src).exists()]
    if missing:
        raise FileNotFoundError(
            "not in node_modules (run `npm ci` in mpdb/console/assets): " + ", ".join(missing))
    copied = 0
    for src, dst in FILES:
        source, target = MODULES / src, VENDOR / dst
        if source.is_dir():
            for file in sorted(p for p in source.rglob("*") if p.is_file()):
                copied += _copy_file(file, target / file.relative_to(source))
        else:
            copied += _copy_file(source, target)
    return copied


def main() -> int:
    try:
        copied = vendor()
    except FileNotFoundError as exc:
        print(f"console assets: {exc}", file=sys.stderr)
        return 2
    print(f"console assets: {copied} file(s) updated in {VENDOR.relative_to(ASSETS.parents[2])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
