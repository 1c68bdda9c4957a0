"""facts.syntax.visit_read_only makes the visit/leave calls LibCST's ``visit`` makes,
in the same order, and honours a visit_* that returns False."""

from __future__ import annotations

from pathlib import Path

import libcst as cst

from integ_lint.facts.syntax import visit_read_only

ROOT = Path(__file__).resolve().parent.parent


class _Recorder(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, int]] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.calls.append(("visit", id(node)))
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.calls.append(("leave", id(original_node)))
        super().on_leave(original_node)

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False  # not into lambdas


def _calls(node: cst.CSTNode, *, read_only: bool) -> list[tuple[str, int]]:
    recorder = _Recorder()
    if read_only:
        visit_read_only(node, recorder)
    else:
        node.visit(recorder)
    return recorder.calls


def test_same_calls_as_libcst_visit_on_real_code() -> None:
    for path in sorted((ROOT / "integ_lint" / "facts").rglob("*.py"))[:8]:
        module = cst.parse_module(path.read_text(encoding="utf-8"))
        for node in (module, *module.body[-3:]):
            assert _calls(node, read_only=True) == _calls(node, read_only=False), path


def test_a_visit_returning_false_skips_the_children() -> None:
    module = cst.parse_module("f = lambda x: g(x)\nh(1)\n")
    calls = _calls(module, read_only=True)
    assert calls == _calls(module, read_only=False)
    lambda_node = module.body[0].body[0].value  # type: ignore[attr-defined]
    index = calls.index(("visit", id(lambda_node)))
    assert calls[index + 1] == ("leave", id(lambda_node))
