"""The CI gate's command-line behaviour: exit codes, --fail-on, --exit-zero,
--statistics, and the README's CI section staying in step with the CLI."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from gate_rules import registered_gate_rules, write_project

from integ_lint.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture(autouse=True)
def gate_rules() -> Iterator[None]:
    with registered_gate_rules():
        yield


def check(project: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["check", str(project), "--no-cache", *args])


@pytest.mark.parametrize(
    ("source", "fail_on", "expected"),
    [
        ("helper_x()\n", "note", 1),  # IL953 demoted to note below
        ("helper_x()\n", "warning", 0),
        ("defect()\n", "warning", 1),
        ("defect()\n", "error", 0),
        ("severe()\n", "error", 1),
        ("x = 1\n", "note", 0),
    ],
)
def test_fail_on_thresholds(tmp_path: Path, source: str, fail_on: str, expected: int) -> None:
    project = write_project(
        tmp_path / "p", {"a.py": source}, config='severity = { IL953 = "note" }\n'
    )
    result = check(project, "--fail-on", fail_on)
    assert result.exit_code == expected, result.output


def test_fail_on_from_config_and_exit_zero(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {"a.py": "defect()\n"}, config='fail-on = "error"\n')
    assert check(project).exit_code == 0
    assert check(project, "--fail-on", "warning").exit_code == 1
    result = check(project, "--fail-on", "note", "--exit-zero")
    assert result.exit_code == 0 and "IL951" in result.stdout


def test_exit_codes_for_usage_errors_and_incomplete_runs(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {"a.py": "x = 1\n"})
    assert check(project, "--fail-on", "fatal").exit_code == 2
    assert check(project, "--select", "IL999").exit_code == 2
    (project / "b.py").write_text("def broken(:\n")
    assert check(project, "--fail-on-incomplete").exit_code == 3
    # With --fail-on-incomplete an incomplete run never passes, not even with --exit-zero.
    assert check(project, "--fail-on-incomplete", "--exit-zero").exit_code == 3
    # By default it is reported and the findings decide (the CI recipe's documented gate).
    default = check(project)
    assert default.exit_code == 0 and "run incomplete" in default.output
    assert check(project, "--no-fail-on-incomplete").exit_code == 0
    (project / "pyproject.toml").write_text(
        (project / "pyproject.toml")
        .read_text()
        .replace("[tool.integ-lint]", "[tool.integ-lint]\nfail-on-incomplete = true", 1)
    )
    assert check(project).exit_code == 3
    assert check(project, "--no-fail-on-incomplete").exit_code == 0


def test_statistics_counts_per_code(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {"a.py": "defect()\ndefect()\nsevere()\n"})
    result = check(project, "--statistics", "--no-source")
    assert result.exit_code == 1
    rows = [line.split() for line in result.stdout.splitlines() if re.match(r"^\s+\d+\s+IL", line)]
    assert ["2", "IL951", "defect-call", "[*]"] in rows
    assert ["1", "IL952", "severe-call"] in rows


def test_help_documents_exit_codes() -> None:
    for args in (["--help"], ["check", "--help"]):
        text = CliRunner().invoke(main, args).output
        flat = " ".join(text.split())
        assert "Exit codes: 0 no finding at or above --fail-on" in flat
        assert "2 usage or configuration error" in flat and "3 run incomplete" in flat
    flat = " ".join(CliRunner().invoke(main, ["check", "--help"]).output.split())
    for option in ("--exit-zero", "--fail-on", "--statistics", "--baseline", "--changed-since"):
        assert option in flat


def test_readme_ci_section_matches_the_cli() -> None:
    text = README.read_text(encoding="utf-8")
    assert "## CI and pre-commit" in text
    section = text.split("## CI and pre-commit", 1)[1]
    for needle in (
        "github/codeql-action/upload-sarif",
        "--format sarif",
        "--output integ-lint.sarif",
        "--exit-zero",
        "--fail-on",
        "--statistics",
        "--changed-since",
        "--baseline",
        "baseline create",
        "baseline prune",
        "id: integ-lint",
        "security-events: write",
    ):
        assert needle in section, needle
    # Every option the section shows exists on `check` or `baseline`.
    helps = " ".join(
        CliRunner().invoke(main, args).output
        for args in (["check", "--help"], ["baseline", "create", "--help"])
    )
    for option in set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", section)):
        if option in ("--show-diff-on-failure", "--all-files", "--files", "--freeze"):
            continue  # pre-commit's own options
        assert option in helps, option


def workflow_steps() -> list[dict]:
    import yaml

    section = README.read_text(encoding="utf-8").split("### GitHub Actions", 1)[1]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    workflow = yaml.safe_load(block)
    (job,) = workflow["jobs"].values()
    steps: list[dict] = job["steps"]
    return steps


def test_readme_workflow_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import shlex

    from gate_rules import git, git_init, validate_sarif

    text = README.read_text(encoding="utf-8")
    steps = workflow_steps()
    upload = next(s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload"))
    assert upload["uses"] == "github/codeql-action/upload-sarif@v4"
    # Pull requests from forks cannot write security events: the upload is skipped.
    assert "github.event.pull_request.head.repo.full_name == github.repository" in upload["if"]
    install = next(s["run"] for s in steps if str(s.get("run", "")).startswith("pip install"))
    assert "@COMMIT" in install  # pinned to a revision
    commands = [s["run"] for s in steps if str(s.get("run", "")).startswith("integ-lint ")]
    assert len(commands) == 2  # the SARIF upload and one gate that can fail

    project = write_project(tmp_path / "repo", {"pkg/__init__.py": "", "pkg/a.py": "defect()\n"})
    git_init(project)
    monkeypatch.chdir(project)
    # The README's "start green" commands, as written.
    setup = text.split("Start green", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    create_line = next(line for line in setup.splitlines() if line.startswith("integ-lint"))
    created = CliRunner().invoke(main, shlex.split(create_line)[1:])
    assert created.exit_code == 0, created.output
    assert [r.exit_code for r in (invoke_all(commands))] == [0, 0]  # green from day one
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "base")
    git(project, "update-ref", "refs/remotes/origin/main", "HEAD")
    (project / "pkg" / "b.py").write_text("defect()\n")
    monkeypatch.setenv("GITHUB_BASE_REF", "main")
    results = invoke_all(commands)
    assert [r.exit_code for r in results] == [0, 1]  # the SARIF step never fails
    assert "::warning file=pkg/b.py,line=1" in results[1].stdout, results[1].output
    assert "pkg/a.py" not in results[1].stdout  # baselined
    document = validate_sarif((project / upload["with"]["sarif_file"]).read_text())
    assert [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in document["runs"][0]["results"]
    ] == ["pkg/b.py"]
    # The documented alternative gate: changed lines only.
    variant = text.split("replace\nthe gate's command with `", 1)[1].split("`", 1)[0]
    argv = [os.path.expandvars(arg) for arg in shlex.split(variant.replace("\n", " "))][1:]
    changed = CliRunner().invoke(main, argv)
    assert changed.exit_code == 1, changed.output
    assert "pkg/b.py" in changed.stdout and "pkg/a.py" not in changed.stdout


def invoke_all(commands: list[str]) -> list[Result]:
    import os
    import shlex

    return [
        CliRunner().invoke(main, [os.path.expandvars(arg) for arg in shlex.split(c)][1:])
        for c in commands
    ]
