"""The store files' format: records <-> TinyDB documents, schema versions, migration.

Pure (no file access, no third-party imports): ``store.py`` reads and writes the bytes.

Schema 3 keeps two TinyDB files (documents keyed "1", "2", …)::

    <store>             meta {"schema_version": 3, "saved_at": ISO time}
                        items  Item fields (nested lists of dicts)
                        tombstones  {"key": identity key, "at": ISO time}
    <store>.feeds.json  meta (as above)    feeds  FeedState fields

The feed states are small and every poll needs them; the items are big and only a
poll that parsed something does, so they live apart (see ``store.py``).

Schema 2 was one file with all four tables; schema 1 (before reasons, merges and
identity keys were kept) had no ``meta`` version, dates as epoch seconds, and an
item's one identity key in ``key``; see :func:`migrate_v1`. Both decode as schema 3.

Decoding 100k items is the slow half of a run's store I/O, so each record class gets a
decoder generated once from its type hints (:func:`decoder`): it checks every scalar's
type in one expression, converts dates and nested lists, and fills the new record's
attribute dict directly instead of calling the frozen ``__init__`` (which costs one
``object.__setattr__`` call per field). The result equals the reference codec (tests/recordcodec.py)'s.
"""

from __future__ import annotations

import dataclasses
import typing
from datetime import datetime, timezone
from functools import cache
from types import NoneType, UnionType
from typing import Any, Callable, Iterator, Mapping

from ..records import FeedState, Item, Snapshot, utc

SCHEMA_VERSION = 3


class NotAStore(Exception):
    """The file parsed but does not hold a store; the message is the one-line reason."""


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# ----------------------------------------------------------------------------- records

# Memo of parsed times, emptied after each load: many items share one (first_seen = a run's now).
# Shared by threads, harmlessly: a clear during another thread's load only costs it re-parsing.
_DATES: dict[str, datetime] = {}


def _dt(value: Any) -> datetime:
    """An aware UTC datetime from its stored ISO 8601 text (memoised for the current load)."""
    try:
        return _DATES[value]
    except (KeyError, TypeError):  # TypeError: unhashable, e.g. a list
        pass
    if type(value) is not str:
        raise TypeError(f"expected an ISO 8601 time, got {_short(value)}")
    when = datetime.fromisoformat(value)
    if when.tzinfo is not timezone.utc:  # what we write: "+00:00" parses to timezone.utc itself
        when = utc(when)
    _DATES[value] = when
    return when


_LABELS = {str: "a string", int: "an integer", bool: "true or false", float: "a number"}


def _scalar(hint: Any) -> tuple[tuple[type, ...], bool] | None:
    """(accepted types, None allowed) for a str/int/bool/float field, or None if not one."""
    args = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, UnionType) else (hint,)
    optional = NoneType in args
    rest = [a for a in args if a is not NoneType]
    if len(rest) != 1 or rest[0] not in _LABELS:
        return None
    return ((int, float) if rest[0] is float else (rest[0],)), optional


def _check(key: str, types: tuple[type, ...], optional: bool) -> str:
    """A Python expression, true when ``doc[key]`` is of one of *types* (or None if *optional*)."""
    kind = f"is {types[0].__name__}" if len(types) == 1 else f"in ({', '.join(t.__name__ for t in types)})"
    return f"((v := doc[{key}]) is None or type(v) {kind})" if optional else f"type(doc[{key}]) {kind}"


def _fill(cls: type, doc: dict[str, Any]) -> dict[str, Any]:
    """*doc* without unknown keys and with defaults filled; TypeError names missing fields."""
    out, missing = {}, []
    for f in dataclasses.fields(cls):
        if f.name in doc:
            out[f.name] = doc[f.name]
        elif f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
        else:
            missing.append(f.name)
    if missing:
        raise TypeError(f"{cls.__name__} lacks {', '.join(missing)}")
    return out


def _wrong(cls: type, scalars: tuple[tuple[str, tuple[type, ...], bool], ...], doc: dict[str, Any]) -> None:
    """Raise TypeError naming the first scalar of *doc* with the wrong type (the slow path)."""
    for name, types, optional in scalars:
        value = doc[name]
        if not (type(value) in types or (optional and value is None)):
            label = _LABELS[types[-1]] + (" or null" if optional else "")
            raise TypeError(f"{cls.__name__}.{name} is {_short(value)}, not {label}")


def _not_a_list(cls: type, name: str, value: Any) -> None:
    raise TypeError(f"{cls.__name__}.{name} is {_short(value)}, not a list")


