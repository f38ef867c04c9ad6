"""The collector is paused while long-lived indexes are built, and never rescans them after."""

from __future__ import annotations

import gc

import pytest

from aggregator import gcpolicy


@pytest.fixture(autouse=True)
def unfrozen():
    yield
    gc.unfreeze()  # give the rest of the test session its collector back as it was
    gc.enable()


@pytest.mark.parametrize("enabled", [True, False])
def test_paused_restores_the_state_it_found(enabled: bool) -> None:
    (gc.enable if enabled else gc.disable)()
    with gcpolicy.paused():
        assert not gc.isenabled()
    assert gc.isenabled() is enabled


def test_paused_restores_it_after_an_error() -> None:
    gc.enable()
    with pytest.raises(KeyError), gcpolicy.paused():
        raise KeyError("x")
    assert gc.isenabled()


def test_long_lived_freezes_what_was_built() -> None:
    gc.unfreeze()
    before = gc.get_freeze_count()
    with gcpolicy.long_lived():
        built = [[i] for i in range(10_000)]
        assert not gc.isenabled()
    assert gc.isenabled() and gc.get_freeze_count() >= before + len(built)
    collected = {id(o) for g in range(3) for o in gc.get_objects(generation=g)}
    assert gc.is_tracked(built[0]) and not {id(x) for x in built} & collected  # in the permanent generation


def test_one_run_defers_full_collections_and_restores_the_thresholds() -> None:
    before = gc.get_threshold()
    with gcpolicy.one_run():
        young, middle, full = gc.get_threshold()
        assert (young, middle) == before[:2] and full >= 1 << 30
    assert gc.get_threshold() == before


def test_a_run_restores_the_thresholds_even_when_it_fails(tmp_path) -> None:
    from aggregator import errors
    from aggregator import config as config
    from aggregator import pipeline

    before = gc.get_threshold()
    (tmp_path / "store.json").mkdir()  # a folder where the items file should be: the run fails
    cfg = config.loads(f"settings:\n  store: {tmp_path / 'store.json'}\n  output_dir: {tmp_path / 'out'}\n"
                       "topics:\n  nato:\n    title: NATO\n    keywords: [NATO]\nfeeds: []\n")
    with pytest.raises(errors.StoreError):
        pipeline.run(cfg)
    assert gc.get_threshold() == before
