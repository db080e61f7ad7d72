"""How long each console page takes to render, server-side, on the loaded data set (target: < 300 ms
on `demo`).

Serves the real app (API + console) with uvicorn on a free port over the configured Neo4j (the dev
database `make run` seeds, or MPDB_STATE_DIR / NEO4J_URI), opens console sessions for a few users the
way the sign-in callback does (a principal with exactly the scopes its role has), and requests each
page sequentially: every page runs its GraphQL operations in-process and writes its audit events,
as in use. Prints p50 / p95 / max per page with the load average, so a noisy machine shows.

    .venv/bin/python -m bench.console_pages [--rounds 20]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import threading
import time

import httpx
import uvicorn

from mpdb.api.app import create_app
from mpdb.auth.policy import get_policy
from mpdb.auth.principal import AgencyKind, Principal, Role
from mpdb.console.sessions import SESSION_COOKIE
from mpdb.ingest.reference import reference_agency_kinds
from mpdb.ingest.synthetic import demo_scenarios as ds
from mpdb.settings import get_settings

TARGET_MS = 300.0

USERS = {  # name: (agency, role)
    "kent-investigator": (ds.KENT_POLICE, "investigator"),
    "kent-cc-lead": (ds.KENT_CC, "la_missing_lead"),
    "kent-analyst": (ds.KENT_POLICE, "analyst"),
    "nca-auditor": ("NCA-MPU", "auditor"),
}
PAGES = [  # (user, path)
    ("kent-investigator", "/search?name={amy}"),
    ("kent-investigator", f"/children/{ds.AMY}"),
    ("kent-cc-lead", f"/children/{ds.AMY}"),
    ("kent-cc-lead", "/area"),
    ("kent-investigator", "/area"),
    ("kent-cc-lead", "/duties"),
    ("kent-cc-lead", "/duties.csv"),
    ("kent-investigator", "/hotspots?kind=MISSING_FROM&period=90"),
    ("kent-analyst", "/hotspots?kind=FOUND_AT&period=365"),
    ("nca-auditor", f"/audit?record={ds.AMY}"),
    ("kent-investigator", "/"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _principal(agency: str, role: str) -> Principal:
    kind = AgencyKind(reference_agency_kinds()[agency])
    scopes = get_policy(get_settings().policy_file).scopes_for(kind, Role(role))
    return Principal(subject=f"bench:{agency}:{role}", client_id="mpdb-console", agency_id=agency,
                     agency_kind=kind, role=Role(role), scopes=frozenset(scopes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20, help="requests per page (after 2 warm-up ones)")
    args = parser.parse_args()
    from mpdb.logging import configure_logging

    configure_logging()  # as `mpdb serve` does (Neo4j's notifications about unused properties stay quiet)

    port = _free_port()
    settings = get_settings().model_copy(update={"port": port, "rate_limit_per_minute": 1_000_000})
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        store = app.state.console_sessions
        cookies = {}
        for name, (agency, role) in USERS.items():
            session = store.create(principal=_principal(agency, role), access_token="", id_token="",
                                   user_name=name, agency_name=agency, expires_at=time.time() + 3600)
            session.purpose = "bench: console page timings"
            cookies[name] = session.id
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=60) as probe:
            probe.cookies.set(SESSION_COOKIE, cookies["kent-investigator"])
            r = probe.get(f"/children/{ds.AMY}")
            if r.status_code != 200:
                raise SystemExit(f"the planted demo child {ds.AMY} is not there (HTTP {r.status_code}): "
                                 "load `demo` first (make run, or mpdb seed --profile demo)")
            amy = r.text.split('data-testid="child-name">', 1)[1].split("<", 1)[0].replace(" ", "+")

        print(f"console pages, {args.rounds} sequential requests each after 2 warm-up; "
              f"load average {os.getloadavg()[0]:.2f}; target p95 < {TARGET_MS:.0f} ms")
        print(f"{'user':<18} {'page':<44} {'status':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}  ok")
        for user, path in PAGES:
            url = path.format(amy=amy)
            with httpx.Client(base_url=base, timeout=60) as client:
                client.cookies.set(SESSION_COOKIE, cookies[user])
                timings = []
                status = 0
                for i in range(args.rounds + 2):
                    start = time.perf_counter()
                    response = client.get(url)
                    elapsed = (time.perf_counter() - start) * 1000
                    status = response.status_code
                    if i >= 2:
                        timings.append(elapsed)
            timings.sort()
            p95 = timings[min(len(timings) - 1, int(round(0.95 * (len(timings) - 1))))]
            print(f"{user:<18} {url[:44]:<44} {status:>6} {statistics.median(timings):>8.1f} {p95:>8.1f} "
                  f"{timings[-1]:>8.1f}  {'yes' if p95 < TARGET_MS and status == 200 else 'NO'}")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        server.should_exit = True
        thread.join(timeout=10)


if __name__ == "__main__":
    main()
