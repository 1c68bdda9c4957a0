"""The ``integ-lint`` command line: a thin layer over :mod:`integ_lint.api`.

Exit codes: 0 no finding at or above ``--fail-on``; 1 findings; 2 usage or
configuration error; 3 the run was incomplete (a file could not be read or parsed, or
a rule failed internally).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from . import __version__
from .atomic import write_atomic
from .config import Config, ConfigError
from .discovery import DiscoveryError
from .engine import EXIT_FINDINGS, EXIT_USAGE, RunOptions, exit_code, run, select_rules
from .findings import Report
from .fixes import fix_files
from .registry import load_registry
from .reporters import FORMATS, RenderOptions, get_renderer

F = TypeVar("F", bound=Callable[..., Any])

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


def run_watched(scan_paths: Sequence[Path], config_file: Path | None) -> None:
    """``check --watch``: the same command without ``--watch``, again after every
    change below the project root, until Ctrl-C (exit 0)."""
    from .watch import watch

    context = click.get_current_context()
    params = {**context.params, "watch": False}
    if params.get("fix") or params.get("add_ignore"):
        fail("--watch does not combine with --fix or --add-ignore (each run would rewrite files)")
    root = load_project_config(scan_paths, config_file).root

    def run_once() -> None:
        if sys.stdout.isatty():
            click.clear()
        # The exit code of one run does not end the watch.
        with contextlib.suppress(SystemExit):
            context.invoke(check, **params)

    try:
        watch([root], run_once, lambda line: click.echo(line, err=True))
    except KeyboardInterrupt:
        click.echo("", err=True)


def paths_without_python_files(paths: Sequence[Path], report: Report) -> list[Path]:
    """The given folders (or non-Python files) under which the run found no Python
    file. A Python file named explicitly but excluded by the config is not one: pre-commit
    passes every staged file, and the exclusion is the user's own."""
    root = Path(report.root).resolve()
    seen = set(report.file_hashes) | {n.path for n in report.notifications if n.path}
    unmatched = []
    for path in paths:
        if path.suffix in (".py", ".pyi") and not path.is_dir():
            continue
        try:
            relative = path.resolve().relative_to(root).as_posix()
        except (OSError, ValueError):
            continue  # outside the project root: its files are named by other rules
        if relative == ".":
            if not seen:
                unmatched.append(path)
            continue
        if not any(p == relative or p.startswith(relative + "/") for p in seen):
            unmatched.append(path)
    return unmatched


def split_codes(values: Sequence[str]) -> list[str]:
    return [code.strip() for value in values for code in value.split(",") if code.strip()]


config_file_option = click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path),
    help="Read [tool.integ-lint] from this file instead of the nearest pyproject.toml.",
)


