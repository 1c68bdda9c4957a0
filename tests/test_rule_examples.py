"""Every VALID and INVALID example of every registered rule, third-party ones included."""

from __future__ import annotations

import pytest

from integ_lint.engine.examples import dedent, run_example
from integ_lint.engine.registry import load_registry
from integ_lint.rule import AnyRule, Invalid, Valid

REGISTRY = load_registry()


def _cases() -> list[tuple[AnyRule, Valid | Invalid, str]]:
    cases = []
    for code in REGISTRY.codes:
        rule = REGISTRY.rules[code]
        cases.extend((rule, ex, f"{code}-valid-{i}") for i, ex in enumerate(rule.VALID))
        cases.extend((rule, ex, f"{code}-invalid-{i}") for i, ex in enumerate(rule.INVALID))
    return cases


CASES = _cases()


def test_every_rule_has_examples() -> None:
    for code in REGISTRY.codes:
        rule = REGISTRY.rules[code]
        assert rule.VALID, f"{code} has no VALID examples"
        assert rule.INVALID, f"{code} has no INVALID examples"
        assert not rule.validate_declaration(), rule.validate_declaration()


@pytest.mark.parametrize(
    ("rule", "example"), [(r, e) for r, e, _ in CASES], ids=[i for _, _, i in CASES]
)
def test_example(rule: AnyRule, example: Valid | Invalid) -> None:
    outcome = run_example(rule, example)
    internal = [n for n in outcome.report.notifications if n.kind.value != "stale-baseline"]
    assert not internal, [n.message for n in internal]
    if isinstance(example, Valid):
        assert outcome.findings == [], [f"{f.line}: {f.message}" for f in outcome.findings]
        return
    expected_path = example.finding_path or example.path
    got = sorted((f.path, f.line) for f in outcome.findings)
    assert got == sorted((expected_path, line) for line in example.expected_lines), [
        f"{f.path}:{f.line}: {f.message}" for f in outcome.findings
    ]
    if example.message:
        assert example.message in outcome.findings[0].message, outcome.findings[0].message
    if example.expected_fix is not None:
        assert outcome.fixed_source == dedent(example.expected_fix)
