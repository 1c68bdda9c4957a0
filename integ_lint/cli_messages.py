"""``integ-lint messages PATH``: the message-flow map. A table of events (publishers,
subscribers, payload keys sent and read), or a picture of components -> events ->
components as Mermaid, DOT, JSON, SVG or HTML."""

from __future__ import annotations

import html
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import click
import networkx as nx

from .boundaries import match_module
from .cli import (
    color_option,
    config_file_option,
    emit,
    fail,
    jobs_option,
    load_project_config,
    main,
    output_option,
    use_color,
)
from .config import Config, ConfigError
from .discovery import DiscoveryError
from .facts.messages import MessageFactCollector
from .graph_draw import graphviz_svg
from .graph_export import export_graph
from .messages import MessageIndex, build_message_index, payload_parameter
from .project import ProjectIndex
from .settings import BoundarySettings, MessageSettings

MESSAGE_FORMATS = ("table", "json", "mermaid", "dot", "svg", "html")
TITLE = "Message flow"


@dataclass
class EventRow:
    event: str
    family: str
    publishers: list[str] = field(default_factory=list)  # components
    subscribers: list[str] = field(default_factory=list)
    sent: list[str] | None = field(default_factory=list)  # None: a payload is unknown
    read: list[str] = field(default_factory=list)
    sites: list[str] = field(default_factory=list)


def component_of(module: str, config: Config) -> str:
    """The configured boundary component holding ``module`` (``app.*`` globs included:
    the longest prefix of ``module`` a pattern matches), else its first two parts."""
    parts = module.split(".")
    prefixes = [".".join(parts[:end]) for end in range(len(parts), 0, -1)]
    for prefix in prefixes:
        if any(
            match_module(pattern, prefix) for pattern in config.section(BoundarySettings).modules
        ):
            return prefix
    return ".".join(parts[:2]) or module


def event_rows(index: MessageIndex, project: ProjectIndex) -> list[EventRow]:
    modules = {path: facts.module for path, facts in project.files.items()}
    rows = []
    for key, entry in sorted(index.events.items(), key=lambda item: (item[0].family, item[0].name)):
        row = EventRow(event=key.label(), family=key.family)
        for path, publication in entry.publications:
            row.publishers.append(component_of(modules.get(path, path), project.config))
            row.sites.append(f"{path}:{publication.site.span.start_line} publish")
        for path, subscription in entry.subscriptions:
            row.subscribers.append(component_of(modules.get(path, path), project.config))
            row.sites.append(f"{path}:{subscription.site.span.start_line} subscribe")
            found = index.functions.get(subscription.handler)
            if found is not None:
                function = found[1]
                reads = dict(function.reads)
                for param in payload_parameter(function, key.family):
                    row.read.extend(r.key for r in reads.get(param, ()))
        keys = entry.payload_keys()
        row.sent = sorted(keys - {"sender", "signal"}) if keys is not None else None
        row.publishers = sorted(set(row.publishers))
        row.subscribers = sorted(set(row.subscribers))
        row.read = sorted(set(row.read))
        rows.append(row)
    return rows


def flow_graph(rows: list[EventRow]) -> nx.DiGraph:
    graph = nx.DiGraph(name=TITLE)
    for row in rows:
        event_node = f"event:{row.event}"
        graph.add_node(event_node, kind="event", label=row.event, family=row.family)
        for component in row.publishers:
            graph.add_node(f"component:{component}", kind="component", label=component)
            graph.add_edge(f"component:{component}", event_node, kind="publishes")
        for component in row.subscribers:
            graph.add_node(f"component:{component}", kind="component", label=component)
            graph.add_edge(event_node, f"component:{component}", kind="subscribes")
    return graph


def mermaid(rows: list[EventRow]) -> str:
    lines = ["flowchart LR"]
    ids: dict[str, str] = {}

    def node(name: str, shape: tuple[str, str]) -> str:
        if name not in ids:
            ids[name] = f"n{len(ids)}"
            text = name.replace('"', "'")
            lines.append(f'    {ids[name]}{shape[0]}"{text}"{shape[1]}')
        return ids[name]

    for row in rows:
        event = node(row.event, ("([", "])"))
        for component in row.publishers:
            lines.append(f"    {node(component, ('[', ']'))} -->|publishes| {event}")
        for component in row.subscribers:
            lines.append(f"    {event} -->|subscribes| {node(component, ('[', ']'))}")
    return "\n".join(lines) + "\n"


def dot(rows: list[EventRow]) -> str:
    return export_graph(flow_graph(rows), "dot", title=TITLE)


