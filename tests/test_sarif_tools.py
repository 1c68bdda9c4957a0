"""A real SARIF client reads our output: ``sarif-tools`` (``sarif summary`` counts the
same results, ``sarif html`` renders them), and the document validates against the
official schema."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from gate_rules import registered_gate_rules, validate_sarif, write_project

from integ_lint.config import load_config
from integ_lint.engine import RunOptions, run
from integ_lint.engine.registry import load_registry
from integ_lint.findings.reporters import RenderOptions, get_renderer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def sarif_command() -> list[str]:
    script = Path(sys.executable).with_name("sarif")
    assert script.is_file(), "sarif-tools is not installed (pip install -e '.[test]')"
    return [str(script)]


def summary_counts(path: Path) -> dict[str, int]:
    result = subprocess.run(
        [*sarif_command(), "summary", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    counts = {
        level: int(number)
        for level, number in re.findall(r"^(error|warning|note): (\d+)$", result.stdout, re.M)
    }
    assert set(counts) == {"error", "warning", "note"}, result.stdout
    return counts


def write_sarif(project: Path, target: Path) -> dict:
    config = load_config([project], extra_sections=load_registry().sections)
    report = run([project], config, RunOptions(jobs=1, use_cache=False))
    text = get_renderer("sarif")(report, RenderOptions())
    target.write_text(text, encoding="utf-8")
    return validate_sarif(text)


def expected_counts(document: dict) -> dict[str, int]:
    """Counts per level of every result, suppressed ones included (sarif-tools counts
    them all; code scanning shows suppressed results as dismissed)."""
    counts = Counter(result["level"] for result in document["runs"][0]["results"])
    return {level: counts[level] for level in ("error", "warning", "note")}


def test_sarif_tools_reads_and_counts_gate_findings(tmp_path: Path) -> None:
    project = write_project(
        tmp_path / "proj",
        {
            "pkg/__init__.py": "",
            "pkg/a.py": (
                "defect()\nsevere()\nsevere()\nhelper_x()\nz = 1  # integ-lint: ignore\n"
                "defect()  # integ-lint: ignore[IL951] -- tracked\n"
            ),
        },
        config='severity = { IL953 = "note" }\n',
    )
    out = tmp_path / "report.sarif"
    with registered_gate_rules():
        document = write_sarif(project, out)
    expected = expected_counts(document)
    assert expected == {"error": 2, "warning": 3, "note": 1}
    assert sum("suppressions" in r for r in document["runs"][0]["results"]) == 1
    assert summary_counts(out) == expected
    html = tmp_path / "report.html"
    result = subprocess.run(
        [*sarif_command(), "html", str(out), "--output", str(html)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    page = html.read_text(encoding="utf-8")
    assert "IL952" in page and "severe() called" in page


def test_sarif_tools_reads_real_rules_on_a_fixture(tmp_path: Path) -> None:
    fixture = FIXTURES / "training_app"
    if not fixture.is_dir():
        pytest.skip("fixture training_app absent")
    out = tmp_path / "fixture.sarif"
    document = write_sarif(fixture, out)
    assert document["runs"][0]["results"], "the fixture has known defects"
    assert summary_counts(out) == expected_counts(document)