@cache
def decoder(cls: type) -> Callable[[Any], Any]:
    """A function that builds a *cls* record from its stored dict.

    Unknown keys are ignored and missing fields take their defaults, as in
    the reference codec (tests/recordcodec.py). Raises TypeError or ValueError with a one-line reason: not an
    object, a required field missing, a str/int/bool/float field of another type, a
    tuple field that is not a list, a date that is not ISO 8601. (The elements of
    string tuples are not checked: that would cost a test per element.)

    The generated code (``decoder(cls).source``) fills the new record's attribute dict
    in field order, the order its class's shared key table has, so each record keeps
    the compact split-table dict its ``__init__`` would have made, for less than half
    the time of ``cls(**doc)`` (no keyword unpacking, no ``object.__setattr__`` calls).
    """
    hints = typing.get_type_hints(cls)
    fields = dataclasses.fields(cls)
    env: dict[str, Any] = {
        "cls": cls, "NAMES": frozenset(f.name for f in fields), "dt": _dt, "memo": _DATES.get,
        "new": object.__new__, "fill": _fill, "wrong": _wrong, "not_a_list": _not_a_list,
    }
    # No attribute dict to fill, or a __post_init__ to run: build through the class.
    via_class = "__slots__" in cls.__dict__ or hasattr(cls, "__post_init__")
    checks, scalars, build = [], [], []
    for f in fields:
        hint, key = hints[f.name], repr(f.name)
        args = typing.get_args(hint)
        value = f"doc[{key}]"
        if (found := _scalar(hint)) is not None:
            scalars.append((f.name, *found))
            checks.append(_check(key, *found))
        elif hint is datetime or datetime in args:
            # the memo's dict.get first: a C call, and most times repeat within a store
            value = "dt(v)" if NoneType not in args else (
                "v if v is None else ((memo(v) if type(v) is str else None) or dt(v))")
        elif typing.get_origin(hint) is tuple:
            sub = args[0] if args and dataclasses.is_dataclass(args[0]) else None
            if sub is not None:
                env[f"decode_{sub.__name__}"] = decoder(sub)
            make = f"(tuple([decode_{sub.__name__}(x) for x in v]) if v else ())" if sub else "tuple(v)"
            ok = " or v is None" if NoneType in args else ""
            value = f"{make} if type(v) is list else v if type(v) is tuple{ok} else not_a_list(cls, {key}, v)"
        if value != f"doc[{key}]":
            build.append(f"    v = doc[{key}]")
        build.append(f"    d[{key}] = {value}")
    env["SCALARS"] = tuple(scalars)
    body = ["    if type(doc) is not dict:",
            "        raise TypeError(f'expected an object, got {type(doc).__name__}')",
            "    if doc.keys() != NAMES:",
            "        doc = fill(cls, doc)"]
    if checks:
        body += ["    if not (" + "\n            and ".join(checks) + "):", "        wrong(cls, SCALARS, doc)"]
    body += ["    d = {}" if via_class else "    obj = new(cls)\n    d = obj.__dict__", *build,
             "    return cls(**d)" if via_class else "    return obj"]
    source = f"def decode_{cls.__name__}(doc):\n" + "\n".join(body) + "\n"
    exec(compile(source, f"<store.format decoder for {cls.__name__}>", "exec"), env)
    fn = env[f"decode_{cls.__name__}"]
    fn.source = source  # for reading and debugging
    return fn


def decode(cls: type, doc: Any) -> Any:
    """A *cls* record from its stored dict (see :func:`decoder`)."""
    return decoder(cls)(doc)


# ----------------------------------------------------------------------------- tables


def _docs(raw: Mapping[str, Any], table: str) -> dict[str, Any]:
    docs = raw.get(table, {})
    if not isinstance(docs, dict):
        raise NotAStore(f"table {table!r} is a {type(docs).__name__}, not a TinyDB table")
    return docs


def _each(raw: Mapping[str, Any], table: str, fn: Callable[[Any], Any]) -> Iterator[Any]:
    for doc_id, doc in _docs(raw, table).items():
        try:
            yield fn(doc)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            raise NotAStore(f"{table} document {doc_id}: {exc}") from exc


def _tombstone(doc: Any) -> tuple[str, datetime]:
    key = doc["key"]
    if type(key) is not str:
        raise TypeError(f"tombstone key {_short(key)} is not a string")
    return key, _dt(doc["at"])


def schema_version(raw: Mapping[str, Any]) -> int:
    """The schema of a parsed store file (1 if it has no meta version). Raises NotAStore."""
    meta = next(iter(_docs(raw, "meta").values()), {})
    version = meta.get("schema_version", 1) if isinstance(meta, dict) else None
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise NotAStore(f"meta schema_version {version!r} is not a version number")
    if version > SCHEMA_VERSION:
        raise NotAStore(f"written by a newer aggregator (schema {version}; this one reads up to "
                        f"{SCHEMA_VERSION})")
    return version


def _iso_from_epoch(value: Any) -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, timezone.utc).isoformat()
    return value


def _v1_keys(doc: dict[str, Any]) -> list[Any]:
    """Schema 1 kept one key; rebuild what dedup indexes: it, each source's guid key, the url key."""
    from ..dedup import url_key  # only for this migration

    keys = [doc.pop("key", None) or doc.get("id")]
    keys += [f"guid:{r.get('feed_url')} {r['guid']}" for r in doc.get("sources") or ()
             if isinstance(r, dict) and r.get("guid")]
    if isinstance(doc.get("canonical_url"), str):
        keys.append(url_key(doc["canonical_url"]))
    return list(dict.fromkeys(keys))


