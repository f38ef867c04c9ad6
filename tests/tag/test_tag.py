"""tag: pattern syntax, whole-word Unicode matching, exclude/require, source tags and categories."""

from __future__ import annotations

import re

import pytest

from aggregator.records import Item, Match, Source, SourceRef, Topic
from aggregator.tag.rules import Rules, check_pattern, keyword_regex

NATO = Topic("nato", "NATO", keywords=("NATO", "НАТО", "North Atlantic Alliance"),
             exclude=(r"/\b\d+(?:\.\d+)?\s*NATO\b/", "ice hockey"))
UKRAINE = Topic("ukraine", "Ukraine", keywords=("Ukrain*", "Україн*", "Украин*", "Kyiv"), regex=(r"\bZelensk\w*",))
BALTIC = Topic("baltic", "Baltic", keywords=("Estonia*", "Baltic"), require=("troops", "/defen[cs]e\\s+minist/"))
SRC = Source(url="https://src.example/feed", name="Src", tags=("ukraine",), categories=(("Defence", "baltic"),))
OTHER = Source(url="https://other.example/feed", name="Other")
RULES = Rules.compile([NATO, UKRAINE, BALTIC], [SRC, OTHER])


def item(title="", summary="", content="", categories=(), sources=(OTHER,)) -> Item:
    return Item(id="i", keys=(), canonical_url=None, link=None, title=title, summary=summary, content=content,
                categories=tuple(categories), sources=tuple(SourceRef(feed_url=s.url) for s in sources))


@pytest.mark.parametrize("text, topics", [
    ("NATO jets scrambled", {"nato"}),
    ("NATO's chief visits", {"nato"}),
    ("Nato’s new command", {"nato"}),
    ("A NATO-led mission", {"nato"}),
    ("nato summit", {"nato"}),
    ("NATOs and SENATORS", set()),  # not inside another word
    ("the North  Atlantic\nAlliance", {"nato"}),  # a phrase across any spaces
    ("Генсек НАТО прибув", {"nato"}),
    ("Review of a rifle in 7.62 NATO", set()),  # excluded
    ("NATO troops watch ice hockey", set()),
    ("Ukraine's grain", {"ukraine"}),
    ("Ukrainian refugees", {"ukraine"}),
    ("Президент України", {"ukraine"}),
    ("столицы Украины", {"ukraine"}),
    ("УКРАИНСКИЕ войска", {"ukraine"}),
    ("Kyiv-based startup", {"ukraine"}),
    ("Zelenskyy meets Trump", {"ukraine"}),  # regex
    ("Estonia's economy", set()),  # require unmet
    ("Estonian troops train", {"baltic"}),
    ("Baltic defence ministers meet", {"baltic"}),  # require as /regex/
    ("Baltic herring quotas", set()),
])
def test_match_text(text, topics):
    assert set(RULES.match_text(text)) == topics


def test_match_records_rule_pattern_field_and_words():
    got = RULES.match_text("Estonian troops and NATO")
    assert got["nato"] == [Match("nato", "keyword", "NATO", "text", "NATO")]
    assert Match("baltic", "keyword", "Estonia*", "text", "Estonian") in got["baltic"]
    assert Match("baltic", "require", "troops", "text", "troops") in got["baltic"]


def test_tag_fields_and_html_stripping():
    tagged = RULES.tag(item(title="Budget day", summary="<p>Support for <b>Ukraine</b></p>"))
    assert tagged.topics == ("ukraine",)
    assert tagged.reasons == (Match("ukraine", "keyword", "Ukrain*", "summary", "Ukraine"),)
    assert RULES.tag(item(summary='<a href="https://nato.int/">link</a> text')).topics == ()  # markup is not text


def test_one_passing_mention_in_content_is_not_enough_but_two_are():
    one = "<p>Long article about budgets.</p><p>It mentions NATO once.</p>"
    assert RULES.tag(item(title="Budget", content=one)).topics == ()
    assert RULES.tag(item(title="Budget", content=one + "<p>NATO again.</p>")).topics == ("nato",)


def test_categories_are_matched_as_text():
    assert RULES.tag(item(title="x", categories=["NATO"])).topics == ("nato",)


def test_source_tags_and_category_mapping_always_apply():
    tagged = RULES.tag(item(title="Weather", categories=["defence"], sources=(SRC,)))
    assert tagged.topics == ("baltic", "ukraine")
    assert Match("ukraine", "tag", "ukraine", "source", "Src") in tagged.reasons
    assert Match("baltic", "category", "defence", "categories", "Src") in tagged.reasons


