"""NodePositions gives exactly LibCST's PositionProvider ranges, for every node."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesmith import from_grammar
from libcst._nodes.base import CSTCodegenError
from libcst.metadata import MetadataWrapper, PositionProvider

from integ_lint.facts.positions import NodePositions, generates_alone

TRICKY = '''# -*- coding: utf-8 -*-
import os, sys as system
from . import (a,
    b)  # trailing

@decorator(
    arg)
class Ünïcode(Base):
    """Doc
    string"""
    x: int = 1; y = f"{x!r:>{width}}"

    async def método(self, *a, **k) -> "T":
        match a:
            case [1, *rest] if rest:
                return lambda q: (q
                    + 1)
        with open("f") as fh, ctx() as (p, q):
            yield from fh
'''


def _compare(source: str) -> None:
    module = cst.parse_module(source)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    positions = NodePositions(module)
    for node, code_range in expected.items():
        assert positions.range_of(node) == (
            code_range.start.line,
            code_range.start.column,
            code_range.end.line,
            code_range.end.column,
        ), (type(node).__name__, module.code_for_node(node))


@pytest.mark.parametrize(
    "source",
    [
        TRICKY,
        "",
        "\n",
        "x = 1\r\ny = 2\r\n",
        "a = 1\rb = 2\r",
        "if x:\n\ty = [\n\t1]\n\tz = 2\n",
        "x",
    ],
)
def test_same_ranges_as_position_provider(source: str) -> None:
    _compare(source)


def test_same_ranges_on_this_package() -> None:
    package = Path(__file__).resolve().parents[1] / "integ_lint"
    for path in sorted(package.rglob("*.py"))[:15]:
        _compare(path.read_text(encoding="utf-8"))


@pytest.mark.filterwarnings("ignore::SyntaxWarning")  # hypothesmith compiles odd programs
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(from_grammar())
def test_same_ranges_on_generated_programs(source: str) -> None:
    try:
        cst.parse_module(source)
    except Exception:
        return  # hypothesmith emits a few programs LibCST's grammar rejects
    _compare(source)


def _compare_in_reverse(source: str) -> None:
    """Asked last node first (everything generated at once), ranges and snippets are
    the same as asked in order; snippets are the node's own code, normalised."""
    module = cst.parse_module(source)
    expected = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    positions = NodePositions(module)
    for node, code_range in reversed(list(expected.items())):
        assert positions.range_of(node) == (
            code_range.start.line,
            code_range.start.column,
            code_range.end.line,
            code_range.end.column,
        ), (type(node).__name__, module.code_for_node(node))
        try:
            own_code = module.code_for_node(node)
        except CSTCodegenError:
            continue  # an Annotation, say, generates only inside its parent
        for limit in (5, 200):
            snippet = positions.snippet(node, limit)
            if snippet is None:  # generated alone instead (see NodePositions.snippet)
                assert node is module or not generates_alone(node)
                continue
            assert snippet == " ".join(own_code.split())[:limit], type(node).__name__


@pytest.mark.parametrize("source", [TRICKY, "", "x", "a = 1\rb = 2\r", "if x:\n\ty = [\n\t1]\n"])
def test_same_ranges_and_snippets_asked_in_reverse(source: str) -> None:
    _compare_in_reverse(source)


def test_snippets_on_this_package() -> None:
    package = Path(__file__).resolve().parents[1] / "integ_lint"
    for path in sorted(package.rglob("*.py"))[15:25]:
        _compare_in_reverse(path.read_text(encoding="utf-8"))


def test_a_node_of_another_tree_has_no_snippet_and_no_range() -> None:
    positions = NodePositions(cst.parse_module("x = 1\n"))
    stranger = cst.parse_expression("y")
    assert positions.snippet(stranger, 200) is None
    with pytest.raises(KeyError):
        positions.range_of(stranger)


@pytest.mark.filterwarnings("ignore::SyntaxWarning")
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(from_grammar())
def test_same_ranges_and_snippets_in_reverse_on_generated_programs(source: str) -> None:
    try:
        cst.parse_module(source)
    except Exception:
        return
    _compare_in_reverse(source)


def test_which_parsed_nodes_generate_alone() -> None:
    module = cst.parse_module(
        "f(a, b)\nif x:\n    pass\nelif y:\n    pass\ndef g(p: int) -> None: ...\n"
    )
    call = module.body[0].body[0].value  # type: ignore[attr-defined]
    assert all(generates_alone(arg) for arg in call.args)  # a comma or none: no default
    assert generates_alone(module.body[0].body[0])  # an Expr without semicolon
    assert not generates_alone(module.body[1])  # if / elif: it depends
    function = module.body[2]
    assert isinstance(function, cst.FunctionDef)
    assert not generates_alone(function.params.params[0].annotation)  # type: ignore[arg-type]
