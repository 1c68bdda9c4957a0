"""Reporters turn a :class:`~integ_lint.findings.Report` into text. They know the data
model only, never the rules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..findings import Report


@dataclass(frozen=True)
class RenderOptions:
    color: bool = False
    show_source: bool = True
    statistics: bool = False
    sarif_category: str = "integ-lint"
    show_fixes: bool = False


Renderer = Callable[[Report, RenderOptions], str]


def get_renderer(name: str) -> Renderer:
    import importlib

    module_name, function = _RENDERERS.get(name, ("", ""))
    if not module_name:
        raise ValueError(f"unknown format {name!r}")
    module = importlib.import_module(f"{__name__}.{module_name}")
    renderer: Renderer = getattr(module, function)
    return renderer


_RENDERERS = {
    "text": ("text", "render"),
    "concise": ("text", "render_concise"),
    "json": ("json_report", "render"),
    "sarif": ("sarif", "render"),
    "github": ("github", "render"),
}


FORMATS = ("text", "concise", "json", "sarif", "github")
