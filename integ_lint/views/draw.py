"""Pictures of the manager graph: SVG (and an HTML page around it).

Graphviz ``dot`` draws the picture when it is on ``PATH``; otherwise a layered layout
computed here is written as SVG directly. Either way nodes are coloured by instability
(green: stable, red: unstable), edges in an IL501 cycle are red and thick,
back-references dashed orange, imports grey, and edge width grows with the number of
sites behind the edge.
"""

from __future__ import annotations

import html
import math
import shutil
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING

from integ_lint.model.coupling import ManagerGraph

if TYPE_CHECKING:
    import networkx as nx

GRAPHVIZ_HINT = (
    "Graphviz `dot` not found; drew the graph with the built-in layout "
    "(install Graphviz for a tighter picture: apt-get install graphviz / brew install graphviz)"
)

CYCLE_COLOR = "#d62728"
BACK_COLOR = "#ff7f0e"
IMPORT_COLOR = "#9a9a9a"
EDGE_COLOR = "#4a4a4a"


@dataclass
class Drawing:
    svg: str
    engine: str  # "graphviz" | "builtin"
    note: str = ""  # a one-line message for the user (e.g. how to get Graphviz)


def instability_color(instability: float) -> str:
    """Pale green (0, stable) through yellow to pale red (1, unstable)."""
    value = min(max(instability, 0.0), 1.0)
    hue = 120.0 * (1.0 - value)
    return _hsl_to_hex(hue, 0.65, 0.78)


