"""The ``integ-lint`` command line: a thin layer over the engine, as :mod:`integ_lint.api` is.

One module per command (``check``, ``rules`` with ``explain``, ``config``, ``files``,
``imports``, ``graph``, ``messages``, ``audit`` with ``certificate verify``,
``baseline``, ``cache``, ``init``); ``options`` holds what they share (options,
configuration loading, the one-line ``fail``, ``emit``); ``watch`` and ``progress``
serve ``check``. This module is the ``main`` group: it adds every command, and no
command imports it.

Exit codes: 0 no finding at or above ``--fail-on``; 1 findings; 2 usage or
configuration error; 3 the run was incomplete (a file could not be read or parsed, or
a rule failed internally) with ``--fail-on-incomplete``.

May import: everything below it (api, audit, views, engine, the project model, facts,
config, findings, files). Nothing imports the command line.
"""

from __future__ import annotations

import click

from integ_lint import __version__
from integ_lint.cli import (
    audit,
    baseline,
    cache,
    check,
    files,
    graph,
    imports,
    init,
    messages,
    rules,
)
from integ_lint.cli import config as config_command
from integ_lint.cli.options import EXIT_CODES_HELP


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_CODES_HELP)
@click.version_option(__version__, "--version", prog_name="integ-lint")
def main() -> None:
    """integ-lint: find integration defects in Python codebases, without running them."""


for command in (
    check.check,
    rules.rules_command,
    rules.explain,
    config_command.config_command,
    cache.cache_group,
    baseline.baseline_group,
    imports.imports_command,
    graph.graph_command,
    audit.audit_command,
    audit.certificate_group,
    messages.messages_command,
    init.init_command,
    files.files_command,
):
    main.add_command(command)