output_option = click.option(
    "--output",
    "-o",
    type=click.Path(path_type=Path),
    help="Write the report to this file (atomically).",
)
jobs_option = click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=0),
    help="Worker processes (0: the CPU count; 1: in process) [default: the config's jobs].",
)
baseline_option = click.option(
    "--baseline",
    "baseline_file",
    type=click.Path(path_type=Path),
    help="Hide findings recorded in this baseline (default: the config's baseline).",
)
no_baseline_option = click.option(
    "--no-baseline", is_flag=True, help="Ignore the configured baseline."
)
color_option = click.option("--color/--no-color", default=None, help="Force colour on or off.")


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
    from .config import load_config
    from .members import config_paths

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


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_CODES_HELP)
@click.version_option(__version__, "--version", prog_name="integ-lint")
def main() -> None:
    """integ-lint: find integration defects in Python codebases, without running them."""


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@config_options
@click.option(
    "--format", "output_format", type=click.Choice(FORMATS), default="text", show_default=True
)
@output_option
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "note"]),
    help="Lowest severity that fails the run [default: warning].",
)
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option(
    "--fail-on-incomplete/--no-fail-on-incomplete",
    default=None,
    help="Exit 3 when a file could not be parsed or a rule failed; without it the run "
    "reports what was not checked and the findings decide "
    "[default: the config's fail-on-incomplete, false].",
)
@click.option(
    "--statistics", is_flag=True, help="Show counts per rule code instead of the findings."
)
@click.option("--quiet", "-q", is_flag=True, help="Print only the summary line.")
@click.option("--show-fixes", is_flag=True, help="List the fixes that --fix would apply.")
@click.option(
    "--sarif-include-baselined",
    is_flag=True,
    help="Keep baselined findings in SARIF as 'external' suppressions (default: left out).",
)
@click.option(
    "--add-ignore",
    is_flag=True,
    help="Write '# integ-lint: ignore[CODE] -- REASON' on the line of every finding.",
)
@click.option("--reason", default="", help="The reason --add-ignore writes into each comment.")
@click.option(
    "--exclude",
    "exclude_globs",
    multiple=True,
    help="Globs to leave out (replaces the config's exclude).",
)
@click.option(
    "--extend-exclude",
    "extend_exclude_globs",
    multiple=True,
    help="Globs to leave out, besides the config's exclude and extend-exclude.",
)
@click.option("--fix", is_flag=True, help="Apply safe fixes in place.")
@click.option("--diff", is_flag=True, help="Print the fixes as unified diffs; write nothing.")
@jobs_option
@color_option
@click.option("--no-source", is_flag=True, help="Do not show source excerpts in the text report.")
@click.option(
    "--no-cache", is_flag=True, help="Neither read nor write the per-file cache (cache-dir)."
)
@baseline_option
@no_baseline_option
@click.option(
    "--changed-since",
    metavar="REV",
    help="Report only on files changed since git revision REV (committed, staged, "
    "unstaged, untracked).",
)
@click.option(
    "--changed-lines",
    is_flag=True,
    help="Report only findings on changed lines (since --changed-since, default HEAD).",
)
@click.option("--progress/--no-progress", default=None, help="Progress bar on stderr.")
@click.option("--watch", is_flag=True, help="Check again whenever a Python or config file changes.")
@click.option(
    "--shard",
    metavar="I/N",
    help="Analyse only shard I of N of the files (balanced by size) and write their "
    "results to --facts-out; the project phase runs in the merge (--facts-in).",
)
@click.option(
    "--facts-out", type=click.Path(path_type=Path), help="Where --shard writes its results."
)
@click.option(
    "--facts-in",
    multiple=True,
    metavar="GLOB",
    help="Merge the shards these files or quoted globs name (all N of one --shard I/N) "
    "and report as one run would.",
)
def check(
    paths: tuple[Path, ...],
    config_file: Path | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    extend_select: tuple[str, ...],
    output_format: str,
    output: Path | None,
    fail_on: str | None,
    exit_zero: bool,
    fail_on_incomplete: bool | None,
    statistics: bool,
    quiet: bool,
    show_fixes: bool,
    sarif_include_baselined: bool,
    add_ignore: bool,
    reason: str,
    exclude_globs: tuple[str, ...],
    extend_exclude_globs: tuple[str, ...],
    fix: bool,
    diff: bool,
    jobs: int | None,
    color: bool | None,
    no_source: bool,
    no_cache: bool,
    baseline_file: Path | None,
    no_baseline: bool,
    changed_since: str | None,
    changed_lines: bool,
    progress: bool | None,
    watch: bool,
    shard: str | None,
    facts_out: Path | None,
    facts_in: tuple[str, ...],
) -> None:
    """Scan PATHS (default: the current folder) and report findings."""
    scan_paths = list(paths) or [Path(".")]
    from .shards import ShardError, finish_shards, start_shards

    try:
        shards = start_shards(shard, facts_out, facts_in, fix or diff or add_ignore, watch)
    except ShardError as exc:
        fail(str(exc))
    if watch:
        run_watched(scan_paths, config_file)
        return
    overrides: dict[str, Any] = {"fail-on": fail_on}
    if exclude_globs:
        overrides["exclude"] = list(exclude_globs)
    config = load_project_config(
        scan_paths, config_file, select, ignore, extend_select, **overrides
    )
    if extend_exclude_globs:
        config.general.extend_exclude.extend(extend_exclude_globs)
    # check reads only findings: a warm run may reuse the project phase's memo.
    run_options = RunOptions(jobs=jobs, use_cache=not no_cache, shards=shards, keep_project=False)
    from .cli_baseline import prepare_gate
    from .progress import progress_bar

    prepare_gate(
        run_options, scan_paths, config, baseline_file, changed_since, changed_lines, no_baseline
    )
    with progress_bar(progress) as callback:
        run_options.progress = callback
        try:
            report = run_scan(scan_paths, config, run_options)
            shard_summary = finish_shards(shards, facts_out)
        except ShardError as exc:
            fail(str(exc))
    if shard_summary is not None:  # --shard: the results are written, the merge reports
        click.echo(shard_summary, err=True)
        sys.exit(0)
    unmatched = paths_without_python_files(scan_paths, report)
    for path in unmatched:
        click.echo(f"integ-lint: warning: {path}: matched no Python file", err=True)
    if unmatched and len(unmatched) == len(scan_paths) and not report.notifications:
        fail("nothing was scanned: no Python file under the given paths")
    if add_ignore:
        from .add_ignore import add_ignore_comments

        added = add_ignore_comments(Path(report.root), report.findings, report.file_hashes, reason)
        for line in added.skipped:
            click.echo(f"integ-lint: {line}", err=True)
        click.echo(
            f"Added {added.added} ignore comment{'s' if added.added != 1 else ''} "
            f"in {added.files} file{'s' if added.files != 1 else ''}.",
            err=True,
        )
        sys.exit(0 if not added.skipped else EXIT_FINDINGS)
    if fix or diff:
        outcome = fix_files(
            config.root, report.findings, report.file_hashes, write=fix and not diff
        )
        for line in outcome.skipped:
            click.echo(f"integ-lint: {line}", err=True)
        for note in outcome.notifications:  # refused fixes: in the report, exit 3
            click.echo(f"integ-lint: {note.path}: {note.message}", err=True)
        report.notifications.extend(outcome.notifications)
        if diff:
            click.echo("".join(outcome.diffs), nl=False)
            sys.exit(EXIT_FINDINGS if outcome.diffs else 0)
        fixed = set(id(f) for f in outcome.fixed)
        report.findings = [f for f in report.findings if id(f) not in fixed]
        if outcome.fixed:
            click.echo(
                f"Fixed {len(outcome.fixed)} finding{'s' if len(outcome.fixed) != 1 else ''}.",
                err=True,
            )
    stream = sys.stdout
    options = RenderOptions(
        color=use_color(stream, color) if output is None else False,
        show_source=not no_source,
        statistics=statistics,
        sarif_category=config.general.sarif_category,
        quiet=quiet,
        show_fixes=show_fixes,
        include_baselined=sarif_include_baselined,
        display_base=os.getcwd(),
    )
    from .reporters import get_statistics_renderer

    renderer = get_statistics_renderer if statistics else get_renderer
    text = renderer(output_format)(report, options)
    from .reporters.text import summary_line

    emit(text, output, summary_line(report))
    if fail_on_incomplete is None:
        fail_on_incomplete = config.general.fail_on_incomplete
    sys.exit(exit_code(report, config.general.fail_on, exit_zero, fail_on_incomplete))


