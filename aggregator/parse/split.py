"""Split an RSS 2.0 / RSS 1.0 / Atom body into its raw items, so known items skip feedparser.

``split_items`` runs expat (the parser feedparser's strict mode uses, so both agree on what is
well-formed) once over the body and records the exact byte span of every ``<item>``/``<entry>``.
Each item is fingerprinted by what an XML parser sees in it (names, attributes, namespace
declarations, text), not by its bytes: CDATA or escaped, comments, quoting do not change what
feedparser makes of it, and publishers (and ``benchmarks/synth.py``) switch between them from
one version of a feed to the next. ``Split.without(skip)`` rebuilds the body with the known
items cut out and every other byte (feed-level data, namespaces, whitespace) kept, so
feedparser gives the same entries for the rest.

"The same" is the contract (issue 8), and feedparser keeps some state across items, so a body
is refused (``Unsplittable``) whenever cutting an item could change what the others become:
DOCTYPE, not well-formed, another encoding, an item or feed element where none is expected,
elements after the items, or namespace declarations inside items that feedparser would
remember. The caller then parses the whole body. ``tests/test_parse_split.py`` proves it.
"""

from __future__ import annotations

import hashlib
import pyexpat
from dataclasses import dataclass
from typing import Collection, Mapping

RSS10 = "http://purl.org/rss/1.0/"
RSS090 = "http://my.netscape.com/rdf/simple/0.9/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
ATOM10 = "http://www.w3.org/2005/Atom"
ATOM03 = "http://purl.org/atom/ns#"
# (root, item) element names as expat reports them ("uri local", or "local" without a namespace):
# root -> (path from the root to the items' parent, the item names there).
LAYOUTS = {
    "rss": (("rss", "channel"), frozenset({"item"})),
    f"{RDF} RDF": ((f"{RDF} RDF",), frozenset({f"{RSS10} item", f"{RSS090} item"})),
    f"{ATOM10} feed": ((f"{ATOM10} feed",), frozenset({f"{ATOM10} entry"})),
    f"{ATOM03} feed": ((f"{ATOM03} feed",), frozenset({f"{ATOM03} entry"})),
}
# feedparser lowercases names and maps several namespaces to none, so any of these anywhere
# else would start an entry or switch its feed/entry state.
ENTRY_NAMES = frozenset({"item", "entry"})
STATEFUL_NAMES = ENTRY_NAMES | {"channel", "feed", "rss", "rdf"}
AFTER_ITEMS_OK = frozenset({"textinput", "image"})  # RSS 1.0 puts these after the items
VERSION_NAMESPACES = frozenset({RSS10, RSS090, ATOM10.lower()})  # feedparser sets its version from these
UTF8 = frozenset({"utf-8", "utf8"})
ASCII = frozenset({"us-ascii", "ascii"})
HASH_BYTES = 8  # 16 hex characters


class Unsplittable(Exception):
    """The body cannot be split without risk; the message says why (for tests and logs)."""


@dataclass(frozen=True)
class Split:
    """A body cut into items: ``spans[i]`` is item i's (start, end) byte range, in order."""

    body: bytes
    spans: tuple[tuple[int, int], ...]
    hashes: tuple[str, ...]

    def without(self, skip: Collection[str]) -> tuple[bytes, int]:
        """The body with every item whose fingerprint is in *skip* cut out, and how many were."""
        if not skip:
            return self.body, 0
        parts, pos, cut = [], 0, 0
        view = memoryview(self.body)
        for (start, end), h in zip(self.spans, self.hashes):
            if h in skip:
                parts.append(view[pos:start])
                pos, cut = end, cut + 1
        if not cut:
            return self.body, 0
        parts.append(view[pos:])
        return b"".join(parts), cut


def effective_encoding(content_type: str, xml_encoding: str | None) -> str:
    """The encoding feedparser tries first (RFC 3023 as feedparser reads it), lowercased."""
    media, _, params = content_type.partition(";")
    media = media.strip().lower()
    charset = ""
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip("'\"").lower()
    if media in ("application/xml", "application/xml-dtd", "application/xml-external-parsed-entity") or (
            media.startswith("application/") and media.endswith("+xml")):
        return charset or (xml_encoding or "").lower() or "utf-8"
    if media.startswith("text/"):
        return charset or "us-ascii"
    return (xml_encoding or "").lower() or "utf-8"


def fingerprint(context: "hashlib._Hash", events: list[str]) -> str:
    h = context.copy()
    h.update("\x01".join(events).encode("utf-8", "surrogatepass"))
    return h.hexdigest()


