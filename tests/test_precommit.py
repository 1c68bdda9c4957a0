"""Pre-commit mode (explicit files inside a project) and the real pre-commit hook.

Per-file rules run only on the files pre-commit passes; project rules still see the
facts of the whole project and report only on the passed files. The slow test wires
``.pre-commit-hooks.yaml`` of this checkout into a fresh repository with real
pre-commit and sees a commit with a defect rejected and a clean one accepted.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from gate_rules import git, git_init, registered_gate_rules, write_project

from integ_lint.cli import main
from integ_lint.config import load_config
from integ_lint.engine import RunOptions, run

CHECKOUT = Path(__file__).resolve().parents[1]

DEFECT = """\
import asyncio


async def work():
    return 1


def evaluate():
    return asyncio.run(work())
"""

CLEAN = """\
async def work():
    return 1


async def evaluate():
    return await work()
"""


@pytest.fixture
def gate_rules() -> Iterator[None]:
    with registered_gate_rules():
        yield


@pytest.fixture
def project(tmp_path: Path, gate_rules: None) -> Path:
    return write_project(
        tmp_path / "proj",
        {
            "pkg/__init__.py": "",
            "pkg/helpers.py": "def helper_a():\n    defect()\n",
            "pkg/uses.py": "helper_a()\nhelper_b()\ndefect()\n",
            "pkg/other.py": "helper_c()\ndefect()\n",
        },
    )


def findings(project: Path, *paths: Path, **options: object) -> list[tuple[str, str, int]]:
    config = load_config(list(paths), project / "pyproject.toml")
    report = run(list(paths), config, RunOptions(jobs=1, use_cache=False, **options))
    return sorted((f.path, f.code, f.line) for f in report.findings)


def test_passed_files_see_the_whole_project(project: Path) -> None:
    uses = project / "pkg" / "uses.py"
    # helper_a is defined in helpers.py, which was not passed: no false positive;
    # helper_b is defined nowhere; nothing is reported on files not passed.
    assert findings(project, uses) == [
        ("pkg/uses.py", "IL951", 3),
        ("pkg/uses.py", "IL953", 2),
    ]
    # The same file without project context sees helper_a as undefined.
    assert ("pkg/uses.py", "IL953", 1) in findings(project, uses, project_context=False)


def test_several_passed_files(project: Path) -> None:
    got = findings(project, project / "pkg" / "uses.py", project / "pkg" / "other.py")
    assert got == [
        ("pkg/other.py", "IL951", 2),
        ("pkg/other.py", "IL953", 1),
        ("pkg/uses.py", "IL951", 3),
        ("pkg/uses.py", "IL953", 2),
    ]


def test_file_rules_run_only_on_passed_files(project: Path) -> None:
    calls: list[tuple[int, int]] = []
    config = load_config([project / "pkg" / "uses.py"], project / "pyproject.toml")
    report = run(
        [project / "pkg" / "uses.py"],
        config,
        RunOptions(jobs=1, use_cache=False, progress=lambda d, t: calls.append((d, t))),
    )
    assert {f.path for f in report.findings} == {"pkg/uses.py"}
    assert report.stats.files_scanned == 1  # reported on
    assert report.stats.files_context == 3  # read for project facts
    assert calls[-1] == (4, 4)


def test_syntax_errors_elsewhere_do_not_fail_the_passed_file(project: Path) -> None:
    (project / "pkg" / "broken.py").write_text("def broken(:\n")
    result = CliRunner().invoke(
        main, ["check", str(project / "pkg" / "other.py"), "--no-cache", "--format", "json"]
    )
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["notifications"] == []
    assert {f["project_path"] for f in data["findings"]} == {"pkg/other.py"}


def test_hook_manifest() -> None:
    text = (CHECKOUT / ".pre-commit-hooks.yaml").read_text()
    for expected in (
        "- id: integ-lint",
        "language: python",
        "types: [python]",
        "entry: integ-lint check",
    ):
        assert expected in text
    pre_commit = shutil.which("pre-commit", path=str(Path(sys.executable).parent))
    assert pre_commit, "pre-commit is not installed (pip install -e '.[test]')"
    result = subprocess.run(
        [pre_commit, "validate-manifest", str(CHECKOUT / ".pre-commit-hooks.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def snapshot_checkout(target: Path) -> str:
    """A git repository holding this checkout's package as it is now (committed or
    not), as ``pre-commit try-repo`` would make; returns its HEAD."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", ".integ-lint-cache", "*.egg-info")
    target.mkdir()
    for name in ("pyproject.toml", "README.md", ".pre-commit-hooks.yaml"):
        shutil.copy2(CHECKOUT / name, target / name)
    for name in ("integ_lint", "rules"):
        shutil.copytree(CHECKOUT / name, target / name, ignore=ignore)
    git_init(target)
    git(target, "add", "-A")
    git(target, "commit", "-q", "-m", "snapshot")
    return git(target, "rev-parse", "HEAD").strip()


