"""Items 6-8 of issue 25: a hostile tree never crashes or hangs a scan.

6. An unreadable folder (mode 000, or readable but not searchable) is one
   notification and the scan goes on; an excluded one is not even looked at.
7. Brackets nested deeper than CPython allows are a parse failure found by a token
   scan before LibCST sees the file; a worker that dies is replaced by fresh workers
   that take the chunk file by file and name the file that kills them.
8. A FIFO (named on the command line, or swapped in after discovery) and an endless
   device are never read: files are opened non-blocking, checked with fstat and read
   up to a configurable size.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import libcst as cst
import pytest
from click.testing import CliRunner, Result

from integ_lint import engine, executor
from integ_lint.cli import main
from integ_lint.config import load_config
from integ_lint.discovery import discover
from integ_lint.executor import _start_method, analyze_files
from integ_lint.findings import Severity
from integ_lint.rule import FileRule

RUN = "import asyncio\nasyncio.run(main())\n"
CONFIG = '[tool.integ-lint]\nselect = ["IL201"]\n'
NO_CACHE_J2 = ("--no-cache", "-j", "2")
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def project(root: Path, config: str = CONFIG) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(config)
    (root / "a.py").write_text(RUN)
    return root


def notes(result: Result) -> list[dict[str, Any]]:
    notifications: list[dict[str, Any]] = json.loads(result.stdout)["notifications"]
    return notifications


# -- 6. unreadable folders -----------------------------------------------------------
@pytest.fixture
def lock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Make folders unreadable: really (chmod) for an ordinary user; for root, whom
    permissions do not stop, by refusing, as the kernel would, to list the folder
    (mode 000) or to reach anything inside it (000 and "readable, not searchable")."""
    locked: dict[str, int] = {}
    changed: list[tuple[Path, int]] = []

    def lock_folder(folder: Path, mode: int) -> None:
        if not IS_ROOT:
            changed.append((folder, stat.S_IMODE(os.stat(folder).st_mode)))
            os.chmod(folder, mode)
        locked[os.path.abspath(folder)] = mode

    if IS_ROOT:

        def refused(path: Any, listing: bool) -> bool:
            raw = os.fsdecode(path) if not isinstance(path, int) else ""
            name = os.path.abspath(raw)
            for folder, mode in locked.items():
                # "folder/." is reached through the folder, like "folder/x".
                inside = name.startswith(folder + os.sep) or (
                    name == folder and raw.endswith(os.sep + ".")
                )
                if inside or (listing and name == folder and not mode & 0o400):
                    return True
            return False

        def guard(function: Any, listing: bool) -> Any:
            def guarded(path: Any = ".", *args: Any, **kwargs: Any) -> Any:
                if refused(path, listing):
                    raise PermissionError(13, "Permission denied", os.fsdecode(path))
                return function(path, *args, **kwargs)

            return guarded

        for name in ("scandir", "listdir"):
            monkeypatch.setattr(os, name, guard(getattr(os, name), True))
        for name in ("stat", "lstat", "open"):
            monkeypatch.setattr(os, name, guard(getattr(os, name), False))
    yield lock_folder
    for folder, mode in changed:
        os.chmod(folder, mode)


@pytest.mark.parametrize("mode", [0o000, 0o444], ids=["mode-000", "readable-not-searchable"])
def test_an_unreadable_folder_is_one_notification(tmp_path: Path, lock: Any, mode: int) -> None:
    root = project(tmp_path / "proj")
    locked = root / "locked"
    locked.mkdir()
    (locked / "b.py").write_text(RUN)
    (locked / "sub").mkdir()
    lock(locked, mode)
    result = cli(
        "check", str(root), "--format", "json", "--no-cache", "-j", "1", "--fail-on-incomplete"
    )
    assert result.exit_code == 3, result.output
    assert [f["project_path"] for f in json.loads(result.stdout)["findings"]] == ["a.py"]
    [note] = notes(result)
    assert (
        note["project_path"] == "locked"
        and "cannot read folder: Permission denied" in note["message"]
    )


def test_an_excluded_unreadable_folder_is_not_looked_at(tmp_path: Path, lock: Any) -> None:
    root = project(tmp_path / "proj", CONFIG + "extend-exclude = ['locked']\n")
    locked = root / "locked"
    locked.mkdir()
    (locked / "b.py").write_text(RUN)
    lock(locked, 0o000)
    result = cli("check", str(root), "--format", "json", "--no-cache", "-j", "1")
    assert result.exit_code == 1, result.output
    assert notes(result) == []


# -- 7. nesting that crashes native code; workers that die --------------------------
def test_brackets_nested_too_deep_are_a_parse_failure_not_a_crash(tmp_path: Path) -> None:
    """In a subprocess: without the check, LibCST's native parser segfaults (and with
    -j 2 the main process died too re-running the chunk)."""
    root = project(tmp_path / "proj")
    package = root / "pkg"
    package.mkdir()
    for index in range(10):
        (package / f"m{index}.py").write_text(RUN)
    (package / "deep.py").write_text("x = " + "(" * 1300 + "1" + ")" * 1300 + "\n")
    (package / "calls.py").write_text("x = " + "getattr(" * 1000 + "o" + ", 'a')" * 1000 + "\n")
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "integ_lint",
            "check",
            ".",
            "--format",
            "json",
            *NO_CACHE_J2,
            "--fail-on-incomplete",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert process.returncode == 3, process.stderr[-2000:]
    data = json.loads(process.stdout)
    assert len({f["project_path"] for f in data["findings"]}) == 11  # a.py and pkg/m*.py
    deep = {n["project_path"]: n for n in data["notifications"]}
    assert set(deep) == {"pkg/deep.py", "pkg/calls.py"}
    assert deep["pkg/deep.py"]["kind"] == "parse-error"
    assert "nested more than 200 deep" in deep["pkg/deep.py"]["message"]
    assert deep["pkg/deep.py"]["line"] == 1 and deep["pkg/deep.py"]["column"] == 205


