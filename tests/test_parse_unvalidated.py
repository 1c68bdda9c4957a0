"""The engine parses without LibCST's per-node validation (analysis._parse_module):
the same trees, and validation back on for every node built by hand afterwards,
after a syntax error too."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from integ_lint.engine.analysis import _parse_module

ROOT = Path(__file__).resolve().parent.parent


def test_the_same_trees_as_a_validated_parse() -> None:
    files = sorted((ROOT / "integ_lint").rglob("*.py"))[:25]
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8")
        tree = _parse_module(text)
        assert tree.deep_equals(cst.parse_module(text)), path
        assert tree.code == text


def test_validation_is_back_after_a_parse_and_after_a_syntax_error() -> None:
    _parse_module("x = 1\n")
    with pytest.raises(cst.CSTValidationError):
        cst.Name("not an identifier")
    with pytest.raises(cst.ParserSyntaxError):
        _parse_module("def (:\n")
    with pytest.raises(cst.CSTValidationError):
        cst.SimpleWhitespace("x")


@pytest.mark.parametrize(
    "literal",
    ['"a"', "'b'", '"""x\ny"""', "''", '""""""', 'u"q"', 'b"q"', 'r"\\d"', '"a\\nb"', "'''a'''"],
)
def test_the_config_collectors_string_values_are_literal_eval(literal: str) -> None:
    from integ_lint.facts.schemas import _string_value

    node = cst.parse_expression(literal)
    value = node.evaluated_value  # type: ignore[attr-defined]
    assert _string_value(node) == (value if isinstance(value, str) else None)
