"""``integ-lint graph PATH``: the manager coupling table, cycles and reach-through sites,
or the manager graph as DOT, GraphML, JSON, Mermaid, SVG or HTML."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

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
from integ_lint.engine.executor import collector_paused
from integ_lint.engine.manifest import CollectorHandle
from integ_lint.engine.members import context_line, each_project, joined
from integ_lint.facts.gpu_records import GPU_KEY
from integ_lint.facts.manager_records import MANAGERS_KEY
from integ_lint.model.coupling import (
    BackReference,
    ClassInfo,
    EdgeSite,
    ManagerGraph,
    ManagerMetrics,
    ReachThrough,
    assemble_graph,
    manager_graph,
)
from integ_lint.model.devices import DeviceOwner
from integ_lint.model.project import ProjectIndex
from integ_lint.views.export import export_graph, graph_mermaid

# The fact collectors, by name: a warm run (every file's facts cached) imports neither,
# nor LibCST behind them.
MANAGER_FACTS = CollectorHandle(MANAGERS_KEY, "integ_lint.facts.managers", "ManagerFactCollector")
GPU_FACTS = CollectorHandle(GPU_KEY, "integ_lint.facts.gpu", "GpuFactCollector")

GRAPH_FORMATS = ("table", "dot", "graphml", "json", "mermaid", "svg", "html")
TITLE = "Manager coupling"


@dataclass
class GraphView:
    """What ``integ-lint graph`` shows: the manager graph of the whole project, or of
    the managers defined in the given paths with their edges into and out of the
    whole project, and of every monorepo member the paths reach."""

    graph: ManagerGraph
    owners: list[DeviceOwner] = field(default_factory=list)  # for the table only
    # The managers defined in the given paths when they are narrower than the project
    # (None: every node is one); the other nodes are their neighbours elsewhere.
    focus: set[str] | None = None
    files_shown: int = 0  # files whose managers the view is about
    files_context: int = 0  # files read only for the whole project's facts


def build_view(
    paths: list[Path],
    config: Config,
    *,
    with_owners: bool,
    jobs: int,
    notes: list[str],
    use_cache: bool = False,
) -> GraphView:
    """The view of ``paths``: each project (the config's, and every member) indexed
    whole, narrowed to the given paths, then merged. ``use_cache``: read and write the
    per-file cache, as ``check`` does."""
    from integ_lint.engine.pipeline import index_project
    from integ_lint.model.devices import device_owners

    collectors = [MANAGER_FACTS, GPU_FACTS] if with_owners else [MANAGER_FACTS]

    def build(own: list[Path], project_config: Config, subprojects: list[Path]) -> GraphView:
        project, problems = index_project(
            own,
            project_config,
            collectors,
            jobs=jobs,
            subprojects=subprojects,
            use_cache=use_cache,
        )
        notes.extend(problems)
        with collector_paused():
            graph = manager_graph(project)
            owners = device_owners(project) if with_owners else []
        if project.report_paths is None:
            return GraphView(graph, owners, files_shown=len(project.files))
        reported = project.report_paths
        owners = [o for o in owners if not o.path or o.path in reported]
        view = narrow(graph, reported, owners)
        view.files_shown = len(reported & project.files.keys())
        view.files_context = len(project.files) - view.files_shown
        return view

    parts = each_project(paths, config, build, notes)
    if len(parts) == 1 and parts[0][0] == "":
        return parts[0][1]
    return merge(parts)


def narrow(graph: ManagerGraph, report_paths: set[str], owners: list[DeviceOwner]) -> GraphView:
    """The managers defined in ``report_paths`` with every edge into and out of them
    (their neighbours elsewhere in the project stay, as the other ends), the cycles,
    back-references and reach-through sites that involve them. Metrics stay those of
    the whole project; density and the longest chain are the view's."""
    focus = {key for key, info in graph.classes.items() if info.relpath in report_paths}
    edge_sites = {
        edge: sites
        for edge, sites in graph.edge_sites.items()
        if edge[0] in focus or edge[1] in focus
    }
    nodes = focus | {u for u, _, _ in edge_sites} | {v for _, v, _ in edge_sites}
    view = assemble_graph(
        nodes,
        edge_sites,
        graph.labels,
        {key: graph.metrics[key] for key in nodes},
        {key: graph.classes[key] for key in nodes},
        cycles=[c for c in graph.cycles if focus.intersection(c)],
        components=[c for c in graph.components if focus.intersection(c)],
        reach_throughs=[
            r
            for r in graph.reach_throughs
            if r.path in report_paths or r.owner in focus or focus.intersection(r.hops)
        ],
        back_references=[b for b in graph.back_references if b.owner in focus or b.target in focus],
        touched={key: graph.touched.get(key, set()) for key in nodes},
    )
    return GraphView(view, owners, focus)


def merge(parts: list[tuple[str, GraphView]]) -> GraphView:
    """One view of several projects (a monorepo's members, each with its own
    settings): paths start at the run's root; a class key that another project already
    uses is qualified with its project's folder (``packages/b:pkg.Manager``)."""
    nodes: set[str] = set()
    edge_sites: dict[tuple[str, str, str], list[EdgeSite]] = {}
    classes: dict[str, ClassInfo] = {}
    metrics: dict[str, ManagerMetrics] = {}
    cycles: list[list[str]] = []
    components: list[list[str]] = []
    reach: list[ReachThrough] = []
    back: list[BackReference] = []
    touched: dict[str, set[tuple[str, str]]] = {}
    owners: list[DeviceOwner] = []
    focus: set[str] = set()
    outside: dict[str, str] = {}
    for prefix, view in parts:
        graph = view.graph
        keys = {k: k if k not in nodes else f"{prefix or '.'}:{k}" for k in graph.classes}

        def key(k: str, keys: dict[str, str] = keys) -> str:
            return keys.get(k, k)

        def path(p: str, prefix: str = prefix) -> str:
            return joined(prefix, p)

        nodes.update(keys.values())
        for (u, v, kind), sites in graph.edge_sites.items():
            edge_sites[key(u), key(v), kind] = [replace(s, path=path(s.path)) for s in sites]
        for k, info in graph.classes.items():
            classes[key(k)] = replace(info, key=key(k), relpath=path(info.relpath))
            metrics[key(k)] = replace(graph.metrics[k], key=key(k), file=path(info.relpath))
            touched[key(k)] = {(key(t), attr) for t, attr in graph.touched.get(k, set())}
        cycles.extend([key(n) for n in c] for c in graph.cycles)
        components.extend([key(n) for n in c] for c in graph.components)
        reach.extend(
            replace(r, path=path(r.path), owner=key(r.owner), hops=tuple(map(key, r.hops)))
            for r in graph.reach_throughs
        )
        back.extend(
            replace(b, path=path(b.path), owner=key(b.owner), target=key(b.target))
            for b in graph.back_references
        )
        owners.extend(replace(o, path=path(o.path)) if o.path else o for o in view.owners)
        focus.update(map(key, view.focus if view.focus is not None else graph.classes))
        # A narrowed view keeps whole cycles and reach-through chains, whose members
        # may lie beyond its nodes: they keep their project's label.
        beyond = {n for c in [*graph.cycles, *graph.components] for n in c}
        beyond.update(h for r in graph.reach_throughs for h in r.hops)
        outside.update((key(n), graph.label(n)) for n in beyond - graph.classes.keys())
    # Short names where they are unique across the projects, as within one.
    names: dict[str, list[str]] = {}
    for k, info in classes.items():
        names.setdefault(info.name, []).append(k)
    labels = {k: info.name if len(names[info.name]) == 1 else k for k, info in classes.items()}
    labels = {**outside, **labels}
    metrics = {k: replace(m, name=labels[k]) for k, m in metrics.items()}
    merged = assemble_graph(
        nodes,
        edge_sites,
        labels,
        metrics,
        classes,
        cycles=sorted(cycles, key=lambda c: [labels[n] for n in c]),
        components=sorted(components, key=lambda c: [labels[n] for n in c]),
        reach_throughs=sorted(
            reach, key=lambda r: (r.path, r.site.span.start_line, r.site.span.start_col)
        ),
        back_references=sorted(
            back, key=lambda b: (b.path, b.site.span.start_line, b.site.span.start_col)
        ),
        touched=touched,
    )
    narrowed = any(view.focus is not None for _, view in parts)
    return GraphView(
        merged,
        sorted(owners, key=lambda o: o.name),
        focus if narrowed else None,
        sum(view.files_shown for _, view in parts),
        sum(view.files_context for _, view in parts),
    )


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


def render_table(graph: ManagerGraph, color: bool, top: int, focus: set[str] | None = None) -> None:
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
    managers = f"{len(graph.metrics)} managers"
    if focus is not None:
        managers = (
            f"{len(focus)} manager{'' if len(focus) == 1 else 's'} in the given paths and "
            f"{len(graph.metrics) - len(focus)} they meet elsewhere in the project"
        )
    console.print(
        f"{managers}, {graph.simple.number_of_edges()} dependencies, "
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


@view_command(
    "graph",
    GRAPH_FORMATS,
    "table",
    "table: metrics, cycles and reach-through sites; svg/html: a picture; "
    "otherwise the graph in that format.",
)
@auto_choice_option(
    "--layout",
    ["auto", "graphviz", "builtin"],
    "For svg/html: Graphviz `dot` when installed (auto), or the built-in layout.",
)
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Reach-through sites to list in the table.",
)
@no_cache_option
def graph_command(
    paths: tuple[Path, ...],
    config_file: Path | None,
    output_format: str,
    layout: str,
    top: int,
    output: Path | None,
    jobs: int | None,
    color: bool | None,
    no_cache: bool,
) -> None:
    """Show how the managers of PATHS (default: here) depend on each other.

    The whole project is read; PATHS narrower than the project show the managers
    defined in them with their edges into and out of the whole project. Folders
    holding their own pyproject.toml are shown as the projects they are.
    """

    def build(scan_paths: list[Path], config: Config, notes: list[str]) -> GraphView:
        return build_view(
            scan_paths,
            config,
            # The table also lists the device owners (GPU facts, same single pass).
            with_owners=output_format == "table",
            jobs=config.general.jobs if jobs is None else jobs,
            notes=notes,
            use_cache=not no_cache,
        )

    usage_error = ""
    if output_format == "table" and output is not None:
        usage_error = "--output needs a graph format (--format dot|graphml|json|mermaid|svg|html)"
    view = gather_view(paths, config_file, build, usage_error)
    context = context_line(view.files_shown, view.files_context)
    if context:
        click.echo(f"integ-lint: {context}", err=True)
    graph = view.graph
    summary = f"{len(graph.metrics)} managers, {len(graph.cycles)} cycles."
    if output_format == "table":
        render_table(graph, use_color(sys.stdout, color), top, view.focus)
        if view.owners:
            click.echo(f"Device owners ({len(view.owners)}, see docs/rules/gpu.md):")
            for owner in view.owners:
                where = f"  {owner.path}:{owner.line}" if owner.path else ""
                click.echo(f"  {owner.name}{where}  {owner.why}")
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
        emit(graph_mermaid(graph, title=TITLE), output, summary)
        return
    emit(export_text(graph, output_format), output, summary)


def index_project(
    paths: Sequence[Path], config: Config, jobs: int = 1, notes: list[str] | None = None
) -> ProjectIndex:
    """Run only the manager fact collector over ``paths`` and index the result; files
    that cannot be read or parsed are described in ``notes`` (one line each)."""
    from integ_lint.engine.pipeline import index_project as index_with

    project, problems = index_with(paths, config, [MANAGER_FACTS], jobs=jobs)
    if notes is not None:
        notes.extend(problems)
    return project
