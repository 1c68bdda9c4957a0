"""``integ-lint files [PATHS]``: every file a run would read, with its module name,
source root and role (ruff's ``--show-files``), and how the source roots were found."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import click

from integ_lint.cli.options import config_file_option, fail, load_project_config
from integ_lint.config.loader import Config, ConfigError
from integ_lint.config.roles import ROLE_KEYS, role_paths
from integ_lint.engine.discovery import DiscoveryError, SourceFile
from integ_lint.engine.members import each_project, joined
from integ_lint.engine.pipeline import discover_files, project_files, project_layout
from integ_lint.files.globs import matches_any
from integ_lint.model.layout import Layout


@dataclass(frozen=True)
class FileRow:
    path: str  # relative to the root of the run (the outermost project)
    module: str
    source_root: str  # relative to the root of the run
    role: str
    project: str  # the (sub-)project's folder, relative to the root of the run


def list_files(paths: list[Path], config: Config) -> tuple[list[FileRow], list[str]]:
    """Every file a run over ``paths`` reads, monorepo members included (each named
    with its own project's source roots, also when paths inside a member are given),
    and the layout lines to print first."""

    def build(
        own: list[Path], project_config: Config, subprojects: list[Path]
    ) -> tuple[list[SourceFile], Layout]:
        return discover_files(own, project_config, subprojects), project_layout(project_config)

    left_out: list[str] = []  # members whose configuration is invalid
    notes: list[str] = []
    rows: list[FileRow] = []
    for prefix, (files, layout) in each_project(paths, config, build, left_out):
        lines = [
            f"source roots: {', '.join(layout.relative_roots())} (from {layout.origin})",
            *(f"warning: {w}" for w in layout.warnings),
        ]
        notes.extend(f"{prefix}: {line}" if prefix else line for line in lines)
        rows.extend(
            FileRow(
                joined(prefix, f.relpath),
                f.module,
                joined(prefix, f.source_root),
                f.role,
                prefix or ".",
            )
            for f in files
        )
    notes.extend(f"warning: {line}" for line in left_out)
    return sorted(rows, key=lambda r: r.path), notes


@click.command("files")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@config_file_option
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
def files_command(paths: tuple[Path, ...], config_file: Path | None, output_format: str) -> None:
    """List the files under PATHS (default: the current folder) with module name,
    source root and role; the source roots and any layout warning go to stderr.
    Folders holding their own pyproject.toml are listed as the projects they are."""
    scan_paths = list(paths) or [Path(".")]
    config = load_project_config(scan_paths, config_file)
    try:
        rows, notes = list_files(scan_paths, config)
    except (ConfigError, DiscoveryError) as exc:
        fail(str(exc))
    if output_format == "json":
        click.echo(
            json.dumps(
                {
                    "root": str(config.root),
                    "notes": notes,
                    "files": [dataclasses.asdict(row) for row in rows],
                },
                indent=2,
            )
        )
        return
    for note in notes:
        click.echo(f"# {note}", err=True)
    for row in rows:
        click.echo(format_row(row))
    roles = Counter(row.role for row in rows)
    summary = ", ".join(f"{count} {role}" for role, count in sorted(roles.items()))
    click.echo(f"{len(rows)} file{'s' if len(rows) != 1 else ''}: {summary}", err=True)


def format_row(row: FileRow) -> str:
    return f"{row.path}  {row.module or '-'}  {row.source_root}  {row.role}"


def unmatched_role_globs(config: Config) -> list[str]:
    """One line per configured role glob (``test-paths`` ...) that matches no file of
    the project: a warning, since the glob may be meant for files to come."""
    files = [f.relpath for f in project_files(config)]
    warnings = []
    for role, globs in role_paths(config.general).items():
        key = ROLE_KEYS[role]
        source = config.provenance.get(key, "default")
        if source == "default":
            continue
        for pattern in globs:
            if not any(matches_any(path, [pattern]) for path in files):
                warnings.append(f"{source}: {key}: {pattern!r} matches no file")
    return warnings
