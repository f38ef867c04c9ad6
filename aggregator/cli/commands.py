"""The command line: parse arguments, call the library, format the result.

Exit codes (documented in the README):
  0  the run completed (some feeds may have failed: see stderr and ``stats``)
  1  an unexpected internal error (a bug: please report it)
  2  a config or usage error (the message names the file, line and key)
  3  the store cannot be read or written (see ``aggregator store check``)
  4  another run holds the store's lock (overlapping cron jobs), or another command is
     editing feeds.yaml (the message names its pid and command)
  5  an output file could not be written (disk full, read-only folder)
  6  ``stats --health``: too many feeds are failing
 10-14  ``feeds probe``: a feed is not ok (10 moved, 11 failing, 12 blocked, 13 not a feed,
        14 gone; the highest when several; see ``cli/probe.py``)
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import click

from .. import __version__
from .. import config as configuration, pipeline
from .base import App, Progress, guarded
from ..reports import RunReport

log = logging.getLogger("aggregator")


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps({
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="seconds"),
            "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage(),
        }, ensure_ascii=False)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is when a record is emitted, not when it was set up."""

    @property  # type: ignore[override]
    def stream(self):  # noqa: ANN201
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def _setup_logging(quiet: bool, verbose: int, fmt: str) -> None:
    handler = _StderrHandler()
    handler.setFormatter(_JsonFormatter() if fmt == "json" else logging.Formatter("aggregator: %(message)s"))
    root = logging.getLogger("aggregator")
    root.handlers[:] = [handler]
    root.propagate = False
    # --quiet drops the summary line only: problems always reach stderr, one line each, so cron mails them.
    root.setLevel(logging.DEBUG if verbose > 1 else logging.INFO if verbose and not quiet else logging.WARNING)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "-c", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Config file (default: $AGGREGATOR_CONFIG or ./feeds.yaml).")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing on success; only errors on stderr.")
@click.option("--verbose", "-v", count=True, help="More detail on stderr (-vv for debug).")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Format of stderr messages; json suits log shippers.")
@click.version_option(__version__, prog_name="aggregator")
@click.pass_context
def main(ctx: click.Context, config_path: Path | None, quiet: bool, verbose: int, log_format: str) -> None:
    """Poll RSS/Atom feeds, tag their items by topic, publish per-topic feeds.

    Example: aggregator --config feeds.yaml run
    """
    _setup_logging(quiet, verbose, log_format)
    ctx.obj = App(config_path or configuration.default_path(), quiet=quiet, verbose=verbose)


# ----------------------------------------------------------------------------- the run


def _report(app: App, report: RunReport, as_json: bool = False) -> None:
    for outcome in report.outcomes:
        if outcome.status == "failed":
            log.warning("%s", outcome.error)
        elif outcome.status == "deferred" and outcome.error:  # the run in which the host said "wait"
            log.warning("%s; every feed on its host waits until then, --force included", outcome.error)
        elif outcome.redirected_to:
            log.warning("%s: moved permanently to %s; now polled there (update feeds.yaml)",
                        outcome.url, outcome.redirected_to)
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False, indent=2))
    elif not app.quiet:
        click.echo(report.summary())


def _poll_command(name: str, action: Callable[..., RunReport], help_text: str) -> None:
    @main.command(name=name, help=help_text)
    @click.option("--force", is_flag=True,
                  help="Poll every feed now, even those not yet due (never one its server asked us to leave: "
                       "Retry-After, 410).")
    @click.option("--json", "as_json", is_flag=True, help="Print the run's report as one JSON object.")
    @click.pass_obj
    @guarded
    def command(app: App, force: bool, as_json: bool) -> None:
        conf = app.config()
        with Progress(sys.stdout.isatty() and not app.quiet and not as_json) as progress:
            report = action(conf, force=force, on_result=progress.advance, on_start=progress.start)
        _report(app, report, as_json)


_poll_command("run", pipeline.run, """Poll the due feeds, save the store, publish changed topics (the cron job).

    Example: aggregator run    (from cron: */15 * * * * cd /srv/news && aggregator -q run)""")
_poll_command("poll", pipeline.poll, """Poll the due feeds into the store, without publishing.

    Example: aggregator poll --force""")


@main.command()
@click.pass_obj
@guarded
def publish(app: App) -> None:
    """Write every topic's RSS, Atom and JSON Feed, index.html and feeds.opml.

    Example: aggregator publish
    """
    report = pipeline.publish(app.config())
    if not app.quiet:
        removed = f", {len(report.removed)} removed (topics no longer configured)" if report.removed else ""
        click.echo(f"{len(report.written)} files written, {len(report.unchanged)} unchanged{removed}")


@main.command()
@click.pass_obj
@guarded
def check(app: App) -> None:
    """Validate the config and print a summary.

    Example: aggregator --config feeds.yaml check
    """
    click.echo(configuration.summary(app.config()))


def _attach_optional_commands() -> None:
    # Commands that live in their own modules register here, so that this file stays small.
    from . import inspect as cli_inspect, stories as cli_stories

    for cmd in cli_inspect.COMMANDS + cli_stories.COMMANDS:
        main.add_command(cmd)
    try:
        from . import manage as cli_manage
    except ImportError:  # pragma: no cover - only while the module is being written
        return
    for name in ("feeds", "demo"):
        cmd = getattr(cli_manage, name, None)
        if isinstance(cmd, click.Command):
            main.add_command(cmd, name=name)


_attach_optional_commands()
