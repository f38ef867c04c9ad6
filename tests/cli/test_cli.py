"""The command line as a person or a script uses it: help, stats, explain, try-rules, retag, logging."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from aggregator.cli import main
from clihelpers import invoke, serve_fixtures, write_config
from feedserver import FeedServer


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    found = []
    for name, cmd in sorted(group.commands.items()):
        found.append((prefix + (name,), cmd))
        if isinstance(cmd, click.Group):
            found += all_commands(cmd, prefix + (name,))
    return found


COMMANDS = all_commands(main)


def test_the_command_set_is_complete() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    expected = {"run", "poll", "publish", "stats", "check", "explain", "try-rules", "retag", "serve", "demo",
                "store", "store check", "store restore", "feeds", "feeds list", "feeds add", "feeds remove",
                "feeds import", "feeds export", "feeds reset"}
    assert expected <= names


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=lambda p: " ".join(p))
def test_every_command_has_help_with_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"'aggregator {' '.join(path)} --help' shows no example"


@pytest.fixture
def polled(tmp_path: Path, server: FeedServer) -> tuple[Path, dict[str, str]]:
    urls = serve_fixtures(server)
    config = write_config(tmp_path, list(urls.values()))
    assert invoke(config, "run").exit_code == 0
    return config, urls


def test_stats_table_names_feeds_and_errors(polled) -> None:
    config, urls = polled
    result = invoke(config, "stats")
    assert result.exit_code == 0
    assert "6 feeds" in result.stdout and "3 failing" in result.stdout
    assert "Feed 0" in result.stdout and "HTTP 500" in result.stdout


@pytest.mark.parametrize(("limit", "code"), [("0.4", 6), ("0.5", 0), ("1", 0)])
def test_stats_health_exit_code(polled, limit: str, code: int) -> None:
    config, _ = polled  # 3 of 6 feeds failing = 50 %
    result = invoke(config, "stats", "--health", "--max-failing", limit)
    assert result.exit_code == code, result.output
    line = (result.stderr if code else result.stdout).strip().splitlines()[-1]
    assert line.startswith("FAIL" if code else "OK") and "3/6 feeds failing" in line


def test_explain_shows_sources_topics_and_reasons(polled) -> None:
    config, _ = polled
    link = "https://baltic-defence.example/news/2024/06/air-policing"
    result = invoke(config, "explain", link)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "NATO air policing mission rotates at Šiauliai" in out
    assert "Feed 0" in out  # the source, credited
    assert "nato:" in out and "keyword 'NATO'" in out and "title" in out
    # By id too, and an unknown item is a clean error.
    item_id = next(line.split()[-1] for line in out.splitlines() if line.strip().startswith("id:"))
    assert invoke(config, "explain", item_id).stdout == out
    missing = invoke(config, "explain", "https://nowhere.example/x")
    assert missing.exit_code == 1 and "no stored item" in missing.stderr


def test_explain_finds_an_item_by_a_tracking_link(polled) -> None:
    config, _ = polled
    result = invoke(config, "explain", "https://baltic-defence.example/news/2024/06/ukraine-drones?utm_source=x&fbclid=1")
    assert result.exit_code == 0 and "Ukraine receives Lithuanian-built drones" in result.stdout


def test_try_rules(tmp_path: Path) -> None:
    config = write_config(tmp_path, ["https://example.org/feed.xml"])
    result = invoke(config, "try-rules", "NATO allies pledge air defence for Kyiv")
    assert result.exit_code == 0
    assert "nato:" in result.stdout and "ukraine:" in result.stdout and "baltic-defence:" not in result.stdout
    assert invoke(config, "try-rules", "Herring quotas agreed").stdout.strip() == "no topic"


def test_try_rules_names_the_exclude_or_require_that_kept_a_topic_out(tmp_path: Path) -> None:
    config = write_config(tmp_path, ["https://example.org/feed.xml"])
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("    keywords: [NATO, North Atlantic Alliance]\n",
                                   "    keywords: [NATO, North Atlantic Alliance]\n    exclude: [basketball]\n")
                      .replace("    keywords: [Ukraine, Ukrainian, Kyiv]\n",
                               "    keywords: [Ukraine, Ukrainian, Kyiv]\n    require: [war, /\\barmy\\b/]\n"),
                      encoding="utf-8")
    result = invoke(config, "try-rules", "basketball NATO")
    assert result.exit_code == 0, result.output
    assert result.stdout == ("no topic\n"
                             "nato: removed by exclude 'basketball' in text ('basketball')\n"
                             "  had matched keyword 'NATO' in text ('NATO')\n")
    result = invoke(config, "try-rules", "Kyiv hosts a Latvia trade fair")
    assert result.stdout.splitlines() == [
        "baltic-defence:", "  matched keyword 'Latvia' in text ('Latvia')",
        "ukraine: withheld: no require pattern matched ('war', '/\\\\barmy\\\\b/')",
        "  had matched keyword 'Kyiv' in text ('Kyiv')"]


def test_explain_names_the_exclude_that_removed_a_topic(polled) -> None:
    config, _ = polled
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("    keywords: [Ukraine, Ukrainian, Kyiv]\n",
                                   "    keywords: [Ukraine, Ukrainian, Kyiv]\n    exclude: [drones]\n"),
                      encoding="utf-8")
    assert invoke(config, "retag").exit_code == 0
    out = invoke(config, "explain", "https://baltic-defence.example/news/2024/06/ukraine-drones").stdout
    assert "  not in (by the rules of feeds.yaml as they are now):" in out
    assert "    ukraine: removed by exclude 'drones' in title ('drones')" in out
    assert "      had matched keyword 'Ukraine' in title ('Ukraine')" in out


def test_retag_applies_changed_rules_without_fetching(polled, server: FeedServer) -> None:
    config, _ = polled
    before = json.loads(invoke(config, "stats", "--json").stdout)["topics"]
    config.write_text(config.read_text().replace("keywords: [Ukraine, Ukrainian, Kyiv]", "keywords: [Gotland]"))
    server.requests.clear()
    result = invoke(config, "retag")
    assert result.exit_code == 0 and "items changed topics" in result.stdout
    assert server.requests == []
    after = json.loads(invoke(config, "stats", "--json").stdout)["topics"]
    assert after["nato"] == before["nato"] and after["ukraine"] == 1 != before["ukraine"]


def test_log_format_json_gives_one_json_object_per_problem(tmp_path: Path, server: FeedServer) -> None:
    urls = serve_fixtures(server)
    config = write_config(tmp_path, [urls["error"], urls["rss2"]])
    result = CliRunner().invoke(main, ["--config", str(config), "--log-format", "json", "--quiet", "run"])
    assert result.exit_code == 0 and result.stdout == ""  # --quiet: no summary
    records = [json.loads(line) for line in result.stderr.strip().splitlines()]
    assert len(records) == 1 and records[0]["level"] == "warning" and urls["error"] in records[0]["message"]


def test_version() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and "aggregator" in result.output
