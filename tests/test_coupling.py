"""Manager coupling: facts, the manager graph and its metrics, exports and pictures,
the ``graph`` command, and the training_app fixture's expected graph."""

from __future__ import annotations

import json
import os
import shutil
import textwrap
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import networkx as nx
import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt

from integ_lint.cli import main
from integ_lint.cli.graph import export_text, index_project
from integ_lint.config import ConfigError, load_config
from integ_lint.facts.managers import NEW, PARAM, SELF, ManagerFacts
from integ_lint.model.coupling import (
    ManagerGraph,
    coupling_table,
    manager_graph,
)
from integ_lint.model.project import ProjectIndex
from integ_lint.views.draw import builtin_svg, draw_html, draw_svg, instability_color
from integ_lint.views.export import manager_mermaid

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "training_app"
EXPECTED_GRAPH = FIXTURE / "expected" / "manager_graph.json"


def make_project(root: Path, files: dict[str, str], config: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "example"\nversion = "0"\n\n[tool.integ-lint]\n{config}\n'
    )
    for relpath, code in files.items():
        target = root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(code))
    return root


def index(root: Path) -> ProjectIndex:
    config = load_config([root], root / "pyproject.toml")
    return index_project([root], config)


def graph_of(root: Path, files: dict[str, str], config: str = "") -> ManagerGraph:
    return manager_graph(index(make_project(root, files, config)))


def edges(graph: ManagerGraph) -> set[tuple[str, str, str]]:
    return {(graph.label(u), graph.label(v), kind) for (u, v, kind) in graph.edge_sites}


TRAINING = {
    "app/__init__.py": "from app.trainer import Trainer\n",
    "app/metrics_manager.py": """
        from __future__ import annotations
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            from app.step_manager import StepManager

        class MetricsManager:
            def __init__(self) -> None:
                self.global_timestep = 0
                self.step_manager: StepManager | None = None

            def bind(self, step_manager: StepManager) -> None:
                self.step_manager = step_manager

            def episode(self) -> int:
                return self.step_manager.episode_length
        """,
    "app/step_manager.py": """
        from app.metrics_manager import MetricsManager

        class StepManager:
            def __init__(self, metrics: MetricsManager) -> None:
                self.metrics = metrics
                self.episode_length = 0

            def step(self) -> None:
                self.metrics.global_timestep += 1
        """,
    "app/loop.py": """
        class TrainingLoopManager:
            def __init__(self, trainer: "Trainer") -> None:
                self.trainer = trainer

            def run(self) -> None:
                self.trainer.step_manager.step()
                steps = self.trainer.step_manager
                steps.step()
        """,
    "app/trainer.py": """
        from app import metrics_manager as mm
        from app.step_manager import StepManager
        from app.loop import TrainingLoopManager

        class Trainer:
            def __init__(self) -> None:
                self.metrics_manager = mm.MetricsManager()
                self.step_manager = StepManager(self.metrics_manager)
                self.metrics_manager.bind(self.step_manager)
                self.loop = TrainingLoopManager(trainer=self)

            def train(self) -> None:
                self.loop.run()
                print(self.metrics_manager.global_timestep)
        """,
    "app/callbacks.py": """
        class Callback:
            def on_step(self, trainer) -> int:
                return trainer.metrics_manager.global_timestep

            def one_hop(self, trainer) -> object:
                return trainer.metrics_manager
        """,
}


# -- facts ---------------------------------------------------------------------------------


