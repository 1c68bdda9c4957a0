"""What a run reads of the installed distributions: the rule packs' entry points and
LibCST's version (a cache key's part), kept in the user's cache folder under a stamp of
the folders on ``sys.path``, so that a run where nothing was installed neither imports
nor reads ``importlib.metadata``. Plain JSON: loading it runs nothing."""

from __future__ import annotations

import contextlib
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any, cast

from integ_lint.engine.user_files import user_key_file
from integ_lint.files.atomic import write_atomic

ENTRY_POINT_GROUP = "integ_lint.rules"
# The layout of the file :func:`installed` keeps; another is read again from metadata.
INSTALLED_FORMAT = 1


def installed_file() -> Path:
    """Where :func:`installed` keeps what it read (next to the rule manifest)."""
    return user_key_file().parent / "installed.json"


def _path_stamp() -> list[list[Any]]:
    """Each folder (or zip) on ``sys.path`` with its modification time (None: absent)
    and, for a folder, the modification time of each of its distributions' entry
    points (``*.dist-info/entry_points.txt``, ``*.egg-info`` too): what
    ``importlib.metadata`` would read them from, a distribution installed, removed
    or whose entry points were rewritten in place gives another stamp."""
    stamp: list[list[Any]] = []
    for entry in sys.path:
        folder = entry or "."
        try:
            info = os.stat(folder)
        except OSError:
            stamp.append([entry, None, []])
            continue
        distributions: list[list[Any]] = []
        if stat.S_ISDIR(info.st_mode):
            with contextlib.suppress(OSError), os.scandir(folder) as listing:
                for item in listing:
                    if item.name.endswith((".dist-info", ".egg-info")):
                        try:
                            points = os.stat(os.path.join(item.path, "entry_points.txt"))
                            distributions.append([item.name, points.st_mtime_ns])
                        except OSError:
                            distributions.append([item.name, None])
        stamp.append([entry, info.st_mtime_ns, sorted(distributions)])
    return stamp


_INSTALLED: dict[str, dict[str, Any]] = {}  # by the sys.path stamp, for this process


def installed() -> dict[str, Any]:
    """The rule packs' entry points (``"packs"``: [name, value] pairs) and LibCST's
    version (``"libcst"``), read from the installed distributions' metadata when the
    folders on ``sys.path`` changed since they were last read, else from
    :func:`installed_file` (reading the metadata costs a run about 25 ms, importing
    ``importlib.metadata`` included). Plain JSON: loading it runs nothing; a pack it
    names is imported by its installed entry point only."""
    stamp = _path_stamp()
    known = _INSTALLED.get(json.dumps(stamp))
    if known is not None:
        return known
    data = _read_installed(stamp)
    _INSTALLED[json.dumps(stamp)] = data
    return data


def _read_installed(stamp: list[list[Any]]) -> dict[str, Any]:
    path = installed_file()
    with contextlib.suppress(OSError, ValueError):
        data = json.loads(path.read_text(encoding="utf-8"))
        if (
            isinstance(data, dict)
            and data.get("format") == INSTALLED_FORMAT
            and data.get("sys.path") == stamp
            and isinstance(data.get("libcst"), str)
            and isinstance(data.get("packs"), list)
            and all(
                isinstance(pack, list) and len(pack) == 2 and all(isinstance(p, str) for p in pack)
                for pack in data["packs"]
            )
        ):
            return cast(dict[str, Any], data)
    from importlib.metadata import PackageNotFoundError, entry_points, version

    try:
        libcst_version = version("libcst")
    except PackageNotFoundError:
        libcst_version = "?"
    packs = [[entry.name, entry.value] for entry in entry_points(group=ENTRY_POINT_GROUP)]
    data = {"format": INSTALLED_FORMAT, "sys.path": stamp, "libcst": libcst_version, "packs": packs}
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(data), durable=False)
    return data
