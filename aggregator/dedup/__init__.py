"""Stage 4, dedup: entry → stable identity; new, updated, unchanged, or the same story as an item stored.

Owns: URL canonicalisation (``urls``: tracking parameters and fragments dropped), identity
keys and content fingerprints (``identity``), the near-duplicate candidate index and
similarity (``similarity``), and ``ItemIndex``, which folds entries into items.
Must not: do I/O. It works on the records and mappings it is handed.

Start reading at ``identity.py`` (``ItemIndex.upsert``).
"""

from .identity import STATUSES, ItemIndex, content_hash, identity_keys
from .urls import canonical_url, url_key
from .similarity import TOKENS_VERSION, title_tokens

__all__ = ["STATUSES", "TOKENS_VERSION", "ItemIndex", "canonical_url", "content_hash", "identity_keys",
           "title_tokens", "url_key"]