def commit(repo: Path, env: dict[str, str], message: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            "git",
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.com",
            "commit",
            "-m",
            message,
        ],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.mark.slow
def test_real_pre_commit_rejects_a_defect_and_accepts_a_fix(tmp_path: Path) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    hook_repo = tmp_path / "hook-repo"
    rev = snapshot_checkout(hook_repo)

    # The README's pre-commit section, as written: baseline first, the config key,
    # then the hook pinned to a commit (the README's URL and COMMIT stand for this
    # checkout's snapshot and its HEAD).
    section = (CHECKOUT / "README.md").read_text(encoding="utf-8").split("### pre-commit", 1)[1]
    blocks = {}
    for fence in ("bash", "toml", "yaml"):
        blocks[fence] = section.split(f"```{fence}\n", 1)[1].split("```", 1)[0]
    assert "rev: COMMIT" in blocks["yaml"]
    repo = tmp_path / "project"
    repo.mkdir()
    git_init(repo)
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0"\n\n'
        + blocks["toml"].replace("[tool.integ-lint]\n", '[tool.integ-lint]\nselect = ["IL201"]\n')
    )
    (repo / ".gitignore").write_text(".integ-lint-cache/\n")
    (repo / ".pre-commit-config.yaml").write_text(
        blocks["yaml"]
        .replace("https://github.com/integ-lint/integ-lint", hook_repo.as_posix())
        .replace("COMMIT", rev)
    )
    (repo / "pkg").mkdir()
    (repo / "pkg" / "__init__.py").write_text("")
    (repo / "pkg" / "legacy.py").write_text(DEFECT)  # today's finding: baselined
    (create_command,) = [line for line in blocks["bash"].splitlines() if line.strip()]
    previous = Path.cwd()
    os.chdir(repo)
    try:
        created = CliRunner().invoke(main, create_command.split()[1:])
    finally:
        os.chdir(previous)
    assert created.exit_code == 0, created.output
    assert (repo / ".integ-lint-baseline.toml").exists()
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "PRE_COMMIT_COLOR": "never",
        "NO_COLOR": "1",
    }
    env.pop("VIRTUAL_ENV", None)
    installed = subprocess.run(
        [sys.executable, "-m", "pre_commit", "install"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    git(repo, "add", "-A")
    first = commit(repo, env, "setup")
    assert first.returncode == 0, first.stdout + first.stderr

    (repo / "pkg" / "lib.py").write_text(DEFECT)
    git(repo, "add", "pkg/lib.py")
    rejected = commit(repo, env, "add a loop in library code")
    output = rejected.stdout + rejected.stderr
    assert rejected.returncode != 0, output
    assert "integ-lint" in output and "Failed" in output, output
    assert "IL201" in output and "pkg/lib.py:9:12" in output, output
    assert git(repo, "log", "--format=%s").splitlines() == ["setup"]

    (repo / "pkg" / "lib.py").write_text(CLEAN)
    git(repo, "add", "pkg/lib.py")
    accepted = commit(repo, env, "async all the way")
    output = accepted.stdout + accepted.stderr
    assert accepted.returncode == 0, output
    assert "integ-lint" in output and "Passed" in output, output
    assert git(repo, "log", "--format=%s").splitlines() == ["async all the way", "setup"]
