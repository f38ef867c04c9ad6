"""Publish stage: Snapshot × topics → RSS 2.0, Atom 1.0, JSON Feed 1.1, index.html, OPML.

The only module that imports feedgen. feedgen 1.0.0 builds the skeleton (channel/feed
metadata, entry id, title, dates, link, summary, content); the rest is added to the lxml
tree it returns, because feedgen drops entry link rel/type, writes ``length="None"`` for
enclosures, gives Atom <source> no id/updated and cannot write dc:creator, hubs or
several categories with our schemes. Every value reaching feedgen was cleaned by
``model`` (feedgen/lxml raise ValueError on control characters).

Also health.atom, the operator's feed of failing sources (content: ``healthfeed``).
Only the topics that changed are rendered; the rest cost their counts and headlines.

Files are written atomically (temp file in the same folder, fsync, os.replace) and left
untouched when their bytes did not change, so readers polling them get cheap 304s.
"""

from __future__ import annotations

import errno
import html
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Callable, Mapping, Sequence

from feedgen.feed import FeedGenerator
from lxml import etree

from .. import PROJECT_URL, __version__, atomicfile
from . import healthfeed, jsonfeed, manifest, site
from ..errors import PublishError
from .model import (
    ALL, FORMATS, HEADLINES, MEDIA_TYPES, ItemView, TopicView, feed_name, file_url, rfc3339, select, site_url,
)
from .stream import TopicStream
from .healthfeed import HealthView, health_view
from ..records import Config, FeedState, Snapshot, utc
from ..reports import PublishReport

__all__ = ["publish", "publish_health", "outputs_complete", "select", "render_rss", "render_atom", "render_feeds", "render_health",
           "write_atomic", "remove_stale_temps", "stylesheet"]

ATOM = "http://www.w3.org/2005/Atom"
DC = "http://purl.org/dc/elements/1.1/"
XSL_PI = 'type="text/xsl" href="feed.xsl"'


def _a(tag: str) -> str:
    return f"{{{ATOM}}}{tag}"


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    el = etree.SubElement(parent, tag, {k: v for k, v in attrs.items() if v is not None})
    if text is not None:
        el.text = text
    return el


def _whole(dt: datetime) -> datetime:
    return utc(dt).replace(microsecond=0)


def _generator(config: Config, view: TopicView) -> FeedGenerator:
    """feedgen with the feed metadata and entries; _point() adds the per-format links."""
    settings = config.settings
    fg = FeedGenerator()
    fg.load_extension("dc", atom=False, rss=True)  # declares xmlns:dc on <rss>
    fg.title(view.title)
    fg.description(view.description)  # RSS description and Atom subtitle
    fg.updated(_whole(view.updated))
    fg.lastBuildDate(_whole(view.updated))
    fg.author({"name": config.settings.title or "aggregator", "uri": site_url(settings)})
    fg.generator("aggregator", __version__, PROJECT_URL)
    for v in view.items:
        fe = fg.add_entry(order="append")  # the default prepends, reversing our order
        fe.id(v.id)  # also the RSS guid, isPermaLink="false"
        fe.title(v.title)
        fe.published(_whole(v.published))
        fe.updated(_whole(v.updated))
        if v.link:
            fe.link(href=v.link, rel="alternate")
        if v.summary_html:
            fe.summary(v.summary_html, type="html")
        if v.content_html:
            fe.content(v.content_html, type="html")
        elif not v.link and not v.summary_html:
            # Atom needs an alternate link or content; RSS a title (present) suffices.
            fe.content(html.escape(v.title), type="html")
        elif not v.link:
            fe.content(v.summary_html, type="html")
    return fg


def _point(fg: FeedGenerator, config: Config, name: str, fmt: str) -> FeedGenerator:
    """Set the feed id and links for one output file (the entries stay: built once for both)."""
    settings = config.settings
    self_url = file_url(settings, name)
    fg.id(self_url)
    fg.link(href=self_url, rel="self", type=MEDIA_TYPES[fmt], replace=True)
    if settings.websub_hub:
        fg.link(href=settings.websub_hub, rel="hub")
    # feedgen sets the RSS channel <link> from the LAST link added: the site goes last.
    fg.link(href=site_url(settings), rel="alternate", type="text/html")
    return fg


