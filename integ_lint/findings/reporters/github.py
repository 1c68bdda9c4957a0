"""GitHub Actions workflow-command annotations, one line per finding::

    ::error file=pkg/a.py,line=3,col=5,endLine=3,endColumn=16,title=IL201 asyncio-run-in-library::message

Paths are relative to the repository root (what GitHub resolves annotations against).
Errors come first (GitHub shows only ten annotations of each level per step), run
notifications (unreadable files, crashed rules) become annotations too, one summary
annotation closes the list, and the last line is the usual summary.
"""

from __future__ import annotations

from pathlib import Path

from integ_lint.findings.model import Finding, Notification, Report, Severity
from integ_lint.findings.reporters import RenderOptions
from integ_lint.findings.reporters.sarif import repository_prefix

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _properties(pairs: list[tuple[str, object]]) -> str:
    return ",".join(f"{key}={escape_property(str(value))}" for key, value in pairs)


def annotation(finding: Finding, prefix: str = "") -> str:
    span = finding.span
    pairs: list[tuple[str, object]] = [
        ("file", prefix + finding.path),
        ("line", span.start_line),
        ("col", span.start_col),
        ("endLine", max(span.start_line, span.end_line)),
    ]
    if span.end_line == span.start_line:
        pairs.append(("endColumn", max(span.start_col, span.end_col)))
    pairs.append(("title", f"{finding.code} {finding.rule_name}".strip()))
    return f"::{_COMMAND[finding.severity]} {_properties(pairs)}::{escape_data(finding.message)}"


def notification_annotation(note: Notification, prefix: str = "") -> str:
    command = {"error": "error", "warning": "warning"}.get(note.level, "notice")
    pairs: list[tuple[str, object]] = []
    if note.path:
        pairs.append(("file", prefix + note.path))
        if note.line:
            pairs.append(("line", note.line))
            if note.col:
                pairs.append(("col", note.col))
    pairs.append(("title", f"integ-lint {note.kind.value}"))
    return f"::{command} {_properties(pairs)}::{escape_data(note.message)}"


def render(report: Report, options: RenderOptions) -> str:
    from integ_lint.findings.reporters.text import summary_line

    prefix = repository_prefix(Path(report.root))
    # GitHub shows only ten annotations of each level per step: errors first, so that
    # the ten it shows are the ones that matter, then warnings and notices.
    rank = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.NOTE: 2}
    ordered = sorted(report.findings, key=lambda finding: rank[finding.severity])
    lines = [annotation(finding, prefix) for finding in ordered]
    lines.extend(notification_annotation(note, prefix) for note in report.notifications)
    summary = summary_line(report)
    # One closing annotation that says how many there are in all (and so how many
    # the step's annotation list left out).
    level = "error" if any(f.severity is Severity.ERROR for f in report.findings) else "notice"
    if report.findings and level != "error":
        level = "warning"
    lines.append(f"::{level} title=integ-lint summary::{escape_data(summary)}")
    lines.append(summary)
    return "\n".join(lines) + "\n"
