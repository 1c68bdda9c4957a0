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
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from integ_lint.cli import main

RUN = "import asyncio\nasyncio.run(main())\n"
CONFIG = '[tool.integ-lint]\nselect = ["IL201"]\n'
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
    result = cli("check", str(root), "--format", "json", "--no-cache", "-j", "1")
    assert result.exit_code == 3, result.output
    assert [f["path"] for f in json.loads(result.stdout)["findings"]] == ["a.py"]
    [note] = notes(result)
    assert note["path"] == "locked" and "cannot read folder: Permission denied" in note["message"]


def test_an_excluded_unreadable_folder_is_not_looked_at(tmp_path: Path, lock: Any) -> None:
    root = project(tmp_path / "proj", CONFIG + "extend-exclude = ['locked']\n")
    locked = root / "locked"
    locked.mkdir()
    (locked / "b.py").write_text(RUN)
    lock(locked, 0o000)
    result = cli("check", str(root), "--format", "json", "--no-cache", "-j", "1")
    assert result.exit_code == 1, result.output
    assert notes(result) == []