def _serialise(root: etree._Element) -> bytes:
    root.addprevious(etree.ProcessingInstruction("xml-stylesheet", XSL_PI))
    return etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8",
                          pretty_print=True)


def render_rss(config: Config, view: TopicView, fg: FeedGenerator | None = None) -> bytes:
    """RSS 2.0 bytes for one topic view (*fg*: its _generator, when already built)."""
    settings = config.settings
    fg = _point(fg or _generator(config, view), config, feed_name(view.slug, "rss"), "rss")
    root, _ = fg._create_rss()
    channel = root.find("channel")
    self_link = channel.find(_a("link"))
    if settings.websub_hub:
        self_link.addnext(etree.Element(_a("link"), href=settings.websub_hub, rel="hub"))
    for el, v in zip(channel.findall("item"), view.items):
        _rss_item_extras(el, v, config)
    return _serialise(root)


def _rss_item_extras(el: etree._Element, v: ItemView, config: Config) -> None:
    site = site_url(config.settings)
    for name in v.authors:  # RSS <author> must be an e-mail address; names go in dc:creator
        _sub(el, f"{{{DC}}}creator", name)
    for cat in v.categories:
        _sub(el, "category", cat)
    for slug in v.topics:
        _sub(el, "category", slug, domain=site)
    if v.enclosures:  # RSS allows one enclosure; length is required, 0 when unknown
        enc = v.enclosures[0]
        _sub(el, "enclosure", url=enc.url, length=str(enc.length or 0), type=enc.type)
    src = next((s for s in v.sources if s.feed_url), None)
    if src is not None:
        _sub(el, "source", src.name, url=src.feed_url)


def render_atom(config: Config, view: TopicView, fg: FeedGenerator | None = None) -> bytes:
    """Atom 1.0 bytes for one topic view (*fg*: its _generator, when already built)."""
    fg = _point(fg or _generator(config, view), config, feed_name(view.slug, "atom"), "atom")
    root, _ = fg._create_atom()
    # feedgen fakes the Atom namespace with an "xmlns" attribute on un-namespaced
    # elements; a round trip through the parser gives real namespaced elements.
    root = etree.fromstring(etree.tostring(root))
    for el, v in zip(root.findall(_a("entry")), view.items):
        _atom_entry_extras(el, v, config)
    return _serialise(root)


def _atom_entry_extras(el: etree._Element, v: ItemView, config: Config) -> None:
    site = site_url(config.settings)
    for link in el.findall(_a("link")):  # feedgen dropped rel and type
        link.set("rel", "alternate")
        link.set("type", "text/html")
    for name in v.authors:
        _sub(_sub(el, _a("author")), _a("name"), name)
    for cat in v.categories:
        _sub(el, _a("category"), term=cat)
    for slug in v.topics:
        t = config.topic(slug)
        _sub(el, _a("category"), term=slug, scheme=site, label=t.title if t else None)
    for enc in v.enclosures:
        _sub(el, _a("link"), rel="enclosure", href=enc.url, type=enc.type,
             length=str(enc.length) if enc.length else None)
    seen = {v.link}
    for s in v.sources:  # every source's copy of the story, for attribution
        if s.entry_link and s.entry_link not in seen:
            seen.add(s.entry_link)
            _sub(el, _a("link"), rel="via", href=s.entry_link, type="text/html", title=s.name)
    if v.sources:  # Atom allows one <source>: the first source to carry the item
        s = v.sources[0]
        src = _sub(el, _a("source"))
        _sub(src, _a("id"), s.feed_id)
        _sub(src, _a("title"), s.feed_title or s.name)
        if s.feed_link:
            _sub(src, _a("link"), rel="alternate", href=s.feed_link, type="text/html")
        if s.feed_url:
            _sub(src, _a("link"), rel="self", href=s.feed_url)
        _sub(src, _a("updated"), rfc3339(s.updated))


