"""The offline demo, end to end: bundled feeds served from 127.0.0.1, the real pipeline."""

from __future__ import annotations

from paths import ROOT
import dataclasses
import json
import socket
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from aggregator import config
from aggregator.cli import demo
from aggregator.cli.manage import demo as demo_cmd
from aggregator.errors import ConfigError

FEEDS = sorted(demo.FEEDS_DIR.iterdir())


@pytest.fixture
def no_network(monkeypatch):
    """Any connection to somewhere other than 127.0.0.1 fails the test."""
    real = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if host not in ("127.0.0.1", "::1", "localhost"):
            pytest.fail(f"the demo tried to reach {address}")
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setenv("HTTP_PROXY", "http://10.255.255.1:3128")  # must be ignored
    monkeypatch.setenv("HTTPS_PROXY", "http://10.255.255.1:3128")


def test_sample_feeds_are_well_formed_and_sized() -> None:
    assert 6 <= len(FEEDS) <= 8
    kinds = set()
    for f in FEEDS:
        root = ET.parse(f).getroot()
        if root.tag == "rss":
            kinds.add("rss")
            n = len(root.findall("channel/item"))
        else:
            assert root.tag == "{http://www.w3.org/2005/Atom}feed"
            kinds.add("atom")
            n = len(root.findall("{http://www.w3.org/2005/Atom}entry"))
        assert 8 <= n <= 15, f.name
    assert kinds == {"rss", "atom"}


def test_template_is_a_valid_config_with_the_three_topics() -> None:
    conf = config.load(demo.TEMPLATE)
    assert [t.slug for t in conf.topics] == ["nato", "baltic-defence", "ukraine"]
    assert sorted(Path(s.url).name for s in conf.sources) == sorted(f.name for f in FEEDS)
    assert all(s.url.startswith(demo.PLACEHOLDER) for s in conf.sources)


def test_demo_runs_offline_end_to_end(tmp_path: Path, no_network) -> None:
    result = demo.run_demo(tmp_path / "d", port=8123)
    report = result.report
    assert report.count("fetched") == len(FEEDS) and report.count("failed") == 0
    total = sum(len(ET.parse(f).getroot().findall(".//item") or
                    ET.parse(f).getroot().findall("{http://www.w3.org/2005/Atom}entry")) for f in FEEDS)
    assert report.new_items < total  # the story carried by two feeds became one item
    out = result.output_dir
    assert out == (tmp_path / "d" / "output").resolve()
    for slug in ("all", "nato", "baltic-defence", "ukraine"):
        for ext in ("rss", "atom", "json"):
            assert (out / f"{slug}.{ext}").stat().st_size > 0
    assert (out / "index.html").exists()
    titles = {slug: [i["title"] for i in json.loads((out / f"{slug}.json").read_text())["items"]]
              for slug in ("nato", "baltic-defence", "ukraine")}
    assert "Estonian Defence Forces hold first HIMARS live fire on home soil" in titles["baltic-defence"]
    assert "Kharkiv opens its fourth underground school" in titles["ukraine"]
    assert "NATO defence ministers agree new readiness targets for 2027" in titles["nato"]
    assert not any("herring" in t.lower() or "hockey" in t.lower() for ts in titles.values() for t in ts)
    assert titles["baltic-defence"].count("Baltic Defence Line: second phase of bunker construction begins") == 1
    text = result.describe()
    assert f"aggregator --config {result.config_path} serve --port 8123" in text and str(out) in text
    conf = config.load(result.config_path)
    assert conf.settings.base_url == "http://127.0.0.1:8123/"
    assert result.config_path.read_text().startswith(demo.MARKER)  # the template's comments survive


def test_demo_refuses_to_overwrite_a_real_config(tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text("settings: {}\n")
    with pytest.raises(ConfigError, match="not a demo config"):
        demo.run_demo(tmp_path)
    assert (tmp_path / "feeds.yaml").read_text() == "settings: {}\n"


def test_demo_command(tmp_path: Path, no_network) -> None:
    r = CliRunner().invoke(demo_cmd, ["--dir", str(tmp_path), "--no-serve"])
    assert r.exit_code == 0, r.output
    assert "7 feeds: 7 fetched" in r.output and "serve --port 8000" in r.output
    r = CliRunner().invoke(demo_cmd, ["--dir", str(tmp_path)])  # again in the same folder: fine
    assert r.exit_code == 0, r.output


def test_demo_topics_are_the_shipped_topics() -> None:
    shipped = ROOT / "feeds.yaml"
    def rules(path: Path) -> list:
        return [dataclasses.replace(t, line=0) for t in config.load(path).topics]  # lines differ, rules must not

    assert rules(demo.TEMPLATE) == rules(shipped)


def test_the_demo_never_writes_the_store_the_environment_names(tmp_path: Path, no_network,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """$AGGREGATOR_STORE names an operator's real store: the demo keeps its own, in its folder."""
    monkeypatch.setenv("AGGREGATOR_STORE", "postgresql://news@127.0.0.1:9/production")
    result = demo.run_demo(tmp_path / "d", port=8124)
    assert result.report.count("fetched") == len(FEEDS)
    assert (tmp_path / "d" / "data" / "aggregator.json").is_file()
