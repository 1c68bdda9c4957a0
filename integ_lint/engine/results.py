"""What the per-file phase produces for one file: :class:`FileResult`.

Its own module, apart from the traversal in ``analysis``, so that the steps that only
carry results (cache, shards, the pipeline on a warm run) do not import LibCST.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from integ_lint.findings.model import Finding, Notification
from integ_lint.findings.suppressions import SuppressionComment


@dataclass
class FileResult:
    relpath: str
    module: str
    is_package_init: bool
    digest: str = ""
    line_count: int = 0
    parsed: bool = False
    facts: dict[str, Any] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    suppressions: list[SuppressionComment] = field(default_factory=list)
