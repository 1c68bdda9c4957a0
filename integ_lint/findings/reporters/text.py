"""The terminal report: findings grouped by file with a source excerpt, then a summary."""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from integ_lint.files.source import SourceError, decode_source
from integ_lint.findings.model import Finding, Report, Severity
from integ_lint.findings.reporters import RenderOptions, display_path

if TYPE_CHECKING:  # rich loads only for this report, not for the summary line of others
    from rich.console import Console
    from rich.text import Text

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "bold yellow", Severity.NOTE: "bold cyan"}


def _console(buffer: io.StringIO, options: RenderOptions) -> Console:
    from rich.console import Console

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


# A span over more lines than this shows its first and last lines with a gap marker.
_EXCERPT_MAX_LINES = 5


def _excerpt(finding: Finding, lines: list[str]) -> Text | None:
    """The span's source lines, each underlined: a finding on a call that spans several
    lines (``Model(...)\n.to(device)``) shows the line the message is about too."""
    span = finding.span
    if not 1 <= span.start_line <= len(lines):
        return None
    last = min(max(span.start_line, span.end_line), len(lines))
    numbers = list(range(span.start_line, last + 1))
    if len(numbers) > _EXCERPT_MAX_LINES:
        numbers = [*numbers[:2], 0, *numbers[-2:]]
    from rich.text import Text

    text = Text()
    for index, number in enumerate(numbers):
        if index:
            text.append("\n")
        if number == 0:
            text.append("  ... |", style="dim")
            continue
        source = lines[number - 1].expandtabs(1)
        text.append(f"{number:>5} | ", style="dim")
        text.append(source)
        start_col = span.start_col if number == span.start_line else _indent(source) + 1
        end_col = span.end_col if number == span.end_line else len(source) + 1
        width = max(1, end_col - start_col)
        text.append("\n" + " " * len("      | ") + " " * (start_col - 1))
        text.append("^" * width, style=_STYLE[finding.severity])
    return text


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def render(report: Report, options: RenderOptions) -> str:
    from rich.text import Text

    buffer = io.StringIO()
    console = _console(buffer, options)
    root = Path(report.root)
    sources: dict[str, list[str] | None] = {}
    by_file: dict[str, list[Finding]] = defaultdict(list)
    for finding in report.findings:
        by_file[finding.path].append(finding)
    if options.quiet or options.statistics:
        by_file.clear()  # the counts (or the summary alone) instead of the listing
    for path in sorted(by_file):
        shown = display_path(report.root, path, options)
        console.print(Text(shown, style="bold underline"))
        for finding in by_file[path]:
            line = Text(f"  {shown}:{finding.line}:{finding.col}: ")
            line.append(finding.code, style="bold")
            line.append(" ")
            line.append(finding.severity.value, style=_STYLE[finding.severity])
            line.append(f" {finding.message}")
            if finding.fix is not None:
                line.append(" [*]", style="green")
            console.print(line)
            if options.show_fixes and finding.fix is not None:
                console.print(Text(f"      fix: {finding.fix.description}", style="green"))
            for related in finding.related:
                related_path = display_path(report.root, related.path, options)
                related_text = f"      related: {related_path}:{related.span.start_line}:{related.span.start_col}"
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
    for note in [] if options.quiet else report.notifications:
        where = display_path(report.root, note.path, options) if note.path else "integ-lint"
        if note.line:
            where += f":{note.line}" + (f":{note.col}" if note.col else "")
        console.print(
            Text(
                f"{note.level}: {where}: {note.message}",
                style="yellow" if note.level != "error" else "red",
            )
        )
    if report.notifications and not options.quiet:
        console.print()
    if options.statistics and not options.quiet:
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
    context = f"; {stats.files_context} more read for context" if stats.files_context else ""
    tail += f" ({stats.lines_scanned} lines{context}) in {stats.elapsed_seconds:.2f}s"
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
    """One line per finding, ``path:line:col: CODE message`` (also the snapshot format);
    with ``statistics`` the counts instead, with ``quiet`` only the summary."""
    if options.quiet:
        return summary_line(report) + "\n"
    if options.statistics:
        return statistics_table(report) + summary_line(report) + "\n"

    def shown(path: str) -> str:
        return display_path(report.root, path, options)

    lines = [f"{shown(f.path)}:{f.line}:{f.col}: {f.code} {f.message}" for f in report.findings]
    lines.extend(
        f"{shown(n.path) if n.path else 'integ-lint'}:{n.line or 0}:{n.col or 0}: "
        f"{n.kind.value} {n.message}"
        for n in report.notifications
    )
    return "\n".join(lines) + ("\n" if lines else "")