def split_items(body: bytes, *, base: str, content_type: str,
                known_namespaces: Mapping[str, str]) -> Split:
    """Cut *body* into items or raise Unsplittable. ``known_namespaces`` is feedparser's table
    (lowercased URI -> its prefix); ``base`` and the feed's namespace context go into every
    fingerprint, so the same item bytes under another base or binding count as new."""
    head = body[:256]
    if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<") or b"\x00" in head:
        raise Unsplittable("not an ASCII-compatible XML body")
    scan = _Scanner(body, known_namespaces)
    try:
        scan.run()
    except pyexpat.ExpatError as exc:
        raise Unsplittable(f"not well-formed: {exc}") from None
    if scan.root is None:
        raise Unsplittable("no root element")
    encoding = effective_encoding(content_type, scan.xml_encoding)
    if (scan.xml_encoding or "utf-8").lower() not in UTF8 | ASCII:
        raise Unsplittable(f"declared encoding {scan.xml_encoding}")
    if encoding not in UTF8 and not (encoding in ASCII and body.isascii()):
        raise Unsplittable(f"encoding {encoding}")
    scan.check_namespaces()
    context = hashlib.blake2b(repr((base, scan.context)).encode("utf-8", "surrogatepass"),
                              digest_size=HASH_BYTES)
    hashes = tuple(fingerprint(context, events) for events in scan.events)
    return Split(body, tuple(scan.spans), hashes)


