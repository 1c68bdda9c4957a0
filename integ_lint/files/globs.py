"""Ruff-style path globs: whether a relative path matches, whether a pattern is usable."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable
from functools import lru_cache

# How a compiled pattern is tried: against the whole relative path, against its last
# part (the file name), or against each of its parts.
_WHOLE, _LAST, _ANY_PART = range(3)


def validate_glob(pattern: str) -> str | None:
    """Why ``pattern`` is not a usable glob, or None."""
    if not pattern.strip():
        return "empty pattern"
    depth = 0
    for char in pattern:
        if char == "[":
            depth += 1
        elif char == "]" and depth:
            depth -= 1
    if depth:
        return f"unbalanced '[' in {pattern!r}"
    return None


def matches_any(relpath: str, patterns: Iterable[str]) -> bool:
    """ruff-style matching: a pattern matches the whole relative path or any of its
    trailing parts (so ``tests`` and ``tests/**`` both exclude a ``tests`` folder).

    - ``/setup.py`` is anchored at the project root, as in .gitignore;
    - ``**/test_*.py`` names a file or folder at any depth, and its ``*`` never runs
      across folders (``pkg/test_data/__init__.py`` is not a test file);
    - otherwise fnmatch's ``*`` runs across folders (``pkg/**`` matches everything
      below ``pkg/``), a pattern without ``/`` also matches any one part, and
      ``**/pkg/x`` also matches ``pkg/x`` at the root."""
    return glob_matcher(tuple(patterns))(relpath)


@lru_cache(maxsize=512)
def glob_matcher(patterns: tuple[str, ...]) -> Callable[[str], bool]:
    """:func:`matches_any` for ``patterns``, compiled once: discovery asks it for
    every file and folder of a project."""
    by_kind: dict[int, list[str]] = {_WHOLE: [], _LAST: [], _ANY_PART: []}
    for pattern in patterns:
        for kind, glob in _checks(pattern):
            by_kind[kind].append(fnmatch.translate(glob))
    # One regular expression per kind: each translated glob is anchored at both ends
    # (fnmatch.translate ends with \Z; match() anchors the start), so an alternation
    # matches exactly when one of the globs does.
    whole, last, any_part = (
        re.compile("|".join(f"(?:{r})" for r in by_kind[kind])).match if by_kind[kind] else None
        for kind in (_WHOLE, _LAST, _ANY_PART)
    )
    if whole is None and last is None and any_part is None:
        return _never

    def matches(relpath: str) -> bool:
        if whole is not None and whole(relpath) is not None:
            return True
        if last is None and any_part is None:
            return False
        parts = relpath.split("/")
        if last is not None and last(parts[-1]) is not None:
            return True
        return any_part is not None and any(any_part(part) is not None for part in parts)

    return matches


def _never(relpath: str) -> bool:
    return False


def _checks(pattern: str) -> list[tuple[int, str]]:
    """The (kind, fnmatch glob) tests of one pattern; it matches when any of them does."""
    pattern = pattern.rstrip("/")
    if pattern.startswith("/"):
        return [(_WHOLE, pattern.lstrip("/"))]
    tail = pattern[3:] if pattern.startswith("**/") else ""
    if tail and "/" not in tail:
        return [(_LAST if tail.endswith((".py", ".pyi")) else _ANY_PART, tail)]
    checks = [(_WHOLE, pattern)]
    if "/" not in pattern:
        checks.append((_ANY_PART, pattern))
    if pattern.startswith("**/"):
        checks.extend(_checks(pattern[3:]))
    return checks
