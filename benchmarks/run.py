"""One benchmark run at one N, in its own process (so peak RSS is this N's alone).

    python -m benchmarks.run --n 500 --farm '{"127.0.0.1": 40123, …}' --out result.json

The farm is started by the parent (``python -m benchmarks``), so neither its CPU
nor its memory is counted here. Rounds, in order: floor cold, pipeline cold poll,
mutation (20 % of the feeds gain 5 items), floor warm, pipeline warm poll,
pipeline no-change poll (with ``--rounds K``, those five K times, each time from a
reset farm into a fresh store), publish twice, then store load and save on their own.
Each timed round (the floor's and ours) runs in a fresh process (``benchmarks.isolated``),
as cron would start it; the publish and store figures are timed here.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Callable

from benchmarks import isolated
from benchmarks.farm import ROOT, FarmClient
from benchmarks.isolated import timed, vm_hwm

# Used when the repo ships no feeds.yaml yet: the same spirit as the shipped topics.
FALLBACK_TOPICS: dict[str, Any] = {
    "nato": {"title": "NATO", "description": "The alliance", "keywords": ["NATO", "North Atlantic Treaty"]},
    "baltics": {"title": "Baltic states", "description": "Estonia, Latvia, Lithuania",
                "keywords": ["Baltic states", "Estonia", "Latvia", "Lithuania", "Tallinn", "Riga",
                             "Vilnius", "Baltic Defence Line"]},
    "ukraine": {"title": "Ukraine", "description": "Ukraine", "keywords": ["Ukraine", "Kyiv"]},
}


def shipped_topics(path: Path = ROOT / "feeds.yaml") -> dict[str, Any]:
    """The ``topics:`` section of the repo's feeds.yaml, as plain data (fallback if absent)."""
    if not path.exists():
        return FALLBACK_TOPICS
    from ruamel.yaml import YAML

    data = YAML(typ="safe").load(path.read_text(encoding="utf-8")) or {}
    return data.get("topics") or FALLBACK_TOPICS


def write_config(folder: Path, urls: list[str], topics: dict[str, Any], *,
                 workers: int | None = None, concurrency: int = 16, store: str | None = None,
                 near_duplicates: bool = True) -> Path:
    """A feeds.yaml for the farm: store (unless a postgresql:// *store* is given) and output inside
    *folder*, generous timeout; story matching off unless *near_duplicates*."""
    from ruamel.yaml import YAML

    settings: dict[str, Any] = {
        "store": store or str(folder / "data" / "store.json"), "output_dir": str(folder / "output"),
        "base_url": "http://localhost:8000/", "concurrency": concurrency, "timeout": 60,
    }
    if workers is not None:
        settings["parse_workers"] = workers
    if not near_duplicates:
        settings["near_duplicates"] = {"enabled": False}
    doc = {"settings": settings, "topics": topics,
           "feeds": [{"url": u, "name": f"Site {i}"} for i, u in enumerate(urls)]}
    path = folder / "feeds.yaml"
    yaml = YAML(typ="safe")
    yaml.default_flow_style = False
    with path.open("w", encoding="utf-8") as fh:
        yaml.dump(doc, fh)
    return path


def _load_all(store: Any) -> Any:
    snap = store.load()
    len(snap.items)
    return snap


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as f:
            return [int(c) for c in f.read().split()]
    except (OSError, ValueError):
        return []


def cron_run(config: Path) -> dict[str, Any]:
    """Run ``aggregator run --force`` in its own process: its time, and the peak RSS of the
    process and of its largest parse worker. getrusage/wait4 cannot tell: Linux carries a
    parent's ru_maxrss across fork and exec, so the peaks are sampled from /proc (VmHWM,
    a high-water mark, so a sample every 10 ms misses nothing but the last moments)."""
    import subprocess

    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "aggregator", "--config", str(config), "-q", "run", "--force"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    main_peak = worker_peak = 0
    while proc.poll() is None:
        main_peak = max(main_peak, vm_hwm(proc.pid))
        stack = _children(proc.pid)
        while stack:  # parse workers, and the forkserver's children
            pid = stack.pop()
            worker_peak = max(worker_peak, vm_hwm(pid))
            stack.extend(_children(pid))
        time.sleep(0.01)
    seconds = time.perf_counter() - started
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise RuntimeError(f"aggregator run failed: {stderr.strip()[-300:]}")
    return {"seconds": seconds, "rss": main_peak, "rss_workers": worker_peak}


