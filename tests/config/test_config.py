"""Config loading: valid files become records; every mistake names the file, the line and the key."""

from __future__ import annotations

import re

from paths import ROOT
from pathlib import Path

import pytest

from aggregator import config
from aggregator.errors import ConfigError


GOOD = """\
settings:
  store: data/store.json
  output_dir: out
  base_url: http://example.test/feeds
  timeout: 5
  min_interval: 10m
  near_duplicates:
    title_similarity: 0.95
topics:
  nato:
    title: NATO
    keywords: [NATO, НАТО]
  baltic-defence:
    title: Baltic defence
    keywords: [Estonia]
    require: [defence]
feeds:
  - url: https://example.org/feed.xml
    name: Example
    tags: [nato]
    interval: 2h
  - path: local/feed.xml
    categories: {Defence: baltic-defence}
"""


def test_valid_config_becomes_records(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(GOOD, encoding="utf-8")
    conf = config.load(path)
    s = conf.settings
    assert s.store == (tmp_path / "data/store.json").resolve()
    assert s.output_dir == (tmp_path / "out").resolve()
    assert s.base_url == "http://example.test/feeds/"
    assert (s.timeout, s.min_interval) == (5.0, 600)
    assert s.near_duplicates.title_similarity == 0.95
    assert [t.slug for t in conf.topics] == ["nato", "baltic-defence"]
    assert conf.topics[0].keywords == ("NATO", "НАТО")
    assert conf.topics[1].require == ("defence",)
    web, local = conf.sources
    assert (web.url, web.name, web.tags, web.interval) == ("https://example.org/feed.xml", "Example", ("nato",), 7200)
    assert local.path == (tmp_path / "local/feed.xml").resolve()
    assert local.url.startswith("file://") and local.categories == (("Defence", "baltic-defence"),)


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        ("    keywords: [NATO, НАТО]", "    keyword: [NATO]", 12, ["unknown key 'keyword'", "did you mean 'keywords'"]),
        ("  timeout: 5", "  timeout: fast", 5, ["timeout", "settings.timeout"]),
        ("  timeout: 5", "  timeout: -1", 5, ["timeout"]),
        ("  timeout: 5", "  timout: 5", 5, ["unknown key 'timout'", "did you mean 'timeout'"]),
        ("    title: NATO\n", "", 10, ["missing required key 'title'", "topics.nato"]),
        ("    tags: [nato]", "    tags: [natto]", 20, ["'natto' is not a topic slug"]),
        ("    keywords: [Estonia]", "    regex: ['(unclosed']", 15, ["invalid regex", "topics.baltic-defence.regex"]),
        ("  - path: local/feed.xml", "  - url: https://example.org/feed.xml", 22, ["listed twice"]),
        ("    name: Example", "    name: Example\n    path: x.xml", 18, ["exactly one of 'url' or 'path'"]),
        ("  base_url: http://example.test/feeds", "  base_url: ftp://x", 4, ["http:// or https://"]),
        ("  min_interval: 10m", "  min_interval: soon", 6, ["duration"]),
        ("  nato:", "  NATO:", 10, ["slug"]),
        ("feeds:", "feed:", 17, ["unknown key 'feed'", "did you mean 'feeds'"]),
        ("    title: NATO", "    title: [NATO", None, ["invalid YAML"]),
    ],
)
def test_config_errors_name_file_line_and_key(tmp_path: Path, old: str, new: str, line: int | None,
                                              words: list[str]) -> None:
    assert old in GOOD
    path = tmp_path / "feeds.yaml"
    path.write_text(GOOD.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        config.load(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    if line is not None:
        assert info.value.line == line, message
        assert f"{path}:{line}:" in message
    for w in words:
        assert w in message


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        config.load(tmp_path / "nope.yaml")


def test_default_path_honours_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGGREGATOR_CONFIG", "/etc/aggregator/feeds.yaml")
    assert config.default_path() == Path("/etc/aggregator/feeds.yaml")
    monkeypatch.delenv("AGGREGATOR_CONFIG")
    assert config.default_path() == Path("feeds.yaml")


@pytest.mark.parametrize(("value", "seconds"), [(60, 60), ("90s", 90), ("30m", 1800), ("6h", 21600), ("1d", 86400),
                                                 ("1.5h", 5400)])
def test_durations(value: object, seconds: int) -> None:
    assert config.duration(value) == seconds


@pytest.mark.parametrize("value", ["", "soon", "-5m", 0, True, "5 weeks"])
def test_bad_durations(value: object) -> None:
    with pytest.raises(TypeError):
        config.duration(value)


def test_shipped_config_is_valid_and_keeps_subscriber_slugs() -> None:
    conf = config.load(ROOT / "feeds.yaml")
    slugs = {t.slug for t in conf.topics}
    assert {"nato", "baltic-defence", "ukraine"} <= slugs
    assert 10 <= len(conf.sources) <= 20
    assert all(s.url.startswith("https://") for s in conf.sources)


@pytest.mark.parametrize("value, ok", [("0.6", True), ("1.5", False), ("high", False)])
def test_near_duplicates_min_score_is_a_fraction(tmp_path: Path, value: str, ok: bool) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(GOOD.replace("    title_similarity: 0.95", f"    min_score: {value}\n    window_hours: 36"),
                    encoding="utf-8")
    if ok:
        near = config.load(path).settings.near_duplicates
        assert (near.min_score, near.window_hours) == (0.6, 36.0)
    else:
        with pytest.raises(ConfigError, match="min_score"):
            config.load(path)


# Addresses that public probes of 2026 report dead or moved (issue 20): none may come back.
DEAD_OR_MOVED = (
    "https://kyivindependent.com/rss/",  # 404; the feed is /news-archive/rss/
    "https://kyivindependent.com/feed/",  # 404
    "https://www.understandingwar.org/rss.xml",  # 403 or HTML to automated readers
    "https://understandingwar.org/rss.xml",
    "https://www.defense.gov/",  # 301 to www.war.gov: ship the final address
    "https://www.nato.int/cps/rss/en/natolive/",  # 404 while NATO rebuilt its site
)


def test_shipped_feeds_are_not_known_dead_and_each_says_where_it_was_confirmed() -> None:
    text = (ROOT / "feeds.yaml").read_text(encoding="utf-8")
    conf = config.load(ROOT / "feeds.yaml")
    assert not [s.url for s in conf.sources if s.url.startswith(DEAD_OR_MOVED)]
    entries = text.split("\nfeeds:\n", 1)[1].split("\n  - url: ")[1:]
    assert len(entries) == len(conf.sources)
    for entry in entries:
        url = entry.split("\n", 1)[0]
        # where, and when (a year and month), or an honest "undated" when no dated report exists
        assert re.search(r"# confirmed: .*?(20\d\d-\d\d|undated)", entry, re.S), \
            f"{url}: no '# confirmed: <where>, <when>' comment"


# ----------------------------------------------------------------------------- the store's location


@pytest.mark.parametrize("value", [
    "postgresql://news@db.example:5432/news",
    "postgres://news:secret@db.example/news",
    "postgresql://news@/news?host=/var/run/postgresql",
])
def test_a_database_url_selects_postgresql(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.delenv("AGGREGATOR_STORE", raising=False)
    path = tmp_path / "feeds.yaml"
    path.write_text(GOOD.replace("store: data/store.json", f'store: "{value}"'), encoding="utf-8")
    conf = config.load(path)
    assert conf.settings.store == value
    assert "secret" not in config.summary(conf)


@pytest.mark.parametrize("value, words", [
    ("mysql://news:hunter2@db.example/news", "not a mysql:// URL"),
    ("postgresql://news@db.example:port/news", "port that is not a number"),
    ("postgresql://news@db.example:5432/", "names no database"),
])
def test_a_bad_store_url_names_the_line_and_never_the_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               value: str, words: str) -> None:
    monkeypatch.delenv("AGGREGATOR_STORE", raising=False)
    path = tmp_path / "feeds.yaml"
    path.write_text(GOOD.replace("store: data/store.json", f'store: "{value}"'), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        config.load(path)
    text = str(caught.value)
    assert f"{path}:2:" in text and words in text and "settings.store" in text and "hunter2" not in text


def test_the_environment_overrides_the_store_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(GOOD, encoding="utf-8")
    monkeypatch.setenv("AGGREGATOR_STORE", "postgresql://news:pw@db.example/news")
    assert config.load(path).settings.store == "postgresql://news:pw@db.example/news"
    monkeypatch.setenv("AGGREGATOR_STORE", "elsewhere/store.json")
    assert config.load(path).settings.store == (tmp_path / "elsewhere/store.json").resolve()
    monkeypatch.setenv("AGGREGATOR_STORE", "redis://cache/0")
    with pytest.raises(ConfigError, match=r"\$AGGREGATOR_STORE must be a file path or a postgresql://"):
        config.load(path)
