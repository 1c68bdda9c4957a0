"""The process-pool executor: same results as in process, order kept, chunks that
fail in a worker are redone in process, unpicklable selections stay in process."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import libcst as cst
import pytest

from integ_lint.config import Config, load_config
from integ_lint.engine import executor
from integ_lint.engine.discovery import SourceFile, discover
from integ_lint.engine.executor import ExecutionStats, analyze_files, resolve_jobs
from integ_lint.engine.results import FileResult
from integ_lint.rule import FactCollector, FileRule

PARENT = os.getpid()


class BoomCall(FileRule):
    """Reports calls of ``boom``."""

    code = "ZZ911"
    name = "boom-call"
    family = "test"

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "boom":
            self.report(node, "boom called", properties={"pid": os.getpid()})


class Defs(FactCollector):
    KEY = "test-defs"

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.defs: list[str] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.defs.append(node.name.value)

    def collect(self) -> tuple[str, ...]:
        return tuple(self.defs)


class Unpicklable(FactCollector):
    """Facts that cannot cross a process boundary (a lambda)."""

    KEY = "test-unpicklable"

    def collect(self) -> Any:
        return lambda: None


class KillsWorkers(FactCollector):
    """Kills the process it runs in when that is a worker, never the test process."""

    KEY = "test-kills"

    def collect(self) -> int:
        if os.getpid() != PARENT:
            os._exit(3)
        return 1


@pytest.fixture(autouse=True)
def _private_key(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTEG_LINT_CACHE_KEY_FILE", str(tmp_path_factory.mktemp("k") / "key"))


def project(root: Path, count: int = 24) -> tuple[Config, list[SourceFile]]:
    (root / "pyproject.toml").write_text("[tool.integ-lint]\n")
    package = root / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for index in range(count):
        body = "".join(f"def f{index}_{n}():\n    boom({n})\n" for n in range(index % 5 + 1))
        (package / f"m{index:02}.py").write_text(body)
    (package / "broken.py").write_text("def broken(:\n")
    config = load_config([root], None)
    return config, discover([root], config.root, exclude=[], respect_gitignore=False)


def summary(results: list[FileResult]) -> list[tuple[Any, ...]]:
    return [
        (
            r.relpath,
            r.parsed,
            r.facts.get("test-defs"),
            [(f.code, f.line, f.col) for f in r.findings],
            [n.message for n in r.notifications],
        )
        for r in results
    ]


def test_pool_matches_in_process_and_keeps_order(tmp_path: Path) -> None:
    config, files = project(tmp_path)
    serial = analyze_files(files, config, [BoomCall], [Defs], jobs=1)
    stats = ExecutionStats()
    pooled = analyze_files(files, config, [BoomCall], [Defs], jobs=2, stats=stats)
    assert stats.workers == 2
    assert [r.relpath for r in pooled] == [f.relpath for f in files]
    assert summary(pooled) == summary(serial)
    assert any(n for r in pooled for n in r.notifications)  # broken.py's syntax error
    pids = {dict(f.properties)["pid"] for r in pooled for f in r.findings}
    assert PARENT not in pids  # really analysed in workers


def test_jobs_one_runs_in_process(tmp_path: Path) -> None:
    config, files = project(tmp_path, count=10)
    stats = ExecutionStats()
    results = analyze_files(files, config, [BoomCall], [], jobs=1, stats=stats)
    assert stats.workers == 1
    assert {dict(f.properties)["pid"] for r in results for f in r.findings} == {PARENT}


def test_few_files_stay_in_process(tmp_path: Path) -> None:
    config, files = project(tmp_path, count=2)
    assert len(files) < executor.MIN_FILES_FOR_POOL
    stats = ExecutionStats()
    analyze_files(files, config, [BoomCall], [], jobs=4, stats=stats)
    assert stats.workers == 1


def test_unpicklable_facts_are_redone_in_process(tmp_path: Path) -> None:
    config, files = project(tmp_path, count=12)
    results = analyze_files(files, config, [BoomCall], [Unpicklable, Defs], jobs=2)
    assert all(callable(r.facts["test-unpicklable"]) for r in results if r.parsed)
    assert summary(results) == summary(analyze_files(files, config, [BoomCall], [Defs], jobs=1))


def test_dead_worker_is_survived(tmp_path: Path) -> None:
    config, files = project(tmp_path, count=12)
    results = analyze_files(files, config, [], [KillsWorkers, Defs], jobs=2)
    assert [r.relpath for r in results] == [f.relpath for f in files]
    assert all(r.facts["test-kills"] == 1 for r in results if r.parsed)


def test_spawn_with_a_local_rule_falls_back_to_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class LocalRule(FileRule):
        """Defined in a function: not importable by qualified name."""

        code = "ZZ912"
        name = "local"
        family = "test"

        def visit_Call(self, node: cst.Call) -> None:
            self.report(node, "call", properties={"pid": os.getpid()})

    monkeypatch.setattr(executor, "_start_method", lambda: "spawn")
    config, files = project(tmp_path, count=10)
    stats = ExecutionStats()
    results = analyze_files(files, config, [LocalRule], [], jobs=2, stats=stats)
    assert stats.workers == 1
    assert {dict(f.properties)["pid"] for r in results for f in r.findings} == {PARENT}


def test_progress_reaches_the_total(tmp_path: Path) -> None:
    config, files = project(tmp_path, count=12)
    seen: list[tuple[int, int]] = []
    analyze_files(files, config, [BoomCall], [], jobs=2, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (len(files), len(files))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_cache_hits_and_pool_together(tmp_path: Path) -> None:
    config, files = project(tmp_path, count=16)
    first = ExecutionStats()
    cold = analyze_files(files, config, [BoomCall], [Defs], jobs=2, use_cache=True, stats=first)
    assert first.files_from_cache == 0 and first.cache_written == len(files)
    (tmp_path / "pkg" / "m03.py").write_text("def changed():\n    boom()\n")
    second = ExecutionStats()
    warm = analyze_files(files, config, [BoomCall], [Defs], jobs=2, use_cache=True, stats=second)
    assert second.files_from_cache == len(files) - 1
    assert second.files_analysed == 1 and second.workers == 1
    changed = [r for r in warm if r.relpath == "pkg/m03.py"]
    assert changed[0].facts["test-defs"] == ("changed",)
    others = [(a, b) for a, b in zip(cold, warm) if a.relpath != "pkg/m03.py"]
    assert all(summary([a]) == summary([b]) for a, b in others)


def test_workers_send_the_facts_pickled_once_for_the_cache_and_the_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the cache, a worker pickles a result's facts once (per key) for its entry
    and sends those pickles: deferred, they stay pickled; otherwise unpickled here."""
    from integ_lint.engine import cache as cache_module

    config, files = project(tmp_path, count=12)
    expected = summary(analyze_files(files, config, [BoomCall], [Defs], jobs=1))
    log = tmp_path / "pickled-in"
    real = cache_module.pickle_facts

    def counted(facts: dict[str, Any]) -> dict[str, bytes]:
        with open(log, "a", encoding="ascii") as pids:
            pids.write(f"{os.getpid()}\n")
        return real(facts)

    monkeypatch.setattr(executor, "pickle_facts", counted)
    monkeypatch.setattr(cache_module, "pickle_facts", counted)
    stats = ExecutionStats()
    deferred = analyze_files(
        files, config, [BoomCall], [Defs], jobs=2, use_cache=True, stats=stats, defer_facts=True
    )
    parsed = [r for r in deferred if r.parsed]
    assert stats.workers == 2 and stats.cache_written == len(files)
    pickled_in = [int(pid) for pid in log.read_text().split()]
    assert len(pickled_in) == len(files) and PARENT not in pickled_in  # once, in workers
    assert all(r.facts == {} for r in parsed)
    assert sorted(r.relpath for r, _, _ in stats.deferred) == sorted(f.relpath for f in files)
    executor.load_deferred_facts(stats, config, [Defs])
    assert summary(deferred) == expected
    (tmp_path / ".integ-lint-cache").rename(tmp_path / "old-cache")
    eager = analyze_files(files, config, [BoomCall], [Defs], jobs=2, use_cache=True)
    assert summary(eager) == expected


def test_resolve_jobs() -> None:
    assert resolve_jobs(3) == 3
    assert resolve_jobs(0) >= 1


def test_chunks_put_large_files_first_and_cover_everything() -> None:
    todo = [(index, size) for index, size in enumerate([5, 500, 50, 5000, 1] * 10)]
    chunks = executor._chunks(todo, workers=2)
    flat = [i for chunk in chunks for i in chunk]
    assert sorted(flat) == list(range(len(todo)))
    assert todo[flat[0]][1] == 5000
    assert max(len(c) for c in chunks) <= executor.MAX_CHUNK
