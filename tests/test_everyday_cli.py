"""Everyday CLI habits: --add-ignore, --exclude / --extend-exclude, and a path that
matches no Python file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from gate_rules import registered_gate_rules, write_project

from integ_lint.cli import main
from integ_lint.findings.add_ignore import add_ignores, lines_inside_strings


@pytest.fixture(autouse=True)
def gate_rules() -> Iterator[None]:
    with registered_gate_rules():
        yield


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["check", *args, "--no-cache"])


def test_add_ignore_writes_comments_that_silence_every_finding(tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "p",
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "defect()\nsevere()  # a note of the author's\nrepaired()\n",
        },
    )
    result = run(str(project), "--add-ignore", "--reason", "legacy, tracked in #12")
    assert result.exit_code == 0, result.output
    assert "Added 2 ignore comments in 1 file." in result.stderr
    text = (project / "pkg" / "a.py").read_text()
    assert text.splitlines() == [
        "defect()  # integ-lint: ignore[IL951] -- legacy, tracked in #12",
        "severe()  # a note of the author's  # integ-lint: ignore[IL952] -- legacy, tracked in #12",
        "repaired()",
    ]
    after = run(str(project), "--select", "IL001,IL951,IL952")
    assert after.exit_code == 0, after.output  # silenced, and no comment is unused
    # A second run changes nothing.
    again = run(str(project), "--add-ignore", "--reason", "x")
    assert "Added 0 ignore comments" in again.stderr
    assert (project / "pkg" / "a.py").read_text() == text


def test_add_ignore_merges_codes_into_an_existing_comment() -> None:
    text = "defect()  # integ-lint: ignore[IL952] -- old reason\n"
    new, count = add_ignores(text, {1: {"IL951"}}, "new reason")
    assert count == 1
    assert new == "defect()  # integ-lint: ignore[IL951, IL952] -- old reason\n"


def test_add_ignore_never_writes_inside_a_string(tmp_path: Path) -> None:
    source = 'x = """\ndefect()\n"""\n'
    assert lines_inside_strings(source) == {1, 2}
    project = write_project(
        tmp_path / "p", {"pkg/__init__.py": "", "pkg/a.py": "defect(\n'''\n'''\n)\n"}
    )
    result = run(str(project), "--add-ignore")
    assert result.exit_code == 0, result.output
    assert "defect(  # integ-lint: ignore[IL951]" in (project / "pkg" / "a.py").read_text()


def test_exclude_and_extend_exclude_on_the_command_line(tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "p",
        {"pkg/__init__.py": "", "pkg/a.py": "defect()\n", "pkg/legacy/b.py": "defect()\n"},
        config='exclude = ["pkg/a.py"]\n',
    )
    assert "pkg/a.py" not in run(str(project), "--format", "concise").stdout
    extended = run(str(project), "--format", "concise", "--extend-exclude", "pkg/legacy/**")
    assert extended.exit_code == 0, extended.output  # the config's exclude still applies
    replaced = run(str(project), "--format", "concise", "--exclude", "pkg/legacy/**")
    assert "pkg/a.py:1:1" in replaced.stdout and "legacy" not in replaced.stdout


def test_a_folder_without_python_files_says_so(tmp_path: Path) -> None:
    project = write_project(tmp_path / "p", {"pkg/__init__.py": "", "pkg/a.py": "x = 1\n"})
    (project / "docs").mkdir()
    (project / "docs" / "index.md").write_text("# docs\n")
    only_docs = run(str(project / "docs"))
    assert only_docs.exit_code == 2
    assert "nothing was scanned" in only_docs.stderr
    both = run(str(project / "pkg"), str(project / "docs"))
    assert both.exit_code == 0, both.output
    assert "docs: matched no Python file" in both.stderr
