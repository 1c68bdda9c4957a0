"""Output habits of ruff users: paths relative to where you stand, --statistics instead
of the listing (in every format), --quiet, --show-fixes, multi-line excerpts, plain-text
SARIF help."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from gate_rules import registered_gate_rules, write_project

from integ_lint.cli import main
from integ_lint.findings import Finding, Report, Severity, Site, Span
from integ_lint.findings.reporters import RenderOptions, display_path
from integ_lint.findings.reporters.sarif import plain_text
from integ_lint.findings.reporters.text import render


@pytest.fixture(autouse=True)
def gate_rules() -> Iterator[None]:
    with registered_gate_rules():
        yield


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["check", *args, "--no-cache"])


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "proj", {"pkg/__init__.py": "", "pkg/a.py": "defect()\n"})


def test_paths_are_relative_to_the_current_folder(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project / "pkg")
    result = run(".", "--format", "concise")
    assert result.stdout.splitlines()[0] == "a.py:1:1: IL951 defect() called"
    monkeypatch.chdir(project.parent)
    result = run("proj", "--format", "concise")
    assert result.stdout.splitlines()[0] == "proj/pkg/a.py:1:1: IL951 defect() called"


def test_json_paths_are_relative_to_the_current_folder_with_the_project_path_beside(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project.parent)
    [finding] = json.loads(run("proj", "--format", "json").stdout)["findings"]
    assert (finding["path"], finding["project_path"]) == ("proj/pkg/a.py", "pkg/a.py")
    monkeypatch.chdir(project / "pkg")
    data = json.loads(run(str(project), "--format", "json").stdout)
    assert data["format_version"] == 2
    [finding] = data["findings"]
    assert (finding["path"], finding["project_path"]) == ("a.py", "pkg/a.py")
    # The SARIF report stays relative to the repository root wherever the user stands.
    sarif = json.loads(run(str(project), "--format", "sarif").stdout)
    location = sarif["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "pkg/a.py"


def test_paths_outside_the_current_folder_are_absolute(tmp_path: Path) -> None:
    options = RenderOptions(display_base=str(tmp_path / "elsewhere"))
    shown = display_path(str(tmp_path / "proj"), "pkg/a.py", options)
    assert shown == os.path.join(str(tmp_path), "proj", "pkg", "a.py")
    assert display_path(str(tmp_path), "pkg/a.py", RenderOptions()) == "pkg/a.py"


@pytest.mark.parametrize("output_format", ["text", "concise", "sarif", "github"])
def test_statistics_replace_the_listing_in_every_format(project: Path, output_format: str) -> None:
    result = run(str(project), "--statistics", "--format", output_format, "--no-source")
    assert result.exit_code == 1
    assert "defect() called" not in result.stdout
    assert any(line.split()[:2] == ["1", "IL951"] for line in result.stdout.splitlines())


def test_statistics_as_json(project: Path) -> None:
    result = run(str(project), "--statistics", "--format", "json")
    assert json.loads(result.stdout) == [
        {"code": "IL951", "name": "defect-call", "count": 1, "fixable": 1}
    ]


@pytest.mark.parametrize("output_format", ["text", "concise"])
def test_quiet_prints_only_the_summary(project: Path, output_format: str) -> None:
    result = run(str(project), "--quiet", "--format", output_format)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [result.stdout.strip()]
    assert result.stdout.startswith("Found 1 finding")


def test_show_fixes_lists_the_fix(project: Path) -> None:
    result = run(str(project), "--show-fixes", "--no-source")
    assert "fix: call repaired() instead" in result.stdout
    assert "fix:" not in run(str(project), "--no-source").stdout


def test_a_multi_line_span_shows_the_line_the_message_is_about(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("model = Net(\n    width=3,\n).to('cuda')\n")
    finding = Finding(
        code="IL401",
        rule_name="x",
        severity=Severity.WARNING,
        message="moved",
        path="m.py",
        site=Site(Span(1, 9, 3, 13)),
    )
    text = render(Report(root=str(tmp_path), findings=[finding]), RenderOptions())
    assert "    3 | ).to('cuda')" in text
    assert "    1 | model = Net(" in text


def test_sarif_help_text_is_plain_text() -> None:
    markdown = "**What it does**: flags `asyncio.run`.\n```python\nasyncio.run(main())\n```\nSee [docs](https://x.test/a)."
    text = plain_text(markdown)
    assert "**" not in text and "`" not in text
    assert "What it does: flags asyncio.run." in text
    assert "asyncio.run(main())" in text
    assert "docs (https://x.test/a)" in text


def test_sarif_plain_text_keeps_dunder_names() -> None:
    text = plain_text(
        "Assignments in ``__init__`` and `__all__` count; **bold** stays; __main__ too."
    )
    assert text == "Assignments in __init__ and __all__ count; bold stays; __main__ too."
