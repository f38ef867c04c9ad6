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
