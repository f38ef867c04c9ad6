"""Which backend a store setting names: a file path (TinyDB) or a ``postgresql://`` URL."""

from __future__ import annotations

from pathlib import Path

from .protocol import Backend
from .store import Store


def is_database_url(location: object) -> bool:
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


def open_store(location: str | Path, lock_timeout: float = 0.0) -> Backend:
    """The store at *location* (``settings.store``): a PostgreSQL database for a
    ``postgresql://`` URL, else the TinyDB files at that path. Nothing is opened yet."""
    if is_database_url(location):
        from .postgres import PgStore  # psycopg is imported only by runs that use it

        return PgStore(str(location), lock_timeout)
    return Store(location, lock_timeout)
