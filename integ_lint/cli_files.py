"""``integ-lint files [PATHS]``: every file a run would read, with its module name,
source root and role (ruff's ``--show-files``), and how the source roots were found."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import click

from .cli import config_file_option, fail, load_project_config, main
from .config import ConfigError
from .discovery import DiscoveryError
from .engine import discover_files, project_layout


@main.command("files")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@config_file_option
@click.option(
    "--format", "output_format", type=click.Choice(["text", "json"]), default="text"
)
def files_command(paths: tuple[Path, ...], config_file: Path | None, output_format: str) -> None:
    """List the files under PATHS (default: the current folder) with module name,
    source root and role; the source roots and any layout warning go to stderr."""
    scan_paths = list(paths) or [Path(".")]
    config = load_project_config(scan_paths, config_file)
    try:
        layout = project_layout(config)
        files = discover_files(scan_paths, config)
    except (ConfigError, DiscoveryError) as exc:
        fail(str(exc))
    if output_format == "json":
        click.echo(
            json.dumps(
                {
                    "root": str(config.root),
                    "source_roots": layout.relative_roots(),
                    "source_roots_from": layout.origin,
                    "warnings": list(layout.warnings),
                    "files": [
                        {
                            "path": f.relpath,
                            "module": f.module,
                            "source_root": f.source_root,
                            "role": f.role,
                        }
                        for f in files
                    ],
                },
                indent=2,
            )
        )
        return
    click.echo(
        f"# source roots: {', '.join(layout.relative_roots())} (from {layout.origin})",
        err=True,
    )
    for warning in layout.warnings:
        click.echo(f"integ-lint: warning: {warning}", err=True)
    for f in files:
        click.echo(f"{f.relpath}  {f.module or '-'}  {f.source_root}  {f.role}")
    roles = Counter(f.role for f in files)
    summary = ", ".join(f"{count} {role}" for role, count in sorted(roles.items()))
    click.echo(f"{len(files)} file{'s' if len(files) != 1 else ''}: {summary}", err=True)
