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
import unicodedata

_AFFIX_PREFIX = re.compile(
    r"^\s*(?:(?:update|updated)\s*\d*\s*[-:]|exclusive\s*[-:]|breaking(?:\s+news)?\s*[-:]|"
    r"(?P<live_video>live\s+video)\s*:|(?P<video>watch|video|photos|pictures|in pictures|gallery|listen)\s*[:.]|"
    r"(?P<live>live)\s*:|(?P<feature>analysis|opinion|explainer|comment|editorial|fact[- ]check|"
    r"maps?|explained|review|interview|podcast)\s*:)\s*", re.IGNORECASE)
# Reuters' topic codes, in capitals: "GOLD-Prices hit record", "FOREX-Dollar slips" ("Oil-rich" is no code).
_AGENCY_CODE = re.compile(r"^(?:GOLD|OIL|FOREX|METALS|PRECIOUS|GRAINS|SOFTS|BRIEF|RPT|REFILE|CORRECTED|WRAPUP|FACTBOX|"
                          r"TREASURIES|MARKETS|GLOBAL MARKETS|EMERGING MARKETS|US STOCKS|EUROPE STOCKS|LIVE MARKETS)"
                          r"(?:\s*\d+)?\s*-\s*(?=\S)")
_AFFIX_SUFFIX = re.compile(
    r"\s*(?:[–—-]+\s*(?:reuters|ap news|ap|afp|bbc news|bbc|cnn|the guardian|dw|euronews|yle|err news|err|lrt|lsm|"
    r"the moscow times|kyiv independent|the kyiv independent|ukrainska pravda|tvp world|politico|al jazeera|france 24|"
    r"rfe/rl|sky news|the independent|the telegraph|bloomberg|financial times|euractiv|delfi|postimees|"
    r"notes from poland|the baltic times|defense news|breaking defense|world news|us news)"
    r"|\s\|\s*[^|]{2,40}"  # "| Reuters", "| TVP World", "| World News": a site's name after a bar
    r"|\(\s*(?P<video2>video|watch|photos)\s*\)|[–—-]+\s*(?P<video>video|watch)"
    r"|[–—-]+\s*(?P<live>live(?:\s+updates)?|as it happened|live blog)"
    r"|[–—-]{2}\s*\w+)\s*$", re.IGNORECASE)
# "Baltic war live: ...", "... live updates" anywhere: a live page.
_LIVE = re.compile(r"\blive(?:\s+updates|\s+blog)?\s*[:–-]|\blive updates\b|\bas it happened\b", re.IGNORECASE)
# A question or a "how/why/what" piece after an optional rubric: a feature, not a report.
_FEATURE = re.compile(r"^(?:[^:]{1,40}:\s*)?(?:what|why|how|who|where|when|inside|the \w+ view)\b|\?\s*$",
                      re.IGNORECASE)
_VIDEO_LINK = re.compile(r"/(?:videos?|av|watch|live-video|gallery|galleries|in-pictures)/", re.IGNORECASE)
_LIVE_LINK = re.compile(r"/live/|/live-news/|liveblog", re.IGNORECASE)
_OFFICES = r"mayor|governor|(?:regional |oblast )?(?:military )?administration|president|" \
    r"(?:prime |foreign |defen[cs]e |interior )?minister|ministry|police|" \
    r"prosecutors?|court|spokes(?:man|woman|person)|army|navy|military|border guard|coast guard"
_SAID_BY = re.compile(rf"\b({_OFFICES})\b[^.;]{{0,40}}?\b(?:said|says|told|reported|announced)\b|"
                      rf"\b(?:said|says|told|reported|according to)\b[^.;]{{0,30}}?\b({_OFFICES})\b", re.IGNORECASE)
_DAYPART = re.compile(r"\b(morning|afternoon|evening|overnight|night)\b", re.IGNORECASE)
_DAYPARTS = {"overnight": "night"}


_SAYING = ("said", "says", "told", "reported", "announced", "according to")  # one is in every _SAID_BY match
_DAYPART_WORDS = ("morning", "afternoon", "evening", "night")  # "overnight" too


