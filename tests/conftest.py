"""Shared fixtures: a real local HTTP server, fixture feeds, a temporary project folder, and
both store backends (TinyDB files, a throwaway PostgreSQL server)."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from feedserver import FeedServer  # noqa: E402
from pgserver import PgServer, find_bin  # noqa: E402

DATA = Path(__file__).parent / "data"
BACKENDS = ("tinydb", "postgresql")


@pytest.fixture(autouse=True)
def _no_store_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """$AGGREGATOR_STORE overrides settings.store: a developer's (a real database) must never
    reach the tests, nor the processes they start."""
    monkeypatch.delenv("AGGREGATOR_STORE", raising=False)


@pytest.fixture
def server():
    with FeedServer() as s:
        yield s


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture(autouse=True)
def _aggregator_logger_as_it_was():
    """Each test starts with the "aggregator" logger as the test before it found it.

    ``main`` sets the logger up for its process (handler, level, --log-format); a test
    that runs ``main --log-format json`` would otherwise leave JSON logging on for every
    later test in the same worker, and a command group invoked on its own (``feeds``)
    would then print its error as JSON: which tests share a worker depends on xdist's
    scheduling, hence a failure that came and went under load.
    """
    logger = logging.getLogger("aggregator")
    saved = logger.handlers[:], logger.level, logger.propagate
    yield
    logger.handlers[:], logger.level, logger.propagate = saved[0], saved[1], saved[2]


@pytest.fixture(scope="session")
def pg_server():
    """One PostgreSQL server per test process, started on first use. Without Debian's
    postgresql package the tests that need it are skipped, except under CI, where they fail."""
    bindir = find_bin()
    if bindir is None:
        message = "PostgreSQL is not installed (apt-get install postgresql)"
        if os.environ.get("CI"):
            pytest.fail(f"CI: {message}; .ci/run installs it")
        pytest.skip(message)
    server = PgServer.start(bindir)
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server) -> str:
    """A new, empty database on the throwaway server."""
    return pg_server.new_database()


@pytest.fixture(params=BACKENDS)
def store_setting(request) -> str:
    """``settings.store`` for each backend in turn: a TinyDB file, or a new PostgreSQL database."""
    if request.param == "tinydb":
        return "data/store.json"
    return request.getfixturevalue("pg_url")
