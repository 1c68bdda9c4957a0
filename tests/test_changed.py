"""``--changed-since REV`` and ``--changed-lines``: git changed files and line ranges."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from gate_rules import git, git_init, registered_gate_rules, write_project

from integ_lint.cli import main
from integ_lint.findings.changes import Changes, ChangesError, _parse_diff, _unquote, changed_since

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@pytest.fixture(autouse=True)
def gate_rules() -> Iterator[None]:
    with registered_gate_rules():
        yield


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository whose project lives in ``proj/``; commit ``base`` has five files,
    then one more commit changes ``committed.py``; then the working tree has a staged,
    an unstaged, an untracked and a deleted file."""
    root = tmp_path / "repo"
    root.mkdir()
    git_init(root)
    files = {
        name: "defect()\nx = 1\ny = 2\n"
        for name in ("committed.py", "staged.py", "unstaged.py", "same.py", "gone.py")
    }
    project = write_project(root / "proj", {f"pkg/{n}": c for n, c in files.items()})
    (root / "outside.py").write_text("defect()\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    git(root, "tag", "base")
    pkg = project / "pkg"
    (pkg / "committed.py").write_text("defect()\nx = 1\ndefect()\n")
    git(root, "commit", "-q", "-am", "second")
    (pkg / "staged.py").write_text("defect()\nx = 10\ny = 2\n")
    git(root, "add", "proj/pkg/staged.py")
    (pkg / "unstaged.py").write_text("defect()\nx = 1\ny = 2\ndefect()\n")
    (pkg / "new file.py").write_text("defect()\n")
    (pkg / "gone.py").unlink()
    (root / "outside.py").write_text("defect()\ndefect()\n")
    return project


def test_changed_files_since_a_revision(repo: Path) -> None:
    changes = changed_since("base", repo)
    assert changes.paths == {
        "pkg/committed.py",
        "pkg/staged.py",
        "pkg/unstaged.py",
        "pkg/new file.py",
    }
    assert all(ranges is None for ranges in changes.files.values())
    assert changed_since("HEAD", repo).paths == changes.paths - {"pkg/committed.py"}


def test_changed_line_ranges(repo: Path) -> None:
    changes = changed_since("base", repo, with_lines=True)
    assert changes.files["pkg/committed.py"] == [(3, 3)]
    assert changes.files["pkg/staged.py"] == [(2, 2)]
    assert changes.files["pkg/unstaged.py"] == [(4, 4)]
    assert changes.files["pkg/new file.py"] is None  # untracked: every line
    assert changes.touches("pkg/committed.py", 2, 3)
    assert not changes.touches("pkg/committed.py", 1, 2)
    assert not changes.touches("pkg/same.py", 1, 1)


def test_merge_base_is_used_for_diverged_branches(repo: Path) -> None:
    root = repo.parent
    git(root, "stash", "-u", "-q")
    git(root, "checkout", "-q", "-b", "feature", "base")
    (repo / "pkg" / "same.py").write_text("defect()\nx = 1\ny = 2\ndefect()\n")
    git(root, "commit", "-q", "-am", "feature work")
    # main moved on (committed.py) after the fork point; only same.py is ours.
    assert changed_since("main", repo).paths == {"pkg/same.py"}


def test_bad_revision_and_not_a_repository(repo: Path, tmp_path: Path) -> None:
    with pytest.raises(ChangesError, match="unknown git revision 'no-such-rev'"):
        changed_since("no-such-rev", repo)
    with pytest.raises(ChangesError, match="invalid revision"):
        changed_since("--output=x", repo)
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    with pytest.raises(ChangesError):
        changed_since("HEAD", lonely)


def run_json(repo: Path, *args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(main, ["check", str(repo), "--format", "json", "--no-cache", *args])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def test_cli_changed_since_reports_only_changed_files(repo: Path) -> None:
    _, everything = run_json(repo)
    assert {f["project_path"] for f in everything["findings"]} >= {"pkg/same.py"}
    _, data = run_json(repo, "--changed-since", "base")
    assert sorted((f["project_path"], f["line"]) for f in data["findings"]) == [
        ("pkg/committed.py", 1),
        ("pkg/committed.py", 3),
        ("pkg/new file.py", 1),
        ("pkg/staged.py", 1),
        ("pkg/unstaged.py", 1),
        ("pkg/unstaged.py", 4),
    ]


def test_cli_changed_lines_narrows_to_changed_lines(repo: Path) -> None:
    _, data = run_json(repo, "--changed-since", "base", "--changed-lines")
    assert sorted((f["project_path"], f["line"]) for f in data["findings"]) == [
        ("pkg/committed.py", 3),
        ("pkg/new file.py", 1),
        ("pkg/unstaged.py", 4),
    ]
    # Without a revision, --changed-lines means "since HEAD".
    _, data = run_json(repo, "--changed-lines")
    assert sorted((f["project_path"], f["line"]) for f in data["findings"]) == [
        ("pkg/new file.py", 1),
        ("pkg/unstaged.py", 4),
    ]


def test_cli_bad_revision_is_a_one_line_error(repo: Path) -> None:
    result = CliRunner().invoke(main, ["check", str(repo), "--changed-since", "nope"])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "unknown git revision 'nope'" in result.stderr


def test_diff_parsing_handles_quoted_paths() -> None:
    diff = (
        'diff --git "a/sp\\303\\251cial.py" "b/sp\\303\\251cial.py"\n'
        '--- "a/sp\\303\\251cial.py"\n'
        '+++ "b/sp\\303\\251cial.py"\n'
        "@@ -1,0 +2,3 @@\n"
        "@@ -9 +12 @@\n"
        "@@ -20,2 +22,0 @@\n"
        "--- a/x.py\n"
        "+++ /dev/null\n"
        "@@ -1 +0,0 @@\n"
    )
    assert _parse_diff(diff) == {"spécial.py": [(2, 4), (12, 12)]}
    assert _unquote('tab\\there\\"') == 'tab\there"'
    assert Changes({"a.py": []}).touches("a.py", 1, 1) is False


def test_changed_lines_with_a_baseline_reports_no_false_stale_entries(repo: Path) -> None:
    target = repo / "baseline.toml"
    result = CliRunner().invoke(main, ["baseline", "create", str(repo), "--output", str(target)])
    assert result.exit_code == 0, result.output
    _, data = run_json(
        repo, "--changed-since", "base", "--changed-lines", "--baseline", str(target)
    )
    assert data["findings"] == []
    assert data["notifications"] == []
    assert data["summary"]["baselined"] == 6  # every baselined finding of the changed files
    (repo / "pkg" / "unstaged.py").write_text("defect()\nx = 1\ny = 2\ndefect()\nsevere()\n")
    _, data = run_json(
        repo, "--changed-since", "base", "--changed-lines", "--baseline", str(target)
    )
    assert [(f["project_path"], f["code"], f["line"]) for f in data["findings"]] == [
        ("pkg/unstaged.py", "IL952", 5)
    ]
    assert data["notifications"] == []
