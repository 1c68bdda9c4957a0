"""The project phase runs without the cyclic garbage collector, and hands it back.

Its structures live until it ends; the collections their building set off were 15%
of the phase on Django (integ_lint.engine.pipeline._facts_spared_by_the_collector).
"""

from __future__ import annotations

import gc

import pytest

from integ_lint.engine.pipeline import _facts_spared_by_the_collector


def test_facts_and_phase_run_without_the_collector() -> None:
    assert gc.isenabled()
    seen: list[tuple[str, bool, int]] = []
    with _facts_spared_by_the_collector(
        lambda: seen.append(("load", gc.isenabled(), gc.get_freeze_count()))
    ):
        seen.append(("phase", gc.isenabled(), gc.get_freeze_count()))
    assert [(step, enabled) for step, enabled, _ in seen] == [("load", False), ("phase", False)]
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_collector_handed_back_when_the_phase_fails() -> None:
    with pytest.raises(RuntimeError), _facts_spared_by_the_collector(lambda: None):
        raise RuntimeError("a rule crashed")
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_a_disabled_collector_stays_disabled() -> None:
    gc.disable()
    try:
        with _facts_spared_by_the_collector(lambda: None):
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
