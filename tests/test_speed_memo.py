"""The project phase's memo (integ_lint.engine.cache.ProjectMemo): a run with nothing changed
reuses the project rules' outcome without running them; any change to a file's
content, the configuration, or a file the phase read from disk runs them again and
gives the findings a run without a cache gives."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import pytest
from phase_runs import count_phases

from integ_lint.config import load_config
from integ_lint.engine import RunOptions, run
from integ_lint.engine.registry import load_registry
from integ_lint.files.source import glob_paths, read_regular_file, reads_unchanged, recording_reads

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture(autouse=True)
def _private_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTEG_LINT_CACHE_KEY_FILE", str(tmp_path / "key" / "cache-key"))


def _lines(root: Path, use_cache: bool = True, **overrides: object) -> list[str]:
    config = load_config([root], None, dict(overrides), extra_sections=load_registry().sections)
    # As check runs it: findings only, so the project phase may be memoised.
    report = run([root], config, RunOptions(jobs=1, use_cache=use_cache, keep_project=False))
    return [
        f"{f.path}:{f.span.start_line}: {f.code} {f.message} {f.fingerprint}"
        for f in report.findings
    ]


def _copy(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target, ignore=shutil.ignore_patterns(".integ-lint-cache"))
    return target


def test_a_run_with_nothing_changed_skips_the_project_phase(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _copy("web_backend", tmp_path)
    calls = count_phases(monkeypatch)
    first = _lines(root)
    assert any(" IL103 " in line for line in first)
    assert _lines(root) == first
    assert len(calls) == 1


def test_a_changed_file_runs_the_project_phase_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _copy("web_backend", tmp_path)
    calls = count_phases(monkeypatch)
    before = _lines(root)
    closing = next(line for line in before if " IL103 " in line).split(":")[0]
    path = root / closing
    # Break the cycle: the import that closes it goes.
    lines = path.read_text().splitlines(keepends=True)
    line_number = int(next(line for line in before if " IL103 " in line).split(":")[1])
    lines[line_number - 1] = "\n"
    path.write_text("".join(lines))
    after = _lines(root)
    assert len(calls) == 2
    assert after == _lines(root, use_cache=False)
    assert after != before


def test_a_config_change_runs_the_project_phase_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _copy("web_backend", tmp_path)
    calls = count_phases(monkeypatch)
    _lines(root)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n# a comment moves nothing, but is read\n")
    _lines(root)
    assert len(calls) == 2


def test_an_edited_config_file_read_by_the_phase_is_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _copy("config_app", tmp_path)
    calls = count_phases(monkeypatch)
    before = _lines(root)
    assert any("batch_sise" in line for line in before)
    yaml = root / "config" / "default.yaml"
    yaml.write_text(yaml.read_text().replace("batch_sise", "batch_size"))
    after = _lines(root)
    assert len(calls) == 2
    assert not any("batch_sise" in line for line in after)
    assert after == _lines(root, use_cache=False)


def test_a_new_file_matching_a_glob_is_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _copy("config_app", tmp_path)
    calls = count_phases(monkeypatch)
    before = _lines(root)
    overrides = root / "config" / "overrides"
    shutil.copy(overrides / "fast.toml", overrides / "faster.toml")
    after = _lines(root)
    assert len(calls) == 2
    assert after == _lines(root, use_cache=False)
    if any("fast.toml" in line for line in before):
        assert any("faster.toml" in line for line in after)


def test_no_cache_never_reads_or_writes_the_memo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _copy("web_backend", tmp_path)
    calls = count_phases(monkeypatch)
    _lines(root, use_cache=False)
    _lines(root, use_cache=False)
    assert len(calls) == 2
    assert not (root / ".integ-lint-cache").exists()


def test_recorded_reads_see_changes_by_stat(tmp_path: Path) -> None:
    config = tmp_path / "a.yaml"
    config.write_text("a: 1\n")
    (tmp_path / "b.yaml").write_text("b: 1\n")
    with recording_reads() as records:
        read_regular_file(config)
        glob_paths(tmp_path, "*.yaml")
    assert len(records) == 2
    assert reads_unchanged(records)
    config.write_text("a: 22\n")  # another size
    assert not reads_unchanged(records)


def test_recorded_reads_see_a_file_that_appears(tmp_path: Path) -> None:
    missing = tmp_path / "later.yaml"
    with recording_reads() as records, contextlib.suppress(OSError):
        read_regular_file(missing)
    assert records and reads_unchanged(records)
    missing.write_text("now: here\n")
    assert not reads_unchanged(records)
    with recording_reads() as globbed:
        glob_paths(tmp_path, "*.yaml")
    assert reads_unchanged(globbed)
    (tmp_path / "d.yaml").write_text("d: 1\n")
    assert not reads_unchanged(globbed)


def test_a_memoised_run_never_unpickles_facts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from integ_lint.engine import cache, executor

    root = _copy("web_backend", tmp_path)
    first = _lines(root)
    loaded: list[int] = []
    real = cache.load_facts

    def counted(pickled: bytes) -> dict[str, object]:
        loaded.append(1)
        return real(pickled)

    monkeypatch.setattr(cache, "load_facts", counted)
    monkeypatch.setattr(executor, "load_facts", counted)
    assert _lines(root) == first
    assert loaded == []
    (root / "pyproject.toml").write_text((root / "pyproject.toml").read_text() + "\n# moved\n")
    assert _lines(root) == first  # the phase runs again, on the cached facts
    assert loaded


def test_the_api_always_returns_the_project_index_even_on_a_warm_cache(tmp_path: Path) -> None:
    """``api.check`` callers read ``report.project``: the memo that skips building it is
    for ``check`` alone (it was None on the second, warm call)."""
    from integ_lint import api

    root = tmp_path / "proj"
    shutil.copytree(FIXTURES / "message_backend", root)
    for _ in range(2):
        report = api.check([root], select=["IL6"], jobs=1)
        assert report.project is not None


def test_a_config_file_that_appears_where_a_load_looks_is_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A load's file is found by probing candidate paths; a probe that found nothing
    must be noted too, or the file's later arrival would be hidden by the memo."""
    root = _copy("config_app", tmp_path)
    calls = count_phases(monkeypatch)
    yaml = root / "config" / "default.yaml"
    aside = tmp_path / "default.yaml"
    yaml.rename(aside)
    before = _lines(root)
    assert not any("batch_sise" in line for line in before)
    aside.rename(yaml)
    after = _lines(root)
    assert len(calls) == 2
    assert any("batch_sise" in line for line in after)
    assert after == _lines(root, use_cache=False)
