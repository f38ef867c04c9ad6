"""The labelled evaluation sets (``tests/data/eval/*.yaml``) → records, for ``aggregator eval``.

The records live here, not in ``aggregator.records``: only the evaluation reads them.

Four kinds of file (see that folder's README.md): ``stories_*`` (groups of reports of one
story, and look-alike entries), ``headlines_*`` (same and different pairs), ``busyday_*``
(three outlets' feeds, the same-story pairs listed) and ``tagging_*`` (labelled headlines).
Bad files raise ConfigError naming the file (and the case) at fault.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import combinations
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML, YAMLError

from ..errors import ConfigError


@dataclass(frozen=True)
class EvalReport:
    """One report of a labelled merge set (``aggregator eval``)."""

    ref: str  # its label within the set: "g3.1", "b12"
    source: str  # the outlet: one feed per outlet
    title: str
    summary: str = ""
    link: str | None = None
    published: datetime | None = None


@dataclass(frozen=True)
class MergeSet:
    """Reports and which pairs of them are one story; ``lookalikes`` None: every other pair."""

    name: str  # "stories" | "headlines" | "busyday"
    reports: tuple[EvalReport, ...]
    same: frozenset[frozenset[str]]
    lookalikes: frozenset[frozenset[str]] | None = None


@dataclass(frozen=True)
class TagCase:
    title: str
    summary: str
    topics: frozenset[str]


MERGE_KINDS = ("stories", "headlines", "busyday")


def _read(path: Path) -> Any:
    try:
        return YAML(typ="safe").load(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read evaluation set: {str(exc).splitlines()[0]}", path) from None


def _when(value: Any, path: Path, ref: str) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(f"{ref}: published {value!r} is not an ISO 8601 time", path) from None
    if not isinstance(value, datetime):
        raise ConfigError(f"{ref}: published is not a time", path)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _report(raw: Any, ref: str, path: Path) -> EvalReport:
    if not isinstance(raw, dict) or not isinstance(raw.get("title"), str) or not raw.get("source"):
        raise ConfigError(f"{ref}: a report needs a source and a title", path)
    return EvalReport(ref, str(raw["source"]), raw["title"], str(raw.get("summary") or ""),
                      raw.get("link"), _when(raw.get("published"), path, ref))


def _pairs(refs: list[str]) -> set[frozenset[str]]:
    return {frozenset(p) for p in combinations(refs, 2)}


def load_merge_set(path: Path) -> MergeSet:
    """A stories, headlines or busy-day file, by the kind its name starts with."""
    doc = _read(path)
    kind = path.name.split("_")[0]
    if kind not in MERGE_KINDS or not isinstance(doc, dict):
        raise ConfigError(f"not an evaluation set of {', '.join(MERGE_KINDS)}", path)
    reports: list[EvalReport] = []
    same: set[frozenset[str]] = set()
    alike: set[frozenset[str]] | None = set()
    try:
        if kind == "stories":
            for key, bucket in (("groups", same), ("lookalikes", alike)):
                for n, group in enumerate(doc[key]):
                    refs = [f"{key[0]}{n}.{i}" for i in range(len(group["reports"]))]
                    reports += [_report(r, ref, path) for r, ref in zip(group["reports"], refs)]
                    bucket |= _pairs(refs)
        elif kind == "headlines":
            for key, bucket in (("same", same), ("different", alike)):
                for n, pair in enumerate(doc[key]):
                    refs = [f"{key[0]}{n}.a", f"{key[0]}{n}.b"]
                    reports += [_report(pair["a"], refs[0], path), _report(pair["b"], refs[1], path)]
                    bucket.add(frozenset(refs))
        else:
            reports = [_report(r, str(r.get("id")), path) for r in doc["items"]]
            known = {r.ref for r in reports}
            for pair in doc["same"]:
                if len(pair) != 2 or not set(map(str, pair)) <= known:
                    raise ConfigError(f"same pair {pair!r} does not name two items", path)
                same.add(frozenset(map(str, pair)))
            alike = None
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"malformed {kind} set (missing {exc})", path) from None
    return MergeSet(kind, tuple(reports), frozenset(same), None if alike is None else frozenset(alike))


def load_tag_cases(path: Path) -> list[TagCase]:
    doc = _read(path)
    try:
        return [TagCase(c["title"], str(c.get("summary") or ""), frozenset(c.get("topics") or ()))
                for c in doc["cases"]]
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"malformed tagging set (missing {exc})", path) from None
