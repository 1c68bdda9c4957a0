"""The project layouts of ``fixtures/layouts`` as the tests scan them.

A stray-copy layout is about one package found twice in a project (a folder copied
beside the original). The repository holds the package once; ``scanned`` makes the
copy, byte for byte, in a scratch folder, so that the copies cannot drift apart.
"""

from __future__ import annotations

import shutil
from pathlib import Path

LAYOUTS = Path(__file__).resolve().parent.parent / "fixtures" / "layouts"
# Layout -> (its package, the folder that holds the stray copy of it).
STRAY_COPIES = {
    "stray_copy": ("pkg/evaluation", "evaluation"),
    "stray_copy_scripts": ("pkg/evaluation", "evaluation"),
}


def scanned(root: Path, scratch: Path) -> Path:
    """The folder to scan for the layout project at ``root``: ``root`` itself, or for a
    stray-copy layout a copy of it under ``scratch`` with the stray copy made."""
    if root.name not in STRAY_COPIES:
        return root
    package, copy = STRAY_COPIES[root.name]
    project = scratch / root.name
    shutil.copytree(root, project, ignore=shutil.ignore_patterns(".integ-lint-cache"))
    shutil.copytree(project / package, project / copy)
    return project
