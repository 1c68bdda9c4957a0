"""The message flow as a picture: components -> events -> components, as a table of
rows, Mermaid, DOT, SVG or a self-contained HTML page (``integ-lint messages`` and
audit certificates)."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from integ_lint.config.loader import Config
from integ_lint.config.settings import BoundarySettings
from integ_lint.engine.members import joined
from integ_lint.model.boundaries import match_module
from integ_lint.model.messages import MessageIndex, payload_parameter
from integ_lint.model.project import ProjectIndex
from integ_lint.views.draw import graphviz_svg
from integ_lint.views.export import export_graph

if TYPE_CHECKING:
    import networkx as nx

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
    import networkx as nx

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


def merge_event_rows(parts: Sequence[tuple[str, list[EventRow]]]) -> list[EventRow]:
    """The ``messages`` rows of several projects (a monorepo's members) in one list:
    sites start at the run's root; an event or component name that an earlier project
    already uses is qualified with its project's folder (``packages/b:"close"``), as
    ``graph`` qualifies class keys: the projects are analysed apart, so a shared name
    is not taken as a flow from one to the other."""
    events: set[str] = set()
    components: set[str] = set()
    merged: list[EventRow] = []
    for prefix, rows in parts:
        own_events = {row.event for row in rows}
        own_components = {c for row in rows for c in (*row.publishers, *row.subscribers)}
        event_names = {e: f"{prefix or '.'}:{e}" if e in events else e for e in own_events}
        names = {c: f"{prefix or '.'}:{c}" if c in components else c for c in own_components}
        events.update(event_names.values())
        components.update(names.values())
        merged.extend(
            replace(
                row,
                event=event_names[row.event],
                publishers=[names[c] for c in row.publishers],
                subscribers=[names[c] for c in row.subscribers],
                sites=[joined(prefix, site) for site in row.sites],
            )
            for row in rows
        )
    return merged
