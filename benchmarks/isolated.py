"""Each timed round in a process of its own, started afresh as cron starts ``aggregator run``.

    python -m benchmarks.isolated poll CONFIG [--profile]
    python -m benchmarks.isolated floor URLS [--known VALIDATORS] [--keep VALIDATORS]

Why: a round timed in the process that has just run another carries that round's heap
with it. Our cold poll right after a floor round in the same process measured about 7 %
slower than in a fresh one (0.4.3's closing note), and the floor's warm round ran after
our cold poll had grown the process to 900 MB. A cron job is a fresh process; so is each
round now, the floor's as well as ours. Each prints one JSON line: its seconds (the round
alone, not the interpreter's start-up or imports), its outcome counts, and its own peak RSS;
a poll also its CPU seconds, its helper processes' included.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable

from benchmarks import floor
from benchmarks.farm import ROOT


def timed(fn: Callable[[], Any], profile: cProfile.Profile | None = None) -> tuple[float, Any]:
    """The seconds *fn* took (under *profile*, if given), and its result."""
    t0 = time.perf_counter()
    if profile is not None:
        out = profile.runcall(fn)
    else:
        out = fn()
    return time.perf_counter() - t0, out


def outcomes(report: Any) -> dict[str, Any]:
    """A poll report as the results JSON keeps it: outcome counts, items, seconds per stage."""
    counts: dict[str, int] = {}
    for o in report.outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    return {"outcomes": counts, "new_items": report.new_items, "updated_items": report.updated_items,
            "merged_items": getattr(report, "merged_items", 0),  # older trees (--baseline) have none
            "stages": dict(getattr(report, "stages", ()))}  # seconds per stage (pipeline.stages)


def print_profile(prof: cProfile.Profile, top: int = 25, stream: Any = None) -> str:
    """The top entries by cumulative and by total time, as text (also written to *stream*)."""
    buf = io.StringIO()
    for key in ("cumulative", "tottime"):
        buf.write(f"\n--- cold poll profile: top {top} by {key} ---\n")
        pstats.Stats(prof, stream=buf).sort_stats(key).print_stats(top)
    text = buf.getvalue()
    if stream is not None:
        stream.write(text)
    return text


def cpu_seconds() -> float:
    """CPU used so far by this process and by the children it has waited for, user and system. A
    poll waits for its parser and fetch processes before it returns; parser processes forked
    from a forkserver (as a large process starts them) are the server's, and not counted."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def vm_hwm(pid: int) -> int:
    """VmHWM (peak resident set) of a live process, in bytes; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _reset_peak() -> bool:
    """Start this process's VmHWM afresh (Linux: ``5`` to /proc/self/clear_refs), so the next
    reading is the peak of the round in between; False where that cannot be done."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_of(fn: Callable[[], Any]) -> tuple[Any, int | None]:
    """*fn*'s result, and this process's peak RSS while it ran (None: not measurable here). The
    memory the process held before counts too (its imports, the config): an upper bound."""
    reset = _reset_peak()
    out = fn()
    return out, (vm_hwm(os.getpid()) or None) if reset else None


def _child(args: list[str]) -> dict[str, Any]:
    """Run this module with *args* in a fresh interpreter; its JSON line, or RuntimeError."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, "-m", "benchmarks.isolated", *args], cwd=str(ROOT), env=env,
                          capture_output=True, text=True, check=False)
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        why = (proc.stderr.strip().splitlines() or [f"exited with status {proc.returncode}"])[-1]
        raise RuntimeError(f"isolated {args[0]} round: {why}")
    return json.loads(lines[-1])


def poll(config: Path, *, profile: bool = False) -> dict[str, Any]:
    """One ``pipeline.poll(force=True)`` of *config* in a fresh process: seconds, rss, outcomes
    (and the profile's text with *profile*)."""
    return _child(["poll", str(config), *(["--profile"] if profile else [])])


def floor_round(urls: list[str], known: dict[str, floor.Validators] | None = None) -> floor.FloorRound:
    """``floor.run_round`` in a fresh process, validators in and out through files."""
    with tempfile.TemporaryDirectory(prefix="aggbench-floor-") as tmp:
        folder = Path(tmp)
        (folder / "urls.json").write_text(json.dumps(urls), encoding="utf-8")
        args = ["floor", str(folder / "urls.json"), "--keep", str(folder / "kept.json")]
        if known:
            (folder / "known.json").write_text(json.dumps({u: asdict(v) for u, v in known.items()}),
                                               encoding="utf-8")
            args += ["--known", str(folder / "known.json")]
        out = _child(args)
        kept = json.loads((folder / "kept.json").read_text(encoding="utf-8"))
    result = floor.FloorRound(**{k: out[k] for k in ("seconds", "fetched", "not_modified", "failed", "entries",
                                                     "bytes")})
    result.validators = {u: floor.Validators(**v) for u, v in kept.items()}
    return result


def _run_poll(config: Path, profile: bool) -> dict[str, Any]:
    from aggregator import config as cfg
    from aggregator import pipeline

    conf = cfg.load(config)
    prof = cProfile.Profile() if profile else None
    before = cpu_seconds()
    (secs, rep), rss = peak_of(lambda: timed(lambda: pipeline.poll(conf, force=True), prof))
    out = {"seconds": secs, "rss": rss, "cpu": cpu_seconds() - before, **outcomes(rep)}
    if prof is not None:
        out["profile"] = print_profile(prof)
    return out


def _run_floor(urls_file: Path, known_file: Path | None, keep_file: Path) -> dict[str, Any]:
    urls = json.loads(urls_file.read_text(encoding="utf-8"))
    known = None
    if known_file is not None:
        known = {u: floor.Validators(**v) for u, v in json.loads(known_file.read_text(encoding="utf-8")).items()}
    result = floor.run_round(urls, known)
    keep_file.write_text(json.dumps({u: asdict(v) for u, v in result.validators.items()}), encoding="utf-8")
    return result.to_dict()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.isolated")
    sub = ap.add_subparsers(dest="kind", required=True)
    p = sub.add_parser("poll")
    p.add_argument("config", type=Path)
    p.add_argument("--profile", action="store_true")
    f = sub.add_parser("floor")
    f.add_argument("urls", type=Path)
    f.add_argument("--known", type=Path)
    f.add_argument("--keep", type=Path, required=True)
    a = ap.parse_args(argv)
    out = _run_poll(a.config, a.profile) if a.kind == "poll" else _run_floor(a.urls, a.known, a.keep)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
