"""Writing files so that readers never see half a file and nothing is lost on a crash.

What :func:`write_atomic` promises (docs/robustness.md, "Your files"):

* ``-`` is standard output. A character device, FIFO or socket (``/dev/null``, a
  terminal, a named pipe), and anything under ``/dev`` or ``/proc`` (``/dev/stdout``),
  is written to directly: never replaced by a regular file.
* A symlink is resolved and its target replaced; the link stays a link.
* A regular file is replaced by renaming a temporary file beside it, so readers see
  the old or the new content, never half of it. The replacement keeps the old file's
  mode and, where the system allows, its owner and group. A file with several hard
  links is rewritten in place instead (renaming would cut it off from its other
  names).
* A new file gets the mode the user's umask gives (``0o666 & ~umask``), not 0600.
* The temporary file is removed on every exit path Python sees (errors, Ctrl-C,
  SIGTERM). Its name (``.<name>.integ-lint-<pid>-<random>.tmp``) lets a later write
  into the same folder remove the ones a ``kill -9`` left behind.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

TEMP_MARK = ".integ-lint-"
# The name of a temporary file integ-lint writes (group 1: the writer's pid).
TEMP_NAME = re.compile(r"^\..*\.integ-lint-(\d+)-[0-9a-f]{8}\.tmp$")
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
# A temporary file older than this is stale even when its pid is alive again (reused).
STALE_TEMP_SECONDS = 3600.0
_swept: set[str] = set()


def current_umask() -> int:
    """The process umask, read without changing it where the system says it."""
    with (
        contextlib.suppress(OSError, ValueError),
        open("/proc/self/status", encoding="ascii") as status,
    ):
        for line in status:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _writes_through(path: str) -> bool:
    """Whether ``path`` must be written to directly rather than replaced."""
    if path.startswith(("/dev/", "/proc/")):
        return True
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISBLK(mode)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def remove_stale_temp_files(directory: Path | str) -> int:
    """Remove temporary files that an earlier, killed run left in ``directory`` (its
    pid is gone, or the file is over an hour old); return how many were removed."""
    removed = 0
    now = time.time()
    with contextlib.suppress(OSError), os.scandir(directory) as entries:
        for entry in entries:
            match = TEMP_NAME.match(entry.name)
            if match is None or not entry.is_file(follow_symlinks=False):
                continue
            try:
                age = now - entry.stat(follow_symlinks=False).st_mtime
            except OSError:
                continue
            if _pid_alive(int(match.group(1))) and age < STALE_TEMP_SECONDS:
                continue
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed += 1
    return removed


@contextlib.contextmanager
def _sigterm_raises() -> Iterator[None]:
    """Turn SIGTERM into SystemExit while a temporary file exists, so that it is
    removed (only where the default handler would have killed the process)."""
    installed = False
    previous: object = None
    if threading.current_thread() is threading.main_thread():
        with contextlib.suppress(ValueError, OSError):
            previous = signal.getsignal(signal.SIGTERM)
            if previous == signal.SIG_DFL:

                def terminate(signum: int, frame: object) -> None:
                    raise SystemExit(128 + signum)

                signal.signal(signal.SIGTERM, terminate)
                installed = True
    try:
        yield
    finally:
        if installed:
            with contextlib.suppress(ValueError, OSError):
                signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _write_fd(fd: int, payload: bytes) -> None:
    view = memoryview(payload)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _write_through(path: str, payload: bytes) -> None:
    if path == "-":
        sys.stdout.flush()
        stream = getattr(sys.stdout, "buffer", None)
        if stream is not None:
            stream.write(payload)
            stream.flush()
        else:  # a text-only stdout (tests capturing output)
            sys.stdout.write(payload.decode("utf-8", "replace"))
            sys.stdout.flush()
        return
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o666)
    try:
        _write_fd(fd, payload)
    finally:
        os.close(fd)


def _write_in_place(path: str, payload: bytes, durable: bool) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0))
    try:
        _write_fd(fd, payload)
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(
    path: Path | str,
    data: bytes | str,
    encoding: str = "utf-8",
    durable: bool = True,
    sweep_stale: bool = True,
    follow_links: bool = True,
) -> None:
    """Write ``data`` to ``path`` as the module docstring describes. ``durable=False``
    skips the fsync (for caches: readers still never see half a file, a crash may
    lose the write); ``sweep_stale=False`` skips removing stale temporary files from
    the folder (the cache prunes its own). ``follow_links=False`` always replaces
    ``path`` itself with a regular file (a symlink, FIFO or device there is replaced,
    never written through): for folders integ-lint owns, such as the cache."""
    payload = data.encode(encoding) if isinstance(data, str) else data
    name = os.fspath(path)
    if follow_links and (name == "-" or _writes_through(name)):
        _write_through(name, payload)
        return
    target = os.path.realpath(name) if follow_links and os.path.islink(name) else name
    directory = os.path.dirname(target) or "."
    try:
        old: os.stat_result | None = os.stat(target) if follow_links else os.lstat(target)
    except FileNotFoundError:
        old = None
    if old is not None and stat.S_ISDIR(old.st_mode):
        raise IsADirectoryError(21, "Is a directory", name)
    if old is not None and not stat.S_ISREG(old.st_mode):
        old = None  # replaced (follow_links=False): nothing of it to keep
    if old is not None and old.st_nlink > 1 and follow_links:
        _write_in_place(target, payload, durable)
        return
    if sweep_stale and directory not in _swept:
        _swept.add(directory)
        remove_stale_temp_files(directory)

    def keep_and_sync(fd: int) -> None:
        if old is not None:
            with contextlib.suppress(OSError):
                os.fchown(fd, old.st_uid, old.st_gid)
            os.fchmod(fd, stat.S_IMODE(old.st_mode))
        else:
            os.fchmod(fd, 0o666 & ~current_umask())
        if durable:
            os.fsync(fd)

    replace_with_new_file(target, payload, 0o600, keep_and_sync)


def replace_with_new_file(
    target: str,
    payload: bytes,
    mode: int = 0o666,
    finish: Callable[[int], None] | None = None,
) -> None:
    """Replace ``target`` with a new file holding ``payload``: written to a temporary
    file beside it (created with ``mode``, less the umask, and named as ``TEMP_NAME``
    says, so that a sweep or the cache's prune finds one a ``kill -9`` left),
    ``finish(fd)`` run on it, then renamed over ``target`` (a symlink there is
    replaced, never followed). The temporary file is removed on an error or SIGTERM.
    No fsync and nothing of an old file kept: :func:`write_atomic`'s ``finish`` adds
    those for a user's file; the cache writes its entries with this alone."""
    directory = os.path.dirname(target) or "."
    base = os.path.basename(target)[:80]
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_CLOEXEC | _O_NOFOLLOW
    temp_name = ""
    with _sigterm_raises():
        try:
            for _ in range(100):
                temp_name = os.path.join(
                    directory, f".{base}{TEMP_MARK}{os.getpid()}-{secrets.token_hex(4)}.tmp"
                )
                try:
                    fd = os.open(temp_name, flags, mode)
                    break
                except FileExistsError:
                    continue
            else:  # pragma: no cover - 100 collisions of 32 random bits
                temp_name = ""  # the last name is another writer's file
                raise FileExistsError(17, "cannot create a temporary file", directory)
            try:
                _write_fd(fd, payload)
                if finish is not None:
                    finish(fd)
            finally:
                os.close(fd)
            os.replace(temp_name, target)
            temp_name = ""
        finally:
            if temp_name:
                with contextlib.suppress(OSError):
                    os.unlink(temp_name)
