"""Stage 6, store: load, merge, prune and save the items and feed states, under one lock.

Owns: TinyDB (the files, read once and written once per run, atomically, with a
``.bak``), the file lock, the format and its schema migrations (``format``), the items
file one document per line and its journal (``lines``), ``store check`` and
``store restore`` (``check``), and applying retention (``retention``).
Must not: decide policy (what is new, which topic, what to publish).

Start reading at ``store.py`` (``Store.load`` and ``Store.save``).
"""

from .files import StoreFiles
from .format import SCHEMA_VERSION
from .store import Store

__all__ = ["SCHEMA_VERSION", "Store", "StoreFiles"]
