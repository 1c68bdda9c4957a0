"""``check --watch``: run the check again whenever a Python file or a config file of
the project changes.

Changes are found by polling ``stat`` (mtime, size, inode) of the project's ``.py``,
``.pyi``, ``pyproject.toml``, ``setup.cfg`` and ``.importlinter`` files twice a second:
no dependency, the same on every platform, and cheap next to a run (a few thousand
``stat`` calls). Each run uses the per-file cache, so only changed files are analysed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from integ_lint.engine.discovery import SKIPPED_DIR_NAMES

WATCHED_SUFFIXES = (".py", ".pyi")
WATCHED_NAMES = frozenset({"pyproject.toml", "setup.cfg", ".importlinter"})
Snapshot = dict[str, tuple[int, int, int]]


def snapshot(roots: Iterable[Path]) -> Snapshot:
    """``stat`` signatures of every watched file below ``roots`` (folders a scan
    skips, such as ``.git`` and virtual environments, are skipped here too)."""
    found: Snapshot = {}
    pending = [os.fspath(root) for root in roots]
    while pending:
        current = pending.pop()
        try:
            if not os.path.isdir(current):
                _record(found, current)
                continue
            with os.scandir(current) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        if entry.name not in SKIPPED_DIR_NAMES and not entry.name.startswith("."):
                            pending.append(entry.path)
                    elif entry.name.endswith(WATCHED_SUFFIXES) or entry.name in WATCHED_NAMES:
                        _record(found, entry.path)
        except OSError:
            continue  # unreadable or vanished: the run itself reports such folders
    return found


def _record(found: Snapshot, path: str) -> None:
    try:
        info = os.stat(path)
    except OSError:
        return
    found[path] = (info.st_mtime_ns, info.st_size, info.st_ino)


def changed_paths(before: Snapshot, after: Snapshot) -> list[str]:
    """Files added, removed or changed between two snapshots, sorted."""
    return sorted(
        path for path in before.keys() | after.keys() if before.get(path) != after.get(path)
    )


def watch(
    roots: Iterable[Path],
    run_once: Callable[[], None],
    announce: Callable[[str], None],
    interval: float = 0.5,
    max_runs: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Run ``run_once`` now and after every change below ``roots``, until interrupted
    (or ``max_runs`` runs, for tests)."""
    root_list = list(roots)
    runs = 0
    while True:
        before = snapshot(root_list)
        run_once()
        runs += 1
        if max_runs is not None and runs >= max_runs:
            return
        announce("Watching for changes (Ctrl-C to stop)...")
        while True:
            sleep(interval)
            after = snapshot(root_list)
            changed = changed_paths(before, after)
            if changed:
                shown = ", ".join(os.path.relpath(p) for p in changed[:3])
                more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
                announce(f"Changed: {shown}{more}. Checking again.")
                break