def attribution(summary: str) -> frozenset[str]:
    """The offices a summary quotes: "the mayor said", "according to police"."""
    low = summary.lower()
    if not any(w in low for w in _SAYING):  # the regex costs ~40 µs a summary; this check ~1
        return frozenset()
    return frozenset(_office(a or b) for a, b in _SAID_BY.findall(summary))


def _office(name: str) -> str:
    name = re.sub(r"^(?:prime|foreign|defen[cs]e|interior) ", "", name.lower())
    # A region's (military) administration is its governor's office (Ukraine's oblasts).
    if name.endswith("administration"):
        return "governor"
    if name == "military":
        return "army"  # "the military said", "the army said"
    return "minister" if name == "ministry" else name  # a ministry speaks for its minister


# "Russia's Bryansk region", "the Tver Region", "the region of Kherson": where in a country it happened.
_REGION = re.compile(r"\b([A-Z][\w'’-]+)\s+(?i:region|oblast|province|county|district|governorate|krai|parish)\b"
                     r"|\b(?i:region|oblast|province|county|governorate) of ([A-Z][\w'’-]+)")
_REGION_WORDS = ("region", "oblast", "province", "county", "district", "governorate", "krai", "parish")


def regions(text: str) -> frozenset[str]:
    """The regions, provinces and counties *text* names (lower case, possessive off)."""
    low = text.lower()
    if not any(w in low for w in _REGION_WORDS):
        return frozenset()
    return frozenset(re.sub(r"['’]s?$", "", (a or b).lower()) for a, b in _REGION.findall(text))


def dayparts(text: str) -> frozenset[str]:
    low = text.lower()
    if not any(w in low for w in _DAYPART_WORDS):
        return frozenset()
    return frozenset(_DAYPARTS.get(w.lower(), w.lower()) for w in _DAYPART.findall(text))


# What ftfy is needed for: UTF-8 read as Latin-1 or Windows-1252 (a lead byte's letter, Â to ï,
# then a continuation byte's character), C1 controls, ligatures and full-width forms. Any other
# text gets what ftfy would give it (curly quotes straightened, NFC) for ~1 µs instead of ~50.
_NEEDS_FTFY = re.compile("[\u00c2-\u00ef][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
                         "\u02c6\u02dc\u2013\u2014\u2018-\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030"
                         "\u2039\u203a\u20ac\u2122]|[\u0080-\u009f\ufb00-\ufb06\uff01-\uff5e]")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
                         "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"'})


def repair(text: str) -> str:
    """Entities decoded, mojibake and curly quotes fixed, NFC."""
    if "&" in text:
        text = html.unescape(html.unescape(text))
    if not text.isascii():
        if _NEEDS_FTFY.search(text):
            from ftfy import fix_text  # imported once a text needs it: most titles never do
            return fix_text(text, normalization="NFC")
        text = unicodedata.normalize("NFC", text.translate(_QUOTES))
    return text


def form_of(title: str, link: str | None) -> tuple[str, str]:
    """(kind, title without its format affixes)."""
    kind = "news"
    for _ in range(3):
        code = _AGENCY_CODE.match(title) if title[:2].isupper() else None
        if code is not None:
            title = title[code.end():]
            continue
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
        # Each regex only where it can match (every suffix starts with a dash, a bar or a bracket).
        m = _AFFIX_SUFFIX.search(title) if any(c in title for c in "|–—-(") else None
        if not m or m.start() == 0:
            break
        if m.group("video") or m.group("video2"):
            kind = "video"
        elif m.group("live"):
            kind = "live"
        title = title[:m.start()]
    if kind == "news":
        low, page = title.lower(), (link or "").lower()
        if ("live" in low or "happened" in low) and _LIVE.search(title) or "live" in page and _LIVE_LINK.search(page):
            kind = "live"
        elif any(w in low for w in ("wh", "how", "inside", "view", "?")) and _FEATURE.search(title):
            kind = "feature"
        elif any(w in page for w in ("video", "/av/", "watch", "galler", "pictures")) and _VIDEO_LINK.search(page):
            kind = "video"
    return kind, title.strip()


