"""The audit model: the content of a review certificate for one *component*, built
from a :class:`Report` of a run that saw the whole project.

The component (``--component``) is resolved to a set of files before the run
(:func:`resolve_component`); the engine reports findings only on those files
(``RunOptions.report_paths``) while every file of the project feeds facts. From the
run's :class:`~integ_lint.model.project.ProjectIndex` this module derives

* the *integration points* where the component meets the rest of the project (imports
  in and out and whether they go through a public interface, managers it owns and
  uses, config schemas it reads, device and event-loop sites it holds);
* the *critical issues*: in-scope findings grouped by root cause, ordered by severity
  and precision, at most :data:`MAX_CRITICAL` in the Markdown;
* the *strengths*: statements computed from those facts, each with its count;
* the *metrics*: per family, sites checked and sites with a finding;
* the *decision*, by the status policy of docs/audit.md.

Everything here is plain data; ``Certificate.to_dict`` is the canonical payload that
:mod:`integ_lint.audit.certificate` hashes and renders. Rule families come from
``RuleInfo.family``, so a family added later appears without changes here (with
finding counts only until it has a site model in :func:`family_metrics`). This module
never imports rules and never runs analysed code; git is asked read-only.
"""

from __future__ import annotations

import fnmatch
import hashlib
import io
import os
import re
import tarfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from integ_lint.facts.context import FileContext
from integ_lint.findings.changes import GitState, git_state
from integ_lint.findings.model import Finding, Notification, Report, RuleInfo, Severity
from integ_lint.model.boundaries import is_under
from integ_lint.rule import FactCollector

if TYPE_CHECKING:
    import libcst as cst

    pass

FORMAT = "integ-lint-certificate"
FORMAT_VERSION = 2

GOOD = "GOOD ✅"
MINOR = "MINOR ISSUE ⚠️"
CRITICAL = "CRITICAL ❌"
NONE_FOUND = "NONE (nothing to judge)"

APPROVED = "APPROVED"
CONDITIONALLY_APPROVED = "CONDITIONALLY_APPROVED"
REQUIRES_REMEDIATION = "REQUIRES_REMEDIATION"
REJECTED = "REJECTED"
NEEDS_FURTHER_REVIEW = "NEEDS_FURTHER_REVIEW"


def _json_fields(record: Any, **computed: Any) -> dict[str, Any]:
    """A certificate record's JSON form: its fields in declaration order, tuples as
    lists, and ``computed`` the JSON of the fields it names (the records whose JSON
    keys are exactly their fields)."""
    out = {
        item.name: list(value) if isinstance(value, tuple) else value
        for item in fields(record)
        for value in (getattr(record, item.name),)
    }
    out.update(computed)
    return out


# Critical issues shown in the Markdown; the rest are counted there and listed in the JSON.
MAX_CRITICAL = 10
# Conditions and next actions shown in the Markdown (the JSON holds them all).
MAX_CONDITIONS = 10

PRECISION_RANK = {"high": 3, "medium": 2, "low": 1}
# A finding's precision comes from its ``precision`` property (the config-schema rules
# set ``medium`` for receivers matched by name only); rules that do not set one report
# only shapes they resolve, so they count as ``high`` (rules that cannot reach 90%
# precision on real projects are off by default).
DEFAULT_PRECISION = "high"


class _Family(NamedTuple):
    """A rule family as the certificate presents it."""

    title: str
    sites: str  # what its checked sites are (docs/audit.md, "Metrics"); "": no model


_FAMILIES: dict[str, _Family] = {
    "boundaries": _Family("Module Boundaries", "import statements to project modules"),
    "event-loops": _Family("Event Loops", "event-loop calls"),
    "config-schema": _Family("Config Schema", "defensive config reads"),
    "gpu": _Family(
        "GPU Handoffs", "device sites (moves, placements, loads, host syncs, mode switches)"
    ),
    "coupling": _Family(
        "Manager Coupling", "manager links (owns, uses, back-references, reach-throughs)"
    ),
    "suppressions": _Family("Suppression Hygiene", sites=""),
    "messages": _Family("Message Contracts", "event publications and subscriptions"),
}
FAMILY_TITLES = {name: family.title for name, family in _FAMILIES.items()}
SITE_MODELS = {name: family.sites for name, family in _FAMILIES.items() if family.sites}
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


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count} {word if count == 1 else (words or word + 's')}"


def severity_counts(errors: int, warnings: int, notes: int) -> str:
    parts = [
        plural(n, w) for n, w in ((errors, "error"), (warnings, "warning"), (notes, "note")) if n
    ]
    return ", ".join(parts) if parts else "no findings"


def round_half_up(value: Fraction) -> int:
    return int((value + Fraction(1, 2)).__floor__())


# -- site facts -------------------------------------------------------------------------

_LOOP_TRIGGERS = ("asyncio", "run_until_complete", "run_forever", "nest_asyncio")
_LOOP_FUNCTIONS = {
    "asyncio.run",
    "asyncio.new_event_loop",
    "asyncio.get_event_loop",
    "asyncio.set_event_loop",
    "asyncio.run_coroutine_threadsafe",
    "nest_asyncio.apply",
}
_LOOP_METHODS = {"run_until_complete", "run_forever"}
_PROBES = {
    "asyncio.get_running_loop",
    "asyncio.events.get_running_loop",
    "asyncio._get_running_loop",
    "asyncio.events._get_running_loop",
}
_DEVICE_FUNCTIONS = {
    "torch.device": "placement",
    "torch.cuda.set_device": "move",
    "torch.load": "load",
    "torch.cuda.synchronize": "sync",
}
_DEVICE_METHODS = {
    "to": "move",
    "cuda": "move",
    "cpu": "move",
    "set_device": "move",
    "item": "sync",
    "tolist": "sync",
    "numpy": "sync",
    "synchronize": "sync",
    "eval": "mode",
    "train": "mode",
}


@dataclass(frozen=True)
class SiteRecord:
    """One event-loop or device call of a file (what the audit counts as checked)."""

    family: str  # "event-loops" | "gpu"
    kind: str  # loop: the call; gpu: move | placement | load | sync | mode
    call: str  # the callee as written (``self.model.to``), shortened
    line: int
    scope: str  # qualname of the enclosing class/function ("" at module level)
    # Event-loop calls: the enclosing function also calls asyncio.get_running_loop() (or
    # asyncio._get_running_loop()), the probe that tells whether a loop already runs.
    probed: bool = False


@dataclass(frozen=True)
class AuditSites:
    records: tuple[SiteRecord, ...] = ()


class AuditSiteCollector(FactCollector):
    """Records every event-loop call and every device call of a file, so that the
    certificate can say how many sites each family checked (the rules record only
    what they report). Event-loop calls are looked at only in files that mention
    asyncio, device calls only in files that mention torch."""

    KEY = "audit-sites"

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self.loops = any(t in context.source for t in _LOOP_TRIGGERS)
        self.devices = "torch" in context.source
        self.records: list[SiteRecord] = []
        self.probing_scopes: set[str] = set()  # functions calling get_running_loop()

    def get_visitors(self):  # type: ignore[no-untyped-def]
        if self.loops or self.devices:
            return super().get_visitors()
        return {}

    def _add(self, family: str, kind: str, node: cst.Call) -> None:
        text = " ".join(self.context.code_for(node.func).split())
        if len(text) > 60:
            text = "..." + text[-57:]
        line = self.context.span(node).start_line
        self.records.append(SiteRecord(family, kind, text, line, self.context.scope))

    def visit_Call(self, node: cst.Call) -> None:
        import libcst as cst

        resolved = self.context.resolve(node.func) or ""
        method = node.func.attr.value if isinstance(node.func, cst.Attribute) else ""
        if self.loops:
            if resolved in _PROBES and self.context.scope:
                self.probing_scopes.add(self.context.scope)
                return
            if resolved in _LOOP_FUNCTIONS:
                self._add("event-loops", resolved, node)
                return
            if method in _LOOP_METHODS and not resolved:
                self._add("event-loops", method, node)
                return
        if self.devices:
            if resolved in _DEVICE_FUNCTIONS:
                self._add("gpu", _DEVICE_FUNCTIONS[resolved], node)
            elif method in _DEVICE_METHODS and not resolved.startswith(("os.", "sys.")):
                self._add("gpu", _DEVICE_METHODS[method], node)

    def collect(self) -> AuditSites:
        return AuditSites(
            tuple(
                replace(r, probed=True)
                if r.family == "event-loops" and r.scope in self.probing_scopes
                else r
                for r in self.records
            )
        )


