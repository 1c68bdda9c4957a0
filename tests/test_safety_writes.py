"""Item 3 of issue 25: writes go where the user means, and keep what the user had.

Devices, FIFOs and ``-`` are written to, never replaced; a symlink keeps pointing at
its (rewritten) target; hard links stay linked; the mode and owner of a replaced file
are kept; new files follow the umask; temporary files go away on errors and SIGTERM,
and the ones a ``kill -9`` leaves behind are removed by a later write.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from integ_lint.cli import main
from integ_lint.files.atomic import write_atomic

RUN = "import asyncio\nasyncio.run(main())\n"
# IL201 (asyncio.run in library code) is opt-in: select it, so that RUN is a finding.
CONFIG = '[tool.integ-lint]\nselect = ["IL201"]\n'


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text(CONFIG)
    (root / "a.py").write_text(RUN)
    return root


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_report_to_a_fifo_is_written_through(project: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as reader:
            received.append(reader.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    result = cli("check", str(project), "--format", "json", "--no-cache", "-o", str(fifo))
    reader.join(30)
    assert result.exit_code == 1, result.output
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert json.loads(received[0])["findings"]
    assert leftovers(tmp_path) == []


def test_report_to_a_terminal_is_written_through(project: Path, tmp_path: Path) -> None:
    master, slave = os.openpty()
    try:
        # Through a link outside /dev: the character device itself decides.
        link = tmp_path / "tty"
        link.symlink_to(os.ttyname(slave))
        result = cli("check", str(project), "--format", "concise", "--no-cache", "-o", str(link))
        assert result.exit_code == 1, result.output
        assert stat.S_ISCHR(os.stat(link).st_mode) and link.is_symlink()
        data = b""
        while b"IL201" not in data:
            data += os.read(master, 4096)
        assert b"a.py:2" in data
    finally:
        os.close(master)
        os.close(slave)


def test_report_to_dash_goes_to_stdout(project: Path) -> None:
    result = cli("check", str(project), "--format", "json", "--no-cache", "-o", "-")
    assert json.loads(result.stdout)["findings"]
    assert not Path("-").exists()


def test_a_symlink_stays_a_link_and_its_target_is_written(tmp_path: Path) -> None:
    real = tmp_path / "real" / "report.json"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "report.json"
    link.symlink_to(real)
    write_atomic(link, "new")
    assert link.is_symlink() and real.read_text() == "new"
    assert leftovers(tmp_path) == [] and leftovers(real.parent) == []


def test_hard_links_stay_linked(tmp_path: Path) -> None:
    first = tmp_path / "a.py"
    first.write_text("old")
    second = tmp_path / "b.py"
    os.link(first, second)
    write_atomic(first, "new")
    assert second.read_text() == "new" and os.stat(first).st_ino == os.stat(second).st_ino


def test_mode_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "f.py"
    target.write_text("old")
    os.chmod(target, 0o751)
    write_atomic(target, "new")
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o751


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_owner_is_kept(tmp_path: Path) -> None:
    target = tmp_path / "f.py"
    target.write_text("old")
    os.chown(target, 4321, 4322)
    write_atomic(target, "new")
    info = os.stat(target)
    assert (info.st_uid, info.st_gid) == (4321, 4322)


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_new_files_follow_the_umask(tmp_path: Path, umask: int, mode: int) -> None:
    previous = os.umask(umask)
    try:
        write_atomic(tmp_path / "new.json", "{}")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(tmp_path / "new.json").st_mode) == mode


def _child(code: str, cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", code], cwd=cwd)


def test_sigterm_during_a_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    code = (
        "import os, signal\n"
        "import integ_lint.files.atomic as atomic\n"
        "os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGTERM)\n"
        "atomic.write_atomic('f.py', 'new')\n"
    )
    (tmp_path / "f.py").write_text("old")
    child = _child(code, tmp_path)
    assert child.wait(60) == 128 + signal.SIGTERM
    assert (tmp_path / "f.py").read_text() == "old"
    assert leftovers(tmp_path) == []


def test_a_later_write_removes_what_kill_9_left(tmp_path: Path) -> None:
    code = (
        "import os, time\n"
        "import integ_lint.files.atomic as atomic\n"
        "def hang(fd):\n"
        "    open('ready', 'w').close()\n"
        "    time.sleep(60)\n"
        "os.fsync = hang\n"
        "atomic.write_atomic('f.py', 'new')\n"
    )
    (tmp_path / "f.py").write_text("old")
    child = _child(code, tmp_path)
    deadline = time.monotonic() + 60
    while not (tmp_path / "ready").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    child.kill()
    child.wait()
    stale = leftovers(tmp_path)
    assert len(stale) == 1 and ".integ-lint-" in stale[0]
    assert (tmp_path / "f.py").read_text() == "old"
    write_atomic(tmp_path / "g.py", "other")
    assert leftovers(tmp_path) == []
