"""Coverage-guided fuzzing of parse → dedup → tag → publish with atheris (libFuzzer).

Not collected by pytest (bounded hypothesis fuzzing runs in CI: tests/test_fuzz.py). Run it with
``make fuzz-atheris`` (installs atheris into .venv) or::

    .venv/bin/python tests/fuzz_atheris.py -max_total_time=600 tests/data/feeds

Invariants: no exception escapes a stage except ParseError, and every published file is
well-formed XML or valid JSON.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from aggregator import dedup, parse, publish, tag  # noqa: F401  (instrumented for coverage)

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parent.parent)]  # the helpers, and tests.*
from tests.pipeline.test_fuzz import make_config, run_stages  # noqa: E402  (the same stages and invariants)

CONFIG = make_config(Path(tempfile.mkdtemp(prefix="aggregator-fuzz-")))


def one_input(data: bytes) -> None:
    run_stages(CONFIG, [data], "application/xml")


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
