"""The dispatcher's inlined walk (``_walk_inline``, used unless a subclass overrides
``on_visit`` / ``on_leave``) makes exactly the visitor calls, scopes and import
aliases of the plain walk (``_walk``, which tests/test_speed_cold_walk.py compares
with LibCST's ``visit``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import libcst as cst
import pytest

from integ_lint.engine.analysis import _Dispatcher
from integ_lint.facts.context import FileContext

ROOT = Path(__file__).resolve().parent.parent


class _EveryKind(cst.BatchableCSTVisitor):
    """Records every visit and leave with the scope and aliases the context holds,
    and an attribute hook of one kind."""

    def __init__(self, context: FileContext) -> None:
        super().__init__()
        self.context = context
        self.events: list[tuple[Any, ...]] = []

    def get_visitors(self) -> dict[str, Any]:
        table: dict[str, Any] = {}
        for kind in vars(cst).values():
            if isinstance(kind, type) and issubclass(kind, cst.CSTNode):
                table[f"visit_{kind.__name__}"] = self._visit
                table[f"leave_{kind.__name__}"] = self._leave
        table["visit_If_body"] = lambda node: self.events.append(("if-body", id(node)))
        return table

    def _visit(self, node: cst.CSTNode) -> None:
        self.events.append(("visit", id(node), self.context.scope, len(self.context.aliases.names)))

    def _leave(self, node: cst.CSTNode) -> None:
        self.events.append(("leave", id(node), self.context.scope))


class _Plain(_Dispatcher):
    def on_visit(self, node: cst.CSTNode) -> bool:  # overridden: the plain walk runs
        return super().on_visit(node)


def _events(
    text: str, tree: cst.Module, dispatcher_type: type[_Dispatcher]
) -> tuple[list[Any], list[int]]:
    context = FileContext(
        relpath="m.py",
        module="m",
        is_package_init=False,
        source=text,
        tree=tree,
        wrapper=None,  # type: ignore[arg-type]
        config=None,  # type: ignore[arg-type]
    )
    visitor = _EveryKind(context)
    dispatcher = dispatcher_type(context, [visitor], lambda visitor, exc: None)
    dispatcher.walk(tree)
    return visitor.events, [id(node) for node in dispatcher.visited]


@pytest.mark.parametrize(
    "path", sorted((ROOT / "integ_lint" / "facts").glob("*.py"))[:6], ids=lambda p: p.name
)
def test_inline_walk_makes_the_plain_walks_calls(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    text += "\nif x:\n    import a.b as c\nclass K:\n    def f(self): from . import d\n"
    tree = cst.parse_module(text)
    inline, plain = _events(text, tree, _Dispatcher), _events(text, tree, _Plain)
    assert inline == plain
    assert any(event[0] == "if-body" for event in inline[0])
