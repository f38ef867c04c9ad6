"""Three speed-ups of feedparser's hot paths (issue 8): the same results for less CPU.

They are in place only while one of our parses runs (``with speedups(): feedparser.parse(…)``),
so other users of feedparser in the process (the benchmark's floor) get it as shipped.
``tests/test_parse.py`` parses a corpus with ``SPEEDUPS`` off and on and compares.

1. Per start tag feedparser runs ``make_safe_absolute_uri(baseuri, xml:base or baseuri)``
   (urlparse + urljoin, ~25 µs), almost always on the same two strings (our Content-Location):
   ~4 ms of a 60 KB feed. Both URI functions are pure in their string arguments (the scheme
   allow-list is a module constant), so an LRU in front changes nothing. feedparser.mixin
   imported them by name, so they are replaced there. Cached strings come from recent bodies,
   so the cache holds at most a few bodies' worth of text.
2. expat cuts text at every entity and line: ~50 calls an item of ``characters`` ->
   ``handle_data`` -> ``FeedParserDict.get("type")``. ``_characters`` inlines that chain with a
   plain ``dict.get`` ("type" is not in FeedParserDict.keymap: the same key is read).
3. Each parse asks ``xml.sax.make_parser`` for feedparser's preferred ``drv_libxml2`` first: when
   that module is not installed, the import system searches every path entry for it, every
   time (~85 µs a feed), before settling on expat. Where it is missing, the list is emptied
   while we parse: the same expat reader, without the search.
"""

from __future__ import annotations

import functools
import importlib.util
import threading
import xml.sax.saxutils
from contextlib import contextmanager
from typing import Any, Iterator

import feedparser

SPEEDUPS = True  # tests turn it off to compare
_ORIGINAL_URI_FUNCS = (feedparser.urls._urljoin, feedparser.urls.make_safe_absolute_uri)
CACHED_URI_FUNCS = tuple(functools.lru_cache(maxsize=1024)(f) for f in _ORIGINAL_URI_FUNCS)
_PREFERRED = feedparser.api.PREFERRED_XML_PARSERS
# The preferred SAX drivers that can be imported at all (checked once: none, as a rule).
_INSTALLED = [name for name in _PREFERRED if importlib.util.find_spec(name) is not None]
_lock = threading.Lock()
_users = 0  # parses running with the patches in place (one per thread at most)


def _characters(self: Any, text: str) -> None:
    if self.elementstack:  # feedparser.mixin._FeedParserMixin.handle_data with escape=1
        if dict.get(self.contentparams, "type") == "application/xhtml+xml":
            text = xml.sax.saxutils.escape(text)
        self.elementstack[-1][2].append(text)


def _patch(on: bool) -> None:
    feedparser.mixin._urljoin, feedparser.mixin.make_safe_absolute_uri = (
        CACHED_URI_FUNCS if on else _ORIGINAL_URI_FUNCS)
    feedparser.api.PREFERRED_XML_PARSERS = _INSTALLED if on else _PREFERRED
    if on:
        feedparser.api.StrictFeedParser.characters = _characters
    elif "characters" in vars(feedparser.api.StrictFeedParser):
        del feedparser.api.StrictFeedParser.characters


def patched() -> bool:
    """Whether the patches are in place right now."""
    return feedparser.mixin.make_safe_absolute_uri is CACHED_URI_FUNCS[1]


@contextmanager
def speedups() -> Iterator[None]:
    """The patches in place for the block (when SPEEDUPS), whatever other threads do."""
    global _users
    if not SPEEDUPS:
        yield
        return
    with _lock:
        _users += 1
        if _users == 1:
            _patch(True)
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                _patch(False)
