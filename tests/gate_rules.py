"""Small rules for the reporter / baseline / changed-code / pre-commit tests, and
helpers shared by those tests. The rules are registered only inside the tests that
use them (``registered_gate_rules``)."""

from __future__ import annotations

import json
import subprocess
import textwrap
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import libcst as cst

from integ_lint.engine.registry import load_registry
from integ_lint.findings import Finding, RelatedLocation, Severity, Site, Span
from integ_lint.model.project import ProjectIndex
from integ_lint.rule import FactCollector, FileRule, Invalid, ProjectRule, Valid

SCHEMA_PATH = (
    Path(__file__).resolve().parents[1].parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"
)


class DefectCall(FileRule):
    """Reports calls to ``defect()``, fixable to ``repaired()``.

    **What it does** flags ``defect()``. **Why is this bad?** Test only.
    **Example** ``defect()``. **How to fix** call ``repaired()``.
    """

    code = "IL951"
    name = "defect-call"
    family = "gate-test"
    severity = Severity.WARNING
    fixable = True
    tags = ("testing",)
    VALID = (Valid("repaired()\n"),)
    INVALID = (Invalid("defect()\n", line=1),)

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "defect":
            self.report(
                node,
                "defect() called",
                replacement=node.with_changes(func=cst.Name("repaired")),
                fix_description="call repaired() instead",
                related=[RelatedLocation(self.context.relpath, Span(1, 1, 1, 2), "file start")],
                properties={"precision": "high"},
            )


class SevereCall(FileRule):
    """Reports calls to ``severe()`` as errors.

    **What it does** flags ``severe()``. **Why is this bad?** Test only.
    **Example** ``severe()``. **How to fix** remove it.
    """

    code = "IL952"
    name = "severe-call"
    family = "gate-test"
    severity = Severity.ERROR
    VALID = (Valid("mild()\n"),)
    INVALID = (Invalid("severe()\n", line=1),)

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "severe":
            self.report(node, "severe() called")


class _Defined(FactCollector):
    """Function names defined and called (by plain name) in a file."""

    KEY = "gate-test.names"

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.defined: set[str] = set()
        self.calls: list[tuple[str, int, int, int]] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.defined.add(node.name.value)

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value.startswith("helper"):
            span = self.context.span(node)
            self.calls.append((node.func.value, span.start_line, span.start_col, span.end_col))

    def collect(self) -> tuple[frozenset[str], tuple[tuple[str, int, int, int], ...]]:
        return frozenset(self.defined), tuple(self.calls)


class UndefinedHelper(ProjectRule):
    """Reports calls to ``helper*()`` functions that no file of the project defines.

    **What it does** joins every file's facts. **Why is this bad?** Test only.
    **Example** ``helper_x()`` with no ``def helper_x``. **How to fix** define it.
    """

    code = "IL953"
    name = "undefined-helper"
    family = "gate-test"
    severity = Severity.WARNING
    FACTS = (_Defined,)
    VALID = (Valid("def helper():\n    pass\n\nhelper()\n"),)
    INVALID = (Invalid("helper()\n", line=1),)

    def check(self, project: ProjectIndex) -> Iterable[Finding]:
        defined: set[str] = set()
        for _, (names, _calls) in project.facts(_Defined.KEY):
            defined |= names
        for facts, (_names, calls) in project.facts(_Defined.KEY):
            for name, line, col, end_col in calls:
                if name not in defined:
                    yield self.finding(
                        facts.relpath,
                        Site(Span(line, col, line, end_col), "", f"{name}()"),
                        f"{name}() is defined nowhere in the project",
                    )


GATE_RULES = (DefectCall, SevereCall, UndefinedHelper)


@contextmanager
def registered_gate_rules() -> Iterator[None]:
    registry = load_registry()
    added = [rule for rule in GATE_RULES if rule.code not in registry.rules]
    for rule in added:
        registry.add_rule(rule)
    try:
        yield
    finally:
        for rule in added:
            registry.rules.pop(rule.code, None)


def write_project(root: Path, files: dict[str, str], config: str = "") -> Path:
    """A project with ``pyproject.toml`` selecting the gate rules (and IL001)."""
    root.mkdir(parents=True, exist_ok=True)
    selection = 'select = ["IL95", "IL001"]'
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "demo"\nversion = "0"\n\n[tool.integ-lint]\n{selection}\n'
        + textwrap.dedent(config)
    )
    for relpath, code in files.items():
        target = root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(code))
    return root


def git(root: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def git_init(root: Path) -> None:
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "commit.gpgsign", "false")


def validate_sarif(document: dict[str, Any] | str) -> dict[str, Any]:
    """Validate against the official SARIF 2.1.0 schema (skipping, with a reason,
    only where the schema file is absent)."""
    import jsonschema
    import pytest

    data: dict[str, Any] = json.loads(document) if isinstance(document, str) else document
    if not SCHEMA_PATH.is_file():
        pytest.skip(f"SARIF schema not found at {SCHEMA_PATH}")
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors[:5]]
    return data
