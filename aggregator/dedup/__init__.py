"""Stage 4, dedup: entry → stable identity; new, updated, unchanged, or the same story as an item stored.

Owns: URL canonicalisation (``urls``: tracking parameters and fragments dropped), identity
keys and content fingerprints (``identity``), and the same story told by several
outlets: the time-bucketed candidate index (``similarity``) keyed on each headline's index
terms (``terms``), how a report reads to the matcher (``wording``, one pass of ``scan``
over words normalised by ``words``; ``form``, ``rarity``, ``lexicon``), its score
(``paraphrase``), the facts that forbid a merge (``vetoes``) and the decision
(``stories``); and ``ItemIndex``, which folds entries into items.
Must not: do I/O. It works on the records and mappings it is handed.

Start reading at ``identity.py`` (``ItemIndex.upsert``), then ``stories.py``.
"""

from .identity import STATUSES, ItemIndex, content_hash, identity_keys
from .split import split_report
from .stories import TOKENS_VERSION
from .terms import index_terms
from .urls import canonical_url, url_key
from .vetoes import conflicts
from .wording import profile

__all__ = ["STATUSES", "TOKENS_VERSION", "ItemIndex", "canonical_url", "conflicts", "content_hash",
           "identity_keys", "index_terms", "profile", "split_report", "url_key"]
