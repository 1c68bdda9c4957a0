"""Writing files so that readers never see half a file and nothing is lost on a crash."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomic(
    path: Path, data: bytes | str, encoding: str = "utf-8", durable: bool = True
) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it into place,
    keeping the original file's permission bits. ``durable=False`` skips the fsync
    (for caches: readers still never see half a file, a crash may lose the write)."""
    payload = data.encode(encoding) if isinstance(data, str) else data
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        with contextlib.suppress(FileNotFoundError):
            os.chmod(temp_name, os.stat(path).st_mode & 0o7777)
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
