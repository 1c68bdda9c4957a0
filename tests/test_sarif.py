"""The SARIF reporter: SARIF 2.1.0 that validates against the official schema and has
what GitHub code scanning reads."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from gate_rules import registered_gate_rules, validate_sarif, write_project

from integ_lint.cli import main
from integ_lint.config import load_config
from integ_lint.engine import RunOptions, run
from integ_lint.engine.registry import load_registry
from integ_lint.findings import Report
from integ_lint.findings.reporters import RenderOptions, get_renderer
from integ_lint.findings.reporters.sarif import (
    FINGERPRINT_KEY,
    automation_id,
    report_to_sarif,
    repository_prefix,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


@pytest.fixture(autouse=True)
def gate_rules() -> Iterator[None]:
    with registered_gate_rules():
        yield


def scan(root: Path, *paths: Path, options: RunOptions | None = None) -> Report:
    config = load_config(
        list(paths) or [root], root / "pyproject.toml", extra_sections=load_registry().sections
    )
    return run(list(paths) or [root], config, options or RunOptions(jobs=1, use_cache=False))


def sarif_of(report: Report, category: str = "integ-lint") -> dict:
    text = get_renderer("sarif")(report, RenderOptions(sarif_category=category))
    return validate_sarif(text)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(
        tmp_path / "proj",
        {
            "pkg/__init__.py": "",
            "pkg/a.py": """\
                def run():
                    defect()
                    severe()
                    defect()  # integ-lint: ignore[IL951] -- known, tracked in #12
                """,
            "pkg/broken.py": "def broken(:\n",
            "pkg/dir name/ünï.py": "defect()\n",
        },
    )


def test_document_shape_and_schema(project: Path) -> None:
    report = scan(project)
    document = sarif_of(report)
    assert document["version"] == "2.1.0"
    assert document["$schema"].endswith("sarif-2.1.0.json")
    (run_,) = document["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "integ-lint"
    assert driver["version"] and driver["semanticVersion"] == driver["version"]
    assert driver["informationUri"].startswith("https://")
    ids = [rule["id"] for rule in driver["rules"]]
    assert {"IL951", "IL952", "IL953", "IL001"} <= set(ids)
    rule = driver["rules"][ids.index("IL951")]
    assert rule["name"] == "defect-call"
    # Text fields are plain text (viewers show them verbatim); Markdown is in help.markdown.
    assert rule["shortDescription"]["text"].startswith("Reports calls to defect()")
    assert "What it does" in rule["fullDescription"]["text"]
    assert "**" not in rule["fullDescription"]["text"] + rule["help"]["text"]
    assert "**What it does**" in rule["help"]["markdown"]
    assert rule["help"]["text"] and rule["help"]["markdown"].startswith("# IL951 defect-call")
    assert rule["helpUri"].endswith("/docs/rules/gate-test.md#il951-defect-call")
    assert rule["defaultConfiguration"]["level"] == "warning"
    assert rule["properties"]["tags"] == ["gate-test", "testing"]
    assert driver["rules"][ids.index("IL952")]["defaultConfiguration"]["level"] == "error"
    assert driver["rules"][ids.index("IL001")]["helpUri"].endswith("#suppressing-a-finding")
    assert run_["automationDetails"]["id"] == "integ-lint/"
    assert run_["originalUriBaseIds"]["%SRCROOT%"]["uri"].startswith("file:///")
    assert run_["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/")


def test_results_locations_fingerprints_and_fixes(project: Path) -> None:
    report = scan(project)
    document = sarif_of(report)
    results = document["runs"][0]["results"]
    rules = document["runs"][0]["tool"]["driver"]["rules"]
    assert len(results) == len(report.findings) + len(report.suppressed)
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    by_fingerprint = {f.fingerprint: f for f in [*report.findings, *report.suppressed]}
    for result in results:
        finding = by_fingerprint[result["partialFingerprints"][FINGERPRINT_KEY]]
        assert result["ruleId"] == finding.code
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert location["region"]["startLine"] == finding.line
        assert location["region"]["startColumn"] == finding.col
    severe = next(r for r in results if r["ruleId"] == "IL952")
    assert severe["level"] == "error"
    assert severe["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "pkg/a.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 3, "startColumn": 5, "endLine": 3, "endColumn": 13},
    }
    assert severe["locations"][0]["logicalLocations"] == [{"fullyQualifiedName": "run"}]
    defect = next(r for r in results if r["ruleId"] == "IL951" and "suppressions" not in r)
    assert defect["relatedLocations"][0]["message"]["text"] == "file start"
    assert defect["properties"] == {"precision": "high"}
    (change,) = defect["fixes"][0]["artifactChanges"]
    assert change["replacements"][0]["insertedContent"]["text"] == "repaired"
    assert defect["fixes"][0]["description"]["text"] == "call repaired() instead"
    # Unusual paths are percent-encoded, with forward slashes.
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results}
    assert "pkg/dir%20name/%C3%BCn%C3%AF.py" in uris


def test_in_source_suppression_is_carried(project: Path) -> None:
    document = sarif_of(scan(project))
    suppressed = [r for r in document["runs"][0]["results"] if "suppressions" in r]
    assert len(suppressed) == 1
    assert suppressed[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 4
    assert suppressed[0]["suppressions"] == [
        {"kind": "inSource", "status": "accepted", "justification": "known, tracked in #12"}
    ]


def test_parse_errors_become_tool_execution_notifications(project: Path) -> None:
    document = sarif_of(scan(project))
    invocation = document["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    (note,) = invocation["toolExecutionNotifications"]
    assert note["descriptor"]["id"] == "parse-error"
    location = note["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "pkg/broken.py"
    assert location["region"]["startLine"] == 1
    assert "syntax error" in note["message"]["text"]


def test_clean_run_is_successful(tmp_path: Path) -> None:
    root = write_project(tmp_path / "clean", {"pkg/__init__.py": "", "pkg/ok.py": "x = 1\n"})
    document = sarif_of(scan(root))
    run_ = document["runs"][0]
    assert run_["results"] == []
    assert run_["invocations"][0] == {"executionSuccessful": True, "toolExecutionNotifications": []}


def test_category_is_configurable(tmp_path: Path) -> None:
    root = write_project(
        tmp_path / "cat", {"a.py": "defect()\n"}, config='sarif-category = "lint/backend"\n'
    )
    config = load_config([root], root / "pyproject.toml")
    assert config.general.sarif_category == "lint/backend"
    runner = CliRunner()
    result = runner.invoke(main, ["check", str(root), "--format", "sarif", "--no-cache"])
    assert result.exit_code == 1, result.output
    document = validate_sarif(result.stdout)
    assert document["runs"][0]["automationDetails"]["id"] == "lint/backend/"
    assert automation_id("") == "integ-lint/"
    assert automation_id("x/") == "x/"


def test_paths_are_relative_to_the_repository(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    root = write_project(repo / "services" / "api", {"app.py": "defect()\n"})
    assert repository_prefix(root) == "services/api/"
    assert repository_prefix(repo) == ""
    assert repository_prefix(tmp_path / "elsewhere") == ""
    document = sarif_of(scan(root))
    run_ = document["runs"][0]
    (result,) = run_["results"]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "services/api/app.py"
    assert run_["originalUriBaseIds"]["%SRCROOT%"]["uri"] == repo.resolve().as_uri() + "/"


def test_output_file_is_written_with_a_summary_line(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "report.sarif"
    out.parent.mkdir()
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "check",
            str(project),
            "--format",
            "sarif",
            "--output",
            str(out),
            "--no-cache",
            "--fail-on-incomplete",
        ],
    )
    assert result.exit_code == 3, result.output  # broken.py makes the run incomplete
    assert result.stdout == ""
    assert "Report written to" in result.stderr
    assert result.stderr.count("\n") == 1
    validate_sarif(out.read_text(encoding="utf-8"))
    assert [p.name for p in out.parent.iterdir()] == ["report.sarif"]  # no temp files left


def test_real_rules_on_a_fixture_validate() -> None:
    fixture = FIXTURES / "training_app"
    if not fixture.is_dir():
        pytest.skip("fixture training_app absent")
    config = load_config([fixture], extra_sections=load_registry().sections)
    report = run([fixture], config, RunOptions(jobs=1, use_cache=False))
    document = sarif_of(report)
    results = document["runs"][0]["results"]
    assert len(results) == len(report.findings) + len(report.suppressed)
    assert {r["ruleId"] for r in results} == {f.code for f in report.findings} | {
        f.code for f in report.suppressed
    }


def test_unknown_rule_codes_still_get_a_descriptor(project: Path) -> None:
    report = scan(project)
    report.rules = []
    document = validate_sarif(report_to_sarif(report))
    rules = document["runs"][0]["tool"]["driver"]["rules"]
    for result in document["runs"][0]["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    json.dumps(document)
