"""Small rules used by engine tests (registered only inside those tests)."""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst

from integ_lint.findings import Finding, Severity, Site, Span
from integ_lint.model.project import ProjectIndex
from integ_lint.rule import FactCollector, FileRule, Invalid, ProjectRule, Valid


class ProbeCall(FileRule):
    """Reports every call to ``probe()``, with a fix renaming it to ``checked()``."""

    code = "IL901"
    name = "probe-call"
    family = "probe"
    severity = Severity.WARNING
    fixable = True
    VALID = (Valid("checked()\n"),)
    INVALID = (Invalid("probe()\n", line=1, expected_fix="checked()\n"),)

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "probe":
            self.report(
                node,
                "probe() called",
                replacement=node.with_changes(func=cst.Name("checked")),
                fix_description="call checked() instead",
            )


class CrashingRule(FileRule):
    """Raises on every ``boom`` name."""

    code = "IL902"
    name = "crashing-rule"
    family = "probe"
    VALID = (Valid("x = 1\n"),)
    INVALID = (Invalid("boom\n", line=1),)

    def visit_Name(self, node: cst.Name) -> None:
        if node.value == "boom":
            raise ValueError("rule bug")


class NameCount(FactCollector):
    KEY = "probe.names"

    def __init__(self, context: object) -> None:
        super().__init__(context)  # type: ignore[arg-type]
        self.count = 0

    def visit_Name(self, node: cst.Name) -> None:
        self.count += 1

    def collect(self) -> int:
        return self.count


class ProjectNames(ProjectRule):
    """Reports the file with the most names."""

    code = "IL903"
    name = "project-names"
    family = "probe"
    FACTS = (NameCount,)
    VALID = ()
    INVALID = ()

    def check(self, project: ProjectIndex) -> Iterable[Finding]:
        ranked = sorted(project.facts(NameCount.KEY), key=lambda item: (-item[1], item[0].relpath))
        if ranked:
            facts, count = ranked[0]
            yield self.finding(facts.relpath, Site(Span(1, 1, 1, 2)), f"{count} names")
