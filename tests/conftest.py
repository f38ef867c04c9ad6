"""Shared fixtures: a real local HTTP server, fixture feeds, and a temporary project folder."""

from __future__ import annotations

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