class _Scanner:
    """One expat pass recording item spans and everything the safety rules look at."""

    def __init__(self, body: bytes, known: Mapping[str, str]):
        self.body, self.known = body, known
        self.root: str | None = None
        self.items_parent: tuple[str, ...] = ()
        self.item_names: frozenset[str] = frozenset()
        self.xml_encoding: str | None = None
        self.spans: list[tuple[int, int]] = []
        self.events: list[list[str]] = []  # per item: what a parser sees in it, for its fingerprint
        self.text = ""
        self.item_events: list[str] = []  # the open item's
        self.inner = 0  # depth inside the open item
        self.plain: set[str] = set()  # expat names met inside items that are no feed or entry element
        self.locals: dict[str, str] = {}  # expat name -> lowercased local name
        self.stack: list[str] = []
        self.item_depth = -1  # depth of the open item, -1 outside items
        self.item_start = 0
        self.item_tag = b""
        self.after_first = False
        self.allowed_depth = -1  # inside a textinput/image after the items
        self.pending: list[tuple[str | None, str]] = []
        self.decls_before: set[tuple[str | None, str]] = set()
        self.decls_all: list[tuple[str | None, str]] = []
        self.decls_in_items: list[tuple[str | None, str]] = []
        self.context: list[object] = []  # namespace bindings and ancestor attributes before the items
        p = self.parser = pyexpat.ParserCreate(namespace_separator=" ")
        p.SetParamEntityParsing(pyexpat.XML_PARAM_ENTITY_PARSING_NEVER)
        p.StartElementHandler = self.start
        p.EndElementHandler = self.end
        p.StartNamespaceDeclHandler = self.namespace
        p.CharacterDataHandler = self.chars
        p.buffer_text = True
        p.buffer_size = 1 << 16  # long escaped HTML in one text event
        p.StartDoctypeDeclHandler = self.doctype
        p.XmlDeclHandler = self.xml_decl

    def run(self) -> None:
        self.parser.Parse(self.body, True)

    def xml_decl(self, version: str, encoding: str | None, standalone: int) -> None:
        self.xml_encoding = encoding

    def doctype(self, *args: object) -> None:
        raise Unsplittable("has a DOCTYPE")  # entities could be anywhere; feedparser rewrites them

    def namespace(self, prefix: str | None, uri: str | None) -> None:
        self.pending.append((prefix or None, uri or ""))

    # start/end/chars run for every element and text run of every body (the split must not slow
    # a cold parse, issue 8). Outside the items they do the checks; inside an item the parser
    # calls the _in_* handlers instead (swapped in at the item's start, out at its end), which
    # only record what the fingerprint needs and look for what would make the body unsplittable.

    def chars(self, data: str) -> None:
        pass  # text outside the items is not fingerprinted

    def _in_chars(self, data: str) -> None:
        self.text += data  # one text event however expat cut it (CDATA sections, references)

    def _in_start(self, name: str, attrs: dict[str, str]) -> None:
        decls = self.pending
        if decls:
            self.pending = []
            self.decls_all.extend(decls)
            self.decls_in_items.extend(decls)
        if name not in self.plain:  # a name met for the first time inside an item
            if name.rpartition(" ")[2].lower() in STATEFUL_NAMES:
                raise Unsplittable(f"<{name.rpartition(' ')[2].lower()}> inside an item")
            self.plain.add(name)
        events = self.item_events
        if self.text:
            events.append("T" + self.text)
            self.text = ""
        events.append(f"S{name}\x00{decls!r}\x00{attrs!r}" if decls or attrs else "S" + name)
        self.inner += 1

    def _in_end(self, name: str) -> None:
        events = self.item_events
        if self.text:
            events.append("T" + self.text)
            self.text = ""
        events.append("E")
        if self.inner:
            self.inner -= 1
            return
        self.stack.pop()  # the item's own end
        at = self.parser.CurrentByteIndex
        if not self.body.startswith(b"</" + self.item_tag, at):
            raise Unsplittable("a self-closing item")
        self.spans.append((self.item_start, self.body.index(b">", at) + 1))
        self.item_depth = -1
        p = self.parser
        p.StartElementHandler, p.EndElementHandler, p.CharacterDataHandler = self.start, self.end, self.chars

    def start(self, name: str, attrs: dict[str, str]) -> None:
        decls = self.pending
        if decls:
            self.pending = []
            self.decls_all.extend(decls)
        local = self.locals.get(name)
        if local is None:
            local = self.locals[name] = name.rpartition(" ")[2].lower()
        depth = len(self.stack)
        if depth == 0:
            self._root(name)
        if name in self.item_names and tuple(self.stack) == self.items_parent:
            self.item_depth, self.item_start = depth, self.parser.CurrentByteIndex
            self.item_tag = self._tag_name(self.item_start)
            self.after_first = True
            self.decls_in_items.extend(decls)
            self.item_events = [f"S{name}\x00{decls!r}\x00{attrs!r}"]
            self.events.append(self.item_events)
            self.stack.append(name)
            self.inner, self.text = 0, ""
            p = self.parser
            p.StartElementHandler, p.EndElementHandler, p.CharacterDataHandler = (
                self._in_start, self._in_end, self._in_chars)
            return
        if local in ENTRY_NAMES:
            raise Unsplittable(f"<{local}> where no item is expected")
        elif self.after_first and self.allowed_depth < 0:
            if local not in AFTER_ITEMS_OK:
                raise Unsplittable(f"<{local}> after the items")
            self.allowed_depth = depth
        elif not self.after_first:
            self.decls_before.update(decls)
            self.context.append(decls)
            path = (*self.stack, name)
            if path == self.items_parent[:len(path)]:
                self.context.append((name, sorted(attrs.items())))  # an ancestor of the items
        self.stack.append(name)

    def end(self, name: str) -> None:
        self.stack.pop()
        if len(self.stack) == self.allowed_depth:
            self.allowed_depth = -1

    def _root(self, name: str) -> None:
        if name not in LAYOUTS:
            raise Unsplittable(f"root element {name!r} is not RSS, RDF or Atom")
        self.root = name
        self.items_parent, self.item_names = LAYOUTS[name]

    def _tag_name(self, at: int) -> bytes:
        end = at + 1
        while end < len(self.body) and self.body[end] not in b" \t\r\n/>":
            end += 1
        return self.body[at + 1:end]

    def check_namespaces(self) -> None:
        """feedparser remembers every namespace declaration it meets (``namespaces_in_use``,
        ``namespacemap``), so one inside a cut item must change nothing it would remember."""
        bound: dict[str, str] = {}
        canonical = set(self.known.values())
        for prefix, uri in self.decls_all:
            if prefix is None:
                continue
            if bound.setdefault(prefix, uri) != uri:
                raise Unsplittable(f"prefix {prefix!r} bound to two namespaces")
            if not self._is_known(uri) and prefix in canonical:
                raise Unsplittable(f"prefix {prefix!r} shadows a namespace feedparser knows")
        for prefix, uri in self.decls_in_items:
            if (prefix, uri) in self.decls_before:
                continue
            if prefix is None and self._is_known(uri) and uri.lower() not in VERSION_NAMESPACES:
                continue  # e.g. xhtml content: only sets state feedparser never reads back
            raise Unsplittable(f"namespace {uri!r} first declared inside an item")

    def _is_known(self, uri: str) -> bool:
        low = uri.lower()
        return low in self.known or "backend.userland.com/rss" in low
