"""``python -m benchmarks.stores [--n 2000]``: the PostgreSQL store against TinyDB, one poller against two.

For each N, on one feed farm and one throwaway PostgreSQL server (Debian's package,
fsync on, a Unix socket: tests/pgserver.py), in this order:

1. the usual rounds of ``benchmarks.run`` (cold, warm, no-change poll, publish, store load,
   cron run) with the TinyDB store, then the same with a fresh PostgreSQL database;
2. a cold ``aggregator poll`` of the N feeds into a fresh database by one process, then by
   two processes started together (each claims feeds right before it fetches them).
   The farm counts the 200 responses: every feed must be fetched exactly once.

Prints the figures side by side with PostgreSQL ÷ TinyDB and two pollers ÷ one, and writes
them as JSON (default benchmarks/results/stores-<UTC time>.json). Both pollers run on this
machine, so they share its two cores: what two hosts would gain is not measured here.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from benchmarks.farm import ROOT, Farm
from benchmarks.run import shipped_topics, write_config

sys.path.insert(0, str(ROOT / "tests"))
from pgserver import PgServer  # noqa: E402  (the tests' throwaway server)

RESULTS = Path(__file__).resolve().parent / "results"
ROWS = (("cold", "cold poll"), ("warm", "warm poll"), ("nochange", "no-change poll"),
        ("publish", "publish stage, all rendered"), ("publish_command", "`aggregator publish`"),
        ("store_load", "store load (every item)"), ("cron_run", "cron run (own process)"))


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))


def one_backend(n: int, farm: Farm, a: argparse.Namespace, store: str | None) -> dict[str, Any]:
    """benchmarks.run for one N in a child process, with the TinyDB store or the database *store*."""
    with tempfile.TemporaryDirectory(prefix="aggbench-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", "benchmarks.run", "--n", str(n), "--seed", str(a.seed),
               "--farm", json.dumps(farm.addresses), "--out", str(out)]
        if store:
            cmd += ["--store", store]
        if a.workers is not None:
            cmd += ["--workers", str(a.workers)]
        code = subprocess.run(cmd, cwd=str(ROOT), env=_env()).returncode
        if code != 0 or not out.exists():
            return {"n": n, "error": f"benchmarks.run exited with status {code}"}
        return json.loads(out.read_text(encoding="utf-8"))


def pollers(n: int, farm: Farm, url: str, count: int, workers: int | None) -> dict[str, Any]:
    """A cold `aggregator poll` by *count* processes at once into the empty database *url*."""
    import psycopg

    with tempfile.TemporaryDirectory(prefix="aggbench-pollers-") as tmp:
        cfg = write_config(Path(tmp), [farm.url(i) for i in range(n)], shipped_topics(), workers=workers,
                           store=url)
        started = time.perf_counter()
        procs = [subprocess.Popen([sys.executable, "-m", "aggregator", "--config", str(cfg), "poll"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
                 for _ in range(count)]
        outs = [p.communicate() for p in procs]
        seconds = time.perf_counter() - started
    failed = [err.strip()[-300:] for p, (_o, err) in zip(procs, outs) if p.returncode != 0]
    with psycopg.connect(url) as conn:
        items, feeds = conn.execute("SELECT (SELECT count(*) FROM items), (SELECT count(*) FROM feeds)").fetchone()
    return {"pollers": count, "seconds": seconds, "items": items, "feed_states": feeds,
            "fetched_200": farm.stats().get("200", 0), "summaries": [o.strip() for o, _e in outs], "errors": failed}


def _seconds(result: dict[str, Any], key: str) -> float | None:
    value = result.get(key)
    return value.get("seconds") if isinstance(value, dict) else None


def table(n: int, tiny: dict[str, Any], pg: dict[str, Any], one: dict[str, Any], two: dict[str, Any]) -> str:
    lines = [f"N = {n}", f"{'figure':34} {'TinyDB':>9} {'PostgreSQL':>11} {'PG ÷ TinyDB':>12}"]
    for key, label in ROWS:
        t, p = _seconds(tiny, key), _seconds(pg, key)
        shown = [f"{v:9.2f}s" if v is not None else f"{'-':>10}" for v in (t, p)]
        ratio = f"{p / t:11.2f}×" if t and p else f"{'-':>12}"
        lines.append(f"{label:34} {shown[0]} {shown[1]}  {ratio}")
    for name, r in (("TinyDB", tiny), ("PostgreSQL", pg)):
        if "store_bytes" in r:
            lines.append(f"store size, {name}: {r['store_bytes'] / 2**20:.1f} MB")
    lines.append(f"cold poll into a fresh database: one poller {one['seconds']:.2f}s, two pollers "
                 f"{two['seconds']:.2f}s ({two['seconds'] / one['seconds']:.2f}×)")
    for r in (one, two):
        lines.append(f"  {r['pollers']} poller(s): {r['fetched_200']} feeds fetched (200), {r['items']} items, "
                     f"{r['feed_states']} feed states" + (f"; ERRORS: {r['errors']}" if r["errors"] else ""))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.stores", description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, nargs="+", default=[2000])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--hosts", type=int, default=16)
    ap.add_argument("--workers", type=int, help="settings.parse_workers (default: the pipeline's own)")
    ap.add_argument("--json", type=Path, help="where to write results")
    a = ap.parse_args(argv)
    started = datetime.now(timezone.utc)
    server = PgServer.start(durable=True)
    results = []
    try:
        with Farm(max(a.n), seed=a.seed, hosts=a.hosts) as farm:
            for n in sorted(set(a.n)):
                farm.reset()
                tiny = one_backend(n, farm, a, None)
                farm.reset()
                pg = one_backend(n, farm, a, server.new_database())
                farm.reset()
                one = pollers(n, farm, server.new_database(), 1, a.workers)
                farm.reset()
                two = pollers(n, farm, server.new_database(), 2, a.workers)
                results.append({"n": n, "tinydb": tiny, "postgresql": pg, "one_poller": one, "two_pollers": two})
                print(table(n, tiny, pg, one, two), flush=True)
    finally:
        server.stop()
    path = a.json or RESULTS / f"stores-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"started": started.isoformat(), "results": results}, indent=1), encoding="utf-8")
    print(f"\nresults: {path}")
    bad = [r for r in results if any("error" in r[k] for k in ("tinydb", "postgresql"))
           or any(r[k]["errors"] or r[k]["fetched_200"] != r["n"] for k in ("one_poller", "two_pollers"))]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
