"""feeds.yaml as a document to edit: round-trip load, the ``feeds:`` entries, atomic save.

ruamel.yaml's round trip keeps comments, key order and quoting; the file's own
indentation is detected so untouched regions come back byte for byte. Every save
is validated with ``config.loads`` first and written atomically (temp file,
fsync, ``os.replace``), so a failed edit leaves the old file as it was.

Every command that writes the file reads, changes and saves it inside
:func:`editing`, which holds ``feeds.yaml.lock`` (a file lock): two edits at once
would otherwise each write the file they read, and one would be lost. Who holds it
(pid and command) is written beside it, in ``feeds.yaml.lock.holder``, so that a
command that gives up can say who it waited for. (Not in the lock file itself: some
filelock versions truncate that file on every attempt to take it, holder or not.)
"""

from __future__ import annotations

import io
import os
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping
from urllib.parse import urlsplit, urlunsplit

import filelock
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.tokens import CommentToken
from ruamel.yaml.util import load_yaml_guess_indent

from .. import atomicfile
from . import loader as config_mod
from ..errors import ConfigError, ConfigLocked

FEEDS_KEY = "feeds"
EDIT_LOCK_TIMEOUT = 15.0  # seconds: an edit holds the lock for well under one; a person is waiting


@dataclass(frozen=True)
class FeedEntry:
    """One entry of the ``feeds:`` list, as written in the file."""

    url: str  # the ``url:``, or the ``path:`` as written for a local file
    name: str = ""
    tags: tuple[str, ...] = ()
    categories: tuple[tuple[str, str], ...] = ()
    interval: Any = None  # as written: 3600, "30m"…
    local: bool = False  # a ``path:`` entry
    line: int = 0


# ----------------------------------------------------------------------------- the document