def audit_collectors() -> list[type[FactCollector]]:
    """The fact collectors an audit runs on every file besides the rules' own: the
    site records, imports, config reads and manager facts (the integration points are
    computed from them even when the rules reading them are not selected)."""
    from integ_lint.facts.imports import ImportFacts
    from integ_lint.facts.managers import ManagerFactCollector
    from integ_lint.facts.messages import MessageFactCollector
    from integ_lint.facts.schemas import SchemaFactCollector

    return [
        AuditSiteCollector,
        ImportFacts,
        SchemaFactCollector,
        ManagerFactCollector,
        MessageFactCollector,
    ]


# -- policy -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    reject_above_errors: int = 10  # root causes of high-precision errors
    conditions_from: Severity = Severity.WARNING
    review_incomplete: bool = True


def policy_from_settings(settings: Any) -> Policy:
    return Policy(
        reject_above_errors=int(settings.reject_above_errors),
        conditions_from=Severity.parse(settings.conditions_from),
        review_incomplete=bool(settings.review_incomplete),
    )


# -- the component ----------------------------------------------------------------------


@dataclass(frozen=True)
class ComponentScope:
    """What ``--component`` names, resolved to files before the run."""

    name: str  # as given
    kind: str  # configured | package | paths | mixed | none
    specs: tuple[str, ...]  # the dotted modules and globs it was resolved from
    files: tuple[str, ...]  # relpaths, sorted
    packages: tuple[str, ...] = ()  # dotted packages/modules named (their interfaces)
    unmatched: tuple[str, ...] = ()  # specs that matched no file

    def to_dict(self) -> dict[str, Any]:
        return _json_fields(self)


_GLOB_CHARS = re.compile(r"[*?\[]")


def _is_path_spec(spec: str) -> bool:
    return "/" in spec or "\\" in spec or bool(_GLOB_CHARS.search(spec)) or spec.endswith(".py")


def _path_matches(relpath: str, pattern: str) -> bool:
    pattern = pattern.replace("\\", "/").strip("/")
    if pattern.startswith("./"):
        pattern = pattern[2:]
    if _GLOB_CHARS.search(pattern):
        if fnmatch.fnmatchcase(relpath, pattern):
            return True
        return pattern.endswith("/**") and relpath.startswith(pattern[:-3] + "/")
    return relpath == pattern or relpath.startswith(pattern + "/")


def resolve_component(
    spec: str, files: Sequence[tuple[str, str]], configured: dict[str, list[str]]
) -> ComponentScope:
    """The files of the component ``spec``: a name configured under
    ``[tool.integ-lint.audit.components]``, dotted packages or modules, or path globs
    (several separated by commas). ``files`` are ``(relpath, module)`` of every
    discovered file. A dotted name that is no module of the project may be the last
    part(s) of exactly one package (``training`` for ``app.training``)."""
    name = spec.strip()
    if name in configured:
        specs = [s.strip() for s in configured[name]]
        kind = "configured"
    else:
        specs = [s.strip() for s in name.split(",") if s.strip()]
        kinds = {"paths" if _is_path_spec(s) else "package" for s in specs}
        kind = kinds.pop() if len(kinds) == 1 else ("mixed" if kinds else "none")
    modules = {module for _, module in files if module}
    chosen: set[str] = set()
    packages: list[str] = []
    unmatched: list[str] = []
    for item in specs:
        if _is_path_spec(item):
            hits = {relpath for relpath, _ in files if _path_matches(relpath, item)}
        else:
            package = item
            if not any(is_under(m, package) for m in modules):
                suffix = "." + package
                candidates = sorted(
                    {
                        m[: (m + ".").index(suffix + ".") + len(suffix)]
                        for m in modules
                        if suffix + "." in m + "."
                    }
                )
                if len(candidates) == 1:
                    package = candidates[0]
            hits = {relpath for relpath, module in files if is_under(module, package)}
            if hits:
                packages.append(package)
        if hits:
            chosen |= hits
        else:
            unmatched.append(item)
    return ComponentScope(
        name=name,
        kind=kind if chosen else "none",
        specs=tuple(specs),
        files=tuple(sorted(chosen)),
        packages=tuple(sorted(set(packages))),
        unmatched=tuple(unmatched),
    )


# -- the run's scope ---------------------------------------------------------------------


def read_file(path: Path) -> tuple[str, int]:
    """``(SHA-256, line count)`` of a file, in one read (a last line without a newline
    counts)."""
    digest = hashlib.sha256()
    lines = 0
    last = b"\n"
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
            lines += block.count(b"\n")
            last = block[-1:]
    return digest.hexdigest(), lines + (last != b"\n")


def file_sha256(path: Path) -> str:
    return read_file(path)[0]


def read_files(root: Path, relpaths: Iterable[str]) -> dict[str, tuple[str, int]]:
    """``(SHA-256, line count)`` of each file (relative to ``root``); unreadable files
    are left out."""
    found: dict[str, tuple[str, int]] = {}
    for relpath in sorted(set(relpaths)):
        try:
            found[relpath] = read_file(root / relpath)
        except OSError:
            continue
    return found


def hash_files(root: Path, relpaths: Iterable[str]) -> dict[str, str]:
    """SHA-256 of each file (relative to ``root``); unreadable files are left out."""
    return {relpath: digest for relpath, (digest, _) in read_files(root, relpaths).items()}


@dataclass
class Scope:
    """What was analysed, what was reviewed, and how."""

    root: str  # absolute
    root_from_certificate: str  # the root relative to the certificate's folder
    paths: list[str]  # scanned paths, relative to the root
    git: GitState | None
    component: ComponentScope
    component_lines: int
    project_files: int  # every file of the project (the context of the review)
    project_lines: int
    files_failed: int  # files of the component that could not be parsed
    families: dict[str, list[str]]  # family -> codes run
    config_file: str | None
    config_sha256: str | None
    baseline: str | None
    baselined: int
    suppressed_in_source: int
    since: str | None = None
    previous: str | None = None
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
            "component": self.component.to_dict(),
            "component_lines": self.component_lines,
            "project_files": self.project_files,
            "project_lines": self.project_lines,
            "files_failed": self.files_failed,
            "families": {k: list(v) for k, v in sorted(self.families.items())},
            "config_file": self.config_file,
            "config_sha256": self.config_sha256,
            "baseline": self.baseline,
            "baselined": self.baselined,
            "suppressed_in_source": self.suppressed_in_source,
            "since": self.since,
            "previous": self.previous,
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
    component: ComponentScope,
    *,
    baseline: Path | None = None,
    since: str | None = None,
    previous: str | None = None,
) -> Scope:
    """The scope of an audit run; ``discovered`` are the relpaths of every file the
    run covered (hashed, so that a later change anywhere makes the certificate stale:
    the whole project is the context of the review)."""
    root = root.resolve()
    families: dict[str, list[str]] = {}
    for info in report.rules:
        families.setdefault(info.family or UNKNOWN_FAMILY, []).append(info.code)
    # Each project file read once: hashed (a later change makes the certificate stale)
    # and its lines counted.
    read = read_files(root, discovered)
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
        component=component,
        component_lines=sum(read[p][1] for p in component.files if p in read),
        project_files=len(set(discovered)),
        project_lines=sum(lines for _, lines in read.values()),
        files_failed=report.stats.files_failed,
        families={k: sorted(v) for k, v in sorted(families.items())},
        config_file=relative_to(config_file, root) if config_file else None,
        config_sha256=config_sha,
        baseline=relative_to(baseline, root) if baseline else None,
        baselined=report.stats.baselined,
        suppressed_in_source=report.stats.suppressed,
        since=since,
        previous=previous,
        file_hashes={relpath: digest for relpath, (digest, _) in read.items()},
    )


# -- findings and root causes -------------------------------------------------------------


def precision_of(finding: Finding) -> str:
    value = finding.property_dict().get("precision")
    return value if isinstance(value, str) and value in PRECISION_RANK else DEFAULT_PRECISION


@dataclass(frozen=True)
class EvidenceItem:
    """One in-scope finding, as the certificate records it."""

    family: str
    code: str
    rule: str
    severity: str
    precision: str
    path: str
    line: int
    column: int
    scope: str
    message: str
    fingerprint: str
    group: str  # the root-cause group id
    related: tuple[tuple[str, int, str], ...] = ()

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"

    def to_dict(self) -> dict[str, Any]:
        related = [{"path": p, "line": n, "message": m} for p, n, m in self.related]
        return _json_fields(self, related=related)