def pool_startup(workers: int = 2) -> dict[str, float]:
    """Seconds from starting the parser processes to the first parsed feed, and to the pool
    closed again, for each start method the pipeline may use (ParsePool picks fork in a
    one-thread process, forkserver once httpx or asyncio started threads)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from aggregator.parse import ParseJob
    from aggregator.parse.pool import _parse_chunk

    body = (ROOT / "tests" / "data" / "feeds" / "rss2.xml").read_bytes()
    job = ParseJob(body, "https://example.org/feed.xml", {}, "https://example.org/feed.xml")
    out = {}
    for method in ("fork", "forkserver"):
        if method not in multiprocessing.get_all_start_methods():
            continue
        t0 = time.perf_counter()
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method)) as pool:
            pool.submit(_parse_chunk, [job]).result()
            out[f"{method}_first"] = time.perf_counter() - t0
        out[f"{method}_closed"] = time.perf_counter() - t0
    return out


def store_bytes(location: Any) -> int:
    """The store's size on disk: its two TinyDB files, or the whole database."""
    if isinstance(location, str):
        import psycopg

        with psycopg.connect(location) as conn:
            return conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    feeds = location.with_name(f"{location.stem}.feeds{location.suffix}")
    return location.stat().st_size + feeds.stat().st_size


def repeat(n: int, farm: FarmClient, urls: list[str], folder: Path, *, workers: int | None,
           log: Callable[[str], None]) -> dict[str, float]:
    """The timed rounds once more, from a reset farm into a fresh store in *folder*: their
    seconds. The farm is left as the first rounds left it (version 1 of the changed feeds)."""
    farm.reset()
    config = write_config(folder, urls, shipped_topics(), workers=workers)
    out = {}
    log(f"N={n}: again ({folder.name}): floor cold, cold, floor warm, warm, no-change")
    cold_floor = isolated.floor_round(urls)
    out["floor_cold"] = cold_floor.seconds
    out["cold"] = isolated.poll(config)["seconds"]
    farm.mutate(n, 0.2, 1)
    out["floor_warm"] = isolated.floor_round(urls, cold_floor.validators).seconds
    out["warm"] = isolated.poll(config)["seconds"]
    out["nochange"] = isolated.poll(config)["seconds"]
    return out


