"""Commands that look into the store or the rules: stats, explain, try-rules, retag, store, serve."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import click

from .. import pipeline, tag
from ..records import Config, Item, Snapshot
from .base import App, guarded
from ..publish import health_verdict, standing
from ..store import is_database_url, open_store
from ..text import clean_link, safe_uri

EXIT_HEALTH = 6  # documented in cli.py and the README


def _iso(dt: datetime | None) -> str | None:
    return dt.astimezone(timezone.utc).isoformat(timespec="seconds") if dt else None


def stats_data(config: Config, snap: Snapshot, now: datetime) -> dict[str, Any]:
    """The figures ``stats`` shows, as one JSON-ready object.

    ``failing`` counts the feeds whose last poll failed; deferred (their host asked us to
    wait) and gone (410) feeds are counted apart, and neither is failing."""
    per_source = pipeline.items_by_source(snap)
    topics = {t.slug: 0 for t in config.topics}
    for item in snap.items.values():
        for slug in item.topics:
            if slug in topics:
                topics[slug] += 1
    sources = []
    for src in config.sources:
        st = snap.feeds.get(src.key)
        kind, words = standing(st, now)
        sources.append({
            "url": src.key,
            "name": src.name or (st.title if st else "") or "",
            "state": kind,  # "new" | "ok" | "failing" | "deferred" | "gone"
            "standing": words,  # "deferred until 17:05 UTC: host answered 429"
            "status": st.last_status if st else None,
            "error": st.last_error if st and st.error_count else None,
            "items": per_source.get(src.key, 0),
            "last_success": _iso(st.last_success) if st else None,
            "last_attempt": _iso(st.last_attempt) if st else None,
            "errors": st.error_count if st else 0,
            # None: at the next run; a gone feed has none (never), a deferred one its host's time
            "next_poll": None if st is None or st.gone else _iso(st.next_poll),
            "current_url": (st.current_url or src.key) if st else src.key,
            "stopped": bool(st and st.gone),
            "gone": bool(st and st.gone),
            "deferred_until": _iso(st.deferred_until) if kind == "deferred" else None,
            "deferred_reason": st.deferred_reason if kind == "deferred" else None,
        })
    counts = {k: sum(1 for s in sources if s["state"] == k) for k in ("failing", "deferred", "gone")}
    return {"feeds": len(config.sources), "items": len(snap.items), "topics": topics, "sources": sources, **counts}


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object, for scripts.")
@click.option("--health", is_flag=True, help="Exit 6 when too many feeds are failing (for monitoring).")
@click.option("--max-failing", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="With --health: the share of failing feeds that is still healthy.")
@click.pass_obj
@guarded
def stats(app: App, as_json: bool, health: bool, max_failing: float) -> None:
    """Counts of feeds and items, items per topic, and the state of every feed.

    Example: aggregator stats --json | jq '.sources[] | select(.error)'
    """
    conf = app.config()
    now = datetime.now(timezone.utc)
    with pipeline.session(conf) as (_store, snap):  # a database store is read while connected
        data = stats_data(conf, snap, now)
        ok, line = health_verdict(snap, conf.sources, now, max_failing)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        _print_stats(data)
    if health:
        click.echo(line, err=not ok)
        if not ok:
            sys.exit(EXIT_HEALTH)


def _print_stats(data: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(soft_wrap=False, width=None if sys.stdout.isatty() else 160)
    line = f"{data['feeds']} feeds, {data['items']} items, {data['failing']} failing"
    line += "".join(f", {data[k]} {k}" for k in ("deferred", "gone") if data[k])
    console.print(line)
    topics = Table("topic", "items", box=None)
    for slug, n in data["topics"].items():
        topics.add_row(slug, str(n))
    console.print(topics)
    table = Table(box=None)
    for name in ("feed", "status", "items", "errors", "last success", "next poll", "last error"):
        table.add_column(name, overflow="fold")
    for s in data["sources"]:
        if s["state"] in ("gone", "deferred"):  # the state says it all: "deferred until 17:05 UTC: …"
            status, next_poll = s["standing"], "never (gone)" if s["gone"] else _short(s["next_poll"]) or "-"
        else:
            status, next_poll = str(s["status"] or "-"), _short(s["next_poll"]) or "now"
        table.add_row(s["name"] or s["url"], status, str(s["items"]), str(s["errors"]),
                      _short(s["last_success"]) or "never", next_poll, s["error"] or "")
    console.print(table)


def _short(iso: str | None) -> str | None:
    return iso[:16].replace("T", " ") if iso else None


def describe_verdicts(verdicts: dict[str, tag.Verdict], indent: str) -> list[str]:
    """The lines for topics an exclude removed or a require withheld, each with what had matched."""
    lines = []
    for slug, v in verdicts.items():
        if not v.held:
            lines.append(f"{indent}{slug}: {v.why_not()}")
            lines += [f"{indent}  had {m.explain()}" for m in v.reasons]
    return lines


def describe_item(item: Item, verdicts: dict[str, tag.Verdict] | None = None) -> str:
    lines = [
        f"{item.title}",
        f"  id:        {item.id}",
        f"  link:      {item.link or '-'}  (as its source gave it)",
        f"  clean:     {clean_link(safe_uri(item.link) or safe_uri(item.canonical_url)) or '-'}  (what the feeds link to)",
        f"  canonical: {item.canonical_url or '-'}  (for matching)",
        f"  published: {_iso(item.published) or '-'}   first seen: {_iso(item.first_seen) or '-'}",
        "  sources:",
    ]
    for ref in item.sources:
        lines.append(f"    - {ref.name or ref.feed_title or ref.feed_url} <{ref.feed_url}>  {ref.link or ''}")
        if ref.title and ref.title != item.title:
            lines.append(f"      its headline: {ref.title}")
    lines.append("  topics:" if item.topics else "  topics: none")
    for slug in item.topics:
        lines.append(f"    {slug}:")
        lines += [f"      {m.explain()}" for m in item.reasons if m.topic == slug]
    negatives = describe_verdicts({k: v for k, v in (verdicts or {}).items() if k not in item.topics}, "    ")
    if negatives:
        lines.append("  not in (by the rules of feeds.yaml as they are now):")
        lines += negatives
    if item.merges:
        lines.append("  merged (score, shared facts, vetoes checked):")
        lines += [f"    - {m.key}: {m.reason}" for m in item.merges]
    if item.apart:
        lines.append("  never merged again (aggregator unmerge):")
        lines += [f"    - {key}" for key in item.apart]
    return "\n".join(lines)


@click.command()
@click.argument("url_or_id")
@click.pass_obj
@guarded
def explain(app: App, url_or_id: str) -> None:
    """Show a stored item: its sources, its topics and why, and any merge.

    Example: aggregator explain https://news.err.ee/1609000000/some-story
    """
    conf = app.config()
    with pipeline.session(conf) as (_store, snap):  # a database store is read while connected
        item = pipeline.find_item(snap, url_or_id)
    if item is None:
        raise click.ClickException(f"no stored item has the id, link or key {url_or_id!r}")
    click.echo(describe_item(item, tag.Rules.compile(conf.topics, conf.sources).judge_item(item)))


@click.command("try-rules")
@click.argument("text")
@click.pass_obj
@guarded
def try_rules(app: App, text: str) -> None:
    """Show which topics a piece of text would get, and why; and which exclude or require rule
    kept a topic out, with the word and the field.

    Example: aggregator try-rules "NATO jets scrambled over Estonia"
    """
    conf = app.config()
    verdicts = tag.Rules.compile(conf.topics, conf.sources).judge_text(text)
    held = {slug: v for slug, v in verdicts.items() if v.held}
    if not held:
        click.echo("no topic")
    for slug, v in held.items():
        click.echo(f"{slug}:")
        for m in v.reasons:
            click.echo(f"  {m.explain()}")
    for line in describe_verdicts(verdicts, ""):
        click.echo(line)


@click.command()
@click.pass_obj
@guarded
def retag(app: App) -> None:
    """Re-apply the topic rules of feeds.yaml to every stored item, without fetching.

    Example: aggregator retag && aggregator publish
    """
    total, changed = pipeline.retag(app.config())
    if not app.quiet:
        click.echo(f"{changed} of {total} items changed topics")


@click.group("store")
def store_group() -> None:
    """Check, recover or move the store.

    Example: aggregator store check
    """


@store_group.command("check")
@click.pass_obj
@guarded
def store_check(app: App) -> None:
    """Say whether the store loads, and what it holds; exit 3 if it does not load.

    Example: aggregator store check || aggregator store restore
    """
    conf = app.config()
    click.echo(open_store(conf.settings.store, conf.settings.lock_timeout).check(strict=True))


@store_group.command("restore")
@click.pass_obj
@guarded
def store_restore(app: App) -> None:
    """Replace a store that does not load with its last good backup (<store>.bak).

    Exits 3, changing nothing, when the store loads or the backup does not.

    Example: aggregator store restore
    """
    conf = app.config()
    click.echo(open_store(conf.settings.store, conf.settings.lock_timeout).restore())


@store_group.command("migrate")
@click.option("--to", "target", required=True, metavar="TARGET",
              help="postgresql://user@host:port/db (an empty database), or a new TinyDB FILE.json.")
@click.pass_obj
@guarded
def store_migrate(app: App, target: str) -> None:
    """Copy the whole store to the other backend, then check the copy.

    The counts (items, sources, feed states, tombstones) must match, and every published
    file rendered from the copy must be byte for byte the one rendered from the original.
    The target must be empty; the configured store is left as it is (point settings.store
    or $AGGREGATOR_STORE at the target afterwards). Exits 3 when the copy is refused or differs.

    Example: aggregator store migrate --to postgresql://news@db.example:5432/news
    """
    if "://" not in target:
        target = str(Path(target).resolve())
    elif not is_database_url(target):
        raise click.UsageError(f"--to takes a postgresql:// URL or a file path, not {target.split('://')[0]}://")
    done = pipeline.migrate_store(app.config(), target)
    click.echo(f"copied {done.counts} from {done.source} to {done.target}; the counts match and "
               f"{done.files} published files are identical")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.pass_obj
@guarded
def serve(app: App, host: str, port: int) -> None:
    """Serve the output folder over HTTP (ETag, 304, gzip), for trying things out.

    Example: aggregator serve --port 8000   then open http://127.0.0.1:8000/
    """
    from .. import publish as server
    conf = app.config()
    click.echo(f"serving {conf.settings.output_dir} at http://{host}:{port}/ (Ctrl-C to stop)")
    server.serve(conf.settings.output_dir, host=host, port=port)


COMMANDS = [stats, explain, try_rules, retag, store_group, serve]
