"""How a report is published, not what it says: text repair, format affixes, attribution.

``repair`` undoes feed damage (entities escaped twice, mojibake, curly quotes); ``form_of``
cuts the affixes that say how a report is published ("UPDATE 2-", "Watch:", "– video",
"| Reuters", "– live updates") and keeps what they say as its kind: news, video, live
page or feature (analysis, explainer, opinion). ``attribution`` and ``dayparts`` read the
two facts of a summary that the vetoes compare: who is quoted, and when in the day.
"""

from __future__ import annotations

import html
import re

_AFFIX_PREFIX = re.compile(
    r"^\s*(?:(?:update|updated)\s*\d*\s*[-:]|exclusive\s*[-:]|breaking(?:\s+news)?\s*[-:]|"
    r"(?P<live_video>live\s+video)\s*:|(?P<video>watch|video|photos|pictures|listen)\s*:|"
    r"(?P<live>live)\s*:|(?P<feature>analysis|opinion|explainer|comment|editorial|fact[- ]check|"
    r"maps?|in pictures|explained|review|interview|podcast)\s*:)\s*", re.IGNORECASE)
_AFFIX_SUFFIX = re.compile(
    r"\s*(?:[|–—-]+\s*(?:reuters|ap news|ap|afp|bbc news|bbc|cnn|the guardian|dw|euronews|yle|err|lrt|lsm)"
    r"|\(\s*(?P<video2>video|watch|photos)\s*\)|[–—-]+\s*(?P<video>video|watch)"
    r"|[–—-]+\s*(?P<live>live(?:\s+updates)?|as it happened|live blog)"
    r"|[–—-]{2}\s*\w+)\s*$", re.IGNORECASE)
# "Baltic war live: ...", "... live updates" anywhere: a live page.
_LIVE = re.compile(r"\blive(?:\s+updates|\s+blog)?\s*[:–-]|\blive updates\b|\bas it happened\b", re.IGNORECASE)
# A question or a "how/why/what" piece after an optional rubric: a feature, not a report.
_FEATURE = re.compile(r"^(?:[^:]{1,40}:\s*)?(?:what|why|how|who|where|when|inside|the \w+ view)\b|\?\s*$",
                      re.IGNORECASE)
_VIDEO_LINK = re.compile(r"/(?:videos?|av|watch|live-video)/", re.IGNORECASE)
_LIVE_LINK = re.compile(r"/live/|/live-news/|liveblog", re.IGNORECASE)
_OFFICES = r"mayor|governor|(?:regional |oblast )?(?:military )?administration|president|" \
    r"(?:prime |foreign |defen[cs]e |interior )?minister|ministry|police|" \
    r"prosecutors?|court|spokes(?:man|woman|person)|army|navy|military|border guard|coast guard"
_SAID_BY = re.compile(rf"\b({_OFFICES})\b[^.;]{{0,40}}?\b(?:said|says|told|reported|announced)\b|"
                      rf"\b(?:said|says|told|reported|according to)\b[^.;]{{0,30}}?\b({_OFFICES})\b", re.IGNORECASE)
_DAYPART = re.compile(r"\b(morning|afternoon|evening|overnight|night)\b", re.IGNORECASE)
_DAYPARTS = {"overnight": "night"}


def attribution(summary: str) -> frozenset[str]:
    """The offices a summary quotes: "the mayor said", "according to police"."""
    return frozenset(_office(a or b) for a, b in _SAID_BY.findall(summary))


def _office(name: str) -> str:
    name = re.sub(r"^(?:prime|foreign|defen[cs]e|interior) ", "", name.lower())
    # A region's (military) administration is its governor's office (Ukraine's oblasts).
    return "governor" if name.endswith("administration") else name


def dayparts(text: str) -> frozenset[str]:
    return frozenset(_DAYPARTS.get(w.lower(), w.lower()) for w in _DAYPART.findall(text))


def repair(text: str) -> str:
    """Entities decoded, mojibake and curly quotes fixed, NFC."""
    if "&" in text:
        text = html.unescape(html.unescape(text))
    if not text.isascii():
        from ftfy import fix_text  # imported once a text needs it: most ASCII titles never do
        text = fix_text(text, normalization="NFC")
    return text


def form_of(title: str, link: str | None) -> tuple[str, str]:
    """(kind, title without its format affixes)."""
    kind = "news"
    for _ in range(3):
        m = _AFFIX_PREFIX.match(title)
        if not m or m.end() == 0:
            break
        if m.group("video") or m.group("live_video"):
            kind = "video"
        elif m.group("live"):
            kind = "live"
        elif m.group("feature"):
            kind = "feature"
        title = title[m.end():]
    for _ in range(3):
        m = _AFFIX_SUFFIX.search(title)
        if not m or m.start() == 0:
            break
        if m.group("video") or m.group("video2"):
            kind = "video"
        elif m.group("live"):
            kind = "live"
        title = title[:m.start()]
    if kind == "news":
        if _LIVE.search(title) or (link and _LIVE_LINK.search(link)):
            kind = "live"
        elif _FEATURE.search(title):
            kind = "feature"
        elif link and _VIDEO_LINK.search(link):
            kind = "video"
    return kind, title.strip()


