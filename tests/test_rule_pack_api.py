"""A third-party rule pack written against the rule API as documented before the
packages existed (``integ_lint.rule``, ``integ_lint.findings``, ``integ_lint.settings``,
``integ_lint.context``, ``integ_lint.project``) loads from its entry point, registers
its config table, collects facts in the one traversal and reports through the engine,
the CLI and SARIF like a built-in rule."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from integ_lint import api
from integ_lint.cli import main
from integ_lint.engine import registry as registry_module
from integ_lint.examples import run_example  # the harness, by its old name too

PACK = '''
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import libcst as cst

from integ_lint.context import FileContext, dotted_name
from integ_lint.findings import Finding, Severity, Site, Span
from integ_lint.project import ProjectIndex
from integ_lint.rule import FactCollector, FileRule, Invalid, ProjectRule, Valid
from integ_lint.settings import Section


@dataclass
class AcmeSettings(Section):
    """``[tool.integ-lint.acme]``."""

    TABLE: ClassVar[str] = "acme"
    banned: list[str] = field(default_factory=lambda: ["print"])


class BannedCall(FileRule):
    """Reports calls of the functions ``[tool.integ-lint.acme] banned`` names.

    **What it does**: finds a call of a banned function.

    **Why is this bad?** The team decided so.

    **Example**: `print("x")`.

    **How to fix**: log instead.
    """

    code = "ACM101"
    name = "banned-call"
    family = "acme"
    severity = Severity.WARNING
    VALID = (Valid("log('x')\\n"),)
    INVALID = (Invalid("print('x')\\n", line=1),)

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self.banned = set(context.config.section(AcmeSettings).banned)

    def visit_Call(self, node: cst.Call) -> None:
        if dotted_name(node.func) in self.banned:
            self.report(node, f"{dotted_name(node.func)}() is banned here")


@dataclass(frozen=True)
class Defined:
    name: str
    line: int


class DefinedFunctions(FactCollector):
    KEY = "acme.defined"

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self.found: list[Defined] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.found.append(Defined(node.name.value, self.context.span(node).start_line))

    def collect(self) -> tuple[Defined, ...]:
        return tuple(self.found)


class DuplicateFunctionName(ProjectRule):
    """Reports a function name defined in more than one module of the project.

    **What it does**: joins every file's function definitions.

    **Why is this bad?** Readers confuse them.

    **Example**: `def load()` in two modules.

    **How to fix**: rename one.
    """

    code = "ACM201"
    name = "duplicate-function-name"
    family = "acme"
    severity = Severity.WARNING
    FACTS = (DefinedFunctions,)
    VALID = (Valid("def a():\\n    pass\\n", files={"pkg/other.py": "def b():\\n    pass\\n"}),)
    INVALID = (
        Invalid(
            "def a():\\n    pass\\n",
            line=1,
            files={"pkg/other.py": "def a():\\n    pass\\n"},
            finding_path="pkg/other.py",
        ),
    )

    def check(self, project: ProjectIndex) -> list[Finding]:
        first: dict[str, str] = {}
        findings = []
        for file_facts, defined in sorted(project.facts(DefinedFunctions.KEY), key=lambda p: p[0].relpath):
            for item in defined:
                if item.name not in first:
                    first[item.name] = file_facts.relpath
                    continue
                span = Span(item.line, 1, item.line, 1)
                findings.append(
                    self.finding(
                        file_facts.relpath,
                        Site(span, item.name, item.name),
                        f"{item.name} is also defined in {first[item.name]}",
                    )
                )
        return findings
'''


@pytest.fixture
def acme_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The pack installed the way pip leaves it: a module and a dist-info with its
    ``integ_lint.rules`` entry point, on ``sys.path``."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "acme_lint_rules.py").write_text(PACK)
    dist_info = site / "acme_lint_rules-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: acme-lint-rules\nVersion: 1.0\n"
    )
    (dist_info / "entry_points.txt").write_text("[integ_lint.rules]\nacme = acme_lint_rules\n")
    monkeypatch.syspath_prepend(str(site))
    registry_module.load_registry.cache_clear()
    yield
    registry_module.load_registry.cache_clear()


def test_the_pack_loads_with_its_table_and_its_examples_hold(acme_pack: None) -> None:
    registry = registry_module.load_registry()
    assert not registry.load_errors, registry.load_errors
    assert {"ACM101", "ACM201"} <= set(registry.rules)
    assert "acme" in {section.TABLE for section in registry.sections}
    for code in ("ACM101", "ACM201"):
        rule = registry.rules[code]
        for example in rule.VALID:
            assert run_example(rule, example).findings == []
        for example in rule.INVALID:
            findings = run_example(rule, example).findings
            assert [f.code for f in findings] == [code]


def test_the_pack_reports_through_the_engine_cli_and_sarif(acme_pack: None, tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "app").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [tool.integ-lint]
            extend-select = ["ACM"]

            [tool.integ-lint.acme]
            banned = ["print", "eval"]
            """
        )
    )
    (project / "app" / "__init__.py").write_text("")
    (project / "app" / "a.py").write_text("def load():\n    print('a')\n")
    (project / "app" / "b.py").write_text("def load():\n    return eval('1')\n")

    report = api.check([project])
    found = sorted((f.code, f.path, f.site.span.start_line) for f in report.findings)
    assert found == [
        ("ACM101", "app/a.py", 2),
        ("ACM101", "app/b.py", 2),
        ("ACM201", "app/b.py", 1),
    ]

    runner = CliRunner()
    result = runner.invoke(main, ["check", str(project), "--format", "sarif"])
    assert result.exit_code == 1, result.output
    sarif = json.loads(result.stdout)
    rule_ids = {r["id"] for r in sarif["runs"][0]["tool"]["driver"]["rules"]}
    assert {"ACM101", "ACM201"} <= rule_ids
    assert sorted(r["ruleId"] for r in sarif["runs"][0]["results"]) == [
        "ACM101",
        "ACM101",
        "ACM201",
    ]
    listed = runner.invoke(main, ["rules", "--format", "json"])
    assert {"ACM101", "ACM201"} <= {r["code"] for r in json.loads(listed.stdout)}
