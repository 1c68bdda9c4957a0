"""The generic graph exporter: every format loads back or parses."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pytest
from markdown_it import MarkdownIt

from integ_lint.views.export import FORMATS, ExportError, export_graph


def _graph() -> nx.DiGraph:
    graph = nx.DiGraph()
    graph.add_node("app.auth", kind="module", files=3, in_cycle=True, tags=("a", "b"))
    graph.add_node('weird "name" <x>', kind=None, score=0.5)
    graph.add_node("app.core.bus")
    graph.add_edge("app.auth", "app.core.bus", kinds=["regular", "lazy"], count=2, label="2")
    graph.add_edge("app.core.bus", 'weird "name" <x>', sites=[("a.py", 3)], lazy=False)
    graph.add_edge('weird "name" <x>', "app.auth")
    return graph


def test_graphml_loads_back(tmp_path: Path) -> None:
    text = export_graph(_graph(), "graphml", title="imports")
    path = tmp_path / "g.graphml"
    path.write_text(text)
    loaded = nx.read_graphml(path)
    assert set(loaded.nodes) == set(_graph().nodes)
    assert set(loaded.edges) == set(_graph().edges)
    assert loaded.nodes["app.auth"]["files"] == 3
    assert loaded.nodes["app.auth"]["in_cycle"] is True
    assert loaded.nodes["app.auth"]["tags"] == "a, b"
    assert "kind" not in loaded.nodes['weird "name" <x>']
    assert loaded.edges["app.auth", "app.core.bus"]["kinds"] == "regular, lazy"


def test_json_loads_back() -> None:
    data = json.loads(export_graph(_graph(), "json", title="imports"))
    key = "edges" if "edges" in data else "links"
    loaded = nx.node_link_graph(data, edges=key)
    assert set(loaded.edges) == set(_graph().edges)
    assert loaded.graph["title"] == "imports"
    assert loaded.edges["app.auth", "app.core.bus"]["kinds"] == ["regular", "lazy"]
    assert loaded.edges["app.core.bus", 'weird "name" <x>']["sites"] == [["a.py", 3]]


def test_mermaid_is_a_fence_with_every_node_and_edge() -> None:
    text = export_graph(_graph(), "mermaid", title="imports")
    tokens = MarkdownIt().parse(f"# Graph\n\n```mermaid\n{text}```\n")
    fences = [t for t in tokens if t.type == "fence"]
    assert len(fences) == 1 and fences[0].info == "mermaid"
    body = fences[0].content
    assert "flowchart LR" in body
    assert '["app.auth"]' in body
    assert '"weird #quot;name#quot; #lt;x#gt;"' in body
    arrows = [line for line in body.splitlines() if "-->" in line]
    assert len(arrows) == 3
    # node ids are plain identifiers
    for line in arrows:
        left = line.strip().split(" ")[0]
        assert left.replace("_", "a").isalnum(), line


def test_dot_quotes_everything() -> None:
    text = export_graph(_graph(), "dot", title="imports")
    assert text.startswith('digraph "imports" {')
    assert '"weird \\"name\\" <x>"' in text
    assert '"app.auth" -> "app.core.bus"' in text
    assert text.count("->") == 3
    assert text.rstrip().endswith("}")


def test_unknown_format() -> None:
    with pytest.raises(ExportError, match="unknown graph format 'png'"):
        export_graph(_graph(), "png")


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_graph(fmt: str) -> None:
    assert export_graph(nx.DiGraph(), fmt)
