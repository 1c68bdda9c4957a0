"""Baselines: adopt integ-lint on a legacy codebase by recording today's findings.

A baseline is a TOML file (default ``.integ-lint-baseline.toml``)::

    version = 1

    [[finding]]
    fingerprint = "0f3c..."          # what matches (see integ_lint.findings.fingerprint)
    path = "pkg/legacy.py"           # the rest is for humans
    code = "IL201"
    scope = "Loader.load"
    message = "asyncio.run() in library code"
    owner = "data-team"              # optional
    reason = "removed with the v2 loader"   # optional
    expires = 2027-01-31             # optional TOML date (or "YYYY-MM-DD")

``check --baseline FILE`` (or ``baseline = "..."`` in the config) hides findings whose
fingerprint is recorded (they stay in SARIF with an ``external`` suppression), reports
entries that match nothing any more as stale notifications (``baseline prune`` removes
them), and fails the run on expired entries, naming their owner and reason.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from integ_lint.files.atomic import write_atomic
from integ_lint.findings.model import Finding, Notification, NotificationKind, Report, Suppression

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

BASELINE_VERSION = 1
DEFAULT_BASELINE = ".integ-lint-baseline.toml"
_ENTRY_KEYS = ("fingerprint", "path", "code", "scope", "message", "owner", "reason", "expires")


class BaselineError(Exception):
    """A baseline that cannot be read or is malformed, phrased as one line."""


@dataclass(frozen=True)
class BaselineEntry:
    fingerprint: str
    path: str = ""
    code: str = ""
    scope: str = ""
    message: str = ""
    owner: str = ""
    reason: str = ""
    expires: dt.date | None = None

    def is_expired(self, today: dt.date) -> bool:
        return self.expires is not None and self.expires < today

    def describe(self) -> str:
        where = self.path or "?"
        who = f"owner {self.owner}" if self.owner else "no owner"
        why = f"reason: {self.reason}" if self.reason else "no reason given"
        return f"{where}: {self.code} {self.message!r} ({who}; {why})"

    def notification(self, kind: NotificationKind, message: str, level: str) -> Notification:
        """A note about this entry, on its file and rule."""
        return Notification(
            kind=kind, message=message, path=self.path or None, rule=self.code or None, level=level
        )


@dataclass
class Baseline:
    entries: list[BaselineEntry] = field(default_factory=list)
    path: Path | None = None

    def by_fingerprint(self) -> dict[str, BaselineEntry]:
        return {entry.fingerprint: entry for entry in self.entries}


# -- reading ------------------------------------------------------------------------
def _parse_date(value: Any, where: str) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise BaselineError(f"{where}: expires: expected a date like 2027-01-31, got {value!r}")


def load_baseline(path: Path) -> Baseline:
    """Read a baseline; every problem is a :class:`BaselineError` naming file and key."""
    label = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BaselineError(f"{label}: baseline file not found") from None
    except IsADirectoryError:
        raise BaselineError(f"{label}: baseline is a directory, not a file") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise BaselineError(f"{label}: cannot read baseline: {reason}") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BaselineError(f"{label}: invalid TOML: {exc}") from None
    version = document.get("version", BASELINE_VERSION)
    if version != BASELINE_VERSION:
        raise BaselineError(
            f"{label}: version: unsupported baseline version {version!r} "
            f"(expected {BASELINE_VERSION})"
        )
    unknown = sorted(set(document) - {"version", "finding"})
    if unknown:
        raise BaselineError(f"{label}: {unknown[0]}: unknown key")
    raw_entries = document.get("finding", [])
    if not isinstance(raw_entries, list):
        raise BaselineError(f"{label}: finding: expected an array of tables ([[finding]])")
    entries = []
    for number, raw in enumerate(raw_entries, 1):
        where = f"{label}: finding {number}"
        if not isinstance(raw, dict):
            raise BaselineError(f"{where}: expected a table")
        extra = sorted(set(raw) - set(_ENTRY_KEYS))
        if extra:
            raise BaselineError(f"{where}: {extra[0]}: unknown key")
        fingerprint = raw.get("fingerprint")
        if not isinstance(fingerprint, str) or not fingerprint.strip():
            raise BaselineError(f"{where}: fingerprint: missing or not a string")
        values: dict[str, str] = {}
        for key in ("path", "code", "scope", "message", "owner", "reason"):
            value = raw.get(key, "")
            if not isinstance(value, str):
                raise BaselineError(f"{where}: {key}: expected a string, got {value!r}")
            values[key] = value
        entries.append(
            BaselineEntry(
                fingerprint=fingerprint.strip(),
                expires=_parse_date(raw.get("expires"), where),
                **values,
            )
        )
    return Baseline(entries=entries, path=Path(path))


# -- writing ------------------------------------------------------------------------
def _toml_string(value: str) -> str:
    out = ['"']
    for char in value:
        code = ord(char)
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif char == "\r":
            out.append("\\r")
        elif code < 0x20 or code == 0x7F or 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code & 0xFFFF:04X}" if code < 0xD800 else "\\uFFFD")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def dump_baseline(baseline: Baseline) -> str:
    lines = [
        "# integ-lint baseline: findings recorded to adopt the tool on existing code.",
        "# Matching is by fingerprint; path, code, scope and message are for humans.",
        "# Optional per entry: owner, reason, expires (a date; expired entries fail the run).",
        "# Regenerate with `integ-lint baseline create`, shrink with `integ-lint baseline prune`.",
        f"version = {BASELINE_VERSION}",
    ]
    for entry in sorted(baseline.entries, key=lambda e: (e.path, e.code, e.scope, e.fingerprint)):
        lines.append("")
        lines.append("[[finding]]")
        lines.append(f"fingerprint = {_toml_string(entry.fingerprint)}")
        for key in ("path", "code", "scope", "message", "owner", "reason"):
            value = getattr(entry, key)
            if value or key in ("path", "code", "message"):
                lines.append(f"{key} = {_toml_string(value)}")
        if entry.expires is not None:
            lines.append(f"expires = {entry.expires.isoformat()}")
    return "\n".join(lines) + "\n"


def write_baseline(baseline: Baseline, path: Path) -> None:
    write_atomic(Path(path), dump_baseline(baseline))


def baseline_from_findings(
    findings: Iterable[Finding], previous: Baseline | None = None
) -> Baseline:
    """Entries for ``findings``; owner, reason and expiry are kept from ``previous``
    for fingerprints it already had."""
    known = previous.by_fingerprint() if previous is not None else {}
    entries: dict[str, BaselineEntry] = {}
    for finding in findings:
        if not finding.fingerprint or finding.fingerprint in entries:
            continue
        old = known.get(finding.fingerprint)
        entries[finding.fingerprint] = BaselineEntry(
            fingerprint=finding.fingerprint,
            path=finding.path,
            code=finding.code,
            scope=finding.site.scope,
            message=finding.message,
            owner=old.owner if old else "",
            reason=old.reason if old else "",
            expires=old.expires if old else None,
        )
    return Baseline(entries=list(entries.values()), path=previous.path if previous else None)


# -- applying -----------------------------------------------------------------------
@dataclass
class BaselineOutcome:
    """What applying a baseline did, for ``baseline prune`` and tests."""

    matched: list[BaselineEntry] = field(default_factory=list)
    stale: list[BaselineEntry] = field(default_factory=list)
    expired: list[BaselineEntry] = field(default_factory=list)


InScope = Callable[[str], bool]


class BaselineFilter:
    """A post-filter (``RunOptions.post_filters``) that applies a baseline.

    ``in_scope(path)`` says whether the run looked at ``path`` at all: entries of
    files outside the scan (a sub-folder run, pre-commit, ``--changed-since``) are
    neither matched nor stale. Entries of rules that did not run are not stale either.
    """

    def __init__(
        self,
        baseline: Baseline,
        in_scope: InScope | None = None,
        today: dt.date | None = None,
    ) -> None:
        self.baseline = baseline
        self.in_scope = in_scope or (lambda path: True)
        self.today = today or dt.date.today()
        self.outcome = BaselineOutcome()

    def __call__(self, findings: list[Finding], report: Report) -> list[Finding]:
        entries = self.baseline.by_fingerprint()
        label = str(self.baseline.path) if self.baseline.path else "baseline"
        kept: list[Finding] = []
        seen: set[str] = set()
        for finding in findings:
            entry = entries.get(finding.fingerprint)
            if entry is None:
                kept.append(finding)
                continue
            seen.add(entry.fingerprint)
            if entry.is_expired(self.today):
                self.outcome.expired.append(entry)
                kept.append(finding)
                continue
            self.outcome.matched.append(entry)
            justification = entry.reason or "recorded in the baseline"
            if entry.owner:
                justification += f" (owner: {entry.owner})"
            report.suppressed.append(
                replace(finding, suppression=Suppression("external", justification))
            )
        report.stats.baselined += len(self.outcome.matched)
        for entry in self.outcome.expired:
            assert entry.expires is not None
            report.notifications.append(
                entry.notification(
                    NotificationKind.EXPIRED,
                    f"baseline entry expired on {entry.expires.isoformat()}: "
                    f"{entry.describe()}; fix the finding or extend the entry in {label}",
                    "error",
                )
            )
        failed = {n.path for n in report.notifications if n.makes_run_incomplete and n.path}
        active = {rule.code for rule in report.rules}
        for entry in self.baseline.entries:
            if entry.fingerprint in seen:
                continue
            if entry.path and (not self.in_scope(entry.path) or entry.path in failed):
                continue
            if entry.code and active and entry.code not in active:
                continue
            self.outcome.stale.append(entry)
            report.notifications.append(
                entry.notification(
                    NotificationKind.STALE_BASELINE,
                    f"stale baseline entry matches nothing any more: {entry.code} "
                    f"{entry.message!r}; remove it with `integ-lint baseline prune`",
                    "note",
                )
            )
        return kept


def scope_predicate(
    scan_paths: Sequence[Path], root: Path, report_paths: set[str] | None = None
) -> InScope:
    """``in_scope(relpath)`` for a run over ``scan_paths`` (files or folders)."""
    import os

    from integ_lint.files.paths import relative_path

    prefixes: list[str] = []
    exact: set[str] = set()
    for given in scan_paths:
        relative = relative_path(Path(os.path.abspath(given)), root.resolve())
        if Path(given).is_file():
            exact.add(relative)
        elif relative in (".", ""):
            prefixes.append("")
        else:
            prefixes.append(relative.rstrip("/") + "/")

    def in_scope(path: str) -> bool:
        if report_paths is not None and path not in report_paths:
            return False
        return path in exact or any(path.startswith(prefix) for prefix in prefixes)

    return in_scope
