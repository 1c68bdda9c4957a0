"""Stable finding fingerprints: they survive code moving, and change when the flagged
code changes."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace

from integ_lint.findings.model import Finding


def _base_key(finding: Finding) -> str:
    return "\x1f".join((finding.path, finding.code, finding.site.scope, finding.site.snippet))


def assign_fingerprints(findings: Iterable[Finding]) -> list[Finding]:
    """Fingerprint = sha256(path, code, enclosing scope, normalised snippet, occurrence
    index of that same key in file order). Line numbers are deliberately absent."""
    ordered = sorted(findings, key=Finding.sort_key)
    seen: Counter[str] = Counter()
    result = []
    for finding in ordered:
        key = _base_key(finding)
        occurrence = seen[key]
        seen[key] += 1
        digest = hashlib.sha256(f"{key}\x1f{occurrence}".encode("utf-8", "surrogateescape"))
        result.append(replace(finding, fingerprint=digest.hexdigest()[:32]))
    return result
