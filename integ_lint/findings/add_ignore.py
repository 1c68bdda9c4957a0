"""``check --add-ignore``: write ``# integ-lint: ignore[CODES] -- reason`` on the line of
every current finding (ruff's ``--add-noqa``), for teams that prefer inline
suppressions to a baseline.

The same guarantees as ``--fix`` (:mod:`integ_lint.findings.fixes`): a file is rewritten only
when it has not changed since it was analysed, is writable by its mode bits, and still
parses afterwards; the write is atomic. A finding whose line ends inside a multi-line
string cannot carry a comment there: it is skipped and said so.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from integ_lint.files.source import split_lines
from integ_lint.findings.fixes import files_as_analysed, still_parses, write_unless_read_only
from integ_lint.findings.model import Finding
from integ_lint.findings.suppressions import parse_suppressions

_IGNORE_START = re.compile(r"#\s*integ-lint:\s*ignore")


@dataclass
class AddIgnoreOutcome:
    added: int = 0  # comments written (or merged into existing ones)
    files: int = 0
    skipped: list[str] = field(default_factory=list)  # one line each, with why


def lines_inside_strings(text: str) -> set[int]:
    """Lines (1-based) that end inside a multi-line string (or f-string): a comment
    appended there would become part of the string."""
    inside: set[int] = set()
    fstring_start = getattr(tokenize, "FSTRING_START", -1)
    fstring_end = getattr(tokenize, "FSTRING_END", -1)
    open_fstrings: list[int] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.STRING and token.end[0] > token.start[0]:
                inside.update(range(token.start[0], token.end[0]))
            elif token.type == fstring_start:
                open_fstrings.append(token.start[0])
            elif token.type == fstring_end and open_fstrings:
                inside.update(range(open_fstrings.pop(), token.end[0]))
    except (tokenize.TokenError, SyntaxError):
        pass
    return inside


def add_ignores(text: str, codes_by_line: dict[int, set[str]], reason: str) -> tuple[str, int]:
    """``text`` with an ignore comment for ``codes_by_line``; an existing integ-lint
    comment on the line gets the codes merged in. Returns the text and the count."""
    existing = {comment.line: comment for comment in parse_suppressions(text)}
    lines = split_lines(text)
    count = 0
    for number in sorted(codes_by_line, reverse=True):
        if not 1 <= number <= len(lines):
            continue
        line = lines[number - 1]
        body = line.rstrip("\r\n")
        ending = line[len(body) :]
        codes = set(codes_by_line[number])
        comment = existing.get(number)
        if comment is not None and not comment.noqa and comment.codes:
            codes |= set(comment.codes)
            # The comment token may hold other text before the directive: keep it.
            match = _IGNORE_START.search(body, comment.col - 1)
            start = match.start() if match else comment.col - 1
            body = body[:start] + _comment(codes, comment.reason or reason)
        elif comment is not None and not comment.noqa:
            continue  # a bare ignore already covers every code
        else:
            body = body.rstrip() + "  " + _comment(codes, reason)
        lines[number - 1] = body + ending
        count += 1
    return "".join(lines), count


def _comment(codes: Iterable[str], reason: str) -> str:
    comment = f"# integ-lint: ignore[{', '.join(sorted(codes))}]"
    reason = " ".join(reason.split())
    return comment + (f" -- {reason}" if reason else "")


def add_ignore_comments(
    root: Path, findings: Iterable[Finding], digests: dict[str, str], reason: str
) -> AddIgnoreOutcome:
    """Write ignore comments for ``findings`` (unsuppressed ones) under ``root``."""
    outcome = AddIgnoreOutcome()
    by_path: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    for finding in findings:
        if finding.suppression is None and finding.path:
            by_path[finding.path][finding.line].add(finding.code)
    for relpath, path, source, codes_by_line in files_as_analysed(
        root, by_path, digests, outcome.skipped, "not changed"
    ):
        in_strings = lines_inside_strings(source.text)
        for number in sorted(set(codes_by_line) & in_strings):
            outcome.skipped.append(
                f"{relpath}:{number}: no comment added: the line ends inside a string "
                f"({', '.join(sorted(codes_by_line.pop(number)))} left for a baseline)"
            )
        new_text, count = add_ignores(source.text, codes_by_line, reason)
        if not count or new_text == source.text:
            continue
        if not still_parses(source.text, new_text):
            outcome.skipped.append(f"{relpath}: not changed: the result would not parse")
            continue
        problem = write_unless_read_only(path, source, new_text)
        if problem:
            outcome.skipped.append(f"{relpath}: not changed: {problem}")
            continue
        outcome.added += count
        outcome.files += 1
    return outcome
