"""Item 5 of issue 25: git runs inside the scanned repository, but none of the
commands its ``.git/config``, ``.gitattributes`` or hooks configure ever runs
(fsmonitor, clean/smudge/process filters, textconv, diff drivers, external diff,
index hooks, pager)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from integ_lint.cli import main

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

RUN = "import asyncio\nasyncio.run(main())\n"
# IL201 (asyncio.run in library code) is opt-in: select it, so that RUN is a finding.
CONFIG = '[tool.integ-lint]\nselect = ["IL201"]\n'


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def hostile_repository(root: Path, markers: Path) -> None:
    root.mkdir()
    git(root, "init", "-q", ".")
    git(root, "config", "user.email", "a@example.com")
    git(root, "config", "user.name", "a")
    (root / "pyproject.toml").write_text(CONFIG)
    (root / "a.py").write_text(RUN)
    (root / "ignored.py").write_text(RUN)
    (root / ".gitignore").write_text("ignored.py\n")
    (root / ".gitattributes").write_text("*.py filter=evil diff=evil\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "init")

    def marker(name: str) -> str:
        return f"touch {markers / name}"

    settings = {
        "core.fsmonitor": f"{marker('fsmonitor')}; false",
        "core.pager": marker("pager"),
        "filter.evil.clean": f"sh -c '{marker('clean')}; cat'",
        "filter.evil.smudge": f"sh -c '{marker('smudge')}; cat'",
        "filter.evil.process": marker("process"),
        "filter.evil.required": "true",
        "diff.evil.textconv": f"sh -c '{marker('textconv')}; cat \"$0\"'",
        "diff.evil.command": marker("diff-command"),
        "diff.external": marker("external-diff"),
        "core.sshCommand": marker("ssh"),
        "credential.helper": f"!{marker('credential')}",
    }
    for key, value in settings.items():
        git(root, "config", key, value)
    hooks = root / ".git" / "hooks"
    hooks.mkdir(exist_ok=True)
    for hook in ("post-index-change", "reference-transaction", "post-checkout", "pre-commit"):
        path = hooks / hook
        path.write_text(f"#!/bin/sh\n{marker('hook-' + hook)}\n")
        path.chmod(0o755)
    # An edited, racily clean file: git must look at its content to compare it.
    (root / "a.py").write_text(RUN.replace("main()", "other()"))
    (root / "b.py").write_text(RUN)  # untracked
    os.utime(root / "a.py", (1_600_000_000, 1_600_000_000))


def cli(root: Path, *args: str) -> Result:
    old = Path.cwd()
    os.chdir(root)
    try:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


def test_no_configured_git_command_runs(tmp_path: Path) -> None:
    markers = tmp_path / "markers"
    markers.mkdir()
    root = tmp_path / "repo"
    hostile_repository(root, markers)
    check = cli(root, "check", ".", "--format", "concise", "--no-cache", "-j", "1")
    assert check.exit_code == 1, check.output
    reported = {line.split(":")[0] for line in check.stdout.splitlines()}
    assert reported == {"a.py", "b.py"}  # git was asked: ignored.py is ignored
    changed = cli(
        root, "check", ".", "--format", "concise", "--no-cache", "-j", "1",
        "--changed-since", "HEAD", "--changed-lines",
    )  # fmt: skip
    assert changed.exit_code == 1, changed.output
    assert {line.split(":")[0] for line in changed.stdout.splitlines()} == {"a.py", "b.py"}
    audit = cli(root, "audit", ".", "--component", "x", "--out-dir", str(tmp_path / "certs"))
    assert audit.exit_code in (0, 1, 3), audit.output
    assert sorted(p.name for p in markers.iterdir()) == []
