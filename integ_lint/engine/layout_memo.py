"""A memo of what discovery reads from the project's files, so that a warm run does
not read them again.

Inferring the layout reads every Python file of the project (its absolute imports,
:func:`integ_lint.model.layout.scan_file`) and its first lines (a generated-code
header gives the ``generated`` role). The memo keeps, per file, the imports and
whether the header says generated, under the file's ``stat`` signature (mtime_ns,
size, inode, mode: what git's index compares); a file whose signature changed is
read again. The layout computed from the files' imports is kept too, keyed by a
digest of everything :func:`integ_lint.model.layout.finish_layout` reads (the file
list, each file's imports, the starting roots, whether they were configured): a
file added, deleted, renamed, or whose imports changed gives another key.

The memo is one JSON entry (plain data: loading it never runs anything) inside the
cache folder's entry folder, named like a cache entry so that ``cache clean`` and the
size bound treat it as one. It is read and written only in a folder the cache has
already claimed (a real folder holding ``CACHEDIR.TAG`` and the entry folder), never
created here, and replaced atomically. A memo copied from elsewhere matches no file:
the inode and nanosecond modification time of every file must agree. A stamp of the
code that computes these results (this module, the layout, the roles) and of the
Python version keys the whole memo.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from integ_lint import __version__
from integ_lint.config import roles, roots
from integ_lint.config.roles import has_generated_header
from integ_lint.files import globs, source
from integ_lint.files.atomic import write_atomic
from integ_lint.files.source import file_signature, read_regular_file
from integ_lint.model import layout as layout_module
from integ_lint.model.layout import Layout, scan_file

MEMO_FORMAT = 1
# The cache's entry folder (integ_lint.engine.cache.ENTRY_DIR: not imported, the cache
# imports discovery). An entry there is pruned and cleaned with the others.
ENTRY_DIR = "v1"
# Layouts kept: runs that alternate between configs (or a file added and removed
# again) still find theirs.
MAX_LAYOUTS = 4
# A file modified this recently may change again within the file system's timestamp
# granularity without its signature changing: it is read, not memoised (git's "racily
# clean" entries).
RACY_SECONDS = 2.0
MEMO_LIMIT_BYTES = 256 << 20


def _code_stamp() -> str:
    """The version, the Python version and the source files whose code computes what
    the memo holds (any edit to them makes every entry stale)."""
    parts = [f"format={MEMO_FORMAT}", f"integ-lint={__version__}", f"python={sys.version_info}"]
    for module in (layout_module, roles, roots, globs, source, sys.modules[__name__]):
        file = getattr(module, "__file__", None) or ""
        try:
            info = os.stat(file)
            parts.append(f"{module.__name__}:{info.st_size}:{info.st_mtime_ns}")
        except OSError:
            parts.append(f"{module.__name__}:?")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _real_directory(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def memo_path(cache_directory: Path, root: Path) -> Path | None:
    """Where the memo of the project at ``root`` lives in ``cache_directory``, or None
    when that folder is not (yet) a cache folder integ-lint has claimed."""
    try:
        tag = os.lstat(cache_directory / "CACHEDIR.TAG")
    except OSError:
        return None
    if not stat.S_ISREG(tag.st_mode) or not _real_directory(cache_directory):
        return None
    if not _real_directory(cache_directory / ENTRY_DIR):
        return None
    key = hashlib.sha256(
        f"integ-lint discovery memo\0{root}".encode("utf-8", "surrogateescape")
    ).hexdigest()
    return cache_directory / ENTRY_DIR / key[:2] / key


class DiscoveryMemo:
    """The per-file scans and the layouts of one project, loaded from ``path`` (None:
    kept in memory for this run only)."""

    def __init__(self, path: Path | None, root: Path, cache_directory: Path | None = None) -> None:
        self.path = path
        self.root = str(root)
        # A cache folder this run's cache has not claimed yet (a cold run): the memo is
        # stored there once it has (:func:`save_unclaimed_memos`).
        self.cache_directory = cache_directory if path is None else None
        self.stamp = _code_stamp()
        self._old_files: dict[str, Any] = {}
        self._old_layouts: list[Any] = []
        self._files: dict[str, list[Any]] = {}
        self._layouts: list[list[Any]] = []
        self._changed = False
        if path is not None:
            self._load(path)

    def _load(self, path: Path) -> None:
        try:
            data = json.loads(read_regular_file(path, MEMO_LIMIT_BYTES, follow_symlinks=False))
        except (OSError, ValueError):
            return
        if (
            not isinstance(data, dict)
            or data.get("stamp") != self.stamp
            or data.get("root") != self.root
            or not isinstance(data.get("files"), dict)
            or not isinstance(data.get("layouts"), list)
        ):
            return
        self._old_files = data["files"]
        self._old_layouts = data["layouts"]

    # -- files ---------------------------------------------------------------------
    def scan(self, path: Path, relpath: str) -> tuple[set[str], bool]:
        """The absolute imports of the file at ``path`` and whether its head says it
        is generated: from the memo when its signature is unchanged, else read."""
        if self.path is None and self.cache_directory is None:
            # Nothing is kept (--no-cache): no signature to compare or store.
            imports, head = scan_file(path)
            return imports, bool(head) and has_generated_header(head)
        try:
            signature: list[int] | None = list(file_signature(os.stat(path)))
        except OSError:
            signature = None
        old: Any = self._old_files.get(relpath)
        # The signature first: a list of ints equal to it is all the check they need.
        if (
            signature is not None
            and isinstance(old, list)
            and old[:4] == signature
            and _valid_scan(old)
        ):
            self._files[relpath] = old
            return set(old[5]), old[4]
        imports, head = scan_file(path)
        generated = bool(head) and has_generated_header(head)
        racy = signature is not None and time.time_ns() - signature[0] < RACY_SECONDS * 1e9
        # A file that could not be read (or is too large) reads as empty: remembered
        # only when it is empty.
        readable = bool(imports or head) or (signature is not None and signature[1] == 0)
        if signature is not None and not racy and readable:
            self._files[relpath] = [*signature, generated, sorted(imports)]
            self._changed = True
        return imports, generated

    # -- layouts -------------------------------------------------------------------
    def layout_key(
        self,
        files: Sequence[Path],
        starting: Sequence[Path],
        origin: str,
        configured: bool,
        imports: Sequence[set[str]],
    ) -> str:
        """A digest of everything :func:`~integ_lint.model.layout.finish_layout` reads
        (``imports``: those of each of ``files``, in order)."""
        digest = hashlib.sha256()
        header = [self.stamp, self.root, *map(str, starting), origin, str(configured)]
        digest.update(json.dumps(header).encode("utf-8", "surrogateescape"))
        for file, names_of_file in zip(files, imports):
            names = " ".join(sorted(names_of_file))
            digest.update(f"\n{file}\0{names}".encode("utf-8", "surrogateescape"))
        return digest.hexdigest()

    def layout(self, key: str, root: Path) -> Layout | None:
        """The layout remembered under ``key``, or None."""
        for entry in self._old_layouts:
            if not (isinstance(entry, list) and len(entry) == 2 and entry[0] == key):
                continue
            data: Any = entry[1]
            if not isinstance(data, dict):
                return None
            source_roots: Any = data.get("roots")
            origin: Any = data.get("origin")
            warnings: Any = data.get("warnings")
            if not (_strings(source_roots) and isinstance(origin, str) and _strings(warnings)):
                return None
            self._layouts.append(entry)
            return Layout(root, tuple(Path(r) for r in source_roots), origin, tuple(warnings))
        return None

    def remember_layout(self, key: str, layout: Layout) -> None:
        data = {
            "roots": [str(r) for r in layout.source_roots],
            "origin": layout.origin,
            "warnings": list(layout.warnings),
        }
        self._layouts.append([key, data])
        self._changed = True

    # -- storing ---------------------------------------------------------------------
    def save(self) -> None:
        """Store the memo (atomically) when this run read or computed something new:
        the files of this run, and the layout of this run before the recent others."""
        if self.path is None and self.cache_directory is not None:
            self.path = memo_path(self.cache_directory, Path(self.root))
        if self.path is None:
            return
        if not self._changed and len(self._files) == len(self._old_files):
            return  # nothing new, no file gone
        kept = [k for k, _ in self._layouts]
        layouts = self._layouts + [
            entry
            for entry in self._old_layouts
            if isinstance(entry, list) and entry and entry[0] not in kept
        ]
        data = {
            "format": MEMO_FORMAT,
            "stamp": self.stamp,
            "root": self.root,
            "files": self._files,
            "layouts": layouts[:MAX_LAYOUTS],
        }
        text = json.dumps(data, separators=(",", ":"))  # ASCII: any file name encodes
        with contextlib.suppress(OSError):
            shard = self.path.parent
            with contextlib.suppress(FileExistsError):
                os.mkdir(shard)
            if not _real_directory(shard):
                return  # a symlink planted as the shard folder: never written through
            write_atomic(
                self.path,
                text,
                durable=False,
                sweep_stale=False,
                follow_links=False,
            )


def _valid_scan(entry: Any) -> bool:
    return (
        isinstance(entry, list)
        and len(entry) == 6
        and isinstance(entry[4], bool)
        and _strings(entry[5])
    )


def _strings(value: Any) -> bool:
    if not isinstance(value, list):
        return False
    try:
        "".join(value)  # raises unless every item is a str (in C: every file of a run)
    except TypeError:
        return False
    return True


# Memos of runs whose cache folder did not exist yet when discovery ran, by project root.
_UNCLAIMED: dict[str, DiscoveryMemo] = {}


def hold_until_claimed(memo: DiscoveryMemo) -> None:
    """Keep ``memo`` (whose cache folder is not claimed yet) for
    :func:`save_unclaimed_memos`, so that the first warm run after a cold one reads no
    file either."""
    if memo.path is None and memo.cache_directory is not None:
        _UNCLAIMED[memo.root] = memo


def save_unclaimed_memos() -> None:
    """Store the memos held by :func:`hold_until_claimed` in the cache folders the run
    has claimed since (a folder still unclaimed, as with ``--no-cache``, stores nothing)."""
    while _UNCLAIMED:
        _, memo = _UNCLAIMED.popitem()
        memo.save()
