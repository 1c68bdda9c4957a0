"""``integ-lint cache clean``: delete the per-file cache of a project."""

from __future__ import annotations

from pathlib import Path

import click

from integ_lint.cli.options import config_file_option, load_project_config
from integ_lint.cli.options import fail as _fail
from integ_lint.engine.cache import CacheError, cache_directory, clean


@click.group("cache")
def cache_group() -> None:
    """Manage the per-file result cache (cache-dir, default .integ-lint-cache)."""


@cache_group.command("clean")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@config_file_option
def cache_clean(paths: tuple[Path, ...], config_file: Path | None) -> None:
    """Delete the cache folder of the project holding PATHS (default: here)."""
    config = load_project_config(list(paths) or [Path(".")], config_file)
    directory = cache_directory(config)
    try:
        outcome = clean(directory, config.root)
    except CacheError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"{directory}: cannot delete the cache: {exc.strerror or exc}")
    count = outcome.entries
    click.echo(f"Removed {count} cache entr{'y' if count == 1 else 'ies'} from {directory}.")
    if outcome.left:
        shown = ", ".join(outcome.left[:5]) + (", ..." if len(outcome.left) > 5 else "")
        click.echo(
            f"Kept {directory}: it holds {len(outcome.left)} file(s) integ-lint did not "
            f"create ({shown}).",
            err=True,
        )