def test_merged_item_gets_tags_of_all_sources():
    assert RULES.tag(item(title="x", sources=(OTHER, SRC))).topics == ("ukraine",)
    assert RULES.tag(item(title="x", sources=(OTHER,))).topics == ()


@pytest.mark.parametrize("first, then", [
    (item(title="NATO jets", sources=(OTHER,)), item(title="NATO jets", sources=(OTHER, SRC))),  # merged: same text
    (item(title="NATO jets"), item(title="Weather")),  # the text changed: tagged afresh
    (item(title="Baltic", summary="troops"), item(title="Baltic", summary="herring")),
    (item(title="x", categories=["Ukraine"]), item(title="x", categories=["Latvia"])),
    (item(title="x", content="<p>NATO, NATO</p>"), item(title="x", content="<p>NATO</p>")),
])
def test_a_text_tagged_before_in_the_run_gets_the_reasons_it_would_get_afresh(first, then):
    rules = Rules.compile([NATO, UKRAINE, BALTIC], [SRC, OTHER], remember=True)
    rules.tag(first)  # remembered for the run
    again = rules.tag(then)
    fresh = Rules.compile([NATO, UKRAINE, BALTIC], [SRC, OTHER]).tag(then)
    assert (again.topics, again.reasons) == (fresh.topics, fresh.reasons)
    assert len(rules._texts) == (1 if first.title == then.title and first.summary == then.summary and
                                 first.content == then.content and first.categories == then.categories else 2)


def test_tag_replaces_previous_topics():
    stale = item(title="Weather")
    stale = Item(**{**stale.__dict__, "topics": ("nato",), "reasons": (Match("nato", "tag", "nato", "source", "x"),)})
    assert RULES.tag(stale).topics == () and RULES.tag(stale).reasons == ()


@pytest.mark.parametrize("kind, pattern, error", [
    ("keyword", "NATO", None),
    ("keywords", "Україн*", None),
    ("keyword", "Ukr*", None),
    ("keyword", "U*", "at least 3 characters"),
    ("keyword", "Uk*raine", "only at the end"),
    ("keyword", "   ", "empty keyword"),
    ("keyword", "***", "only at the end"),
    ("keyword", "--", "no letters"),
    ("keywords", r"/\bArticle\s+5\b/", "put it under 'regex:'"),  # else matched as the literal text
    ("regex", r"\bNATO\b", None),
    ("regex", "(unclosed", "missing )"),
    ("regex", "a|", "matches empty text"),
    ("exclude", "/[bad/", "unterminated character set"),
    ("require", "/troops?/", None),
    ("require", "defence minister", None),
    ("nonsense", "x", "unknown pattern kind"),
])
def test_check_pattern(kind, pattern, error):
    got = check_pattern(kind, pattern)
    assert (got is None) if error is None else (error in got)


def test_compile_rejects_bad_patterns():
    with pytest.raises(ValueError, match="topic bad: regex"):
        Rules.compile([Topic("bad", "Bad", regex=("(",))])


@pytest.mark.parametrize("keyword, text, hit", [
    ("Baltic Defence Line", "the baltic defence line", True),
    ("NATO-led", "NATO‑led", True),  # a non-breaking hyphen
    ("Riflemen's Union", "Riflemen’s Union", True),  # a typographic apostrophe
    ("Kyiv", "Kyivstar", False),
    ("Київ", "київ", True),
])
def test_keyword_regex(keyword, text, hit):
    assert bool(re.search(keyword_regex(keyword), text.casefold())) is hit


# ----------------------------------------------------------------------------- fast paths stay exact

from hypothesis import given, settings as hsettings, strategies as st  # noqa: E402

from aggregator import text
from aggregator.tag import patterns  # noqa: E402

_WORD_RUN = re.compile(r"\w+")


