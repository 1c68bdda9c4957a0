"""``integ-lint config``: the resolved configuration and where each value came from."""

from __future__ import annotations

from pathlib import Path

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
    """Print the resolved configuration and where each value came from."""
    config = load_project_config(list(paths) or [Path(".")], config_file)
    from integ_lint.cli.files import unmatched_role_globs

    for warning in unmatched_role_globs(config):
        click.echo(f"integ-lint: warning: {warning}", err=True)
    data = config.as_dict()
    if output_format == "json":
        import json

        click.echo(
            json.dumps(
                {
                    "config_file": str(config.config_file) if config.config_file else None,
                    "root": str(config.root),
                    "values": data,
                    "sources": config.provenance,
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
