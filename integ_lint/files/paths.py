"""Relative path names that can always be printed, encoded and compared."""

from __future__ import annotations

import os
import re
from pathlib import Path

_SURROGATE = re.compile("[\ud800-\udfff]")


def relative_path(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` with forward slashes, always valid Unicode (see
    :func:`printable_path`): reports, caches and baselines can encode it."""
    try:
        rel = os.path.relpath(path, root)
    except ValueError:  # another drive on Windows
        rel = str(path)
    return printable_path(rel.replace(os.sep, "/"))


class RelativeNamer:
    """:func:`relative_path` for many paths under one root, by slicing the text of
    normalised absolute paths (discovery names every file and folder of a project:
    ``os.path.relpath`` normalises both sides each time)."""

    def __init__(self, root: Path | str) -> None:
        self.root = os.path.abspath(root)
        self.prefix = self.root if self.root.endswith(os.sep) else self.root + os.sep

    def __call__(self, path: str) -> str:
        """``path`` (absolute and normalised, as discovery builds it) relative to the root."""
        if path.startswith(self.prefix):
            rel = path[len(self.prefix) :]
            if os.sep != "/":
                rel = rel.replace(os.sep, "/")
            return printable_path(rel)
        return relative_path(Path(path), Path(self.root))


def printable_path(name: str) -> str:
    """``name`` with the bytes of a non-UTF-8 file name (which Python decodes to lone
    surrogates) written as ``\\xNN`` escapes, so that it can be printed and encoded."""
    if not has_undecodable_bytes(name):
        return name
    try:
        raw = os.fsencode(name)
    except UnicodeError:
        return name.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


def has_undecodable_bytes(name: str) -> bool:
    """Whether ``name`` came from a file name that is not valid in the file system
    encoding (it then holds lone surrogates, which no encoder accepts)."""
    if name.isascii():
        return False  # the common case, answered in C
    return _SURROGATE.search(name) is not None
