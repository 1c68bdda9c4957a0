"""The collectors' shared per-node shortcuts give what the longer way gives: the
context's scope (joined when a scope is entered, not on every read), the message
collector's walk for ``self.name = ...`` (which leaves out whitespace and tokens, not
only expressions) and ``child_nodes`` (LibCST's ``children``, without its rebuild)."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from integ_lint.facts.context import FileContext
from integ_lint.facts.messages import _is_expression, _self_attribute, _self_attributes
from integ_lint.facts.syntax import child_nodes
from integ_lint.facts.torch import walk

ROOT = Path(__file__).resolve().parent.parent
# Every Python file of the fixtures and of integ-lint itself: classes, nested blocks,
# annotated and tuple assignments, comments and blank lines between statements.
SOURCES = sorted(
    [*(ROOT / "fixtures").rglob("*.py"), *(ROOT / "integ_lint" / "facts").glob("*.py")]
)


def _parsed(path: Path) -> cst.Module | None:
    try:
        return cst.parse_module(path.read_text(encoding="utf-8"))
    except (cst.ParserSyntaxError, UnicodeDecodeError):
        return None  # the fixtures hold deliberately broken files


def _self_attributes_unpruned(method: cst.FunctionDef) -> list[str]:
    """The oracle: every node of the body but expressions, in visit order."""
    names: list[str] = []
    stack: list[cst.CSTNode] = [method.body]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.AssignTarget, cst.AnnAssign)):
            name = _self_attribute(node.target)
            if name is not None:
                names.append(name)
        children = [c for c in node.children if not _is_expression(type(c))]
        stack.extend(reversed(children))
    return names


def _context() -> FileContext:
    module = cst.parse_module("")
    return FileContext(
        relpath="m.py",
        module="m",
        is_package_init=False,
        source="",
        tree=module,
        wrapper=None,  # type: ignore[arg-type]
        config=None,  # type: ignore[arg-type]
    )


def test_self_attributes_match_the_unpruned_walk() -> None:
    methods = 0
    found = 0
    for path in SOURCES:
        tree = _parsed(path)
        if tree is None:
            continue
        for node in walk(tree):
            if type(node) is cst.FunctionDef:
                expected = _self_attributes_unpruned(node)
                assert _self_attributes(node) == expected, f"{path}: {node.name.value}"
                methods += 1
                found += len(expected)
    assert methods > 100 and found > 20  # the corpus has methods that assign on self


def test_self_attributes_of_nested_blocks_in_order() -> None:
    method = cst.parse_module(
        "def __init__(self, a):\n"
        "    self.x = 1  # a comment\n"
        "\n"
        "    if a:\n"
        "        self.y: int = 2\n"
        "    else:\n"
        "        with open(a) as f:\n"
        "            self.z = other.w = f\n"
        "    try:\n"
        "        self.x, b = 3, 4\n"  # a tuple target: not a plain self.name
        "    finally:\n"
        "        self.v = lambda: 5\n"
    ).body[0]
    assert isinstance(method, cst.FunctionDef)
    assert _self_attributes(method) == ["x", "y", "z", "v"]


def test_child_nodes_are_libcsts_children() -> None:
    for path in SOURCES[:40]:
        tree = _parsed(path)
        if tree is None:
            continue
        for node in walk(tree):
            assert child_nodes(node) == list(node.children)


@pytest.mark.parametrize(
    "moves",
    [
        [],
        ["+A", "-"],
        ["+A", "+f", "-", "+g", "+inner", "-", "-", "-"],
        ["+", "+x", "-", "-"],  # an empty name joins as ".".join would
    ],
)
def test_scope_is_the_joined_stack(moves: list[str]) -> None:
    context = _context()
    assert context.scope == ""
    for move in moves:
        if move == "-":
            context.pop_scope()
        else:
            context.push_scope(move[1:])
        assert context.scope == ".".join(context.scope_stack)
