"""A parse worker does not outlive its run: killed with ``kill -9``, a run leaves no orphan behind
(which would hold its memory and its inherited descriptors, a database connection among them)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

SCRIPT = """
import sys, time
from aggregator.parse import ParseJob, ParsePool
from paths import FEEDS
body = (FEEDS / "rss2.xml").read_bytes()
pool = ParsePool(2)
pool.submit(ParseJob(body, "http://127.0.0.1/f.xml", {}, "k", frozenset())).result()
pool.submit(ParseJob(body, "http://127.0.0.1/g.xml", {}, "k", frozenset())).result()
print(" ".join(str(p) for p in pool._executor._processes), flush=True)
time.sleep(60)
"""


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_workers_end_when_their_run_is_killed() -> None:
    tests = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": tests})
    workers = [int(p) for p in proc.stdout.readline().split()]
    assert workers and all(alive(p) for p in workers)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    while any(alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(p) for p in workers)
