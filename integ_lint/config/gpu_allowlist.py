"""The IL403 allowlist of ``[tool.integ-lint.gpu]``: parsing and validating entries.

An entry is a table ``{ key = "path:Scope.qualname:pattern[:n]", owner = "...",
reason = "...", expires = 2026-12-31 }``. The key names a host-synchronising call by
file, enclosing scope and pattern (and optionally the n-th such call in that scope),
never by line, so that it survives unrelated edits. Validation runs when the config
is loaded (:meth:`integ_lint.config.settings.GpuSettings.validate`), so a bad entry is one
clear line naming ``tool.integ-lint.gpu.allowlist[<i>].<key>``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any, Protocol

from integ_lint.config.errors import ConfigError
from integ_lint.files.globs import validate_glob

SYNC_PATTERNS = (
    "item",
    "tolist",
    "cpu",
    "numpy",
    "to-cpu",
    "synchronize",
    "torch.cuda.synchronize",
    # Implicit syncs: the truth of a device tensor (`if t.any():`, `while t < x`,
    # `bool(t)`), `float(t)`, `int(t)`.
    "bool",
    "float",
    "int",
)


class GpuTable(Protocol):
    """What the allowlist reads of :class:`~integ_lint.config.settings.GpuSettings` (a
    protocol, so that settings.py can call the checks here without an import cycle)."""

    managers: list[str]
    hot_paths: list[str]
    allowlist: list[dict[str, Any]]


def scope_label(scope: str) -> str:
    return scope or "<module>"


ALLOWLIST_KEYS = ("key", "owner", "reason", "expires")


@dataclass(frozen=True)
class AllowEntry:
    index: int
    path: str
    scope: str
    pattern: str
    occurrence: int | None
    owner: str
    reason: str
    expires: datetime.date | None

    def matches(self, path: str, scope: str, pattern: str, occurrence: int) -> bool:
        return (
            self.path == path
            and self.scope == scope
            and self.pattern == pattern
            and (self.occurrence is None or self.occurrence == occurrence)
        )

    def expired(self, today: datetime.date) -> bool:
        return self.expires is not None and self.expires < today


def allowlist_key(path: str, scope: str, pattern: str, occurrence: int) -> str:
    return f"{path}:{scope_label(scope)}:{pattern}:{occurrence}"


def parse_key(key: str) -> tuple[str, str, str, int | None] | str:
    """``(path, scope, pattern, n)`` or why ``key`` is malformed."""
    parts = key.split(":")
    occurrence: int | None = None
    if len(parts) == 4:
        if not parts[3].isdigit() or int(parts[3]) < 1:
            return f"occurrence {parts[3]!r} must be a positive integer"
        occurrence = int(parts[3])
        parts = parts[:3]
    if len(parts) != 3 or not all(parts):
        return f"expected 'path:Scope.qualname:pattern[:n]', got {key!r}"
    path, scope, pattern = parts
    if pattern not in SYNC_PATTERNS:
        return f"unknown pattern {pattern!r} (expected one of {', '.join(SYNC_PATTERNS)})"
    return path, scope, pattern, occurrence


def parse_date(value: Any) -> datetime.date | str:
    """A date from a TOML date or an ISO string; a string explains a bad value."""
    if isinstance(value, datetime.datetime):
        return "expected a date like 2026-12-31, got a date-time"
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    return f"expected an ISO date like 2026-12-31, got {value!r}"


def parse_allowlist(settings: GpuTable) -> tuple[list[AllowEntry], list[str]]:
    """Valid entries, and one-line problems naming ``allowlist[<i>].<key>``."""
    entries: list[AllowEntry] = []
    problems: list[str] = []
    prefix = "tool.integ-lint.gpu.allowlist"
    for index, raw in enumerate(settings.allowlist):
        where = f"{prefix}[{index}]"
        if not isinstance(raw, dict):
            problems.append(f"{where}: expected a table with key, owner, reason")
            continue
        unknown = [k for k in raw if k not in ALLOWLIST_KEYS]
        if unknown:
            problems.append(
                f"{where}.{unknown[0]}: unknown key (expected {', '.join(ALLOWLIST_KEYS)})"
            )
            continue
        bad = False
        for name in ("key", "owner", "reason"):
            value = raw.get(name)
            if not isinstance(value, str) or not value.strip():
                got = "missing" if value is None else f"got {value!r}"
                problems.append(f"{where}.{name}: expected a non-empty string ({got})")
                bad = True
                break
        if bad:
            continue
        parsed = parse_key(raw["key"])
        if isinstance(parsed, str):
            problems.append(f"{where}.key: {parsed}")
            continue
        expires: datetime.date | None = None
        if "expires" in raw:
            date = parse_date(raw["expires"])
            if isinstance(date, str):
                problems.append(f"{where}.expires: {date}")
                continue
            expires = date
        path, scope, pattern, occurrence = parsed
        entries.append(
            AllowEntry(
                index=index,
                path=path,
                scope=scope,
                pattern=pattern,
                occurrence=occurrence,
                owner=raw["owner"].strip(),
                reason=raw["reason"].strip(),
                expires=expires,
            )
        )
    return entries, problems


def validate_gpu_settings(settings: GpuTable, source: str) -> None:
    """Raise :class:`ConfigError` for the first bad ``[tool.integ-lint.gpu]`` value."""
    for key, patterns in (("managers", settings.managers), ("hot-paths", settings.hot_paths)):
        for index, pattern in enumerate(patterns):
            problem = validate_glob(pattern)
            if problem:
                raise ConfigError(
                    f"{source}: tool.integ-lint.gpu.{key}[{index}]: invalid glob: {problem}"
                )
    _, problems = parse_allowlist(settings)
    if problems:
        raise ConfigError(f"{source}: {problems[0]}")
