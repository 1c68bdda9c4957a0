"""``--format github``: workflow-command annotations for a plain GitHub Actions job."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from gate_rules import registered_gate_rules, write_project

from integ_lint.cli import main
from integ_lint.findings import (
    Finding,
    Notification,
    NotificationKind,
    Report,
    Severity,
    Site,
    Span,
)
from integ_lint.findings.reporters import RenderOptions
from integ_lint.findings.reporters.github import annotation, escape_data, escape_property, render


@pytest.fixture(autouse=True)
def gate_rules() -> Iterator[None]:
    with registered_gate_rules():
        yield


def finding(severity: Severity, message: str = "m", span: Span | None = None) -> Finding:
    return Finding(
        code="IL201",
        rule_name="event-loop-run-in-library",
        severity=severity,
        message=message,
        path="pkg/a,b.py",
        site=Site(span or Span(3, 5, 3, 16)),
    )


def test_annotation_format_and_severity_mapping() -> None:
    assert annotation(finding(Severity.ERROR, "asyncio.run() in library code")) == (
        "::error file=pkg/a%2Cb.py,line=3,col=5,endLine=3,endColumn=16,"
        "title=IL201 event-loop-run-in-library::asyncio.run() in library code"
    )
    assert annotation(finding(Severity.WARNING)).startswith("::warning file=")
    assert annotation(finding(Severity.NOTE)).startswith("::notice file=")
    multi_line = annotation(finding(Severity.ERROR, span=Span(3, 5, 6, 2)))
    assert "endLine=6" in multi_line and "endColumn" not in multi_line


def test_escaping() -> None:
    assert escape_data("50%\nnext\r") == "50%25%0Anext%0D"
    assert escape_property("a:b,c%") == "a%3Ab%2Cc%25"
    line = annotation(finding(Severity.ERROR, "two\nlines: 100%"))
    assert line.endswith("::two%0Alines: 100%25")
    assert "\n" not in line


def test_render_includes_notifications_and_summary(tmp_path: Path) -> None:
    report = Report(root=str(tmp_path), findings=[finding(Severity.WARNING)])
    report.notifications.append(
        Notification(
            NotificationKind.PARSE_ERROR, "syntax error: x", path="pkg/b.py", line=2, col=1
        )
    )
    lines = render(report, RenderOptions()).splitlines()
    assert lines[0].startswith("::warning file=pkg/a%2Cb.py,line=3")
    assert lines[1] == (
        "::warning file=pkg/b.py,line=2,col=1,title=integ-lint parse-error::syntax error: x"
    )
    assert lines[-2].startswith("::warning title=integ-lint summary::Found 1 finding")
    assert lines[-1].startswith("Found 1 finding")


def test_cli_github_format_on_a_project(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    project = write_project(repo / "svc", {"app.py": "defect()\nsevere()\n"})
    result = CliRunner().invoke(main, ["check", str(project), "--format", "github", "--no-cache"])
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    # Errors first: GitHub shows only ten annotations of each level per step.
    assert lines[0] == (
        "::error file=svc/app.py,line=2,col=1,endLine=2,endColumn=9,"
        "title=IL952 severe-call::severe() called"
    )
    assert lines[1] == (
        "::warning file=svc/app.py,line=1,col=1,endLine=1,endColumn=9,"
        "title=IL951 defect-call::defect() called"
    )
    assert lines[2].startswith("::error title=integ-lint summary::Found 2 findings")
    assert lines[-1].startswith("Found 2 findings")
    statistics = CliRunner().invoke(
        main, ["check", str(project), "--format", "github", "--no-cache", "--statistics"]
    )
    assert statistics.exit_code == 1
    assert not any(line.startswith("::") for line in statistics.stdout.splitlines())
    assert any(line.split()[:2] == ["1", "IL952"] for line in statistics.stdout.splitlines())
