"""Shared pieces of the command line: options, configuration loading, errors, output.

Every command module imports its common options and helpers from here, so that an
option means the same everywhere and is declared once.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from integ_lint.config.loader import Config, ConfigError
from integ_lint.engine.discovery import DiscoveryError
from integ_lint.engine.exits import EXIT_USAGE
from integ_lint.engine.pipeline import (
    RunOptions,
    run,
    select_rules,
)
from integ_lint.engine.registry import load_registry
from integ_lint.files.atomic import write_atomic
from integ_lint.findings.model import Report

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

EXIT_CODES_HELP = (
    "Exit codes: 0 no finding at or above --fail-on; 1 findings (or expired "
    "baseline entries); "
    "2 usage or configuration error; 3 run incomplete (a file or rule failed)."
)


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print one line to stderr and exit."""
    click.echo(f"integ-lint: error: {message}", err=True)
    sys.exit(code)


def use_color(stream: Any, flag: bool | None) -> bool:
    if flag is not None:
        return flag
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def split_codes(values: Sequence[str]) -> list[str]:
    return [code.strip() for value in values for code in value.split(",") if code.strip()]


def path_option(*names: str, help: str) -> Any:
    """An option whose value is a path, taken as given (relative to the working folder)."""
    return click.option(*names, type=click.Path(path_type=Path), help=help)


config_file_option = path_option(
    "--config",
    "config_file",
    help="Read [tool.integ-lint] from this file instead of the nearest pyproject.toml.",
)


output_option = path_option("--output", "-o", help="Write the report to this file (atomically).")
jobs_option = click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=0),
    help="Worker processes (0: the CPU count; 1: in process) [default: the config's jobs].",
)
baseline_option = path_option(
    "--baseline",
    "baseline_file",
    help="Hide findings recorded in this baseline (default: the config's baseline).",
)
no_baseline_option = click.option(
    "--no-baseline", is_flag=True, help="Ignore the configured baseline."
)
color_option = click.option("--color/--no-color", default=None, help="Force colour on or off.")
no_cache_option = click.option(
    "--no-cache", is_flag=True, help="Neither read nor write the per-file cache (cache-dir)."
)
paths_argument = click.argument("paths", nargs=-1, type=click.Path(path_type=Path))


def auto_choice_option(flag: str, choices: Sequence[str], help_text: str) -> Any:
    """``flag`` choosing one of ``choices``, ``auto`` (the first) by default."""
    return click.option(
        flag, type=click.Choice(list(choices)), default="auto", show_default=True, help=help_text
    )


def view_command(
    name: str, formats: Sequence[str], default: str, help: str
) -> Callable[[Callable[..., Any]], click.Command]:
    """``integ-lint NAME [PATHS] --config --format --output --jobs --color``: a view of
    the project (``imports``, ``graph``, ``messages``); its own options follow."""
    format_option = click.option(
        "--format",
        "output_format",
        type=click.Choice(list(formats)),
        default=default,
        show_default=True,
        help=help,
    )

    def decorate(function: Callable[..., Any]) -> click.Command:
        for option in (color_option, jobs_option, output_option, format_option):
            function = option(function)
        return click.command(name)(paths_argument(config_file_option(function)))

    return decorate


def config_options(function: F) -> F:
    """Options shared by every command that scans a project with a rule selection."""
    decorators = [
        config_file_option,
        click.option(
            "--select",
            multiple=True,
            help="Rule codes or prefixes to run (comma-separated; replaces the config's).",
        ),
        click.option("--ignore", multiple=True, help="Rule codes or prefixes to skip."),
        click.option(
            "--extend-select", multiple=True, help="Codes or prefixes to add to the selection."
        ),
    ]
    for decorator in reversed(decorators):
        function = decorator(function)
    return function


def load_project_config(
    paths: Sequence[Path],
    config_file: Path | None,
    select: Sequence[str] = (),
    ignore: Sequence[str] = (),
    extend_select: Sequence[str] = (),
    **overrides: Any,
) -> Config:
    from integ_lint.config.loader import load_config
    from integ_lint.engine.members import config_paths

    values: dict[str, Any] = dict(overrides)
    if select:
        values["select"] = split_codes(select)
    if ignore:
        values["ignore"] = split_codes(ignore)
    if extend_select:
        values["extend-select"] = split_codes(extend_select)
    for path in paths:
        if not path.exists() and not path.is_symlink():
            fail(f"{path}: no such file or directory")
    try:
        registry = load_registry()
        # Files of several monorepo members (pre-commit) start from the project above
        # them all; the run then judges each member's files with its own config.
        config = load_config(
            config_paths(paths), config_file, values, extra_sections=registry.sections
        )
        # Rule codes, globs and table-specific values too, before any command runs
        # (graph, imports and config do not select rules themselves).
        select_rules(config, registry)
    except ConfigError as exc:
        fail(str(exc))
    return config


def run_scan(paths: Sequence[Path], config: Config, options: RunOptions | None = None) -> Report:
    try:
        return run(list(paths), config, options)
    except (ConfigError, DiscoveryError) as exc:
        fail(str(exc))


def gather_view(
    paths: Sequence[Path],
    config_file: Path | None,
    build: Callable[[list[Path], Config, list[str]], T],
    usage_error: str = "",
) -> T:
    """What a view command (``graph``, ``imports``, ``messages``) shows of ``paths``
    (default: here): ``build(paths, the project's configuration, notes)``. A
    configuration or discovery error ends the run with one line, as does
    ``usage_error`` once the configuration is loaded (an option the chosen format
    cannot take); the notes ``build`` gathered are printed as warnings."""
    scan_paths = list(paths) or [Path(".")]
    config = load_project_config(scan_paths, config_file)
    if usage_error:
        fail(usage_error)
    notes: list[str] = []
    try:
        built = build(scan_paths, config, notes)
    except (ConfigError, DiscoveryError) as exc:
        fail(str(exc))
    for note in notes:
        click.echo(f"integ-lint: warning: {note}", err=True)
    return built


def emit(text: str, output: Path | None, summary: str) -> None:
    """Print ``text``, or write it atomically to ``output`` and print ``summary``."""
    if output is None or str(output) == "-":
        click.echo(text, nl=False)
        return
    try:
        write_atomic(output, text)
    except OSError as exc:
        fail(f"{output}: cannot write report: {exc.strerror or exc}")
    click.echo(f"{summary} Report written to {output}.", err=True)
