"""Reporters turn a :class:`~integ_lint.findings.model.Report` into text. They know the data
model only, never the rules."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from integ_lint.findings.model import Report


@dataclass(frozen=True)
class RenderOptions:
    color: bool = False
    show_source: bool = True
    statistics: bool = False
    sarif_category: str = "integ-lint"
    show_fixes: bool = False
    # Only the summary line (text and concise; other formats are documents).
    quiet: bool = False
    # Baselined findings in SARIF as ``external`` suppressions: off by default, since
    # code scanning is reported to open alerts for suppressed results it ingests.
    include_baselined: bool = False
    # The folder the user stands in (absolute): text, concise and JSON reports show
    # paths relative to it when they lie below it, absolute otherwise, as ruff does;
    # None keeps them relative to the project root (the API's default).
    display_base: str | None = None


def display_path(root: str, relpath: str, options: RenderOptions) -> str:
    """``relpath`` (relative to the project root ``root``) as the user should see it."""
    if options.display_base is None or not relpath:
        return relpath
    absolute = os.path.normpath(os.path.join(root, relpath))
    base = os.path.normpath(options.display_base)
    if absolute == base or absolute.startswith(base.rstrip(os.sep) + os.sep):
        return os.path.relpath(absolute, base).replace(os.sep, "/")
    return absolute


Renderer = Callable[[Report, RenderOptions], str]


def get_renderer(name: str) -> Renderer:
    import importlib

    module_name, function = _RENDERERS.get(name, ("", ""))
    if not module_name:
        raise ValueError(f"unknown format {name!r}")
    module = importlib.import_module(f"{__name__}.{module_name}")
    renderer: Renderer = getattr(module, function)
    return renderer


def get_statistics_renderer(name: str) -> Renderer:
    """``--statistics``: the counts per rule code instead of the findings, as ruff does
    (JSON for ``json``; the text table for every other format)."""
    if name == "json":
        return get_renderer("json_statistics")
    return get_renderer("text" if name not in ("text", "concise") else name)


_RENDERERS = {
    "json_statistics": ("json_report", "render_statistics"),
    "text": ("text", "render"),
    "concise": ("text", "render_concise"),
    "json": ("json_report", "render"),
    "sarif": ("sarif", "render"),
    "github": ("github", "render"),
}


FORMATS = ("text", "concise", "json", "sarif", "github")
