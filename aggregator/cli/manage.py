"""Commands that edit or check feeds.yaml (the ``feeds`` group) and the offline ``demo``.

Both get the config path from ``ctx.obj.config_path``; formatting only, the work is in
:mod:`aggregator.config`, :mod:`aggregator.pipeline` and :mod:`aggregator.cli.demo`.
``feeds probe`` lives in :mod:`aggregator.cli.probe`.
"""

from __future__ import annotations

from pathlib import Path

import click

from .base import guarded
from .probe import probe_cmd


def _config_path(ctx: click.Context) -> Path:
    path = getattr(ctx.obj, "config_path", None)
    if path is None:
        raise click.UsageError("no config path (run this as: aggregator --config feeds.yaml feeds …)")
    return Path(path)


def _split_tags(value: str | None) -> tuple[str, ...]:
    return tuple(t.strip() for t in (value or "").split(",") if t.strip())


@click.group()
def feeds() -> None:
    """List, add, remove, probe, import and export the feeds in feeds.yaml (comments are kept).

    Example: aggregator feeds add https://example.org/ --tags nato
    """


feeds.add_command(probe_cmd)


@feeds.command("list")
@click.pass_context
@guarded
def list_cmd(ctx: click.Context) -> None:
    """List the configured feeds with their names and tags, and any a server asked us to leave alone.

    A deferred feed (its host answered 429/503 with Retry-After) or a gone one (410) says so:
    "(deferred until 17:05 UTC: host answered 429)".

    Example: aggregator feeds list
    """
    from ..config import list_feeds

    path = _config_path(ctx)
    entries = list_feeds(path)
    notes = _standings(path)
    for e in entries:
        extra = f"  [{', '.join(e.tags)}]" if e.tags else ""
        note = f"  ({notes[e.line]})" if e.line in notes else ""
        click.echo(f"{e.url}  {e.name}{extra}".rstrip() + note)
    click.echo(f"{len(entries)} feeds", err=True)


def _standings(path: Path) -> dict[int, str]:
    """Line of a feed in feeds.yaml -> its standing, for the deferred and gone ones. The store
    is read without its lock; a config or store that does not load costs only the notes."""
    from datetime import datetime, timezone

    from .. import config as configuration, pipeline
    from ..errors import AggregatorError
    from ..publish import standing

    try:
        conf = configuration.load(path)
        states = pipeline.feed_states(conf)
    except AggregatorError as err:
        click.echo(f"aggregator: {err}; feed states not shown", err=True)
        return {}
    now = datetime.now(timezone.utc)
    notes = {}
    for src in conf.sources:
        kind, words = standing(states.get(src.key), now)
        if kind in ("deferred", "gone"):
            notes[src.line] = words
    return notes


@feeds.command("reset")
@click.argument("url")
@click.pass_context
@guarded
def reset_cmd(ctx: click.Context, url: str) -> None:
    """Poll a gone (410) or failing feed again at the next run, with no backoff.

    A host's Retry-After still holds: that is the server's wish, not ours to override.

    Example: aggregator feeds reset https://news.example.lv/feed.xml
    """
    from datetime import datetime, timezone

    from .. import config as configuration, pipeline
    from ..errors import ConfigError
    from ..publish import standing

    conf = configuration.load(_config_path(ctx))
    wanted = configuration.normalize_url(url)
    source = next((s for s in conf.sources if configuration.normalize_url(s.key) == wanted), None)
    if source is None:
        raise ConfigError(f"no feed {url} in the config", conf.path)
    state = pipeline.reset_feeds(conf, [source.key])[source.key]
    if state is None:
        click.echo(f"{source.key}: nothing stored yet; it is polled at the next run")
        return
    now = datetime.now(timezone.utc)
    if state.deferred_at(now):
        click.echo(f"reset {source.key}; still {standing(state, now)[1]} (a server's wish is not ours to override)")
    else:
        click.echo(f"reset {source.key}: polled at the next run")