def test_facts_resolve_bases_constructions_chains_and_self_passes(tmp_path: Path) -> None:
    project = index(
        make_project(
            tmp_path,
            {
                "pkg/__init__.py": "",
                "pkg/base.py": "class BaseManager: ...\n",
                "pkg/mod.py": """
                    import pkg.base as b
                    from typing import TYPE_CHECKING, Optional
                    if TYPE_CHECKING:
                        from pkg.other import Other

                    class Owner(b.BaseManager):
                        helper: "Optional[Other]"

                        def __init__(self, dep: "Other", n: int) -> None:
                            self.child = Child(self, n)
                            self.dep = dep
                            self.dep.thing.value = 1

                    class Child:
                        def __init__(self, owner: Owner, n: int) -> None:
                            self.owner = owner
                    """,
            },
        )
    )
    facts = dict((f.relpath, v) for f, v in project.facts("managers"))["pkg/mod.py"]
    assert isinstance(facts, ManagerFacts)
    owner = next(c for c in facts.classes if c.qualname == "Owner")
    assert owner.bases == ("pkg.base.BaseManager",)
    assert dict(owner.attr_types) == {"helper": ("pkg.other.Other",)}
    child = next(a for a in facts.assigns if a.attr == "child")
    assert (child.root.kind, child.root.types) == (NEW, ("pkg.mod.Child",))
    dep = next(a for a in facts.assigns if a.owner == "Owner" and a.attr == "dep")
    assert (dep.root.kind, dep.root.name, dep.root.types) == (PARAM, "dep", ("pkg.other.Other",))
    chain = next(c for c in facts.chains if c.attrs == ("dep", "thing", "value"))
    assert chain.root.kind == SELF and chain.site.span.start_line == 13
    (passed,) = facts.self_passes
    assert (passed.owner, passed.callee, passed.keyword) == ("Owner", "pkg.mod.Child", "")
    type_checking = [i for i in facts.imports if i.type_checking]
    assert [i.target for i in type_checking] == ["pkg.other.Other"]


# -- the graph -----------------------------------------------------------------------------


def test_graph_edges_kinds_and_sites(tmp_path: Path) -> None:
    graph = graph_of(tmp_path, TRAINING)
    assert set(graph.labels.values()) == {
        "MetricsManager",
        "StepManager",
        "TrainingLoopManager",
        "Trainer",
    }
    assert edges(graph) == {
        ("Trainer", "MetricsManager", "owns"),
        ("Trainer", "MetricsManager", "imports"),  # module import, attribute resolved
        ("Trainer", "StepManager", "owns"),
        ("Trainer", "StepManager", "imports"),
        ("Trainer", "TrainingLoopManager", "owns"),
        ("Trainer", "TrainingLoopManager", "imports"),
        ("TrainingLoopManager", "Trainer", "uses"),
        ("TrainingLoopManager", "Trainer", "back-reference"),
        ("TrainingLoopManager", "StepManager", "uses"),
        ("StepManager", "MetricsManager", "uses"),
        ("StepManager", "MetricsManager", "imports"),
        ("MetricsManager", "StepManager", "uses"),  # TYPE_CHECKING import: no edge
    }
    sites = {
        (graph.label(u), graph.label(v), kind): [str(s) for s in found]
        for (u, v, kind), found in graph.edge_sites.items()
    }
    assert sites["TrainingLoopManager", "Trainer", "back-reference"] == ["app/trainer.py:11"]
    assert sites["StepManager", "MetricsManager", "uses"] == [
        "app/step_manager.py:6",
        "app/step_manager.py:10",
    ]
    # the local alias ``steps`` still counts as a use, at its own line
    assert sites["TrainingLoopManager", "StepManager", "uses"] == [
        "app/loop.py:7",
        "app/loop.py:8",
        "app/loop.py:9",
    ]


def test_graph_metrics_cycles_and_chain(tmp_path: Path) -> None:
    graph = graph_of(tmp_path, TRAINING)
    metrics = {m.name: m for m in graph.metrics.values()}
    trainer = metrics["Trainer"]
    assert (trainer.ca, trainer.ce, trainer.instability) == (1, 3, 0.75)
    metrics_manager = metrics["MetricsManager"]
    assert (metrics_manager.ca, metrics_manager.ce, metrics_manager.instability) == (2, 1, 0.333)
    # back-references close no IL501 cycle, but show in the full components
    assert [[graph.label(n) for n in c] for c in graph.cycles] == [
        ["MetricsManager", "StepManager"]
    ]
    assert [[graph.label(n) for n in c] for c in graph.components] == [
        ["MetricsManager", "StepManager"],
        ["Trainer", "TrainingLoopManager"],
    ]
    assert metrics["StepManager"].in_cycle and not trainer.in_cycle
    assert [[graph.label(n) for n in c] for c in graph.longest_chain] == [
        ["Trainer"],
        ["TrainingLoopManager"],
        ["MetricsManager", "StepManager"],
    ]
    # Trainer touches global_timestep (metrics) and bind (metrics) and run (loop)
    assert trainer.touched_attributes == 3
    assert graph.density == pytest.approx(7 / 12)
    reach = [(r.path, r.site.span.start_line, r.site.snippet) for r in graph.reach_throughs]
    assert reach == [
        ("app/callbacks.py", 4, "trainer.metrics_manager.global_timestep"),
        ("app/loop.py", 7, "self.trainer.step_manager.step"),
    ]
    [back] = graph.back_references
    assert (graph.label(back.owner), graph.label(back.target), back.keyword) == (
        "Trainer",
        "TrainingLoopManager",
        "trainer",
    )


