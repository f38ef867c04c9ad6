"""Edits of feeds.yaml are serialised: one command at a time holds its edit lock."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner

from aggregator.cli.manage import feeds
from aggregator.config import edit, list_feeds
from aggregator.errors import ConfigError
from aggregator.pipeline.feeds import add_feed
from aggregator.parse import parse
from paths import ROOT, SAMPLES

SAMPLE = (SAMPLES / "feeds" / "nato-watch.xml").read_bytes()
CONFIG = """\
# Our feeds. Keep this comment!
settings:
  title: "Test news"    # quoted on purpose
  timeout: 10
topics:
  nato: {title: NATO, keywords: [NATO]}   # inline
feeds:
  # the first one
  - url: https://a.example/feed.xml
    name: A
# trailing comment about the list
"""


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def aggregator(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "aggregator", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, cwd=ROOT, text=True)


def test_ten_concurrent_adds_all_land_and_keep_the_comments(cfg: Path, server) -> None:
    urls = [server.add(f"/f{i}.xml", SAMPLE, content_type="application/rss+xml") for i in range(10)]
    procs = [aggregator("--config", str(cfg), "feeds", "add", url, "--name", f"Feed {i}")
             for i, url in enumerate(urls)]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, (out, err)
    listed = [e.url for e in list_feeds(cfg)]
    assert sorted(listed[1:]) == sorted(urls) and listed[0] == "https://a.example/feed.xml"
    text = cfg.read_text(encoding="utf-8")
    for comment in ("# Our feeds. Keep this comment!", '"Test news"    # quoted on purpose', "# inline",
                    "# the first one", "# trailing comment about the list"):
        assert comment in text
    assert text.rstrip().endswith("# trailing comment about the list")  # still after the list
    assert not (cfg.parent / "feeds.yaml.lock.holder").exists()


HOLD = """\
import sys, time
from aggregator.config import editing
with editing(sys.argv[1], "feeds add https://holder.example/feed"):
    print("held", flush=True)
    time.sleep(60)
"""


def test_a_command_that_cannot_get_the_lock_names_its_holder(cfg: Path, monkeypatch) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(cfg)], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT)
    try:
        assert holder.stdout.readline() == "held\n"
        before = cfg.read_bytes()
        monkeypatch.setattr(edit, "EDIT_LOCK_TIMEOUT", 0.3)
        started = time.monotonic()
        r = CliRunner().invoke(feeds, ["remove", "https://a.example/feed.xml"],
                               obj=types.SimpleNamespace(config_path=cfg))
        assert time.monotonic() - started < 10
        assert r.exit_code == 4
        assert r.output == (f"aggregator: {cfg}: being edited by another aggregator command (pid {holder.pid}: "
                            "aggregator feeds add https://holder.example/feed); gave up after 0.3s, try again\n")
        assert cfg.read_bytes() == before
    finally:
        holder.kill()
        holder.wait()
    # The holder died without releasing anything by hand: the lock is free again.
    _add_by_hand(cfg, "https://b.example/rss")
    r = CliRunner().invoke(feeds, ["remove", "https://a.example/feed.xml"], obj=types.SimpleNamespace(config_path=cfg))
    assert r.exit_code == 0 and [e.url for e in list_feeds(cfg)] == ["https://b.example/rss"]


def test_add_checks_again_under_the_lock(cfg: Path, server) -> None:
    """Another command adds the same feed while ours is fetching it: ours refuses, nothing is lost."""
    url = server.add("/f.xml", SAMPLE, content_type="application/rss+xml")

    def parser(body, **kw):  # runs after the fetch, before our edit: the other command lands now
        with ThreadPoolExecutor(1) as pool:  # a thread of its own: the lock is not re-entrant across threads
            pool.submit(_add_by_hand, cfg, url).result()
        return parse(body, **kw)

    with pytest.raises(ConfigError, match=rf"{url} is already in the config"):
        add_feed(cfg, url, parser=parser)
    assert [e.url for e in list_feeds(cfg)].count(url) == 1


def _add_by_hand(cfg: Path, url: str) -> None:
    with edit.editing(cfg, "feeds add (by another command)") as doc:
        doc.append(edit.new_node(url, "Other"))
        doc.save()


def test_remove_and_import_hold_the_lock(cfg: Path, tmp_path: Path, monkeypatch) -> None:
    taken: list[str] = []
    real = edit.editing

    def spy(path, command, timeout=None):
        taken.append(command)
        return real(path, command, timeout)

    monkeypatch.setattr("aggregator.config.manage.editing", spy)
    opml = tmp_path / "subs.opml"
    opml.write_text('<opml version="2.0"><body><outline xmlUrl="https://b.example/rss"/></body></opml>')
    runner = CliRunner()
    assert runner.invoke(feeds, ["import", str(opml)], obj=types.SimpleNamespace(config_path=cfg)).exit_code == 0
    assert runner.invoke(feeds, ["remove", "https://b.example/rss"],
                         obj=types.SimpleNamespace(config_path=cfg)).exit_code == 0
    assert taken == [f"feeds import {opml}", "feeds remove https://b.example/rss"]


def test_the_holder_note_reads_as_one_line(tmp_path: Path) -> None:
    note = tmp_path / "feeds.yaml.lock.holder"
    note.write_text(textwrap.dedent("""\
        pid 12
        : aggregator feeds add x
    """))
    assert edit._holder(note) == "pid 12 : aggregator feeds add x"
    assert edit._holder(tmp_path / "missing") == "which one is not recorded"
