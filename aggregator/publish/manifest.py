"""Which files of ``output/`` the publisher wrote, so that it removes its own and nothing else.

``output/.aggregator-manifest.json`` (a dot-file: ``aggregator serve`` never serves it)::

    {"version": 1, "config": "<sha256 of what the output shows from feeds.yaml>",
     "files": ["all.atom", "all.json", "all.rss", "feed.xsl", ...]}

A publish first adds the files it may write to the manifest, then writes them, then
deletes the files the manifest lists that the config no longer has (a topic removed
from feeds.yaml: its .rss, .atom and .json), then writes the manifest of what is there.
A file the manifest never listed is never touched, so a file someone else put in
``output/`` is safe; so are the files of a topic removed before the first publish that
kept a manifest. ``config`` tells a run that read no item whether index.html, feeds.opml
and the feeds still show what feeds.yaml says (topics, titles, max_items, base_url…), and
:func:`expiries` when time alone will change what a topic shows (its ``max_age_days``).

Pure but for :func:`read` and :func:`remove`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from ..errors import PublishError
from ..records import Config, Item, utc
from .model import ALL, FORMATS, feed_name, item_time, slugs
from .site import OPERATOR_FILES

FILE = ".aggregator-manifest.json"
VERSION = 1
SITE_FILES = ("feed.xsl", "index.html", "feeds.opml")


@dataclass(frozen=True)
class Manifest:
    files: frozenset[str] = field(default_factory=frozenset)
    config: str = ""  # fingerprint() of the config the files were last rendered for

    def render(self) -> bytes:
        return (json.dumps({"version": VERSION, "config": self.config, "files": sorted(self.files)},
                           indent=1) + "\n").encode("utf-8")


def expected_files(config: Config) -> frozenset[str]:
    """Every file a publish (and a run's metrics) writes for *config*."""
    feeds = {feed_name(slug, fmt) for slug in slugs(config) for fmt in FORMATS}
    return frozenset(feeds | set(SITE_FILES) | set(OPERATOR_FILES))


def fingerprint(config: Config) -> str:
    """A digest of what the published files show from feeds.yaml (not its comments or line numbers)."""
    s = config.settings
    # Not the keywords and other rules: the items keep the topics they were tagged with
    # (``aggregator retag`` applies new rules), so editing a rule changes no published file.
    topics = [(t.slug, t.title, t.description, t.max_items, t.max_age_days) for t in config.topics]
    basis = repr((s.base_url, s.title, s.max_items, s.websub_hub, topics, ALL))
    return hashlib.sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()


def read(out: Path) -> Manifest | None:
    """The manifest in *out*; None if there is none, or it is not one (then nothing is removed)."""
    try:
        data = json.loads((Path(out) / FILE).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("files"), list):
        return None
    files = frozenset(f for f in data["files"] if isinstance(f, str) and _ours(f))
    config = data.get("config")
    return Manifest(files, config if isinstance(config, str) else "")


def _ours(name: str) -> bool:
    """A plain file name in output/ itself: never a path, a parent or a dot-file."""
    return bool(name) and not name.startswith(".") and "/" not in name and "\\" not in name and "\0" not in name


def stale(old: Manifest | None, expected: Iterable[str]) -> list[str]:
    """The files the publisher wrote before that the config no longer has, sorted."""
    return [] if old is None else sorted(old.files - frozenset(expected))


def remove(out: Path, names: Iterable[str]) -> tuple[Path, ...]:
    """Delete *names* from *out* (already gone: fine); the paths deleted. Raises PublishError."""
    removed = []
    for name in names:
        path = Path(out) / name
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as e:
            raise PublishError(path, f"cannot remove the file of a topic no longer configured: "
                                     f"{e.strerror or e}") from e
        removed.append(path)
    return tuple(removed)


def expiries(config: Config, chosen: Mapping[str, Sequence[Item]], now: datetime) -> dict[str, datetime | None]:
    """Topic slug -> when its oldest published item passes the topic's ``max_age_days`` (None:
    it publishes nothing that can age out), for each topic with a ``max_age_days``.

    *chosen* is :func:`select`'s answer at *now*. Until the earliest of these times, a run
    where no feed changed cannot change what the feeds show.
    """
    now = utc(now)
    out: dict[str, datetime | None] = {}
    for topic in config.topics:
        if topic.max_age_days is not None:
            times = [item_time(i, now) for i in chosen.get(topic.slug, ())]
            out[topic.slug] = min(times) + timedelta(days=topic.max_age_days) if times else None
    return out


def current(config: Config, out: Path) -> bool:
    """Whether *out* holds every file of *config*, rendered for this config, and none of a
    topic since removed: then a run that changed no item has nothing to render."""
    found = read(out)
    expected = expected_files(config)
    if found is None or found.files != expected or found.config != fingerprint(config):
        return False
    return all((Path(out) / name).is_file() for name in expected if name != "metrics.prom")


__all__ = ["FILE", "Manifest", "current", "expected_files", "expiries", "fingerprint", "read", "remove", "stale"]
