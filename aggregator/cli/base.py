"""What every command module shares: the ``App`` context object and the error guard."""

from __future__ import annotations

import functools
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .. import config as configuration
from ..errors import AggregatorError
from ..records import Config

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
