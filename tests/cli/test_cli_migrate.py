"""``aggregator store migrate``: TinyDB -> PostgreSQL -> TinyDB, through click, against real stores;
and the other commands that read a store (check, stats, explain, retag) on a database.

The round trip keeps every record, the command checks the counts, and the feeds published
from the copy are byte for byte those published from the original.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from aggregator import config as configuration
from aggregator import pipeline
from backends import stored
from clihelpers import invoke, serve_fixtures, write_config
from feedserver import FeedServer

NOW = datetime(2026, 12, 1, 12, tzinfo=timezone.utc)


def published(config: Path, folder: Path) -> dict[str, bytes]:
    """Every file `aggregator publish` writes for *config*, at NOW, into *folder*."""
    conf = configuration.replace_settings(configuration.load(config), output_dir=folder)
    pipeline.publish(conf, now=NOW)
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_migrate_round_trips_and_publishes_the_same_bytes(tmp_path: Path, server: FeedServer, pg_url: str) -> None:
    urls = list(serve_fixtures(server).values())
    tiny = write_config(tmp_path, urls)
    text = tiny.read_text(encoding="utf-8").replace("  parse_workers: 1", "  parse_workers: 1\n  max_items_per_source: 1\n  max_items: 1")
    tiny.write_text(text, encoding="utf-8")
    assert invoke(tiny, "run").exit_code == 0
    original = stored(tmp_path / "data" / "store.json")
    assert len(original.items) >= 3 and original.tombstones and original.feeds  # retention left tombstones
    before = published(tiny, tmp_path / "out-tinydb")
    assert {"nato.atom", "all.rss", "ukraine.json", "index.html", "feeds.opml", "health.atom"} <= before.keys()

    result = invoke(tiny, "store", "migrate", "--to", pg_url)
    assert result.exit_code == 0, result.output
    sources = sum(len(i.sources) for i in original.items.values())
    assert (f"copied {len(original.items)} items ({sources} sources), {len(original.feeds)} feed states, "
            f"{len(original.tombstones)} tombstones") in result.stdout
    assert "published files are identical" in result.stdout
    copy = stored(pg_url)
    assert (copy.items, copy.feeds, copy.tombstones) == (original.items, original.feeds, original.tombstones)

    pg_config = tmp_path / "pg" / "feeds.yaml"
    pg_config.parent.mkdir()
    pg_config.write_text(text.replace('store: "data/store.json"', f'store: "{pg_url}"'), encoding="utf-8")
    assert published(pg_config, tmp_path / "out-postgresql") == before

    back = tmp_path / "back" / "store.json"
    result = invoke(pg_config, "store", "migrate", "--to", str(back))
    assert result.exit_code == 0, result.output
    again = stored(back)
    assert (again.items, again.feeds, again.tombstones) == (original.items, original.feeds, original.tombstones)
    back_config = tmp_path / "back" / "feeds.yaml"
    back_config.write_text(text.replace('store: "data/store.json"', f'store: "{back}"'), encoding="utf-8")
    assert published(back_config, tmp_path / "out-back") == before

    # The database keeps serving runs: a new item is stored and published from it.
    server.add("/rss2.xml", (Path(__file__).parents[1] / "data" / "feeds" / "rss2_more.xml").read_bytes(),
               content_type="application/rss+xml")
    result = invoke(pg_config, "run", "--force")
    assert result.exit_code == 0 and "2 new" in result.stdout, result.output


def test_migrate_refuses_a_target_that_is_not_empty_or_not_a_store(tmp_path: Path, server: FeedServer,
                                                                   pg_url: str) -> None:
    tiny = write_config(tmp_path, list(serve_fixtures(server).values()))
    assert invoke(tiny, "run").exit_code == 0
    assert invoke(tiny, "store", "migrate", "--to", pg_url).exit_code == 0

    again = invoke(tiny, "store", "migrate", "--to", pg_url)
    assert again.exit_code == 3 and "already holds" in again.stderr and "empty store" in again.stderr
    assert again.stderr.count("\n") == 1
    existing = invoke(tiny, "store", "migrate", "--to", str(tmp_path / "data" / "store.json"))
    assert existing.exit_code == 3 and "configured store itself" in existing.stderr
    other = tmp_path / "other.json"
    other.write_text("{}", encoding="utf-8")
    assert invoke(tiny, "store", "migrate", "--to", str(other)).exit_code == 3
    wrong = invoke(tiny, "store", "migrate", "--to", "mysql://db.example/news")
    assert wrong.exit_code == 2 and "postgresql://" in wrong.stderr


def test_store_check_retag_stats_and_explain_on_a_database(tmp_path: Path, server: FeedServer, pg_url: str) -> None:
    urls = serve_fixtures(server)
    config = write_config(tmp_path, list(urls.values()), store=pg_url)
    assert invoke(config, "run").exit_code == 0
    check = invoke(config, "store", "check")
    assert check.exit_code == 0 and "ok, schema 1 (PostgreSQL), 7 items" in check.stdout
    stats = invoke(config, "stats", "--json")
    assert '"items": 7' in stats.stdout
    snap = stored(pg_url)
    item = next(i for i in snap.items.values() if "nato" in i.topics)
    assert item.title in invoke(config, "explain", item.link).stdout

    # New rules, applied to the stored items without fetching, then published.
    config.write_text(config.read_text(encoding="utf-8").replace("keywords: [NATO, North Atlantic Alliance]",
                                                                 "keywords: [Šiauliai]"), encoding="utf-8")
    result = invoke(config, "retag")
    assert result.exit_code == 0 and " of 7 items changed topics" in result.stdout
    retagged = stored(pg_url)
    assert {i.id for i in retagged.items.values() if "nato" in i.topics} != {
        i.id for i in snap.items.values() if "nato" in i.topics}

    import psycopg
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE items SET doc = '[]' WHERE id = %s", (item.id,))
    broken = invoke(config, "store", "check")
    assert broken.exit_code == 3 and f"items row {item.id}" in broken.stderr
