"""Exporting any :class:`networkx.DiGraph` as text: DOT, GraphML, JSON or Mermaid.

Used by ``integ-lint imports`` (the module import graph) and by the coupling
commands (the manager graph). Attribute values that the target format cannot hold
(tuples, lists, dataclasses, None) are made safe: GraphML keeps only ``str``, ``int``,
``float`` and ``bool`` (everything else becomes its ``str()``, None is dropped); JSON
keeps what :mod:`json` can encode and turns the rest into strings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Hashable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import networkx as nx

    from integ_lint.model.coupling import ManagerGraph
    from integ_lint.model.project import ProjectIndex

FORMATS: tuple[str, ...] = ("dot", "graphml", "json", "mermaid")

_SCALARS = (str, int, float, bool)


class ExportError(ValueError):
    """An unknown export format."""


def export_graph(graph: nx.DiGraph, fmt: str, *, title: str = "") -> str:
    """``graph`` as text in ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "dot":
        return to_dot(graph, title=title)
    if fmt == "graphml":
        return to_graphml(graph, title=title)
    if fmt == "json":
        return to_json(graph, title=title)
    if fmt == "mermaid":
        return to_mermaid(graph, title=title)
    raise ExportError(f"unknown graph format {fmt!r} (expected one of {', '.join(FORMATS)})")


# -- attribute sanitising -------------------------------------------------------------


def _scalar(value: Any) -> str | int | float | bool | None:
    if value is None:
        return None
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(
            str(v)
            for v in (sorted(value, key=str) if isinstance(value, (set, frozenset)) else value)
        )
    return str(value)


def _scalar_attrs(attrs: Mapping[str, Any]) -> dict[str, str | int | float | bool]:
    out: dict[str, str | int | float | bool] = {}
    for key, value in attrs.items():
        safe = _scalar(value)
        if safe is not None:
            out[str(key)] = safe
    return out


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, _SCALARS):
        return value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return [_jsonable(v) for v in sorted(value, key=str)]
    return str(value)


def _node_key(node: Hashable) -> str:
    return node if isinstance(node, str) else str(node)


def _safe_copy(graph: nx.DiGraph, attrs: Any) -> nx.DiGraph:
    """A copy of ``graph`` with string node ids and attributes passed through ``attrs``."""
    import networkx as nx

    safe: nx.DiGraph = nx.MultiDiGraph() if graph.is_multigraph() else nx.DiGraph()
    safe.graph.update(attrs(graph.graph))
    for node, data in graph.nodes(data=True):
        safe.add_node(_node_key(node), **attrs(data))
    for source, target, data in graph.edges(data=True):
        safe.add_edge(_node_key(source), _node_key(target), **attrs(data))
    return safe


# -- formats ---------------------------------------------------------------------------


def to_graphml(graph: nx.DiGraph, *, title: str = "") -> str:
    import networkx as nx

    safe = _safe_copy(graph, _scalar_attrs)
    if title:
        safe.graph["title"] = title
    return "\n".join(nx.generate_graphml(safe, prettyprint=True)) + "\n"


def to_json(graph: nx.DiGraph, *, title: str = "") -> str:
    import networkx as nx

    safe = _safe_copy(graph, lambda attrs: {str(k): _jsonable(v) for k, v in attrs.items()})
    if title:
        safe.graph["title"] = title
    try:
        data = nx.node_link_data(safe, edges="edges")
    except TypeError:  # networkx < 3.4 names the key "links" and has no argument
        data = nx.node_link_data(safe)
    return json.dumps(data, indent=2, sort_keys=False) + "\n"


def _dot_quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _dot_attrs(attrs: Mapping[str, Any]) -> str:
    items = []
    for key, value in _scalar_attrs(attrs).items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        items.append(f"{_dot_quote(key)}={_dot_quote(str(value))}")
    return f" [{', '.join(items)}]" if items else ""


def to_dot(graph: nx.DiGraph, *, title: str = "") -> str:
    lines = [f"digraph {_dot_quote(title or 'G')} {{"]
    if title:
        lines.append(f"  label={_dot_quote(title)};")
    lines.append("  rankdir=LR;")
    for node, data in graph.nodes(data=True):
        lines.append(f"  {_dot_quote(_node_key(node))}{_dot_attrs(data)};")
    for source, target, data in graph.edges(data=True):
        lines.append(
            f"  {_dot_quote(_node_key(source))} -> {_dot_quote(_node_key(target))}{_dot_attrs(data)};"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


_MERMAID_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def _mermaid_label(text: str) -> str:
    # Mermaid labels are double-quoted; quotes and markup characters become entities.
    return (
        text.replace("&", "#amp;")
        .replace('"', "#quot;")
        .replace("<", "#lt;")
        .replace(">", "#gt;")
        .replace("\n", " ")
    )


def to_mermaid(graph: nx.DiGraph, *, title: str = "") -> str:
    ids: dict[Hashable, str] = {}
    used: set[str] = set()
    for index, node in enumerate(graph.nodes):
        base = "n_" + _MERMAID_UNSAFE.sub("_", _node_key(node))
        candidate = base
        if candidate in used:
            candidate = f"{base}_{index}"
        used.add(candidate)
        ids[node] = candidate
    lines = []
    if title:
        lines.extend(["---", f"title: {_mermaid_label(title)}", "---"])
    lines.append("flowchart LR")
    for node, data in graph.nodes(data=True):
        label = str(data.get("label", _node_key(node)))
        lines.append(f'  {ids[node]}["{_mermaid_label(label)}"]')
    for source, target, data in graph.edges(data=True):
        label = data.get("label")
        if label:
            lines.append(f'  {ids[source]} -->|"{_mermaid_label(str(label))}"| {ids[target]}')
        else:
            lines.append(f"  {ids[source]} --> {ids[target]}")
    return "\n".join(lines) + "\n"


def manager_mermaid(project: ProjectIndex, *, title: str = "Manager coupling") -> str:
    """The manager graph as a Mermaid flowchart (what audit certificates embed): edges
    labelled with their kinds, cycle edges drawn red and thick."""
    # Imported here: the coupling model imports the manager facts' collector, and with
    # it LibCST, which ``imports`` on a warm cache never needs.
    from integ_lint.model.coupling import manager_graph

    return graph_mermaid(manager_graph(project), title=title)


def graph_mermaid(coupling: ManagerGraph, *, title: str = "Manager coupling") -> str:
    """:func:`manager_mermaid` of a given graph (``integ-lint graph``'s narrowed or
    merged views)."""
    graph = coupling.collapsed_export_graph()
    text = to_mermaid(graph, title=title)
    styles = [
        f"  linkStyle {index} stroke:#d62728,stroke-width:3px"
        for index, (_, _, data) in enumerate(graph.edges(data=True))
        if data.get("in_cycle")
    ]
    return text + "".join(line + "\n" for line in styles)
