"""The ranges and snippets AstPositions takes from CPython's ast are exactly the
code-generated ones (NodePositions without a source), asked after the walk or, for a
child, while the walk visits its parent; when the two trees disagree, the engine
analyses the file again without them."""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesmith import from_grammar

from integ_lint.config.loader import load_config
from integ_lint.engine import analysis
from integ_lint.engine.analysis import _Dispatcher
from integ_lint.engine.discovery import SourceFile
from integ_lint.facts.context import FileContext
from integ_lint.facts.positions import AstPositions, NodePositions, generates_alone
from integ_lint.facts.syntax import child_nodes
from integ_lint.findings.model import Span
from integ_lint.rule import FactCollector

TRICKY = '''# -*- coding: utf-8 -*-
import os, sys as system
import a.b.c as d
from .x.y import (a,
    b as c)  # trailing
global_name = None; other = True

@decorator(
    arg)
@other.deco
class Ünïcode(Base, metaclass=Meta):
    """Doc
    string"""
    x: int = 1; y = f"{x!r:>{width}} {call(x)}" "tail" f"{z}"
    z: float = 2.0
    ü = ("a" "b"
         'c')

    async   def método(self, *a, k=g(), **kw) -> "T":
        global counter
        match a:
            case [1, *rest] if rest:
                return lambda q: (q
                    + 1)
            case Point(x=0, y=yy) | {"k": v, **others}:
                pass
            case None | True:
                pass
        with open("f") as fh, ctx() as (p, q):
            yield from fh
        try:
            (f)(x)[1:2] < (y) if z else w.v()()
        except (E, F) as err:
            raise err from None
        return ((a.b)).c, d[e] , "é" + f(é=1)

def \\
  continued(): pass
'''

# Boolean chains: one ast.BoolOp for ``a or b or c``, two LibCST nodes.
BOOLEAN_CHAINS = [
    "x = a or b or c and d or (e or f) or g\ny = (p and q) and r and not s\n",
    "z = (a or\n     b) or c if (d and e and f) else g or h\n",
]
# Names ast holds as strings or constants: an attribute's, a keyword, a parameter, a
# definition's, True / False / None, a match singleton; and some it has no position for.
NAMES_AS_STRINGS = [
    "@deco(key=None)\nasync  def f(a, *args, b: int = True, **kw) -> C.d:\n"
    "    return g(x=a.b.c, **kw)(y=lambda q, *r: q)\n",
    "class K(Base, metaclass=M):\n    def m(self): return self.é.ü\n",
    "match x:\n    case None | True:\n        pass\n    case {False: y, **rest}:\n        pass\n",
    "import os\ntry:\n    pass\nexcept E as err:\n    global g\n    print(err, end='')\n",
]

SOURCES = [
    TRICKY,
    "",
    "x",
    "x = 1\r\ny = f(2)\r\n",
    "a = 1\rb = g(a)\r",
    "if x:\n\ty = [\n\t1]\n\tz = h(y)\n",
    "é = 'ü'; f(é)\n",
    "print('a' 'b', f'{x}' 'c', b'd')\n",
    'x = (f"{a}"\n     f"{b(c)}"), f"""\n{d}\n  {e!r:>{w}}"""\nz = f"é{ü(1)}"\n',
    'def f():\n    if x:\n        y = f"""a {g(\n            h)} {k}\n  {m(1,\n n)}"""\n',
    "def f(): return (yield)\nclass C: pass\n",
    "x = (a)(b)(c)\nd = e[f][g]\n",
    "x: int\ny: 'str' = 'v'\n",
    *BOOLEAN_CHAINS,
    *NAMES_AS_STRINGS,
]