class FeedsFile:
    """A feeds.yaml loaded for a round trip, remembering its indentation."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError("config file not found (create it or pass --config)", self.path) from None
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"cannot read config: {e}", self.path) from None
        try:
            self.yaml, self.data = _load_round_trip(text)
        except YAMLError as e:
            raise ConfigError(f"invalid YAML: {' '.join(str(e).split())}", self.path) from None
        if self.data is None:
            self.data = CommentedMap()
        if not isinstance(self.data, CommentedMap):
            raise ConfigError("the top level must be a mapping with settings, topics and feeds", self.path, 1)

    def feeds(self, create: bool = False) -> CommentedSeq:
        node = self.data.get(FEEDS_KEY)
        if node is None:
            node = CommentedSeq()
            if create:
                self.data[FEEDS_KEY] = node
        if not isinstance(node, CommentedSeq):
            raise ConfigError("feeds must be a list", self.path, None, FEEDS_KEY)
        return node

    def append(self, node: CommentedMap) -> None:
        """Append a feed entry after the last one, keeping comments that follow the list below it."""
        seq = self.feeds(create=True)
        found = _tail_comment(seq[-1]) if len(seq) else None
        seq.append(node)
        if found is None or not len(node):
            return
        # ruamel hangs the comment lines after a list on its last scalar; appending would
        # leave them above the new entry. Move everything after that scalar's own line down.
        slots, i = found
        old = slots[i]
        head, _, rest = old.value.partition("\n")
        if rest.strip():
            if head.strip():
                old.value = head + "\n"
            else:
                slots[i] = None
            moved = CommentToken("\n" + rest, old.start_mark, old.end_mark)
            node.ca.items[list(node)[-1]] = [None, None, moved, None]

    def remove(self, index: int) -> None:
        """Delete entry *index* with its own comments (those indented as its keys are, like the
        shipped file's ``# confirmed:`` lines). The others around it (the entry before it's, a
        section's heading, comments after the list) stay where they were."""
        seq = self.feeds()
        entry = seq[index]
        column = entry.lc.col if isinstance(entry, CommentedMap) else 0
        # ruamel files the comments between two entries after the first one's last scalar, or,
        # when that is a flow list ("tags: [ukraine]"), before the second entry.
        before_it = _pre_comments(seq, index)  # never its own
        headings = ""
        tail = _tail_comment(entry)
        if tail is not None:
            headings = _not_indented_past(tail[0][tail[1]].value.partition("\n")[2], column)
        after_it = [t for t in _pre_comments(seq, index + 1) if t.column < column]
        carried = before_it + _comment_tokens(headings) + after_it
        if index + 1 < len(seq):  # before the entry that takes its place
            seq.ca.items.setdefault(index + 1, [None, None, None, None])[1] = carried or None
        elif index > 0 and any(t.value.strip() for t in carried):  # the last: after the entry before it
            text = "".join(" " * t.column + t.value if t.value.strip() else t.value for t in carried)
            before = seq[index - 1]
            slot = _tail_comment(before)
            if slot is not None:
                slot[0][slot[1]].value += text
            elif isinstance(before, CommentedMap):
                before.ca.items.setdefault(list(before)[-1], [None, None, None, None])[2] = \
                    CommentToken("\n" + text, CommentMark(0))
        del seq[index]

    def topic_slugs(self) -> list[str]:
        topics = self.data.get("topics")
        return [str(k) for k in topics] if isinstance(topics, Mapping) else []

    def dump(self) -> str:
        buf = io.StringIO()
        self.yaml.dump(self.data, buf)
        return buf.getvalue()

    def save(self) -> None:
        text = self.dump()
        config_mod.loads(text, self.path)  # never write a config the program would refuse
        atomic_write(self.path, text)


def lock_paths(path: Path) -> tuple[Path, Path]:
    """(the lock, the note naming its holder) of the config file *path*."""
    return path.with_name(path.name + ".lock"), path.with_name(path.name + ".lock.holder")


@contextmanager
def editing(path: Path | str, command: str, timeout: float | None = None) -> Iterator[FeedsFile]:
    """*path* loaded under its edit lock, for one read-modify-write (call ``save()`` inside).

    Waits up to *timeout* seconds (default EDIT_LOCK_TIMEOUT) for another command's edit,
    then raises ConfigLocked naming it. *command* describes this one for such a message.
    """
    path = Path(path)
    lock_path, holder_path = lock_paths(path)
    timeout = EDIT_LOCK_TIMEOUT if timeout is None else timeout
    lock = filelock.FileLock(str(lock_path))
    try:
        lock.acquire(timeout=max(timeout, 0.0), poll_interval=0.05)
    except filelock.Timeout:
        raise ConfigLocked(path, _holder(holder_path), timeout) from None
    except OSError as exc:
        raise ConfigError(f"cannot lock for editing ({lock_path}): {exc.strerror or exc}", path) from None
    try:
        try:
            atomicfile.write(holder_path, f"pid {os.getpid()}: aggregator {command}\n".encode(), sync_dir=False)
        except OSError:
            pass  # only a message depends on it
        yield FeedsFile(path)
    finally:
        try:
            holder_path.unlink()
        except OSError:
            pass
        lock.release()


def _holder(holder_path: Path) -> str:
    try:
        text = " ".join(holder_path.read_text(encoding="utf-8", errors="replace").split())
    except OSError:
        text = ""
    return text or "which one is not recorded"


# (mapping indent, sequence indent, dash offset): ruamel re-indents the whole file on
# dump, so pick the style the file already uses; tried in order, the first that
# reproduces the text exactly wins.
_STYLES = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 4, 0), (2, 3, 1), (4, 6, 4))


def _yaml(style: tuple[int, int, int]) -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096  # never re-wrap long lines the user wrote
    y.indent(mapping=style[0], sequence=style[1], offset=style[2])
    return y


def _load_round_trip(text: str) -> tuple[YAML, Any]:
    """(a YAML set to the file's indentation, the loaded document)."""
    _, indent, bsi = load_yaml_guess_indent(text)
    guess = (2, indent or 2, bsi or 0)
    for style in (guess,) + _STYLES:
        y = _yaml(style)
        data = y.load(text)
        buf = io.StringIO()
        y.dump(data, buf)
        if buf.getvalue() == text:
            return y, data
    y = _yaml(guess)
    return y, y.load(text)


def _pre_comments(seq: CommentedSeq, index: int) -> list[CommentToken]:
    """The comment tokens ruamel files before item *index* of *seq*."""
    slot = seq.ca.items.get(index)
    return list(slot[1]) if slot and len(slot) > 1 and slot[1] else []


def _comment_tokens(text: str) -> list[CommentToken]:
    """*text* (comment lines) as one token a line, each at its own column."""
    out = []
    for line in text.splitlines():
        body = line.strip()
        out.append(CommentToken(body + "\n" if body else "\n", CommentMark(len(line) - len(line.lstrip(" ")))))
    return out


def _not_indented_past(text: str, column: int) -> str:
    """The lines of *text* that are not comments indented to *column* or more; "" if only
    blank lines are left."""
    lines = [line for line in text.splitlines(keepends=True)
             if not (line.lstrip().startswith("#") and len(line) - len(line.lstrip(" ")) >= column)]
    return "".join(lines) if any(line.strip() for line in lines) else ""


