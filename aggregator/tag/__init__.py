"""Stage 5, tag: item → its topics, each with the reason it matched.

Owns: the topic rules of feeds.yaml compiled once (``Rules``): keywords, regular
expressions, exclude and require, a source's tags and categories; the pattern
syntax and the fast keyword scan (``patterns``); the words a regex cannot match
without, tested before it runs (``literals``).
Must not: do I/O.

Start reading at ``rules.py`` (``Rules.tag``).
"""

from .patterns import check_pattern
from .rules import Rules, Verdict, text_of

__all__ = ["Rules", "Verdict", "check_pattern", "text_of"]