def root_cause(finding: Finding, family: str) -> tuple[str, str]:
    """``(key, description)`` of the root cause of ``finding``: the same cycle, the same
    config field, imports of the same package's internals, or else the same rule in the
    same top-level class or function of a file."""
    props = finding.property_dict()
    cycle = props.get("cycle")
    if isinstance(cycle, (list, tuple)) and cycle:
        members = [str(m) for m in cycle]
        return (
            f"cycle:{finding.code}:{'|'.join(sorted(set(members)))}",
            "cycle " + " -> ".join(members),
        )
    attribute = props.get("attribute")
    schemas = props.get("schemas")
    if family == "config-schema" and isinstance(attribute, str):
        owners = [str(s) for s in schemas] if isinstance(schemas, (list, tuple)) else []
        shown = ", ".join(s.rsplit(".", 1)[-1] for s in owners[:2]) or "config"
        if len(owners) > 2:
            shown += f" and {len(owners) - 2} more"
        return (
            f"config:{'|'.join(sorted(owners))}:{attribute}",
            f"config field `{attribute}` of {shown}",
        )
    imported = props.get("imported")
    if family == "boundaries" and isinstance(imported, str) and imported:
        # One root cause per package whose internals the component reaches into.
        target = props.get("module")
        if not isinstance(target, str) or not target:
            target = imported.rsplit(".", 1)[0] if "." in imported else imported
        return f"imports:{finding.code}:{target}", f"imports of `{target}` internals"
    top = finding.site.scope.split(".", 1)[0] if finding.site.scope else ""
    where = f"`{top}` in `{finding.path}`" if top else f"`{finding.path}` (module level)"
    return f"scope:{finding.code}:{finding.path}:{top}", where


@dataclass(frozen=True)
class IssueGroup:
    """Findings with one root cause: one critical issue, one condition, one action."""

    id: str  # G1, G2, ... in order
    key: str
    code: str  # of the worst finding
    codes: tuple[str, ...]
    rule: str
    family: str
    severity: str
    precision: str
    cause: str  # "`StepManager` in `pkg/step.py`", "config field `x` of Cfg", "cycle a -> b"
    message: str  # the worst finding's message
    runtime: str  # what goes wrong at run time (the rule's "Why is this bad?")
    fix: str  # how to fix (the rule's "How to fix"; mentions --fix when fixable)
    locations: tuple[str, ...]
    fingerprints: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.locations)

    @property
    def high_precision_error(self) -> bool:
        return self.severity == Severity.ERROR.value and self.precision == "high"

    def to_dict(self) -> dict[str, Any]:
        return _json_fields(self)


_SECTION = re.compile(r"^\*\*(.+?)\*\*\s*$")


def doc_section(documentation: str, title: str) -> str:
    """The first paragraph of the ``**title**`` section of a rule's documentation,
    on one line, up to its first two sentences."""
    lines = documentation.splitlines()
    start = None
    for index, line in enumerate(lines):
        match = _SECTION.match(line.strip())
        if match and match.group(1).lower().startswith(title.lower()):
            start = index + 1
            break
    if start is None:
        return ""
    paragraph: list[str] = []
    for line in lines[start:]:
        stripped = line.strip()
        if _SECTION.match(stripped) or stripped.startswith("```"):
            break
        if not stripped:
            if paragraph:
                break
            continue
        paragraph.append(stripped)
    text = " ".join(paragraph).rstrip(":")
    sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z`])", text)
    return " ".join(sentences[:2]).strip()


_FIX_VERBS = (
    "use",
    "pass",
    "move",
    "inject",
    "declare",
    "expose",
    "restore",
    "ask",
    "keep",
    "import",
    "fix",
    "guard",
    "remove",
    "read",
    "call",
    "configure",
    "add",
    "await",
    "rename",
    "drop",
)
_CODE_SPAN = re.compile(r"`[^`]+`")


def fix_text(finding: Finding, documentation: str) -> str:
    """How to fix ``finding``: the advice at the end of its message when it gives one
    (``...; use 'cfg.x'``), else the first sentence of the rule's "How to fix" cut
    before the first code span that belongs to the documentation's example rather than
    to this finding."""
    message = " ".join(finding.message.split())
    if message.endswith(")") and "(" in message:
        aside = message[message.rfind("(") + 1 : -1]
        if ": " in aside and aside.rsplit(": ", 1)[1].split(" ", 1)[0].lower() in _FIX_VERBS:
            return aside[0].upper() + aside[1:] + "."
    for separator in ("; ", ": "):
        if separator in message:
            tail = message.rsplit(separator, 1)[1].strip()
            first = tail.split(" ", 1)[0].lower().strip("(")
            if first in _FIX_VERBS and len(tail) > 12:
                tail = tail.split(" [allowlist key:", 1)[0].rstrip(".)")
                return tail[0].upper() + tail[1:] + "."
    text = doc_section(documentation, "How to fix")
    sentence = re.split(r"(?<=[.!?])\s+(?=[A-Z`])", text, maxsplit=1)[0] if text else ""
    for span in _CODE_SPAN.finditer(sentence):
        if span.group(0).strip("`") in message or span.group(0).strip("`") in finding.site.snippet:
            continue
        prefix = sentence[: span.start()]
        cut = max(prefix.rfind(mark) for mark in (", ", " and ", " or ", " (", ": "))
        sentence = (prefix[:cut] if cut > 0 else prefix).rstrip(" ,(:")
        sentence = sentence + "." if sentence else ""
        break
    if len(sentence) < 12:
        return f"See `integ-lint explain {finding.code}`."
    return sentence


def group_findings(
    findings: Sequence[Finding], infos: dict[str, RuleInfo]
) -> tuple[list[EvidenceItem], list[IssueGroup]]:
    """Evidence items and root-cause groups of ``findings``; groups in order: severity,
    then precision, then number of findings, then first location."""
    buckets: dict[str, list[Finding]] = {}
    causes: dict[str, str] = {}
    for finding in sorted(findings, key=Finding.sort_key):
        family = family_of(finding.code, infos)
        key, cause = root_cause(finding, family)
        buckets.setdefault(key, []).append(finding)
        causes.setdefault(key, cause)

    def worst(items: list[Finding]) -> Finding:
        """The first (in path and line order) of the most severe, most precise findings."""
        best = max((f.severity.rank, PRECISION_RANK[precision_of(f)]) for f in items)
        return next(f for f in items if (f.severity.rank, PRECISION_RANK[precision_of(f)]) == best)

    ordered = sorted(
        buckets.items(),
        key=lambda kv: (
            -worst(kv[1]).severity.rank,
            -PRECISION_RANK[precision_of(worst(kv[1]))],
            -len(kv[1]),
            kv[1][0].path,
            kv[1][0].line,
            kv[0],
        ),
    )
    groups: list[IssueGroup] = []
    ids: dict[str, str] = {}
    for number, (key, items) in enumerate(ordered, 1):
        head = worst(items)
        ordered_rest = [f for f in items if f is not head]
        info = infos.get(head.code)
        documentation = info.documentation if info else ""
        fix = fix_text(head, documentation)
        if any(f.fix is not None for f in items):
            fix += " `integ-lint check --fix` rewrites it."
        group_id = f"G{number}"
        ids[key] = group_id
        groups.append(
            IssueGroup(
                id=group_id,
                key=key,
                code=head.code,
                codes=tuple(sorted({f.code for f in items})),
                rule=head.rule_name,
                family=family_of(head.code, infos),
                severity=head.severity.value,
                precision=precision_of(head),
                cause=causes[key],
                message=" ".join(head.message.split()),
                runtime=doc_section(documentation, "Why is this bad"),
                fix=fix,
                # The head first: the Markdown shows its location with its message.
                locations=tuple(f"{f.path}:{f.line}" for f in [head, *ordered_rest]),
                fingerprints=tuple(f.fingerprint for f in [head, *ordered_rest]),
            )
        )
    evidence = []
    for key, items in buckets.items():
        for finding in items:
            evidence.append(_evidence(finding, family_of(finding.code, infos), ids[key]))
    evidence.sort(key=lambda e: (e.path, e.line, e.column, e.code))
    return evidence, groups


def family_of(code: str, infos: dict[str, RuleInfo]) -> str:
    info = infos.get(code)
    return (info.family if info else "") or UNKNOWN_FAMILY


def _evidence(finding: Finding, family: str, group: str) -> EvidenceItem:
    return EvidenceItem(
        family=family,
        code=finding.code,
        rule=finding.rule_name,
        severity=finding.severity.value,
        precision=precision_of(finding),
        path=finding.path,
        line=finding.line,
        column=finding.col,
        scope=finding.site.scope,
        message=" ".join(finding.message.split()),
        fingerprint=finding.fingerprint,
        group=group,
        related=tuple(
            (r.path, r.span.start_line, " ".join(r.message.split())) for r in finding.related
        ),
    )


# -- integration points ---------------------------------------------------------------------


@dataclass(frozen=True)
class IntegrationPoint:
    """One kind of place where the component meets the rest of the project."""

    kind: str  # imports-out | imports-in | managers | config | devices | event-loops
    title: str
    family: str  # whose findings judge it
    sites: int
    summary: str  # one line of facts, with counts
    verdict: str
    details: tuple[dict[str, Any], ...] = ()  # JSON only

    def to_dict(self) -> dict[str, Any]:
        return _json_fields(self, details=[dict(d) for d in self.details])


@dataclass
class Facts:
    """What the audit knows about the component, from the run's project index."""

    component_modules: set[str] = field(default_factory=set)
    interface: set[str] = field(default_factory=set)
    interface_rule: str = "interface"  # or "convention": private = a leading underscore
    imports_out: list[dict[str, Any]] = field(default_factory=list)
    imports_in: list[dict[str, Any]] = field(default_factory=list)
    internal_import_sites: set[tuple[str, int]] = field(default_factory=set)
    module_cycles: list[list[str]] = field(default_factory=list)
    module_edges: int = 0  # module-level imports between the component's modules
    managers: list[str] = field(default_factory=list)  # labels of managers in scope
    manager_cycles: list[list[str]] = field(default_factory=list)  # touching the scope
    manager_links: list[dict[str, Any]] = field(default_factory=list)  # crossing the scope
    manager_sites: set[tuple[str, int]] = field(default_factory=set)
    config_reads: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)  # events the scope uses
    event_sites: set[tuple[str, int]] = field(default_factory=set)
    device_sites: list[tuple[str, SiteRecord]] = field(default_factory=list)  # (path, record)
    loop_sites: list[tuple[str, SiteRecord]] = field(default_factory=list)
    available: set[str] = field(default_factory=set)  # fact kinds that were collected


