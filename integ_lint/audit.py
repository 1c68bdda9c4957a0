"""The audit model: a review certificate's content, built from a :class:`Report` and the
scope of the run.

Everything here is plain data (``to_dict`` gives the canonical JSON payload that
:mod:`integ_lint.certificate` hashes and renders). Rule families come from
``RuleInfo.family`` of the rules that ran, so families added later appear without
changes here. This module never imports rules or reporters, and never runs analysed
code: git is asked read-only for the commit and the working-tree state.

Status policy (``[tool.integ-lint.audit]``), first match wins:

1. more unsuppressed errors than ``reject-above-errors`` -> ``REJECTED``;
2. any unsuppressed error -> ``REQUIRES_REMEDIATION``;
3. the run was incomplete (a file could not be read or parsed, a rule failed) and
   ``review-incomplete`` is true -> ``NEEDS_FURTHER_REVIEW``;
4. any finding at or above ``conditions-from`` (``warning``, or ``note``) ->
   ``CONDITIONALLY_APPROVED``, one condition per rule code;
5. otherwise ``APPROVED``.

Score of a family, in percent: ``100 * 0.80**errors * 0.95**warnings * 0.99**notes``,
rounded half up (exact arithmetic); the overall score is the rounded mean of the family
scores.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from .changes import GitState, git_state
from .facts.managers import ManagerFactCollector
from .findings import Finding, Notification, Report, RuleInfo, Severity

FORMAT = "integ-lint-certificate"
FORMAT_VERSION = 1

GOOD = "GOOD ✅"
MINOR = "MINOR ISSUE ⚠️"
CRITICAL = "CRITICAL ❌"

APPROVED = "APPROVED"
CONDITIONALLY_APPROVED = "CONDITIONALLY_APPROVED"
REQUIRES_REMEDIATION = "REQUIRES_REMEDIATION"
REJECTED = "REJECTED"
NEEDS_FURTHER_REVIEW = "NEEDS_FURTHER_REVIEW"

# Per-finding factors of the family score (exact fractions, so scores are stable).
SCORE_FACTORS: dict[Severity, Fraction] = {
    Severity.ERROR: Fraction(80, 100),
    Severity.WARNING: Fraction(95, 100),
    Severity.NOTE: Fraction(99, 100),
}

FAMILY_TITLES: dict[str, str] = {
    "boundaries": "Module Boundaries",
    "event-loops": "Event Loops",
    "config-schema": "Config Schema",
    "gpu": "GPU Handoffs",
    "coupling": "Manager Coupling",
    "suppressions": "Suppression Hygiene",
}
UNKNOWN_FAMILY = "other"


class AuditError(Exception):
    """A bad audit option or setting, phrased as one line naming the key."""


def snake_name(text: str, what: str) -> str:
    """``text`` in snake_case (letters, digits, underscores only), so that it can be
    part of a file name that stays inside the certificate folder."""
    name = re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_")
    if not name:
        raise AuditError(f"{what}: {text!r} must contain letters or digits")
    return name


def family_title(family: str) -> str:
    return FAMILY_TITLES.get(family) or family.replace("-", " ").replace("_", " ").title()


# -- policy ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    reject_above_errors: int = 10
    conditions_from: Severity = Severity.WARNING
    review_incomplete: bool = True


def validate_audit_settings(settings: Any, source: str) -> None:
    """Checks of ``[tool.integ-lint.audit]`` beyond types (called from settings.py)."""
    from .config import ConfigError

    prefix = f"{source}: tool.integ-lint.audit."
    if settings.reject_above_errors < 0:
        raise ConfigError(
            f"{prefix}reject-above-errors: expected 0 or more, got {settings.reject_above_errors}"
        )
    if settings.conditions_from not in ("warning", "note"):
        raise ConfigError(
            f"{prefix}conditions-from: expected warning or note, got {settings.conditions_from!r}"
        )
    try:
        snake_name(settings.descriptor, "descriptor")
    except AuditError:
        raise ConfigError(
            f"{prefix}descriptor: {settings.descriptor!r} must contain letters or digits"
        ) from None
    if not str(settings.out_dir).strip():
        raise ConfigError(f"{prefix}out-dir: must not be empty")


def policy_from_settings(settings: Any) -> Policy:
    return Policy(
        reject_above_errors=int(settings.reject_above_errors),
        conditions_from=Severity.parse(settings.conditions_from),
        review_incomplete=bool(settings.review_incomplete),
    )


# -- scope ----------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def hash_files(root: Path, relpaths: Iterable[str]) -> dict[str, str]:
    """SHA-256 of each file (relative to ``root``); unreadable files are left out."""
    hashes: dict[str, str] = {}
    for relpath in sorted(set(relpaths)):
        try:
            hashes[relpath] = file_sha256(root / relpath)
        except OSError:
            continue
    return hashes


@dataclass
class Scope:
    """What was analysed, and how."""

    root: str  # absolute
    root_from_certificate: str  # the root relative to the certificate's folder
    paths: list[str]  # scanned paths, relative to the root
    git: GitState | None
    files_scanned: int
    lines_scanned: int
    files_failed: int
    families: dict[str, list[str]]  # family -> codes run
    config_file: str | None  # relative to the root when inside it
    config_sha256: str | None
    baseline: str | None
    baselined: int
    suppressed_in_source: int
    since: str | None = None
    changed_files: list[str] | None = None  # findings limited to these (with --since)
    file_hashes: dict[str, str] = field(default_factory=dict)

    @property
    def codes(self) -> list[str]:
        return sorted(code for codes in self.families.values() for code in codes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "root_from_certificate": self.root_from_certificate,
            "paths": list(self.paths),
            "git": self.git.to_dict() if self.git else None,
            "files_scanned": self.files_scanned,
            "lines_scanned": self.lines_scanned,
            "files_failed": self.files_failed,
            "families": {k: list(v) for k, v in sorted(self.families.items())},
            "config_file": self.config_file,
            "config_sha256": self.config_sha256,
            "baseline": self.baseline,
            "baselined": self.baselined,
            "suppressed_in_source": self.suppressed_in_source,
            "since": self.since,
            "changed_files": list(self.changed_files) if self.changed_files is not None else None,
        }


def relative_to(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` with forward slashes when inside it, else absolute."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix() or "."
    except ValueError:
        return str(path.resolve())


def build_scope(
    report: Report,
    root: Path,
    scan_paths: Sequence[Path],
    out_dir: Path,
    discovered: Sequence[str],
    *,
    baseline: Path | None = None,
    since: str | None = None,
    changed_files: Iterable[str] | None = None,
) -> Scope:
    """The scope of an audit run; ``discovered`` are the relpaths of every file the
    run covered (hashed, so that a later change makes the certificate stale)."""
    root = root.resolve()
    families: dict[str, list[str]] = {}
    for info in report.rules:
        families.setdefault(info.family or UNKNOWN_FAMILY, []).append(info.code)
    config_file = Path(report.config_file) if report.config_file else None
    config_sha = None
    if config_file is not None:
        try:
            config_sha = file_sha256(config_file)
        except OSError:
            config_sha = None
    return Scope(
        root=str(root),
        root_from_certificate=Path(os.path.relpath(root, out_dir.resolve())).as_posix(),
        paths=sorted({relative_to(p, root) for p in scan_paths}),
        git=git_state(root),
        files_scanned=report.stats.files_scanned,
        lines_scanned=report.stats.lines_scanned,
        files_failed=report.stats.files_failed,
        families={k: sorted(v) for k, v in sorted(families.items())},
        config_file=relative_to(config_file, root) if config_file else None,
        config_sha256=config_sha,
        baseline=relative_to(baseline, root) if baseline else None,
        baselined=report.stats.baselined,
        suppressed_in_source=report.stats.suppressed,
        since=since,
        changed_files=sorted(changed_files) if changed_files is not None else None,
        file_hashes=hash_files(root, discovered),
    )


# -- the certificate model --------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceItem:
    """One finding, as the certificate records it."""

    family: str
    code: str
    rule: str
    severity: str
    path: str
    line: int
    column: int
    message: str
    fingerprint: str
    related: tuple[tuple[str, int, str], ...] = ()

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "code": self.code,
            "rule": self.rule,
            "severity": self.severity,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "fingerprint": self.fingerprint,
            "related": [{"path": p, "line": n, "message": m} for p, n, m in self.related],
        }


@dataclass(frozen=True)
class FamilyResult:
    family: str
    title: str
    codes: tuple[str, ...]
    errors: int
    warnings: int
    notes: int
    verdict: str
    score: int

    @property
    def total(self) -> int:
        return self.errors + self.warnings + self.notes

    def to_dict(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "title": self.title,
            "codes": list(self.codes),
            "errors": self.errors,
            "warnings": self.warnings,
            "notes": self.notes,
            "verdict": self.verdict,
            "score": self.score,
        }


@dataclass(frozen=True)
class FindingGroup:
    """The findings of one rule code: one condition / one next action."""

    code: str
    rule: str
    family: str
    severity: str
    summary: str
    locations: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "rule": self.rule,
            "family": self.family,
            "severity": self.severity,
            "summary": self.summary,
            "locations": list(self.locations),
        }


@dataclass(frozen=True)
class Problem:
    """A file or rule the run could not analyse."""

    kind: str
    location: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "location": self.location, "message": self.message}


@dataclass(frozen=True)
class CouplingView:
    """The manager coupling table and Mermaid diagram, or why there are none."""

    rows: tuple[tuple[str, str, int, int, str, str, bool], ...] = ()
    mermaid: str = ""
    note: str = "No manager classes found."

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": [
                {
                    "manager": r[0],
                    "file": r[1],
                    "ca": r[2],
                    "ce": r[3],
                    "instability": r[4],
                    "betweenness": r[5],
                    "in_cycle": r[6],
                }
                for r in self.rows
            ],
            "mermaid": self.mermaid,
            "note": self.note,
        }


@dataclass(frozen=True)
class Decision:
    status: str
    rationale: str
    conditions: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "rationale": self.rationale,
            "conditions": list(self.conditions),
        }


@dataclass(frozen=True)
class Header:
    title: str  # "INTEGRATION REVIEW CERTIFICATE"
    descriptor: str
    component: str
    agent: str
    timestamp: str  # "YYYY-MM-DD HH:MM:SS UTC"
    certificate_id: str
    tool_version: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "descriptor": self.descriptor,
            "component": self.component,
            "agent": self.agent,
            "timestamp": self.timestamp,
            "certificate_id": self.certificate_id,
            "tool_version": self.tool_version,
        }


@dataclass
class Certificate:
    header: Header
    scope: Scope
    families: list[FamilyResult]
    evidence: list[EvidenceItem]
    groups: list[FindingGroup]
    problems: list[Problem]
    decision: Decision
    overall_score: int
    actions: list[str]
    coupling: CouplingView
    policy: Policy

    @property
    def critical(self) -> list[EvidenceItem]:
        return [e for e in self.evidence if e.severity == Severity.ERROR.value]

    def to_dict(self) -> dict[str, Any]:
        """The canonical payload (without the Markdown digest, which
        :mod:`integ_lint.certificate` adds)."""
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "certificate": self.header.to_dict(),
            "scope": self.scope.to_dict(),
            "policy": {
                "reject_above_errors": self.policy.reject_above_errors,
                "conditions_from": self.policy.conditions_from.value,
                "review_incomplete": self.policy.review_incomplete,
            },
            "families": [f.to_dict() for f in self.families],
            "findings": [e.to_dict() for e in self.evidence],
            "groups": [g.to_dict() for g in self.groups],
            "problems": [p.to_dict() for p in self.problems],
            "decision": self.decision.to_dict(),
            "overall_score": self.overall_score,
            "actions": list(self.actions),
            "coupling": self.coupling.to_dict(),
            "files": dict(sorted(self.scope.file_hashes.items())),
        }


def score(errors: int, warnings: int, notes: int) -> int:
    """``100 * 0.80**errors * 0.95**warnings * 0.99**notes``, rounded half up."""
    value = (
        100
        * SCORE_FACTORS[Severity.ERROR] ** errors
        * SCORE_FACTORS[Severity.WARNING] ** warnings
        * SCORE_FACTORS[Severity.NOTE] ** notes
    )
    return int((value + Fraction(1, 2)).__floor__())


def verdict(errors: int, warnings: int, notes: int) -> str:
    if errors:
        return CRITICAL
    if warnings or notes:
        return MINOR
    return GOOD


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def severity_counts(errors: int, warnings: int, notes: int) -> str:
    parts = [
        _plural(n, w) for n, w in ((errors, "error"), (warnings, "warning"), (notes, "note")) if n
    ]
    return ", ".join(parts) if parts else "no findings"


def _evidence(finding: Finding, family: str) -> EvidenceItem:
    return EvidenceItem(
        family=family,
        code=finding.code,
        rule=finding.rule_name,
        severity=finding.severity.value,
        path=finding.path,
        line=finding.line,
        column=finding.col,
        message=" ".join(finding.message.split()),
        fingerprint=finding.fingerprint,
        related=tuple(
            (r.path, r.span.start_line, " ".join(r.message.split())) for r in finding.related
        ),
    )


def _problem(note: Notification) -> Problem:
    location = note.path or (f"rule {note.rule}" if note.rule else "run")
    if note.path and note.line:
        location = f"{note.path}:{note.line}"
    return Problem(note.kind.value, location, " ".join(note.message.split()))


def _groups(evidence: list[EvidenceItem], infos: dict[str, RuleInfo]) -> list[FindingGroup]:
    by_code: dict[str, list[EvidenceItem]] = {}
    for item in evidence:
        by_code.setdefault(item.code, []).append(item)
    groups = []
    for code, items in by_code.items():
        info = infos.get(code)
        worst = max((Severity(i.severity) for i in items), key=lambda s: s.rank)
        groups.append(
            FindingGroup(
                code=code,
                rule=items[0].rule,
                family=items[0].family,
                severity=worst.value,
                summary=" ".join(info.summary.split()) if info else items[0].rule,
                locations=tuple(i.location for i in items),
            )
        )
    groups.sort(key=lambda g: (-Severity(g.severity).rank, -len(g.locations), g.code))
    return groups


def _locations(locations: Sequence[str], limit: int = 3) -> str:
    shown = ", ".join(f"`{loc}`" for loc in locations[:limit])
    more = len(locations) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def _condition(group: FindingGroup) -> str:
    count = len(group.locations)
    verb = "Fix" if group.severity == Severity.ERROR.value else "Resolve or justify"
    return (
        f"{verb} {_plural(count, 'finding')} of {group.code} {group.rule} "
        f"({group.family}): {group.summary.rstrip('.')}; at {_locations(group.locations)}"
    )


def decide(
    errors: int,
    condition_groups: Sequence[FindingGroup],
    problems: Sequence[Problem],
    incomplete: bool,
    policy: Policy,
) -> str:
    if errors > policy.reject_above_errors:
        return REJECTED
    if errors:
        return REQUIRES_REMEDIATION
    if incomplete and policy.review_incomplete:
        return NEEDS_FURTHER_REVIEW
    if condition_groups:
        return CONDITIONALLY_APPROVED
    return APPROVED


def _rationale(
    status: str,
    scope: Scope,
    families: list[FamilyResult],
    counts: Counter[str],
    problems: list[Problem],
    policy: Policy,
) -> str:
    rules = len(scope.codes)
    text = (
        f"integ-lint analysed {_plural(scope.files_scanned, 'file')} "
        f"({_plural(scope.lines_scanned, 'line')}) with {_plural(rules, 'rule')} in "
        f"{_plural(len(families), 'rule family')}".replace("familys", "families")
    )
    if scope.changed_files is not None:
        text += (
            f"; findings are limited to {_plural(len(scope.changed_files), 'file')} changed "
            f"since {scope.since}"
        )
    errors, warnings, notes = counts["error"], counts["warning"], counts["note"]
    text += f". Unsuppressed findings: {severity_counts(errors, warnings, notes)}"
    affected = [f for f in families if f.total]
    if affected:
        text += (
            " ("
            + "; ".join(
                f"{f.title}: {severity_counts(f.errors, f.warnings, f.notes)}" for f in affected
            )
            + ")"
        )
    clean = [f.title for f in families if not f.total]
    if clean:
        text += f"; no findings in {', '.join(clean)}"
    text += "."
    if status == REJECTED:
        text += (
            f" {_plural(errors, 'error')} exceed the rejection threshold of "
            f"{policy.reject_above_errors} (reject-above-errors)."
        )
    elif status == REQUIRES_REMEDIATION:
        text += (
            f" Every error must be fixed before approval; {errors} is within the "
            f"rejection threshold of {policy.reject_above_errors}."
        )
    elif status == NEEDS_FURTHER_REVIEW:
        text += (
            f" The analysis is incomplete ({_plural(len(problems), 'problem')}: files that "
            "could not be read or parsed, or rules that failed), so its silence proves nothing "
            "about those parts."
        )
    elif status == CONDITIONALLY_APPROVED:
        text += (
            f" There is no error; the findings at or above {policy.conditions_from.value} "
            "become the conditions below."
        )
    else:
        text += " No finding requires action."
    if problems and status != NEEDS_FURTHER_REVIEW:
        text += f" The run had {_plural(len(problems), 'analysis problem')} (see EVIDENCE)."
    return text


def _actions(groups: list[FindingGroup], problems: list[Problem]) -> list[str]:
    actions: list[str] = []
    if problems:
        shown = ", ".join(f"`{p.location}`" for p in problems[:3])
        more = f" and {len(problems) - 3} more" if len(problems) > 3 else ""
        actions.append(
            f"Make every file analysable ({shown}{more}) and re-run the audit (incomplete analysis)"
        )
    for group in groups:
        count = len(group.locations)
        actions.append(
            f"Fix {group.code} {group.rule} ({group.severity}, "
            f"{_plural(count, 'finding')}): {group.summary.rstrip('.')}; at "
            f"{_locations(group.locations)}"
        )
    if not actions:
        actions.append("No action required; re-run `integ-lint audit` after integration changes")
    return actions


def build_certificate(
    report: Report,
    scope: Scope,
    header: Header,
    policy: Policy,
    coupling: CouplingView | None = None,
) -> Certificate:
    """The certificate of ``report``: verdicts, scores, evidence, decision."""
    infos = {info.code: info for info in report.rules}

    def family_of(code: str) -> str:
        info = infos.get(code)
        return (info.family if info else "") or UNKNOWN_FAMILY

    evidence = [
        _evidence(f, family_of(f.code)) for f in sorted(report.findings, key=Finding.sort_key)
    ]
    family_names = list(scope.families)
    for item in evidence:
        if item.family not in family_names:
            family_names.append(item.family)
    families = []
    for name in sorted(family_names):
        counts = Counter(e.severity for e in evidence if e.family == name)
        errors, warnings, notes = counts["error"], counts["warning"], counts["note"]
        families.append(
            FamilyResult(
                family=name,
                title=family_title(name),
                codes=tuple(scope.families.get(name, ())),
                errors=errors,
                warnings=warnings,
                notes=notes,
                verdict=verdict(errors, warnings, notes),
                score=score(errors, warnings, notes),
            )
        )
    groups = _groups(evidence, infos)
    problems = [_problem(n) for n in report.notifications if n.makes_run_incomplete]
    totals = Counter(e.severity for e in evidence)
    threshold = policy.conditions_from.rank
    condition_groups = [g for g in groups if Severity(g.severity).rank >= threshold]
    status = decide(totals["error"], condition_groups, problems, report.incomplete, policy)
    conditions: list[str] = []
    if status != APPROVED:
        if problems:
            conditions.append(
                f"Resolve the {_plural(len(problems), 'analysis problem')} (files that could not "
                "be read or parsed, rules that failed) and re-run the audit"
            )
        conditions.extend(_condition(g) for g in condition_groups)
    overall = (
        int((Fraction(sum(f.score for f in families), len(families)) + Fraction(1, 2)).__floor__())
        if families
        else 100
    )
    return Certificate(
        header=header,
        scope=scope,
        families=families,
        evidence=evidence,
        groups=groups,
        problems=problems,
        decision=Decision(
            status=status,
            rationale=_rationale(status, scope, families, totals, problems, policy),
            conditions=tuple(conditions),
        ),
        overall_score=overall,
        actions=_actions(groups, problems),
        coupling=coupling or CouplingView(),
        policy=policy,
    )


# -- the manager coupling view --------------------------------------------------------


def coupling_view(
    report: Report, paths: Sequence[Path], config: Any, jobs: int = 1
) -> CouplingView:
    """The manager table and Mermaid diagram of :mod:`integ_lint.coupling`, from the
    run's own project index when it collected manager facts (an IL5 rule ran), else
    from a manager-facts-only pass. Never raises: the certificate must be written."""
    from . import coupling

    try:
        project = report.project
        if project is None or not any(True for _ in project.facts(ManagerFactCollector.KEY)):
            project = coupling.index_project(list(paths), config, jobs=jobs)
        rows = list(coupling.coupling_table(project))
        if not rows:
            return CouplingView()
        diagram = coupling.manager_mermaid(project)
    except Exception as exc:
        return CouplingView(
            note=f"Manager coupling could not be computed: {type(exc).__name__}: {exc}"
        )
    return CouplingView(
        rows=tuple(
            (
                str(r.manager),
                str(r.file),
                int(r.ca),
                int(r.ce),
                f"{float(r.instability):.2f}",
                f"{float(r.betweenness):.2f}",
                bool(r.in_cycle),
            )
            for r in rows
        ),
        mermaid=diagram if diagram.endswith("\n") else diagram + "\n",
        note="",
    )
