"""``integ-lint check --fix`` / ``--diff``: LibCST fixes applied as text edits, written
atomically, never to a file that changed during the run, idempotent."""

from __future__ import annotations

import os
import shutil
import stat
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from integ_lint.cli import check as cli  # the check command and the helpers it calls
from integ_lint.cli import main
from integ_lint.files.atomic import write_atomic

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

SCHEMA = """\
from pydantic import BaseModel


class TrainingConfig(BaseModel):
    learning_rate: float = 3e-4
    clip: bool = True


class AppConfig(BaseModel):
    training: TrainingConfig = TrainingConfig()
    run_name: str | None = None
"""

USE = """\
from pkg.schema import AppConfig


class Manager:
    def __init__(self, config: AppConfig) -> None:
        self.config = config
        # a comment that must survive
        self.lr = getattr(  # odd formatting stays outside the span
            config.training, "learning_rate", 3e-4
        )
        self.name = getattr(self.config, "run_name", None) or "run"
        if hasattr(config.training, "clip") and config.training.clip:
            pass
        self.gap = getattr(config, "missing", 1)
"""

FIXED = """\
from pkg.schema import AppConfig


class Manager:
    def __init__(self, config: AppConfig) -> None:
        self.config = config
        # a comment that must survive
        self.lr = config.training.learning_rate
        self.name = self.config.run_name or "run"
        if config.training.clip:
            pass
        self.gap = getattr(config, "missing", 1)
"""


def make_project(root: Path, use: str = USE) -> Path:
    (root / "pyproject.toml").write_text(
        '[project]\nname = "example"\nversion = "0"\n\n[tool.integ-lint]\nselect = ["IL3", "IL302"]\n'
    )
    (root / "pkg").mkdir()
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "schema.py").write_text(SCHEMA)
    target = root / "pkg" / "use.py"
    target.write_text(use)
    return target


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, ["check", "-j", "1", *args], catch_exceptions=False)


def test_diff_prints_without_writing(tmp_path: Path) -> None:
    target = make_project(tmp_path)
    result = invoke(str(tmp_path), "--diff")
    assert result.exit_code == 1
    assert "--- a/pkg/use.py" in result.output and "+++ b/pkg/use.py" in result.output
    assert "+        self.lr = config.training.learning_rate" in result.output
    assert target.read_text() == USE


def test_fix_applies_keeps_comments_and_second_fix_finds_nothing(tmp_path: Path) -> None:
    target = make_project(tmp_path)
    first = invoke(str(tmp_path), "--fix", "--format", "concise")
    assert "Fixed 3 findings." in first.stderr
    assert target.read_text() == FIXED
    # The schema gap has no fix and is still reported.
    assert first.exit_code == 1
    assert [line.split(" ")[1] for line in first.stdout.splitlines()] == ["IL301"]
    second = invoke(str(tmp_path), "--fix", "--format", "concise")
    assert "Fixed" not in second.stderr
    assert target.read_text() == FIXED
    diff = invoke(str(tmp_path), "--diff")
    assert diff.exit_code == 0 and diff.output == ""


def test_fix_is_atomic_and_keeps_permissions(tmp_path: Path) -> None:
    target = make_project(tmp_path)
    os.chmod(target, 0o640)
    invoke(str(tmp_path), "--fix")
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o640
    assert sorted(p.name for p in target.parent.iterdir()) == ["__init__.py", "schema.py", "use.py"]


def test_a_failed_write_leaves_the_original_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "f.py"
    target.write_text("old\n")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        write_atomic(target, "new\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["f.py"]


def test_a_file_changed_during_the_run_is_never_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = make_project(tmp_path)
    edited = USE.replace("# a comment that must survive", "# edited by the user meanwhile")
    real_run_scan = cli.run_scan

    def scan_then_edit(*args: Any, **kwargs: Any) -> Any:
        report = real_run_scan(*args, **kwargs)
        target.write_text(edited)
        return report

    monkeypatch.setattr(cli, "run_scan", scan_then_edit)
    result = invoke(str(tmp_path), "--fix")
    assert "pkg/use.py: not fixed: the file changed during the run" in result.stderr
    assert target.read_text() == edited


@pytest.mark.parametrize(
    ("prefix", "newline"),
    [
        (b"", b"\n"),
        (b"\xef\xbb\xbf", b"\n"),
        (b"", b"\r\n"),
        (b"# -*- coding: latin-1 -*-\n", b"\n"),
    ],
    ids=["plain", "bom", "crlf", "latin-1"],
)
def test_fix_keeps_encoding_and_line_endings(tmp_path: Path, prefix: bytes, newline: bytes) -> None:
    target = make_project(tmp_path)
    encoding = "latin-1" if b"latin-1" in prefix else "utf-8"
    body = "# caf\u00e9\n" + USE
    target.write_bytes(prefix + body.replace("\n", newline.decode()).encode(encoding))
    invoke(str(tmp_path), "--fix")
    expected = "# caf\u00e9\n" + FIXED
    assert target.read_bytes() == prefix + expected.replace("\n", newline.decode()).encode(encoding)


def test_fix_of_a_hasattr_gate_in_an_expression_keeps_precedence(tmp_path: Path) -> None:
    use = textwrap.dedent(
        """\
        from pkg.schema import AppConfig


        def scale(config: AppConfig) -> float:
            return 2 * (hasattr(config.training, "learning_rate") and config.training.learning_rate + 1)
        """
    )
    target = make_project(tmp_path, use)
    invoke(str(tmp_path), "--fix")
    assert target.read_text() == use.replace(
        '(hasattr(config.training, "learning_rate") and config.training.learning_rate + 1)',
        "(config.training.learning_rate + 1)",
    )


def _fixture_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "training_app"
    shutil.copytree(
        FIXTURES / "training_app", copy, ignore=shutil.ignore_patterns("expected", "__pycache__")
    )
    return copy


def test_training_app_fixes_are_exact(tmp_path: Path) -> None:
    expected_file = FIXTURES / "training_app" / "expected" / "IL3.fix.diff"
    copy = _fixture_copy(tmp_path)
    diff = invoke(str(copy), "--select", "IL302", "--diff")
    if os.environ.get("INTEG_LINT_UPDATE_SNAPSHOTS"):
        expected_file.write_text(diff.output)
    expected = expected_file.read_text()
    assert diff.output == expected
    before = {p: p.read_bytes() for p in copy.rglob("*.py")}
    fixed = invoke(str(copy), "--select", "IL302", "--fix")
    changed = sorted(p.relative_to(copy).as_posix() for p in before if p.read_bytes() != before[p])
    assert changed == sorted(
        line[len("--- a/") :] for line in expected.splitlines() if line.startswith("--- a/")
    )
    assert "Fixed" in fixed.stderr
    after = {p: p.read_bytes() for p in copy.rglob("*.py")}
    again = invoke(str(copy), "--select", "IL302", "--fix")
    assert "Fixed" not in again.stderr
    assert {p: p.read_bytes() for p in copy.rglob("*.py")} == after
    assert invoke(str(copy), "--select", "IL3", "--diff").output == ""
