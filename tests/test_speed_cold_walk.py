"""The read-only walk (analysis._Dispatcher.walk) makes exactly the calls LibCST's
``visit`` makes: the same nodes, attribute hooks and order, on real code."""

from __future__ import annotations

from pathlib import Path
from typing import cast
from unittest import mock

import libcst as cst
import pytest

from integ_lint.engine.analysis import _Dispatcher
from integ_lint.facts.context import FileContext
from integ_lint.facts.syntax import child_nodes

ROOT = Path(__file__).resolve().parent.parent


class _Everything:
    """A set that holds every name: attribute hooks are announced for every node."""

    def __contains__(self, item: object) -> bool:
        return True


class _Recorder(_Dispatcher):
    def __init__(self, context: FileContext) -> None:
        super().__init__(context, [], lambda visitor, exc: None)
        self.events: list[tuple[str, int, str]] = []
        self._attribute_hook_types = _Everything()  # type: ignore[assignment]
        self._skipped_types = frozenset()  # every node, whitespace included

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.events.append(("visit", id(node), type(node).__name__))
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.events.append(("leave", id(original_node), ""))
        super().on_leave(original_node)

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        self.events.append(("visit-attribute", id(node), attribute))

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        self.events.append(("leave-attribute", id(original_node), attribute))


def _events(text: str, *, read_only: bool) -> list[tuple[str, int, str]]:
    tree = cst.parse_module(text)
    # The dispatcher only records imports and scopes in its context.
    recorder = _Recorder(cast(FileContext, mock.MagicMock()))
    if read_only:
        recorder.walk(tree)
    else:
        tree.visit(recorder)
    # Number the nodes in order of first appearance, so that runs compare by shape.
    order = {
        node_id: index for index, node_id in enumerate(dict.fromkeys(e[1] for e in recorder.events))
    }
    return [(kind, order[node_id], detail) for kind, node_id, detail in recorder.events]


SAMPLES = {
    "fstring_format_spec": 'x = f"{a!r:>{width}} {b=} {c:}"\ny = f"{d}"\n',
    "import_star_and_names": "from . import *\nfrom .m import (a, b as c)\nimport x.y as z\n",
    "statements": (
        "@dec(1)\nasync def f(a, /, b: int = 2, *c, d, **e) -> None:\n"
        "    while True:\n        if a:\n            break\n        else:\n            continue\n"
        "    for i in range(3):\n        pass\n    else:\n        pass\n"
        "    try:\n        yield a\n    except* E as err:\n        raise\n    else:\n        pass\n"
        "    finally:\n        del a\n"
        "    match b:\n        case [1, *rest] | {'k': v} if v:\n            pass\n"
        "class C(B, metaclass=M):\n    x: int = lambda: (yield)\n"
        "    async def g(self):\n        async with a as (b, c):\n            await b[1:2, ::3]\n"
        "z = [i for i in a if i] + {k: v for k, v in b} or not c and d if e else {*f}\n"
        "global g; nonlocal_ = 1; assert x, 'y'\n"
        "type T[U] = list[U]\n"
    ),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_walk_matches_libcst_visit_on_samples(name: str) -> None:
    text = SAMPLES[name]
    assert _events(text, read_only=True) == _events(text, read_only=False)


def test_walk_matches_libcst_visit_on_real_code() -> None:
    files = (
        sorted((ROOT / "integ_lint").rglob("*.py"))[:40]
        + sorted((ROOT / "fixtures").rglob("*.py"))[:30]
    )
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8")
        try:
            cst.parse_module(text)
        except cst.ParserSyntaxError:
            continue  # fixtures of broken files
        assert _events(text, read_only=True) == _events(text, read_only=False), path


def _all_nodes(tree: cst.CSTNode) -> list[cst.CSTNode]:
    stack, nodes = [tree], []
    while stack:
        node = stack.pop()
        nodes.append(node)
        stack.extend(node.children)
    return nodes


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_child_nodes_match_libcst_children(name: str) -> None:
    for node in _all_nodes(cst.parse_module(SAMPLES[name])):
        assert [id(c) for c in child_nodes(node)] == [id(c) for c in node.children], node


class _CommentReader(cst.BatchableCSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.comments: list[str] = []
        self.names: list[str] = []

    def visit_Comment(self, node: cst.Comment) -> None:
        self.comments.append(node.value)

    def visit_Name(self, node: cst.Name) -> None:
        self.names.append(node.value)


class _NameReader(cst.BatchableCSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def visit_Name(self, node: cst.Name) -> None:
        self.names.append(node.value)


def test_whitespace_is_skipped_only_when_no_visitor_wants_it() -> None:
    text = (
        "# head\nx = (  # inside\n    a,  # after a\n)\n\n# lone\ndef f(b):\n    return b  # end\n"
    )
    tree = cst.parse_module(text)
    context = cast(FileContext, mock.MagicMock())
    reader, names_only = _CommentReader(), _NameReader()
    with_comments = _Dispatcher(context, [reader], lambda visitor, exc: None)
    assert not with_comments._skipped_types
    with_comments.walk(tree)
    assert reader.comments == ["# head", "# inside", "# after a", "# lone", "# end"]
    without = _Dispatcher(context, [names_only], lambda visitor, exc: None)
    assert cst.SimpleWhitespace in without._skipped_types
    without.walk(tree)
    assert names_only.names == reader.names == ["x", "a", "f", "b", "b"]