def measure(n: int, farm: FarmClient, *, workers: int | None = None, profile: bool = False,
            log: Callable[[str], None] = lambda s: None, store: str | None = None,
            rounds: int = 1) -> dict[str, Any]:
    """Every figure for one N (see the module docstring); times in seconds. *store*: a
    postgresql:// URL of an empty database to measure instead of a TinyDB file. *rounds*:
    how many times the timed polls run (each against its own floor), for the medians; with a
    TinyDB store only (each repeat makes a fresh one)."""
    if store is not None and rounds > 1:
        raise ValueError("--rounds needs a TinyDB store: each repeat polls into a fresh one")
    from aggregator import config as cfg
    from aggregator import pipeline
    from aggregator.store import open_store

    urls = [farm.url(i) for i in range(n)]
    folder = Path(tempfile.mkdtemp(prefix=f"aggbench-{n}-"))
    out: dict[str, Any] = {"n": n, "workers": workers, "backend": "postgresql" if store else "tinydb"}
    stage = "config"
    try:
        conf = cfg.load(write_config(folder, urls, shipped_topics(), workers=workers, store=store))
        out["topics"] = [t.slug for t in conf.topics]

        stage = "floor_cold"
        log(f"N={n}: floor cold")
        cold_floor = isolated.floor_round(urls)
        out[stage] = cold_floor.to_dict()

        stage = "cold"
        log(f"N={n}: cold poll")
        out[stage] = {**isolated.poll(conf.path, profile=profile), "profiled": profile}
        if "profile" in out[stage]:
            out["profile"] = out[stage].pop("profile")
            sys.stdout.write(out["profile"])

        stage = "floor_warm"
        changed = farm.mutate(n, 0.2, 1)
        out["changed"] = len(changed)
        log(f"N={n}: floor warm ({len(changed)} changed)")
        out[stage] = isolated.floor_round(urls, cold_floor.validators).to_dict()

        for stage, what in (("warm", "warm poll"), ("nochange", "no-change poll")):
            log(f"N={n}: {what}")
            out[stage] = isolated.poll(conf.path)

        stage = "repeats"
        out[stage] = []
        for k in range(2, rounds + 1):
            again = folder / f"round{k}"
            again.mkdir()
            out[stage].append(repeat(n, farm, urls, again, workers=workers, log=log))
            shutil.rmtree(again, ignore_errors=True)

        # The publish stage as `run` pays for it, on the snapshot it already holds: first every
        # topic rendered, then a publish where no topic changed (only the site files checked).
        from aggregator.publish import feeds as publisher

        with open_store(conf.settings.store).lock() as opened:  # a database is read while connected
            loaded = _load_all(opened)
            for stage, topics in (("publish", None), ("publish_again", set())):
                log(f"N={n}: {stage.replace('_', ' ')}")
                secs, pub = timed(lambda: publisher.publish(conf, loaded, now=pipeline.utcnow(), topics=topics))
                out[stage] = {"seconds": secs, "written": len(pub.written), "unchanged": len(pub.unchanged)}
            loaded = None  # let it go before the next rounds
        # `aggregator publish` on its own also reads the store first.
        stage = "publish_command"
        log(f"N={n}: publish command")
        secs, pub = timed(lambda: pipeline.publish(conf))
        out[stage] = {"seconds": secs, "written": len(pub.written), "unchanged": len(pub.unchanged)}

        stage = "store_load"
        opened = open_store(conf.settings.store)
        with opened.lock():
            secs, snap = timed(lambda: _load_all(opened))  # the items are read lazily: read them too
            out[stage] = {"seconds": secs, "items": len(snap.items), "feeds": len(snap.feeds)}
            stage = "store_save"  # PostgreSQL: nothing is left to write (each feed was committed)
            secs, _ = timed(lambda: opened.save(snap))
            out[stage] = {"seconds": secs}
        out["store_bytes"] = store_bytes(conf.settings.store)
        snap = opened = None  # let them go before the cron run

        # What an operator's cron job costs: one `aggregator run` process after another 20 % of
        # the feeds changed, start-up included; its peak RSS is the one the memory target is about.
        stage = "cron_run"
        farm.mutate(n, 0.2, 2)
        log(f"N={n}: cron run (a fresh `aggregator run` process)")
        out[stage] = cron_run(conf.path)

        stage = "pool_startup"  # last: a forkserver started here would serve the rounds above
        out[stage] = pool_startup()
    except Exception as exc:  # noqa: BLE001 - keep the rounds that finished, name the one that failed
        traceback.print_exc()
        out["error"] = f"{stage}: {type(exc).__name__}: {' '.join(str(exc).split())}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    # ru_maxrss is in KiB on Linux. CHILDREN covers only children already reaped (a parse pool).
    out["rss_self"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    out["rss_children"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    out["farm"] = farm.stats()
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run")
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--farm", required=True, help="JSON {host: port} of a running farm")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--store", help="a postgresql:// URL (an empty database) instead of a TinyDB file")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=1, help="times the timed polls run (TinyDB only)")
    a = ap.parse_args(argv)
    if a.store and a.rounds > 1:
        ap.error("--rounds needs a TinyDB store: each repeat polls into a fresh one")
    farm = FarmClient(json.loads(a.farm), a.seed)
    result = measure(a.n, farm, workers=a.workers, profile=a.profile,
                     log=lambda s: print(s, file=sys.stderr, flush=True), store=a.store, rounds=a.rounds)
    a.out.write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
