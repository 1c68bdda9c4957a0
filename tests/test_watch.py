"""``check --watch``: polling snapshots and the re-run loop."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from gate_rules import registered_gate_rules, write_project

from integ_lint.cli import main
from integ_lint.cli import watch as watch_module
from integ_lint.cli.watch import changed_paths, snapshot, watch


@pytest.fixture(autouse=True)
def gate_rules() -> Iterator[None]:
    with registered_gate_rules():
        yield


def test_snapshot_sees_python_and_config_files_only(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "notes.txt").write_text("x\n")
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "b.py").write_text("")
    names = {Path(p).name for p in snapshot([tmp_path])}
    assert names == {"a.py", "pyproject.toml"}


def test_changed_paths_finds_edits_additions_and_removals(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / "b.py").write_text("y = 1\n")
    before = snapshot([tmp_path])
    (tmp_path / "a.py").write_text("x = 22\n")
    (tmp_path / "b.py").unlink()
    (tmp_path / "c.py").write_text("")
    after = snapshot([tmp_path])
    assert [Path(p).name for p in changed_paths(before, after)] == ["a.py", "b.py", "c.py"]


def test_watch_runs_again_after_a_change(tmp_path: Path) -> None:
    target = tmp_path / "a.py"
    target.write_text("x = 1\n")
    runs: list[str] = []
    lines: list[str] = []

    def edit_once(_: float) -> None:
        if len(runs) == 1 and target.read_text() == "x = 1\n":
            target.write_text("x = 2  # edited\n")

    watch([tmp_path], lambda: runs.append(target.read_text()), lines.append, 0, 2, edit_once)
    assert runs == ["x = 1\n", "x = 2  # edited\n"]
    assert any(line.startswith("Changed: ") for line in lines)


def test_cli_watch_reruns_the_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = write_project(tmp_path / "p", {"pkg/__init__.py": "", "pkg/a.py": "repaired()\n"})
    real_watch = watch_module.watch

    def two_runs(roots, run_once, announce, *args, **kwargs):  # type: ignore[no-untyped-def]
        def edit(_: float) -> None:
            (project / "pkg" / "a.py").write_text("defect()\n")

        return real_watch(roots, run_once, announce, 0, 2, edit)

    monkeypatch.setattr(watch_module, "watch", two_runs)
    result = CliRunner().invoke(main, ["check", str(project), "--watch", "--format", "concise"])
    assert result.exit_code == 0, result.output
    assert result.stdout.count("pkg/a.py:1:1: IL951") == 1  # only the second run sees it
    assert "Changed: " in result.stderr


def test_watch_refuses_fix(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {"pkg/__init__.py": "", "pkg/a.py": "x = 1\n"})
    result = CliRunner().invoke(main, ["check", str(project), "--watch", "--fix"])
    assert result.exit_code == 2
    assert "--watch does not combine" in result.stderr