def _walked(
    source: str, during: bool, consistent: list[bool] | None = None
) -> list[tuple[cst.CSTNode, object, object]]:
    """(node, range from ast or None, range from code generation) for every node,
    asked after the walk or, for each child, as the walk visits its parent. The
    trees must match, unless ``consistent`` is given: it is then told whether they
    did."""
    module = cst.parse_module(source)
    context = FileContext(
        relpath="m.py",
        module="m",
        is_package_init=False,
        source=source,
        tree=module,
        wrapper=None,  # type: ignore[arg-type]
        config=None,  # type: ignore[arg-type]
    )
    generated = NodePositions(module)
    asked: list[tuple[cst.CSTNode, object, object]] = []

    class Asking(_Dispatcher):
        def on_visit(self, node: cst.CSTNode) -> bool:
            if during:
                for child in child_nodes(node):
                    asked.append((child, from_ast.range_of(child), generated.range_of(child)))
            return super().on_visit(node)

    dispatcher = Asking(context, [], lambda visitor, exc: None)
    from_ast = AstPositions(module, source, dispatcher.visited)
    dispatcher.walk(module)
    if not during:
        for node in dispatcher.visited:
            asked.append((node, from_ast.range_of(node), generated.range_of(node)))
            if isinstance(node, cst.FunctionDef | cst.ClassDef):
                name = node.name
                asked.append((name, from_ast.range_of(name), generated.range_of(name)))
            if generates_alone(node):
                snippet = from_ast.snippet(node, 200)
                if snippet is not None:
                    assert snippet == generated.snippet(node, 200), type(node).__name__
    if consistent is None:
        assert from_ast.consistent()
    else:
        consistent.append(from_ast.consistent())
    return asked


def _normalised_away(module: cst.Module) -> bool:
    """Whether a name is written in a form Python's parser changes (NFKC: ``ª`` is
    ``a`` to ``ast``): the trees' names then differ, and the engine places the
    file's nodes by code generation (positions.AstPositions.consistent)."""
    return any(
        unicodedata.normalize("NFKC", node.value) != node.value
        for node in _preorder(module)
        if isinstance(node, cst.Name)
    )


@pytest.mark.parametrize("during", [False, True])
@pytest.mark.parametrize("source", SOURCES)
def test_ast_ranges_are_the_generated_ones(source: str, during: bool) -> None:
    asked = _walked(source, during)
    for node, from_ast, generated in asked:
        if from_ast is not None:
            assert from_ast == generated, type(node).__name__


def test_most_expressions_are_served_and_the_rest_generated() -> None:
    served = {type(node).__name__ for node, from_ast, _ in _walked(TRICKY, False) if from_ast}
    assert {"Call", "Attribute", "Name", "Subscript", "Comparison", "IfExp"} <= served
    assert {"Assign", "AnnAssign", "SimpleString", "ConcatenatedString"} <= served
    assert {"Import", "ImportFrom"} <= served
    chains = _walked(BOOLEAN_CHAINS[0], False)
    booleans = [from_ast for node, from_ast, _ in chains if isinstance(node, cst.BooleanOperation)]
    # LibCST nests ``a or b or c`` to the left: of the nine nodes, the four on the
    # left of a node of the same operator without parentheses have no ast match.
    assert len(booleans) == 9 and booleans.count(None) == 4


def test_names_ast_holds_as_strings_are_served() -> None:
    """An attribute's name, a keyword, a parameter, a definition's name and True /
    False / None get their range from ast too; names in an import, ``global`` and an
    ``except ... as`` do not (ast has no position for them)."""
    asked = [found for source in NAMES_AS_STRINGS for found in _walked(source, False)]
    served = {node.value for node, from_ast, _ in asked if isinstance(node, cst.Name) and from_ast}
    expected = {"f", "a", "args", "b", "kw", "key", "x", "y", "c", "q", "r", "True", "None"}
    assert expected | {"K", "metaclass", "m", "é", "ü", "False", "print", "end"} <= served
    not_served = {
        node.value for node, from_ast, _ in asked if isinstance(node, cst.Name) and not from_ast
    }
    assert not_served == {"os", "g", "err", "y", "rest"}  # y: a match capture
    not_served = [node for node, from_ast, _ in _walked(TRICKY, False) if from_ast is None]
    # Nodes ast has no match for: a Name of an import, a keyword, True, a part of
    # "a" "b", anything inside an f-string, an assignment ending in a semicolon.
    kinds = {type(node).__name__ for node in not_served}
    assert {"SimpleString", "Name", "Assign"} <= kinds
    # Inside an f-string: placed by generating the f-string alone.
    inner = [
        node
        for node, from_ast, _ in _walked(TRICKY, False)
        if isinstance(node, cst.Call)
        and isinstance(node.func, cst.Name)
        and node.func.value == "call"
    ]
    assert inner and all(node not in not_served for node in inner)


