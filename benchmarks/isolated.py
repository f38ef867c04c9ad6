"""Each timed round in a process of its own, started afresh as cron starts ``aggregator run``.

    python -m benchmarks.isolated poll CONFIG [--profile]
    python -m benchmarks.isolated floor URLS [--known VALIDATORS] [--keep VALIDATORS]

Why: a round timed in the process that has just run another carries that round's heap
with it. Our cold poll right after a floor round in the same process measured about 7 %
slower than in a fresh one (0.4.3's closing note), and the floor's warm round ran after
our cold poll had grown the process to 900 MB. A cron job is a fresh process; so is each
round now, the floor's as well as ours. Each prints one JSON line: its seconds (the round
alone, not the interpreter's start-up or imports), its outcome counts, and its own peak RSS.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from benchmarks import floor
from benchmarks.farm import ROOT


def _child(args: list[str]) -> dict[str, Any]:
    """Run this module with *args* in a fresh interpreter; its JSON line, or RuntimeError."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    proc = subprocess.run([sys.executable, "-m", "benchmarks.isolated", *args], cwd=str(ROOT), env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
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
    from benchmarks.run import _outcomes, peak_of, print_profile, timed

    conf = cfg.load(config)
    prof = cProfile.Profile() if profile else None
    (secs, rep), rss = peak_of(lambda: timed(lambda: pipeline.poll(conf, force=True), prof))
    out = {"seconds": secs, "rss": rss, **_outcomes(rep)}
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
