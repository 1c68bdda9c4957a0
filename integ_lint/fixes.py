"""Applying rule fixes: text edits computed from LibCST rewrites, written atomically."""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .atomic import write_atomic
from .findings import Finding, Fix
from .source import SourceError, content_digest, decode_source


@dataclass
class FixOutcome:
    fixed: list[Finding] = field(default_factory=list)
    diffs: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # one line per skipped file, with why


def _offset(lines: list[str], line: int, col: int) -> int:
    return sum(len(text) for text in lines[: line - 1]) + col - 1


def apply_text_fixes(text: str, fixes: Iterable[Fix]) -> tuple[str, list[Fix]]:
    """Apply non-overlapping fixes (later ones first); return the text and the fixes
    that were applied."""
    lines = text.splitlines(keepends=True)
    edits = sorted(
        (
            (
                _offset(lines, f.span.start_line, f.span.start_col),
                _offset(lines, f.span.end_line, f.span.end_col),
                f,
            )
            for f in fixes
        ),
        key=lambda e: (e[0], e[1]),
    )
    applied: list[Fix] = []
    result = text
    last_start = len(text) + 1
    for start, end, fix in reversed(edits):
        if end > last_start:
            continue  # overlaps an edit already applied; a second --fix run takes it
        result = result[:start] + fix.replacement + result[end:]
        last_start = start
        applied.append(fix)
    return result, applied


def fix_files(
    root: Path, findings: Iterable[Finding], digests: dict[str, str], write: bool
) -> FixOutcome:
    """Apply the fixes of ``findings``; with ``write`` False only compute diffs.

    A file whose content no longer has the digest it had when it was analysed is
    skipped: the user (or another tool) changed it during the run.
    """
    outcome = FixOutcome()
    by_path: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        if finding.fix is not None and finding.suppression is None:
            by_path[finding.path].append(finding)
    for relpath, file_findings in sorted(by_path.items()):
        path = root / relpath
        try:
            data = path.read_bytes()
            source = decode_source(data)
        except (OSError, SourceError) as exc:
            outcome.skipped.append(f"{relpath}: not fixed: cannot read it again: {exc}")
            continue
        if content_digest(data) != digests.get(relpath):
            outcome.skipped.append(f"{relpath}: not fixed: the file changed during the run")
            continue
        fixes = [f.fix for f in file_findings if f.fix is not None]
        new_text, applied = apply_text_fixes(source.text, fixes)
        if new_text == source.text:
            continue
        if write:
            try:
                write_atomic(path, source.encode(new_text))
            except (OSError, UnicodeError) as exc:
                reason = getattr(exc, "strerror", None) or exc
                outcome.skipped.append(f"{relpath}: not fixed: cannot write it: {reason}")
                continue
        outcome.fixed.extend(f for f in file_findings if f.fix in applied)
        outcome.diffs.append(
            "".join(
                difflib.unified_diff(
                    source.text.splitlines(keepends=True),
                    new_text.splitlines(keepends=True),
                    fromfile=f"a/{relpath}",
                    tofile=f"b/{relpath}",
                )
            )
        )
    return outcome