def migrate_v1(raw: dict[str, Any]) -> dict[str, Any]:
    """Schema 1 -> 2, in place: epoch dates -> ISO, ``key`` -> ``keys``, no reasons/merges yet."""
    for doc in _docs(raw, "items").values():
        if not isinstance(doc, dict):
            continue  # reported by the decoder with its document id
        for name in ("published", "updated", "first_seen"):
            doc[name] = _iso_from_epoch(doc.get(name))
        for ref in doc.get("sources") or ():
            if isinstance(ref, dict):
                ref["seen"] = _iso_from_epoch(ref.get("seen"))
        doc.setdefault("keys", _v1_keys(doc))
        doc.setdefault("reasons", [])
        doc.setdefault("merges", [])
    for doc in _docs(raw, "feeds").values():
        if isinstance(doc, dict):
            for name in ("last_attempt", "last_success", "next_poll", "updated"):
                doc[name] = _iso_from_epoch(doc.get(name))
    return raw


def _checked(raw: Any) -> tuple[dict[str, Any], int]:
    """*raw* (a parsed file) migrated to schema 2's documents, and its version on disk."""
    if not isinstance(raw, dict):
        raise NotAStore(f"top level is a {type(raw).__name__}, not a TinyDB object of tables")
    version = schema_version(raw)
    if version < 2:
        raw = migrate_v1(raw)
    return raw, version


def _meta(raw: Mapping[str, Any], version: int) -> dict[str, Any]:
    meta = dict(next(iter(_docs(raw, "meta").values()), {}))
    if version != SCHEMA_VERSION:
        meta["migrated_from"] = version
    meta["schema_version"] = SCHEMA_VERSION
    return meta


def _checked_item(doc: Any) -> Item:
    made = decoder(Item)(doc)
    if not made.id:
        raise ValueError("item id is empty")
    return made


def _items(raw: dict[str, Any]) -> tuple[dict[str, Item], dict[str, datetime]]:
    try:
        return ({i.id: i for i in _each(raw, "items", _checked_item)},
                dict(_each(raw, "tombstones", _tombstone)))
    finally:
        _DATES.clear()


def _feeds(raw: dict[str, Any]) -> dict[str, FeedState]:
    try:
        return {f.url: f for f in _each(raw, "feeds", decoder(FeedState))}
    finally:
        _DATES.clear()


def decode_items(raw: Any) -> tuple[dict[str, Item], dict[str, datetime], dict[str, Any]]:
    """(items, tombstones, meta) of a parsed items file of any schema; its feeds are not read.

    Raises NotAStore naming the table and document at fault. *raw* is consumed: its
    dicts become the records' attributes.
    """
    raw, version = _checked(raw)
    return (*_items(raw), _meta(raw, version))


def decode_feeds(raw: Any) -> tuple[dict[str, FeedState], dict[str, Any]]:
    """(feeds, meta) of a parsed feeds file (schema 3 on: there were none before).

    Raises NotAStore naming the document at fault, or if the file has no schema 3 meta.
    """
    raw, version = _checked(raw)
    if version < 3:
        raise NotAStore(f"not a feeds file (meta says schema {version}; feeds files start at 3)")
    return _feeds(raw), _meta(raw, version)


def decode_snapshot(raw: Any) -> Snapshot:
    """Everything one parsed file holds (a schema 3 items file has no feeds), migrated."""
    raw, version = _checked(raw)
    feeds = _feeds(raw)
    items, tombstones = _items(raw)
    return Snapshot(items=items, feeds=feeds, tombstones=tombstones, meta=_meta(raw, version))


def _table(docs: Any) -> dict[str, Any]:
    return {str(n): doc for n, doc in enumerate(docs, 1)}


def _meta_table(snapshot: Snapshot, saved_at: datetime) -> dict[str, Any]:
    meta = {k: v for k, v in snapshot.meta.items() if k != "migrated_from"}
    meta.update(schema_version=SCHEMA_VERSION, saved_at=saved_at.isoformat())
    return _table([meta])


def encode_items(snapshot: Snapshot, saved_at: datetime) -> dict[str, dict[str, Any]]:
    """The items file's tables; records stay records (orjson writes them)."""
    return {
        "meta": _meta_table(snapshot, saved_at),
        "items": _table(snapshot.items.values()),
        "tombstones": _table({"key": k, "at": utc(at)} for k, at in snapshot.tombstones.items()),
    }


def encode_feeds(snapshot: Snapshot, saved_at: datetime) -> dict[str, dict[str, Any]]:
    """The feeds file's tables."""
    return {"meta": _meta_table(snapshot, saved_at), "feeds": _table(snapshot.feeds.values())}
