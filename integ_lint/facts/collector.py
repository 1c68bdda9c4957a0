"""The base of every fact collector: a visitor that distils one file into a small
picklable value, in the same traversal as the file rules."""

from __future__ import annotations

from typing import Any, ClassVar

import libcst as cst

from integ_lint.facts.context import FileContext


class FactCollector(cst.BatchableCSTVisitor):
    """Distils one file into a picklable value stored under ``KEY`` in its facts.

    Their output is cached per file content and configuration (the cache key holds a
    digest of the whole resolved config, so a collector may read ``context.config``, as
    the message collector reads the configured bus patterns), and their value must be
    small: plain data, no syntax nodes.
    """

    KEY: ClassVar[str] = ""

    def __init__(self, context: FileContext) -> None:
        super().__init__()
        self.context = context

    def collect(self) -> Any:
        raise NotImplementedError
