"""Load and validate ``feeds.yaml`` into a frozen :class:`~aggregator.records.Config`.

The program never starts with a half-understood config: an unknown key, a
missing required key, a bad type or a bad pattern raises :class:`ConfigError`
naming the file, the line and the key ("did you mean …?" for near misses).
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import re
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from ..errors import ConfigError
from ..tag import check_pattern
from ..records import Config, NearDupSettings, Settings, Source, Topic
from ..text import hide_password

DEFAULT_PATH = "feeds.yaml"
ENV_VAR = "AGGREGATOR_CONFIG"
STORE_ENV = "AGGREGATOR_STORE"  # overrides settings.store: a database URL with its password stays out of the file
STORE_SCHEMES = ("postgresql", "postgres")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def default_path() -> Path:
    return Path(os.environ.get(ENV_VAR) or DEFAULT_PATH)


class _Ctx:
    """Where we are in the file, for error messages."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, node: Any, key: str | None, where: str, message: str, *, value: bool = False) -> ConfigError:
        line = _line(node, key, value=value)
        named = f"{where}.{key}" if key is not None and where else (key or where)
        return ConfigError(f"{message} ({named})" if named else message, self.path, line, named)


def _line(node: Any, key: Any = None, *, value: bool = False) -> int | None:
    lc = getattr(node, "lc", None)
    if lc is None:
        return None
    try:
        if key is not None and isinstance(node, CommentedMap):
            pos = lc.value(key) if value else lc.key(key)
            return pos[0] + 1
        if key is not None and isinstance(node, CommentedSeq):
            return lc.item(key)[0] + 1
        return lc.line + 1
    except (KeyError, IndexError, TypeError):
        return lc.line + 1


# ----------------------------------------------------------------------------- value checkers


def _str(v: Any) -> str:
    if not isinstance(v, str) or not v.strip():
        raise TypeError("must be a non-empty string")
    return v.strip()


def _opt_str(v: Any) -> str:
    if v is None:
        return ""
    if not isinstance(v, str):
        raise TypeError("must be a string")
    return v.strip()


