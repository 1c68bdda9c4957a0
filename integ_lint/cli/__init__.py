"""The ``integ-lint`` command line: a thin layer over the engine, as :mod:`integ_lint.api` is.

One module per command (``check``, ``rules`` with ``explain``, ``config``, ``files``,
``imports``, ``graph``, ``messages``, ``audit`` with ``certificate verify``,
``baseline``, ``cache``, ``init``); ``options`` holds what they share (options,
configuration loading, the one-line ``fail``, ``emit``); ``watch`` and ``progress``
serve ``check``. This module is the ``main`` group: it names every command (imported
when it runs or help lists it, so a command pays only for its own imports), and no
command imports it.

Exit codes: 0 no finding at or above ``--fail-on``; 1 findings; 2 usage or
configuration error; 3 the run was incomplete (a file could not be read or parsed, or
a rule failed internally) with ``--fail-on-incomplete``.

May import: everything below it (api, audit, views, engine, the project model, facts,
config, findings, files). Nothing imports the command line.
"""

from __future__ import annotations

import atexit
import functools
import gc
import importlib
from collections.abc import Iterator, MutableMapping

from integ_lint.engine.collector_pause import collector_paused

# Importing makes long-lived objects (click, the engine, a command's module): the
# cyclic collections an import sets off would find nothing.
with collector_paused():
    import click

    from integ_lint import __version__
    from integ_lint.cli.options import EXIT_CODES_HELP

# Each command, by name: the module that defines it and the command's name in it. A
# command's module (and what it imports: libcst, networkx, rich) loads only when that
# command runs or help lists it, so ``check`` never pays for ``audit`` or ``graph``.
COMMANDS: dict[str, tuple[str, str]] = {
    "check": ("integ_lint.cli.check", "check"),
    "rules": ("integ_lint.cli.rules", "rules_command"),
    "explain": ("integ_lint.cli.rules", "explain"),
    "config": ("integ_lint.cli.config", "config_command"),
    "cache": ("integ_lint.cli.cache", "cache_group"),
    "baseline": ("integ_lint.cli.baseline", "baseline_group"),
    "imports": ("integ_lint.cli.imports", "imports_command"),
    "graph": ("integ_lint.cli.graph", "graph_command"),
    "audit": ("integ_lint.cli.audit", "audit_command"),
    "certificate": ("integ_lint.cli.audit", "certificate_group"),
    "messages": ("integ_lint.cli.messages", "messages_command"),
    "init": ("integ_lint.cli.init", "init_command"),
    "files": ("integ_lint.cli.files", "files_command"),
}


class _LazyCommands(MutableMapping[str, click.Command]):
    """The group's commands: every name is known up front, a command is imported the
    first time it is looked up."""

    def __init__(self) -> None:
        self._loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded:
            if name not in COMMANDS:
                raise KeyError(name)
            module_name, attribute = COMMANDS[name]
            with collector_paused():
                module = importlib.import_module(module_name)
            command = getattr(module, attribute)
            assert isinstance(command, click.Command), (module_name, attribute)
            self._loaded[name] = command
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        del self._loaded[name]

    def __iter__(self) -> Iterator[str]:
        return iter(sorted({*COMMANDS, *self._loaded}))

    def __len__(self) -> int:
        return len({*COMMANDS, *self._loaded})


class _LazyGroup(click.Group):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.commands = _LazyCommands()


@click.group(
    cls=_LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    epilog=EXIT_CODES_HELP,
)
@click.version_option(__version__, "--version", prog_name="integ-lint")
def main() -> None:
    """integ-lint: find integration defects in Python codebases, without running them."""
    _skip_the_collection_at_exit()


@functools.cache
def _skip_the_collection_at_exit() -> None:
    """At exit the interpreter collects every object still alive: after a project
    phase that is the whole project's facts and index (2.6 million objects on Django,
    2.7 s of a 10 s run), walked to free memory the system takes back anyway. Frozen
    (``gc.freeze``) by an exit handler, they are skipped. Registered once."""
    atexit.register(gc.freeze)
