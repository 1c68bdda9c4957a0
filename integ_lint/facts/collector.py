"""The base of every fact collector: a visitor that distils one file into a small
picklable value, in the same traversal as the file rules."""

from __future__ import annotations

import functools
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


@functools.cache
def visitor_method_names(kind: type[cst.BatchableCSTVisitor]) -> tuple[str, ...]:
    """The ``visit_*`` / ``leave_*`` methods ``kind`` really defines (not LibCST's
    no-op stubs), computed once per class: ``get_visitors()`` runs
    ``inspect.getmembers`` on every instance, which cost ~10% of a run. The engine's
    dispatcher and collectors that dispatch themselves share it."""
    names = []
    for name in dir(kind):
        if not (name.startswith("visit_") or name.startswith("leave_")):
            continue
        member = getattr(kind, name, None)
        if callable(member) and not getattr(member, "_is_no_op", False):
            names.append(name)
    return tuple(names)
