"""A pre-commit run (one file named, warm cache) reads every other file's facts from
the entries a full run wrote, parses nothing, and reports what a run without a cache
reports."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from integ_lint.config import load_config
from integ_lint.engine import RunOptions, analysis, run
from integ_lint.engine.registry import load_registry

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "web_backend"


@pytest.fixture(autouse=True)
def _private_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTEG_LINT_CACHE_KEY_FILE", str(tmp_path / "key" / "cache-key"))


def _lines(root: Path, paths: list[Path], use_cache: bool = True) -> list[str]:
    config = load_config(paths, None, {}, extra_sections=load_registry().sections)
    report = run(paths, config, RunOptions(jobs=1, use_cache=use_cache))
    return [f"{f.path}:{f.span.start_line}: {f.code} {f.message}" for f in report.findings]


def test_pre_commit_after_a_full_run_parses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "web_backend"
    shutil.copytree(FIXTURE, root, ignore=shutil.ignore_patterns(".integ-lint-cache"))
    whole = _lines(root, [root])
    reported = next(line.split(":")[0] for line in whole if " IL103 " in line)
    analysed: list[str] = []
    # The executor imports the traversal only when a file is analysed, from here.
    real = analysis.analyze_file

    def counted(source_file, *args, **kwargs):  # type: ignore[no-untyped-def]
        analysed.append(source_file.relpath)
        return real(source_file, *args, **kwargs)

    monkeypatch.setattr(analysis, "analyze_file", counted)
    one = _lines(root, [root / reported])
    assert analysed == []
    assert one == _lines(root, [root / reported], use_cache=False)
    assert one == [line for line in whole if line.startswith(f"{reported}:")]
