"""``python -m benchmarks [--n 100 2000] [--large] [--json PATH] [--workers K] [--compare OLD.json] [--profile]``

Starts the feed farm once (for the largest N), then measures each N in a fresh
child process (``benchmarks.run``) so each N's peak RSS is its own, prints the
table and writes the results as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks import report
from benchmarks.farm import ROOT, Farm

RESULTS = Path(__file__).resolve().parent / "results"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[1])
    ap.add_argument("--n", type=int, nargs="+", default=[100, 2000], help="feed counts to measure")
    ap.add_argument("--large", action="store_true", help="also N = 10,000 (about 15 minutes on two cores)")
    ap.add_argument("--json", type=Path, help="where to write results (default benchmarks/results/<time>.json)")
    ap.add_argument("--workers", type=int, help="settings.parse_workers (default: the pipeline's own)")
    ap.add_argument("--compare", type=Path, nargs="+", metavar="JSON",
                    help="OLD: compare this run with OLD; OLD NEW: only compare two saved runs")
    ap.add_argument("--profile", action="store_true", help="run each cold poll under cProfile, print top 25")
    ap.add_argument("--rounds", type=int, default=1,
                    help="run the timed polls K times, each beside its own floor; the goals use the medians")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--hosts", type=int, default=16, help="loopback addresses the feeds are spread over")
    a = ap.parse_args(argv)
    if a.compare and len(a.compare) > 2:
        ap.error("--compare takes OLD.json, or OLD.json NEW.json")
    if any(n < 1 for n in a.n):
        ap.error("--n values must be positive")
    if a.rounds < 1:
        ap.error("--rounds must be at least 1")
    if a.large:
        a.n = [*a.n, 10_000]
    return a


def measure_one(n: int, farm: Farm, a: argparse.Namespace) -> dict[str, Any]:
    """Run benchmarks.run for one N in a child process; an error becomes {"n", "error"}."""
    with tempfile.TemporaryDirectory(prefix="aggbench-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", "benchmarks.run", "--n", str(n), "--seed", str(a.seed),
               "--farm", json.dumps(farm.addresses), "--out", str(out)]
        if a.workers is not None:
            cmd += ["--workers", str(a.workers)]
        if a.profile:
            cmd.append("--profile")
        if a.rounds > 1:
            cmd += ["--rounds", str(a.rounds)]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        proc = subprocess.run(cmd, cwd=str(ROOT), env=env)
        if proc.returncode != 0 or not out.exists():
            return {"n": n, "error": f"benchmarks.run exited with status {proc.returncode}"}
        return json.loads(out.read_text(encoding="utf-8"))


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    if a.compare and len(a.compare) == 2:
        old, new = (json.loads(p.read_text(encoding="utf-8")) for p in a.compare)
        print(report.compare(old, new))
        return 0
    started = datetime.now(timezone.utc)
    ns = sorted(set(a.n))
    results = []
    t0 = time.perf_counter()
    print(f"starting the feed farm ({max(ns)} feeds)…", file=sys.stderr, flush=True)
    with Farm(max(ns), seed=a.seed, hosts=a.hosts) as farm:
        for n in ns:
            farm.reset()
            results.append(measure_one(n, farm, a))
    doc = {
        "started": started.isoformat(), "seconds": time.perf_counter() - t0, "seed": a.seed,
        "epoch": farm.epoch.isoformat(), "workers": a.workers, "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        "results": results,
    }
    path = a.json or RESULTS / f"{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")

    shown = [r for r in results if "floor_cold" in r]
    print()
    print(report.table(shown) if shown else "no N got as far as the floor")
    lines = report.curve(shown)
    if lines:
        print()
        print(lines)
    stages = report.stages_table(shown)
    if stages:
        print()
        print(stages)
    for r in results:
        if "error" in r:
            print(f"ERROR: N={r['n']}: {r['error']} (the figures of the rounds before it are shown)")
        for line in report.sanity(r):
            print(f"warning: {line}")
    print(f"\nresults: {path}")
    if a.compare:
        print(f"\ncompared with {a.compare[0]}:")
        print(report.compare(json.loads(a.compare[0].read_text(encoding="utf-8")), doc))
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