MAIN_PID = os.getpid()
RAN_IN_MAIN: list[str] = []


class DieOnCall(FileRule):
    """Kills its worker process on ``die_here()``; never runs it in the main process.

    **What it does**: test rule.
    """

    code = "ZZ951"
    name = "die-on-call"
    family = "test"
    severity = Severity.WARNING

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "die_here":
            if os.getpid() == MAIN_PID:
                RAN_IN_MAIN.append(self.context.relpath)
                return
            os.kill(os.getpid(), signal.SIGKILL)
        if isinstance(node.func, cst.Name) and node.func.value == "ok":
            self.report(node, "seen")


@pytest.mark.skipif(_start_method() != "fork", reason="the test rule reaches workers by fork")
def test_a_file_that_kills_its_worker_is_reported_and_never_run_in_process(
    tmp_path: Path,
) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text("[tool.integ-lint]\n")
    for index in range(30):
        (root / f"m{index:02}.py").write_text("ok()\n")
    (root / "killer.py").write_text("ok()\ndie_here()\n")
    config = load_config([root], None, None)
    files = discover([root], config.root, exclude=[], respect_gitignore=False)
    RAN_IN_MAIN.clear()
    results = analyze_files(files, config, [DieOnCall], [], jobs=2, use_cache=False)
    assert RAN_IN_MAIN == []
    by_path = {r.relpath: r for r in results}
    assert len(by_path) == 31
    killer = by_path.pop("killer.py")
    assert killer.findings == []
    [note] = killer.notifications
    assert note.makes_run_incomplete and "killed its worker process" in note.message
    assert all(len(r.findings) == 1 and r.notifications == [] for r in by_path.values())


# -- 8. FIFOs, devices, sizes ----------------------------------------------------------
def run_with_timeout(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "integ_lint", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_a_symlink_to_a_fifo_named_on_the_command_line_does_not_hang(tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    os.mkfifo(tmp_path / "pipe")
    (root / "b.py").symlink_to(tmp_path / "pipe")
    process = run_with_timeout(
        "check",
        str(root / "a.py"),
        str(root / "b.py"),
        "--format",
        "json",
        "--no-cache",
        "--fail-on-incomplete",
    )
    assert process.returncode == 3, process.stderr
    data = json.loads(process.stdout)
    [note] = data["notifications"]
    assert note["project_path"] == "b.py" and "not a regular file" in note["message"]
    assert [f["project_path"] for f in data["findings"]] == ["a.py"]


def test_a_file_swapped_for_a_fifo_after_discovery_does_not_hang(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path / "proj")
    (root / "b.py").write_text(RUN)
    real_analyze_files = executor.analyze_files

    def swap_then_analyze(*args: Any, **kwargs: Any) -> Any:
        (root / "b.py").unlink()
        os.mkfifo(root / "b.py")
        return real_analyze_files(*args, **kwargs)

    monkeypatch.setattr(engine, "analyze_files", swap_then_analyze)
    done: list[Result] = []
    worker = threading.Thread(
        target=lambda: done.append(cli("check", str(root), "--format", "json", "-j", "1")),
        daemon=True,
    )
    worker.start()
    worker.join(120)
    assert done, "the scan hung on a FIFO"
    [note] = notes(done[0])
    assert note["project_path"] == "b.py" and "not a regular file" in note["message"]


def test_an_endless_device_is_not_read(tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    (root / "zero.py").symlink_to("/dev/zero")
    process = run_with_timeout(
        "check", str(root / "zero.py"), "--format", "json", "--fail-on-incomplete"
    )
    assert process.returncode == 3, process.stderr
    [note] = json.loads(process.stdout)["notifications"]
    assert "not a regular file" in note["message"]


def test_files_over_the_size_limit_are_not_read(tmp_path: Path) -> None:
    root = project(tmp_path / "proj", CONFIG + "max-file-size-kb = 4\n")
    (root / "big.py").write_text("x = 1\n" * 1000 + RUN)
    result = cli(
        "check", str(root), "--format", "json", "--no-cache", "-j", "1", "--fail-on-incomplete"
    )
    assert result.exit_code == 3
    [note] = notes(result)
    assert note["project_path"] == "big.py"
    assert "larger than max-file-size-kb (4 KiB)" in note["message"]
    assert [f["project_path"] for f in json.loads(result.stdout)["findings"]] == ["a.py"]


def test_a_fifo_named_pyproject_toml_does_not_hang_the_layout(tmp_path: Path) -> None:
    """Without a config file the layout still reads the root's pyproject.toml for the
    source roots its packaging declares: a FIFO there is skipped, never opened for a
    blocking read."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / "a.py").write_text(RUN)
    os.mkfifo(root / "pyproject.toml")
    process = run_with_timeout("check", str(root), "--select", "IL201", "--no-cache")
    assert process.returncode == 1, process.stderr
    assert "a.py:2:1" in process.stdout
