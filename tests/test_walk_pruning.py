"""The walk leaves out the terminal nodes no visitor wants (commas, operators, numbers),
records without entering the ones the positions number (``Name``), and still makes
every call a visitor asks for."""

from __future__ import annotations

from typing import cast
from unittest import mock

import libcst as cst

from integ_lint.engine.analysis import _Dispatcher
from integ_lint.facts.context import FileContext
from integ_lint.facts.positions import RECORDED_KINDS
from integ_lint.facts.syntax import is_terminal, kinds_inside

TEXT = "x = f(1, a.b, *[2.5, 'c'])\nglobal g\ndef h(p=-3):\n    return p + x\n"


class _Kinds(cst.BatchableCSTVisitor):
    def __init__(self, *kinds: str) -> None:
        super().__init__()
        self.seen: list[str] = []
        self.kinds = kinds

    def get_visitors(self) -> dict[str, object]:
        return {f"visit_{kind}": self._seen for kind in self.kinds}

    def _seen(self, node: cst.CSTNode) -> None:
        self.seen.append(type(node).__name__)


def _walk(*kinds: str) -> tuple[_Kinds, _Dispatcher]:
    visitor = _Kinds(*kinds)
    dispatcher = _Dispatcher(cast(FileContext, mock.MagicMock()), [visitor], lambda v, e: None)
    dispatcher.walk(cst.parse_module(TEXT))
    return visitor, dispatcher


def test_terminal_kinds_hold_only_whitespace_and_tokens() -> None:
    assert is_terminal(cst.Comma) and is_terminal(cst.Integer) and is_terminal(cst.Name)
    assert not is_terminal(cst.Call) and not is_terminal(cst.Attribute)
    inside = kinds_inside(cst.Global)
    assert inside is not None and cst.Name in inside  # global's names are nodes too
    assert kinds_inside(cst.Call) is None


def test_unwanted_tokens_are_not_walked_and_names_only_recorded() -> None:
    _, dispatcher = _walk("Call")
    kinds = {type(node) for node in dispatcher.visited}
    assert cst.Comma not in kinds and cst.Integer not in kinds and cst.Float not in kinds
    assert cst.Comma in dispatcher._skipped_types
    assert cst.Name not in dispatcher._skipped_types  # the positions number it
    names = [node.value for node in dispatcher.visited if type(node) is cst.Name]
    assert names == ["x", "f", "a", "b", "g", "h", "p", "p", "x"]
    assert cst.NameItem in kinds  # inside ``global``: the positions read its name


def test_a_wanted_terminal_kind_is_walked_wherever_it_is() -> None:
    visitor, _ = _walk("Comma", "Integer", "Name", "Minus")
    assert visitor.seen.count("Comma") == 3
    assert visitor.seen.count("Integer") == 2
    assert visitor.seen.count("Minus") == 1
    assert visitor.seen.count("Name") == 9
    # Every node kind of the sample, walked when everything is wanted:
    every = {type(node) for node in _walk("Comment")[1].visited}
    assert {cst.Comma, cst.Integer, cst.SimpleWhitespace, cst.Newline} <= every


def test_recorded_kinds_are_the_ones_the_positions_number() -> None:
    assert cst.Name in RECORDED_KINDS and cst.Call in RECORDED_KINDS
    assert cst.Comma not in RECORDED_KINDS
