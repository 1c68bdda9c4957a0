"""The engine: how a run goes, from paths to a :class:`~integ_lint.findings.Report`.

``discovery`` finds the files (gitignore, excludes, sub-projects, module names and
roles); ``analysis`` decodes and parses each file once and runs every selected file rule
and fact collector in ONE traversal; ``executor`` spreads files over processes and
reads and writes the per-file ``cache``; ``registry`` loads the rule packs;
``pipeline`` is :func:`run` (with its exit codes in ``exits``): selection, the per-file phase, the project index, project
rules, configuration filters, fingerprints, suppressions and post-filters.
``examples`` runs a rule's ``VALID``/``INVALID`` examples through the same pipeline.

May import: ``integ_lint.rules`` (through the registry only), the rule API, the project
model, facts, findings, config and files. Never the command line, audit or views.
"""

# Re-exported: the names callers imported from here before the package existed.
from integ_lint.engine.discovery import (  # noqa: F401
    discover_files,
    project_files,
    project_layout,
)
from integ_lint.engine.exits import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE, exit_code  # noqa: F401
from integ_lint.engine.pipeline import (  # noqa: F401
    RunOptions,
    filter_by_role,
    index_project,
    run,
)
from integ_lint.engine.selection import (  # noqa: F401
    Selection,
    select_rules,
)
