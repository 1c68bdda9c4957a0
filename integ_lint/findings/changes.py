"""What changed since a git revision: files and line ranges.

Git runs with every command a repository can configure disabled (fsmonitor, hooks,
filters, textconv, external diff, pager): see :func:`run_git`.

"Changed since REV" covers commits after REV (from the merge base of REV and HEAD, as
a pull request sees it), staged and unstaged edits, and untracked files (which count
as changed on every line). Deleted files are not changed files: there is nothing left
to report on. Git is run read-only; nothing here imports or runs analysed code.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from integ_lint.findings.model import Finding, Report

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_GIT_TIMEOUT = 120


class ChangesError(Exception):
    """Git is missing, the folder is not a repository, or the revision is unknown."""


@dataclass
class Changes:
    """Changed files (relative to the project root, forward slashes) and, for each,
    the changed line ranges (1-based, inclusive); ``None`` means every line."""

    files: dict[str, list[tuple[int, int]] | None] = field(default_factory=dict)

    @property
    def paths(self) -> set[str]:
        return set(self.files)

    def touches(self, path: str, start_line: int, end_line: int) -> bool:
        if path not in self.files:
            return False
        ranges = self.files[path]
        if ranges is None:
            return True
        return any(first <= end_line and start_line <= last for first, last in ranges)


# Settings that stop git from running commands a scanned repository configures in its
# .git/config (or hooks it ships): a repository is data, and must not run code in the
# linter. Read-only commands are all integ-lint runs, but even those consult
# core.fsmonitor, refresh the index (post-index-change hook), run clean filters and
# textconv drivers on work-tree files, and honour diff.external.
_SAFE_GIT_OPTIONS = (
    "--no-pager",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.pager=cat",
    "-c",
    "diff.external=",
    "-c",
    "core.untrackedCache=false",
    "-c",
    "core.quotePath=false",
    "-c",
    "credential.helper=",
    "-c",
    "core.askPass=",
)
_SAFE_GIT_ENV = {
    "GIT_OPTIONAL_LOCKS": "0",  # never write the index (no index-change hooks, no races)
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_PAGER": "cat",
    "GIT_EXTERNAL_DIFF": "",
}
_FILTER_KEY = re.compile(r"^filter\.(.+)\.[^.]+$")


@functools.lru_cache(maxsize=16)
def _configured_filters(cwd: Path) -> tuple[str, ...]:
    """Names of the content filters (``filter.<name>.clean`` etc.) git's config holds
    for ``cwd``. Reading the config runs nothing."""
    try:
        result = subprocess.run(
            ["git", *_SAFE_GIT_OPTIONS, "config", "--null", "--get-regexp", r"^filter\."],
            cwd=cwd,
            capture_output=True,
            timeout=_GIT_TIMEOUT,
            check=False,
            env=_git_env(),
        )
    except (OSError, subprocess.SubprocessError):
        return ()
    names = set()
    for item in result.stdout.decode("utf-8", "surrogateescape").split("\0"):
        match = _FILTER_KEY.match(item.split("\n", 1)[0])
        if match:
            names.add(match.group(1))
    return tuple(sorted(names))


def _git_env() -> dict[str, str]:
    return {**os.environ, **_SAFE_GIT_ENV}


def safe_git_command(args: Sequence[str], cwd: Path) -> list[str]:
    """``git`` + ``args`` with every configured command disabled (see
    ``_SAFE_GIT_OPTIONS``), including each content filter the config names."""
    command = ["git", *_SAFE_GIT_OPTIONS]
    for name in _configured_filters(cwd):
        for key in ("clean", "smudge", "process"):
            command += ["-c", f"filter.{name}.{key}="]
        command += ["-c", f"filter.{name}.required=false"]
    return [*command, *args]


def run_git(
    args: Sequence[str], cwd: Path, timeout: float = _GIT_TIMEOUT
) -> subprocess.CompletedProcess[bytes]:
    """Run git safely (:func:`safe_git_command`, no textconv or external diff for
    ``diff``), capturing its output. Raises OSError / SubprocessError like
    :func:`subprocess.run`."""
    args = list(args)
    if args and args[0] == "diff":
        args[1:1] = ["--no-ext-diff", "--no-textconv"]
    return subprocess.run(
        safe_git_command(args, cwd),
        cwd=cwd,
        capture_output=True,
        timeout=timeout,
        check=False,
        env=_git_env(),
    )


def _git(args: Sequence[str], cwd: Path) -> bytes:
    try:
        result = run_git(args, cwd)
    except FileNotFoundError:
        raise ChangesError("git is not installed (needed by --changed-since)") from None
    except (OSError, subprocess.SubprocessError) as exc:
        raise ChangesError(f"cannot run git: {exc}") from None
    if result.returncode != 0:
        message = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ChangesError(
            f"git {' '.join(args[:2])} failed: {message[-1] if message else 'unknown error'}"
        )
    return result.stdout


@dataclass(frozen=True)
class GitState:
    commit: str | None  # None: not a git repository, or no commit yet
    dirty: bool
    changed_files: int

    def to_dict(self) -> dict[str, Any]:
        return {"commit": self.commit, "dirty": self.dirty, "changed_files": self.changed_files}


def git_state(root: Path) -> GitState | None:
    """The commit checked out at ``root`` and whether the tree under ``root`` has
    uncommitted changes (untracked files included); None outside a repository."""

    def output(args: Sequence[str]) -> str | None:
        try:
            return _git(args, root).decode("utf-8", "replace")
        except ChangesError:
            return None

    inside = output(["rev-parse", "--is-inside-work-tree"])
    if inside is None or inside.strip() != "true":
        return None
    head = output(["rev-parse", "--verify", "--quiet", "HEAD"])
    status = output(["status", "--porcelain", "--untracked-files=all", "--", "."]) or ""
    changed = [line for line in status.splitlines() if line.strip()]
    return GitState(
        commit=head.strip() if head and head.strip() else None,
        dirty=bool(changed),
        changed_files=len(changed),
    )


def git_toplevel(directory: Path) -> Path:
    out = _git(["rev-parse", "--show-toplevel"], directory)
    return Path(out.decode("utf-8", "surrogateescape").strip()).resolve()


def resolve_base(revision: str, toplevel: Path) -> str:
    """The commit to diff against: the merge base of ``revision`` and HEAD when there
    is one, else ``revision`` itself. Unknown revisions are a :class:`ChangesError`."""
    if not revision.strip() or revision.startswith("-"):
        raise ChangesError(f"--changed-since: invalid revision {revision!r}")
    try:
        out = _git(["rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"], toplevel)
    except ChangesError:
        raise ChangesError(
            f"--changed-since: unknown git revision {revision!r} in {toplevel}"
        ) from None
    commit = out.decode().strip()
    try:
        base = _git(["merge-base", commit, "HEAD"], toplevel).decode().strip()
    except ChangesError:
        return commit
    return base or commit


def _to_root(path_from_top: str, toplevel: Path, root: Path) -> str | None:
    absolute = toplevel / path_from_top
    try:
        relative = os.path.relpath(absolute, root)
    except ValueError:
        return None
    if relative.startswith(".."):
        return None
    return relative.replace(os.sep, "/")


def _parse_diff(diff: str) -> dict[str, list[tuple[int, int]]]:
    """Added/modified line ranges per file (paths relative to the repository) from
    ``git diff -U0`` output."""
    ranges: dict[str, list[tuple[int, int]]] = {}
    current: str | None = None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            target = line[4:].rstrip("\t")
            if target.startswith('"') and target.endswith('"'):
                target = _unquote(target[1:-1])
            current = target[2:] if target.startswith("b/") else None
            if current is not None:
                ranges.setdefault(current, [])
            continue
        match = _HUNK.match(line)
        if match and current is not None:
            start = int(match.group(1))
            count = int(match.group(2)) if match.group(2) is not None else 1
            if count > 0:
                ranges[current].append((start, start + count - 1))
    return ranges


def _unquote(text: str) -> str:
    """Undo git's C-style quoting of unusual paths."""
    raw = bytearray()
    index = 0
    escapes = {"n": b"\n", "t": b"\t", '"': b'"', "\\": b"\\", "a": b"\a", "b": b"\b"}
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            following = text[index + 1]
            if following in escapes:
                raw += escapes[following]
                index += 2
                continue
            if following.isdigit():
                raw.append(int(text[index + 1 : index + 4], 8))
                index += 4
                continue
        raw += char.encode("utf-8", "surrogateescape")
        index += 1
    return raw.decode("utf-8", "surrogateescape")


