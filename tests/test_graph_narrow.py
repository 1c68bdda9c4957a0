"""``integ-lint graph SUBFOLDER``: the whole project is read, and the view shows the
managers defined in the given paths with their edges into and out of the whole project,
in every output format (as ``imports SUBFOLDER`` does for modules)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from integ_lint.cli import main

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "training_app"
EVALUATION = FIXTURE / "trainer_app" / "evaluation"
TRAINING = FIXTURE / "trainer_app" / "training"
Graph = dict[str, Any]  # networkx node-link data


def invoke(*args: str) -> str:
    result = CliRunner().invoke(main, ["graph", *args, "-j", "1"])
    assert result.exit_code == 0, result.output
    return result.stdout


def graph_json(path: Path) -> Graph:
    data: Graph = json.loads(invoke(str(path), "--format", "json"))
    return data


def edges(data: Graph) -> set[tuple[str, str, str]]:
    return {(e["source"], e["target"], e["kind"]) for e in data["edges"]}


@pytest.fixture(scope="module")
def everything() -> Graph:
    return graph_json(FIXTURE)


def test_a_subfolder_shows_its_managers_edges_in_and_out(everything: Graph) -> None:
    files = {n["id"]: n["file"] for n in everything["nodes"]}
    inside = {n for n, f in files.items() if f.startswith("trainer_app/evaluation/")}
    assert inside == {"EvaluationManager"}
    narrow = graph_json(EVALUATION)
    expected = {e for e in edges(everything) if inside & {e[0], e[1]}}
    assert expected  # the evaluation manager is owned and used by the Trainer
    assert edges(narrow) == expected
    # Its neighbours elsewhere stay, as the other ends of those edges, with the
    # metrics of the whole project (read as context), not of the narrow view.
    assert {n["id"] for n in narrow["nodes"]} == {"EvaluationManager", "Trainer"}
    whole = {n["id"]: n for n in everything["nodes"]}
    for node in narrow["nodes"]:
        assert (node["ca"], node["ce"], node["betweenness"]) == (
            whole[node["id"]]["ca"],
            whole[node["id"]]["ce"],
            whole[node["id"]]["betweenness"],
        )


def test_cycles_are_kept_when_they_touch_the_subfolder(everything: Graph) -> None:
    assert everything["graph"]["cycles"]
    assert graph_json(EVALUATION)["graph"]["cycles"] == []
    assert graph_json(TRAINING)["graph"]["cycles"] == everything["graph"]["cycles"]


def test_every_format_is_narrowed() -> None:
    # The whole project's other managers appear in none of the narrow outputs.
    for fmt in ("dot", "graphml", "mermaid", "svg", "html"):
        whole = invoke(str(FIXTURE), "--format", fmt, "--layout", "builtin")
        narrow = invoke(str(EVALUATION), "--format", fmt, "--layout", "builtin")
        assert "EvaluationManager" in narrow and "Trainer" in narrow, fmt
        assert "StepManager" in whole and "StepManager" not in narrow, fmt
    graphml = invoke(str(EVALUATION), "--format", "graphml")
    ids = {
        node.get("id")
        for node in ElementTree.fromstring(graphml).iter(
            "{http://graphml.graphdrawing.org/xmlns}node"
        )
    }
    assert ids == {"EvaluationManager", "Trainer"}


def test_the_table_lists_the_subfolder_and_its_neighbours() -> None:
    table = invoke(str(EVALUATION))
    assert "1 manager in the given paths and 1 they meet elsewhere in the project" in table
    assert "EvaluationManager" in table and "Trainer" in table
    assert "StepManager" not in table  # in the whole table only
    # Reach-through sites through the subfolder's managers, wherever they are.
    assert "trainer.evaluation_manager.evaluate_current_agent" in table
    assert "self.trainer.step_manager.execute_step" not in table
    # Device owners outside the subfolder are not listed (the configured pattern is).
    assert "*.ModelManager" in table
    assert "model_manager.py" not in table
    assert "model_manager.py" in invoke(str(FIXTURE))


def test_the_whole_project_unchanged_when_paths_cover_it(everything: Graph) -> None:
    assert graph_json(FIXTURE / "trainer_app")["nodes"] == everything["nodes"]


def test_the_view_says_how_many_files_it_shows_and_read_for_context() -> None:
    every = len(list(FIXTURE.rglob("*.py")))
    shown = len(list(EVALUATION.rglob("*.py")))
    for command in ("graph", "imports"):
        narrow = CliRunner().invoke(main, [command, str(EVALUATION), "-j", "1"])
        line = f"integ-lint: {shown} files shown, {every - shown} more read for context."
        assert line in narrow.stderr.splitlines(), command
        whole = CliRunner().invoke(main, [command, str(FIXTURE), "-j", "1"])
        assert "read for context" not in whole.stderr, command