RENDERERS: dict[str, Callable[[Config, TopicView], bytes]] = {
    "rss": render_rss,
    "atom": render_atom,
    "json": jsonfeed.render,
}


def render_feeds(config: Config, view: TopicView) -> dict[str, bytes]:
    """fmt -> bytes of every format of one view; RSS and Atom share one feedgen build."""
    fg = _generator(config, view)
    return {"rss": render_rss(config, view, fg), "atom": render_atom(config, view, fg),
            "json": jsonfeed.render(config, view)}


def stylesheet() -> bytes:
    """The XSLT that makes feeds readable in a browser (aggregator/static/feed.xsl)."""
    return resources.files("aggregator.publish").joinpath("static/feed.xsl").read_bytes()


def write_atomic(path: Path, data: bytes, *, sync_dir: bool = True) -> bool:
    """Write *data* to *path* unless it already holds exactly those bytes; True if written.

    Temp file in the same folder, fsync, os.replace: a crash leaves the old file or the
    new one. On failure the old file stays, the temp file is removed, PublishError raised.
    *sync_dir* False leaves the folder's fsync (which makes the rename durable) to the
    caller, so a publish of many files syncs the folder once.
    """
    path = Path(path)
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    except OSError as e:
        raise PublishError(path, f"cannot read: {e.strerror or e}") from e
    try:
        atomicfile.write(path, data, mode=0o644, sync_dir=sync_dir)  # mkstemp makes 0600; web servers must read it
    except OSError as e:
        reason = "no space left on device" if e.errno == errno.ENOSPC else (e.strerror or str(e))
        raise PublishError(path, f"cannot write: {reason}") from e
    return True


def remove_stale_temps(folder: Path, names: list[str]) -> None:
    """Delete temp files write_atomic left for *names* when a run was killed mid-write.

    Only safe while no other publish writes to *folder*: the pipeline holds the run lock.
    """
    for name in names:
        for stale in folder.glob(f".{name}.*.tmp"):
            try:
                stale.unlink()
            except OSError:
                pass


def render_health(config: Config, view: HealthView) -> bytes:
    """health.atom: one Atom entry per failing source (see healthfeed), valid when empty."""
    settings = config.settings
    fg = FeedGenerator()
    fg.id(view.self_url)
    fg.title(view.title)
    fg.subtitle(view.subtitle)
    fg.updated(_whole(view.updated))
    fg.author({"name": settings.title or "aggregator", "uri": view.site_url})
    fg.generator("aggregator", __version__, PROJECT_URL)
    # No hub link: publish() leaves operator files out of its report, so no hub is ever
    # pinged for this feed, and advertising one would promise pushes that never come.
    fg.link(href=view.self_url, rel="self", type=MEDIA_TYPES["atom"])
    fg.link(href=view.site_url, rel="alternate", type="text/html")
    for p in view.problems:
        fe = fg.add_entry(order="append")
        fe.id(p.id)
        fe.title(p.title)
        fe.updated(_whole(p.updated))
        if p.link:
            fe.link(href=p.link, rel="alternate")
        fe.content(p.content_html, type="html")
    root, _ = fg._create_atom()
    root = etree.fromstring(etree.tostring(root))  # real namespaces, as in render_atom
    for el in root.findall(_a("entry")):
        for link in el.findall(_a("link")):  # feedgen dropped rel
            link.set("rel", "alternate")
    return _serialise(root)


def _wanted(slugs: list[str], topics: set[str] | None, out: Path) -> set[str]:
    """Slugs to render: the changed ones (None: all), "all" when any changed, any missing a file."""
    if topics is None:
        wanted = set(slugs)
    else:
        wanted = {s for s in topics if s in slugs}
        if wanted:
            wanted.add(ALL)
    for slug in slugs:
        if slug not in wanted and not all((out / feed_name(slug, f)).exists() for f in FORMATS):
            wanted.add(slug)
    return wanted


def publish_health(config: Config, feeds: Mapping[str, FeedState], *, sync_dir: bool = True) -> bool:
    """Write health.atom if its bytes changed; True if written.

    It depends on the feed states alone (an empty one is dated FALLBACK_TIME), so a run
    where no item changed can keep it current without reading the items.
    """
    health = render_health(config, health_view(config, feeds))
    return write_atomic(Path(config.settings.output_dir) / healthfeed.FILE, health, sync_dir=sync_dir)


