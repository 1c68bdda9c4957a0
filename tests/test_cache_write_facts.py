"""The facts a pool's workers send with their cache entries: kept pickled for the
project phase's memo when it may spare them (few files analysed), unpickled as they
come in when it cannot (more files analysed than the memo compares), with the same
facts either way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from integ_lint.config import Config, load_config
from integ_lint.engine import executor
from integ_lint.engine.discovery import SourceFile, discover
from integ_lint.engine.executor import ExecutionStats, analyze_files, load_deferred_facts
from integ_lint.engine.results import FileResult
from integ_lint.rule import FactCollector

FILES = 12  # above executor.MIN_FILES_FOR_POOL: a pool of two workers


class Names(FactCollector):
    KEY = "test-names"

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.names: set[str] = set()

    def visit_Name(self, node: Any) -> None:
        self.names.add(node.value)

    def collect(self) -> tuple[str, ...]:
        return tuple(sorted(self.names))


@pytest.fixture(autouse=True)
def _private_key(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    key_dir = tmp_path_factory.mktemp("key")
    monkeypatch.setenv("INTEG_LINT_CACHE_KEY_FILE", str(key_dir / "cache-key"))


def _project(root: Path) -> tuple[Config, list[SourceFile]]:
    (root / "pyproject.toml").write_text("[tool.integ-lint]\n")
    package = root / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for index in range(FILES):
        (package / f"mod{index}.py").write_text(
            f"def f{index}(a{index}):\n    return g(a{index})\n"
        )
    config = load_config([root], None, None)
    return config, discover([root], config.root, exclude=[], respect_gitignore=False)


def _cold(config: Config, files: list[SourceFile]) -> tuple[list[FileResult], ExecutionStats]:
    stats = ExecutionStats()
    results = analyze_files(
        files, config, [], [Names], jobs=2, use_cache=True, stats=stats, defer_facts=True
    )
    return results, stats


def _expected(config: Config, files: list[SourceFile]) -> dict[str, Any]:
    plain = analyze_files(files, config, [], [Names], jobs=1)
    return {result.relpath: result.facts for result in plain}


def test_facts_of_more_files_than_the_memo_compares_come_unpickled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, files = _project(tmp_path)
    monkeypatch.setattr(executor, "MEMO_COMPARED_FILES", len(files) - 1)
    results, stats = _cold(config, files)
    assert stats.workers == 2 and stats.files_analysed == len(files)
    assert stats.cache_written == len(files)
    assert stats.deferred == []
    assert {result.relpath: result.facts for result in results} == _expected(config, files)
    assert results[-1].facts["test-names"]  # not empty: the names were collected


def test_facts_of_few_files_stay_pickled_for_the_memo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, files = _project(tmp_path)
    monkeypatch.setattr(executor, "MEMO_COMPARED_FILES", len(files))
    results, stats = _cold(config, files)
    assert stats.workers == 2 and stats.files_analysed == len(files)
    assert len(stats.deferred) == len(files)
    assert all(result.facts == {} for result in results)
    load_deferred_facts(stats, config, [Names])
    assert {result.relpath: result.facts for result in results} == _expected(config, files)
