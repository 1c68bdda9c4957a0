"""The fixed cost of a run that analyses one file (issue #21): what such a run builds
and imports is only what it needs, with the same answers as building everything."""

from __future__ import annotations

import libcst as cst
import pytest

from integ_lint.engine.analysis import _WHITESPACE_NAMES, _Pruning
from integ_lint.facts.positions import RECORDED_KINDS
from integ_lint.facts.syntax import kinds_inside, node_kinds

WANTED_SETS = [
    frozenset(),
    frozenset({"Call", "Name"}),
    frozenset({"Comma", "Attribute", "Integer"}),
    frozenset({"FunctionDef", "ClassDef", "Import", "SimpleString", "Subscript"}),
    frozenset({"Comment", "Call"}),  # whitespace wanted: nothing is left out
]


def _left_out_up_front(wanted: frozenset[str]) -> tuple[frozenset[type], frozenset[type]]:
    """The definition, judged for every kind LibCST exports: (never entered, only
    recorded)."""
    if wanted & _WHITESPACE_NAMES:
        return frozenset(), frozenset()
    left_out = []
    for kind in node_kinds():
        inside = kinds_inside(kind)
        if (
            inside is not None
            and kind.__name__ not in wanted
            and not any(k.__name__ in wanted or k in RECORDED_KINDS for k in inside)
        ):
            left_out.append(kind)
    return (
        frozenset(k for k in left_out if k not in RECORDED_KINDS),
        frozenset(k for k in left_out if k in RECORDED_KINDS),
    )


@pytest.mark.parametrize("wanted", WANTED_SETS, ids=lambda w: ",".join(sorted(w)) or "none")
def test_pruning_judges_each_kind_as_met_and_as_judging_every_kind_would(
    wanted: frozenset[str],
) -> None:
    skipped, recorded = _left_out_up_front(wanted)
    pruning = _Pruning(wanted)
    assert not pruning._left_out  # nothing judged before the walk asks
    # Asked one kind at a time (as the walk meets them), then as whole sets.
    for kind in [*node_kinds(), int, str]:
        assert (kind in pruning.skipped) == (kind in skipped), kind
        assert (kind in pruning.recorded) == (kind in recorded), kind
    assert set(pruning.skipped) == skipped and set(pruning.recorded) == recorded
    assert len(pruning.skipped) == len(skipped)
    if not wanted & _WHITESPACE_NAMES and "Comma" not in wanted:
        assert cst.Comma in pruning.skipped  # the oracle is not empty
