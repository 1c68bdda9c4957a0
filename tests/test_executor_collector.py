"""The parent's cyclic collector is paused while a pool's results come in (their
unpickling set off collections over every earlier result), and only then: the
workers collect as usual, and the parent's collector is back after the pool."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path
from typing import Any

import libcst as cst
import pytest

from integ_lint.config import load_config
from integ_lint.engine import analysis
from integ_lint.engine.discovery import discover
from integ_lint.engine.executor import ExecutionStats, analyze_files
from integ_lint.engine.results import FileResult
from integ_lint.rule import FileRule


@pytest.fixture(autouse=True)
def _private_key(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTEG_LINT_CACHE_KEY_FILE", str(tmp_path_factory.mktemp("k") / "key"))


def test_parent_pauses_its_collector_and_workers_keep_theirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.integ-lint]\n")
    for index in range(16):
        (tmp_path / f"m{index:02}.py").write_text(f"def f{index}():\n    return {index}\n")
    config = load_config([tmp_path], None)
    files = discover([tmp_path], config.root, exclude=[], respect_gitignore=False)
    real = analysis.analyze_file

    def watched(*args: Any) -> FileResult:
        # In the (forked) worker, between files: the collector its process runs with.
        result = real(*args)
        result.facts["collector-on"] = gc.isenabled()
        return result

    monkeypatch.setattr(analysis, "analyze_file", watched)
    seen_by_parent: list[bool] = []
    stats = ExecutionStats()
    assert gc.isenabled()
    results = analyze_files(
        files,
        config,
        [],
        [],
        jobs=2,
        stats=stats,
        progress=lambda done, total: seen_by_parent.append(gc.isenabled()),
    )
    assert stats.workers == 2
    assert [r.facts["collector-on"] for r in results] == [True] * len(files)
    # The first call reports 0 done, before the pool; the others, as results come in.
    assert seen_by_parent[0] is True
    assert seen_by_parent[1:] and not any(seen_by_parent[1:])
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0


def test_a_paused_collector_stays_paused(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.integ-lint]\n")
    for index in range(10):
        (tmp_path / f"m{index:02}.py").write_text("x = 1\n")
    config = load_config([tmp_path], None)
    files = discover([tmp_path], config.root, exclude=[], respect_gitignore=False)
    gc.disable()
    try:
        stats = ExecutionStats()
        analyze_files(files, config, [], [], jobs=2, stats=stats)
        assert stats.workers == 2
        assert not gc.isenabled()
    finally:
        gc.enable()


class _Cycle:
    """Garbage only the cyclic collector frees (it refers to itself)."""

    def __init__(self) -> None:
        self.me = self


_LEFT_BEHIND: list[weakref.ref[_Cycle]] = []


class LeavesCycles(FileRule):
    """Leaves a reference cycle behind per file (as a visitor holding its context,
    which holds its findings, which hold the visitor, may)."""

    code = "ZZ912"
    name = "leaves-cycles"
    family = "test"

    def visit_Module(self, node: cst.Module) -> None:
        cycle = _Cycle()
        _LEFT_BEHIND.append(weakref.ref(cycle))


def test_in_process_the_collector_is_paused_and_each_file_swept(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.integ-lint]\n")
    for index in range(12):
        (tmp_path / f"m{index:02}.py").write_text(f"x = {index}\n")
    config = load_config([tmp_path], None)
    files = discover([tmp_path], config.root, exclude=[], respect_gitignore=False)
    seen: list[bool] = []
    alive_before_each_file: list[int] = []

    def progress(done: int, total: int) -> None:
        seen.append(gc.isenabled())
        alive_before_each_file.append(sum(1 for ref in _LEFT_BEHIND if ref() is not None))

    _LEFT_BEHIND.clear()
    stats = ExecutionStats()
    analyze_files(files, config, [LeavesCycles], [], jobs=1, stats=stats, progress=progress)
    assert stats.workers == 1
    assert seen[0] is True and not any(seen[1:])
    assert len(_LEFT_BEHIND) == len(files)
    # Reported before the sweep after each file: only that file's cycle is alive.
    assert max(alive_before_each_file) == 1
    assert all(ref() is None for ref in _LEFT_BEHIND)
    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