@main.command("rules")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
def rules_command(output_format: str) -> None:
    """List every rule: code, name, family, default severity."""
    from . import api

    infos = api.rules()
    if output_format == "json":
        import json

        click.echo(
            json.dumps(
                [
                    {
                        "code": r.code,
                        "name": r.name,
                        "family": r.family,
                        "severity": r.severity.value,
                        "summary": r.summary,
                        "fixable": r.fixable,
                        "kind": r.kind,
                        "default": r.default_enabled,
                    }
                    for r in infos
                ],
                indent=2,
            )
        )
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="integ-lint rules", show_lines=False)
    for column in ("Code", "Name", "Family", "Severity", "Fix", "Default", "Summary"):
        table.add_column(column)
    for r in infos:
        table.add_row(
            r.code,
            r.name,
            r.family,
            r.severity.value,
            "yes" if r.fixable else "",
            "on" if r.default_enabled else "opt-in",
            r.summary,
        )
    Console(no_color=not use_color(sys.stdout, None), width=160).print(table)


@main.command()
@click.argument("code")
def explain(code: str) -> None:
    """Show a rule's documentation and examples."""
    registry = load_registry()
    rule = registry.rules.get(code.upper())
    if rule is None:
        fail(f"unknown rule code {code!r} (see 'integ-lint rules')")
    from rich.console import Console
    from rich.markdown import Markdown

    text = f"# {rule.code} {rule.name}\n\nFamily: {rule.family}. Default severity: {rule.severity.value}."
    text += f" Reports on {', '.join(sorted(rule.roles))} files."
    text += f"\n\n{rule.documentation()}\n"
    from .examples import dedent

    if rule.INVALID:
        text += "\n## Reported\n"
        for example in rule.INVALID:
            text += f"\n```python\n{dedent(example.code)}```\n"
    if rule.VALID:
        text += "\n## Not reported\n"
        for valid in rule.VALID:
            text += f"\n```python\n{dedent(valid.code)}```\n"
    Console(no_color=not use_color(sys.stdout, None), width=100).print(Markdown(text))