def _tail_comment(node: Any) -> tuple[list, int] | None:
    """The comment slot after the last scalar of *node*, if one holds a comment."""
    while True:
        if isinstance(node, CommentedMap) and len(node):
            key = list(node)[-1]
            slots, i, node = node.ca.items.get(key), 2, node[key]
        elif isinstance(node, CommentedSeq) and len(node) and not node.fa.flow_style():
            key = len(node) - 1
            slots, i, node = node.ca.items.get(key), 0, node[key]
        else:
            return None
        if slots and len(slots) > i and slots[i] is not None:
            return slots, i


def rewrite_text(text: str, *, base_url: str | None = None,
                 feed_url: Callable[[str], str] | None = None) -> str:
    """*text* (a whole feeds.yaml) with ``settings.base_url`` set and every feed ``url:``
    passed through *feed_url*; comments and layout kept. Used by the demo's template."""
    y, doc = _load_round_trip(text)
    if base_url is not None:
        doc["settings"]["base_url"] = base_url
    if feed_url is not None:
        for feed in doc.get(FEEDS_KEY) or ():
            if isinstance(feed, Mapping) and isinstance(feed.get("url"), str):
                feed["url"] = feed_url(feed["url"])
    buf = io.StringIO()
    y.dump(doc, buf)
    return buf.getvalue()


def atomic_write(path: Path, text: str) -> None:
    """Replace *path* with *text* (UTF-8), keeping its permissions; see :mod:`atomicfile`."""
    atomicfile.write(Path(path), text.encode("utf-8"), sync_dir=True)


def entry_of(node: Any, line: int) -> FeedEntry:
    if not isinstance(node, Mapping):
        return FeedEntry(url="", line=line)
    tags = node.get("tags") or ()
    cats = node.get("categories") or {}
    return FeedEntry(
        url=str(node.get("url") or node.get("path") or ""),
        name=str(node.get("name") or ""),
        tags=(str(tags),) if isinstance(tags, str) else tuple(str(t) for t in tags),
        categories=tuple((str(k), str(v)) for k, v in cats.items()) if isinstance(cats, Mapping) else (),
        interval=node.get("interval"),
        local="path" in node and "url" not in node,
        line=line,
    )


def feed_entries(doc: FeedsFile) -> list[FeedEntry]:
    seq = doc.feeds()
    out = []
    for i, node in enumerate(seq):
        try:
            line = seq.lc.item(i)[0] + 1
        except (KeyError, IndexError, TypeError, AttributeError):
            line = 0
        out.append(entry_of(node, line))
    return out


def normalize_url(url: str) -> str:
    """The form two URLs are compared in: scheme and host lower-cased, default port,
    trailing slash and fragment dropped (``HTTP://Example.com:80/feed/#x`` = ``http://example.com/feed``)."""
    try:
        p = urlsplit(url.strip())
        port = p.port
    except ValueError:
        return url.strip()
    scheme = p.scheme.lower()
    host = (p.hostname or "").lower()
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    if p.username:
        host = f"{p.username}{':' + p.password if p.password else ''}@{host}"
    return urlunsplit((scheme, host, p.path.rstrip("/") or "", p.query, ""))


def find_duplicate(entries: Iterable[FeedEntry], url: str) -> FeedEntry | None:
    """The entry already listing *url* (compared by :func:`normalize_url`), if any."""
    key = normalize_url(url)
    return next((e for e in entries if e.url and normalize_url(e.url) == key), None)


def check_tags(tags: Iterable[str], slugs: Iterable[str], path: Path) -> tuple[str, ...]:
    """*tags* cleaned and checked against the topic slugs; raises ConfigError naming the unknown one."""
    known = list(slugs)
    out: list[str] = []
    for t in tags:
        t = t.strip()
        if not t:
            continue
        if t not in known:
            raise ConfigError(f"tag {t!r} is not a topic slug (topics: {', '.join(known) or 'none'})", path)
        if t not in out:
            out.append(t)
    return tuple(out)


def _flow(items: Iterable[str]) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()  # tags: [nato, ukraine], as people write them by hand
    return seq


def new_node(url: str, name: str = "", tags: Iterable[str] = ()) -> CommentedMap:
    node = CommentedMap()
    node["url"] = url
    if name:
        node["name"] = name
    tags = list(tags)
    if tags:
        node["tags"] = _flow(tags)
    return node
