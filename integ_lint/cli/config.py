"""``integ-lint config``: the resolved configuration and where each value came from."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from integ_lint.cli.options import config_file_option, load_project_config
from integ_lint.config.loader import Config
from integ_lint.config.settings import GpuSettings
from integ_lint.engine.pipeline import index_project
from integ_lint.facts.gpu import GpuFactCollector
from integ_lint.model.devices import device_owners


@click.command("config")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@config_file_option
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
def config_command(paths: tuple[Path, ...], config_file: Path | None, output_format: str) -> None:
    """Print the resolved configuration and where each value came from. Monorepo
    members (folders below with their own pyproject.toml) are listed with their config
    files and the keys they set (in full with --format json, or 'config MEMBER')."""
    config = load_project_config(list(paths) or [Path(".")], config_file)
    from integ_lint.cli.files import unmatched_role_globs
    from integ_lint.engine.members import keys_set, member_prefix, members_of

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


def inferred_owner_comments(paths: list[Path], config: Config) -> list[str]:
    """Comment lines for ``integ-lint config``: the device owners IL401/IL402 infer
    (one pass of this collector over the project; nothing when inference is off)."""
    if not config.section(GpuSettings).infer_managers:
        return ["# infer-managers = false: only `managers` own devices"]
    project, _ = index_project(paths, config, [GpuFactCollector])
    inferred = [o for o in device_owners(project) if o.path]
    if not inferred:
        return ["# inferred device owners: none"]
    return [
        "# inferred device owners (override with managers / infer-managers):",
        *(f"#   {o.name}  ({o.path}:{o.line})" for o in inferred),
    ]
