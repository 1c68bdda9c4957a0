"""Ruff-style path globs: whether a relative path matches, whether a pattern is usable."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable


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
    trailing parts (so ``tests`` and ``tests/**`` both exclude a ``tests`` folder)."""
    parts = relpath.split("/")
    for pattern in patterns:
        pattern = pattern.rstrip("/")
        if pattern.startswith("/"):
            # Anchored at the project root ("/setup.py"), as in .gitignore.
            if fnmatch.fnmatchcase(relpath, pattern.lstrip("/")):
                return True
            continue
        tail = pattern[3:] if pattern.startswith("**/") else ""
        if tail and "/" not in tail:
            # "**/test_*.py" names a file or folder at any depth; "*" must not run
            # across folders ("pkg/test_data/__init__.py" is not a test file).
            candidates = parts[-1:] if tail.endswith((".py", ".pyi")) else parts
            if any(fnmatch.fnmatchcase(part, tail) for part in candidates):
                return True
            continue
        # fnmatch's "*" runs across folders: "pkg/**" matches everything below pkg/.
        if fnmatch.fnmatchcase(relpath, pattern):
            return True
        if "/" not in pattern and any(fnmatch.fnmatchcase(part, pattern) for part in parts):
            return True
        if pattern.startswith("**/") and matches_any(relpath, [pattern[3:]]):
            return True
    return False
