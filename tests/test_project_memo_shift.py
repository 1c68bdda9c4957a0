"""The project phase's memo survives an edit that only moves lines
(integ_lint.engine.memo_remap): its findings and notifications move with the changed
file's facts, and every run equals a run without a cache, byte for byte; an edit that
changes the facts, or that the renumbering cannot account for, runs the phase."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from phase_runs import count_phases
from phase_runs import every_rule_outcome as _outcome

from integ_lint.engine.memo_remap import line_map, remap_outcome
from integ_lint.findings.model import (
    Finding,
    Notification,
    NotificationKind,
    RelatedLocation,
    Severity,
    Site,
    Span,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SCHEMA = "config_app/config_schema.py"  # cited as path:line by findings in other files


@pytest.fixture(autouse=True)
def _private_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTEG_LINT_CACHE_KEY_FILE", str(tmp_path / "key" / "cache-key"))


@pytest.fixture
def phases(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    return count_phases(monkeypatch)


def _copy(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target, ignore=shutil.ignore_patterns(".integ-lint-cache"))
    return target


def _edit(path: Path, change: Callable[[list[str]], list[str]]) -> None:
    path.write_text("".join(change(path.read_text().splitlines(keepends=True))))


def _at_top(lines: list[str]) -> list[str]:
    return ["# a note at the top\n", *lines]


def _shifted_check(
    root: Path, relpath: str, change: Callable[[list[str]], list[str]], phases: list[int]
) -> tuple[list[Finding], list[Finding]]:
    """A warm run, ``change`` to ``relpath``, a run on the warm cache: it equals a run
    without a cache. Returns the findings before and after."""
    before, _ = _outcome(root)
    _edit(root / relpath, change)
    after = _outcome(root)
    ran = len(phases)
    assert after == _outcome(root, use_cache=False)
    assert len(phases) == ran + 1  # the run without a cache ran it
    phases[:] = phases[:ran]
    return before[:], after[0]


def _lines_of(findings: list[Finding], path: str) -> list[int]:
    return [f.line for f in findings if f.path == path] + [
        r.span.start_line for f in findings for r in f.related if r.path == path
    ]


def test_a_line_inserted_at_the_top_moves_the_outcome(tmp_path: Path, phases: list[int]) -> None:
    root = _copy(tmp_path, "config_app")
    before, after = _shifted_check(root, SCHEMA, _at_top, phases)
    assert len(phases) == 1  # the memo answered the second run
    assert after != before
    # A finding inside the file, related locations into it, messages citing its lines.
    assert any(f.path == SCHEMA for f in after)
    assert any(r.path == SCHEMA for f in after if f.path != SCHEMA for r in f.related)
    cited = [f for f in after if f.path != SCHEMA and f"{SCHEMA}:" in f.message]
    assert cited
    assert _lines_of(after, SCHEMA) == [n + 1 for n in _lines_of(before, SCHEMA)]
    assert f"{SCHEMA}:44" in " ".join(f.message for f in after)  # 43 before
    # The memo now holds the moved outcome: reverting moves it back.
    _edit(root / SCHEMA, lambda lines: lines[1:])
    assert _outcome(root)[0] == before
    assert len(phases) == 1


def test_lines_deleted_and_inserted_between_facts(tmp_path: Path, phases: list[int]) -> None:
    root = _copy(tmp_path, "config_app")

    def between(lines: list[str]) -> list[str]:
        # Two blank lines above the third class become one; a comment line goes in
        # after the first class's fields.
        assert lines[20] == "\n" and lines[19] == "\n"
        return [*lines[:13], "# moved\n", *lines[13:20], *lines[21:]]

    before, after = _shifted_check(root, SCHEMA, between, phases)
    assert len(phases) == 1
    lines_before, lines_after = _lines_of(before, SCHEMA), _lines_of(after, SCHEMA)
    assert any(a == b + 1 for a, b in zip(lines_after, lines_before, strict=True))
    assert lines_after != lines_before


def test_a_changed_fact_runs_the_phase(tmp_path: Path, phases: list[int]) -> None:
    root = _copy(tmp_path, "config_app")

    def rename(lines: list[str]) -> list[str]:
        return ["# top\n", *(line.replace("warmup_steps", "warm_steps") for line in lines)]

    _shifted_check(root, SCHEMA, rename, phases)
    assert len(phases) == 2


def test_two_lines_joined_run_the_phase(tmp_path: Path, phases: list[int]) -> None:
    """Two facts on one line: no strictly increasing map, so the phase runs."""
    root = _copy(tmp_path, "config_app")

    def join(lines: list[str]) -> list[str]:
        assert lines[11].startswith("    batch_size") and lines[12].startswith("    warmup")
        return [*lines[:11], lines[11].rstrip("\n") + "; " + lines[12].lstrip(), *lines[13:]]

    _shifted_check(root, SCHEMA, join, phases)
    assert len(phases) == 2


def test_the_whole_module_position_stays(tmp_path: Path, phases: list[int]) -> None:
    """The layers contract reports an undeclared module at Span(1, 1, 1, 1), a constant:
    it does not move with the docstring below it."""
    root = _copy(tmp_path, "boundaries_contracts")
    extra = "src/shop/extra.py"
    before, after = _shifted_check(root, extra, _at_top, phases)
    assert len(phases) == 1
    assert [f.span for f in after if f.path == extra] == [Span(1, 1, 1, 1)]
    assert after == before


@pytest.mark.parametrize(
    ("fixture", "relpath"),
    [
        ("async_app", "async_app/jobs.py"),  # the loop facts' raw (line, col) positions
        ("async_app", "async_app/serving/server.py"),
        ("training_app", "trainer_app/training/trainer.py"),  # an import cycle closes here
        ("training_app", "trainer_app/config_schema.py"),
        ("message_services", "src/shop/stock.py"),
        ("gpu_trainer", "gpu_trainer/trainer.py"),  # a sync's caller cited as path:line
    ],
)
def test_a_line_inserted_at_the_top_of_any_family(
    tmp_path: Path, phases: list[int], fixture: str, relpath: str
) -> None:
    root = _copy(tmp_path, fixture)
    before, after = _shifted_check(root, relpath, _at_top, phases)
    assert len(phases) == 1
    assert _lines_of(after, relpath) == [n + 1 for n in _lines_of(before, relpath)]


def test_a_pre_commit_run_on_a_shifted_file(tmp_path: Path, phases: list[int]) -> None:
    root = _copy(tmp_path, "config_app")
    app = "config_app/app.py"
    _outcome(root)  # the warm cache
    first = _outcome(root, app)
    _edit(root / SCHEMA, _at_top)  # a file of the project behind the pre-commit run
    _edit(root / app, lambda lines: ["\n", *lines])
    after = _outcome(root, app)
    # The full run only: the pre-commit runs reuse its memo (it is not keyed by the
    # reported paths), moved with the shifted lines.
    assert len(phases) == 1
    assert after == _outcome(root, app, use_cache=False)
    assert any(f"{SCHEMA}:11" in f.message for f in after[0])  # 10 before
    assert after != first


# -- the renumbering and the remap, on their own ------------------------------------


def _finding(path: str, line: int, message: str = "m", **extra: Any) -> Finding:
    site = Site(Span(line, 5, line, 9), "f", "x")
    finding = Finding("IL999", "test", Severity.WARNING, message, path, site)
    return replace(finding, **extra)


def test_line_map_pairs_spans_and_raw_positions() -> None:
    from integ_lint.rules._loop_state import ModuleLoopFacts

    from integ_lint.facts.calls import ModuleCallFacts

    def facts(shift: int) -> dict[str, object]:
        return {
            "spans": (Span(3, 1, 4, 2), Span(10 + shift, 5, 12 + shift, 1)),
            "loops": ModuleLoopFacts("m", known_calls=((10 + shift, 5, "running"),)),
            "calls": ModuleCallFacts("m", always_loop_starts=frozenset({(12 + shift, 2)})),
        }

    assert line_map(facts(0), facts(2)) == {3: 3, 4: 4, 10: 12, 12: 14}
    # A raw position that does not move with the spans: no map.
    moved = facts(2)
    moved["loops"] = ModuleLoopFacts("m", known_calls=((10, 5, "running"),))
    assert line_map(facts(0), moved) is None


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ((Span(1, 1, 1, 5), Span(2, 1, 2, 5)), (Span(1, 1, 1, 5), Span(1, 1, 1, 5))),  # joined
        ((Span(1, 1, 1, 5), Span(2, 1, 2, 5)), (Span(3, 1, 3, 5), Span(2, 1, 2, 5))),  # swapped
        ((Span(1, 1, 1, 5),), (Span(2, 2, 2, 6),)),  # a column moved
        ({"a": Span(1, 1, 1, 5), "b": 1}, {"b": 1, "a": Span(2, 1, 2, 5)}),  # another order
        ((object(),), (object(),)),  # an object the walk does not know
        ((Span(1, 1, 1, 1), Span(2, 1, 2, 3)), (Span(2, 1, 2, 1), Span(3, 1, 3, 3))),
    ],
)
def test_line_map_gives_up(before: object, after: object) -> None:
    assert line_map(before, after) is None


def test_remap_moves_positions_and_citations() -> None:
    maps = {"a/b.py": {3: 4, 7: 9}}
    findings = [
        _finding(
            "c.py",
            1,
            "defined at a/b.py:7 (see a/b.py:3)",
            related=(RelatedLocation("a/b.py", Span(3, 1, 7, 2), "here, a/b.py:3"),),
            properties=(("fed-by", "a/b.py:7"), ("count", 7)),
        ),
        _finding("a/b.py", 7),
        _finding("a/b.py", 1, "whole module", site=Site(Span(1, 1, 1, 1))),
    ]
    note = Notification(NotificationKind.CONFIG, "a/b.py:3: odd", path="a/b.py", line=3)
    outcome = remap_outcome(findings, [note], maps)
    assert outcome is not None
    moved, notes = outcome
    assert moved[0].message == "defined at a/b.py:9 (see a/b.py:4)"
    assert moved[0].related[0].span == Span(4, 1, 9, 2)
    assert moved[0].related[0].message == "here, a/b.py:4"
    assert moved[0].properties == (("fed-by", "a/b.py:9"), ("count", 7))
    assert moved[1].span == Span(9, 5, 9, 9)
    assert moved[2].span == Span(1, 1, 1, 1)
    assert notes == [Notification(NotificationKind.CONFIG, "a/b.py:4: odd", "a/b.py", 4)]
    # Unchanged files and identity maps leave everything as it was.
    assert remap_outcome(findings, [note], {"a/b.py": {3: 3}}) == (findings, [note])


@pytest.mark.parametrize(
    "finding",
    [
        _finding("a/b.py", 5),  # a line the facts do not hold
        _finding("c.py", 1, "see a/b.py:5"),
        _finding("c.py", 1, "see x/a/b.py:3"),  # another file of the same name
        _finding("c.py", 1, "see ./a/b.py:3"),  # the path written otherwise
        _finding("c.py", 1, "on line 3 of a/b.py"),
        _finding("c.py", 1, properties=(("where", Span(3, 1, 3, 2)),)),
    ],
)
def test_remap_gives_up(finding: Finding) -> None:
    assert remap_outcome([finding], [], {"a/b.py": {3: 4}}) is None


def test_remap_gives_up_on_an_internal_error() -> None:
    crash = Notification(NotificationKind.INTERNAL_ERROR, "internal error in IL999: (3, 4)")
    assert remap_outcome([], [crash], {"a/b.py": {3: 4}}) is None
