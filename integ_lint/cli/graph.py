"""``integ-lint graph PATH``: the manager coupling table, cycles and reach-through sites,
or the manager graph as DOT, GraphML, JSON, Mermaid, SVG or HTML."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from integ_lint.cli.options import (
    color_option,
    config_file_option,
    emit,
    fail,
    jobs_option,
    load_project_config,
    output_option,
    use_color,
)
from integ_lint.config.loader import Config, ConfigError
from integ_lint.config.settings import CouplingSettings
from integ_lint.engine.discovery import DiscoveryError
from integ_lint.facts.managers import ManagerFactCollector
from integ_lint.model.coupling import ManagerGraph, manager_graph
from integ_lint.model.project import ProjectIndex
from integ_lint.views.export import export_graph, manager_mermaid

GRAPH_FORMATS = ("table", "dot", "graphml", "json", "mermaid", "svg", "html")
TITLE = "Manager coupling"


def check_settings(config: Config) -> None:
    """Values the types alone don't rule out, as one-line errors naming the key."""
    source = str(config.config_file) if config.config_file else "command line"
    config.section(CouplingSettings).validate(source)


def export_text(graph: ManagerGraph, fmt: str) -> str:
    """The graph in one of the data formats (dot, graphml, json)."""
    exported = graph.export_graph()
    exported.graph.update(
        {
            "cycles": [[graph.label(n) for n in c] for c in graph.cycles],
            "density": round(graph.density, 4),
            "longest_chain": [[graph.label(n) for n in c] for c in graph.longest_chain],
        }
    )
    return export_graph(exported, fmt, title=TITLE)


def render_table(graph: ManagerGraph, color: bool, top: int) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(no_color=not color, width=160, soft_wrap=False)
    if not graph.metrics:
        console.print(
            "No managers found (classes named like [tool.integ-lint.coupling] "
            "manager-patterns, or subclassing manager-bases).",
            markup=False,
        )
        return
    table = Table(title=TITLE)
    for column, justify in (
        ("Manager", "left"),
        ("File", "left"),
        ("Ca", "right"),
        ("Ce", "right"),
        ("I", "right"),
        ("Betweenness", "right"),
        ("In cycle", "left"),
    ):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for m in sorted(graph.metrics.values(), key=lambda m: (-m.betweenness, -(m.ca + m.ce), m.name)):
        table.add_row(
            m.name,
            f"{m.file}:{m.line}",
            str(m.ca),
            str(m.ce),
            f"{m.instability:.2f}",
            f"{m.betweenness:.3f}",
            "yes" if m.in_cycle else "",
        )
    console.print(table)
    console.print(
        f"{len(graph.metrics)} managers, {graph.simple.number_of_edges()} dependencies, "
        f"density {graph.density:.3f}; longest dependency chain: "
        + " -> ".join(
            "{" + ", ".join(graph.label(k) for k in c) + "}" if len(c) > 1 else graph.label(c[0])
            for c in graph.longest_chain
        ),
        markup=False,
        highlight=False,
    )
    if graph.cycles:
        console.print(f"Cycles ({len(graph.cycles)}):", markup=False)
        for component in graph.cycles:
            console.print(
                "  " + " <-> ".join(graph.label(n) for n in component),
                markup=False,
                highlight=False,
            )
    else:
        console.print("No manager cycles.", markup=False)
    if graph.back_references:
        console.print(f"Back-references ({len(graph.back_references)}):", markup=False)
        for back in graph.back_references:
            console.print(
                f"  {back.path}:{back.site.span.start_line}  {back.site.snippet}",
                markup=False,
                highlight=False,
            )
    if graph.reach_throughs:
        reach = Table(title=f"Reach-through sites (top {min(top, len(graph.reach_throughs))})")
        for column in ("Site", "Expression", "Through"):
            reach.add_column(column)
        ranked = sorted(
            graph.reach_throughs,
            key=lambda r: (-len(r.hops), r.path, r.site.span.start_line, r.site.span.start_col),
        )
        for item in ranked[:top]:
            reach.add_row(
                f"{item.path}:{item.site.span.start_line}",
                item.site.snippet,
                " -> ".join(graph.label(h) for h in item.hops),
            )
        console.print(reach)
    else:
        console.print("No reach-through sites.", markup=False)


@click.command("graph")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@config_file_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(GRAPH_FORMATS),
    default="table",
    show_default=True,
    help="table: metrics, cycles and reach-through sites; svg/html: a picture; "
    "otherwise the graph in that format.",
)
@click.option(
    "--layout",
    type=click.Choice(["auto", "graphviz", "builtin"]),
    default="auto",
    show_default=True,
    help="For svg/html: Graphviz `dot` when installed (auto), or the built-in layout.",
)
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Reach-through sites to list in the table.",
)
@output_option
@jobs_option
@color_option
def graph_command(
    paths: tuple[Path, ...],
    config_file: Path | None,
    output_format: str,
    layout: str,
    top: int,
    output: Path | None,
    jobs: int | None,
    color: bool | None,
) -> None:
    """Show how the managers of PATHS (default: here) depend on each other."""
    scan_paths = list(paths) or [Path(".")]
    config = load_project_config(scan_paths, config_file)
    notes: list[str] = []
    try:
        check_settings(config)
        jobs_count = config.general.jobs if jobs is None else jobs
        if output_format == "table":
            # The table also lists the device owners (GPU facts, same single pass).
            from integ_lint.engine.pipeline import index_project as index_with
            from integ_lint.facts.gpu import GpuFactCollector
            from integ_lint.facts.managers import ManagerFactCollector

            project, problems = index_with(
                scan_paths, config, [ManagerFactCollector, GpuFactCollector], jobs=jobs_count
            )
            notes.extend(problems)
        else:
            project = index_project(scan_paths, config, jobs=jobs_count, notes=notes)
        graph = manager_graph(project)
    except (ConfigError, DiscoveryError) as exc:
        fail(str(exc))
    for note in notes:
        click.echo(f"integ-lint: warning: {note}", err=True)
    summary = f"{len(graph.metrics)} managers, {len(graph.cycles)} cycles."
    if output_format == "table":
        if output is not None:
            fail("--output needs a graph format (--format dot|graphml|json|mermaid|svg|html)")
        render_table(graph, use_color(sys.stdout, color), top)
        from integ_lint.model.devices import device_owner_lines

        owners = device_owner_lines(project)
        if owners:
            click.echo(f"Device owners ({len(owners)}, see docs/rules/gpu.md):")
            for line in owners:
                click.echo(f"  {line}")
        else:
            click.echo("No device owners (configured or inferred).")
        return
    if output_format in ("svg", "html"):
        from integ_lint.views.draw import draw_html, draw_svg

        drawing = (draw_svg if output_format == "svg" else draw_html)(graph, TITLE, engine=layout)
        if drawing.note:
            click.echo(f"integ-lint: {drawing.note}", err=True)
        emit(drawing.svg, output, summary)
        return
    if output_format == "mermaid":
        emit(manager_mermaid(project, title=TITLE), output, summary)
        return
    emit(export_text(graph, output_format), output, summary)


def index_project(
    paths: Sequence[Path], config: Config, jobs: int = 1, notes: list[str] | None = None
) -> ProjectIndex:
    """Run only the manager fact collector over ``paths`` and index the result; files
    that cannot be read or parsed are described in ``notes`` (one line each)."""
    from integ_lint.engine.pipeline import index_project as index_with

    project, problems = index_with(paths, config, [ManagerFactCollector], jobs=jobs)
    if notes is not None:
        notes.extend(problems)
    return project
