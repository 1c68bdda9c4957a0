"""``integ-lint check``: scan paths and report findings (``--fix``, ``--diff``,
``--add-ignore``, ``--watch``, baselines and changed lines)."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from integ_lint.cli.options import (
    EXIT_CODES_HELP,
    baseline_option,
    color_option,
    config_options,
    emit,
    fail,
    jobs_option,
    load_project_config,
    no_baseline_option,
    no_cache_option,
    output_option,
    path_option,
    run_scan,
    use_color,
)
from integ_lint.engine.exits import EXIT_FINDINGS, exit_code
from integ_lint.engine.pipeline import (
    RunOptions,
)
from integ_lint.findings.fixes import fix_files
from integ_lint.findings.model import Report
from integ_lint.findings.reporters import FORMATS, RenderOptions, get_renderer

if TYPE_CHECKING:
    from integ_lint.engine.shards import ShardReader, ShardWriter


def run_watched(scan_paths: Sequence[Path], config_file: Path | None) -> None:
    """``check --watch``: the same command without ``--watch``, again after every
    change below the project root, until Ctrl-C (exit 0)."""
    from integ_lint.cli.watch import watch

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


@click.command(epilog=EXIT_CODES_HELP)
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
@no_cache_option
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
@path_option("--facts-out", help="Where --shard writes its results.")
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
    sharding = shard is not None or facts_out is not None or bool(facts_in)
    shards: ShardWriter | ShardReader | None = None
    if sharding:  # the shards' codec imports the rule API (LibCST): only when asked for
        from integ_lint.engine.shards import ShardError, start_shards

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
    from integ_lint.cli.progress import progress_bar

    baselined = not no_baseline and bool(baseline_file or config.general.baseline.strip())
    if changed_since or changed_lines or baselined:
        # Baselines and changed lines only when asked for: their modules cost a run ~8 ms.
        from integ_lint.cli.baseline import prepare_gate

        prepare_gate(
            run_options,
            scan_paths,
            config,
            baseline_file,
            changed_since,
            changed_lines,
            no_baseline,
        )
    with progress_bar(progress) as callback:
        run_options.progress = callback
        if shards is None:
            report = run_scan(scan_paths, config, run_options)
            shard_summary = None
        else:
            from integ_lint.engine.shards import ShardError, finish_shards

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
        from integ_lint.findings.add_ignore import add_ignore_comments

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
    from integ_lint.findings.reporters import get_statistics_renderer

    renderer = get_statistics_renderer if statistics else get_renderer
    text = renderer(output_format)(report, options)
    from integ_lint.findings.reporters.text import summary_line

    emit(text, output, summary_line(report))
    if fail_on_incomplete is None:
        fail_on_incomplete = config.general.fail_on_incomplete
    sys.exit(exit_code(report, config.general.fail_on, exit_zero, fail_on_incomplete))
