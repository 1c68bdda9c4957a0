"""Applying rule fixes: text edits computed from LibCST rewrites, written atomically.

A fix is written only when the fixed text still parses (a fix that would break the
file is a bug in its rule: it is refused and reported as an internal error), the file
has not changed since it was analysed, and the file is writable by its mode bits (a
read-only file is the user saying "do not touch"; root could write it anyway).
"""

from __future__ import annotations

import ast
import difflib
import os
import stat
import warnings
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from integ_lint.files.atomic import write_atomic
from integ_lint.files.source import (
    SourceError,
    SourceText,
    content_digest,
    decode_source,
    line_starts,
    position_to_offset,
    read_regular_file,
    split_lines,
)
from integ_lint.findings.model import Finding, Fix, Notification, NotificationKind

T = TypeVar("T")


@dataclass
class FixOutcome:
    fixed: list[Finding] = field(default_factory=list)
    diffs: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # one line per skipped file, with why
    # Fixes refused because they would have broken a file: they belong in the report.
    notifications: list[Notification] = field(default_factory=list)


def apply_text_fixes(text: str, fixes: Iterable[Fix]) -> tuple[str, list[Fix]]:
    """Apply non-overlapping fixes (later ones first); return the text and the fixes
    that were applied. Spans count lines as Python's tokenizer does (``\\r\\n``,
    ``\\r``, ``\\n``; never form feeds or Unicode line separators)."""
    starts = line_starts(text)
    edits = sorted(
        (
            (
                position_to_offset(starts, f.span.start_line, f.span.start_col),
                position_to_offset(starts, f.span.end_line, f.span.end_col),
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
        if end > last_start or start > end or end > len(text):
            continue  # overlaps an edit already applied; a second --fix run takes it
        result = result[:start] + fix.replacement + result[end:]
        last_start = start
        applied.append(fix)
    return result, applied


def _cpython_parses(text: str) -> bool:
    """Whether CPython's parser accepts ``text`` (an AST only: nothing runs)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(text, "<fixed>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        return False
    return True


def _libcst_parses(text: str) -> bool:
    import libcst

    try:
        libcst.parse_module(text)
    except Exception:
        return False
    return True


def still_parses(original: str, fixed: str) -> bool:
    """Whether ``fixed`` parses wherever ``original`` did: with CPython's parser, or
    with LibCST's for the few files only LibCST accepts."""
    if _cpython_parses(original):
        return _cpython_parses(fixed)
    return _libcst_parses(fixed)


def is_read_only(path: Path) -> bool:
    """Whether ``path`` has no write permission bit set (or this user cannot write
    it). Root can write a 0444 file; --fix still must not."""
    mode = os.stat(path).st_mode
    return not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(path, os.W_OK)


def read_as_analysed(path: Path, digest: str | None) -> tuple[SourceText | None, str]:
    """The file's text, read again before rewriting it, or why it must not be rewritten:
    unreadable, or changed since it was analysed (its digest differs)."""
    try:
        data = read_regular_file(path)  # never blocks on a FIFO swapped in
        source = decode_source(data)
    except (OSError, SourceError) as exc:
        return None, f"cannot read it again: {exc}"
    if content_digest(data) != digest:
        return None, "the file changed during the run"
    return source, ""


def files_as_analysed(
    root: Path,
    by_path: Mapping[str, T],
    digests: Mapping[str, str],
    skipped: list[str],
    not_done: str,
) -> Iterator[tuple[str, Path, SourceText, T]]:
    """``(relpath, path, source, items)`` of each file of ``by_path`` that still reads
    as it was analysed, in path order; a line in ``skipped`` for each other one
    (``"pkg/a.py: not fixed: the file changed during the run"``)."""
    for relpath, items in sorted(by_path.items()):
        path = root / relpath
        source, problem = read_as_analysed(path, digests.get(relpath))
        if source is None:
            skipped.append(f"{relpath}: {not_done}: {problem}")
            continue
        yield relpath, path, source, items


def write_unless_read_only(path: Path, source: SourceText, new_text: str) -> str:
    """Write ``new_text`` atomically in the file's own encoding; why not, or ``""``."""
    try:
        if is_read_only(path):
            return "the file is read-only"
        write_atomic(path, source.encode(new_text))
    except (OSError, UnicodeError) as exc:
        return f"cannot write it: {getattr(exc, 'strerror', None) or exc}"
    return ""


def fix_files(
    root: Path, findings: Iterable[Finding], digests: dict[str, str], write: bool
) -> FixOutcome:
    """Apply the fixes of ``findings``; with ``write`` False only compute diffs.

    A file whose content no longer has the digest it had when it was analysed is
    skipped: the user (or another tool) changed it during the run. A file whose fixed
    text would not parse is never written (nor diffed): an internal-error notification
    names the rules whose fixes were refused.
    """
    outcome = FixOutcome()
    by_path: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        if finding.fix is not None and finding.suppression is None:
            by_path[finding.path].append(finding)
    for relpath, path, source, file_findings in files_as_analysed(
        root, by_path, digests, outcome.skipped, "not fixed"
    ):
        fixes = [f.fix for f in file_findings if f.fix is not None]
        new_text, applied = apply_text_fixes(source.text, fixes)
        if new_text == source.text:
            continue
        if not still_parses(source.text, new_text):
            codes = sorted({f.code for f in file_findings if f.fix in applied})
            outcome.notifications.append(
                Notification(
                    kind=NotificationKind.INTERNAL_ERROR,
                    message=(
                        f"fix refused: the fixes of {', '.join(codes)} would leave the file "
                        "unparsable; it was not changed"
                    ),
                    path=relpath,
                    rule=codes[0] if len(codes) == 1 else None,
                    level="error",
                )
            )
            continue
        if write:
            problem = write_unless_read_only(path, source, new_text)
            if problem:
                outcome.skipped.append(f"{relpath}: not fixed: {problem}")
                continue
        outcome.fixed.extend(f for f in file_findings if f.fix in applied)
        outcome.diffs.append(
            "".join(
                difflib.unified_diff(
                    split_lines(source.text),
                    split_lines(new_text),
                    fromfile=f"a/{relpath}",
                    tofile=f"b/{relpath}",
                )
            )
        )
    return outcome
