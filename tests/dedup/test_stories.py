"""The story matcher's pure parts: how a report reads (wording), each veto, the score, the time ramp, the split."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from aggregator.dedup import ItemIndex, split_report
from aggregator.dedup.paraphrase import compare, needed
from aggregator.dedup.vetoes import conflicts, same_name
from aggregator.dedup.wording import form_of, profile, repair
from aggregator.records import Entry, SourceRef

T0 = datetime(2025, 3, 12, 9, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("raw, fixed", [
    ("Ukraine&#039;s parliament", "Ukraine's parliament"),
    ("Ukraine&amp;#039;s parliament", "Ukraine's parliament"),
    ("Polandâ€™s president", "Poland's president"),
    ("Finland &amp; Estonia", "Finland & Estonia"),
])
def test_repair_entities_and_mojibake(raw, fixed):
    assert repair(raw) == fixed


@pytest.mark.parametrize("title, kind, rest", [
    ("UPDATE 2-Russian missiles hit Kyiv", "news", "Russian missiles hit Kyiv"),
    ("EXCLUSIVE: US weighs more Patriots", "news", "US weighs more Patriots"),
    ("Watch: Civilians leave Narva", "video", "Civilians leave Narva"),
    ("Narva bridge destroyed – video", "video", "Narva bridge destroyed"),
    ("Germany opens naval centre (VIDEO)", "video", "Germany opens naval centre"),
    ("Finland to raise defence spending -- Reuters", "news", "Finland to raise defence spending"),
    ("Russia attacks Estonia and Latvia – live updates", "live", "Russia attacks Estonia and Latvia"),
    ("Analysis: Why Putin chose now", "feature", "Why Putin chose now"),
    ("What is Nato's Article 5?", "feature", "What is Nato's Article 5?"),
    ("Estonia expels Russian diplomat", "news", "Estonia expels Russian diplomat"),
])
def test_format_affixes_are_cut_and_kept_as_kind(title, kind, rest):
    assert form_of(title, None) == (kind, rest)


@pytest.mark.parametrize("a, b", [
    ("Japan pledges $4.5 billion in aid", "Japan to provide USD 4.5B"),
    ("Poland to train 100,000 civilians", "Poland to train 100k civilians"),
    ("Estonia's inflation rises to 5.2 pct", "Estonian inflation climbs to 5.2%"),
    ("Two killed in strike on Zaporizhzhia", "Strike on Zaporizhzhia leaves 2 dead"),
    ("Lithuania signs deal for forty-four tanks", "Lithuania signs deal for 44 tanks"),
])
def test_number_formats_read_alike(a, b):
    na = {c.value for c in profile(a).facts.numbers}
    assert na and na == {c.value for c in profile(b).facts.numbers}


@pytest.mark.parametrize("a, b", [
    ("Warsaw shuts frontier", "Poland closes border"),
    ("Kremlin says", "Russia says"),
    ("Polish army", "Poland's army"),
    ("U.S. approves sale", "United States approves sale"),
    ("Britain and France", "UK and France"),
])
def test_countries_and_short_forms_fold_together(a, b):
    assert set(profile(a).title_terms) & set(profile(b).title_terms) - {"say", "approv", "sale"}


@pytest.mark.parametrize("a, b, same", [
    ("zelensky", "zelenskyy", True), ("klitschko", "klychko", True), ("shmyhal", "shmygal", True),
    ("lukashenka", "lukashenko", True), ("latvia", "lithuania", False), ("rutte", "trump", False),
])
def test_name_spellings(a, b, same):
    assert same_name(a, b) is same


# Each look-alike kind of the issue, with the veto that must fire.
@pytest.mark.parametrize("a, b, veto", [
    ("Drone strike on bus in Kherson kills one", "Drone strike on bus in Kherson kills three", "numbers"),
    ("Ukrainian pilot killed in crash", "Two Ukrainian pilots killed in crash", "count"),
    ("Russian strike on Dnipro kills child", "Russian strike on Dnipro kills two children", "count"),
    ("Oil prices rise on Monday", "Oil prices slip on Thursday", "weekdays"),
    ("LRT Newsletter: 3 May", "LRT Newsletter: 9 June", "numbers"),
    ("Hungary approves Sweden's NATO bid", "Hungary delays vote on Sweden's NATO bid", "developments"),
    ("Officer charged over supply failures", "Officer acquitted over supply failures", "developments"),
    ("Minister hospitalised after crash", "Minister discharged from hospital after crash", "developments"),
    ("Latvia beat Estonia 2-1", "Latvia beat Lithuania 2-1", "names"),
    ("Explosions rock depot in Russia's Tver region", "Explosions rock depot in Russia's Bryansk region", "names"),
    ("Rutte hails historic summit", "Trump hails historic summit", "subjects"),
    ("Balloons from Belarus close Vilnius airport", "Balloons from Belarus close Vilnius airport again", "repeat"),
    ("Parliament fails to appoint defence minister", "Parliament appoints defence minister", "negated"),
    ("NATO's Article 4 invoked", "NATO's Article 5 invoked", "names"),
    ("Russia attacks Estonia – live updates", "Russia attacks Estonia", "live"),
    ("Kremlin says Nato's article 5 decision is war", "Nato invokes Article 5 after Russian attack", "statement"),
])
def test_conflicting_facts_veto(a, b, veto):
    found = conflicts(profile(a), profile(b))
    assert any(veto in reason for reason in found), found


@pytest.mark.parametrize("a, b", [
    ("Estonia expels Russian diplomat", "Russian diplomat ordered to leave Tallinn"),
    ("Zelenskyy sacks air force commander after F-16 crash", "Zelensky dismisses Ukraine's air force chief after loss of F-16"),
    ("Kiev says Russia violated Easter truce", "Kyiv says Russia violated Easter truce 2,935 times"),
    ("Russian attack on Kharkov kills 5, injures over 30", "Russian bombs hit Kharkiv: five killed, 34 injured"),
    ("Lithuania to spend 1 billion euros on ammunition", "Lithuania sets aside €1bn for ammo"),
    ("EU agrees aid after Hungary drops veto", "EU approves aid as Orban backs down"),
    ("Kremlin says language of ultimatums is unacceptable", "Moscow dismisses truce demand as 'ultimatum'"),
    ("Putin says war goals unchanged", "War goals unchanged, Putin says"),
])
def test_details_added_or_dropped_are_no_conflict(a, b):
    assert conflicts(profile(a), profile(b)) == []


@pytest.mark.parametrize("a, b", [
    ("Estonia expels Russian embassy diplomat", "Russian diplomat ordered to leave Tallinn"),
    ("Ukraine launches defense tech accelerator program", "Ukraine launches defence tech accelerator programme"),
    ("NATO chief Rutte makes surprise visit to Kyiv", "NATO Secretary General arrives in Kyiv on a visit"),
    ("Russian drones hit energy facility in Nikolaev", "Russian drones hit energy facility in Mykolaiv"),
])
def test_paraphrased_headlines_score_and_pass(a, b):
    c = compare(profile(a), profile(b))
    assert c.veto is None and c.score >= 0.55


def test_the_time_ramp_raises_the_bar_until_no_score_passes():
    assert needed(0.55, 2, 72) == 0.55
    assert 0.55 < needed(0.55, 18, 72) < 1.0 < needed(0.55, 25, 72)
    assert needed(0.55, 13, 72, headline_only=True) > 1.0  # a headline alone: half the time


def entry(guid, link, title, summary="", minutes=0):
    return Entry(guid=guid, link=link, title=title, summary=summary, published=T0 + timedelta(minutes=minutes))


def test_split_report_moves_its_keys_apart_and_the_matcher_honours_it():
    idx = ItemIndex({}, {})
    first, _ = idx.upsert(entry("a1", "https://a.example/1", "Estonia expels Russian embassy diplomat"),
                          SourceRef(feed_url="https://a.example/feed"), T0)
    merged, status = idx.upsert(entry("b1", "https://b.example/2", "Russian diplomat ordered to leave Tallinn", minutes=30),
                                SourceRef(feed_url="https://b.example/feed"), T0)
    assert status == "merged" and merged.id == first.id and merged.sources[1].title.startswith("Russian diplomat")
    with pytest.raises(LookupError, match="first report"):
        split_report(merged, "https://a.example/1")
    with pytest.raises(LookupError, match="no merged report"):
        split_report(merged, "https://c.example/3")
    split, ref = split_report(merged, "https://b.example/2")
    assert ref.feed_url == "https://b.example/feed" and len(split.sources) == 1 and not split.merges
    assert "guid:https://b.example/feed b1" in split.apart and "guid:https://b.example/feed b1" not in split.keys
    again = ItemIndex({split.id: split}, {})  # the next run: the report returns as its own item
    item, status = again.upsert(entry("b1", "https://b.example/2", "Russian diplomat ordered to leave Tallinn", minutes=30),
                                SourceRef(feed_url="https://b.example/feed"), T0 + timedelta(hours=1))
    assert status == "new" and item.id != split.id
