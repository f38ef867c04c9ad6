"""Manage the feeds of feeds.yaml: list, remove, OPML import and export.

The file is edited through :class:`.edit.FeedsFile`: comments and order survive, every
edit is validated and written atomically. Adding a feed fetches it first, so it lives
in the pipeline (``aggregator.pipeline.feeds.add_feed``): this stage never touches the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlsplit

from ..errors import ConfigError
from .edit import FeedEntry, FeedsFile, editing, feed_entries, find_duplicate, new_node

# ----------------------------------------------------------------------------- public API


def list_feeds(path: Path | str) -> list[FeedEntry]:
    """The ``feeds:`` entries of *path*, in file order."""
    return feed_entries(FeedsFile(Path(path)))


def remove_feed(path: Path | str, url: str) -> FeedEntry:
    """Remove the entry for *url* (compared by :func:`normalize_url`); returns it. Raises ConfigError if absent."""
    with editing(path, f"feeds remove {url}") as doc:
        known = feed_entries(doc)
        hit = find_duplicate(known, url)
        if hit is None:
            raise ConfigError(f"no feed {url} in the config", doc.path)
        doc.remove(known.index(hit))
        doc.save()
    return hit


# ----------------------------------------------------------------------------- OPML


@dataclass(frozen=True)
class ImportReport:
    added: tuple[FeedEntry, ...] = ()
    duplicates: tuple[str, ...] = ()  # already in the config, or twice in the file
    invalid: tuple[str, ...] = ()  # xmlUrl values that are not http(s) URLs
    unmatched: tuple[str, ...] = ()  # categories/folders that name no topic: not kept

    def summary(self) -> str:
        text = f"{len(self.added)} feeds added, {len(self.duplicates)} already present"
        if self.invalid:
            text += f", {len(self.invalid)} invalid URLs skipped"
        if self.unmatched:
            text += "; categories that are not topics (ignored): " + ", ".join(self.unmatched)
        return text


@dataclass(frozen=True)
class OpmlFeed:
    url: str
    name: str = ""
    labels: tuple[str, ...] = ()  # category segments and parent outline titles, outermost first


def slugify(label: str) -> str:
    """``"Baltic Defence"`` -> ``"baltic-defence"``: how an OPML category is matched to a topic slug."""
    return "-".join(label.strip().lower().replace("_", " ").split())


def read_opml(data: bytes, source: str = "OPML") -> list[OpmlFeed]:
    """Every outline with an ``xmlUrl``, with its categories and folder titles. Raises ConfigError."""
    import xml.etree.ElementTree as ET

    if b"<!DOCTYPE" in data[:4096].upper() or b"<!ENTITY" in data.upper():
        raise ConfigError("OPML with a DOCTYPE or entities is refused (entity expansion)", source)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        raise ConfigError(f"not valid XML: {e}", source) from None
    if root.tag.lower() != "opml" or root.find("body") is None:
        raise ConfigError("not an OPML file (no <opml><body>)", source)
    feeds: list[OpmlFeed] = []

    def walk(node: Any, parents: tuple[str, ...]) -> None:
        for out in node.findall("outline"):
            text = (out.get("title") or out.get("text") or "").strip()
            cats = []
            for cat in (out.get("category") or "").split(","):
                cats.extend(seg for seg in cat.strip().split("/") if seg.strip())
            url = (out.get("xmlUrl") or out.get("xmlurl") or "").strip()
            if url:
                feeds.append(OpmlFeed(url=url, name=" ".join(text.split()),
                                      labels=parents + tuple(c.strip() for c in cats)))
            walk(out, parents + ((text,) if text and not url else ()))

    walk(root.find("body"), ())
    return feeds


def import_opml(path: Path | str, opml_file: Path | str) -> ImportReport:
    """Append every new feed of *opml_file*; categories and folders naming a topic become tags.

    Nothing is fetched (an OPML export can list hundreds of feeds); ``aggregator run``
    reports the ones that do not work. One atomic write for the whole import.
    """
    opml_file = Path(opml_file)
    try:
        data = opml_file.read_bytes()
    except OSError as e:
        raise ConfigError(f"cannot read OPML: {e.strerror or e}", opml_file) from None
    feeds = read_opml(data, str(opml_file))
    with editing(path, f"feeds import {opml_file}") as doc:
        return _import(doc, feeds)


def _import(doc: FeedsFile, feeds: list[OpmlFeed]) -> ImportReport:
    slugs = doc.topic_slugs()
    known = feed_entries(doc)
    added, dups, invalid, unmatched = [], [], [], []
    for f in feeds:
        parts = urlsplit(f.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            invalid.append(f.url)
            continue
        if find_duplicate(known + added, f.url):
            dups.append(f.url)
            continue
        tags = []
        for label in f.labels:
            slug = slugify(label)
            if slug in slugs:
                if slug not in tags:
                    tags.append(slug)
            elif label not in unmatched:
                unmatched.append(label)
        doc.append(new_node(f.url, f.name, tags))
        added.append(FeedEntry(url=f.url, name=f.name, tags=tuple(tags)))
    if added:
        doc.save()
    return ImportReport(tuple(added), tuple(dups), tuple(invalid), tuple(unmatched))


def export_opml(path: Path | str, *, now: Any = None, title: str | None = None) -> str:
    """OPML 2.0 listing the configured http(s) feeds, their tags as ``category``.

    Local ``path:`` feeds are left out: a file path means nothing to another reader.
    """
    import xml.etree.ElementTree as ET
    from email.utils import format_datetime

    doc = FeedsFile(Path(path))
    settings = doc.data.get("settings")
    if title is None:
        title = str(settings.get("title") or "") if isinstance(settings, Mapping) else ""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = f"{title or 'aggregator'}: source feeds"
    ET.SubElement(head, "dateCreated").text = format_datetime(now or datetime.now(timezone.utc), usegmt=True)
    body = ET.SubElement(root, "body")
    for e in feed_entries(doc):
        if e.local or not e.url:
            continue
        attrs = {"type": "rss", "text": e.name or e.url, "title": e.name or e.url, "xmlUrl": e.url}
        if e.tags:
            attrs["category"] = ",".join(e.tags)
        ET.SubElement(body, "outline", attrs)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
