"""aggregator/processes.py: how helper processes (parser and fetch processes) start."""

from __future__ import annotations

import multiprocessing

import pytest

from aggregator import processes


@pytest.mark.parametrize("threads, methods, rss, expected", [
    (1, ["fork", "spawn", "forkserver"], 0, "fork"),
    (1, ["fork", "spawn", "forkserver"], processes.FORK_MAX_RSS - 1, "fork"),
    (1, ["fork", "spawn", "forkserver"], processes.FORK_MAX_RSS, "forkserver"),  # never fork a big process
    (3, ["fork", "spawn", "forkserver"], 0, "forkserver"),  # never fork a threaded process
    (1, ["spawn"], 0, "spawn"),  # Windows
    (2, ["spawn", "fork"], 0, "spawn"),
    (1, ["fork", "spawn"], processes.FORK_MAX_RSS, "spawn"),
])
def test_start_method(threads, methods, rss, expected):
    assert processes.start_method(threads, methods, rss) == expected


def test_parent_for_names_us_only_for_a_fork() -> None:
    import os
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods:
        assert processes.parent_for(multiprocessing.get_context("fork")) == os.getpid()
    if "forkserver" in methods:
        assert processes.parent_for(multiprocessing.get_context("forkserver")) == -1  # the server's child


def test_peak_rss_is_this_process_in_bytes() -> None:
    assert 10 << 20 < processes.peak_rss() < 64 << 30


@pytest.mark.parametrize("affinity, cpu_count, expected", [
    ({0, 1}, 64, 2),  # confined to 2 of a host's 64 CPUs (a container's cpuset, taskset)
    ({5}, 64, 1),
    (None, 8, 8),  # no affinity call (macOS, Windows): every CPU
    (OSError, 8, 8),  # the call failed
    (None, None, 1),  # nothing known: one
])
def test_usable_cpus(monkeypatch, affinity, cpu_count, expected):
    import os

    def mask(pid):
        if affinity is OSError:
            raise OSError("no mask")
        return set(affinity)
    if affinity is None:
        monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    else:
        monkeypatch.setattr(os, "sched_getaffinity", mask, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: cpu_count)
    assert processes.usable_cpus() == expected


def test_parser_processes_follow_the_affinity_mask_of_a_real_process() -> None:
    """A process confined to one CPU asks for one parser process, not one per CPU of the host."""
    import os
    import subprocess
    import sys
    if not hasattr(os, "sched_setaffinity"):
        pytest.skip("no CPU affinity on this system")
    code = ("import os; os.sched_setaffinity(0, {min(os.sched_getaffinity(0))}); "
            "from aggregator import processes; from aggregator.parse.pool import ParsePool; "
            "print(processes.usable_cpus(), ParsePool().workers, os.cpu_count())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[:2] == ["1", "1"]
    assert int(out[2]) == os.cpu_count()  # the host's count is unchanged: only the mask says 1
