"""Eight speed-ups of feedparser's hot paths (issues 8 and 16): the same results for less CPU.

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
4. Each text element of an entry in content (summary, title, content…) gets a
   ``copy.deepcopy`` of the parser's ``contentparams``: a FeedParserDict of three or four
   strings, and deepcopy's generic reduce/reconstruct machinery costs ~15 µs a call, ~2 an
   item. With only strings, numbers and None inside (nothing that deepcopy would copy), a
   new FeedParserDict given the same items the way deepcopy's reconstruction gives them
   (``y[key] = value``, through its key map) is the same value, made directly. Anything else
   goes to ``copy.deepcopy``. feedparser.mixin reaches it as ``copy.deepcopy``, so its
   module reference is swapped.
5. expat hands text over in pieces, cut at every entity and line end: an escaped HTML
   summary (``&lt;p&gt;…``) is ~50 calls of ``characters`` an item. Its ``buffer_text``
   option joins each run of text into one call where it can. feedparser only appends the
   pieces to a list it joins (escaping each, for XHTML, character by character), so the
   text it keeps is the same; SAX allows a parser to cut text anywhere. The expat parser
   is made in ``ExpatParser.reset``, which is wrapped to set the option.
6. ``FeedParserDict.get`` goes through ``__getitem__``, which tests five special keys and
   the key map before it reads the dict: ~4 calls an element, from ``pop`` reading its
   ``contentparams``. For a key that is neither special nor mapped, ``__getitem__`` reads
   the dict as it is, so ``get`` is ``dict.get`` for those keys.
7. The same holds for ``__getitem__``, ``__contains__`` (which calls ``__getitem__`` and
   catches its KeyError), ``__setitem__`` (which maps the key first) and ``setdefault``
   (which calls the other three): for a plain key each is the ``dict`` method of that
   name, ~3-5 % of a parse (a dozen calls an element, from the start and end handlers).
8. ``_parse_date`` tries W3C-DTF before RFC 822, so every RSS date (``Wed, 25 Nov 2026
   13:00:00 +0000``) first fails in ``_parse_date_w3dtf`` (~3 % of a parse). That parser
   reads a year from the text before the first "t", "-" or space, through ``int()``, which
   no text that begins with an ASCII letter can pass; so for such text it returns None,
   and is not run. Every other text, and every other handler, runs as shipped.
"""

from __future__ import annotations

import copy
import functools
import importlib.util
import threading
import xml.sax.expatreader
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


_ATOMS = frozenset({str, int, float, bool, type(None)})  # what deepcopy returns as it is


class _DeepCopy:
    """Stands in for the ``copy`` module in feedparser.mixin (patch 4)."""

    @staticmethod
    def deepcopy(x: Any, memo: Any = None) -> Any:
        if (memo is None and type(x) is feedparser.util.FeedParserDict and not vars(x)
                and all(type(v) in _ATOMS for v in x.values())):
            y = feedparser.util.FeedParserDict()
            for k, v in x.items():
                y[k] = v
            return y
        return copy.deepcopy(x, memo)


_EXPAT_RESET = xml.sax.expatreader.ExpatParser.reset
_DICT_GET = feedparser.util.FeedParserDict.get
# The keys FeedParserDict.__getitem__ does more than read: its special cases and its key map.
_NOT_PLAIN = frozenset({"category", "enclosures", "license", "updated", "updated_parsed",
                        *feedparser.util.FeedParserDict.keymap})


def _plain_get(self: Any, key: Any, default: Any = None) -> Any:
    """FeedParserDict.get, without __getitem__ for a key it would only read (patch 6)."""
    if type(key) is str and key not in _NOT_PLAIN:
        return dict.get(self, key, default)
    return _DICT_GET(self, key, default)


_FPD = feedparser.util.FeedParserDict
_FPD_METHODS = {name: vars(_FPD)[name] for name in ("__getitem__", "__contains__", "__setitem__", "setdefault")}


def _plain_getitem(self: Any, key: Any) -> Any:
    if type(key) is str and key not in _NOT_PLAIN:
        return dict.__getitem__(self, key)
    return _FPD_METHODS["__getitem__"](self, key)


def _plain_contains(self: Any, key: Any) -> bool:
    if type(key) is str and key not in _NOT_PLAIN:
        return dict.__contains__(self, key)
    return _FPD_METHODS["__contains__"](self, key)


def _plain_setitem(self: Any, key: Any, value: Any) -> None:
    if type(key) is str and key not in _NOT_PLAIN:
        dict.__setitem__(self, key, value)
    else:
        _FPD_METHODS["__setitem__"](self, key, value)


def _plain_setdefault(self: Any, key: Any, default: Any) -> Any:
    if type(key) is str and key not in _NOT_PLAIN:
        return dict.setdefault(self, key, default)
    return _FPD_METHODS["setdefault"](self, key, default)


PLAIN_METHODS = {"__getitem__": _plain_getitem, "__contains__": _plain_contains,
                 "__setitem__": _plain_setitem, "setdefault": _plain_setdefault}  # patch 7
_W3DTF = feedparser.datetimes._parse_date_w3dtf
_HANDLERS = feedparser.datetimes._date_handlers  # the list _parse_date walks, in order
_ASCII_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _w3dtf(text: str) -> Any:
    """_parse_date_w3dtf, without running it on text that begins with a letter (patch 8)."""
    if text[:1] in _ASCII_LETTERS:
        return None
    return _W3DTF(text)


def _buffered_reset(self: Any) -> None:
    """ExpatParser.reset, with one call of ``characters`` per run of text (patch 5)."""
    _EXPAT_RESET(self)
    self._parser.buffer_text = True


def _patch(on: bool) -> None:
    feedparser.mixin._urljoin, feedparser.mixin.make_safe_absolute_uri = (
        CACHED_URI_FUNCS if on else _ORIGINAL_URI_FUNCS)
    feedparser.api.PREFERRED_XML_PARSERS = _INSTALLED if on else _PREFERRED
    feedparser.mixin.copy = _DeepCopy if on else copy
    xml.sax.expatreader.ExpatParser.reset = _buffered_reset if on else _EXPAT_RESET
    feedparser.util.FeedParserDict.get = _plain_get if on else _DICT_GET
    for name, method in (PLAIN_METHODS if on else _FPD_METHODS).items():
        setattr(_FPD, name, method)
    # In place: feedparser.mixin imported _parse_date, which reads this very list.
    _HANDLERS[:] = [(_w3dtf if on else _W3DTF) if h in (_W3DTF, _w3dtf) else h for h in _HANDLERS]
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
