"""Memory of the offline seed's first phase (generate + write CSV), without Neo4j.

    .venv/bin/python -m bench.seed_memory --profile national [--children N] [--workers 2] [--keep]

Runs `export_seed` (mpdb/ingest/bulk/synthetic.py) into a temporary directory while a thread
samples, every 0.5 s, the parent's RSS, the sum of PSS over the parent and its worker processes
(shared copy-on-write pages counted once, so it is what the machine actually gives the seed), and
the machine's MemAvailable. Prints the peaks and, per 10% of the children generated, the parent's
RSS, so growth per child can be read off. Not a test; give the load average with every figure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

from mpdb.ingest.bulk.synthetic import export_seed
from mpdb.ingest.reference import read_reference_data
from mpdb.ingest.synthetic.profiles import get_profile


def _kb(path: str, field: str) -> int:
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(x) for x in f.read().split()]
    except (FileNotFoundError, ProcessLookupError):
        pass
    return out


def _tree(pid: int) -> list[int]:
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo += _children(p)
    return seen


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default="national")
    ap.add_argument("--children", type=int, default=None, help="override the profile's number of children")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the CSV files (printed path)")
    args = ap.parse_args()
    profile = get_profile(args.profile)
    if args.children:
        profile = profile.with_children(args.children)
    me = os.getpid()
    peak = {"rss": 0, "pss": 0, "avail_min": 1 << 60}
    marks: list[str] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            rss = _kb(f"/proc/{me}/status", "VmRSS:")
            pss = sum(_kb(f"/proc/{p}/smaps_rollup", "Pss:") for p in _tree(me))
            avail = _kb("/proc/meminfo", "MemAvailable:")
            peak["rss"] = max(peak["rss"], rss)
            peak["pss"] = max(peak["pss"], pss)
            peak["avail_min"] = min(peak["avail_min"], avail)
            stop.wait(0.5)

    last = [-1]

    def progress(stage: str, done: int, total: int) -> None:
        tenth = done * 10 // max(total, 1)
        if tenth != last[0]:
            last[0] = tenth
            marks.append(f"{done:>9,} children: parent RSS {_kb(f'/proc/{me}/status', 'VmRSS:') / 1e6:5.2f} GB")

    load0 = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    work = Path(tempfile.mkdtemp(prefix="seed-memory-", dir=os.environ.get("TMPDIR")))
    t = threading.Thread(target=sample, daemon=True)
    t.start()
    t0 = time.perf_counter()
    try:
        manifest, _ = export_seed(profile, args.seed, read_reference_data(), work / "csv", workers=args.workers,
                                  progress=progress)
    finally:
        stop.set()
        t.join()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    wall = time.perf_counter() - t0
    load1 = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    print(f"profile {profile.name}: {profile.n_children:,} children, {manifest.rows:,} rows, {wall:.1f} s")
    print("\n".join(marks))
    print(f"peak parent RSS {peak['rss'] / 1e6:.2f} GB; peak PSS of parent + workers {peak['pss'] / 1e6:.2f} GB; "
          f"lowest MemAvailable {peak['avail_min'] / 1e6:.1f} GB")
    print(f"load average {load0} before, {load1} after" + (f"; files in {work}" if args.keep else ""))


if __name__ == "__main__":
    main()
