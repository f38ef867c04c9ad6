"""One topic at a time: each topic's view is built, rendered and let go before the next.

``model.build_views`` builds every topic's view at once; a publish instead asks
:class:`TopicStream` for one topic's view, renders its files, and moves on. The index
page and the OPML list need only each topic's count, time and headlines
(``TopicSummary``), built from the items' heads and the few headline items. An item's
view is built once, whatever its topics ("all" shares most of its items with the
others), and dropped after the last view that uses it. The bytes are those of
``build_views``: the same ``item_view`` of the same items, in the same order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from ..records import Config, FeedState, Item, utc
from .model import (
    ALL, FALLBACK_TIME, HEADLINES, ItemView, TopicSummary, TopicView, memo_uri, item_view, newest,
    topic_description, topic_title,
)


class TopicStream:
    """Views of the topics ``select`` picked (*picked*: slug -> heads, newest first), built
    one topic at a time from *items* (decoded on demand)."""

    def __init__(self, config: Config, picked: Mapping[str, Sequence[Any]], items: Mapping[str, Item],
                 feeds: Mapping[str, FeedState], now: datetime, full: Iterable[str]):
        self.config, self.picked, self.items, self.feeds, self.now = config, picked, items, feeds, utc(now)
        self.full = set(full) & set(picked)
        # How many views (full ones, and headlines) will still use each item's view.
        self._uses: Counter[str] = Counter(h.id for slug in self.full for h in picked[slug])
        self._uses.update(h.id for heads in picked.values() for h in heads[:HEADLINES])
        self._views: dict[str, ItemView] = {}
        self._uri = memo_uri()
        newest_all = newest(picked.get(ALL, ()), self.now) or FALLBACK_TIME
        self._updated = {slug: newest(heads, self.now) or newest_all for slug, heads in picked.items()}

    def _view(self, head: Any) -> ItemView:
        found = self._views.get(head.id)
        if found is None:
            found = self._views[head.id] = item_view(self.items[head.id], self.feeds, self.now, uri=self._uri)
        return found

    def _used(self, heads: Sequence[Any]) -> None:
        for h in heads:
            self._uses[h.id] -= 1
            if self._uses[h.id] <= 0:
                self._views.pop(h.id, None)

    def summaries(self) -> dict[str, TopicSummary]:
        """Every topic's listing for index.html and feeds.opml, in *picked* order."""
        out = {}
        for slug, heads in self.picked.items():
            out[slug] = TopicSummary(slug=slug, title=topic_title(self.config, slug),
                                     description=topic_description(self.config, slug), updated=self._updated[slug],
                                     count=len(heads), headlines=tuple(self._view(h) for h in heads[:HEADLINES]))
            self._used(heads[:HEADLINES])
        return out

    def views(self) -> Iterable[TopicView]:
        """The full view of each topic in *full*, in *picked* order, one at a time."""
        for slug, heads in self.picked.items():
            if slug not in self.full:
                continue
            view = TopicView(slug=slug, title=topic_title(self.config, slug),
                             description=topic_description(self.config, slug), updated=self._updated[slug],
                             items=tuple(self._view(h) for h in heads))
            self._used(heads)
            yield view
