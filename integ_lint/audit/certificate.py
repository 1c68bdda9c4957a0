"""Review certificates on disk: Markdown rendering, the canonical JSON, the hash, and
verification.

A certificate is two files with the same stem in the certificate folder:

* ``<name>.json``: the *canonical JSON* of the payload (scope, policy, families,
  findings, decision, metrics, manager coupling, the SHA-256 of every scanned file, and
  ``markdown_sha256``): UTF-8, keys sorted, no insignificant whitespace
  (``json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)``).
* ``<name>.md``: the certificate, rendered from the same payload. Its SIGNATURE ends
  with ``Certificate Hash: sha256:<hex>``, the SHA-256 of the canonical JSON (so
  ``sha256sum <name>.json`` prints it). ``markdown_sha256`` is the SHA-256 of the
  Markdown without that one line, so the hash covers the Markdown too.

:func:`verify_certificate` re-derives both digests (an edited Markdown or JSON is
*tampered*), then re-hashes the scanned files and rediscovers the scanned paths with
the recorded configuration (a changed, added or removed file is *stale*). The hash
proves integrity, not authorship: anyone can recompute it.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from integ_lint.audit.model import (
    APPROVED,
    FORMAT,
    FORMAT_VERSION,
    MAX_CONDITIONS,
    MAX_CRITICAL,
    Certificate,
    Delta,
    IssueGroup,
    file_sha256,
    hash_files,
    plural,
    severity_counts,
)
from integ_lint.files.atomic import write_atomic

HASH_PREFIX = "Certificate Hash: "
_HASH_LINE = re.compile(r"^Certificate Hash: .*(?:\n|$)", re.MULTILINE)
_HASH_VALUE = re.compile(r"^Certificate Hash: sha256:([0-9a-f]{64})[ \t]*$", re.MULTILINE)

VALID = "valid"
TAMPERED = "tampered"
STALE = "stale"
UNUSABLE = "unusable"


class CertificateError(Exception):
    """A certificate that cannot be written or read, phrased as one line."""


# -- canonical JSON and digests -------------------------------------------------------


def canonical_json(payload: Any) -> bytes:
    return json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def strip_hash_line(markdown: str) -> str:
    """The Markdown without its ``Certificate Hash:`` line (what ``markdown_sha256``
    covers)."""
    return _HASH_LINE.sub("", markdown)


def markdown_digest(markdown: str) -> str:
    return sha256_hex(strip_hash_line(markdown).encode("utf-8"))


# -- Markdown -------------------------------------------------------------------------

_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
_ESCAPE = re.compile(r"([\\*\[\]<|`])|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def md_text(text: str) -> str:
    """``text`` as inline Markdown that renders literally: backtick code spans are kept,
    Markdown punctuation outside them is escaped."""
    text = " ".join(text.split())
    out = []
    last = 0
    for match in _CODE_SPAN.finditer(text):
        out.append(_ESCAPE.sub(lambda m: "\\" + m.group(0), text[last : match.start()]))
        out.append(match.group(0))
        last = match.end()
    out.append(_ESCAPE.sub(lambda m: "\\" + m.group(0), text[last:]))
    return "".join(out)


def code(text: str) -> str:
    """``text`` as a code span."""
    text = " ".join(text.split())
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _scope_lines(cert: Certificate, json_name: str) -> list[str]:
    scope = cert.scope
    component = scope.component
    if component.files:
        named = ", ".join(code(s) for s in component.specs)
        lines = [
            f"- **Reviewed**: component {code(component.name)} ({component.kind}: {named}): "
            f"{plural(len(component.files), 'file')}, {plural(scope.component_lines, 'line')}; "
            "findings are reported on these files only"
        ]
    else:
        lines = [
            f"- **Reviewed**: component {code(component.name)} matched no file "
            f"({', '.join(code(s) for s in component.specs) or 'nothing named'})"
        ]
    if component.unmatched and component.files:
        lines.append(
            "- **Unmatched**: " + ", ".join(code(s) for s in component.unmatched) + " named no file"
        )
    paths = ", ".join(code(p) for p in scope.paths)
    lines.append(
        f"- **Context**: the whole project was read: {plural(scope.project_files, 'file')}, "
        f"{plural(scope.project_lines, 'line')} under {code(scope.root)} (paths: {paths}); "
        f"{scope.files_failed} of the component's files could not be parsed"
    )
    if scope.git is None:
        lines.append("- **Git**: not a git repository")
    else:
        commit = code(scope.git.commit) if scope.git.commit else "no commit yet"
        state = (
            f"uncommitted changes in {plural(scope.git.changed_files, 'file')}"
            if scope.git.dirty
            else "clean working tree"
        )
        lines.append(f"- **Git**: commit {commit}, {state}")
    lines.append(
        f"- **Checks**: {plural(len(scope.codes), 'rule')} in "
        f"{plural(len(scope.families), 'family', 'families')} ("
        + ", ".join(f"{md_text(name)} {len(codes)}" for name, codes in scope.families.items())
        + f"); codes in {code(json_name)}"
    )
    config = (
        f"{code(scope.config_file)} (sha256:{(scope.config_sha256 or '')[:12]})"
        if scope.config_file
        else "none (defaults)"
    )
    baseline = code(scope.baseline) if scope.baseline else "none"
    lines.append(
        f"- **Configuration**: {config}; baseline {baseline} ({scope.baselined} baselined); "
        f"{scope.suppressed_in_source} suppressed in source"
    )
    delta = cert.delta
    if delta is not None and delta.kind == "since":
        lines.append(
            f"- **Pull-request review**: changes since {code(delta.base)} "
            f"({plural(len(delta.changed_files), 'changed file')}); the status rests on "
            "findings new since then"
        )
    elif delta is not None:
        lines.append(f"- **Compared with**: the earlier certificate {code(delta.base)}")
    return lines


def _group_lines(number: int, group: IssueGroup, first_of_rule: int | None) -> list[str]:
    """One critical issue; ``first_of_rule`` is the number of an earlier issue of the
    same rule, whose run-time explanation is not repeated."""
    lines = [
        f"{number}. **{group.code} {md_text(group.rule)}** ({group.severity}, "
        f"{group.precision} precision) in {md_text(group.cause)}: {code(group.locations[0])} "
        f"{md_text(group.message)}"
    ]
    if first_of_rule is not None:
        lines.append(f"   - At run time: as in issue {first_of_rule} (same rule)")
    elif group.runtime:
        lines.append(f"   - At run time: {md_text(group.runtime)}")
    lines.append(f"   - Fix: {md_text(group.fix)}")
    if group.count > 1:
        others = ", ".join(code(loc) for loc in group.locations[1:4])
        more = f" and {group.count - 4} more" if group.count > 4 else ""
        lines.append(f"   - Same root cause at {others}{more} ({plural(group.count, 'site')})")
    return lines


def _delta_lines(delta: Delta) -> list[str]:
    title = (
        f"### Changes Since {md_text(delta.base)}"
        if delta.kind == "since"
        else "### Compared With The Previous Certificate"
    )
    out = ["", title]
    shown = delta.new[:MAX_CONDITIONS]
    out.append(f"- **New**: {plural(len(delta.new), 'finding')}")
    out += [f"  - {code(e.location)} {e.code} ({e.severity}): {md_text(e.message)}" for e in shown]
    out.append(f"- **Fixed**: {plural(len(delta.fixed), 'finding')}")
    out += [
        f"  - {code(str(f.get('path')) + ':' + str(f.get('line')))} {md_text(str(f.get('code')))}: "
        f"{md_text(str(f.get('message')))}"
        for f in delta.fixed[:MAX_CONDITIONS]
    ]
    out.append(f"- **Unchanged**: {plural(delta.unchanged, 'finding')}")
    if len(delta.new) > MAX_CONDITIONS or len(delta.fixed) > MAX_CONDITIONS:
        out.append("- The complete lists are in the JSON (`delta`).")
    if delta.kind == "since":
        if delta.touched:
            out.append(
                "- **Integration points touched**: "
                + "; ".join(
                    f"{md_text(t['title'])} ({plural(int(t['sites']), 'site')} in "
                    f"{', '.join(code(p) for p in t['paths'][:3])})"
                    for t in delta.touched
                )
            )
        else:
            out.append("- **Integration points touched**: none")
    return out


def render_markdown(cert: Certificate, certificate_hash: str | None, json_name: str = "") -> str:
    """The certificate as Markdown; ``certificate_hash`` None leaves out the hash line
    (the text ``markdown_sha256`` covers). ``json_name`` is the file holding everything
    the Markdown only counts."""
    header = cert.header
    json_name = json_name or "the certificate JSON"
    component = cert.scope.component
    out: list[str] = [
        f"# {header.title}",
        "",
        f"**Component**: {md_text(header.component)} ({plural(len(component.files), 'file')})",
        f"**Agent**: {md_text(header.agent)}",
        f"**Date**: {header.timestamp}",
        f"**Certificate ID**: {md_text(header.certificate_id)}",
        "",
        "## REVIEW SCOPE",
        *_scope_lines(cert, json_name),
        "",
        "## FINDINGS",
        "",
        "### Integration Points Analysis",
    ]
    if cert.points:
        for point in cert.points:
            out.append(f"- **{md_text(point.title)}**: {point.verdict} - {md_text(point.summary)}")
    else:
        out.append("- None: the component has no integration facts.")
    out += ["", "### Critical Issues Identified"]
    if cert.critical:
        first_of: dict[str, int] = {}
        for number, group in enumerate(cert.critical, 1):
            out += _group_lines(number, group, first_of.get(group.code))
            first_of.setdefault(group.code, number)
        rest = cert.groups[MAX_CRITICAL:]
        if rest:
            findings = sum(g.count for g in rest)
            out += [
                "",
                f"{plural(len(rest), 'further root cause')} ({plural(findings, 'finding')}, "
                f"{rest[0].id}-{rest[-1].id}) are listed in {code(json_name)}.",
            ]
    else:
        out.append("- None: no finding in the component.")
    out += ["", "### Strengths Observed"]
    if cert.strengths:
        out += [f"- {md_text(s.text)}" for s in cert.strengths]
    else:
        out.append("- None established by the facts.")
    if cert.delta is not None:
        out += _delta_lines(cert.delta)
    out += ["", "### Manager Coupling"]
    if cert.coupling.rows:
        out += [
            "",
            "| Manager | File | Ca | Ce | Instability | Betweenness | In cycle |",
            "| --- | --- | ---: | ---: | ---: | ---: | --- |",
        ]
        for row in cert.coupling.rows:
            out.append(
                f"| {md_text(row[0])} | {code(row[1])} | {row[2]} | {row[3]} | {row[4]} | "
                f"{row[5]} | {'yes' if row[6] else 'no'} |"
            )
        out += ["", "```mermaid", cert.coupling.mermaid.rstrip("\n"), "```"]
    else:
        out += ["", md_text(cert.coupling.note)]
    out += ["", "### Event Map"]
    if cert.event_map.events:
        out += ["", "```mermaid", cert.event_map.mermaid.rstrip("\n"), "```"]
    if cert.event_map.note:
        out += ["", md_text(cert.event_map.note)]
    decision = cert.decision
    out += [
        "",
        "## DECISION/OUTCOME",
        f"**Status**: {decision.status}",
        f"**Rationale**: {md_text(decision.rationale)}",
        "",
    ]
    if decision.conditions:
        out.append("**Conditions**:")
        out += [f"{n}. {md_text(c)}" for n, c in enumerate(decision.conditions[:MAX_CONDITIONS], 1)]
        if len(decision.conditions) > MAX_CONDITIONS:
            out.append(
                f"\n{plural(len(decision.conditions) - MAX_CONDITIONS, 'further condition')}, "
                f"one per remaining root cause, are in {code(json_name)}."
            )
    else:
        out.append(
            "**Conditions**: None" if decision.status == APPROVED else "**Conditions**: None listed"
        )
    out += ["", "## EVIDENCE"]
    for number, group in enumerate(cert.critical, 1):
        related = [
            f"{code(f'{p}:{n}')}"
            for item in cert.evidence
            if item.group == group.id
            for p, n, _ in item.related
        ]
        line = f"- Issue {number} ({group.id}): " + ", ".join(
            code(loc) for loc in group.locations[:6]
        )
        if group.count > 6:
            line += f" and {group.count - 6} more"
        if related:
            line += "; related: " + ", ".join(sorted(set(related))[:3])
        out.append(line)
    for point in cert.points:
        out.append(f"- {md_text(point.title)}: {plural(point.sites, 'site')} (listed in the JSON)")
    for metric in cert.metrics:
        sites = (
            f"{metric.checked} {md_text(metric.model)} checked, {metric.defective} with a finding"
            if metric.checked is not None
            else "no site model"
        )
        out.append(
            f"- {md_text(metric.title)} ({', '.join(metric.codes) or 'no rules'}): {sites}; "
            f"{severity_counts(metric.errors, metric.warnings, metric.notes)}"
        )
    for problem in cert.problems[:MAX_CONDITIONS]:
        out.append(
            f"- Problem: {code(problem.location)} {md_text(problem.kind)}: {md_text(problem.message)}"
        )
    out.append(
        f"- Complete record in {code(json_name)}: {plural(len(cert.evidence), 'finding')} in "
        f"{plural(len(cert.groups), 'root cause')}, every integration site, and the SHA-256 "
        f"of {plural(len(cert.scope.file_hashes), 'project file')}"
    )
    checked, defective, overall = cert.overall
    out += [
        "",
        "## INTEGRATION ASSESSMENT METRICS",
        f"- **Overall Integration Quality**: {_percent(overall)} "
        f"({checked - defective} of {checked} checked sites without a finding)",
    ]
    for metric in cert.metrics:
        if metric.checked is None:
            out.append(
                f"- **{md_text(metric.title)}**: n/a (no site model; "
                f"{severity_counts(metric.errors, metric.warnings, metric.notes)})"
            )
        else:
            out.append(
                f"- **{md_text(metric.title)}**: {_percent(metric.score)} "
                f"({metric.checked - metric.defective} of {metric.checked} "
                f"{md_text(metric.model)} without a finding)"
            )
    out += [
        "",
        "Score: the share of checked sites without an in-scope finding, rounded half up; "
        "n/a when nothing was checked (docs/audit.md).",
        "",
        "## RECOMMENDED NEXT ACTIONS",
    ]
    out += [
        f"{n}. **Priority {n}**: {md_text(action)}"
        for n, action in enumerate(cert.actions[:MAX_CONDITIONS], 1)
    ]
    if len(cert.actions) > MAX_CONDITIONS:
        out.append(
            f"\n{plural(len(cert.actions) - MAX_CONDITIONS, 'further action')} in {code(json_name)}."
        )
    out += [
        "",
        "## SIGNATURE",
        f"Agent: {md_text(header.agent)}",
        f"Timestamp: {header.timestamp}",
    ]
    if certificate_hash is not None:
        out.append(f"{HASH_PREFIX}sha256:{certificate_hash}")
    return "\n".join(out) + "\n"


def _percent(value: int | None) -> str:
    return "n/a" if value is None else f"{value}%"


# -- writing --------------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    markdown_path: Path
    json_path: Path
    certificate_hash: str  # hex
    payload: dict[str, Any]


def file_stamp(timestamp: str) -> str:
    """``YYYYMMDD_HHMMSS`` from ``YYYY-MM-DD HH:MM:SS UTC``."""
    moment = _dt.datetime.strptime(timestamp, "%Y-%m-%d %H:%M:%S UTC")
    return moment.strftime("%Y%m%d_%H%M%S")


def signed_payload(cert: Certificate, json_name: str = "") -> tuple[dict[str, Any], str, str]:
    """``(payload, certificate hash, markdown)`` of ``cert``."""
    unsigned = render_markdown(cert, None, json_name)
    payload = cert.to_dict()
    payload["markdown_sha256"] = sha256_hex(unsigned.encode("utf-8"))
    digest = sha256_hex(canonical_json(payload))
    markdown = render_markdown(cert, digest, json_name)
    if markdown_digest(markdown) != payload["markdown_sha256"]:  # pragma: no cover
        raise CertificateError("internal error: the Markdown digest is not reproducible")
    return payload, digest, markdown


def write_certificate(cert: Certificate, out_dir: Path) -> Written:
    """Write ``<descriptor>_<component>_<stamp>.md`` and ``.json`` into ``out_dir``
    (atomically; a numeric suffix avoids overwriting an earlier certificate)."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CertificateError(
            f"{out_dir}: cannot create the certificate folder: {exc.strerror or exc}"
        ) from None
    stem = f"{cert.header.descriptor}_{cert.header.component}_{file_stamp(cert.header.timestamp)}"
    if not re.fullmatch(r"[a-z0-9_]+", stem):
        raise CertificateError(f"invalid certificate name {stem!r}")
    name, number = stem, 1
    while (out_dir / f"{name}.md").exists() or (out_dir / f"{name}.json").exists():
        number += 1
        name = f"{stem}_{number}"
    markdown_path = out_dir / f"{name}.md"
    json_path = out_dir / f"{name}.json"
    folder = out_dir.resolve()
    if markdown_path.resolve().parent != folder or json_path.resolve().parent != folder:
        raise CertificateError(f"{markdown_path}: would be written outside {out_dir}")
    payload, digest, markdown = signed_payload(cert, json_path.name)
    try:
        write_atomic(json_path, canonical_json(payload))
        write_atomic(markdown_path, markdown)
    except OSError as exc:
        raise CertificateError(
            f"{out_dir}: cannot write the certificate: {exc.strerror or exc}"
        ) from None
    return Written(markdown_path, json_path, digest, payload)


