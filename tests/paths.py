"""Where things are, for tests in any folder of tests/."""

from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
DATA = TESTS / "data"
FEEDS = DATA / "feeds"
SAMPLES = ROOT / "aggregator" / "cli" / "samples"
