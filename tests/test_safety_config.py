"""Item 9 of issue 25: hostile configuration values are one-line errors (exit 2),
never a traceback: a NUL byte in any string (``cache-dir``, ``baseline``,
``audit.out-dir``, a table key), and a ``tool`` that is not a table in a
``pyproject.toml`` above the scanned path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from integ_lint.cli import main

COMMANDS = [
    ["check", "pkg", "--no-cache"],
    ["check", "pkg"],
    ["config", "pkg"],
    ["imports", "pkg"],
    ["graph", "pkg"],
    ["audit", "pkg", "--component", "x"],
    ["baseline", "create", "pkg"],
    ["cache", "clean", "pkg"],
]
NUL_CONFIGS = {
    "cache-dir": '[tool.integ-lint]\ncache-dir = "cache\\u0000dir"\n',
    "baseline": '[tool.integ-lint]\nbaseline = "base\\u0000line.toml"\n',
    "audit.out-dir": '[tool.integ-lint]\n[tool.integ-lint.audit]\nout-dir = "out\\u0000dir"\n',
    "per-file-ignores": '[tool.integ-lint]\nper-file-ignores = { "a\\u0000/**" = ["IL1"] }\n',
}


def cli(root: Path, *args: str) -> Result:
    old = Path.cwd()
    os.chdir(root)
    try:
        return CliRunner().invoke(main, list(args))
    finally:
        os.chdir(old)


def make(root: Path, pyproject: str) -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "a.py").write_text("x = 1\n")
    (root / "pyproject.toml").write_text(pyproject)
    return root


def assert_one_line_error(result: Result, *words: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("integ-lint: error: ")
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.stderr


@pytest.mark.parametrize("key", sorted(NUL_CONFIGS))
@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_a_nul_byte_in_a_config_string_is_one_line(
    tmp_path: Path, key: str, command: list[str]
) -> None:
    root = make(tmp_path, NUL_CONFIGS[key])
    result = cli(root, *command)
    assert_one_line_error(result, f"tool.integ-lint.{key}", "NUL byte", "pyproject.toml")


@pytest.mark.parametrize(
    "pyproject",
    ["tool = 5\n", "tool = 'x'\n[project]\nname = 'p'\n", "[tool]\nsetuptools = 5\nmypy = 5\n"],
)
@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_a_tool_that_is_not_a_table_above_the_scan_is_not_a_crash(
    tmp_path: Path, pyproject: str, command: list[str]
) -> None:
    root = make(tmp_path, pyproject)
    result = cli(root, *command)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in (0, 1, 3), result.output


def test_integ_lint_table_that_is_not_a_table_is_one_line(tmp_path: Path) -> None:
    root = make(tmp_path, '[tool]\n"integ-lint" = 5\n')
    assert_one_line_error(cli(root, "check", "pkg"), "[tool.integ-lint] must be a table")
