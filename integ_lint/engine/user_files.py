"""Where integ-lint keeps this user's files outside any project: the cache key that
authenticates every cache entry, and beside it what a run remembers of the installed
distributions and the rule manifest of a stale pack. It imports nothing of integ-lint,
so that the cache and the registry both read it without importing each other."""

from __future__ import annotations

import os
from pathlib import Path

KEY_FILE_ENV = "INTEG_LINT_CACHE_KEY_FILE"


def user_key_file() -> Path:
    """This user's cache key file (``INTEG_LINT_CACHE_KEY_FILE`` moves it, and with it
    every file this module places beside it)."""
    override = os.environ.get(KEY_FILE_ENV)
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "integ-lint" / "cache-key"
