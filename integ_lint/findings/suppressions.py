"""``# integ-lint: ignore[...]`` comments: parsing, matching, and unused ones (IL001)."""

from __future__ import annotations

import io
import re
import tokenize
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from integ_lint.findings.model import Finding, Severity, Site, Span, Suppression

# IL001 (rules/suppressions.py): the engine reports unused suppressions itself.
UNUSED_CODE = "IL001"
UNUSED_NAME = "unused-suppression"
UNUSED_SEVERITY = Severity.WARNING

_PATTERN = re.compile(
    r"#\s*integ-lint:\s*ignore(?P<codes>\[[^\]]*\])?(?:\s*--\s*(?P<reason>.*))?\s*$"
)
# The flake8/ruff "noqa" comment with explicit codes is what users type; it counts only
# for codes this tool knows (a bare one, without codes, belongs to other tools).
_NOQA = re.compile(r"#\s*noqa:\s*(?P<codes>[A-Z]+[0-9]+(?:[,\s]+[A-Z]+[0-9]+)*)", re.IGNORECASE)


@dataclass(frozen=True)
class SuppressionComment:
    line: int  # the comment's line
    col: int
    end_col: int
    codes: tuple[str, ...]  # empty: every code
    reason: str
    own_line: bool  # the comment stands alone, so it also covers the next line
    text: str
    noqa: bool = False  # a flake8-style comment: foreign codes in it are not ours

    def covers(self, line: int) -> bool:
        # A noqa comment covers its own line only, as in flake8 and ruff.
        return line == self.line or (self.own_line and not self.noqa and line == self.line + 1)

    def matches(self, code: str) -> bool:
        return not self.codes or any(code == c or code.startswith(c) for c in self.codes)


# Somewhere in any comment _PATTERN or _NOQA matches: without it, no tokenizing.
_CANDIDATE = re.compile(r"#\s*(?:noqa:|integ-lint:\s*ignore)", re.IGNORECASE)


def parse_suppressions(text: str) -> list[SuppressionComment]:
    if _CANDIDATE.search(text) is None:
        return []
    comments: list[tuple[int, int, str, bool]] = []
    try:
        tokens = tokenize.generate_tokens(io.StringIO(text).readline)
        previous_code_line = 0
        for token in tokens:
            if token.type == tokenize.COMMENT:
                own_line = token.start[0] != previous_code_line
                comments.append((token.start[0], token.start[1], token.string, own_line))
            elif token.type not in (
                tokenize.NL,
                tokenize.NEWLINE,
                tokenize.INDENT,
                tokenize.DEDENT,
            ):
                previous_code_line = token.end[0]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        comments = []
        for number, line in enumerate(text.splitlines(), 1):
            index = line.find("#")
            if index >= 0:
                comments.append((number, index, line[index:], not line[:index].strip()))
    found = []
    for line_number, col, comment, own_line in comments:
        match = _PATTERN.search(comment)
        if not match:
            noqa = _NOQA.search(comment)
            if noqa is not None:
                found.append(
                    SuppressionComment(
                        line=line_number,
                        col=col + 1,
                        end_col=col + 1 + len(comment),
                        codes=tuple(re.split(r"[,\s]+", noqa.group("codes").upper().strip())),
                        reason="",
                        own_line=own_line,
                        text=comment,
                        noqa=True,
                    )
                )
            continue
        codes_text = match.group("codes")
        codes: tuple[str, ...] = ()
        if codes_text is not None:
            codes = tuple(c.strip() for c in codes_text[1:-1].split(",") if c.strip())
        found.append(
            SuppressionComment(
                line=line_number,
                col=col + 1,
                end_col=col + 1 + len(comment),
                codes=codes,
                reason=(match.group("reason") or "").strip(),
                own_line=own_line,
                text=comment,
            )
        )
    return found


def apply_suppressions(
    findings: Sequence[Finding],
    comments_by_path: dict[str, list[SuppressionComment]],
) -> tuple[list[Finding], list[Finding], dict[tuple[str, int], set[str]]]:
    """Split findings into (kept, suppressed) and return which codes each comment
    (keyed by path and line) actually suppressed."""
    kept: list[Finding] = []
    suppressed: list[Finding] = []
    used: dict[tuple[str, int], set[str]] = {}
    for finding in findings:
        comment = next(
            (
                c
                for c in comments_by_path.get(finding.path, ())
                if c.covers(finding.line) and c.matches(finding.code)
            ),
            None,
        )
        if comment is None:
            kept.append(finding)
            continue
        used.setdefault((finding.path, comment.line), set()).add(finding.code)
        suppressed.append(
            replace(finding, suppression=Suppression(kind="inSource", justification=comment.reason))
        )
    return kept, suppressed, used


def unused_suppressions(
    comments_by_path: dict[str, list[SuppressionComment]],
    used: dict[tuple[str, int], set[str]],
    active_codes: Iterable[str],
    known_codes: Iterable[str],
) -> list[Finding]:
    """IL001 findings for comments (or codes in them) that suppressed nothing.

    A code of a rule that did not run this time is not reported: it may be needed
    when that rule runs.
    """
    active = set(active_codes)
    known = set(known_codes)
    findings = []
    for path, comments in comments_by_path.items():
        for comment in comments:
            hit = used.get((path, comment.line), set())
            if not comment.codes:
                if hit:
                    continue
                message = "unused suppression: no finding on this line to ignore"
            else:
                unused = []
                for code in comment.codes:
                    if any(h == code or h.startswith(code) for h in hit):
                        continue
                    if comment.noqa and code not in known and not _is_prefix(code, known):
                        continue  # another tool's code in a shared noqa comment
                    if code in known and code not in active:
                        continue
                    unused.append(
                        code
                        if code in known or _is_prefix(code, known)
                        else f"{code} (unknown code)"
                    )
                if not unused:
                    continue
                message = f"unused suppression: {', '.join(unused)} reported nothing here"
            findings.append(
                Finding(
                    code=UNUSED_CODE,
                    rule_name=UNUSED_NAME,
                    severity=UNUSED_SEVERITY,
                    message=message,
                    path=path,
                    site=Site(
                        span=Span(comment.line, comment.col, comment.line, comment.end_col),
                        scope="",
                        snippet=comment.text,
                    ),
                )
            )
    return findings


def _is_prefix(code: str, known: set[str]) -> bool:
    return any(k.startswith(code) for k in known)
