"""``integ-lint imports`` reads and writes the per-file cache as ``check`` does, and
``--no-cache`` turns it off."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cache_probes import analysed_files, command_output

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "web_backend"


@pytest.fixture(autouse=True)
def _private_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTEG_LINT_CACHE_KEY_FILE", str(tmp_path / "key" / "cache-key"))


def _imports(root: Path, *args: str) -> str:
    return command_output(root, "imports", *args)


def test_imports_reuses_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "web_backend"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns(".integ-lint-cache"))
    seen = analysed_files(monkeypatch)
    first = _imports(root)
    assert seen
    analysed_first = len(seen)
    assert _imports(root) == first
    assert len(seen) == analysed_first  # the second run parsed nothing
    assert (root / ".integ-lint-cache" / "CACHEDIR.TAG").is_file()


def test_imports_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "web_backend"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns(".integ-lint-cache"))
    seen = analysed_files(monkeypatch)
    first = _imports(root, "--no-cache")
    assert _imports(root, "--no-cache") == first
    assert len(seen) == 2 * len(set(seen))
    assert not (root / ".integ-lint-cache").exists()