def builtin_svg(rows: list[EventRow]) -> str:
    """Three columns: publishing components, events, subscribing components."""
    publishers = sorted({c for r in rows for c in r.publishers})
    subscribers = sorted({c for r in rows for c in r.subscribers})
    events = [r.event for r in rows]
    row_height, width, box = 34, 900, 240
    height = max(len(publishers), len(events), len(subscribers), 1) * row_height + 60
    columns = {"pub": 20, "event": (width - box) // 2, "sub": width - box - 20}

    def y(index: int) -> int:
        return 50 + index * row_height

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12">',
        f'<text x="20" y="24" font-size="16">{html.escape(TITLE)}</text>',
    ]
    for row_index, row in enumerate(rows):
        ey = y(row_index) + 12
        for component in row.publishers:
            py = y(publishers.index(component)) + 12
            parts.append(
                f'<line x1="{columns["pub"] + box}" y1="{py}" x2="{columns["event"]}" '
                f'y2="{ey}" stroke="#4a7" />'
            )
        for component in row.subscribers:
            sy = y(subscribers.index(component)) + 12
            parts.append(
                f'<line x1="{columns["event"] + box}" y1="{ey}" x2="{columns["sub"]}" '
                f'y2="{sy}" stroke="#47a" />'
            )
    for column, names, fill in (
        ("pub", publishers, "#e8f5ec"),
        ("event", events, "#fff6da"),
        ("sub", subscribers, "#e8eef9"),
    ):
        for index, name in enumerate(names):
            parts.append(
                f'<rect x="{columns[column]}" y="{y(index)}" width="{box}" height="24" '
                f'rx="{12 if column == "event" else 3}" fill="{fill}" stroke="#555" />'
                f'<text x="{columns[column] + 8}" y="{y(index) + 16}">'
                f"{html.escape(name[:36])}</text>"
            )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def svg(rows: list[EventRow]) -> str:
    return graphviz_svg(dot(rows)) or builtin_svg(rows)


def html_page(rows: list[EventRow]) -> str:
    body = [
        "<!doctype html>",
        f"<html><head><meta charset='utf-8'><title>{TITLE}</title></head><body>",
        svg(rows),
        "<table border='1' cellpadding='4'><tr><th>Event</th><th>Publishers</th>"
        "<th>Subscribers</th><th>Keys sent</th><th>Keys read</th></tr>",
    ]
    for row in rows:
        sent = "unknown" if row.sent is None else ", ".join(row.sent)
        cells = (
            row.event,
            ", ".join(row.publishers),
            ", ".join(row.subscribers),
            sent,
            ", ".join(row.read),
        )
        body.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    body.append("</table></body></html>")
    return "\n".join(body) + "\n"


def render_table(rows: list[EventRow], color: bool, title: str = TITLE) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(no_color=not color, width=180, soft_wrap=False)
    if not rows:
        console.print(
            "No events found with a name known statically (event-bus publish/subscribe "
            "calls on receivers named like [tool.integ-lint.messages] bus-receivers, the "
            "configured publish/subscribe patterns, pyee emitters, redis streams and "
            "channels, or the project's Signal objects).",
            markup=False,
        )
        return
    table = Table(title=title)
    for column in ("Event", "Publishers", "Subscribers", "Keys sent", "Keys read"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row.event,
            ", ".join(row.publishers) or "-",
            ", ".join(row.subscribers) or "-",
            "unknown" if row.sent is None else ", ".join(row.sent) or "-",
            ", ".join(row.read) or "-",
        )
    console.print(table)


def message_rows(project: ProjectIndex) -> list[EventRow]:
    receivers = project.config.section(MessageSettings).bus_receivers
    return event_rows(build_message_index(project, tuple(receivers)), project)


@main.command("messages")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@config_file_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(MESSAGE_FORMATS),
    default="table",
    show_default=True,
    help="table: events with publishers, subscribers and payload keys; otherwise the "
    "components -> events -> components map.",
)
@output_option
@jobs_option
@color_option
def messages_command(
    paths: tuple[Path, ...],
    config_file: Path | None,
    output_format: str,
    output: Path | None,
    jobs: int | None,
    color: bool | None,
) -> None:
    """Show which components publish and subscribe to which events in PATHS."""
    from .engine import index_project
    from .members import each_project, merge_event_rows

    scan_paths = list(paths) or [Path(".")]
    config = load_project_config(scan_paths, config_file)
    notes: list[str] = []

    def build(own: list[Path], project_config: Config, subprojects: list[Path]) -> list[EventRow]:
        project, project_notes = index_project(
            own,
            project_config,
            [MessageFactCollector],
            jobs=config.general.jobs if jobs is None else jobs,
            subprojects=subprojects,
        )
        notes.extend(project_notes)
        return message_rows(project)

    try:
        # Every monorepo member the paths reach, each with its own settings.
        parts = each_project(scan_paths, config, build, notes)
    except (ConfigError, DiscoveryError) as exc:
        fail(str(exc))
    for note in notes:
        click.echo(f"integ-lint: warning: {note}", err=True)
    rows = merge_event_rows(parts)
    summary = f"{len(rows)} events."
    if output_format == "table":
        if output is not None:
            fail("--output needs a map format (--format json|mermaid|dot|svg|html)")
        if len(parts) == 1 and not parts[0][0]:
            render_table(rows, use_color(sys.stdout, color))
            return
        for prefix, project_rows in parts:  # one section per project
            title = f"{TITLE} ({prefix or '.'})"
            if project_rows:
                render_table(project_rows, use_color(sys.stdout, color), title)
            else:
                click.echo(f"{title}: no events found.")
        return
    renderers = {
        "json": lambda r: (
            json.dumps({"events": [row.__dict__ for row in r]}, indent=2, sort_keys=True) + "\n"
        ),
        "mermaid": mermaid,
        "dot": dot,
        "svg": svg,
        "html": html_page,
    }
    emit(renderers[output_format](rows), output, summary)
