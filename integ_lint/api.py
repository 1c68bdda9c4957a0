"""The public Python API: a thin layer over the engine, as the CLI is.

>>> from integ_lint.api import check
>>> report = check(["src/"])            # doctest: +SKIP
>>> [f.code for f in report.findings]   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import Any

from integ_lint.config.loader import Config, ConfigError, load_config
from integ_lint.engine.exits import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE, exit_code
from integ_lint.engine.pipeline import RunOptions, run
from integ_lint.engine.registry import load_registry
from integ_lint.findings.model import Finding, Notification, Report, RuleInfo, Severity
from integ_lint.findings.reporters import RenderOptions, get_renderer

__all__ = [
    "EXIT_FINDINGS",
    "EXIT_INCOMPLETE",
    "EXIT_OK",
    "EXIT_USAGE",
    "Config",
    "ConfigError",
    "Finding",
    "Notification",
    "Report",
    "RuleInfo",
    "RunOptions",
    "Severity",
    "check",
    "exit_code",
    "load",
    "render",
    "rules",
]


def load(
    paths: Sequence[str | PathLike[str]],
    config_file: str | PathLike[str] | None = None,
    **overrides: Any,
) -> Config:
    """Resolve the configuration for ``paths``; ``overrides`` are top-level keys
    (``select=["IL2"]``, ``fail_on="error"``)."""
    from integ_lint.engine.members import config_paths

    path_list = [Path(p) for p in paths]
    return load_config(
        config_paths(path_list),  # files of several monorepo members: the project above
        Path(config_file) if config_file is not None else None,
        {k.replace("_", "-"): v for k, v in overrides.items()},
        extra_sections=load_registry().sections,
    )


def check(
    paths: Sequence[str | PathLike[str]],
    config_file: str | PathLike[str] | None = None,
    *,
    options: RunOptions | None = None,
    **overrides: Any,
) -> Report:
    """Scan ``paths`` and return the report (nothing is printed or written)."""
    config = load(paths, config_file, **overrides)
    return run([Path(p) for p in paths], config, options)


def render(report: Report, format: str = "text", **options: Any) -> str:
    """Render ``report`` in one of the reporter formats."""
    return get_renderer(format)(report, RenderOptions(**options))


def rules() -> list[RuleInfo]:
    """Every registered rule, built-in and from installed rule packs."""
    registry = load_registry()
    return [registry.ref(code).info() for code in registry.codes]