@main.command("config")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@config_file_option
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
def config_command(paths: tuple[Path, ...], config_file: Path | None, output_format: str) -> None:
    """Print the resolved configuration and where each value came from. Monorepo
    members (folders below with their own pyproject.toml) are listed with their config
    files and the keys they set (in full with --format json, or 'config MEMBER')."""
    config = load_project_config(list(paths) or [Path(".")], config_file)
    from .cli_files import unmatched_role_globs
    from .members import keys_set, member_prefix, members_of

    for warning in unmatched_role_globs(config):
        click.echo(f"integ-lint: warning: {warning}", err=True)
    member_notes: list[str] = []
    members = members_of(list(paths) or [Path(".")], config, member_notes)
    for note in member_notes:
        click.echo(f"integ-lint: warning: {note}", err=True)
    data = config.as_dict()
    if output_format == "json":
        import json

        def described(project: Config) -> dict[str, Any]:
            return {
                "config_file": str(project.config_file) if project.config_file else None,
                "root": str(project.root),
                "values": project.as_dict(),
                "sources": project.provenance,
            }

        click.echo(
            json.dumps(
                {
                    **described(config),
                    "members": [
                        {"project": member.prefix, **described(member.config)} for member in members
                    ],
                },
                indent=2,
                default=str,
            )
        )
        return
    click.echo(f"# config file: {config.config_file or '(none: defaults)'}")
    click.echo(f"# project root: {config.root}")
    for key, value in data.items():
        if isinstance(value, dict) and key in config.sections:
            click.echo(f"\n[{key}]")
            for sub_key, sub_value in value.items():
                click.echo(
                    f"{sub_key} = {sub_value!r}  # from {config.provenance.get(key + '.' + sub_key, 'default')}"
                )
            if key == "gpu":
                from .facts.gpu import inferred_owner_comments

                for line in inferred_owner_comments(list(paths) or [Path(".")], config):
                    click.echo(line)
        else:
            click.echo(f"{key} = {value!r}  # from {config.provenance.get(key, 'default')}")
    if members:
        # As ruff's hierarchical configuration: each member has its own settings, and
        # the table above does not reach them.
        click.echo(
            "\n# monorepo members: each is a project of its own with its own configuration "
            "(the values above do not apply to them)"
        )
        for member in members:
            member_file = member.config.config_file
            where = member_prefix(member_file, config.root) if member_file else "no config file"
            keys = keys_set(member.config)
            sets = f"sets {', '.join(keys)}" if keys else "sets nothing: defaults"
            click.echo(f"# {member.prefix}: {where} ({sets})")
        first = os.path.relpath(members[0].config.root)
        click.echo(f"# every value of one, and where it came from: integ-lint config {first}")


from . import cli_cache  # noqa: E402, F401, I001
from . import cli_baseline  # noqa: E402, F401
from . import cli_imports  # noqa: E402, F401
from . import cli_graph  # noqa: E402, F401
from . import cli_audit  # noqa: E402, F401
from . import cli_messages  # noqa: E402, F401
from . import cli_init  # noqa: E402, F401
from . import cli_files  # noqa: E402, F401
