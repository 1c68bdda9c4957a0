"""The engine's work around the project phase on a warm cache (issue #21): a
pre-commit run looks each context file up once, and the command line skips the
interpreter's collection of the run's objects at exit."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from phase_runs import every_rule_outcome as _outcome

from integ_lint.engine.cache import FileCache

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture(autouse=True)
def _private_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTEG_LINT_CACHE_KEY_FILE", str(tmp_path / "key" / "cache-key"))


def test_a_pre_commit_run_looks_each_context_file_up_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "config_app"
    shutil.copytree(
        FIXTURES / "config_app", root, ignore=shutil.ignore_patterns(".integ-lint-cache")
    )
    files = sorted(p for p in root.rglob("*.py") if ".integ-lint-cache" not in p.parts)
    app = "config_app/app.py"
    _outcome(root)  # the warm cache, written by a full run
    (root / app).write_text(
        (root / app).read_text() + "\n\ndef added(values):\n    return values\n"
    )
    lookups: list[str] = []
    real = FileCache.get_deferred

    def counted(self: FileCache, source_file: object, *args: object, **kwargs: object) -> object:
        lookups.append(source_file.relpath)  # type: ignore[attr-defined]
        return real(self, source_file, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(FileCache, "get_deferred", counted)
    after = _outcome(root, app)
    context = [p for p in lookups if p != app]
    assert len(files) > 2
    # Each unchanged file once, from the full run's entry (the facts-only namespace
    # has none); the changed file misses and is analysed.
    assert len(context) == len(set(context))
    assert len(context) == len(files) - 1
    monkeypatch.setattr(FileCache, "get_deferred", real)
    assert after == _outcome(root, app, use_cache=False)


def test_a_context_file_changed_since_the_full_run_comes_from_its_facts_only_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "config_app"
    shutil.copytree(
        FIXTURES / "config_app", root, ignore=shutil.ignore_patterns(".integ-lint-cache")
    )
    app, schema = "config_app/app.py", "config_app/config_schema.py"
    _outcome(root)
    (root / schema).write_text((root / schema).read_text() + "\n# edited\n")
    _outcome(root, app)  # writes the schema's facts-only entry
    analysed: list[int] = []
    import integ_lint.engine.executor as executor

    real = executor._analyze_todo

    def counted(files: object, todo: list[tuple[int, int]], *args: object) -> None:
        analysed.append(len(todo))
        real(files, todo, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(executor, "_analyze_todo", counted)
    after = _outcome(root, app)
    assert analysed == []  # both files and the context served by the cache
    monkeypatch.setattr(executor, "_analyze_todo", real)
    assert after == _outcome(root, app, use_cache=False)


def test_the_command_line_freezes_what_is_alive_at_exit(tmp_path: Path) -> None:
    # An exit handler registered before the command runs is called after the ones the
    # command registers (last in, first out): it sees the objects frozen.
    probe = (
        "import atexit, gc, sys\n"
        "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 0))\n"
        "from integ_lint.cli import main\n"
        "main(['rules'], standalone_mode=False)\n"
    )
    environment = {**os.environ, "INTEG_LINT_CACHE_KEY_FILE": str(tmp_path / "key")}
    completed = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert completed.stdout.strip().splitlines()[-1] == "frozen True"
