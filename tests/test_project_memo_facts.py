"""The project phase's memo compares a changed file by its facts
(integ_lint.engine.cache.ProjectMemo.files): an edit that leaves every fact equal (a
comment at the end) reuses the phase's outcome; one that only moves facts (a line
inserted above them) moves the outcome with them; one that changes a fact runs the
phase; either way the findings are those of a run without a cache."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from phase_runs import count_phases

from integ_lint.config import load_config
from integ_lint.engine import RunOptions, run
from integ_lint.engine.registry import load_registry

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CLOSING = "src/app/sync/services.py"  # its line 9 closes an import cycle (IL103)


@pytest.fixture(autouse=True)
def _private_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTEG_LINT_CACHE_KEY_FILE", str(tmp_path / "key" / "cache-key"))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    target = tmp_path / "web_backend"
    shutil.copytree(
        FIXTURES / "web_backend", target, ignore=shutil.ignore_patterns(".integ-lint-cache")
    )
    return target


@pytest.fixture
def phases(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    return count_phases(monkeypatch)


def _lines(root: Path, *paths: str, use_cache: bool = True) -> list[str]:
    config = load_config([root], None, {}, extra_sections=load_registry().sections)
    targets = [root / p for p in paths] or [root]
    report = run(targets, config, RunOptions(jobs=1, use_cache=use_cache, keep_project=False))
    return [
        f"{f.path}:{f.span.start_line}: {f.code} {f.message} {f.fingerprint}"
        for f in report.findings
    ]


def test_a_comment_at_the_end_of_a_file_skips_the_phase(root: Path, phases: list[int]) -> None:
    first = _lines(root)
    assert any(f"{CLOSING}:9: IL103" in line for line in first)
    path = root / CLOSING
    path.write_text(path.read_text() + "# a note at the end\n")
    assert _lines(root) == first == _lines(root, use_cache=False)
    assert len(phases) == 2  # the first run, and the run without a cache
    # The memo now holds the new content: a second run compares nothing.
    assert _lines(root) == first
    assert len(phases) == 2


def test_a_line_inserted_above_the_facts_moves_the_outcome(root: Path, phases: list[int]) -> None:
    """Facts equal but for their lines: the memo's outcome moves with them
    (integ_lint.engine.memo_remap; tests/test_project_memo_shift.py), the phase does
    not run."""
    first = _lines(root)
    path = root / CLOSING
    path.write_text("# a note at the top\n" + path.read_text())
    after = _lines(root)
    assert len(phases) == 1
    assert after == _lines(root, use_cache=False)
    assert any(f"{CLOSING}:10: IL103" in line for line in after)
    assert after != first


def test_a_changed_fact_runs_the_phase(root: Path, phases: list[int]) -> None:
    first = _lines(root)
    path = root / CLOSING
    lines = path.read_text().splitlines(keepends=True)
    lines[8] = "\n"  # the import that closes the cycle goes, no line moves
    path.write_text("".join(lines))
    after = _lines(root)
    assert len(phases) == 2
    assert not any(" IL103 " in line for line in after)
    assert after == _lines(root, use_cache=False) != first


def test_a_revert_is_compared_against_the_memo_of_the_last_run(
    root: Path, phases: list[int]
) -> None:
    path = root / CLOSING
    original = path.read_text()
    first = _lines(root)
    path.write_text("\n" + original)
    moved = _lines(root)
    path.write_text(original)
    assert _lines(root) == first != moved
    # Every run moved the lines of the facts the memo holds, nothing else: the memo of
    # the last run moved with them each time (the phase ran once).
    assert len(phases) == 1


def test_a_pre_commit_run_on_a_commented_file_skips_the_phase(
    root: Path, phases: list[int]
) -> None:
    first = _lines(root, CLOSING)
    assert any(f"{CLOSING}:9: IL103" in line for line in first)
    path = root / CLOSING
    path.write_text(path.read_text() + "# a note at the end\n")
    assert _lines(root, CLOSING) == first
    assert len(phases) == 1


def test_a_pruned_former_entry_runs_the_phase(root: Path, phases: list[int]) -> None:
    """Without the entry of the file's former content there is nothing to compare
    with: the phase runs (never a stale outcome)."""
    first = _lines(root)
    path = root / CLOSING
    path.write_text(path.read_text() + "# a note at the end\n")
    cache = root / ".integ-lint-cache" / "v1"
    for entry in cache.glob("*/*"):
        data = entry.read_bytes()
        if CLOSING.encode() in data and b"ProjectMemo" not in data:
            entry.unlink()  # the file's entries (the memo stays)
    assert _lines(root) == first
    assert len(phases) == 2


def test_the_phase_leaves_the_garbage_collector_as_it_found_it(root: Path) -> None:
    """Facts are loaded with the collector paused and kept frozen during the phase
    (integ_lint.engine.pipeline._facts_spared_by_the_collector): afterwards it is
    enabled again and nothing stays frozen, also when the run reads the cache."""
    import gc

    _lines(root)
    path = root / CLOSING
    path.write_text("\n" + path.read_text())  # the phase runs on cached facts
    _lines(root)
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
