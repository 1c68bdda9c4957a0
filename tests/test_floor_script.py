"""benchmarks/floor.py: its stages run on a small project, and the bare walk it times
is the engine's walk without the dispatch (the same nodes, in the same order)."""

from __future__ import annotations

import sys
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper

from integ_lint.config import Config, load_config
from integ_lint.engine import analysis
from integ_lint.facts.context import FileContext
from integ_lint.facts.positions import NodePositions

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import floor

SOURCE = """\
import os
from a import b as c


class K(Base):
    def f(self, x: int = 1) -> str:
        return os.path.join(f"{x}", c(y=[1, 2]), *self.z)  # comment
"""


def _context(tree: cst.Module, config: Config) -> FileContext:
    """SOURCE's context as the engine makes it, for ``tree`` (a parse of SOURCE)."""
    return FileContext(
        relpath="m.py",
        module="m",
        is_package_init=False,
        source=SOURCE,
        tree=tree,
        wrapper=MetadataWrapper(tree, unsafe_skip_copy=True),
        config=config,
    )


class WantsCalls(cst.BatchableCSTVisitor):
    def visit_Call(self, node: cst.Call) -> None:
        pass


def test_bare_walk_visits_what_the_engine_walk_visits(tmp_path: Path) -> None:
    config = load_config([tmp_path], None)
    tree = analysis._parse_module(SOURCE)

    def context() -> FileContext:
        return _context(tree, config)

    engine = analysis._Dispatcher(context(), [WantsCalls()], lambda v, e: None)
    engine.walk(tree)
    bare = analysis.bare_walker(context(), frozenset({"Call"}))
    bare.walk(tree)
    assert [id(n) for n in bare.visited] == [id(n) for n in engine.visited]
    assert any(isinstance(n, cst.Call) for n in bare.visited)
    found = NodePositions(tree, SOURCE, bare.visited).from_ast
    assert found is not None
    found.number_all()
    call = next(n for n in bare.visited if isinstance(n, cst.Call))
    assert found.range_of(call) == (7, 15, 7, 57)


@pytest.mark.parametrize("stage", sorted(floor.WORK))
def test_stages_run_on_a_project(tmp_path: Path, stage: str) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.integ-lint]\n")
    (tmp_path / "m.py").write_text(SOURCE)
    (tmp_path / "broken.py").write_text("def broken(:\n")
    floor.run_stage(stage, tmp_path, None, jobs=1)
    assert floor.command_for(stage, tmp_path, None, 2)[-1] in ("1", "2")


def test_stage_n_asks_what_the_engine_asked(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.integ-lint]\n")
    (tmp_path / "m.py").write_text(SOURCE)
    (tmp_path / "broken.py").write_text("def broken(:\n")
    recorded = floor.record_asks(tmp_path, None)
    had_order, asks = recorded[str(tmp_path / "m.py")]
    # The calls in SOURCE are placed (their call facts ask for their ranges).
    assert had_order
    assert any(kind == "range" for kind, *_ in asks)
    floor._engine_setup(tmp_path, None)  # the node kinds the engine's walk enters
    tree = analysis._parse_module(SOURCE)
    context = _context(tree, load_config([tmp_path], None))
    walker = analysis.bare_walker(context, floor._WANTED)
    walker.walk(tree)
    # The same nodes of a second parse: the same answers, from the same positions code.
    answers = floor.replay_asks(tree, SOURCE, walker.visited, had_order, asks)
    assert answers == [answer for *_, answer in asks]
    assert (7, 36, 7, 47) in answers  # the call c(y=[1, 2])
