"""The engine end to end with small probe rules: selection, contained failures,
fixes, fingerprints, suppressions, exit codes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from probe_rules import CrashingRule, ProbeCall, ProjectNames

from integ_lint import api
from integ_lint.cli import main
from integ_lint.engine import EXIT_FINDINGS, EXIT_INCOMPLETE, EXIT_OK
from integ_lint.engine.registry import load_registry


@pytest.fixture(autouse=True)
def probes() -> Iterator[None]:
    registry = load_registry()
    for rule in (ProbeCall, CrashingRule, ProjectNames):
        registry.add_rule(rule)
    yield
    for rule in (ProbeCall, CrashingRule, ProjectNames):
        registry.rules.pop(rule.code, None)


def project(tmp_path: Path, files: dict[str, str], config: str = "") -> Path:
    (tmp_path / "pyproject.toml").write_text(f"[tool.integ-lint]\n{config}\n")
    for relpath, text in files.items():
        path = tmp_path / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_rule_exception_is_contained(tmp_path: Path) -> None:
    root = project(tmp_path, {"a.py": "boom\nprobe()\n", "b.py": "probe()\n"})
    report = api.check([root], select=["IL901", "IL902"], jobs=1)
    assert [(f.path, f.line) for f in report.findings] == [("a.py", 2), ("b.py", 1)]
    (note,) = report.notifications
    assert note.kind.value == "internal-error" and note.path == "a.py" and note.rule == "IL902"
    assert "ValueError: rule bug" in note.message
    assert report.incomplete
    assert api.exit_code(report, "warning", fail_on_incomplete=True) == EXIT_INCOMPLETE
    # By default the run reports what it could not check and the findings decide.
    assert api.exit_code(report, "warning") == EXIT_FINDINGS


def test_project_rule_reads_facts(tmp_path: Path) -> None:
    root = project(tmp_path, {"a.py": "a = b\n", "b.py": "a = b + c + d\n"})
    report = api.check([root], select=["IL903"], jobs=1)
    assert [(f.path, f.message) for f in report.findings] == [("b.py", "4 names")]


def test_parse_error_does_not_stop_the_scan(tmp_path: Path) -> None:
    root = project(tmp_path, {"bad.py": "def f(:\n", "good.py": "probe()\n"})
    report = api.check([root], select=["IL901"], jobs=1)
    assert [f.path for f in report.findings] == ["good.py"]
    (note,) = report.notifications
    assert note.path == "bad.py" and note.kind.value == "parse-error" and note.line == 1


def test_fingerprint_survives_moves_and_changes_with_code(tmp_path: Path) -> None:
    root = project(tmp_path, {"a.py": "def f():\n    probe()\n"})
    before = api.check([root], select=["IL901"], jobs=1).findings[0]
    (root / "a.py").write_text("import os\n\n\ndef g():\n    pass\n\n\ndef f():\n    probe()\n")
    moved = api.check([root], select=["IL901"], jobs=1).findings[0]
    assert moved.line != before.line and moved.fingerprint == before.fingerprint
    (root / "a.py").write_text("def f():\n    probe(1)\n")
    changed = api.check([root], select=["IL901"], jobs=1).findings[0]
    assert changed.fingerprint != before.fingerprint


def test_repeated_findings_in_one_scope_get_distinct_fingerprints(tmp_path: Path) -> None:
    root = project(tmp_path, {"a.py": "def f():\n    probe()\n    probe()\n"})
    findings = api.check([root], select=["IL901"], jobs=1).findings
    assert len({f.fingerprint for f in findings}) == 2


def test_per_file_ignores_and_severity_override(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {"legacy/a.py": "probe()\n", "new/b.py": "probe()\n"},
        "per-file-ignores = { 'legacy/**' = ['IL9'] }\nseverity = { IL901 = 'error' }\n",
    )
    report = api.check([root], select=["IL901"], jobs=1)
    assert [(f.path, f.severity.value) for f in report.findings] == [("new/b.py", "error")]


def test_suppressions_and_unused(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "a.py": (
                "probe()  # integ-lint: ignore[IL901] -- known\n"
                "# integ-lint: ignore[IL901]\n"
                "probe()\n"
                "x = 1  # integ-lint: ignore[IL901]\n"
                "y = 2  # integ-lint: ignore[IL777]\n"
            )
        },
    )
    report = api.check([root], select=["IL901", "IL001"], jobs=1)
    assert [(f.code, f.line) for f in report.findings] == [("IL001", 4), ("IL001", 5)]
    assert "IL777 (unknown code)" in report.findings[1].message
    assert [(f.line, f.suppression and f.suppression.justification) for f in report.suppressed] == [
        (1, "known"),
        (3, ""),
    ]


def test_fix_and_diff(tmp_path: Path) -> None:
    root = project(tmp_path, {"a.py": "x = probe()  # keep me\nprobe( )\n"})
    runner = CliRunner()
    diff = runner.invoke(main, ["check", str(root), "--select", "IL901", "--diff"])
    assert diff.exit_code == EXIT_FINDINGS
    assert "+x = checked()  # keep me" in diff.output
    assert (root / "a.py").read_text() == "x = probe()  # keep me\nprobe( )\n"
    fixed = runner.invoke(main, ["check", str(root), "--select", "IL901", "--fix"])
    assert fixed.exit_code == EXIT_OK, fixed.output
    assert (root / "a.py").read_text() == "x = checked()  # keep me\nchecked( )\n"
    again = runner.invoke(main, ["check", str(root), "--select", "IL901", "--diff"])
    assert again.exit_code == EXIT_OK and again.output == ""


def test_exit_codes_and_fail_on(tmp_path: Path) -> None:
    root = project(tmp_path, {"a.py": "probe()\n"})
    runner = CliRunner()
    args = ["check", str(root), "--select", "IL901"]
    assert runner.invoke(main, args).exit_code == EXIT_FINDINGS
    assert runner.invoke(main, [*args, "--fail-on", "error"]).exit_code == EXIT_OK
    assert runner.invoke(main, [*args, "--exit-zero"]).exit_code == EXIT_OK


def test_text_report_has_excerpt_and_no_colour_when_piped(tmp_path: Path) -> None:
    root = project(tmp_path, {"a.py": "value = probe()\n"})
    result = CliRunner().invoke(main, ["check", str(root), "--select", "IL901"])
    assert "a.py:1:9: IL901 warning probe() called [*]" in result.output
    assert "    1 | value = probe()" in result.output
    assert "^^^^^^^" in result.output
    assert "\x1b[" not in result.output
    assert "Found 1 finding (1 warning)" in result.output


def test_output_file_is_written_and_summary_printed(tmp_path: Path) -> None:
    root = project(tmp_path, {"a.py": "probe()\n"})
    out = tmp_path / "report.json"
    result = CliRunner().invoke(
        main, ["check", str(root), "--select", "IL901", "--format", "json", "-o", str(out)]
    )
    assert result.exit_code == EXIT_FINDINGS
    assert '"code": "IL901"' in out.read_text()
    assert "Report written to" in result.output


def test_explain_and_rules_commands() -> None:
    runner = CliRunner()
    listing = runner.invoke(main, ["rules", "--format", "json"])
    assert listing.exit_code == 0 and '"IL001"' in listing.output
    explained = runner.invoke(main, ["explain", "IL001"])
    assert explained.exit_code == 0 and "unused-suppression" in explained.output
    assert runner.invoke(main, ["explain", "IL000"]).exit_code == 2