def test_manager_patterns_and_bases_are_configuration(tmp_path: Path) -> None:
    files = {
        "lib/__init__.py": "",
        "lib/core.py": "class Component: ...\n",
        "app/__init__.py": "from app.parts import Engine as Engine\n",
        "app/parts.py": """
            from lib.core import Component

            class Engine(Component): ...
            class Wheel(Engine): ...
            """,
        "app/car.py": """
            from app import Engine
            from app.parts import Wheel

            class Car:
                def __init__(self) -> None:
                    self.engine = Engine()
                    self.wheel = Wheel()
            """,
    }
    assert graph_of(tmp_path / "a", files).metrics == {}
    graph = graph_of(
        tmp_path / "b",
        files,
        '[tool.integ-lint.coupling]\nmanager-patterns = []\nmanager-bases = ["lib.core.Component"]\n',
    )
    kinds = {m.name: m.kind for m in graph.metrics.values()}
    # Engine through the package re-export, Wheel through its base; Car owns them
    assert kinds == {"Car": "owner", "Engine": "manager", "Wheel": "manager"}


def test_unannotated_parameter_matched_by_manager_name(tmp_path: Path) -> None:
    graph = graph_of(
        tmp_path,
        {
            "m.py": """
                class EnvManager:
                    def __init__(self) -> None:
                        self.game = object()

                class Trainer:
                    def __init__(self) -> None:
                        self.env_manager = EnvManager()

                def hook(trainer, env_manager_like) -> None:
                    print(trainer.env_manager.game)
                    print(env_manager_like.game.x)
                """
        },
    )
    assert [(r.site.snippet, r.site.span.start_line) for r in graph.reach_throughs] == [
        ("trainer.env_manager.game", 11)  # the file starts with an empty line
    ]


def test_coupling_table_rows(tmp_path: Path) -> None:
    rows = coupling_table(index(make_project(tmp_path, TRAINING)))
    by_name = {row.manager: row for row in rows}
    assert by_name["Trainer"] == ("Trainer", "app/trainer.py", 1, 3, 0.75, 0.083, False)
    assert set(by_name) == {"Trainer", "TrainingLoopManager", "MetricsManager", "StepManager"}


def test_bad_input_never_crashes(tmp_path: Path) -> None:
    graph = graph_of(
        tmp_path,
        {
            "broken.py": "class AManager(:\n",
            "ok.py": """
                class AManager:
                    def __init__(self, x: "not a [valid annotation") -> None:
                        self.x = x
                        self.self_ref = AManager(self)
                """,
        },
    )
    assert [m.name for m in graph.metrics.values()] == ["AManager"]
    assert graph.back_references == []  # constructing its own class is no back-reference


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("hub-threshold = 0", "tool.integ-lint.coupling.hub-threshold: must be 1 or more"),
        ("betweenness-threshold = 1.5", "tool.integ-lint.coupling.betweenness-threshold"),
        ('manager-patterns = [""]', "tool.integ-lint.coupling.manager-patterns: item 0"),
        ('hub-threshold = "7"', "tool.integ-lint.coupling.hub-threshold: expected an integer"),
    ],
)
def test_settings_errors_name_the_key(tmp_path: Path, toml: str, message: str) -> None:
    make_project(tmp_path, {"a.py": ""}, f"[tool.integ-lint.coupling]\n{toml}\n")
    result = CliRunner().invoke(main, ["graph", str(tmp_path)])
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    with pytest.raises(ConfigError, match="coupling"):
        config = load_config([tmp_path], tmp_path / "pyproject.toml")
        from integ_lint.config.settings import CouplingSettings

        config.section(CouplingSettings).validate("x")