def test_own_files_and_generated_programs() -> None:
    package = Path(__file__).resolve().parents[1] / "integ_lint"
    for path in sorted(package.rglob("*.py"))[:12]:
        source = path.read_text(encoding="utf-8")
        for during in (False, True):
            for node, from_ast, generated in _walked(source, during):
                if from_ast is not None:
                    assert from_ast == generated, (path.name, type(node).__name__)


@pytest.mark.filterwarnings("ignore::SyntaxWarning")
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(from_grammar())
def test_generated_programs(source: str) -> None:
    try:
        cst.parse_module(source)
    except Exception:
        return
    consistent: list[bool] = []
    walked = _walked(source, False, consistent)
    if not consistent[0]:
        # The engine keeps none of these ranges (it analyses the file again).
        assert _normalised_away(cst.parse_module(source)), source
        return
    for node, from_ast, generated in walked:
        if from_ast is not None:
            assert from_ast == generated, type(node).__name__


def test_a_name_python_normalises_makes_the_trees_inconsistent() -> None:
    # Found by hypothesis: ``ast`` holds the attribute's name as "a", so the range
    # worked out from it is a byte short; the name's text check catches it.
    source = "importA.\u00aa\n"
    consistent: list[bool] = []
    _walked(source, False, consistent)
    assert consistent == [False]
    assert _normalised_away(cst.parse_module(source))


def test_a_tree_that_does_not_match_is_inconsistent() -> None:
    module = cst.parse_module("f(x)\ng(y)\n")
    other = cst.parse_module("h(z)\n")  # one call fewer than the source has
    visited = [node for node in _preorder(other)]
    positions = AstPositions(module, "f(x)\ng(y)\n", visited)
    call = next(node for node in visited if isinstance(node, cst.Call))
    assert positions.range_of(call) is not None
    assert not positions.consistent()


def _preorder(node: cst.CSTNode) -> list[cst.CSTNode]:
    nodes = [node]
    for child in child_nodes(node):
        nodes.extend(_preorder(child))
    return nodes


class _CallSpans(FactCollector):
    KEY = "call-spans"

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self.spans: list[tuple[Span, str]] = []

    def visit_Call(self, node: cst.Call) -> None:
        self.spans.append((self.context.span(node.func), self.context.snippet(node)))

    def collect(self) -> list[tuple[Span, str]]:
        return self.spans


def test_the_engine_analyses_again_when_the_trees_disagree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.py"
    path.write_text("import asyncio\n\nasync def main():\n    g(h(1))\n", encoding="utf-8")
    config = load_config([tmp_path])
    source = SourceFile(path=path, relpath="a.py", module="a", is_package_init=False)
    expected = analysis.analyze_file(source, config, [], [_CallSpans])
    assert len(expected.facts["call-spans"]) == 2
    visits: list[bool] = []
    real_visit = analysis._visit

    def counted(*args: Any, positions_from_ast: bool) -> bool:
        visits.append(positions_from_ast)
        return real_visit(*args, positions_from_ast=positions_from_ast)

    monkeypatch.setattr(analysis, "_visit", counted)
    monkeypatch.setattr(AstPositions, "consistent", lambda self: not self.used)
    again = analysis.analyze_file(source, config, [], [_CallSpans])
    assert visits == [True, False]
    assert again == expected


def test_nodes_in_a_concatenation_with_an_f_string_are_served() -> None:
    """``"a" f"{b}"`` is one ast.JoinedStr: its range places the concatenation (its
    text checked: a string's start and a quote at its end), and the nodes inside it,
    on its first line, are placed by generating it alone."""
    source = 'x = k("é" f"{b.c(d)}"\n      "e")\ny = "a" f"{g}" "h"\n'
    asked = _walked(source, False)
    served = {
        type(node).__name__
        for node, from_ast, generated in asked
        if from_ast is not None and from_ast == generated
    }
    assert {"ConcatenatedString", "Attribute", "Call"} <= served
    assert {
        node.value for node, from_ast, _ in asked if isinstance(node, cst.Name) and from_ast
    } >= {
        "b",
        "c",
        "d",
        "g",
    }