# -- verification ---------------------------------------------------------------------


@dataclass
class Verification:
    status: str  # valid | tampered | stale | unusable
    messages: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    certificate_hash: str = ""

    @property
    def exit_code(self) -> int:
        return {VALID: 0, TAMPERED: 1, STALE: 1}.get(self.status, 2)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "messages": list(self.messages),
            "changed": list(self.changed),
            "added": list(self.added),
            "removed": list(self.removed),
            "certificate_hash": self.certificate_hash,
        }


def discover_relpaths(paths: Sequence[Path], config: Any) -> list[str]:
    """The files a run over ``paths`` covers, as the engine discovers them."""
    from integ_lint.engine.pipeline import discover_files

    return [f.relpath for f in discover_files(list(paths), config)]


def _load(markdown_path: Path) -> tuple[str, dict[str, Any], Path]:
    try:
        markdown = markdown_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CertificateError(f"{markdown_path}: no such certificate") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CertificateError(f"{markdown_path}: cannot read the certificate: {exc}") from None
    json_path = markdown_path.with_suffix(".json")
    try:
        data = json.loads(json_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CertificateError(
            f"{json_path}: missing (the JSON written beside the certificate)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CertificateError(f"{json_path}: cannot read: {exc}") from None
    except json.JSONDecodeError as exc:
        raise CertificateError(f"{json_path}:{exc.lineno}: invalid JSON: {exc.msg}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CertificateError(f"{json_path}: not an integ-lint certificate JSON")
    if data.get("format_version") != FORMAT_VERSION:
        raise CertificateError(
            f"{json_path}: format_version {data.get('format_version')!r} is not supported "
            f"(expected {FORMAT_VERSION})"
        )
    if HASH_PREFIX not in markdown:
        raise CertificateError(f"{markdown_path}: no '{HASH_PREFIX.strip()}' line")
    return markdown, data, json_path


def verify_certificate(markdown_path: Path) -> Verification:
    """Tell whether the certificate is valid, tampered or stale (or unusable)."""
    markdown_path = Path(markdown_path)
    try:
        markdown, data, json_path = _load(markdown_path)
    except CertificateError as exc:
        return Verification(UNUSABLE, [str(exc)])
    try:
        recomputed = sha256_hex(canonical_json(data))
    except (TypeError, ValueError) as exc:
        return Verification(UNUSABLE, [f"{json_path}: cannot canonicalise: {exc}"])
    found = _HASH_VALUE.findall(markdown)
    if len(found) != 1 or len(_HASH_LINE.findall(markdown)) != 1:
        return Verification(
            TAMPERED,
            [f"{markdown_path}: expected exactly one 'Certificate Hash: sha256:<hex>' line"],
        )
    if markdown_digest(markdown) != data.get("markdown_sha256"):
        return Verification(
            TAMPERED,
            [f"{markdown_path}: the Markdown was edited after it was signed"],
        )
    if found[0] != recomputed:
        return Verification(
            TAMPERED,
            [
                f"{json_path}: its content hashes to sha256:{recomputed}, but the certificate "
                f"says sha256:{found[0]} (the JSON or the hash line was edited)"
            ],
        )
    return _check_files(markdown_path, data, recomputed)


def _recorded_root(markdown_path: Path, scope: dict[str, Any]) -> Path | None:
    relative = scope.get("root_from_certificate")
    if isinstance(relative, str):
        candidate = (markdown_path.parent / relative).resolve()
        if candidate.is_dir():
            return candidate
    absolute = scope.get("root")
    if isinstance(absolute, str) and Path(absolute).is_dir():
        return Path(absolute)
    return None


def _check_files(markdown_path: Path, data: dict[str, Any], digest: str) -> Verification:
    scope = data.get("scope")
    files = data.get("files")
    if not isinstance(scope, dict) or not isinstance(files, dict):
        return Verification(UNUSABLE, [f"{markdown_path}: the JSON has no scope or files"])
    for relpath, digest_value in files.items():
        parts = Path(relpath).parts
        unusable = Path(relpath).is_absolute() or ".." in parts or "\x00" in relpath
        if unusable or not isinstance(digest_value, str):
            return Verification(
                UNUSABLE, [f"{markdown_path}: the JSON lists an unusable file entry {relpath!r}"]
            )
    root = _recorded_root(markdown_path, scope)
    if root is None:
        return Verification(
            UNUSABLE, [f"{markdown_path}: the scanned root {scope.get('root')!r} was not found"]
        )
    result = Verification(VALID, certificate_hash=digest)
    current = hash_files(root, files)
    result.changed = sorted(p for p in files if p in current and current[p] != files[p])
    missing = {p for p in files if p not in current}

    config_rel = scope.get("config_file")
    config_path: Path | None = None
    if isinstance(config_rel, str):
        config_path = Path(config_rel) if Path(config_rel).is_absolute() else root / config_rel
        try:
            now = file_sha256(config_path)
        except (OSError, ValueError):  # ValueError: a NUL byte in an edited path
            now = None
        if now != scope.get("config_sha256"):
            result.changed.append(f"{config_rel} (configuration)")
            if now is None:
                config_path = None
    discovered = _rediscover(root, scope, config_path, result)
    if discovered is not None:
        result.added = sorted(set(discovered) - set(files))
        missing |= set(files) - set(discovered)
    result.removed = sorted(missing)
    if result.changed or result.added or result.removed:
        result.status = STALE
        result.messages.append(
            f"{markdown_path}: stale: {len(result.changed)} changed, {len(result.added)} added, "
            f"{len(result.removed)} removed since the certificate was written"
        )
    else:
        result.messages.append(
            f"{markdown_path}: valid: {len(files)} scanned files unchanged, certificate hash "
            f"sha256:{digest}"
        )
    return result


def _rediscover(
    root: Path, scope: dict[str, Any], config_path: Path | None, result: Verification
) -> list[str] | None:
    from integ_lint.config.loader import ConfigError, load_config
    from integ_lint.engine.discovery import DiscoveryError
    from integ_lint.engine.registry import load_registry

    paths = scope.get("paths")
    if not isinstance(paths, list):
        return None
    scan = [p if Path(p).is_absolute() else root / p for p in map(str, paths)]
    existing = [Path(p) for p in scan if Path(p).exists()]
    if not existing:
        return []
    try:
        config = load_config(existing, config_path, extra_sections=load_registry().sections)
        if config.root.resolve() != root.resolve():
            return None
        return discover_relpaths(existing, config)
    except (ConfigError, DiscoveryError, OSError) as exc:
        result.messages.append(f"cannot rediscover the scanned files: {exc}")
        return None
