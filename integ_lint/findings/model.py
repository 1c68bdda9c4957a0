"""The data that flows out of the analysis: findings, locations, fixes, notifications.

Everything here is a small frozen dataclass so that it pickles cheaply across worker
processes and into the cache, and so that reporters can consume it without importing
any rule.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Severity(str, enum.Enum):
    """How serious a finding is; ordered so that ``ERROR > WARNING > NOTE``."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"

    @property
    def rank(self) -> int:
        return {"note": 1, "warning": 2, "error": 3}[self.value]

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls(text.lower())
        except ValueError:
            raise ValueError(
                f"unknown severity {text!r} (expected error, warning or note)"
            ) from None


@dataclass(frozen=True)
class Span:
    """A 1-based line and column range; ``end_*`` is inclusive of the last line and
    exclusive of the last column, as in SARIF."""

    start_line: int
    start_col: int
    end_line: int
    end_col: int


@dataclass(frozen=True)
class Site:
    """Where something is in a file, plus what makes it identifiable across edits.

    ``scope`` is the qualified name of the enclosing class/function (``""`` at module
    level) and ``snippet`` the whitespace-normalised source of the node; both feed the
    fingerprint so that it survives code moving up or down.
    """

    span: Span
    scope: str = ""
    snippet: str = ""


@dataclass(frozen=True)
class RelatedLocation:
    path: str
    span: Span
    message: str = ""


@dataclass(frozen=True)
class Fix:
    """A text edit produced by a rule's LibCST fix: replace ``span`` with
    ``replacement``. Computed from the rewritten tree, so formatting and comments
    outside the span are untouched."""

    description: str
    span: Span
    replacement: str


@dataclass(frozen=True)
class Suppression:
    """Why a finding is hidden: ``in_source`` for comments, ``external`` for baselines."""

    kind: str  # "inSource" | "external"
    justification: str = ""


class AtSite:
    """``line`` and ``col`` of a value found at a :class:`Site` (findings, facts)."""

    site: Site

    @property
    def line(self) -> int:
        return self.site.span.start_line

    @property
    def col(self) -> int:
        return self.site.span.start_col


@dataclass(frozen=True)
class Finding(AtSite):
    code: str
    rule_name: str
    severity: Severity
    message: str
    path: str  # relative to the project root, forward slashes
    site: Site
    fingerprint: str = ""
    related: tuple[RelatedLocation, ...] = ()
    fix: Fix | None = None
    properties: tuple[tuple[str, Any], ...] = ()
    suppression: Suppression | None = None

    @property
    def span(self) -> Span:
        return self.site.span

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.path, self.line, self.col, self.code)

    def property_dict(self) -> dict[str, Any]:
        return dict(self.properties)


class NotificationKind(str, enum.Enum):
    PARSE_ERROR = "parse-error"
    READ_ERROR = "read-error"
    INTERNAL_ERROR = "internal-error"
    CONFIG = "config"
    STALE_BASELINE = "stale-baseline"
    EXPIRED = "expired"
    # A file name that is not valid UTF-8: analysed, reported under an escaped name.
    FILE_NAME = "file-name"


@dataclass(frozen=True)
class Notification:
    """Something about the run rather than the code: a file that could not be read or
    parsed, a rule that crashed, a stale baseline entry."""

    kind: NotificationKind
    message: str
    path: str | None = None
    line: int | None = None
    col: int | None = None
    rule: str | None = None
    level: str = "warning"  # SARIF notification level: error | warning | note

    @property
    def makes_run_incomplete(self) -> bool:
        return self.kind in (
            NotificationKind.INTERNAL_ERROR,
            NotificationKind.PARSE_ERROR,
            NotificationKind.READ_ERROR,
        )


@dataclass(frozen=True)
class RuleInfo:
    """What reporters and docs need to know about a rule, as plain data."""

    code: str
    name: str
    family: str
    severity: Severity
    summary: str
    documentation: str
    kind: str  # "file" | "project"
    fixable: bool = False
    tags: tuple[str, ...] = ()
    default_enabled: bool = True  # False: opt-in (selected only by its exact code)

    @classmethod
    def of(cls, rule: Any) -> RuleInfo:
        """The info of a rule class, or of what answers like one (the manifest's
        :class:`~integ_lint.engine.manifest.RuleHandle`)."""
        return cls(
            code=rule.code,
            name=rule.name,
            family=rule.family,
            severity=rule.severity,
            summary=rule.summary(),
            documentation=rule.documentation(),
            kind=rule.kind(),
            fixable=rule.fixable,
            tags=rule.tags,
            default_enabled=rule.default_enabled,
        )


@dataclass
class RunStats:
    files_scanned: int = 0  # the files reported on
    # Files read only for their facts (the rest of the project behind a narrower run).
    files_context: int = 0
    lines_scanned: int = 0
    files_from_cache: int = 0
    files_failed: int = 0
    elapsed_seconds: float = 0.0
    suppressed: int = 0
    baselined: int = 0


@dataclass
class Report:
    """The outcome of one run, handed to reporters."""

    root: str
    findings: list[Finding] = field(default_factory=list)
    suppressed: list[Finding] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    rules: list[RuleInfo] = field(default_factory=list)
    stats: RunStats = field(default_factory=RunStats)
    config_file: str | None = None
    file_hashes: dict[str, str] = field(default_factory=dict)
    # The run's ProjectIndex when project rules ran (in memory only: views such as the
    # audit's coupling table reuse its facts instead of analysing the files again).
    project: Any = field(default=None, repr=False, compare=False)

    @property
    def incomplete(self) -> bool:
        return any(n.makes_run_incomplete for n in self.notifications)