def _interface(package: str, graph: Any, boundaries: Any) -> set[str]:
    """The public modules of ``package``: its boundary interface when it is a
    component of ``[tool.integ-lint.boundaries]`` (or a default one), else the package
    itself and the submodules its ``__init__`` re-exports."""
    if boundaries is not None and package in boundaries.components:
        return set(boundaries.interface(package))
    interface = {package}
    facts = graph.facts.get(package)
    if facts is not None:
        for record in facts.imports:
            for name in record.names:
                submodule = f"{record.module}.{name}"
                if name != "*" and submodule in graph.table and submodule.startswith(package + "."):
                    interface.add(submodule)
    return interface


def _public_in(
    imported: str, component: ComponentScope, interface: set[str], boundaries: Any
) -> bool:
    """Whether an import into the component's module ``imported`` goes through the
    component's interface, as :meth:`Boundaries.is_public` decides it: a package is
    public itself (not what lies below it), an interface submodule with everything
    below it; a module of path globs is public when it is in the interface."""
    for package in component.packages:
        if not is_under(imported, package):
            continue
        if package in boundaries.components:
            return bool(boundaries.is_public(imported, package))
        return imported == package or any(
            m != package and is_under(imported, m) for m in interface if is_under(m, package)
        )
    return imported in interface


def _crossing_public(boundaries: Any, importer: str, imported: str) -> bool:
    """Whether the import ``importer`` -> ``imported`` is one that IL101 accepts with
    configured components (the conditions of its ``_internal_crossings``): outside every
    component, within one, to a shared module or through the target's interface."""
    source = boundaries.component_of(importer)
    target = boundaries.component_of(imported)
    return (
        source is None
        or target is None
        or target == source
        or boundaries.is_shared(imported)
        or boundaries.is_shared(target)
        or boundaries.is_public(imported, target)
    )


def _import_record(site: Any, importer: str, imported: str, public: bool) -> dict[str, Any]:
    return {
        "path": site.path,
        "line": site.line,
        "importer": importer,
        "imported": imported,
        "kind": site.kind,
        "public": public,
    }


def collect_facts(project: Any, component: ComponentScope) -> Facts:
    """The component's integration facts from the run's :class:`ProjectIndex`
    (``None``: nothing is known)."""
    facts = Facts()
    if project is None:
        return facts
    scope = set(component.files)
    facts.component_modules = {
        f.module for path, f in project.files.items() if path in scope and f.module
    }
    _import_facts(project, component, scope, facts)
    _manager_facts(project, scope, facts)
    _config_facts(project, scope, facts)
    _message_facts(project, scope, facts)
    for file_facts, value in project.facts(AuditSiteCollector.KEY):
        facts.available.add("sites")
        if file_facts.relpath not in scope or not isinstance(value, AuditSites):
            continue
        for record in value.records:
            sites = facts.device_sites if record.family == "gpu" else facts.loop_sites
            sites.append((file_facts.relpath, record))
    return facts


def _import_facts(project: Any, component: ComponentScope, scope: set[str], facts: Facts) -> None:
    import networkx as nx

    from integ_lint.facts.imports import ImportFacts
    from integ_lint.model.boundaries import convention_breach, resolve_boundaries
    from integ_lint.model.import_graph import import_graph

    if not any(True for _ in project.facts(ImportFacts.KEY)):
        return
    facts.available.add("imports")
    graph = import_graph(project)
    try:
        boundaries = project.derived(
            "boundaries", lambda p: resolve_boundaries(p.config, import_graph(p))
        )
    except Exception:  # a bad boundaries table is reported by the rules, not here
        boundaries = None
    inside = facts.component_modules
    # Without configured components, public means "not private by convention" (PEP 8's
    # leading underscore, __all__ re-exports), as IL101 sees it.
    configured = boundaries is not None and boundaries.configured
    facts.interface_rule = "interface" if configured else "convention"
    if component.packages:
        for package in component.packages:
            facts.interface |= _interface(package, graph, boundaries)
    else:
        # Path globs: every module of the scope without a private (``_x``) part.
        facts.interface = {m for m in inside if not any(p.startswith("_") for p in m.split("."))}
    for importer, imported, sites in graph.edges():
        if graph.is_external(imported):
            continue
        if importer in inside:
            facts.internal_import_sites.update(
                (site.path, site.line) for site in sites if site.path in scope
            )
        if (importer in inside) == (imported in inside):
            continue
        records = facts.imports_out if importer in inside else facts.imports_in
        for site in sites:
            if not configured:
                public = convention_breach(graph, importer, imported, site) is None
            elif importer in inside:
                public = _crossing_public(boundaries, importer, imported)
            else:
                public = _public_in(imported, component, facts.interface, boundaries)
            records.append(_import_record(site, importer, imported, public))
    regular = nx.DiGraph()
    regular.add_nodes_from(inside)
    for importer, imported, sites in graph.edges():
        if importer in inside and imported in inside and any(s.kind == "regular" for s in sites):
            regular.add_edge(importer, imported)
    facts.module_edges = regular.number_of_edges()
    facts.module_cycles = sorted(
        sorted(c) for c in nx.strongly_connected_components(regular) if len(c) > 1
    )


def _manager_facts(project: Any, scope: set[str], facts: Facts) -> None:
    from integ_lint.facts.managers import ManagerFactCollector
    from integ_lint.model.coupling import manager_graph

    if not any(True for _ in project.facts(ManagerFactCollector.KEY)):
        return
    facts.available.add("managers")
    graph = manager_graph(project)
    inside = {key for key, info in graph.classes.items() if info.relpath in scope}
    nodes = set(graph.metrics)
    facts.managers = sorted(graph.label(k) for k in inside if k in nodes)
    facts.manager_cycles = [
        sorted(graph.label(n) for n in cycle) for cycle in graph.cycles if set(cycle) & inside
    ]
    for (source, target, kind), sites in sorted(graph.edge_sites.items()):
        for site in sites:
            if site.path in scope:
                facts.manager_sites.add((site.path, site.site.span.start_line))
        if (source in inside) == (target in inside):
            continue
        facts.manager_links.append(
            {
                "source": graph.label(source),
                "target": graph.label(target),
                "kind": kind,
                "direction": "out" if source in inside else "in",
                "sites": [str(s) for s in sites],
            }
        )
    for reach in graph.reach_throughs:
        if reach.path in scope:
            facts.manager_sites.add((reach.path, reach.site.span.start_line))


def _message_facts(project: Any, scope: set[str], facts: Facts) -> None:
    """The events the component publishes or subscribes to, with the other side."""
    from integ_lint.config.settings import MessageSettings
    from integ_lint.facts.messages import KEY as MESSAGE_KEY
    from integ_lint.model.messages import build_message_index

    if not any(True for _ in project.facts(MESSAGE_KEY)):
        return
    facts.available.add("messages")
    # The same index (and derived key) as the message rules.
    receivers = tuple(project.config.section(MessageSettings).bus_receivers)
    try:
        index = project.derived("messages", lambda p: build_message_index(p, receivers))
    except Exception:  # reported by the rules; the audit only counts
        return
    for key, entry in sorted(index.events.items(), key=lambda kv: (kv[0].family, kv[0].name)):
        published = [(path, use) for path, use in entry.publications if path in scope]
        consumed = [(path, use) for path, use in entry.subscriptions if path in scope]
        if not published and not consumed:
            continue
        for path, use in [*published, *consumed]:
            facts.event_sites.add((path, use.site.span.start_line))
        facts.events.append(
            {
                "event": key.label(),
                "family": key.family,
                "published_here": len(published),
                "consumed_here": len(consumed),
                "published_elsewhere": len(entry.publications) - len(published),
                "consumed_elsewhere": len(entry.subscriptions) - len(consumed),
                "sites": sorted(
                    f"{path}:{use.site.span.start_line}" for path, use in [*published, *consumed]
                ),
            }
        )