# -- exports and pictures ------------------------------------------------------------------


@pytest.fixture(scope="module")
def fixture_project() -> ProjectIndex:
    config = load_config([FIXTURE])
    return index_project([FIXTURE], config)


def test_fixture_graph_matches_expected(fixture_project: ProjectIndex) -> None:
    summary = manager_graph(fixture_project).summary()
    if os.environ.get("INTEG_LINT_UPDATE_SNAPSHOTS"):
        EXPECTED_GRAPH.write_text(json.dumps(summary, indent=2) + "\n")
    assert summary == json.loads(EXPECTED_GRAPH.read_text())


def test_graphml_and_json_load_back(fixture_project: ProjectIndex) -> None:
    graph = manager_graph(fixture_project)
    loaded = nx.parse_graphml(export_text(graph, "graphml"))
    assert set(loaded.nodes) == set(graph.labels.values())
    assert loaded.number_of_edges() == len(graph.edge_sites)
    assert loaded.nodes["Trainer"]["ce"] == 10
    kinds = {(u, v, d["kind"]) for u, v, d in loaded.edges(data=True)}
    assert ("TrainingLoopManager", "Trainer", "back-reference") in kinds

    data = json.loads(export_text(graph, "json"))
    edges_key = "edges" if "edges" in data else "links"
    try:
        from_json = nx.node_link_graph(data, edges=edges_key)
    except TypeError:  # networkx < 3.4
        from_json = nx.node_link_graph(data)
    assert set(from_json.nodes) == set(graph.labels.values())
    assert from_json.number_of_edges() == len(graph.edge_sites)
    assert from_json.graph["cycles"] == [["MetricsManager", "StepManager"]]
    assert "digraph" in export_text(graph, "dot")


def test_mermaid_parses_as_a_markdown_fence(fixture_project: ProjectIndex) -> None:
    text = manager_mermaid(fixture_project)
    tokens = MarkdownIt().parse(f"# Certificate\n\n```mermaid\n{text}```\n")
    fences = [t for t in tokens if t.type == "fence"]
    assert len(fences) == 1 and fences[0].info == "mermaid"
    body = fences[0].content
    assert "flowchart LR" in body
    assert 'n_Trainer -->|"owns, imports"| n_SessionManager' in body
    # both cycle edges are highlighted
    assert body.count("linkStyle") == 2


