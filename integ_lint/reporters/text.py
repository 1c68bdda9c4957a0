"""The terminal report: findings grouped by file with a source excerpt, then a summary."""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from pathlib import Path

from rich.console import Console
from rich.text import Text

from ..findings import Finding, Report, Severity
from ..source import SourceError, decode_source
from . import RenderOptions

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "bold yellow", Severity.NOTE: "bold cyan"}


def _console(buffer: io.StringIO, options: RenderOptions) -> Console:
    return Console(
        file=buffer,
        force_terminal=options.color,
        no_color=not options.color,
        color_system="standard" if options.color else None,
        width=200,
        highlight=False,
        emoji=False,
        soft_wrap=True,
    )


def _read_lines(root: Path, relpath: str, cache: dict[str, list[str] | None]) -> list[str] | None:
    if relpath not in cache:
        try:
            data = (root / relpath).read_bytes()
        except OSError:
            cache[relpath] = None
            return None
        try:  # as the analysis read it: coding cookie, BOM
            text = decode_source(data).text
        except SourceError:
            text = data.decode("utf-8", errors="replace")
        # Python's line breaks only (str.splitlines also breaks at form feeds and
        # U+2028, which would shift every later line number).
        cache[relpath] = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return cache[relpath]


def _excerpt(finding: Finding, lines: list[str]) -> Text | None:
    span = finding.span
    if not 1 <= span.start_line <= len(lines):
        return None
    source = lines[span.start_line - 1].expandtabs(1)
    number = f"{span.start_line:>5} | "
    text = Text(number, style="dim")
    text.append(source)
    end_col = span.end_col if span.end_line == span.start_line else len(source) + 1
    width = max(1, end_col - span.start_col)
    text.append("\n" + " " * len("      | ") + " " * (span.start_col - 1))
    text.append("^" * width, style=_STYLE[finding.severity])
    return text


def render(report: Report, options: RenderOptions) -> str:
    buffer = io.StringIO()
    console = _console(buffer, options)
    root = Path(report.root)
    sources: dict[str, list[str] | None] = {}
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for finding in report.findings:
        by_file[finding.path].append(finding)
    for path in sorted(by_file):
        console.print(Text(path, style="bold underline"))
        for finding in by_file[path]:
            line = Text(f"  {path}:{finding.line}:{finding.col}: ")
            line.append(finding.code, style="bold")
            line.append(" ")
            line.append(finding.severity.value, style=_STYLE[finding.severity])
            line.append(f" {finding.message}")
            if finding.fix is not None:
                line.append(" [*]", style="green")
            console.print(line)
            for related in finding.related:
                related_text = f"      related: {related.path}:{related.span.start_line}:{related.span.start_col}"
                console.print(
                    Text(
                        related_text + (f" {related.message}" if related.message else ""),
                        style="dim",
                    )
                )
            if options.show_source:
                lines = _read_lines(root, finding.path, sources)
                excerpt = _excerpt(finding, lines) if lines else None
                if excerpt is not None:
                    console.print(excerpt)
        console.print()
    for note in report.notifications:
        where = note.path or "integ-lint"
        if note.line:
            where += f":{note.line}" + (f":{note.col}" if note.col else "")
        console.print(
            Text(
                f"{note.level}: {where}: {note.message}",
                style="yellow" if note.level != "error" else "red",
            )
        )
    if report.notifications:
        console.print()
    if options.statistics:
        console.print(statistics_table(report))
    console.print(summary_line(report))
    return buffer.getvalue()


def statistics_table(report: Report) -> str:
    counts = Counter((f.code, f.rule_name) for f in report.findings)
    fixable = Counter(f.code for f in report.findings if f.fix is not None)
    rows = [
        f"{count:>5}  {code:<7} {name}" + (" [*]" if fixable[code] else "")
        for (code, name), count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]
    return "\n".join(rows) + ("\n" if rows else "")


def summary_line(report: Report) -> str:
    by_severity = Counter(f.severity for f in report.findings)
    total = len(report.findings)
    parts = [
        f"{by_severity[s]} {s.value}{'s' if by_severity[s] != 1 else ''}"
        for s in Severity
        if by_severity[s]
    ]
    head = f"Found {total} finding{'s' if total != 1 else ''}"
    if parts:
        head += f" ({', '.join(parts)})"
    by_code = Counter(f.code for f in report.findings)
    if by_code:
        head += ": " + ", ".join(f"{code} x{n}" for code, n in sorted(by_code.items()))
    stats = report.stats
    tail = f" in {stats.files_scanned} file{'s' if stats.files_scanned != 1 else ''}"
    tail += f" ({stats.lines_scanned} lines) in {stats.elapsed_seconds:.2f}s"
    extras = []
    if stats.suppressed:
        extras.append(f"{stats.suppressed} suppressed")
    if stats.baselined:
        extras.append(f"{stats.baselined} baselined")
    fixable = sum(1 for f in report.findings if f.fix is not None)
    if fixable:
        extras.append(f"{fixable} fixable with --fix")
    if report.incomplete:
        extras.append("run incomplete: see the warnings above")
    return head + tail + (f"; {'; '.join(extras)}" if extras else "") + "."


def render_concise(report: Report, options: RenderOptions) -> str:
    """One line per finding, ``path:line:col: CODE message`` (also the snapshot format)."""
    lines = [f"{f.path}:{f.line}:{f.col}: {f.code} {f.message}" for f in report.findings]
    lines.extend(
        f"{n.path or 'integ-lint'}:{n.line or 0}:{n.col or 0}: {n.kind.value} {n.message}"
        for n in report.notifications
    )
    return "\n".join(lines) + ("\n" if lines else "")
