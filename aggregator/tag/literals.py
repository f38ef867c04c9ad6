"""What text a regular expression cannot match without: a cheap test before running it.

A topic's ``regex`` entries run over every field of every item, and most items match none:
on the farm's items they took about a third of tagging (48 µs of 130 per item). Most such
patterns cannot match without some literal words (``\\bsanctions?\\b[^.]{0,40}\\bRussia``
needs "sanction" and "russia"), and a substring test on the lowered text is far cheaper
than the regex engine trying every position. So each pattern gets a few sets of strings,
each with one string that every match contains (``needed``), found from Python's own parse
of the pattern; where none is known the answer is None and the regex always runs.

Case: the patterns run with IGNORECASE, which compares characters by their simple
lowercase, and also equates i with ı and s with ſ, and the basic Cyrillic letters with their
rare historic variants (в with ᲀ, о with ᲂ…). ``lowered`` maps those (and İ, whose full
lowercase is two characters) to i, s and the basic letters first, and only ASCII letters,
digits and punctuation and the basic Cyrillic letters count as literals, so a text the regex
matches always contains one of them.
"""

from __future__ import annotations

import re
from typing import Any

try:  # Python 3.11+
    from re import _constants as _c
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _c  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

__all__ = ["can_match", "lowered", "needed"]

_FOLD = str.maketrans({"İ": "i", "ı": "i", "ſ": "s", "ᲀ": "в", "ᲁ": "д", "ᲂ": "о", "ᲃ": "с", "ᲄ": "т", "ᲅ": "т",
                       "ᲆ": "ъ", "ᲇ": "ѣ", "ᲈ": "ꙋ"})
_FOLDED = re.compile("[" + "".join(map(chr, _FOLD)) + "]")
_REPEATS = {_c.MAX_REPEAT, _c.MIN_REPEAT} | ({_c.POSSESSIVE_REPEAT} if hasattr(_c, "POSSESSIVE_REPEAT") else set())
_ATOMIC = getattr(_c, "ATOMIC_GROUP", None)
Needs = frozenset[str]  # one of these strings is in the text
All = tuple[Needs, ...]  # each of these holds
_KEPT = 3  # the strongest few requirements of a pattern are enough to rule most texts out


def lowered(text: str) -> str:
    """*text* as the strings of ``needed`` are looked for in it."""
    # translate looks every character up in a dict: ~4 µs a field, where a search for the few
    # letters it maps (in hardly any text) takes well under one.
    if text.isascii() or _FOLDED.search(text) is None:
        return text.lower()
    return text.translate(_FOLD).lower()


def needed(pattern: str, flags: int = re.IGNORECASE) -> All | None:
    """Sets of strings (lowercase), each with one string in ``lowered(text)`` whenever
    *pattern* matches *text*; None when none is known (then the pattern must always run)."""
    try:
        parsed = _sre_parse.parse(pattern, flags)
    except (re.error, RecursionError, TypeError, ValueError):
        return None
    # A one-letter string is in nearly every text: not worth its test.
    found = [one for one in _of_sequence(list(parsed)) if _strength(one)[0] >= 2]
    if not found:
        return None
    # The strongest few, tested cheapest first: one string before a list of thirty names.
    return tuple(sorted(sorted(found, key=_strength, reverse=True)[:_KEPT], key=len))


def can_match(needs: All | None, lowered_text: str) -> bool:
    """False only when the pattern with these *needs* cannot match the text."""
    if needs is None:
        return True
    for one in needs:  # loops, not all(any(...)): this runs for every regex on every field
        for s in one:
            if s in lowered_text:
                break
        else:
            return False
    return True


def _plain(code: int) -> bool:
    """A character that IGNORECASE matches only as itself, upper or lower case (after _FOLD):
    ASCII, and the Cyrillic letters Russian and Ukrainian are written in."""
    return 0x20 <= code < 0x7F or 0x0400 <= code <= 0x045F or code in (0x0490, 0x0491)


def _of_sequence(items: list[tuple[Any, Any]]) -> list[Needs]:
    """Every match of a sequence matches each of its items: all their requirements hold."""
    found: list[Needs] = []
    run: list[str] = []
    for op, av in items:
        if op is _c.LITERAL and _plain(av):
            run.append(chr(av).lower())
            continue
        if run:
            found.append(frozenset({"".join(run)}))
            run = []
        found.extend(_of_item(op, av))
    if run:
        found.append(frozenset({"".join(run)}))
    return found


def _of_item(op: Any, av: Any) -> list[Needs]:
    if op is _c.SUBPATTERN:
        return _of_sequence(list(av[-1]))
    if op in _REPEATS:
        low, _high, body = av
        return _of_sequence(list(body)) if low >= 1 else []
    if _ATOMIC is not None and op is _ATOMIC:
        return _of_sequence(list(av))
    if op is _c.BRANCH:  # one branch matches: one of the branches' (strongest) requirements holds
        strongest = [max(found, key=_strength) if found else None
                     for found in (_of_sequence(list(branch)) for branch in av[1])]
        if any(one is None for one in strongest):
            return []  # one branch needs nothing we know of
        return [frozenset().union(*strongest)]
    return []  # classes, anchors, look-arounds, backreferences: no literal required


def _strength(needs: Needs) -> tuple[int, int]:
    """Longer strings are rarer; fewer alternatives are fewer tests."""
    return min(map(len, needs)), -len(needs)
