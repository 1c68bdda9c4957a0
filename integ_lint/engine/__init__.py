"""The engine: how a run goes, from paths to a :class:`~integ_lint.findings.Report`.

``discovery`` finds the files (gitignore, excludes, sub-projects, module names and
roles); ``analysis`` decodes and parses each file once and runs every selected file rule
and fact collector in ONE traversal; ``executor`` spreads files over processes and
reads and writes the per-file ``cache``; ``registry`` loads the rule packs (the
installed ones as ``installed`` last read them; ``user_files`` says where the user's
cache key lives);
``pipeline`` is :func:`run` (with its exit codes in ``exits``): selection, the per-file phase, the project index, project
rules, configuration filters, fingerprints, suppressions and post-filters.
``examples`` runs a rule's ``VALID``/``INVALID`` examples through the same pipeline.

May import: ``integ_lint.rules`` (through the registry only), the rule API, the project
model, facts, findings, config and files. Never the command line, audit or views.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Re-exported: the names callers imported from here before the package existed. They
# load on first use, so that importing one engine module (``engine.discovery``) does not
# import the others (the pipeline, and through it the cache and the executor).
_EXPORTS = {
    "discover_files": "discovery",
    "project_files": "discovery",
    "project_layout": "discovery",
    "EXIT_FINDINGS": "exits",
    "EXIT_INCOMPLETE": "exits",
    "EXIT_OK": "exits",
    "EXIT_USAGE": "exits",
    "exit_code": "exits",
    "RunOptions": "pipeline",
    "filter_by_role": "pipeline",
    "index_project": "pipeline",
    "run": "pipeline",
    "Selection": "selection",
    "select_rules": "selection",
}
__all__ = [
    "EXIT_FINDINGS",
    "EXIT_INCOMPLETE",
    "EXIT_OK",
    "EXIT_USAGE",
    "RunOptions",
    "Selection",
    "discover_files",
    "exit_code",
    "filter_by_role",
    "index_project",
    "project_files",
    "project_layout",
    "run",
    "select_rules",
]

if TYPE_CHECKING:
    from integ_lint.engine.discovery import discover_files, project_files, project_layout
    from integ_lint.engine.exits import (
        EXIT_FINDINGS,
        EXIT_INCOMPLETE,
        EXIT_OK,
        EXIT_USAGE,
        exit_code,
    )
    from integ_lint.engine.pipeline import RunOptions, filter_by_role, index_project, run
    from integ_lint.engine.selection import Selection, select_rules


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'integ_lint.engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"integ_lint.engine.{module}"), name)
    globals()[name] = value
    return value
