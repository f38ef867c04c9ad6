"""``aggregator store check`` and ``store restore``: their output and exit codes, through click."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from aggregator.cli import main
from aggregator.records import Item, Snapshot
from aggregator.store import Store

NOW = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)
CONFIG = """\
settings:
  store: {store}
  output_dir: output
topics:
  news: {{title: News, keywords: [news]}}
feeds:
  - url: http://127.0.0.1:9/feed.xml
"""


def snapshot(n: int) -> Snapshot:
    items = (Item(id=f"i{k}", keys=(f"i{k}",), canonical_url=None, link=None, title=f"Item {k}",
                  published=NOW) for k in range(n))
    return Snapshot(items={i.id: i for i in items})


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "data" / "store.json"
    (tmp_path / "feeds.yaml").write_text(CONFIG.format(store=path), encoding="utf-8")
    return path


def aggregator(store: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(store.parent.parent / "feeds.yaml"), "store", *args],
                              catch_exceptions=False)


def save(path: Path, *sizes: int) -> None:
    """Save one snapshot per size, in turn: the one before the last ends up in ``.bak``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for n in sizes:
        s = Store(path)
        s.load()
        s.save(snapshot(n))


def one_error_line(result: Result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and result.stdout == "", result.output
    return lines[0]


def test_check_a_good_store_exits_0(store: Path) -> None:
    save(store, 3)
    result = aggregator(store, "check")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{store}: ok, schema 3, 3 items, 0 feeds") and result.stderr == ""


def test_check_a_missing_store_exits_0(store: Path) -> None:
    result = aggregator(store, "check")
    assert result.exit_code == 0 and "no store yet" in result.stdout


@pytest.mark.parametrize("backup, says", [
    (None, "no backup exists"),
    (b"{", "backup store.json.bak does not load either"),
])
def test_check_a_corrupt_store_exits_3_with_one_line(store: Path, backup, says) -> None:
    store.parent.mkdir(parents=True)
    store.write_bytes(b'{"items": ')
    if backup is not None:
        store.with_name("store.json.bak").write_bytes(backup)
    result = aggregator(store, "check")
    assert result.exit_code == 3
    line = one_error_line(result)
    assert f"{store}: DOES NOT LOAD: not valid JSON" in line and says in line
    assert store.read_bytes() == b'{"items": '  # checking changes nothing


def test_restore_from_a_good_backup_then_check_exits_0(store: Path) -> None:
    save(store, 2, 3)  # .bak holds the 2-item store
    store.write_bytes(b"\x00\x00\x00")  # a torn write
    check = aggregator(store, "check")
    assert check.exit_code == 3 and "the last good copy is" in one_error_line(check)

    restore = aggregator(store, "restore")
    assert restore.exit_code == 0, restore.output
    assert restore.stdout.startswith(f"restored {store} from store.json.bak (schema 3, 2 items")
    kept = list(store.parent.glob("store.json.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == b"\x00\x00\x00"

    again = aggregator(store, "check")
    assert again.exit_code == 0 and again.stdout.startswith(f"{store}: ok, schema 3, 2 items")


@pytest.mark.parametrize("setup, says", [
    ("good store", "loads fine"),
    ("corrupt, no backup", "no backup"),
    ("corrupt, corrupt backup", "the backup does not load either"),
])
def test_restore_exits_3_and_changes_nothing_when_it_refuses(store: Path, setup: str, says: str) -> None:
    save(store, 1)
    if setup != "good store":
        store.write_bytes(b"[")
    if setup == "corrupt, corrupt backup":
        store.with_name("store.json.bak").write_bytes(b"[1]")
    before = {p.name: p.read_bytes() for p in store.parent.iterdir() if p.is_file()}
    result = aggregator(store, "restore")
    assert result.exit_code == 3
    assert says in one_error_line(result)
    after = {p.name: p.read_bytes() for p in store.parent.iterdir() if p.is_file()}
    assert {k: v for k, v in after.items() if not k.endswith(".lock")} == \
        {k: v for k, v in before.items() if not k.endswith(".lock")}


def test_a_corrupt_feeds_file_is_named_by_check_and_restored_from_its_backup(store: Path) -> None:
    save(store, 2, 3)  # both files, each with a .bak
    sidecar = store.with_name("store.feeds.json")
    items = store.read_bytes()
    sidecar.write_bytes(b'{"feeds": ')
    check = aggregator(store, "check")
    assert check.exit_code == 3
    line = one_error_line(check)
    assert f": {sidecar}: DOES NOT LOAD: not valid JSON" in line and "backup store.feeds.json.bak ok" in line
    assert f"{store}:" not in line and "the last good copy is" in line  # the items file is fine

    restore = aggregator(store, "restore")
    assert restore.exit_code == 0, restore.output
    assert restore.stdout.startswith(f"restored {sidecar} from store.feeds.json.bak (schema 3, 0 feeds")
    assert "validators" not in restore.stdout  # the items were not touched: nothing to re-read
    assert store.read_bytes() == items
    assert [p.read_bytes() for p in store.parent.glob("store.feeds.json.corrupt-*")] == [b'{"feeds": ']
    again = aggregator(store, "check")
    assert again.exit_code == 0 and again.stdout.startswith(f"{store}: ok, schema 3, 3 items")


def test_check_names_both_files_when_both_are_corrupt(store: Path) -> None:
    save(store, 1, 2)
    store.write_bytes(b"[")
    store.with_name("store.feeds.json").write_bytes(b"]")
    check = aggregator(store, "check")
    line = one_error_line(check)
    assert check.exit_code == 3 and f"{store}: DOES NOT LOAD" in line and f"{store.with_name('store.feeds.json')}: DOES NOT LOAD" in line
