"""``integ-lint baseline create|prune`` and the CI-gate options of ``check``
(``--baseline``, ``--changed-since``, ``--changed-lines``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from integ_lint.cli.options import config_options, fail, load_project_config, path_option, run_scan
from integ_lint.config.loader import Config
from integ_lint.engine.exits import EXIT_INCOMPLETE
from integ_lint.engine.pipeline import RunOptions
from integ_lint.findings.baseline import (
    DEFAULT_BASELINE,
    Baseline,
    BaselineError,
    BaselineFilter,
    baseline_from_findings,
    load_baseline,
    scope_predicate,
    write_baseline,
)
from integ_lint.findings.changes import ChangedLinesFilter, ChangesError, changed_since


def configured_baseline(config: Config) -> Path | None:
    """``baseline = "..."`` from the config, relative to the project root."""
    value = config.general.baseline.strip()
    if not value:
        return None
    path = Path(value)
    return path if path.is_absolute() else config.root / path


def prepare_gate(
    options: RunOptions,
    scan_paths: Sequence[Path],
    config: Config,
    baseline: Path | None = None,
    since: str | None = None,
    changed_lines: bool = False,
    no_baseline: bool = False,
) -> BaselineFilter | None:
    """Add the baseline and changed-code filters to ``options``; problems are one-line
    errors (exit 2)."""
    if changed_lines and since is None:
        since = "HEAD"
    if since is not None:
        try:
            changes = changed_since(since, config.root, with_lines=changed_lines)
        except ChangesError as exc:
            fail(str(exc))
        paths = changes.paths
        options.report_paths = (
            paths if options.report_paths is None else options.report_paths & paths
        )
    baseline_filter = None
    baseline_path = None if no_baseline else (baseline or configured_baseline(config))
    if baseline_path is not None:
        try:
            loaded = load_baseline(baseline_path)
        except BaselineError as exc:
            fail(str(exc))
        baseline_filter = BaselineFilter(
            loaded, scope_predicate(scan_paths, config.root, options.report_paths)
        )
        # Before the changed-lines filter, so that baselined findings on unchanged
        # lines still match their entries (and are not called stale).
        options.post_filters.append(baseline_filter)
    if since is not None and changed_lines:
        options.post_filters.append(ChangedLinesFilter(changes))
    return baseline_filter


_BASELINE_HELP = f"Baseline file [default: the config's baseline, else {DEFAULT_BASELINE}]."


def _scan_scope(
    paths: tuple[Path, ...], baseline_file: Path | None, config_args: dict[str, Any]
) -> tuple[list[Path], Config, Path]:
    """What a baseline command scans, with which config (``config_args``: the values
    of ``config_options``), and the baseline file it works on (the one given, else the
    config's, else the default)."""
    scan_paths = list(paths) or [Path(".")]
    config = load_project_config(scan_paths, **config_args)
    target = baseline_file or configured_baseline(config) or config.root / DEFAULT_BASELINE
    return scan_paths, config, target


def _write(baseline: Baseline, target: Path) -> None:
    try:
        write_baseline(baseline, target)
    except OSError as exc:
        fail(f"{target}: cannot write baseline: {exc.strerror or exc}")


@click.group("baseline")
def baseline_group() -> None:
    """Record today's findings so that only new ones fail the gate."""


@baseline_group.command("create")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@config_options
@path_option("--output", "-o", help=_BASELINE_HELP)
def baseline_create(paths: tuple[Path, ...], output: Path | None, **config_args: Any) -> None:
    """Scan PATHS and record every current finding by fingerprint.

    Owner, reason and expiry of entries already in the file are kept.
    """
    scan_paths, config, target = _scan_scope(paths, output, config_args)
    previous: Baseline | None = None
    if target.exists():
        try:
            previous = load_baseline(target)
        except BaselineError as exc:
            fail(f"{exc} (fix or delete it before recreating)")
    report = run_scan(scan_paths, config, RunOptions())
    recorded = baseline_from_findings(report.findings, previous)
    _write(recorded, target)
    count = len(recorded.entries)
    click.echo(f"Recorded {count} finding{'s' if count != 1 else ''} in {target}.", err=True)
    if report.incomplete:
        click.echo(
            "integ-lint: warning: the scan was incomplete (a file could not be read or "
            "parsed); its findings are not in the baseline.",
            err=True,
        )
        sys.exit(EXIT_INCOMPLETE)


@baseline_group.command("prune")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@config_options
@path_option("--baseline", "baseline_file", help=_BASELINE_HELP)
def baseline_prune(paths: tuple[Path, ...], baseline_file: Path | None, **config_args: Any) -> None:
    """Remove entries that match no finding any more (stale entries)."""
    scan_paths, config, target = _scan_scope(paths, baseline_file, config_args)
    options = RunOptions()
    baseline_filter = prepare_gate(options, scan_paths, config, baseline=target)
    assert baseline_filter is not None
    report = run_scan(scan_paths, config, options)
    stale = {entry.fingerprint for entry in baseline_filter.outcome.stale}
    if report.incomplete:
        fail(
            "the scan was incomplete (a file could not be read or parsed); "
            "not pruning the baseline",
            EXIT_INCOMPLETE,
        )
    kept = [e for e in baseline_filter.baseline.entries if e.fingerprint not in stale]
    if stale:
        _write(Baseline(entries=kept, path=target), target)
    click.echo(
        f"Removed {len(stale)} stale entr{'ies' if len(stale) != 1 else 'y'} from {target}; "
        f"{len(kept)} kept.",
        err=True,
    )
