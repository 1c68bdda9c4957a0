"""The configured ``source-roots``: where module names start, as the user wrote them."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

SOURCE_ROOTS_KEY = "source-roots"


class LayoutError(Exception):
    """A configured source root that cannot be used (one line naming the key)."""


def configured_roots(root: Path, entries: Sequence[str], where: str) -> list[Path]:
    """The configured ``source-roots`` as absolute folders; :class:`LayoutError` for an
    entry that does not exist or lies outside the project."""
    roots = []
    for entry in entries:
        candidate = Path(os.path.normpath(root / entry))
        if candidate != root and root not in candidate.parents:
            raise LayoutError(
                f"{where}: tool.integ-lint.{SOURCE_ROOTS_KEY}: {entry!r} is outside the "
                f"project ({root})"
            )
        if not candidate.is_dir():
            raise LayoutError(
                f"{where}: tool.integ-lint.{SOURCE_ROOTS_KEY}: {entry!r} is not a folder"
            )
        roots.append(candidate)
    return roots