def _pos_int(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
        raise TypeError("must be a whole number above 0")
    return v


def _nonneg_int(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise TypeError("must be a whole number, 0 or more")
    return v


def _opt_pos_int(v: Any) -> int | None:
    return None if v is None else _pos_int(v)


def _pos_num(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
        raise TypeError("must be a number above 0")
    return float(v)


def _nonneg_num(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
        raise TypeError("must be a number, 0 or more")
    return float(v)


def _opt_pos_num(v: Any) -> float | None:
    return None if v is None else _pos_num(v)


def _fraction(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 1:
        raise TypeError("must be a number between 0 and 1")
    return float(v)


def _bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise TypeError("must be true or false")
    return v


def duration(v: Any) -> int:
    """Seconds from ``3600``, ``"90s"``, ``"30m"``, ``"6h"`` or ``"1d"``."""
    if isinstance(v, bool):
        raise TypeError("must be a duration such as 3600, 30m, 6h or 1d")
    if isinstance(v, (int, float)) and v > 0:
        return int(v)
    m = _DURATION.match(v) if isinstance(v, str) else None
    if not m or float(m.group(1)) <= 0:
        raise TypeError("must be a duration such as 3600, 30m, 6h or 1d")
    return int(float(m.group(1)) * _UNITS[m.group(2)])


def _http_url(v: Any) -> str:
    s = _str(v)
    parts = urlsplit(s)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise TypeError("must be an http:// or https:// URL")
    return s


def store_location(v: Any) -> str:
    """A file path, or a ``postgresql://user@host:port/db`` URL (kept as it is)."""
    s = _str(v)
    if "://" not in s:
        return s
    parts = urlsplit(s)
    if parts.scheme not in STORE_SCHEMES:
        raise TypeError(f"must be a file path or a postgresql://user@host:port/db URL, not a {parts.scheme}:// URL")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise TypeError("has a port that is not a number (postgresql://user@host:5432/db)") from None
    if not parts.path.strip("/") and "dbname=" not in parts.query:
        raise TypeError("names no database (postgresql://user@host:port/DATABASE)")
    return s


def _opt_http_url(v: Any) -> str | None:
    return None if v is None else _http_url(v)


def _str_list(v: Any) -> tuple[str, ...]:
    if v is None:
        return ()
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
        raise TypeError("must be a list of non-empty strings")
    return tuple(x.strip() for x in v)


_SETTINGS: dict[str, Callable[[Any], Any]] = {
    "store": store_location, "output_dir": _str, "base_url": _http_url, "title": _str,
    "max_items": _pos_int, "concurrency": _pos_int, "per_host": _pos_int, "timeout": _pos_num,
    "max_body_bytes": _pos_int, "max_redirects": _nonneg_int, "user_agent": _opt_str,
    "min_interval": duration, "max_interval": duration, "default_interval": duration,
    "max_backoff": duration, "retry_after_cap": duration, "redirect_confirmations": _pos_int,
    "retention_days": _opt_pos_int, "max_items_per_source": _opt_pos_int,
    "lock_timeout": _nonneg_num, "parse_workers": _nonneg_int, "websub_hub": _opt_http_url,
    "near_duplicates": None,  # a mapping, checked below
}
_NEAR_DUP: dict[str, Callable[[Any], Any]] = {
    "enabled": _bool, "title_similarity": _fraction, "text_similarity": _fraction,
    "window_hours": _pos_num, "min_score": _fraction,
}
_TOPIC: dict[str, Callable[[Any], Any]] = {
    "title": _str, "description": _opt_str, "keywords": _str_list, "regex": _str_list,
    "exclude": _str_list, "require": _str_list, "max_items": _opt_pos_int, "max_age_days": _opt_pos_num,
}
_FEED: dict[str, Callable[[Any], Any]] = {
    "url": _http_url, "path": _str, "name": _opt_str, "tags": _str_list, "categories": None,
    "interval": duration,
}
_TOP = ("settings", "topics", "feeds")


# ----------------------------------------------------------------------------- loading


def load(path: Path | str) -> Config:
    """Read and validate *path*. Raises ConfigError with the file and line at fault."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("config file not found (set --config or $AGGREGATOR_CONFIG)", path) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read config: {e}", path) from None
    return loads(text, path)


def loads(text: str, path: Path | str = DEFAULT_PATH) -> Config:
    path = Path(path)
    try:
        doc = YAML(typ="rt").load(text)
    except MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        raise ConfigError(f"invalid YAML: {e.problem or e.context}", path, line) from None
    except YAMLError as e:
        raise ConfigError(f"invalid YAML: {e}", path) from None
    ctx = _Ctx(path)
    if doc is None:
        doc = CommentedMap()
    if not isinstance(doc, CommentedMap):
        raise ConfigError("the top level must be a mapping with settings, topics and feeds", path, 1)
    _known_keys(ctx, doc, _TOP, "")
    settings = _settings(ctx, doc.get("settings"), path)
    topics = _topics(ctx, doc.get("topics"))
    sources = _feeds(ctx, doc.get("feeds"), {t.slug for t in topics}, path)
    return Config(path=path, settings=settings, topics=topics, sources=sources)


def _known_keys(ctx: _Ctx, node: CommentedMap, allowed: Any, where: str) -> None:
    for key in node:
        if key not in allowed:
            near = difflib.get_close_matches(str(key), [str(a) for a in allowed], n=1)
            hint = f"; did you mean {near[0]!r}?" if near else f"; expected one of {', '.join(allowed)}"
            raise ConfigError(f"unknown key {key!r}" + (f" in {where}" if where else "") + hint,
                              ctx.path, _line(node, key), f"{where}.{key}" if where else str(key))


def _mapping(ctx: _Ctx, parent: Any, key: str, where: str) -> CommentedMap:
    node = parent.get(key) if isinstance(parent, CommentedMap) else None
    if node is None:
        return CommentedMap()
    if not isinstance(node, CommentedMap):
        raise ctx.fail(parent, key, where, "must be a mapping")
    return node


def _fields(ctx: _Ctx, node: CommentedMap, schema: dict[str, Any], where: str) -> dict[str, Any]:
    _known_keys(ctx, node, schema, where)
    out: dict[str, Any] = {}
    for key, check in schema.items():
        if key in node and check is not None:
            try:
                out[key] = check(node[key])
            except TypeError as e:
                got = node[key]
                if isinstance(got, str) and "://" in got:  # never echo a database password
                    got = hide_password(got)
                raise ctx.fail(node, key, where, f"{key} {e}, got {got!r}", value=True) from None
    return out


def _settings(ctx: _Ctx, node: Any, path: Path) -> Settings:
    if node is None:
        node = CommentedMap()
    if not isinstance(node, CommentedMap):
        raise ConfigError("settings must be a mapping", path, _line(node), "settings")
    values = _fields(ctx, node, _SETTINGS, "settings")
    near = _mapping(ctx, node, "near_duplicates", "settings")
    values["near_duplicates"] = NearDupSettings(**_fields(ctx, near, _NEAR_DUP, "settings.near_duplicates"))
    base = path.parent
    if os.environ.get(STORE_ENV):
        try:
            values["store"] = store_location(os.environ[STORE_ENV])
        except TypeError as e:
            raise ConfigError(f"${STORE_ENV} {e}", path, None, STORE_ENV) from None
    store = values.get("store", "data/aggregator.json")
    values["store"] = store if "://" in store else (base / store).resolve()
    values["output_dir"] = (base / values.get("output_dir", "output")).resolve()
    if "base_url" in values and not values["base_url"].endswith("/"):
        values["base_url"] += "/"
    settings = Settings(config_path=path, **values)
    if settings.min_interval > settings.max_interval:
        raise ctx.fail(node, "min_interval", "settings", "min_interval is longer than max_interval")
    return settings


def _topics(ctx: _Ctx, node: Any) -> tuple[Topic, ...]:
    if node is None:
        return ()
    if not isinstance(node, CommentedMap):
        raise ConfigError("topics must be a mapping of slug -> topic", ctx.path, _line(node), "topics")
    topics = []
    for slug, body in node.items():
        where = f"topics.{slug}"
        if not isinstance(slug, str) or not _SLUG.match(slug) or slug == "all":
            raise ctx.fail(node, slug, "topics",
                           "a topic slug must be lower-case letters, digits and '-' (and not 'all')")
        if not isinstance(body, CommentedMap):
            raise ctx.fail(node, slug, "topics", "a topic must be a mapping with at least a title")
        values = _fields(ctx, body, _TOPIC, where)
        if "title" not in values:
            raise ctx.fail(node, slug, where, "missing required key 'title'")
        for kind in ("keywords", "regex", "exclude", "require"):
            for i, pattern in enumerate(values.get(kind, ())):
                problem = _check_pattern(kind, pattern)
                if problem:
                    raise ConfigError(f"invalid {problem} ({where}.{kind})", ctx.path,
                                      _line(body[kind], i) if isinstance(body[kind], CommentedSeq)
                                      else _line(body, kind, value=True), f"{where}.{kind}")
        topics.append(Topic(slug=slug, line=_line(node, slug) or 0, **values))
    return tuple(topics)


def _check_pattern(kind: str, pattern: str) -> str | None:
    return check_pattern(kind, pattern)  # tag compiles the rules; config only asks whether they compile


def _feeds(ctx: _Ctx, node: Any, slugs: set[str], path: Path) -> tuple[Source, ...]:
    if node is None:
        return ()
    if not isinstance(node, CommentedSeq):
        raise ConfigError("feeds must be a list", path, _line(node), "feeds")
    sources: list[Source] = []
    seen: dict[str, int] = {}
    for i, body in enumerate(node):
        where = f"feeds[{i}]"
        line = _line(node, i) or 0
        if not isinstance(body, CommentedMap):
            raise ConfigError(f"each feed must be a mapping with a url or a path ({where})", path, line, where)
        values = _fields(ctx, body, _FEED, where)
        if ("url" in values) == ("path" in values):
            raise ConfigError(f"a feed needs exactly one of 'url' or 'path' ({where})", path, line, where)
        if "path" in values:
            local = (path.parent / values.pop("path")).resolve()
            values["path"] = local
            values["url"] = local.as_uri()
        for slug in values.get("tags", ()):
            if slug not in slugs:
                raise ctx.fail(body, "tags", where, f"tag {slug!r} is not a topic slug", value=True)
        values["categories"] = _categories(ctx, body, slugs, where)
        if values["url"] in seen:
            raise ConfigError(f"feed {values['url']} is listed twice (first at line {seen[values['url']]})",
                              path, line, where)
        seen[values["url"]] = line
        values.setdefault("name", "")
        sources.append(Source(line=line, **values))
    return tuple(sources)


def _categories(ctx: _Ctx, body: CommentedMap, slugs: set[str], where: str) -> tuple[tuple[str, str], ...]:
    node = body.get("categories")
    if node is None:
        return ()
    if not isinstance(node, CommentedMap):
        raise ctx.fail(body, "categories", where, "categories must map a feed category to a topic slug")
    pairs = []
    for cat, slug in node.items():
        if not isinstance(cat, str) or not isinstance(slug, str) or slug not in slugs:
            raise ctx.fail(node, cat, f"{where}.categories", f"{slug!r} is not a topic slug", value=True)
        pairs.append((cat.strip(), slug))
    return tuple(pairs)


def summary(config: Config) -> str:
    """A few lines describing a valid config, for ``aggregator check``."""
    s = config.settings
    lines = [
        f"{config.path}: OK",
        f"  {len(config.sources)} feeds, {len(config.topics)} topics: "
        + ", ".join(t.slug for t in config.topics),
        f"  store: {hide_password(s.store) if isinstance(s.store, str) else s.store}",
        f"  output: {s.output_dir} (served at {s.base_url})",
    ]
    return "\n".join(lines)


def replace_settings(config: Config, **changes: Any) -> Config:
    """A copy of *config* with some settings changed (tests and the benchmark use it)."""
    return dataclasses.replace(config, settings=dataclasses.replace(config.settings, **changes))