def _config_facts(project: Any, scope: set[str], facts: Facts) -> None:
    from integ_lint.facts.schemas import KEY as SCHEMA_KEY
    from integ_lint.model.schema_index import schema_index

    if not any(True for _ in project.facts(SCHEMA_KEY)):
        return
    facts.available.add("config")
    try:
        index = schema_index(project)
    except Exception:  # reported by the rules; the audit only counts
        return
    for item in index.sites:
        if item.path not in scope:
            continue
        facts.config_reads.append(
            {
                "path": item.path,
                "line": item.site.span.start_line,
                "attribute": item.site.attr,
                "schemas": sorted(s.name for s in item.schemas) if item.resolved else [],
                "resolved": item.resolved,
                "declared": bool(item.declaring),
            }
        )


def _verdict_of(findings: Sequence[EvidenceItem], sites: int = 1) -> str:
    """CRITICAL with an error, MINOR ISSUE with warnings or notes, GOOD without, NONE
    when there was nothing to judge."""
    severities = {f.severity for f in findings}
    if Severity.ERROR.value in severities:
        return CRITICAL
    if severities:
        return MINOR
    return GOOD if sites else NONE_FOUND


def _names(items: Iterable[str], limit: int = 4) -> str:
    ordered = sorted(set(items))
    shown = ", ".join(f"`{i}`" for i in ordered[:limit])
    return shown + (f" and {len(ordered) - limit} more" if len(ordered) > limit else "")


def integration_points(facts: Facts, evidence: Sequence[EvidenceItem]) -> list[IntegrationPoint]:
    """One line per kind of integration point, judged by the in-scope findings of the
    family that checks it."""
    by_family: dict[str, list[EvidenceItem]] = {}
    for item in evidence:
        by_family.setdefault(item.family, []).append(item)
    points: list[IntegrationPoint] = []
    if "imports" in facts.available:
        out_sites = facts.imports_out
        bypass = [s for s in out_sites if not s["public"]]
        out_targets = {s["imported"] for s in out_sites}
        text = (
            f"{plural(len(out_sites), 'import')} of {plural(len(out_targets), 'module')} "
            f"outside the component; {len(bypass)} bypass a public interface"
        )
        if bypass:
            text += f" ({_names(s['imported'] for s in bypass)})"
        boundary_findings = [
            e for e in by_family.get("boundaries", []) if e.code != "IL103" or out_sites
        ]
        points.append(
            IntegrationPoint(
                "imports-out",
                "Imports out",
                "boundaries",
                len(out_sites),
                text,
                _verdict_of(boundary_findings, len(out_sites) + len(boundary_findings)),
                tuple(out_sites),
            )
        )
        in_sites = facts.imports_in
        bypass_in = [s for s in in_sites if not s["public"]]
        importers = {s["importer"] for s in in_sites}
        text = f"{plural(len(in_sites), 'import')} from {plural(len(importers), 'module')} of the "
        if facts.interface_rule == "convention":
            text += (
                f"rest of the project; {len(bypass_in)} use its private modules or names "
                "(leading underscore, PEP 8)"
            )
        else:
            text += (
                f"rest of the project; {len(bypass_in)} reach past the component's interface "
                f"({_names(facts.interface, 3) or 'none'})"
            )
        if bypass_in:
            text += f": {_names(s['importer'] for s in bypass_in)}"
        points.append(
            IntegrationPoint(
                "imports-in",
                "Imports in",
                "boundaries",
                len(in_sites),
                text,
                MINOR if bypass_in else (GOOD if in_sites else NONE_FOUND),
                tuple(in_sites),
            )
        )
    if "managers" in facts.available:
        owned = {
            link["target"]
            for link in facts.manager_links
            if link["direction"] == "out" and link["kind"] == "owns"
        }
        used = {
            link["target"]
            for link in facts.manager_links
            if link["direction"] == "out" and link["kind"] != "owns"
        }
        users = {link["source"] for link in facts.manager_links if link["direction"] == "in"}
        text = (
            f"{plural(len(facts.managers), 'manager')} in the component"
            + (f" ({_names(facts.managers, 5)})" if facts.managers else "")
            + f"; owns {len(owned)} and uses {len(used)} outside it"
            + f"; used by {plural(len(users), 'class', 'classes')} outside it"
        )
        if facts.manager_cycles:
            text += f"; {plural(len(facts.manager_cycles), 'manager cycle')}"
        points.append(
            IntegrationPoint(
                "managers",
                "Managers",
                "coupling",
                len(facts.manager_sites),
                text,
                _verdict_of(by_family.get("coupling", []), len(facts.manager_sites)),
                tuple(facts.manager_links),
            )
        )
    if "config" in facts.available:
        reads = facts.config_reads
        sections = Counter(s for read in reads for s in read["schemas"])
        undeclared = sum(1 for read in reads if not read["declared"])
        text = f"{plural(len(reads), 'defensive config read')}"
        if sections:
            text += " of " + ", ".join(
                f"`{name}` ({count})" for name, count in sorted(sections.items())[:6]
            )
            if len(sections) > 6:
                text += f" and {len(sections) - 6} more"
        text += f"; {undeclared} of an undeclared field"
        points.append(
            IntegrationPoint(
                "config",
                "Config sections read",
                "config-schema",
                len(reads),
                text,
                _verdict_of(by_family.get("config-schema", []), len(reads)),
                tuple(reads),
            )
        )
    if "messages" in facts.available:
        events = facts.events
        out_events = [e["event"] for e in events if e["published_here"] and e["consumed_elsewhere"]]
        in_events = [e["event"] for e in events if e["consumed_here"] and e["published_elsewhere"]]
        text = (
            f"{plural(sum(e['published_here'] for e in events), 'publication')} and "
            f"{plural(sum(e['consumed_here'] for e in events), 'subscription')} of "
            f"{plural(len(events), 'event')}; {len(out_events)} consumed outside the component"
        )
        if out_events:
            text += f" ({_names(out_events, 3)})"
        text += f", {len(in_events)} published outside it"
        if in_events:
            text += f" ({_names(in_events, 3)})"
        points.append(
            IntegrationPoint(
                "events",
                "Events",
                "messages",
                len(facts.event_sites),
                text,
                _verdict_of(by_family.get("messages", []), len(facts.event_sites)),
                tuple({**e, "path": e["sites"][0].rsplit(":", 1)[0]} for e in events),
            )
        )
    if "sites" in facts.available:
        scopes = move_scopes(facts)
        text = _calls_text("device site", facts.device_sites, "{}")
        text += f"; moves in {plural(len(scopes), 'scope')}"
        if scopes:
            text += f" ({_names(scope_names(scopes), 4)})"
        points.append(_site_point("devices", "Devices", "gpu", facts.device_sites, text, by_family))
        text = _calls_text("event-loop site", facts.loop_sites, "`{}`")
        points.append(
            _site_point(
                "event-loops", "Event loops", "event-loops", facts.loop_sites, text, by_family
            )
        )
    return points


def _site_lines(sites: Sequence[tuple[str, SiteRecord]]) -> set[tuple[str, int]]:
    """The ``(path, line)`` of each site (a line with two calls is one site)."""
    return {(path, record.line) for path, record in sites}


def _calls_text(noun: str, sites: Sequence[tuple[str, SiteRecord]], kind_format: str) -> str:
    """``3 device sites (4 calls: move 3, sync 1)``."""
    text = plural(len(_site_lines(sites)), noun)
    kinds = Counter(record.kind for _, record in sites)
    if kinds:
        text += (
            f" ({plural(len(sites), 'call')}: "
            + ", ".join(f"{kind_format.format(k)} {n}" for k, n in sorted(kinds.items()))
            + ")"
        )
    return text


def _site_point(
    kind: str,
    title: str,
    family: str,
    sites: Sequence[tuple[str, SiteRecord]],
    text: str,
    by_family: dict[str, list[EvidenceItem]],
) -> IntegrationPoint:
    lines = len(_site_lines(sites))
    return IntegrationPoint(
        kind,
        title,
        family,
        lines,
        text,
        _verdict_of(by_family.get(family, []), lines),
        tuple(_site_dict(path, record) for path, record in sites),
    )


def _site_dict(path: str, record: SiteRecord) -> dict[str, Any]:
    return {
        "path": path,
        "line": record.line,
        "kind": record.kind,
        "call": record.call,
        "scope": record.scope,
        "probed": record.probed,
    }