def _svg_root(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    return root


def test_builtin_svg_draws_every_manager_and_highlights_the_cycle(
    fixture_project: ProjectIndex,
) -> None:
    graph = manager_graph(fixture_project)
    svg = builtin_svg(graph)
    root = _svg_root(svg)
    ns = "{http://www.w3.org/2000/svg}"
    texts = {t.text for t in root.iter(f"{ns}text")}
    assert set(graph.labels.values()) <= texts
    paths = [p for p in root.iter(f"{ns}path") if p.get("marker-end")]
    assert len(paths) == graph.simple.number_of_edges()
    red = [p for p in paths if p.get("stroke") == "#d62728"]
    assert len(red) == 2  # MetricsManager <-> StepManager
    trainer_fill = instability_color(graph.metrics[next(iter(graph.labels))].instability)
    assert trainer_fill.startswith("#")
    # no two boxes overlap
    boxes = [
        (float(r.get("x", 0)), float(r.get("y", 0)), float(r.get("width", 0)))
        for r in root.iter(f"{ns}rect")
        if r.get("rx")
    ]
    assert len(boxes) == len(graph.metrics)
    for i, (x1, y1, w1) in enumerate(boxes):
        for x2, y2, w2 in boxes[i + 1 :]:
            assert y1 != y2 or x1 + w1 <= x2 or x2 + w2 <= x1


def test_svg_falls_back_with_a_one_line_hint(
    fixture_project: ProjectIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    drawing = draw_svg(manager_graph(fixture_project))
    assert drawing.engine == "builtin"
    assert "Graphviz" in drawing.note and "\n" not in drawing.note
    _svg_root(drawing.svg)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_graphviz_svg_parses(fixture_project: ProjectIndex) -> None:
    drawing = draw_svg(manager_graph(fixture_project), engine="graphviz")
    assert drawing.engine == "graphviz" and not drawing.note
    root = _svg_root(drawing.svg)
    assert "Trainer" in "".join(root.itertext())


def test_html_page_holds_the_picture_and_table(fixture_project: ProjectIndex) -> None:
    page = draw_html(manager_graph(fixture_project), engine="builtin").svg

    class Collector(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: list[str] = []

        def handle_starttag(self, tag: str, attrs: object) -> None:
            self.tags.append(tag)

    parser = Collector()
    parser.feed(page)
    assert "svg" in parser.tags and "table" in parser.tags
    assert "MetricsManager ↔ StepManager" in page


# -- the command ---------------------------------------------------------------------------


def test_graph_command_table(tmp_path: Path) -> None:
    make_project(tmp_path, TRAINING)
    result = CliRunner().invoke(main, ["graph", str(tmp_path), "--no-color"])
    assert result.exit_code == 0, result.output
    assert "Manager coupling" in result.output
    assert "MetricsManager <-> StepManager" in result.output
    assert "trainer.metrics_manager.global_timestep" in result.output
    assert "TrainingLoopManager(trainer=self)" in result.output


def test_graph_command_formats(tmp_path: Path) -> None:
    make_project(tmp_path, TRAINING)
    runner = CliRunner()
    for fmt in ("dot", "graphml", "json", "mermaid", "svg", "html"):
        out = tmp_path / f"graph.{fmt}"
        result = runner.invoke(
            main, ["graph", str(tmp_path), "--format", fmt, "--layout", "builtin", "-o", str(out)]
        )
        assert result.exit_code == 0, (fmt, result.output)
        assert out.read_text().strip(), fmt
    _svg_root((tmp_path / "graph.svg").read_text())
    result = runner.invoke(main, ["graph", str(tmp_path), "-o", str(tmp_path / "x.txt")])
    assert result.exit_code == 2 and "--output needs a graph format" in result.output


def test_graph_command_without_managers(tmp_path: Path) -> None:
    make_project(tmp_path, {"a.py": "class Plain: ...\n", "b.py": "def (:\n"})
    result = CliRunner().invoke(main, ["graph", str(tmp_path)])
    assert result.exit_code == 0
    assert "No managers found" in result.output
    assert "b.py:1" in result.output  # the unparsable file is named, not fatal


TRICKY = '''\
# -*- coding: utf-8 -*-
"""Ünïcode docstring: ü."""
import os.path as osp
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from app.step_manager import StepManager


@decorator.attr(x=1)
class Réglage:  # comment
    é: "StepManager"

    def __init__(self, trainer: "Trainer") -> None:
        self.trainer = trainer; self.ü = "ü"; self.step = StepManager(self)
        self.x: int = trainer.metrics_manager.global_timestep
        label = f"{self.trainer.metrics_manager.global_timestep} é {trainer.a.b!r}"
        values = [self.trainer.step_manager.n for _ in range(3)]
        call = self.trainer.callback_manager.fire(
            self.trainer.metrics_manager.global_timestep,
            key=(lambda t: t.metrics_manager.x)(trainer),
        ).result.value
        match label:
            case osp.sep:
                self.trainer.env_manager.game.board = None
        del self.trainer.env_manager.game


class Réglage:
    def __init__(self) -> None:
        self.step = StepManager(self)
'''


def test_positions_of_tricky_code(tmp_path: Path) -> None:
    make_project(tmp_path, {"app/__init__.py": "", "app/tricky.py": ""})
    (tmp_path / "app" / "tricky.py").write_text(TRICKY, encoding="utf-8")

    def facts() -> ManagerFacts:
        found = dict((f.relpath, v) for f, v in index(tmp_path).facts("managers"))
        value = found["app/tricky.py"]
        assert isinstance(value, ManagerFacts)
        return value

    fast = facts()
    assert len(fast.chains) >= 8 and len(fast.classes) == 2 and fast.self_passes
    lines = {c.site.snippet: c.site.span.start_line for c in fast.chains}
    assert lines["self.trainer.callback_manager.fire"] == 18


def test_fixture_cycle_finding_carries_its_edges() -> None:
    from integ_lint import api

    report = api.check([FIXTURE], select=["IL5", "IL504"], jobs=1)
    assert not report.incomplete
    by_code: dict[str, list[object]] = {}
    for finding in report.findings:
        by_code.setdefault(finding.code, []).append(finding)
    assert {code: len(found) for code, found in by_code.items()} == {
        "IL501": 1,
        "IL502": 5,
        "IL503": 1,
        "IL504": 1,
    }
    [cycle] = [f for f in report.findings if f.code == "IL501"]
    assert [(r.path, r.span.start_line, r.message) for r in cycle.related] == [
        ("trainer_app/training/metrics_manager.py", 32, "MetricsManager uses StepManager"),
        ("trainer_app/training/step_manager.py", 55, "StepManager uses MetricsManager"),
    ]
    [hub] = [f for f in report.findings if f.code == "IL503"]
    assert hub.property_dict()["ce"] == 10
    assert hub.property_dict()["dependencies"][0] == "SessionManager"


def test_only_library_classes_are_managers_or_owners(tmp_path: Path) -> None:
    graph = graph_of(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/managers.py": """
                class MetricsManager:
                    pass

                class Trainer:
                    def __init__(self) -> None:
                        self.metrics_manager = MetricsManager()
                """,
            "tests/test_trainer.py": """
                from app.managers import MetricsManager, Trainer

                class FakeRunManager:
                    def __init__(self) -> None:
                        self.metrics_manager = MetricsManager()

                class Harness:
                    def __init__(self) -> None:
                        self.trainer = Trainer()
                """,
        },
    )
    assert set(graph.graph.nodes) == {"app.managers.MetricsManager", "app.managers.Trainer"}


def test_reach_through_is_one_finding_per_class_and_reached_manager(tmp_path: Path) -> None:
    from integ_lint import api

    root = make_project(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/managers.py": """
                class MetricsManager:
                    def __init__(self) -> None:
                        self.step = 0
                        self.loss = 0.0

                class Trainer:
                    def __init__(self) -> None:
                        self.metrics_manager = MetricsManager()
                """,
            "app/callbacks.py": """
                from app.managers import Trainer

                class Logger:
                    def __init__(self, trainer: Trainer) -> None:
                        self.trainer = trainer

                    def on_step(self) -> str:
                        return f"{self.trainer.metrics_manager.step}"

                    def on_end(self) -> float:
                        return self.trainer.metrics_manager.loss
                """,
        },
        'select = ["IL502"]',
    )
    report = api.check([root], jobs=1)
    assert [(f.path, f.line) for f in report.findings] == [("app/callbacks.py", 9)]
    finding = report.findings[0]
    assert "into MetricsManager (2 sites)" in finding.message
    assert [(r.path, r.span.start_line) for r in finding.related] == [("app/callbacks.py", 12)]


def test_manager_records_pickle_as_themselves_and_move_with_their_lines(tmp_path: Path) -> None:
    """The records are tuples with the site flattened (fast to unpickle): each comes
    back as its own class, equal by content; the project memo's line_map moves their
    four span fields as a Span."""
    import pickle

    from integ_lint.engine.memo_remap import line_map

    make_project(tmp_path, {"app/__init__.py": "", "app/tricky.py": ""})
    (tmp_path / "app" / "tricky.py").write_text(TRICKY, encoding="utf-8")
    found = dict((f.relpath, v) for f, v in index(tmp_path).facts("managers"))
    facts = found["app/tricky.py"]
    assert isinstance(facts, ManagerFacts)
    records = [*facts.classes, *facts.assigns, *facts.chains, *facts.self_passes, *facts.imports]
    assert records and all(r.site.span == r.span for r in records)
    for record in records:
        copy = pickle.loads(pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL))
        assert type(copy) is type(record) and copy == record
    shifted = "# a comment\n\n" + TRICKY
    (tmp_path / "app" / "tricky.py").write_text(shifted, encoding="utf-8")
    moved = dict((f.relpath, v) for f, v in index(tmp_path).facts("managers"))["app/tricky.py"]
    lines = line_map(facts, moved)
    assert lines and all(new == old + 2 for old, new in lines.items())
