"""SARIF 2.1.0 for GitHub code scanning and other SARIF consumers.

One run: ``tool.driver`` with every selected rule (documentation, help, ``helpUri``,
default level, tags); one result per finding, with a repo-relative location under
``%SRCROOT%``, our fingerprint in ``partialFingerprints``, related locations, fixes and
properties; suppressed and baselined findings are kept with ``suppressions`` (kinds
``inSource`` and ``external``); files that could not be read or parsed and rules that
failed become ``invocations[0].toolExecutionNotifications``.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from contextvars import ContextVar
from pathlib import Path
from typing import Any
from urllib.parse import quote

from integ_lint import __version__
from integ_lint.findings.model import Finding, Notification, Report, RuleInfo, Severity, Span
from integ_lint.findings.reporters import RenderOptions

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/integ-lint/integ-lint"
DOCS_URI = INFORMATION_URI + "/blob/main/docs/rules"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "integLint/v1"


def repository_prefix(root: Path) -> str:
    """The path of ``root`` relative to the enclosing repository (the nearest parent
    holding ``.git``), with a trailing slash, or ``""`` when ``root`` is the
    repository root or not in a repository. Paths in reports are relative to the
    project root; GitHub wants them relative to the repository root."""
    root = Path(os.path.abspath(root))
    for candidate in (root, *root.parents):
        if (candidate / ".git").exists():
            relative = root.relative_to(candidate).as_posix()
            return "" if relative in ("", ".") else relative + "/"
    return ""


def repository_root(root: Path) -> Path:
    root = Path(os.path.abspath(root))
    for candidate in (root, *root.parents):
        if (candidate / ".git").exists():
            return candidate
    return root


# Families documented somewhere other than docs/rules/<family>.md.
_HELP_PAGES = {"suppressions": INFORMATION_URI + "#suppressing-a-finding"}


def help_uri(rule: RuleInfo) -> str:
    """``docs/rules/<family>.md`` in the repository, anchored on the rule code."""
    if rule.family in _HELP_PAGES:
        return _HELP_PAGES[rule.family]
    family = rule.family or "rules"
    # The rule's own heading, "### IL201 event-loop-run-in-library", as GitHub slugs it.
    return f"{DOCS_URI}/{quote(family)}.md#{rule.code.lower()}-{rule.name}"


# Bold as the rule docs write it; "__" is left alone (``__init__`` is a name, not emphasis).
_EMPHASIS = re.compile(r"\*\*(.+?)\*\*")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)]+)\)")


def plain_text(markdown: str) -> str:
    """The rule documentation as plain text for SARIF ``text`` fields (viewers show
    them verbatim; the Markdown goes in ``help.markdown``): no emphasis markers,
    backticks, code fences or link syntax."""
    lines = []
    for line in markdown.splitlines():
        if line.strip().startswith("```"):
            continue  # the fenced code stays, indented by its own lines
        line = _LINK.sub(r"\1 (\2)", line)
        line = _EMPHASIS.sub(r"\1", line)
        lines.append(line.replace("`", ""))
    return "\n".join(lines).strip()


def _level(severity: Severity) -> str:
    return severity.value  # error | warning | note: the SARIF levels


def _region(span: Span) -> dict[str, int]:
    start_line = max(1, span.start_line)
    start_col = max(1, span.start_col)
    end_line = max(start_line, span.end_line)
    end_col = max(1, span.end_col)
    if end_line == start_line:
        end_col = max(start_col, end_col)
    return {
        "startLine": start_line,
        "startColumn": start_col,
        "endLine": end_line,
        "endColumn": end_col,
    }


# The folder %SRCROOT% stands for, while report_to_sarif runs.
_SOURCE_ROOT: ContextVar[Path | None] = ContextVar("_SOURCE_ROOT", default=None)


def _artifact(path: str, prefix: str) -> dict[str, Any]:
    relative = posixpath.normpath(prefix + path)
    if relative == ".." or relative.startswith(("../", "/")):
        # A file outside the source root (named explicitly on the command line): an
        # absolute file URI, never a relative one that climbs out of %SRCROOT%.
        base = _SOURCE_ROOT.get() or Path("/")
        return {"uri": Path(os.path.abspath(base / relative)).as_uri()}
    return {"uri": quote(prefix + path, safe="/"), "uriBaseId": SRCROOT}


def _physical(path: str, span: Span, prefix: str) -> dict[str, Any]:
    return {"artifactLocation": _artifact(path, prefix), "region": _region(span)}


def _rule_descriptor(rule: RuleInfo) -> dict[str, Any]:
    documentation = rule.documentation or rule.summary or rule.name
    summary = rule.summary or rule.name
    markdown = f"**{rule.code}** `{rule.name}`: {summary}"
    if rule.documentation:
        markdown = f"# {rule.code} {rule.name}\n\n{rule.documentation}"
    tags = [rule.family, *rule.tags] if rule.family else list(rule.tags)
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": plain_text(summary)},
        "fullDescription": {"text": plain_text(documentation)},
        "help": {"text": plain_text(documentation), "markdown": markdown},
        "helpUri": help_uri(rule),
        "defaultConfiguration": {"level": _level(rule.severity)},
        "properties": {
            "tags": list(dict.fromkeys(tags)),
            "precision": "high",
            "kind": rule.kind,
            "fixable": rule.fixable,
        },
    }


def _unknown_rule(finding: Finding) -> RuleInfo:
    return RuleInfo(
        code=finding.code,
        name=finding.rule_name or finding.code.lower(),
        family="",
        severity=finding.severity,
        summary=finding.rule_name or finding.code,
        documentation="",
        kind="file",
    )


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return str(value)
    return value


def _result(finding: Finding, index: int, prefix: str) -> dict[str, Any]:
    location: dict[str, Any] = {"physicalLocation": _physical(finding.path, finding.span, prefix)}
    if finding.site.scope:
        location["logicalLocations"] = [{"fullyQualifiedName": finding.site.scope}]
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": index,
        "level": _level(finding.severity),
        "message": {"text": finding.message},
        "locations": [location],
    }
    if finding.fingerprint:
        result["partialFingerprints"] = {FINGERPRINT_KEY: finding.fingerprint}
    if finding.related:
        result["relatedLocations"] = [
            {
                "id": number,
                "physicalLocation": _physical(related.path, related.span, prefix),
                **({"message": {"text": related.message}} if related.message else {}),
            }
            for number, related in enumerate(finding.related, 1)
        ]
    if finding.fix is not None:
        result["fixes"] = [
            {
                "description": {"text": finding.fix.description},
                "artifactChanges": [
                    {
                        "artifactLocation": _artifact(finding.path, prefix),
                        "replacements": [
                            {
                                "deletedRegion": _region(finding.fix.span),
                                "insertedContent": {"text": finding.fix.replacement},
                            }
                        ],
                    }
                ],
            }
        ]
    if finding.suppression is not None:
        suppression: dict[str, Any] = {"kind": finding.suppression.kind, "status": "accepted"}
        if finding.suppression.justification:
            suppression["justification"] = finding.suppression.justification
        result["suppressions"] = [suppression]
    properties = {key: _jsonable(value) for key, value in finding.properties}
    if properties:
        result["properties"] = properties
    return result


def _notification(note: Notification, prefix: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "descriptor": {"id": note.kind.value},
        "level": note.level if note.level in ("error", "warning", "note") else "warning",
        "message": {"text": note.message},
    }
    if note.path:
        physical: dict[str, Any] = {"artifactLocation": _artifact(note.path, prefix)}
        if note.line and note.line >= 1:
            region: dict[str, int] = {"startLine": note.line}
            if note.col and note.col >= 1:
                region["startColumn"] = note.col
            physical["region"] = region
        entry["locations"] = [{"physicalLocation": physical}]
    if note.rule:
        entry["associatedRule"] = {"id": note.rule}
    return entry


def automation_id(category: str) -> str:
    """GitHub takes the category from ``automationDetails.id`` up to its last slash."""
    category = category.strip().strip("/") or "integ-lint"
    return category + "/"


def report_to_sarif(
    report: Report, category: str = "integ-lint", include_baselined: bool = False
) -> dict[str, Any]:
    token = _SOURCE_ROOT.set(repository_root(Path(report.root)))
    try:
        return _report_to_sarif(report, category, include_baselined)
    finally:
        _SOURCE_ROOT.reset(token)


def _report_to_sarif(report: Report, category: str, include_baselined: bool) -> dict[str, Any]:
    root = Path(report.root)
    prefix = repository_prefix(root)
    source_root = repository_root(root)
    rules: list[RuleInfo] = list(report.rules)
    index_of = {rule.code: number for number, rule in enumerate(rules)}
    suppressed = [
        finding
        for finding in report.suppressed
        if include_baselined
        or finding.suppression is None
        or finding.suppression.kind != "external"
    ]
    everything = [*report.findings, *suppressed]
    for finding in everything:
        if finding.code not in index_of:
            index_of[finding.code] = len(rules)
            rules.append(_unknown_rule(finding))
    results = [
        _result(finding, index_of[finding.code], prefix)
        for finding in sorted(everything, key=Finding.sort_key)
    ]
    root_uri = source_root.as_uri()
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "integ-lint",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [_rule_descriptor(rule) for rule in rules],
            }
        },
        "automationDetails": {"id": automation_id(category)},
        "originalUriBaseIds": {
            SRCROOT: {"uri": root_uri if root_uri.endswith("/") else root_uri + "/"}
        },
        "invocations": [
            {
                "executionSuccessful": not report.incomplete,
                "toolExecutionNotifications": [
                    _notification(note, prefix) for note in report.notifications
                ],
            }
        ],
        "columnKind": "unicodeCodePoints",
        "results": results,
        "properties": {
            "filesScanned": report.stats.files_scanned,
            "linesScanned": report.stats.lines_scanned,
            "suppressed": report.stats.suppressed,
            "baselined": report.stats.baselined,
        },
    }
    return {"$schema": SARIF_SCHEMA_URI, "version": SARIF_VERSION, "runs": [run]}


def render(report: Report, options: RenderOptions) -> str:
    document = report_to_sarif(report, options.sarif_category, options.include_baselined)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