def move_scopes(facts: Facts) -> set[tuple[str, str]]:
    """``(path, top-level class or function)`` holding each of the component's device
    moves (``""`` for module-level code). Where the moves are, not who owns the device:
    the owners IL401 accepts are :func:`integ_lint.model.devices.device_owners`."""
    return {
        (path, record.scope.split(".", 1)[0])
        for path, record in facts.device_sites
        if record.kind == "move"
    }


def scope_names(scopes: Iterable[tuple[str, str]]) -> list[str]:
    return [name or path for path, name in scopes]


# -- metrics --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FamilyMetric:
    family: str
    title: str
    codes: tuple[str, ...]
    model: str  # what a checked site is ("" when the family has no site model)
    checked: int | None  # None: the family records no sites
    defective: int
    errors: int
    warnings: int
    notes: int
    verdict: str
    score: int | None  # percent of checked sites without a finding

    def to_dict(self) -> dict[str, Any]:
        return _json_fields(self)


def site_score(checked: int, defective: int) -> int | None:
    """``round_half_up(100 * (checked - defective) / checked)``; None when nothing was
    checked."""
    if checked <= 0:
        return None
    return round_half_up(Fraction(100 * (checked - defective), checked))


def checked_sites(family: str, facts: Facts) -> set[tuple[str, int]] | None:
    """The ``(path, line)`` sites of the component a family checked, from the facts
    (None: the family has no site model, or its facts were not collected)."""
    if family == "boundaries" and "imports" in facts.available:
        return set(facts.internal_import_sites)
    if family == "event-loops" and "sites" in facts.available:
        return _site_lines(facts.loop_sites)
    if family == "config-schema" and "config" in facts.available:
        return {(r["path"], r["line"]) for r in facts.config_reads}
    if family == "gpu" and "sites" in facts.available:
        return _site_lines(facts.device_sites)
    if family == "coupling" and "managers" in facts.available:
        return set(facts.manager_sites)
    if family == "messages" and "messages" in facts.available:
        return set(facts.event_sites)
    return None


def family_metrics(
    scope: Scope, evidence: Sequence[EvidenceItem], facts: Facts
) -> list[FamilyMetric]:
    names = list(scope.families)
    for item in evidence:
        if item.family not in names:
            names.append(item.family)
    metrics = []
    for name in sorted(names):
        items = [e for e in evidence if e.family == name]
        counts = Counter(e.severity for e in items)
        defective_sites = {(e.path, e.line) for e in items}
        sites = checked_sites(name, facts)
        checked = None if sites is None else len(sites | defective_sites)
        metrics.append(
            FamilyMetric(
                family=name,
                title=family_title(name),
                codes=tuple(scope.families.get(name, ())),
                model=SITE_MODELS.get(name, "") if sites is not None else "",
                checked=checked,
                defective=len(defective_sites),
                errors=counts["error"],
                warnings=counts["warning"],
                notes=counts["note"],
                verdict=_verdict_of(items),
                score=site_score(checked, len(defective_sites)) if checked is not None else None,
            )
        )
    return metrics


def overall_score(metrics: Sequence[FamilyMetric]) -> tuple[int, int, int | None]:
    """``(checked, defective, score)`` over the families with a site model."""
    checked = sum(m.checked or 0 for m in metrics if m.checked is not None)
    defective = sum(m.defective for m in metrics if m.checked is not None)
    return checked, defective, site_score(checked, defective)


# -- strengths --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Strength:
    """A statement computed from facts: ``count`` of ``total`` sites have the property."""

    family: str
    fact: str  # the machine-checkable property (docs/audit.md lists them)
    count: int
    total: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return _json_fields(self)


def strengths(
    facts: Facts, evidence: Sequence[EvidenceItem], families_run: dict[str, list[str]]
) -> list[Strength]:
    """Only what the facts support, each with its count; nothing when nothing holds. A
    statement that rests on a rule's silence needs that rule to have run."""
    found: list[Strength] = []
    codes = Counter(e.family for e in evidence)
    ran = {code for family_codes in families_run.values() for code in family_codes}
    modules = len(facts.component_modules)
    if "imports" in facts.available:
        cycle_findings = any(e.code == "IL103" for e in evidence)
        if facts.module_edges and not facts.module_cycles and not cycle_findings:
            found.append(
                Strength(
                    "boundaries",
                    "no-module-cycle",
                    modules,
                    modules,
                    f"no import cycle among the component's {modules} modules "
                    f"({plural(facts.module_edges, 'module-level import')} between them)",
                )
            )
        for fact, sites, text in (
            (
                "imports-out-public",
                facts.imports_out,
                "out of the component go through public interfaces",
            ),
            ("imports-in-public", facts.imports_in, "into the component use its public interface"),
        ):
            public = sum(1 for s in sites if s["public"])
            if sites and public == len(sites):
                found.append(
                    Strength("boundaries", fact, public, len(sites), f"all {public} imports {text}")
                )
    loop_rules = families_run.get("event-loops", [])
    if (
        "sites" in facts.available
        and facts.loop_sites
        and loop_rules
        and not codes.get("event-loops")
    ):
        total = len(facts.loop_sites)
        found.append(
            Strength(
                "event-loops",
                "loop-calls-clean",
                total,
                total,
                f"none of the {total} event-loop calls is reported by the "
                f"{plural(len(loop_rules), 'event-loop rule')} that ran",
            )
        )
    if "config" in facts.available and facts.config_reads:
        total = len(facts.config_reads)
        declared = sum(1 for r in facts.config_reads if r["declared"])
        if declared * 10 >= total * 9:
            found.append(
                Strength(
                    "config-schema",
                    "config-reads-declared",
                    declared,
                    total,
                    f"{declared} of {total} config reads resolve to declared fields",
                )
            )
    if "sites" in facts.available:
        scopes = move_scopes(facts)
        moves = sum(1 for _, r in facts.device_sites if r.kind == "move")
        if moves and "IL401" in ran and not any(e.code == "IL401" for e in evidence):
            found.append(
                Strength(
                    "gpu",
                    "device-owners",
                    len(scopes),
                    moves,
                    f"device moves confined to {plural(len(scopes), 'scope')} "
                    f"({_names(scope_names(scopes), 3)}): none of the "
                    f"{plural(moves, 'device move')} is "
                    "flagged by IL401",
                )
            )
    probed = sum(1 for _, r in facts.loop_sites if r.probed)
    if facts.loop_sites and probed == len(facts.loop_sites):
        found.append(
            Strength(
                "event-loops",
                "loop-calls-probed",
                probed,
                probed,
                f"all {plural(probed, 'event-loop call')} sit in functions that also probe "
                "`asyncio.get_running_loop()`",
            )
        )
    message_rules = families_run.get("messages", [])
    if facts.event_sites and message_rules and not codes.get("messages"):
        total = len(facts.event_sites)
        found.append(
            Strength(
                "messages",
                "messages-clean",
                total,
                total,
                f"none of the {plural(total, 'publication or subscription', 'publications and subscriptions')} "
                f"of {plural(len(facts.events), 'event')} is reported by the "
                f"{plural(len(message_rules), 'message rule')}",
            )
        )
    if "managers" in facts.available and len(facts.managers) >= 2 and not facts.manager_cycles:
        count = len(facts.managers)
        found.append(
            Strength(
                "coupling",
                "no-manager-cycle",
                count,
                count,
                f"no dependency cycle among the component's {count} managers",
            )
        )
    return found


# -- problems, decision, actions ------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """A file or rule the run could not analyse."""

    kind: str
    location: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return _json_fields(self)


def problem_of(note: Notification) -> Problem:
    location = note.path or (f"rule {note.rule}" if note.rule else "run")
    if note.path and note.line:
        location = f"{note.path}:{note.line}"
    return Problem(note.kind.value, location, " ".join(note.message.split()))


@dataclass(frozen=True)
class Decision:
    status: str
    rationale: str
    conditions: tuple[str, ...]
    decided_by: tuple[str, ...] = ()  # ids of the groups the status rests on

    def to_dict(self) -> dict[str, Any]:
        return _json_fields(self)


def decide(
    scope_files: int,
    groups: Sequence[IssueGroup],
    problems: Sequence[Problem],
    policy: Policy,
) -> str:
    """The status policy of docs/audit.md (first match wins)."""
    if scope_files == 0:
        return NEEDS_FURTHER_REVIEW
    blocking = [g for g in groups if g.high_precision_error]
    if len(blocking) > policy.reject_above_errors:
        return REJECTED
    if blocking:
        return REQUIRES_REMEDIATION
    if problems and policy.review_incomplete:
        return NEEDS_FURTHER_REVIEW
    if any(_conditional(g, policy) for g in groups):
        return CONDITIONALLY_APPROVED
    return APPROVED


