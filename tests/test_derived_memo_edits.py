"""Edits that change the project-wide derived structures (the call graph and its loop
contexts, the config-schema index) through one file: after each, a run on the warm
cache and memo gives the report of a run without a cache, findings and notifications
alike, in the same order; and the report changed where the edit reaches (a finding in
ANOTHER file than the edited one), so that a memo kept across the edit would fail."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from phase_runs import copy_fixture, replace_once
from phase_runs import every_rule_outcome as _outcome

from integ_lint.findings import Finding

pytestmark = pytest.mark.usefixtures("private_cache_key")


def _deleted(path: Path) -> None:
    path.unlink()


def _appended(text: str) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        path.write_text(path.read_text() + text)

    return edit


def _on(findings: list[Finding], prefix: str, path: str) -> list[tuple[str, int, str]]:
    return [
        (f.code, f.span.start_line, f.message)
        for f in findings
        if f.code.startswith(prefix) and f.path == path
    ]


EDITS = [
    # (fixture, edited file, edit, family, a file whose findings of that family change)
    pytest.param(
        "async_app",
        "async_app/storage/index.py",
        replace_once("    _wait_for_file(path)\n    with", "    with"),
        "IL2",
        "async_app/serving/server.py",
        id="callee-no-longer-blocks",  # an edge removed: server.py's chain goes
    ),
    pytest.param(
        "async_app",
        "async_app/serving/server.py",
        _appended(
            "\n\nasync def list_again(path: str) -> list[str]:\n"
            "    return load_checkpoint_index(path)\n"
        ),
        "IL2",
        "async_app/serving/server.py",
        id="new-cross-module-edge",  # a new function calling into storage/index.py
    ),
    pytest.param(
        "async_app",
        "async_app/storage/index.py",
        replace_once(
            "def _wait_for_file(path: str) -> None:", "def _wait_for_file_now(path: str) -> None:"
        ),
        "IL2",
        "async_app/serving/server.py",
        id="called-function-removed",  # its caller's call no longer resolves
    ),
    pytest.param(
        "async_app",
        "async_app/bridge.py",
        replace_once("def run_sync(", "def run_sync_renamed("),
        "IL2",
        "async_app/jobs.py",
        id="imported-function-removed",  # jobs.py's imported helper is gone
    ),
    pytest.param(
        "async_app",
        "async_app/bridge.py",
        _deleted,
        "IL2",
        "async_app/jobs.py",
        id="file-deleted",
    ),
    pytest.param(
        "config_app",
        "config_app/config_schema.py",
        replace_once("    interval: int = 1000\n", "    interval: int = 500\n"),
        "IL3",
        "config_app/evaluation.py",
        id="schema-default-changed",
    ),
    pytest.param(
        "config_app",
        "config_app/config_schema.py",
        replace_once(
            "    num_games: int = 20\n", "    num_games: int = 20\n    num_game: int = 20\n"
        ),
        "IL3",
        "config_app/evaluation.py",
        id="schema-field-added",
    ),
    pytest.param(
        "config_app",
        "config_app/evaluation.py",
        _deleted,
        "IL3",
        "config_app/evaluation.py",
        id="schema-reader-deleted",
    ),
]


@pytest.mark.parametrize(("fixture", "relpath", "edit", "family", "reached"), EDITS)
def test_an_edit_through_a_derived_structure_matches_a_run_without_cache(
    tmp_path: Path,
    fixture: str,
    relpath: str,
    edit: Callable[[Path], None],
    family: str,
    reached: str,
) -> None:
    root = copy_fixture(tmp_path, fixture)
    before, _ = _outcome(root)  # the warm cache and memo
    edit(root / relpath)
    after = _outcome(root)
    assert after == _outcome(root, use_cache=False)  # findings and notifications, in order
    assert _on(after[0], family, reached) != _on(before, family, reached)
    # and again, on the memo of the edited tree
    assert _outcome(root) == after


def test_a_function_added_after_the_imports_then_removed_again(tmp_path: Path) -> None:
    """The benchmark's edit (a function after the imports), on a file the call graph
    runs through, then undone: each run as without a cache."""
    root = copy_fixture(tmp_path, "async_app")
    original, _ = _outcome(root)
    path = root / "async_app/storage/index.py"
    text = path.read_text()
    added = "def _edit(values):\n    return sorted(set(values))\n\n\n"
    at = text.index("def _wait_for_file")
    path.write_text(text[:at] + added + text[at:])
    after = _outcome(root)
    assert after == _outcome(root, use_cache=False)
    assert after[0] != original  # the lines below the function moved
    path.write_text(text)
    assert _outcome(root)[0] == original
