"""Shared fixtures: a real local HTTP server, fixture feeds, and a temporary project folder."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from feedserver import FeedServer  # noqa: E402

DATA = Path(__file__).parent / "data"


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