def _conditional(group: IssueGroup, policy: Policy) -> bool:
    return Severity(group.severity).rank >= policy.conditions_from.rank


def _locations(locations: Sequence[str], limit: int = 3) -> str:
    shown = ", ".join(f"`{loc}`" for loc in locations[:limit])
    more = len(locations) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def condition_text(group: IssueGroup) -> str:
    verb = "Fix" if group.severity == Severity.ERROR.value else "Resolve or justify"
    return (
        f"{verb} {group.code} {group.rule} in {group.cause} "
        f"({plural(group.count, 'site')}: {_locations(group.locations, 2)})"
    )


def _rationale(
    status: str,
    component: ComponentScope,
    groups: Sequence[IssueGroup],
    problems: Sequence[Problem],
    policy: Policy,
    delta: Delta | None,
) -> str:
    counts = Counter(g.severity for g in groups)
    blocking = [g for g in groups if g.high_precision_error]
    subject = f"component `{component.name}`"
    if status == NEEDS_FURTHER_REVIEW and not component.files:
        specs = ", ".join(f"`{s}`" for s in component.specs) or "nothing"
        return (
            f"The {subject} matched no file of the project ({specs}), so nothing was reviewed "
            "and silence proves nothing. Name a configured component, a dotted package or "
            "path globs."
        )
    basis = "new since " + delta.base if delta is not None and delta.decides else "in scope"
    text = (
        f"The {subject} ({plural(len(component.files), 'file')}) has "
        f"{plural(len(groups), 'root cause')} of findings {basis} "
        f"({severity_counts(counts['error'], counts['warning'], counts['note'])}; "
        f"{plural(len(blocking), 'high-precision error')})."
    )
    if status == REJECTED:
        text += (
            f" {plural(len(blocking), 'high-precision error')} exceed reject-above-errors "
            f"({policy.reject_above_errors})."
        )
    elif status == REQUIRES_REMEDIATION:
        first = blocking[0]
        text += (
            f" High-precision errors must be fixed before approval, first {first.code} in "
            f"{first.cause}."
        )
    elif status == NEEDS_FURTHER_REVIEW:
        text += (
            f" {plural(len(problems), 'analysis problem')} in scope (unparsable or unreadable "
            "files, failed rules): the analysis cannot vouch for those parts."
        )
    elif status == CONDITIONALLY_APPROVED:
        text += (
            " No high-precision error; each root cause at or above "
            f"{policy.conditions_from.value} is a condition below."
        )
    else:
        text += " Nothing requires action."
    return text


def _actions(
    groups: Sequence[IssueGroup],
    problems: Sequence[Problem],
    critical_ids: Sequence[str],
    component: ComponentScope,
) -> list[str]:
    """One action per family with findings (families with errors first, then by number
    of root causes), naming its issues and the fix of its worst root cause; an empty
    scope and analysis problems first."""
    actions: list[str] = []
    if not component.files:
        actions.append(
            f"Name the component's files: `{component.name}` matched none (a name from "
            "[tool.integ-lint.audit.components], a dotted package or module, or path "
            "globs), then re-run the audit"
        )
    if problems:
        actions.append(
            "Make every file of the component analysable "
            f"({_locations([p.location for p in problems])}) and re-run the audit"
        )
    numbers = {group_id: n for n, group_id in enumerate(critical_ids, 1)}
    by_family: dict[str, list[IssueGroup]] = {}
    for group in groups:
        by_family.setdefault(group.family, []).append(group)

    def order(item: tuple[str, list[IssueGroup]]) -> tuple[int, int, str]:
        family, items = item
        return (-max(Severity(g.severity).rank for g in items), -len(items), family)

    for family, items in sorted(by_family.items(), key=order):
        counts = Counter(g.severity for g in items)
        issues = [str(numbers[g.id]) for g in items if g.id in numbers]
        listed = (
            f" ({'issue' if len(issues) == 1 else 'issues'} {', '.join(issues)})" if issues else ""
        )
        head = items[0]
        actions.append(
            f"{family_title(family)}: fix {plural(len(items), 'root cause')}{listed}, "
            f"{severity_counts(counts['error'], counts['warning'], counts['note'])}; "
            f"first {head.code} in {head.cause}: {head.fix}"
        )
    if not actions:
        actions.append("No action required; re-run `integ-lint audit` after integration changes")
    return actions


# -- comparisons: --since and --previous --------------------------------------------------------


@dataclass
class Delta:
    """Findings compared with a base: a git revision (``--since``) or an earlier
    certificate (``--previous``)."""

    kind: str  # since | previous
    base: str  # the revision or certificate
    new: list[EvidenceItem]
    fixed: list[dict[str, Any]]  # as recorded at the base
    unchanged: int
    changed_files: list[str] = field(default_factory=list)  # since only
    touched: list[dict[str, Any]] = field(default_factory=list)  # integration points touched
    decides: bool = False  # the status rests on the new findings only

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "base": self.base,
            "new": [e.fingerprint for e in self.new],
            "fixed": [dict(f) for f in self.fixed],
            "unchanged": self.unchanged,
            "changed_files": list(self.changed_files),
            "touched": [dict(t) for t in self.touched],
            "decides": self.decides,
        }


def compare(
    kind: str,
    base: str,
    current: Sequence[EvidenceItem],
    earlier: Sequence[dict[str, Any]],
) -> Delta:
    """New, fixed and unchanged findings by fingerprint (path, code, scope, snippet,
    occurrence: stable when code moves up or down)."""
    before = {str(r.get("fingerprint")): r for r in earlier}
    now = {e.fingerprint for e in current}
    new = [e for e in current if e.fingerprint not in before]
    fixed = [
        {
            k: before[fp].get(k)
            for k in ("code", "severity", "path", "line", "message", "fingerprint")
        }
        for fp in sorted(
            before, key=lambda f: (before[f].get("path", ""), before[f].get("line", 0))
        )
        if fp not in now
    ]
    return Delta(kind, base, new, fixed, len(now & set(before)))


def touched_points(points: Sequence[IntegrationPoint], changed: set[str]) -> list[dict[str, Any]]:
    """The integration points with a site in a changed file."""

    def paths(detail: dict[str, Any]) -> set[str]:
        found = {str(detail["path"])} if detail.get("path") else set()
        found |= {str(site).rsplit(":", 1)[0] for site in detail.get("sites", [])}
        return found

    touched = []
    for point in points:
        hit = [d for d in point.details if paths(d) & changed]
        if hit:
            touched.append(
                {
                    "kind": point.kind,
                    "title": point.title,
                    "sites": len(hit),
                    "paths": sorted(set().union(*(paths(d) for d in hit)) & changed),
                }
            )
    return touched


def extract_revision(toplevel: Path, revision: str, into: Path) -> None:
    """Write the tree of ``revision`` (git archive, read-only) under ``into``."""
    from integ_lint.findings.changes import _git

    data = _git(["archive", "--format=tar", revision], toplevel)
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        if hasattr(tarfile, "data_filter"):
            archive.extractall(into, filter="data")
            return
        for member in archive.getmembers():  # Python without extraction filters
            parts = Path(member.name).parts
            if Path(member.name).is_absolute() or ".." in parts or member.islnk():
                raise AuditError(f"git archive {revision}: unsafe member {member.name!r}")
        archive.extractall(into)  # members checked above


# -- the certificate ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CouplingView:
    """The manager coupling table and Mermaid diagram of the component's managers and
    their neighbours, or why there are none."""

    rows: tuple[tuple[str, str, int, int, str, str, bool], ...] = ()
    mermaid: str = ""
    note: str = "No manager classes in the component."

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
class EventMapView:
    """The message-flow map of the events the component publishes or subscribes to:
    components -> events -> components (docs/rules/messages.md), or why there is none."""

    # (event, family, publishing components, subscribing components)
    events: tuple[tuple[str, str, tuple[str, ...], tuple[str, ...]], ...] = ()
    mermaid: str = ""
    note: str = "The component publishes and subscribes to no event."

    def to_dict(self) -> dict[str, Any]:
        return {
            "events": [
                {"event": e[0], "family": e[1], "publishers": list(e[2]), "subscribers": list(e[3])}
                for e in self.events
            ],
            "mermaid": self.mermaid,
            "note": self.note,
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
        return _json_fields(self)


@dataclass
class Certificate:
    header: Header
    scope: Scope
    policy: Policy
    points: list[IntegrationPoint]
    groups: list[IssueGroup]
    evidence: list[EvidenceItem]
    strengths: list[Strength]
    metrics: list[FamilyMetric]
    problems: list[Problem]
    decision: Decision
    actions: list[str]
    coupling: CouplingView
    delta: Delta | None = None
    event_map: EventMapView = field(default_factory=EventMapView)

    @property
    def critical(self) -> list[IssueGroup]:
        return self.groups[:MAX_CRITICAL]

    @property
    def overall(self) -> tuple[int, int, int | None]:
        return overall_score(self.metrics)

    def to_dict(self) -> dict[str, Any]:
        """The canonical payload (without the Markdown digest, which
        :mod:`integ_lint.audit.certificate` adds)."""
        checked, defective, score = self.overall
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
            "integration_points": [p.to_dict() for p in self.points],
            "critical": [g.id for g in self.critical],
            "groups": [g.to_dict() for g in self.groups],
            "findings": [e.to_dict() for e in self.evidence],
            "strengths": [s.to_dict() for s in self.strengths],
            "metrics": [m.to_dict() for m in self.metrics],
            "overall": {"checked": checked, "defective": defective, "score": score},
            "problems": [p.to_dict() for p in self.problems],
            "decision": self.decision.to_dict(),
            "actions": list(self.actions),
            "coupling": self.coupling.to_dict(),
            "event_map": self.event_map.to_dict(),
            "delta": self.delta.to_dict() if self.delta else None,
            "files": dict(sorted(self.scope.file_hashes.items())),
        }


