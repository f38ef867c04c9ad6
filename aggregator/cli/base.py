"""What every command module shares: the ``App`` context object, the error guard, the progress bar."""

from __future__ import annotations

import functools
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .. import config as configuration
from ..errors import AggregatorError
from ..records import Config, FetchResult

log = logging.getLogger("aggregator")


@dataclass
class App:
    """What every command gets as ``ctx.obj``."""

    config_path: Path
    quiet: bool = False
    verbose: int = 0
    _config: Config | None = field(default=None, repr=False)

    def config(self) -> Config:
        if self._config is None:
            self._config = configuration.load(self.config_path)
        return self._config


def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn an expected failure into one stderr line and its documented exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except AggregatorError as err:
            if log.handlers:  # set up by the main group: text or JSON, as the operator chose
                log.error("%s", err)
            else:  # a command group invoked on its own (tests, embedding)
                print(f"aggregator: {err}", file=sys.stderr)
            sys.exit(err.exit_code)
    return wrapper


class Progress:
    """A rich progress bar when a person is watching (stdout is a TTY), nothing otherwise.

    ``start(total)`` and ``advance(result)`` fit the ``on_start``/``on_result`` hooks of a poll or probe."""

    def __init__(self, enabled: bool, label: str = "polling"):
        self.bar = None
        if enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn, TimeElapsedColumn

            self.bar = Bar(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True)
        self.task: Any = None

    def __enter__(self) -> "Progress":
        if self.bar:
            self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar:
            self.bar.__exit__(*exc)

    def start(self, total: int) -> None:
        if self.bar:
            self.task = self.bar.add_task("poll", total=total)

    def advance(self, _result: FetchResult) -> None:
        if self.bar and self.task is not None:
            self.bar.advance(self.task)
