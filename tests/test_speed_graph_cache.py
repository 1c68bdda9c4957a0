"""``integ-lint graph`` reads and writes the per-file cache as ``check`` and
``imports`` do (same output warm and cold), and ``--no-cache`` turns it off."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cache_probes import analysed_files, command_output

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "training_app"


@pytest.fixture(autouse=True)
def _private_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTEG_LINT_CACHE_KEY_FILE", str(tmp_path / "key" / "cache-key"))


def _graph(root: Path, *args: str) -> str:
    return command_output(root, "graph", *args)


@pytest.mark.parametrize("output_format", ["table", "json"])
def test_graph_reuses_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, output_format: str
) -> None:
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns(".integ-lint-cache"))
    seen = analysed_files(monkeypatch)
    first = _graph(root, "--format", output_format)
    assert seen
    assert first.strip()
    analysed_first = len(seen)
    assert _graph(root, "--format", output_format) == first
    assert len(seen) == analysed_first  # the second run parsed nothing
    assert _graph(root, "--format", output_format, "--no-cache") == first
    assert len(seen) == 2 * analysed_first


def test_graph_no_cache_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns(".integ-lint-cache"))
    seen = analysed_files(monkeypatch)
    first = _graph(root, "--no-cache")
    assert _graph(root, "--no-cache") == first
    assert len(seen) == 2 * len(set(seen))
    assert not (root / ".integ-lint-cache").exists()