def _reference_scan(lexicon: patterns.Lexicon, folded: str) -> dict:
    """The word-by-word scan the trie regex replaced: every word run looked up in Python."""
    out: dict = {}
    ends: dict = {}
    for word in _WORD_RUN.finditer(folded):
        w = word.group()
        cands = list(lexicon._exact.get(w, ())) + [k for k in lexicon._stems.get(w[:3], ()) if w.startswith(k.stem)]
        done: set = set()
        for k in sorted(cands, key=lambda k: len(k.pattern), reverse=True):
            if k.owner in done or word.start() < ends.get(k.owner, 0):
                continue
            m = k.regex.match(folded, word.start())
            if m:
                done.add(k.owner)
                ends[k.owner] = m.end()
                out.setdefault(k.owner, []).append((word.start(), m.end(), k.pattern))
    for k in lexicon._slow:
        for m in k.regex.finditer(folded):
            out.setdefault(k.owner, []).append((m.start(), m.end(), k.pattern))
    return out


_PIECES = ["nato", "NATO-led", "ukrain", "ukraine's", "україн", "естонія", "estonian", "baltic", "defence",
           "line", "kyiv", "kyivstar", "zelensk", "x", " ", "  ", "-", "’", "\n", ".", "7.62", "senator", "ß"]


@hsettings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=25))
def test_trie_scan_finds_what_the_word_by_word_scan_found(pieces):
    folded = "".join(pieces).casefold()
    assert RULES.lexicon.scan(folded) == _reference_scan(RULES.lexicon, folded)


@hsettings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["<p>", "</p>", "<b x='1'>", "&amp;", "&nbsp;", "&#x2003;", " ", "\t", "\n",
                                 "\u00a0", "\u2028", "\x0b", "\x1c", "word", "Ünï", "<", ">", "\x00"]), max_size=30))
def test_plain_text_folds_whitespace_like_the_regex_it_replaced(pieces):
    import html as html_lib
    import re

    fragment = "".join(pieces)
    reference = re.sub(r"\s+", " ", text.clean_text(html_lib.unescape(re.sub(r"<[^>]*>", " ", text.clean_text(fragment)))))
    assert text.plain_text(fragment) == reference.strip()


def test_untouched_item_is_returned_as_it_is():
    plain = item(title="Weather")
    assert RULES.tag(plain) is plain


# ----------------------------------------------------------------------------- the negatives


@pytest.mark.parametrize("text, slug, held, why", [
    ("NATO troops watch ice hockey", "nato", False, "removed by exclude 'ice hockey' in text ('ice hockey')"),
    ("Review of a rifle in 7.62 NATO", "nato", False,
     r"removed by exclude '/\\b\\d+(?:\\.\\d+)?\\s*NATO\\b/' in text ('7.62 NATO')"),  # a regex, as written
    ("Estonia's economy", "baltic", False,
     r"withheld: no require pattern matched ('troops', '/defen[cs]e\\s+minist/')"),
    ("Estonian troops train", "baltic", True, ""),
    ("NATO jets scrambled", "nato", True, ""),
])
def test_judge_text_names_the_rule_the_word_and_the_field(text, slug, held, why):
    verdict = RULES.judge_text(text)[slug]
    assert verdict.held is held and verdict.why_not() == why
    assert verdict.reasons  # what had matched is kept, to show beside the reason it does not hold


def test_judge_text_leaves_out_topics_nothing_matched():
    assert set(RULES.judge_text("Baltic herring quotas")) == {"baltic"}  # matched, withheld
    assert RULES.judge_text("Weather in Riga") == {}


def test_judge_item_names_the_field_and_keeps_tagging_unchanged():
    it = item(title="NATO mission", summary="Players of ice hockey joined the NATO mission.")
    verdict = RULES.judge_item(it)["nato"]
    assert verdict.blocked_by == Match("nato", "exclude", "ice hockey", "summary", "ice hockey")
    assert RULES.tag(it).topics == ()  # the same decision as before


def test_without_topics_the_text_is_not_read_and_source_rules_still_apply(monkeypatch):
    """A config of source tags and categories only: no topic rule can hold, so tagging does
    not scan the text (a cold poll's tagging is a sixth of its CPU), and the source's tags and
    mapped categories still come out."""
    from aggregator.tag import rules as rules_module
    rules = Rules.compile([], [SRC])

    def no_scan(*args):
        raise AssertionError("the text was scanned")
    monkeypatch.setattr(rules_module, "text_fields", no_scan)
    assert rules.text_reasons(("NATO summit", "<p>NATO allies met</p>", "", ("defence",))) == ()
    tagged = rules.tag(item(title="Ukraine and NATO", summary="NATO allies met", categories=["defence"],
                            sources=(SRC,)))
    assert tagged.topics == ("baltic", "ukraine")
    assert {m.rule for m in tagged.reasons} == {"tag", "category"}
