"""What the parser processes do beside parsing: the topic rules' reasons for each entry's text.

Tagging is a pure function of an entry's text, and a cold poll spent half of its time on it in
the process that also fetches and merges, while the parser processes waited for bodies. So
the pool runs :class:`TagTexts` on each feed it parses (``parse.ParsePool(prepare=…)``), and
the merger hands the results to its ``tag.Rules`` (``remember``): tagging an item is then a
lookup. An entry whose text a parser process did not tag (parsed here, or a step that
failed) is tagged here as before, so the topics are the same either way.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .. import tag
from ..records import ParsedFeed, Topic


class TagTexts:
    """The prepare step of the parser processes: ``ParsedFeed.text_reasons`` filled in. Pickled
    with its topics only; each process compiles the rules once, on its first feed."""

    def __init__(self, topics: tuple[Topic, ...]):
        self.topics = tuple(topics)
        self._rules: tag.Rules | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"topics": self.topics}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.topics, self._rules = state["topics"], None

    def __call__(self, parsed: ParsedFeed) -> ParsedFeed:
        if self._rules is None:
            self._rules = tag.Rules.compile(self.topics)
        reasons = tuple(self._rules.text_reasons(tag.text_of(e)) for e in parsed.entries)
        return dataclasses.replace(parsed, text_reasons=reasons)
