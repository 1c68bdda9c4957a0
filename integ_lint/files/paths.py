"""Relative path names that can always be printed, encoded and compared."""

from __future__ import annotations

import os
from pathlib import Path


def relative_path(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` with forward slashes, always valid Unicode (see
    :func:`printable_path`): reports, caches and baselines can encode it."""
    try:
        rel = os.path.relpath(path, root)
    except ValueError:  # another drive on Windows
        rel = str(path)
    return printable_path(rel.replace(os.sep, "/"))


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
    return any("\ud800" <= char <= "\udfff" for char in name)
