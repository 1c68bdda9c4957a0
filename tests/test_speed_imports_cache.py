"""``integ-lint imports`` reads and writes the per-file cache as ``check`` does, and
``--no-cache`` turns it off."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from integ_lint.cli import main
from integ_lint.engine import analysis

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "web_backend"


@pytest.fixture(autouse=True)
def _private_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTEG_LINT_CACHE_KEY_FILE", str(tmp_path / "key" / "cache-key"))


def _imports(root: Path, *args: str) -> str:
    old = Path.cwd()
    os.chdir(root)
    try:
        result = CliRunner().invoke(main, ["imports", "--jobs", "1", *args])
    finally:
        os.chdir(old)
    assert result.exit_code == 0, result.output
    return result.stdout


def _analysed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    # The executor imports analyze_file when it has a file to analyse (a warm run
    # never imports the per-file phase): patch it where it is defined.
    real = analysis.analyze_file

    def counted(source_file, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(source_file.relpath)
        return real(source_file, *args, **kwargs)

    monkeypatch.setattr(analysis, "analyze_file", counted)
    return seen


def test_imports_reuses_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "web_backend"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns(".integ-lint-cache"))
    seen = _analysed(monkeypatch)
    first = _imports(root)
    assert seen
    analysed_first = len(seen)
    assert _imports(root) == first
    assert len(seen) == analysed_first  # the second run parsed nothing
    assert (root / ".integ-lint-cache" / "CACHEDIR.TAG").is_file()


def test_imports_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "web_backend"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns(".integ-lint-cache"))
    seen = _analysed(monkeypatch)
    first = _imports(root, "--no-cache")
    assert _imports(root, "--no-cache") == first
    assert len(seen) == 2 * len(set(seen))
    assert not (root / ".integ-lint-cache").exists()