def changed_since(revision: str, root: Path, with_lines: bool = False) -> Changes:
    """Files under ``root`` changed since ``revision`` (committed, staged, unstaged,
    untracked), with changed line ranges when ``with_lines``."""
    root = Path(root).resolve()
    toplevel = git_toplevel(root)
    base = resolve_base(revision, toplevel)
    changes = Changes()
    names = _git(
        ["diff", "--name-only", "-z", "--no-renames", "--diff-filter=d", base, "--"], toplevel
    )
    untracked = _git(["ls-files", "-z", "--others", "--exclude-standard"], toplevel)
    line_ranges: dict[str, list[tuple[int, int]]] = {}
    if with_lines:
        diff = _git(["diff", "-U0", "--no-color", "--no-renames", base, "--"], toplevel)
        line_ranges = _parse_diff(diff.decode("utf-8", "surrogateescape"))
    for name in names.decode("utf-8", "surrogateescape").split("\0"):
        if not name:
            continue
        relative = _to_root(name, toplevel, root)
        if relative is None:
            continue
        changes.files[relative] = line_ranges.get(name, []) if with_lines else None
    for name in untracked.decode("utf-8", "surrogateescape").split("\0"):
        if not name:
            continue
        relative = _to_root(name, toplevel, root)
        if relative is not None:
            changes.files[relative] = None
    return changes


class ChangedLinesFilter:
    """A post-filter keeping only findings whose span touches a changed line."""

    def __init__(self, changes: Changes) -> None:
        self.changes = changes

    def __call__(self, findings: list[Finding], report: Report) -> list[Finding]:
        return [
            f
            for f in findings
            if self.changes.touches(
                f.path, f.span.start_line, max(f.span.start_line, f.span.end_line)
            )
        ]