def _hsl_to_hex(hue: float, saturation: float, lightness: float) -> str:
    c = (1 - abs(2 * lightness - 1)) * saturation
    x = c * (1 - abs((hue / 60.0) % 2 - 1))
    m = lightness - c / 2
    sector = int(hue // 60) % 6
    r, g, b = [(c, x, 0.0), (x, c, 0.0), (0.0, c, x), (0.0, x, c), (x, 0.0, c), (c, 0.0, x)][sector]
    return "#{:02x}{:02x}{:02x}".format(*(round((v + m) * 255) for v in (r, g, b)))


def edge_width(count: int) -> float:
    return round(min(1.2 + 1.1 * math.log2(max(count, 1)), 6.0), 2)


def _edge_style(graph: ManagerGraph, u: str, v: str) -> tuple[str, str, float]:
    """(colour, dash pattern, width) of the collapsed edge ``u -> v``."""
    data = graph.simple.edges[u, v]
    kinds = data["kinds"]
    width = edge_width(data["count"])
    if (u, v) in graph.cycle_edges():
        return CYCLE_COLOR, "", max(width, 3.0)
    if "back-reference" in kinds:
        return BACK_COLOR, "7,4", width
    if kinds == ["imports"]:
        return IMPORT_COLOR, "2,3", width
    return EDGE_COLOR, "", width


# -- Graphviz ------------------------------------------------------------------------------


def styled_dot(graph: ManagerGraph, title: str = "Manager coupling") -> str:
    """DOT with the picture's styling (colours, widths, labels) for Graphviz."""

    def q(text: str) -> str:
        escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return '"' + escaped + '"'

    lines = [
        f"digraph {q(title)} {{",
        f"  label={q(title)}; labelloc=t; fontname=Helvetica; rankdir=TB; nodesep=0.35;",
        '  node [shape=box, style="rounded,filled", fontname=Helvetica, fontsize=11];',
        "  edge [fontname=Helvetica, fontsize=9, arrowsize=0.7];",
    ]
    cycle_nodes = graph.cycle_nodes
    for key in sorted(graph.metrics, key=graph.label):
        m = graph.metrics[key]
        label = f"{m.name}\nCa {m.ca} · Ce {m.ce} · I {m.instability:.2f}"
        border = f", color={q(CYCLE_COLOR)}, penwidth=2.5" if key in cycle_nodes else ""
        lines.append(
            f"  {q(graph.label(key))} [label={q(label)}, fillcolor={q(instability_color(m.instability))}{border}];"
        )
    counts = _kind_counts(graph)
    for u, v in sorted(graph.simple.edges, key=lambda e: (graph.label(e[0]), graph.label(e[1]))):
        color, dash, width = _edge_style(graph, u, v)
        data = graph.simple.edges[u, v]
        style = ", style=dashed" if dash and color == BACK_COLOR else ""
        style = ", style=dotted" if dash and color == IMPORT_COLOR else style
        if "owns" in data["kinds"]:
            style += ", dir=both, arrowtail=diamond"
        lines.append(
            f"  {q(graph.label(u))} -> {q(graph.label(v))} "
            f"[label={q(_edge_label(data['kinds'], counts[(u, v)]))}, "
            f"color={q(color)}, fontcolor={q(color)}, penwidth={width}{style}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def graphviz_svg(dot_source: str, timeout: float = 60.0) -> str | None:
    """Run ``dot -Tsvg``; None when Graphviz is missing or fails."""
    executable = shutil.which("dot")
    if executable is None:
        return None
    try:
        completed = subprocess.run(
            [executable, "-Tsvg"],
            input=dot_source.encode("utf-8"),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if completed.returncode != 0:
        return None
    return completed.stdout.decode("utf-8", errors="replace")


def draw_svg(
    graph: ManagerGraph, title: str = "Manager coupling", *, engine: str = "auto"
) -> Drawing:
    """The picture as SVG. ``engine``: ``auto`` (Graphviz when installed),
    ``graphviz`` or ``builtin``."""
    if engine in ("auto", "graphviz"):
        svg = graphviz_svg(styled_dot(graph, title))
        if svg is not None:
            return Drawing(svg, "graphviz")
        return Drawing(builtin_svg(graph, title), "builtin", GRAPHVIZ_HINT)
    return Drawing(builtin_svg(graph, title), "builtin")


# -- the built-in layered layout ------------------------------------------------------------

_NODE_HEIGHT = 46
_LAYER_GAP = 110
_NODE_GAP = 34
_DUMMY_WIDTH = 14
_MARGIN = 40
_TOP = 76

Point = tuple[float, float]


@dataclass
class Layout:
    """Node boxes (``key -> (centre x, centre y, width)``) and, for edges spanning
    several layers, the points they pass through between the layers."""

    nodes: dict[str, tuple[float, float, float]]
    routes: dict[tuple[str, str], list[Point]]
    width: float
    height: float


def _node_width(name: str) -> int:
    return max(150, 8 * len(name) + 36)


def _dependency_graph(graph: ManagerGraph) -> nx.DiGraph:
    import networkx as nx

    deps = nx.DiGraph()
    deps.add_nodes_from(graph.metrics)
    deps.add_edges_from(
        (u, v) for u, v, kinds in graph.simple.edges(data="kinds") if "back-reference" not in kinds
    )
    return deps


def layered_layout(graph: ManagerGraph) -> Layout:
    """A Sugiyama-style layout: layers by longest dependency path (a cycle's members
    share a layer), long edges split by dummy points, order within layers by
    barycentre sweeps (a cycle's members kept side by side)."""
    import networkx as nx

    condensed = nx.condensation(_dependency_graph(graph))
    mapping: dict[str, int] = condensed.graph["mapping"]
    depth: dict[str, int] = {}
    component_depth: dict[int, int] = {}
    for component in nx.topological_sort(condensed):
        component_depth[component] = max(
            (component_depth[p] + 1 for p in condensed.predecessors(component)), default=0
        )
    for key in graph.metrics:
        depth[key] = component_depth[mapping[key]]
    group: dict[str, int] = {key: mapping[key] for key in graph.metrics}
    layers: dict[int, list[str]] = {}
    for key in sorted(graph.metrics, key=graph.label):
        layers.setdefault(depth[key], []).append(key)
    # dummies for edges spanning more than one layer
    links: list[tuple[str, str]] = []
    chains: dict[tuple[str, str], list[str]] = {}
    widths = {k: float(_node_width(graph.label(k))) for k in graph.metrics}
    for u, v in sorted(graph.simple.edges):
        du, dv = depth[u], depth[v]
        step = 1 if dv > du else -1
        if abs(dv - du) <= 1:
            links.append((u, v))
            continue
        previous = u
        chain = []
        for layer in range(du + step, dv, step):
            dummy = f"\0{u}\0{v}\0{layer}"
            layers.setdefault(layer, []).append(dummy)
            widths[dummy] = _DUMMY_WIDTH
            group[dummy] = -1 - len(group)
            depth[dummy] = layer
            links.append((previous, dummy))
            chain.append(dummy)
            previous = dummy
        links.append((previous, v))
        chains[(u, v)] = chain
    neighbours: dict[str, list[str]] = {k: [] for k in depth}
    for a, b in links:
        if depth[a] != depth[b]:
            neighbours[a].append(b)
            neighbours[b].append(a)
    position = {k: float(i) for keys in layers.values() for i, k in enumerate(keys)}
    order = sorted(layers)
    for sweep in range(8):
        downward = sweep % 2 == 0
        for index in order if downward else list(reversed(order)):
            keys = layers[index]
            reference = index - 1 if downward else index + 1

            def barycentre(key: str, reference: int = reference) -> tuple[float, str]:
                near = [n for n in neighbours[key] if depth[n] == reference]
                if not near:
                    return position[key], key
                return sum(position[n] for n in near) / len(near), key

            keys.sort(key=barycentre)
            first: dict[int, int] = {}
            for i, key in enumerate(keys):
                first.setdefault(group[key], i)
            keys.sort(key=lambda k: first[group[k]])
            for i, key in enumerate(keys):
                position[key] = float(i)
    xs = _assign_x(layers, widths, neighbours)
    placed: dict[str, tuple[float, float, float]] = {}
    for index, keys in layers.items():
        y = _TOP + index * (_NODE_HEIGHT + _LAYER_GAP) + _NODE_HEIGHT / 2
        for key in keys:
            placed[key] = (xs[key], y, widths[key])
    total = max((x + w / 2 for x, _, w in placed.values()), default=0.0) - _MARGIN
    nodes = {k: placed[k] for k in graph.metrics}
    routes = {edge: [placed[d][:2] for d in chain] for edge, chain in chains.items()}
    height = (max(layers, default=0) + 1) * (_NODE_HEIGHT + _LAYER_GAP) + _TOP
    return Layout(nodes, routes, total + 2 * _MARGIN, height)


def _assign_x(
    layers: dict[int, list[str]], widths: dict[str, float], neighbours: dict[str, list[str]]
) -> dict[str, float]:
    """x of every box: pulled towards the mean x of its neighbours in the adjacent
    layers, keeping the order within each layer and a gap between boxes."""
    xs: dict[str, float] = {}
    for keys in layers.values():
        x = 0.0
        for key in keys:
            xs[key] = x + widths[key] / 2
            x += widths[key] + _NODE_GAP
    order = sorted(layers)
    for sweep in range(12):
        for index in order if sweep % 2 == 0 else list(reversed(order)):
            keys = layers[index]
            desired = [
                sum(xs[n] for n in neighbours[k]) / len(neighbours[k]) if neighbours[k] else xs[k]
                for k in keys
            ]
            left = list(desired)
            for i in range(1, len(keys)):
                gap = (widths[keys[i - 1]] + widths[keys[i]]) / 2 + _NODE_GAP
                left[i] = max(left[i], left[i - 1] + gap)
            right = list(desired)
            for i in range(len(keys) - 2, -1, -1):
                gap = (widths[keys[i]] + widths[keys[i + 1]]) / 2 + _NODE_GAP
                right[i] = min(right[i], right[i + 1] - gap)
            for i, key in enumerate(keys):
                xs[key] = (left[i] + right[i]) / 2
            # the average of two feasible placements is feasible only up to rounding
            for i in range(1, len(keys)):
                gap = (widths[keys[i - 1]] + widths[keys[i]]) / 2 + _NODE_GAP
                xs[keys[i]] = max(xs[keys[i]], xs[keys[i - 1]] + gap)
    lowest = min((xs[k] - widths[k] / 2 for k in xs), default=0.0)
    return {k: x - lowest + _MARGIN for k, x in xs.items()}


def _clip(cx: float, cy: float, width: float, tx: float, ty: float) -> Point:
    """Where the line from a box centre towards (tx, ty) leaves the box."""
    dx, dy = tx - cx, ty - cy
    if dx == 0 and dy == 0:
        return cx, cy
    half_w, half_h = width / 2 + 2, _NODE_HEIGHT / 2 + 2
    scale = min(half_w / abs(dx) if dx else math.inf, half_h / abs(dy) if dy else math.inf)
    return cx + dx * scale, cy + dy * scale


def _smooth_path(points: list[Point]) -> str:
    """A Catmull-Rom spline through ``points`` as cubic Beziers."""
    parts = [f"M{points[0][0]:.1f},{points[0][1]:.1f}"]
    for i in range(len(points) - 1):
        p0 = points[i - 1] if i > 0 else points[i]
        p1, p2 = points[i], points[i + 1]
        p3 = points[i + 2] if i + 2 < len(points) else p2
        c1 = (p1[0] + (p2[0] - p0[0]) / 6, p1[1] + (p2[1] - p0[1]) / 6)
        c2 = (p2[0] - (p3[0] - p1[0]) / 6, p2[1] - (p3[1] - p1[1]) / 6)
        parts.append(f"C{c1[0]:.1f},{c1[1]:.1f} {c2[0]:.1f},{c2[1]:.1f} {p2[0]:.1f},{p2[1]:.1f}")
    return " ".join(parts)


def _edge_geometry(graph: ManagerGraph, layout: Layout, u: str, v: str) -> tuple[str, Point]:
    """The SVG path of ``u -> v`` and where its label goes."""
    ux, uy, uw = layout.nodes[u]
    vx, vy, vw = layout.nodes[v]
    route = layout.routes.get((u, v))
    if route:
        offset = 10.0 if graph.simple.has_edge(v, u) else 0.0
        inner = [(x + offset, y) for x, y in route]
        start = _clip(ux, uy, uw, *inner[0])
        end = _clip(vx, vy, vw, *inner[-1])
        points = [start, *inner, end]
        middle = inner[len(inner) // 2]
        return _smooth_path(points), middle
    bend = 0.0
    if abs(uy - vy) < 1:
        bend = 38.0 + 0.06 * abs(ux - vx)
    elif graph.simple.has_edge(v, u):
        bend = 22.0
    elif vy < uy:
        bend = 45.0
    mx, my = (ux + vx) / 2, (uy + vy) / 2
    length = math.hypot(vx - ux, vy - uy) or 1.0
    nx_, ny_ = (vy - uy) / length, -(vx - ux) / length
    cx, cy = mx + nx_ * bend * 2, my + ny_ * bend * 2
    sx, sy = _clip(ux, uy, uw, cx, cy) if bend else _clip(ux, uy, uw, vx, vy)
    ex, ey = _clip(vx, vy, vw, cx, cy) if bend else _clip(vx, vy, vw, ux, uy)
    label = (0.25 * sx + 0.5 * cx + 0.25 * ex, 0.25 * sy + 0.5 * cy + 0.25 * ey)
    return f"M{sx:.1f},{sy:.1f} Q{cx:.1f},{cy:.1f} {ex:.1f},{ey:.1f}", label


def _kind_counts(graph: ManagerGraph) -> dict[tuple[str, str], dict[str, int]]:
    counts: dict[tuple[str, str], dict[str, int]] = {}
    for (u, v, kind), sites in sorted(graph.edge_sites.items()):
        counts.setdefault((u, v), {})[kind] = len(sites)
    return counts


def _edge_label(kinds: list[str], counts: dict[str, int]) -> str:
    """Kinds other than the self-evident ``owns`` (drawn with a diamond), with counts."""
    shown = [k for k in kinds if k not in ("owns", "imports") or kinds == ["imports"]]
    return ", ".join(f"{k} x{counts[k]}" if counts[k] > 1 else k for k in shown)


def builtin_svg(graph: ManagerGraph, title: str = "Manager coupling") -> str:
    layout = layered_layout(graph)
    width = max(layout.width, 980.0)
    height = layout.height + 70
    esc = html.escape
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="Helvetica, Arial, sans-serif">',
        f"<title>{esc(title)}</title>",
        "<defs>",
    ]
    for name, color in (
        ("edge", EDGE_COLOR),
        ("cycle", CYCLE_COLOR),
        ("back", BACK_COLOR),
        ("import", IMPORT_COLOR),
    ):
        out.append(
            f'<marker id="arrow-{name}" viewBox="0 0 10 10" refX="9" refY="5" '
            f'markerWidth="9" markerHeight="9" markerUnits="userSpaceOnUse" orient="auto">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{color}"/></marker>'
            f'<marker id="owns-{name}" viewBox="0 0 16 10" refX="1" refY="5" '
            f'markerWidth="15" markerHeight="9" markerUnits="userSpaceOnUse" orient="auto">'
            f'<path d="M0,5 L8,0 L16,5 L8,10 z" fill="{color}"/></marker>'
        )
    out.append("</defs>")
    out.append('<rect width="100%" height="100%" fill="#ffffff"/>')
    out.append(f'<text x="{_MARGIN}" y="32" font-size="18" font-weight="bold">{esc(title)}</text>')
    cycles = len(graph.cycles)
    out.append(
        f'<text x="{_MARGIN}" y="52" font-size="11" fill="#555">'
        f"{len(graph.metrics)} managers, {graph.simple.number_of_edges()} dependencies, "
        f"{cycles} cycle{'s' if cycles != 1 else ''}. Arrows point from a class to what it "
        "depends on; a diamond marks the owner.</text>"
    )
    counts = _kind_counts(graph)
    labels_out: list[str] = []
    for u, v in sorted(graph.simple.edges, key=lambda e: (graph.label(e[0]), graph.label(e[1]))):
        color, dash, stroke = _edge_style(graph, u, v)
        marker = {CYCLE_COLOR: "cycle", BACK_COLOR: "back", IMPORT_COLOR: "import"}.get(
            color, "edge"
        )
        data = graph.simple.edges[u, v]
        path, (lx, ly) = _edge_geometry(graph, layout, u, v)
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        start = f' marker-start="url(#owns-{marker})"' if "owns" in data["kinds"] else ""
        kinds_text = ", ".join(f"{k} x{n}" for k, n in counts[(u, v)].items())
        tooltip = f"{graph.label(u)} -> {graph.label(v)}: {kinds_text}"
        out.append(
            f'<path d="{path}" fill="none" stroke="{color}" stroke-width="{stroke}"'
            f'{dash_attr}{start} marker-end="url(#arrow-{marker})" opacity="0.9">'
            f"<title>{esc(tooltip)}</title></path>"
        )
        text = _edge_label(data["kinds"], counts[(u, v)])
        if text:
            labels_out.append(
                f'<text x="{lx:.1f}" y="{ly + 3:.1f}" font-size="10" text-anchor="middle" '
                f'fill="{color if color != IMPORT_COLOR else "#777"}" stroke="#ffffff" '
                f'stroke-width="3.5" paint-order="stroke">{esc(text)}</text>'
            )
    cycle_nodes = graph.cycle_nodes
    for key in sorted(graph.metrics, key=graph.label):
        m = graph.metrics[key]
        x, y, w = layout.nodes[key]
        border = (
            f'stroke="{CYCLE_COLOR}" stroke-width="3"'
            if key in cycle_nodes
            else 'stroke="#555" stroke-width="1"'
        )
        tooltip = (
            f"{key} ({m.file}:{m.line}) Ca={m.ca} Ce={m.ce} I={m.instability:.2f} "
            f"betweenness={m.betweenness:.3f} touched attributes={m.touched_attributes}"
        )
        out.append(
            f"<g><title>{esc(tooltip)}</title>"
            f'<rect x="{x - w / 2:.1f}" y="{y - _NODE_HEIGHT / 2:.1f}" width="{w:.1f}" '
            f'height="{_NODE_HEIGHT}" rx="9" fill="{instability_color(m.instability)}" {border}/>'
            f'<text x="{x:.1f}" y="{y - 3:.1f}" font-size="13" font-weight="bold" '
            f'text-anchor="middle">{esc(m.name)}</text>'
            f'<text x="{x:.1f}" y="{y + 13:.1f}" font-size="10" text-anchor="middle" '
            f'fill="#333">Ca {m.ca} · Ce {m.ce} · I {m.instability:.2f}</text></g>'
        )
    out.extend(labels_out)
    out.extend(_legend(height))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _legend(height: float) -> list[str]:
    y = height - 62
    parts = [
        f'<g font-size="11" transform="translate({_MARGIN},{y:.0f})">',
        '<text x="0" y="0" font-weight="bold">Instability I = Ce / (Ca + Ce)</text>',
    ]
    for i in range(11):
        value = i / 10
        parts.append(
            f'<rect x="{i * 22}" y="8" width="22" height="14" fill="{instability_color(value)}"/>'
        )
    parts.append('<text x="0" y="36">0 stable</text>')
    parts.append('<text x="242" y="36" text-anchor="end">1 unstable</text>')
    samples = (
        ("owns (diamond) / uses", EDGE_COLOR, ""),
        ("cycle (IL501)", CYCLE_COLOR, ""),
        ("back-reference (IL504)", BACK_COLOR, "7,4"),
        ("imports only", IMPORT_COLOR, "2,3"),
    )
    for index, (label, color, dash) in enumerate(samples):
        x = 290 + index * 175
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        width = 3 if color == CYCLE_COLOR else 2
        parts.append(
            f'<line x1="{x}" y1="15" x2="{x + 30}" y2="15" stroke="{color}" '
            f'stroke-width="{width}"{dash_attr}/>'
            f'<text x="{x + 36}" y="19">{html.escape(label)}</text>'
        )
    parts.append(
        '<text x="290" y="38">edge width grows with the number of sites; a red border marks '
        "a manager in a cycle</text>"
    )
    parts.append("</g>")
    return parts


# -- HTML -------------------------------------------------------------------------------------


def draw_html(
    graph: ManagerGraph, title: str = "Manager coupling", *, engine: str = "auto"
) -> Drawing:
    """A self-contained HTML page: the picture, the metrics table, the cycles."""
    drawing = draw_svg(graph, title, engine=engine)
    esc = html.escape
    svg = drawing.svg
    if svg.startswith("<?xml"):
        svg = svg[svg.index("?>") + 2 :]
    rows = []
    for m in sorted(graph.metrics.values(), key=lambda m: (-m.betweenness, -(m.ca + m.ce), m.name)):
        rows.append(
            "<tr>"
            f"<td>{esc(m.name)}</td><td><code>{esc(m.file)}:{m.line}</code></td>"
            f"<td>{m.ca}</td><td>{m.ce}</td><td>{m.instability:.2f}</td>"
            f"<td>{m.betweenness:.3f}</td><td>{m.touched_attributes}</td>"
            f"<td>{'yes' if m.in_cycle else ''}</td></tr>"
        )
    cycles = (
        "".join(f"<li>{esc(' ↔ '.join(graph.label(n) for n in c))}</li>" for c in graph.cycles)
        or "<li>none</li>"
    )
    reach = (
        "".join(
            f"<li><code>{esc(r.path)}:{r.site.span.start_line}</code> <code>{esc(r.site.snippet)}</code></li>"
            for r in graph.reach_throughs
        )
        or "<li>none</li>"
    )
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{esc(title)}</title>
<style>
body {{ font-family: Helvetica, Arial, sans-serif; margin: 24px; color: #222; }}
table {{ border-collapse: collapse; margin: 12px 0; }}
th, td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: left; font-size: 13px; }}
th {{ background: #f3f3f3; }}
.picture {{ overflow: auto; border: 1px solid #ddd; }}
</style>
</head>
<body>
<h1>{esc(title)}</h1>
<div class="picture">
{svg}
</div>
<h2>Managers</h2>
<table>
<tr><th>Manager</th><th>File</th><th>Ca</th><th>Ce</th><th>I</th><th>Betweenness</th><th>Touched attributes</th><th>In cycle</th></tr>
{"".join(rows)}
</table>
<p>Density {graph.density:.3f}; longest dependency chain: {esc(" → ".join("{" + ", ".join(graph.label(k) for k in c) + "}" if len(c) > 1 else graph.label(c[0]) for c in graph.longest_chain))}</p>
<h2>Cycles</h2>
<ul>{cycles}</ul>
<h2>Reach-through sites</h2>
<ul>{reach}</ul>
</body>
</html>
"""
    return Drawing(page, drawing.engine, drawing.note)