def in_scope_problems(report: Report, component: ComponentScope) -> list[Problem]:
    """Files of the component that could not be read or parsed, and rules that failed
    (a failed project rule has no file: it leaves every file unchecked)."""
    files = set(component.files)
    return [
        problem_of(n)
        for n in report.notifications
        if n.makes_run_incomplete and (n.path is None or n.path in files)
    ]


@dataclass(frozen=True)
class Comparison:
    """What to compare the certificate's findings with: the findings of the
    component at a git revision (``since``) or of an earlier certificate
    (``previous``)."""

    kind: str  # since | previous
    base: str
    earlier: tuple[dict[str, Any], ...]
    changed_files: tuple[str, ...] = ()


def build_certificate(
    report: Report,
    scope: Scope,
    header: Header,
    policy: Policy,
    coupling: CouplingView | None = None,
    comparison: Comparison | None = None,
) -> Certificate:
    """The certificate of ``report`` for ``scope.component``: only findings on the
    component's files count (the engine reported nothing else)."""
    infos = {info.code: info for info in report.rules}
    component = scope.component
    files = set(component.files)
    findings = [f for f in report.findings if f.path in files]
    evidence, groups = group_findings(findings, infos)
    delta = None
    if comparison is not None:
        delta = compare(comparison.kind, comparison.base, evidence, comparison.earlier)
        delta.changed_files = sorted(comparison.changed_files)
        delta.decides = comparison.kind == "since"
    facts = collect_facts(report.project, component)
    points = integration_points(facts, evidence)
    if delta is not None and delta.kind == "since":
        delta.touched = touched_points(points, set(delta.changed_files))
    problems = in_scope_problems(report, component)
    deciding = groups
    if delta is not None and delta.decides:
        new_prints = {e.fingerprint for e in delta.new}
        deciding = [g for g in groups if set(g.fingerprints) & new_prints]
    status = decide(len(component.files), deciding, problems, policy)
    conditions: list[str] = []
    if status not in (APPROVED,):
        if problems:
            conditions.append(
                f"Resolve the {plural(len(problems), 'analysis problem')} in scope and re-run "
                "the audit"
            )
        if not component.files:
            conditions.append("Name the component's files (see docs/audit.md) and re-run")
        conditions.extend(condition_text(g) for g in deciding if _conditional(g, policy))
    decided_by = tuple(
        g.id
        for g in deciding
        if (status in (REJECTED, REQUIRES_REMEDIATION) and g.high_precision_error)
        or (status == CONDITIONALLY_APPROVED and _conditional(g, policy))
    )
    decision = Decision(
        status=status,
        rationale=_rationale(status, component, deciding, problems, policy, delta),
        conditions=tuple(conditions),
        decided_by=decided_by,
    )
    return Certificate(
        header=header,
        scope=scope,
        policy=policy,
        points=points,
        groups=groups,
        evidence=evidence,
        strengths=strengths(facts, evidence, scope.families),
        metrics=family_metrics(scope, evidence, facts),
        problems=problems,
        decision=decision,
        actions=_actions(deciding, problems, [g.id for g in groups[:MAX_CRITICAL]], component),
        coupling=coupling or CouplingView(),
        delta=delta,
        event_map=event_map_view(report, component),
    )


# -- the event map ---------------------------------------------------------------------------

MAX_MAP_EVENTS = 40


def event_map_view(report: Report, component: ComponentScope) -> EventMapView:
    """The message-flow map (``integ-lint messages --format mermaid``) restricted to the
    events with a publication or subscription in the component, every side of them
    drawn. Never raises: the certificate must be written."""
    from integ_lint.config.settings import MessageSettings
    from integ_lint.facts.messages import KEY as MESSAGE_KEY
    from integ_lint.model.messages import MessageIndex, build_message_index
    from integ_lint.views.messages import event_rows, mermaid

    project = report.project
    if project is None or not any(True for _ in project.facts(MESSAGE_KEY)):
        return EventMapView(note="Message facts were not collected.")
    try:
        receivers = tuple(project.config.section(MessageSettings).bus_receivers)
        # The same index (and derived key) as the message rules.
        index = project.derived("messages", lambda p: build_message_index(p, receivers))
        files = set(component.files)
        touched = {
            key: entry
            for key, entry in index.events.items()
            if any(path in files for path, _ in [*entry.publications, *entry.subscriptions])
        }
        if not touched:
            return EventMapView()
        rows = event_rows(MessageIndex(events=touched, functions=index.functions), project)
        shown = rows[:MAX_MAP_EVENTS]
        diagram = mermaid(shown)
    except Exception as exc:
        return EventMapView(
            note=f"The event map could not be computed: {type(exc).__name__}: {exc}"
        )
    note = ""
    if len(rows) > len(shown):
        note = f"{len(rows) - len(shown)} more events: integ-lint messages lists them all."
    return EventMapView(
        events=tuple(
            (row.event, row.family, tuple(row.publishers), tuple(row.subscribers)) for row in shown
        ),
        mermaid=diagram,
        note=note,
    )


# -- the manager coupling view ---------------------------------------------------------------

MAX_COUPLING_ROWS = 12
MAX_DIAGRAM_EDGES = 30


def coupling_view(report: Report, component: ComponentScope) -> CouplingView:
    """The coupling table of the component's managers and their direct neighbours, and
    the Mermaid diagram of the edges among them (from the run's project index). Never
    raises: the certificate must be written."""
    from integ_lint.facts.managers import ManagerFactCollector
    from integ_lint.model.coupling import manager_graph
    from integ_lint.views.export import to_mermaid

    project = report.project
    if project is None or not any(True for _ in project.facts(ManagerFactCollector.KEY)):
        return CouplingView(note="Manager facts were not collected.")
    try:
        graph = manager_graph(project)
        files = set(component.files)
        inside = {k for k, info in graph.classes.items() if info.relpath in files} & set(
            graph.metrics
        )
        if not inside:
            return CouplingView()
        shown = set(inside)
        for node in inside:
            shown |= set(graph.simple.successors(node)) | set(graph.simple.predecessors(node))
        shown &= set(graph.metrics)
        metrics = sorted(
            (graph.metrics[k] for k in shown),
            key=lambda m: (m.key not in inside, -m.betweenness, -(m.ca + m.ce), m.name),
        )[:MAX_COUPLING_ROWS]
        kept = {m.key for m in metrics}
        full = graph.collapsed_export_graph()
        labels = {graph.label(k) for k in kept}
        sub = full.subgraph([n for n in full.nodes if n in labels or n in kept]).copy()
        inside_labels = {graph.label(k) for k in inside}
        # Edges touching the component's managers first; at most MAX_DIAGRAM_EDGES drawn.
        edges = sorted(
            sub.edges,
            key=lambda e: (e[0] not in inside_labels and e[1] not in inside_labels, e),
        )
        sub.remove_edges_from(edges[MAX_DIAGRAM_EDGES:])
        diagram = to_mermaid(sub, title="Manager coupling")
        styles = [
            f"  linkStyle {index} stroke:#d62728,stroke-width:3px"
            for index, (_, _, data) in enumerate(sub.edges(data=True))
            if data.get("in_cycle")
        ]
        diagram += "".join(line + "\n" for line in styles)
    except Exception as exc:
        return CouplingView(
            note=f"Manager coupling could not be computed: {type(exc).__name__}: {exc}"
        )
    return CouplingView(
        rows=tuple(
            (
                m.name,
                m.file,
                int(m.ca),
                int(m.ce),
                f"{float(m.instability):.2f}",
                f"{float(m.betweenness):.2f}",
                bool(m.in_cycle),
            )
            for m in metrics
        ),
        mermaid=diagram if diagram.endswith("\n") else diagram + "\n",
        note="",
    )