def outputs_complete(config: Config) -> bool:
    """Whether ``output/`` holds every file a publish writes, rendered for this config, and
    none of a topic since removed (see ``manifest``): a run that changed no item then has
    nothing to render."""
    return manifest.current(config, Path(config.settings.output_dir))


def publish(config: Config, snapshot: Snapshot, *, now: datetime, topics: set[str] | None = None,
            chosen: Mapping[str, Sequence[object]] | None = None) -> PublishReport:
    """Write every feed file of the changed *topics* (None: all) and the site files; remove
    the files of topics no longer configured (only files the manifest says we wrote).

    The caller holds the run lock (pipeline.session): temp files of a killed publish
    are removed first. A slug is rendered when it changed, when any topic changed ("all"), or when one of
    its files is missing; the others cost only their counts and headlines. Every slug is
    rendered when the config changed what the files show (manifest.fingerprint). index.html,
    feeds.opml, feed.xsl and health.atom are rendered every time and written only when
    their bytes differ; health.atom is left out of the report (see below). The folder
    is fsynced once, after the last rename. *chosen*: ``select()`` of this snapshot at
    *now*, when the caller has it already.
    """
    out = Path(config.settings.output_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise PublishError(out, f"cannot create the output folder: {e.strerror or e}") from e
    now = utc(now)
    old = manifest.read(out)
    expected, rendered_for = manifest.expected_files(config), manifest.fingerprint(config)
    if old is None or old.config != rendered_for:
        topics = None
    # Every file this publish may write is listed before it is written (the old fingerprint
    # kept until all is rendered), so a killed publish leaves none that a later one would not remove.
    listed = manifest.Manifest((old.files if old else frozenset()) | expected, old.config if old else "")
    write_atomic(out / manifest.FILE, listed.render())
    # Chosen by their heads: only the items of the topics rendered, and the headlines of the
    # others, are decoded from the store; each topic's view is built, rendered and let go in turn.
    picked = chosen if chosen is not None else select(config, snapshot.heads().values(), now)
    remove_stale_temps(out, [feed_name(s, f) for s in picked for f in FORMATS]
                       + ["feed.xsl", "index.html", "feeds.opml", *site.OPERATOR_FILES])
    wanted = _wanted(list(picked), topics, out)
    snapshot.prefetch(dict.fromkeys(h.id for slug, heads in picked.items()
                                    for h in (heads if slug in wanted else heads[:HEADLINES])))
    stream = TopicStream(config, picked, snapshot.items, snapshot.feeds, now, wanted)
    listing = stream.summaries()
    written: list[Path] = []
    unchanged: list[Path] = []
    rendered: list[str] = []
    health_written = listed_now = False
    removed: tuple[Path, ...] = ()

    def put(path: Path, data: bytes) -> None:
        (written if write_atomic(path, data, sync_dir=False) else unchanged).append(path)

    try:
        for view in stream.views():
            rendered.append(view.slug)
            for fmt, data in render_feeds(config, view).items():
                put(out / feed_name(view.slug, fmt), data)
        put(out / "feed.xsl", stylesheet())
        put(out / "index.html", site.render_index(config, listing))
        put(out / "feeds.opml", site.render_opml(config, listing))
        # The operator's feed: written like the rest but not reported, as the report lists
        # the files for readers (websub pings each feed in it; metrics.prom is not in it either).
        health_written = publish_health(config, snapshot.feeds, sync_dir=False)
        removed = manifest.remove(out, manifest.stale(old, expected))
        listed_now = write_atomic(out / manifest.FILE, manifest.Manifest(expected, rendered_for).render(),
                                  sync_dir=False)
    finally:
        if written or health_written or removed or listed_now:
            atomicfile.fsync_dir(out)
    return PublishReport(written=tuple(written), unchanged=tuple(unchanged),
                         topics_rendered=tuple(rendered), removed=removed)
