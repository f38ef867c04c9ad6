"""Commands about merged stories: ``eval`` (how well merging and tagging do) and ``unmerge``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .. import pipeline
from ..errors import ConfigError
from .base import App, guarded

DEFAULT_DATA = Path("tests") / "data" / "eval"


@click.command("eval")
@click.option("--split", type=click.Choice(pipeline.SPLITS), default="dev", show_default=True,
              help="Which half of the labelled sets to score (heldout: score only, never tune on it).")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help=f"Folder of the labelled sets (default: {DEFAULT_DATA} beside the config file).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object, for scripts.")
@click.option("--details", is_flag=True, help="Also list every missed and every false merge, and mistagged case.")
@click.pass_obj
@guarded
def eval_command(app: App, split: str, data_dir: Path | None, as_json: bool, details: bool) -> None:
    """Score story merging and topic tagging on labelled sets, exactly as a run merges and tags.

    Example: aggregator eval --split dev
    """
    config = app.config()
    data = data_dir or config.path.parent / DEFAULT_DATA
    if not data.is_dir():
        raise ConfigError("no folder of labelled sets here (give one with --data)", data)
    merges, tags = pipeline.evaluate(config, data, split)
    if not merges and tags is None:
        raise ConfigError(f"no *_{split}.yaml labelled sets in this folder", data)
    if as_json:
        click.echo(json.dumps(pipeline.evaluation_data(split, merges, tags, details), indent=2, ensure_ascii=False))
        return
    click.echo(f"split {split} ({data})")
    click.echo(f"{'same story':20} {'recall':>16}   false merges")
    for m in merges:
        click.echo(f"  {m.name:18} {m.recall:6.3f} ({m.merged:>3}/{m.possible:<3})   {m.false} "
                   f"({100 * m.false_share:.1f}% of {m.lookalikes} look-alike pairs)")
        if details:
            click.echo("".join(f"      missed: {a!r} / {b!r}\n" for a, b in m.missed), nl=False)
            click.echo("".join(f"      FALSE:  {a!r} / {b!r}\n" for a, b in m.wrong), nl=False)
    if tags is not None:
        click.echo(f"{'topic':16} precision  recall     F1   ({tags.cases} labelled headlines)")
        for t in tags.topics:
            click.echo(f"  {t.slug:16} {t.precision:6.3f}  {t.recall:6.3f}  {t.f1:6.3f}   "
                       f"(tp {t.tp}, fp {t.fp}, fn {t.fn})")
        if details:
            click.echo("".join(f"      {title!r}: expected {list(exp)}, got {list(got)}\n"
                               for title, exp, got in tags.wrong), nl=False)


@click.command()
@click.argument("item_id")
@click.argument("report_link")
@click.pass_obj
@guarded
def unmerge(app: App, item_id: str, report_link: str) -> None:
    """Split a wrongly merged report off an item, for good.

    The report's link, guid and key leave the item and are recorded as never to be merged
    into it again; its feed is parsed afresh on the next run, where the report becomes an
    item of its own. ITEM_ID is the id ``aggregator explain`` shows; REPORT_LINK the link
    of the report to split off (one of the item's sources but its first).

    Example: aggregator unmerge 7a853d1d… https://www.example.com/other-story
    """
    try:
        item, ref = pipeline.unmerge(app.config(), item_id, report_link)
    except LookupError as err:
        raise click.UsageError(str(err).strip("'\"")) from None
    if not app.quiet:
        click.echo(f"{ref.link} split from {item.id} ({item.title}); it returns as its own item on the "
                   f"next poll of {ref.feed_url}")


COMMANDS = [eval_command, unmerge]
