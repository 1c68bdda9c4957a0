"""``integ-lint imports``: the table, the cycles and graph exports that load back."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
from click.testing import CliRunner
from markdown_it import MarkdownIt

from integ_lint.cli import main

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "web_backend"


def invoke(*args: str) -> str:
    result = CliRunner().invoke(main, ["imports", str(FIXTURE), "--no-color", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_table_and_cycles() -> None:
    output = invoke()
    rows = {
        line.split("│")[1].strip(): line for line in output.splitlines() if line.startswith("│")
    }
    assert {"app.auth", "app.content", "app.core", "app.dashboard", "app.drive", "app.sync"} <= set(
        rows
    )
    assert rows["app.drive"].rstrip("│ ").endswith("yes")
    assert rows["app.sync"].rstrip("│ ").endswith("yes")
    assert not rows["app.content"].rstrip("│ ").endswith("yes")  # lazy/TYPE_CHECKING only
    assert "Cycles (1):" in output
    assert "app.drive -> app.sync -> app.drive" in output


def test_json_loads_back_with_networkx() -> None:
    data = json.loads(invoke("--format", "json"))
    graph = nx.node_link_graph(data, edges="edges" if "edges" in data else "links")
    assert graph.has_edge("app.sync", "app.drive") and graph.has_edge("app.drive", "app.sync")
    assert graph.nodes["app.sync"]["in_cycle"] is True
    assert graph.edges["app.dashboard", "app.content"]["kinds"] == ["lazy", "type-checking"]
    assert graph.edges["app.content", "app.drive"]["kinds"] == ["dynamic"]


def test_graphml_loads_back_with_networkx(tmp_path: Path) -> None:
    target = tmp_path / "imports.graphml"
    result = CliRunner().invoke(
        main, ["imports", str(FIXTURE), "--format", "graphml", "-o", str(target)]
    )
    assert result.exit_code == 0, result.output
    graph = nx.read_graphml(target)
    assert graph.has_edge("app.sync", "app.drive")
    assert graph.nodes["app.core"]["shared"] is True
    assert graph.edges["app.dashboard", "app.drive"]["imports"] == 2


def test_mermaid_renders_as_a_markdown_fence() -> None:
    text = invoke("--format", "mermaid")
    tokens = MarkdownIt().parse(f"```mermaid\n{text}```\n")
    fence = next(t for t in tokens if t.type == "fence")
    assert fence.info == "mermaid"
    assert "n_app_sync --> n_app_drive" in fence.content


def test_dot_and_file_level() -> None:
    text = invoke("--format", "dot", "--level", "file")
    assert '"app.sync.services" -> "app.drive.services"' in text


def test_bad_contract_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[[tool.integ-lint.boundaries.contracts]]\ntype = "layers"\nlayers = ["a | b : c"]\n'
    )
    (tmp_path / "m.py").write_text("")
    result = CliRunner().invoke(main, ["imports", str(tmp_path)])
    assert result.exit_code == 2
    assert (
        "tool.integ-lint.boundaries.contracts[0].layers: a layer cannot mix '|' and ':'"
        in result.output
    )
