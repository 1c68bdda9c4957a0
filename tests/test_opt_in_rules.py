"""Opt-in rules (``default_enabled = False``): below the precision bar with their
defaults, so a prefix such as ``IL`` does not select them; their exact code does."""

from __future__ import annotations

import json
from collections.abc import Iterator

import libcst as cst
import pytest
from click.testing import CliRunner

from integ_lint.cli import main
from integ_lint.engine.registry import Registry, load_registry
from integ_lint.findings import Severity
from integ_lint.rule import FileRule


class NoisyRule(FileRule):
    """Reports every call (a stand-in for a rule below the precision bar).

    **What it does** flags calls. **Why is this bad?** Test only.
    **Example** ``f()``. **How to fix** none.
    """

    code = "IL981"
    name = "noisy-rule"
    family = "opt-in-test"
    severity = Severity.NOTE
    default_enabled = False

    def visit_Call(self, node: cst.Call) -> None:
        self.report(node, "a call")


class QuietRule(NoisyRule):
    """Reports every call, enabled by default.

    **What it does** flags calls. **Why is this bad?** Test only.
    **Example** ``f()``. **How to fix** none.
    """

    code = "IL982"
    name = "quiet-rule"
    default_enabled = True


@pytest.fixture
def registry() -> Iterator[Registry]:
    registry = Registry()
    registry.add_rule(NoisyRule)
    registry.add_rule(QuietRule)
    yield registry


def test_prefixes_skip_opt_in_rules_and_exact_codes_select_them(registry: Registry) -> None:
    assert [r.code for r in registry.select(["IL"], [])] == ["IL982"]
    assert [r.code for r in registry.select(["IL98"], [])] == ["IL982"]
    assert [r.code for r in registry.select(["IL", "IL981"], [])] == ["IL981", "IL982"]
    # The exact code outranks a shorter ignored prefix, as for any rule.
    assert [r.code for r in registry.select(["IL", "IL981"], ["IL98"])] == ["IL981"]


def test_rules_command_shows_which_rules_are_opt_in() -> None:
    result = CliRunner().invoke(main, ["rules", "--format", "json"])
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert all(isinstance(row["default"], bool) for row in rows)
    opt_in = {row["code"] for row in rows if not row["default"]}
    registry = load_registry()
    assert opt_in == {c for c in registry.codes if not registry.rules[c].default_enabled}
