"""Running the per-file phase over many files."""

from __future__ import annotations

from collections.abc import Callable, Sequence

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
    progress: Callable[[int, int], None] | None = None,
) -> list[FileResult]:
    """Analyse ``files`` and return their results in the same order.

    ``progress(done, total)`` is called as files complete (see integ_lint.progress)."""
    results = []
    for number, source_file in enumerate(files, 1):
        results.append(analyze_file(source_file, config, file_rules, collectors))
        if progress is not None:
            progress(number, len(files))
    return results
