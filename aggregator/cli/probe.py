"""``aggregator feeds probe``: one line per feed ending in its verdict, or ``--json``.

Formatting and exit codes only; the probe and the verdicts are in :mod:`aggregator.pipeline.probe`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Sequence
from urllib.parse import urlsplit

import click

from .. import config as configuration
from ..pipeline import VERDICTS, Probe, probe_feeds
from .base import Progress, guarded

# Exit codes, documented in commands.py and the README. With several feeds not ok, the highest
# wins: the codes rise with how surely the address itself is wrong, from one that still works
# (moved) to one the publisher withdrew (gone).
EXIT_CODES = {"ok": 0, "moved": 10, "failing": 11, "blocked": 12, "not a feed": 13, "gone": 14}


def exit_code(probes: Sequence[Probe]) -> int:
    return max((EXIT_CODES[p.verdict.kind] for p in probes), default=0)


def describe(probe: Probe) -> str:
    """One line: the address, what came back, what is in it, then the verdict."""
    s, v = probe.seen, probe.verdict
    answer = "no answer" if s.status is None else f"HTTP {s.status}"
    if s.redirected:
        answer += f" after a {'permanent' if s.permanent else 'temporary'} redirect to {s.final_url}"
    parts = [answer]
    if s.feed is not None:
        newest = f"newest {s.feed.newest:%Y-%m-%d %H:%M} UTC" if s.feed.newest else "no item dates"
        parts += [s.feed.format, f"{s.feed.items} items", newest, s.feed.carries]
    elif s.error is None:
        parts.append("an HTML page" if s.html else "not a feed")
    return f"{s.url}: {', '.join(parts)} -> {v.kind}" + (f": {v.reason}" if v.reason else "")


def as_json(probe: Probe) -> dict[str, Any]:
    s, v, f = probe.seen, probe.verdict, probe.seen.feed
    return {
        "url": s.url, "name": s.name, "verdict": v.kind, "reason": v.reason, "use": v.use,
        "status": s.status, "final_url": s.final_url or s.url,
        "redirect": ("permanent" if s.permanent else "temporary") if s.redirected else None,
        "format": f.format if f else None, "items": f.items if f else None,
        "newest": f.newest.isoformat(timespec="seconds") if f and f.newest else None,
        "summaries": f.carries if f else None, "items_with_summary": f.with_summary if f else None,
        "error": s.error, "html": s.html, "announced": s.announced,
        "announced_works": (s.announced_feed is not None) if s.announced else None,
    }


def counts(probes: Sequence[Probe]) -> dict[str, int]:
    return {kind: sum(1 for p in probes if p.verdict.kind == kind) for kind in VERDICTS}


@click.command("probe")
@click.argument("urls", nargs=-1, metavar="[URL]...")
@click.option("--json", "json_out", is_flag=True, help="Print one JSON object, for scripts.")
@click.pass_context
@guarded
def probe_cmd(ctx: click.Context, urls: tuple[str, ...], json_out: bool) -> None:
    """Fetch every configured feed once (or the URLs named) and say whether each is fit to poll.

    Stores nothing and changes no feed state. Each line ends in a verdict: ok, moved (put the new
    address in feeds.yaml), failing, blocked (401/403), not a feed (an HTML page: the feed it
    announces, if any) or gone (410). Exit 0 only when every feed is ok; else 10 moved, 11 failing,
    12 blocked, 13 not a feed, 14 gone (the highest when several).

    Example: aggregator feeds probe    (or: aggregator feeds probe https://news.err.ee/rss --json)
    """
    for url in urls:
        if urlsplit(url).scheme not in ("http", "https"):
            raise click.BadParameter(f"{url!r} is not an http(s) URL", param_hint="URL")
    path = getattr(ctx.obj, "config_path", None)
    if path is None:
        raise click.UsageError("no config path (run this as: aggregator --config feeds.yaml feeds probe)")
    quiet = bool(getattr(ctx.obj, "quiet", False))
    conf = configuration.load(Path(path))
    with Progress(sys.stdout.isatty() and not quiet and not json_out, label="probing") as progress:
        probes = probe_feeds(conf, urls, on_start=progress.start, on_result=progress.advance)
    tally = counts(probes)
    if json_out:
        click.echo(json.dumps({"feeds": [as_json(p) for p in probes], "counts": tally,
                               "exit_code": exit_code(probes)}, ensure_ascii=False, indent=2))
    else:
        for p in probes:
            if not quiet or p.verdict.kind != "ok":  # --quiet: only the feeds that need attention
                click.echo(describe(p))
        if not quiet:
            found = ", ".join(f"{n} {kind}" for kind, n in tally.items() if n) or "nothing to probe"
            click.echo(f"{len(probes)} feeds: {found}", err=True)
    ctx.exit(exit_code(probes))
