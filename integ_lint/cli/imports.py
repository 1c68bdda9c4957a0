"""``integ-lint imports PATH``: the module dependency table, the import cycles, and the
import graph as DOT, GraphML, JSON or Mermaid."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from integ_lint.cli.options import (
    auto_choice_option,
    emit,
    gather_view,
    no_cache_option,
    use_color,
    view_command,
)
from integ_lint.config.loader import Config
from integ_lint.config.settings import BoundarySettings
from integ_lint.engine.manifest import CollectorHandle
from integ_lint.engine.members import context_line, each_project, joined
from integ_lint.engine.pipeline import index_project
from integ_lint.facts.import_records import IMPORTS_KEY
from integ_lint.model.boundaries import Boundaries, component_graph, find_cycles, resolve_boundaries
from integ_lint.model.digraph import DiGraph
from integ_lint.model.import_graph import ImportGraph, counted, import_graph
from integ_lint.views.export import FORMATS, export_graph

if TYPE_CHECKING:
    import networkx as nx

# The import fact collector, by name: a warm run (every file's facts cached) never
# imports it, nor LibCST behind it.
IMPORT_FACTS = CollectorHandle(IMPORTS_KEY, "integ_lint.facts.imports", "ImportFacts")


@dataclass
class ImportsOverview:
    graph: ImportGraph
    boundaries: Boundaries
    level: str  # "module" (components) or "file"
    view: DiGraph  # the graph at that level, every import kind
    cycles: list[tuple[list[str], list[str]]]  # counted per the cycle settings
    notes: list[str]
    files_shown: int = 0  # files whose modules the view is about
    files_context: int = 0  # files read only so that their imports resolve


def build_overview(
    paths: list[Path],
    config: Config,
    level: str,
    jobs: int,
    subprojects: list[Path] | None = None,
    use_cache: bool = False,
) -> ImportsOverview:
    """Index ``paths`` for imports only (the whole project behind them) and build the
    graph at ``level``; folders holding their own ``pyproject.toml`` are left out and
    listed in ``subprojects``. ``config``'s tables are validated already (by
    ``select_rules``, as ``load_project_config`` and ``each_project`` run it)."""
    project, notes = index_project(
        paths, config, [IMPORT_FACTS], jobs=jobs, subprojects=subprojects, use_cache=use_cache
    )
    graph = import_graph(project)
    boundaries = resolve_boundaries(config, graph)
    settings = config.section(BoundarySettings)
    if level == "auto":
        level = "module" if boundaries.components else "file"
    if level == "module":
        view = component_graph(graph, boundaries, include_lazy=True, include_type_checking=True)
    else:
        view = DiGraph()
        for module in graph.internal_nodes():
            view.add_node(module)
        for importer, imported, sites in graph.edges():
            if not graph.is_external(imported):
                view.add_edge(importer, imported, sites=list(sites))
    # The cycles count only the import kinds the settings count: the view's edges with
    # such a site (at module level, what component_graph with those settings gives).
    counted_edges = DiGraph()
    counted_edges.add_nodes_from(view.nodes)
    for importer, imported, data in view.edges(data=True):
        if counted(
            data["sites"],
            lazy=settings.cycles_include_lazy,
            type_checking=settings.cycles_include_type_checking,
            dynamic=True,
        ):
            counted_edges.add_edge(importer, imported)
    cycles = find_cycles(counted_edges)
    if project.report_paths is not None:
        view, cycles = _narrow(view, cycles, graph, boundaries, level, project.report_paths)
    shown = len(project.files)
    if project.report_paths is not None:
        shown = len(project.report_paths & project.files.keys())
    return ImportsOverview(
        graph, boundaries, level, view, cycles, notes, shown, len(project.files) - shown
    )


def _narrow(
    view: DiGraph,
    cycles: list[tuple[list[str], list[str]]],
    graph: ImportGraph,
    boundaries: Boundaries,
    level: str,
    report_paths: set[str],
) -> tuple[DiGraph, list[tuple[list[str], list[str]]]]:
    """The view of the given paths within the whole project: their nodes, and the
    edges into and out of them (the rest of the project stays as their neighbours)."""
    reported = {m for m, path in graph.table.files.items() if path in report_paths}
    if level == "module":  # the nodes stand for components, as in component_graph
        reported = {boundaries.component_of(m) or m for m in reported}
    focus = reported & set(view.nodes)
    narrowed = DiGraph()
    narrowed.add_nodes_from(focus)
    for importer, imported, data in view.edges(data=True):
        if importer in focus or imported in focus:
            narrowed.add_edge(importer, imported, **data)
    kept = [(cycle, members) for cycle, members in cycles if focus & set(members)]
    return narrowed, kept


def build_overviews(
    paths: list[Path],
    config: Config,
    level: str,
    jobs: int,
    notes: list[str],
    use_cache: bool = False,
) -> list[tuple[str, ImportsOverview]]:
    """``(project folder, overview)`` for the config's project (``""``) and every
    monorepo member the paths reach, each with its own source roots and settings."""

    def build(own: list[Path], project_config: Config, subprojects: list[Path]) -> ImportsOverview:
        return build_overview(own, project_config, level, jobs, subprojects, use_cache)

    parts = each_project(paths, config, build, notes)
    for prefix, overview in parts:
        notes.extend(f"{prefix}: {note}" if prefix else note for note in overview.notes)
    return parts


def merged_export(parts: list[tuple[str, ImportsOverview]]) -> nx.DiGraph:
    """The exported graph of every project; with monorepo members, paths start at the
    run's root, each node says its ``project`` folder, and a module name another
    project already uses is qualified with its folder (``packages/b:pkg.core``)."""
    import networkx as nx

    if len(parts) == 1 and not parts[0][0]:
        return export_view(parts[0][1])
    out: nx.DiGraph = nx.DiGraph()
    for prefix, overview in parts:
        view = export_view(overview)
        names = {n: n if n not in out else f"{prefix or '.'}:{n}" for n in view.nodes}
        for node, attrs in view.nodes(data=True):
            moved = {**attrs, "label": names[node], "project": prefix or "."}
            if moved.get("path"):
                moved["path"] = joined(prefix, str(moved["path"]))
            out.add_node(names[node], **moved)
        for importer, imported, data in view.edges(data=True):
            sites = [joined(prefix, site) for site in data["sites"]]
            out.add_edge(names[importer], names[imported], **{**data, "sites": sites})
    return out


def export_view(overview: ImportsOverview) -> nx.DiGraph:
    """The graph with plain attributes, ready for :func:`export_graph`."""
    import networkx as nx

    in_cycle = {m for _, members in overview.cycles for m in members}
    out: nx.DiGraph = nx.DiGraph()
    for node in sorted(overview.view.nodes):
        attrs: dict[str, object] = {"label": node, "in_cycle": node in in_cycle}
        if overview.level == "module":
            attrs["component"] = node in overview.boundaries.components
            attrs["shared"] = overview.boundaries.is_shared(node)
        else:
            attrs["path"] = overview.graph.table.files.get(node, "")
        out.add_node(node, **attrs)
    for importer, imported, data in sorted(overview.view.edges(data=True)):
        sites = data["sites"]
        kinds = sorted({s.kind for s in sites})
        out.add_edge(
            importer,
            imported,
            imports=len(sites),
            kinds=kinds,
            label=", ".join(kinds) if kinds != ["regular"] else "",
            sites=[f"{s.path}:{s.line}" for s in sites],
        )
    return out


def render_table(overview: ImportsOverview, color: bool, project: str = "") -> None:
    from rich.console import Console
    from rich.table import Table

    in_cycle = {m for _, members in overview.cycles for m in members}
    view = overview.view
    title = "Module dependencies" if overview.level == "module" else "File module dependencies"
    if project:
        title += f" ({project})"
    table = Table(title=title)
    for column in ("Module", "Imports", "Imported by", "In cycle"):
        table.add_column(column)
    for node in sorted(view.nodes):
        table.add_row(
            node,
            ", ".join(sorted(view.successors(node))) or "-",
            ", ".join(sorted(view.predecessors(node))) or "-",
            "yes" if node in in_cycle else "",
        )
    console = Console(no_color=not color, width=160, soft_wrap=False)
    console.print(table)
    if overview.cycles:
        console.print(f"Cycles ({len(overview.cycles)}):", markup=False)
        for cycle, members in overview.cycles:
            line = "  " + " -> ".join(cycle)
            if len(members) > len(cycle) - 1:
                line += f"  (tangle: {', '.join(members)})"
            console.print(line, markup=False, highlight=False)
    else:
        console.print("No import cycles.", markup=False)


@view_command(
    "imports",
    ["text", *FORMATS],
    "text",
    "text: the dependency table and cycles; otherwise the graph in that format.",
)
@auto_choice_option(
    "--level",
    ["auto", "module", "file"],
    "module: components from [tool.integ-lint.boundaries]; file: every Python module.",
)
@no_cache_option
def imports_command(
    paths: tuple[Path, ...],
    config_file: Path | None,
    output_format: str,
    level: str,
    output: Path | None,
    jobs: int | None,
    color: bool | None,
    no_cache: bool,
) -> None:
    """Show the import graph of PATHS (default: here): who imports whom, and cycles.

    The whole project is read; PATHS narrower than the project show their modules
    with the edges into and out of the whole project. Folders holding their own
    pyproject.toml are shown as the projects they are.
    """

    def build(
        scan_paths: list[Path], config: Config, notes: list[str]
    ) -> list[tuple[str, ImportsOverview]]:
        return build_overviews(
            scan_paths,
            config,
            level,
            config.general.jobs if jobs is None else jobs,
            notes,
            use_cache=not no_cache,
        )

    usage_error = ""
    if output_format == "text" and output is not None:
        usage_error = "--output needs a graph --format (dot, graphml, json or mermaid)"
    parts = gather_view(paths, config_file, build, usage_error)
    context = context_line(
        sum(o.files_shown for _, o in parts), sum(o.files_context for _, o in parts)
    )
    if context:
        click.echo(f"integ-lint: {context}", err=True)
    if output_format == "text":
        several = len(parts) > 1 or any(prefix for prefix, _ in parts)
        for prefix, overview in parts:
            render_table(overview, use_color(sys.stdout, color), (prefix or ".") if several else "")
        return
    levels = sorted({overview.level for _, overview in parts}) or ["file"]
    title = f"imports ({levels[0] if len(levels) == 1 else ' and '.join(levels)} level)"
    graph = merged_export(parts)
    text = export_graph(graph, output_format, title=title)
    emit(text, output, f"{graph.number_of_nodes()} modules.")
