"""Stage 6, store: load, merge, prune and save the items and feed states.

Owns: what the pipeline needs from a store (``protocol.Backend``) and its two backends,
chosen by ``settings.store`` (``open_store``):

* TinyDB, the default (``store.py``): the items file, its journal and the feeds file,
  each written at most once per run, atomically, with a ``.bak``, under a file lock; the
  format and its schema migrations (``format``), the items file one document per line
  behind a heads index that says where each line is, and its journal (``lines``), reading
  the items file and its journal in whichever layout each is in (``reader``), the items
  read and decoded on demand (``table``), ``store check`` and ``store restore`` (``check``).
* PostgreSQL (``postgres.py``), for several pollers sharing one database: claims, one
  transaction per feed, the merge and publish locks; its schema and migrations
  (``pgschema``), statements (``pgwrite``), items in memory (``pgitems``), checks and bulk
  copies (``pgadmin``).

Both apply retention (``retention``) the same way.
Must not: decide policy (what is new, which topic, what to publish).

Start reading at ``protocol.py``, then ``store.py`` (``Store.load``, ``Store.save``) and
``postgres.py``.
"""

from .backends import is_database_url, open_store
from .files import StoreFiles
from .format import SCHEMA_VERSION
from .protocol import NO_CHANGES, Backend, Changes, Counts, counts_of
from .retention import next_prune
from .store import Store

__all__ = ["NO_CHANGES", "SCHEMA_VERSION", "Backend", "Changes", "Counts", "Store", "StoreFiles", "counts_of",
           "is_database_url", "next_prune", "open_store"]
