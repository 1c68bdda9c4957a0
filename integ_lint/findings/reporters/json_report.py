"""The JSON report: a documented, versioned document.

Schema (``format_version`` 2)::

    {
      "tool": {"name": "integ-lint", "version": "..."},
      "format_version": 2,
      "root": "/abs/project/root",
      "findings": [{
          "code", "rule", "severity", "message", "path", "project_path",
          "line", "column", "end_line", "end_column",   # 1-based; end column exclusive
          "scope", "fingerprint",
          "related": [{"path", "project_path", "line", "column", "end_line", "end_column",
                       "message"}],
          "fix": {"description", "replacement", "line", "column", "end_line", "end_column"} | null,
          "properties": {...},
          "suppression": {"kind", "justification"} | null
      }],
      "suppressed": [...same shape...],
      "notifications": [{"kind", "level", "message", "path", "project_path", "line",
                         "column", "rule"}],
      "summary": {"files", "lines", "by_severity", "by_code", "suppressed", "baselined",
                  "incomplete", "elapsed_seconds"}
    }

``path`` is the file as the user should open it, as in the text report: relative to the
current folder when the file lies below it, absolute otherwise (from the API without a
``display_base``, relative to ``root``). ``project_path`` is always relative to
``root``: the stable name for tools that compare runs (baselines, the ecosystem check).
Version 2 added ``project_path``; in version 1 ``path`` was relative to ``root``.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from integ_lint import __version__
from integ_lint.findings.model import Finding, Notification, Report, Span
from integ_lint.findings.reporters import RenderOptions, display_path

FORMAT_VERSION = 2


def _span(span: Span) -> dict[str, int]:
    return {
        "line": span.start_line,
        "column": span.start_col,
        "end_line": span.end_line,
        "end_column": span.end_col,
    }


def _paths(relpath: str, root: str, options: RenderOptions) -> dict[str, str | None]:
    if not relpath:  # a notification about the run, not a file
        return {"path": None, "project_path": None}
    return {"path": display_path(root, relpath, options), "project_path": relpath}


def finding_to_dict(
    finding: Finding, root: str = "", options: RenderOptions | None = None
) -> dict[str, Any]:
    shown = options or RenderOptions()
    return {
        "code": finding.code,
        "rule": finding.rule_name,
        "severity": finding.severity.value,
        "message": finding.message,
        **_paths(finding.path, root, shown),
        **_span(finding.span),
        "scope": finding.site.scope,
        "fingerprint": finding.fingerprint,
        "related": [
            {**_paths(r.path, root, shown), **_span(r.span), "message": r.message}
            for r in finding.related
        ],
        "fix": (
            {
                "description": finding.fix.description,
                "replacement": finding.fix.replacement,
                **_span(finding.fix.span),
            }
            if finding.fix
            else None
        ),
        "properties": finding.property_dict(),
        "suppression": (
            {"kind": finding.suppression.kind, "justification": finding.suppression.justification}
            if finding.suppression
            else None
        ),
    }


def notification_to_dict(
    note: Notification, root: str = "", options: RenderOptions | None = None
) -> dict[str, Any]:
    return {
        "kind": note.kind.value,
        "level": note.level,
        "message": note.message,
        **_paths(note.path or "", root, options or RenderOptions()),
        "line": note.line,
        "column": note.col,
        "rule": note.rule,
    }


def summary(report: Report) -> dict[str, Any]:
    return {
        "files": report.stats.files_scanned,
        "lines": report.stats.lines_scanned,
        "by_severity": dict(Counter(f.severity.value for f in report.findings)),
        "by_code": dict(sorted(Counter(f.code for f in report.findings).items())),
        "suppressed": report.stats.suppressed,
        "baselined": report.stats.baselined,
        "incomplete": report.incomplete,
        "elapsed_seconds": round(report.stats.elapsed_seconds, 3),
    }


def report_to_dict(report: Report, options: RenderOptions | None = None) -> dict[str, Any]:
    shown = options or RenderOptions()
    return {
        "tool": {"name": "integ-lint", "version": __version__},
        "format_version": FORMAT_VERSION,
        "root": report.root,
        "findings": [finding_to_dict(f, report.root, shown) for f in report.findings],
        "suppressed": [finding_to_dict(f, report.root, shown) for f in report.suppressed],
        "notifications": [
            notification_to_dict(n, report.root, shown) for n in report.notifications
        ],
        "summary": summary(report),
    }


def render(report: Report, options: RenderOptions) -> str:
    return json.dumps(report_to_dict(report, options), indent=2, ensure_ascii=False) + "\n"


def render_statistics(report: Report, options: RenderOptions) -> str:
    """``--statistics`` with ``--format json``: the counts per rule code, as ruff prints
    them (most frequent first)."""
    counts = Counter((f.code, f.rule_name) for f in report.findings)
    fixable = Counter(f.code for f in report.findings if f.fix is not None)
    rows = [
        {"code": code, "name": name, "count": count, "fixable": fixable[code]}
        for (code, name), count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]
    return json.dumps(rows, indent=2) + "\n"
