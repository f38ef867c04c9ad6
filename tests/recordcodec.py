"""A plain reference codec for the stored records, which the store's fast codec
(aggregator/store/format.py, orjson) must agree with."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path
from typing import Any, Mapping

from aggregator.records import Enclosure, Item, Match, Merge, SourceRef, utc

_NESTED = {
    "enclosures": Enclosure,
    "sources": SourceRef,
    "reasons": Match,
    "merges": Merge,
}


def to_dict(record: Any) -> dict[str, Any]:
    """A JSON-ready dict: datetimes as ISO 8601 strings, tuples as lists."""

    def conv(v: Any) -> Any:
        if isinstance(v, datetime):
            return utc(v).isoformat()
        if dataclasses.is_dataclass(v):
            return {f.name: conv(getattr(v, f.name)) for f in dataclasses.fields(v)}
        if isinstance(v, (tuple, list)):
            return [conv(x) for x in v]
        if isinstance(v, Path):
            return str(v)
        return v

    return conv(record)


def _dt(v: Any) -> datetime | None:
    return utc(datetime.fromisoformat(v)) if isinstance(v, str) else v


_DATE_FIELDS = {
    "published", "updated", "first_seen", "seen", "at", "last_attempt", "last_success", "next_poll",
}


def from_dict(cls: type, data: Mapping[str, Any]) -> Any:
    """Inverse of :func:`to_dict` for Item, FeedState and their parts. Unknown keys are ignored."""
    names = {f.name for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for k, v in data.items():
        if k not in names:
            continue
        if k in _DATE_FIELDS:
            v = _dt(v)
        elif k in _NESTED and cls is Item:
            v = tuple(from_dict(_NESTED[k], x) for x in v)
        elif isinstance(v, list):
            v = tuple(v)
        kwargs[k] = v
    return cls(**kwargs)