@feeds.command("add")
@click.argument("url")
@click.option("--name", default=None, help="Display name (default: the feed's own title).")
@click.option("--tags", default="", metavar="a,b", help="Topic slugs every item of this feed gets.")
@click.pass_context
@guarded
def add_cmd(ctx: click.Context, url: str, name: str | None, tags: str) -> None:
    """Fetch URL once, check it is a feed (or find the feed an HTML page links to), and add it.

    Example: aggregator feeds add https://news.example.lv/ --name "Example LV" --tags baltic-defence,nato
    """
    from ..pipeline import add_feed

    added = add_feed(_config_path(ctx), url, name=name, tags=_split_tags(tags))
    how = f" (found on {added.discovered_from})" if added.discovered_from else ""
    click.echo(f"added {added.entry.url}{how}: {added.title or 'untitled'}, {added.entries} entries")
    _revive(_config_path(ctx), [added.entry.url])


def _revive(path: Path, urls: list[str]) -> None:
    """Feeds added again start afresh: the state of their old entry (gone, backing off) is reset."""
    from .. import config as configuration, pipeline
    from ..errors import AggregatorError

    if not urls:
        return
    try:
        for key in pipeline.revive(configuration.load(path), urls):
            click.echo(f"{key}: its stored state (gone or failing) is reset: polled at the next run")
    except AggregatorError as err:
        click.echo(f"aggregator: {err}; the feed's old state is kept (aggregator feeds reset URL, later)", err=True)


@feeds.command("remove")
@click.argument("url")
@click.pass_context
@guarded
def remove_cmd(ctx: click.Context, url: str) -> None:
    """Remove the feed with this URL (its stored items stay until they age out).

    Example: aggregator feeds remove https://news.example.lv/feed.xml
    """
    from ..config import remove_feed

    gone = remove_feed(_config_path(ctx), url)
    click.echo(f"removed {gone.url}")


@feeds.command("import")
@click.argument("opml_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
@guarded
def import_cmd(ctx: click.Context, opml_file: Path) -> None:
    """Add every new feed of an OPML file; folders and categories named like a topic become tags.

    Example: aggregator feeds import subscriptions.opml
    """
    from ..config import import_opml

    report = import_opml(_config_path(ctx), opml_file)
    for e in report.added:
        click.echo(f"added {e.url}" + (f"  [{', '.join(e.tags)}]" if e.tags else ""))
    _revive(_config_path(ctx), [e.url for e in report.added])
    for url in report.invalid:
        click.echo(f"aggregator: {opml_file}: skipped {url!r}: not an http(s) URL", err=True)
    click.echo(report.summary(), err=True)


@feeds.command("export")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of stdout.")
@click.pass_context
@guarded
def export_cmd(ctx: click.Context, output: Path | None) -> None:
    """Print (or write) the configured feeds as OPML 2.0, tags as categories.

    Example: aggregator feeds export -o subscriptions.opml
    """
    from ..config import atomic_write
    from ..config import export_opml

    text = export_opml(_config_path(ctx))
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            atomic_write(output, text)
        except OSError as e:
            raise click.ClickException(f"{output}: cannot write: {e.strerror or e}") from None
        click.echo(f"wrote {output}", err=True)


@click.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write the demo feeds.yaml, store and output (default: a new temp folder).")
@click.option("--serve/--no-serve", default=False, show_default=True,
              help="Afterwards, serve the output on http://127.0.0.1:PORT/ until Ctrl-C.")
@click.option("--port", default=8000, show_default=True, help="Port for --serve.")
@guarded
def demo(directory: Path | None, serve: bool, port: int) -> None:
    """Run the whole pipeline offline on bundled sample feeds served from 127.0.0.1.

    Example: aggregator demo --dir /tmp/aggregator-demo --serve
    """
    from . import demo as demo_mod

    result = demo_mod.run_demo(directory, port=port)
    click.echo(result.describe())
    if serve:
        demo_mod.serve_output(result, port=port)
