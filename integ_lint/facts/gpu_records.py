"""GPU facts as small picklable records: what the GPU collector
(:mod:`integ_lint.facts.gpu`) stores per file and the cache pickles.

They live apart from the collector so that the readers (the device owners of the
``graph`` view) do not import LibCST on a warm run.
"""

from __future__ import annotations

from dataclasses import dataclass

from integ_lint.findings.model import Site, Span

# The collector's KEY: the facts of a file are stored under it.
GPU_KEY = "gpu"


@dataclass(frozen=True)
class SyncFact:
    """One host-synchronising call (or implicit sync) in a file."""

    scope: str  # qualname of the enclosing function/class ("" at module level)
    pattern: str  # the allowlist pattern (integ_lint.config.gpu_allowlist.SYNC_PATTERNS)
    occurrence: int  # 1-based, among every call of this pattern in the scope
    site: Site
    per_iteration: str = ""  # LOOP, COMPREHENSION, or "" (straight-line code)
    skip: str = ""  # why it is not a sync (HOST_VALUE, ERROR_PATH, ...), else ""


@dataclass(frozen=True)
class CallFact:
    """A call to a function the project may define, and how often it runs."""

    scope: str  # the caller's qualname
    callee: str  # the callee's qualified name (``pkg.metrics.accuracy``, ``pkg.m.C.f``)
    span: Span
    per_iteration: str = ""  # LOOP, COMPREHENSION or ""


@dataclass(frozen=True)
class DeviceOwnerFact:
    """A class or function that decides the device and hands it to others."""

    qualname: str
    evidence: str
    site: Site


@dataclass(frozen=True)
class GpuFacts:
    uses_torch: bool
    syncs: tuple[SyncFact, ...] = ()
    calls: tuple[CallFact, ...] = ()
    functions: tuple[str, ...] = ()  # qualnames of the functions defined here
    owners: tuple[DeviceOwnerFact, ...] = ()
