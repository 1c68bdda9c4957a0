"""Running the per-file phase over many files."""

from __future__ import annotations

from collections.abc import Sequence

from .analysis import FileResult, analyze_file
from .config import Config
from .discovery import SourceFile
from .rule import FactCollector, FileRule


def analyze_files(
    files: Sequence[SourceFile],
    config: Config,
    file_rules: Sequence[type[FileRule]],
    collectors: Sequence[type[FactCollector]],
    jobs: int = 1,
) -> list[FileResult]:
    """Analyse ``files`` and return their results in the same order."""
    return [analyze_file(f, config, file_rules, collectors) for f in files]
