"""An operator's undo of a wrong merge: one report split off an item, and kept apart for good."""

from __future__ import annotations

import dataclasses

from ..records import Item, SourceRef
from .identity import canonical_url, url_key


def split_report(item: Item, link: str) -> tuple[Item, SourceRef]:
    """*item* without the merged report whose link is *link*, and that report's credit.

    The report's identity keys leave the item and go to ``Item.apart``, so the matcher
    never merges it in again: the next time its feed carries it, it becomes an item of its
    own. Raises LookupError with a one-line reason when no merged report has that link.
    """
    want = canonical_url(link) or link
    for n, ref in enumerate(item.sources):
        if (canonical_url(ref.link) or ref.link) != want:
            continue
        if n == 0:
            raise LookupError(f"{link} is the first report of item {item.id} (its text); split the others")
        if any(other.feed_url == ref.feed_url and (canonical_url(other.link) or other.link) != want
               for other in item.sources[:n]) and not ref.guid:
            raise LookupError(f"{link}: its feed's other report in item {item.id} cannot be told apart")
        own = {f"guid:{ref.feed_url} {ref.guid}" if ref.guid else f"link:{ref.feed_url} {want}"}
        own.add(f"link:{ref.feed_url} {want}")
        if item.sources[0].feed_url != ref.feed_url or canonical_url(item.link) != want:
            own.add(url_key(want))
        keys = tuple(k for k in item.keys if k not in own)
        merges = tuple(m for m in item.merges if m.key not in own)
        apart = tuple(dict.fromkeys(item.apart + tuple(sorted(own))))
        sources = item.sources[:n] + item.sources[n + 1:]
        return dataclasses.replace(item, keys=keys, merges=merges, apart=apart, sources=sources), ref
    raise LookupError(f"item {item.id} has no merged report with the link {link}")
