"""Helpers for the tests that a command reuses the per-file cache: run a command from
a project's folder, and record which files the per-file phase analyses."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from integ_lint.cli import main
from integ_lint.engine import analysis


def command_output(root: Path, command: str, *args: str) -> str:
    """The output of ``integ-lint COMMAND --jobs 1 ARGS`` run from ``root`` (exit 0)."""
    old = Path.cwd()
    os.chdir(root)
    try:
        result = CliRunner().invoke(main, [command, "--jobs", "1", *args])
    finally:
        os.chdir(old)
    assert result.exit_code == 0, result.output
    return result.stdout


def analysed_files(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files the per-file phase analyses from now on (relative paths). The executor
    imports ``analyze_file`` only when it has a file to analyse (a warm run never
    imports the per-file phase): it is patched where it is defined."""
    seen: list[str] = []
    real = analysis.analyze_file

    def counted(source_file, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(source_file.relpath)
        return real(source_file, *args, **kwargs)

    monkeypatch.setattr(analysis, "analyze_file", counted)
    return seen
