"""GitHub Actions workflow-command annotations, one line per finding::

    ::error file=pkg/a.py,line=3,col=5,endLine=3,endColumn=16,title=IL201 asyncio-run-in-library::message

Paths are relative to the repository root (what GitHub resolves annotations against).
Run notifications (unreadable files, crashed rules) become annotations too, and the
last line is the usual summary.
"""

from __future__ import annotations

from pathlib import Path

from ..findings import Finding, Notification, Report, Severity
from . import RenderOptions
from .sarif import repository_prefix

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
    from .text import summary_line

    prefix = repository_prefix(Path(report.root))
    lines = [annotation(finding, prefix) for finding in report.findings]
    lines.extend(notification_annotation(note, prefix) for note in report.notifications)
    if options.statistics:
        from .text import statistics_table

        lines.extend(statistics_table(report).splitlines())
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"
