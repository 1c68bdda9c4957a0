"""Baselines: create, hide recorded findings, stale entries and prune, expiry, and
fingerprints that survive moved code but not changed code."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from gate_rules import registered_gate_rules, validate_sarif, write_project

from integ_lint.cli import main
from integ_lint.findings.baseline import (
    Baseline,
    BaselineEntry,
    BaselineError,
    dump_baseline,
    load_baseline,
    write_baseline,
)

LEGACY = """\
    def unrelated():
        return 1

    def load():
        defect()
        severe()
    """


@pytest.fixture(autouse=True)
def gate_rules() -> Iterator[None]:
    with registered_gate_rules():
        yield


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "proj", {"pkg/__init__.py": "", "pkg/legacy.py": LEGACY})


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, [*args, "--no-cache"] if args[0] == "check" else list(args))


def check_json(project: Path, *extra: str) -> tuple[int, dict]:
    result = cli("check", str(project), "--format", "json", *extra)
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.stdout)


def create(project: Path) -> Path:
    target = project / ".integ-lint-baseline.toml"
    result = cli("baseline", "create", str(project), "--output", str(target))
    assert result.exit_code == 0, result.output
    assert "Recorded 2 findings" in result.stderr
    return target


def test_create_records_fingerprints_with_human_context(project: Path) -> None:
    target = create(project)
    baseline = load_baseline(target)
    assert sorted(e.code for e in baseline.entries) == ["IL951", "IL952"]
    entry = next(e for e in baseline.entries if e.code == "IL951")
    assert entry.path == "pkg/legacy.py"
    assert entry.scope == "load"
    assert entry.message == "defect() called"
    assert len(entry.fingerprint) == 32
    text = target.read_text()
    assert text.count("[[finding]]") == 2 and "version = 1" in text


def test_baselined_findings_are_hidden_and_new_ones_reported(project: Path) -> None:
    target = create(project)
    code, data = check_json(project, "--baseline", str(target))
    assert code == 0
    assert data["findings"] == []
    assert data["summary"]["baselined"] == 2
    assert {s["suppression"]["kind"] for s in data["suppressed"]} == {"external"}

    legacy = project / "pkg" / "legacy.py"
    legacy.write_text(legacy.read_text() + "\ndef new():\n    severe()\n")
    code, data = check_json(project, "--baseline", str(target))
    assert code == 1
    assert [(f["code"], f["line"]) for f in data["findings"]] == [("IL952", 9)]


def test_baselined_findings_are_left_out_of_sarif_by_default(project: Path) -> None:
    # Code scanning is reported to open alerts for suppressed results it ingests.
    target = create(project)
    result = cli("check", str(project), "--format", "sarif", "--baseline", str(target))
    assert result.exit_code == 0, result.output
    document = validate_sarif(result.stdout)
    assert document["runs"][0]["results"] == []
    assert document["runs"][0]["properties"]["baselined"] == 2


def test_baselined_findings_stay_in_sarif_with_external_suppression_on_request(
    project: Path,
) -> None:
    target = create(project)
    result = cli(
        "check",
        str(project),
        "--format",
        "sarif",
        "--baseline",
        str(target),
        "--sarif-include-baselined",
    )
    assert result.exit_code == 0, result.output
    document = validate_sarif(result.stdout)
    results = document["runs"][0]["results"]
    assert len(results) == 2
    for item in results:
        assert item["suppressions"][0]["kind"] == "external"
        assert item["suppressions"][0]["justification"] == "recorded in the baseline"


def test_fingerprints_survive_moved_code_and_unrelated_renames(project: Path) -> None:
    target = create(project)
    legacy = project / "pkg" / "legacy.py"
    moved = "import os\n\n\nX = 1\n" + legacy.read_text().replace("unrelated", "renamed")
    legacy.write_text(moved)
    code, data = check_json(project, "--baseline", str(target))
    assert code == 0, data["findings"]
    assert data["summary"]["baselined"] == 2
    assert [n for n in data["notifications"] if n["kind"] == "stale-baseline"] == []


def test_fingerprint_changes_when_the_flagged_code_changes(project: Path) -> None:
    target = create(project)
    legacy = project / "pkg" / "legacy.py"
    legacy.write_text(legacy.read_text().replace("defect()", "defect(1)"))
    code, data = check_json(project, "--baseline", str(target))
    assert code == 1
    assert [f["code"] for f in data["findings"]] == ["IL951"]
    stale = [n for n in data["notifications"] if n["kind"] == "stale-baseline"]
    assert len(stale) == 1 and stale[0]["project_path"] == "pkg/legacy.py"
    assert "baseline prune" in stale[0]["message"]


def test_prune_removes_stale_entries_and_keeps_annotations(project: Path) -> None:
    target = create(project)
    baseline = load_baseline(target)
    annotated = [
        BaselineEntry(**{**e.__dict__, "owner": "team-a", "reason": "legacy loader"})
        for e in baseline.entries
    ]
    write_baseline(Baseline(annotated), target)
    legacy = project / "pkg" / "legacy.py"
    legacy.write_text(legacy.read_text().replace("    severe()\n", ""))
    result = cli("baseline", "prune", str(project), "--baseline", str(target))
    assert result.exit_code == 0, result.output
    assert "Removed 1 stale entry" in result.stderr
    (entry,) = load_baseline(target).entries
    assert (entry.code, entry.owner, entry.reason) == ("IL951", "team-a", "legacy loader")
    code, data = check_json(project, "--baseline", str(target))
    assert code == 0 and data["notifications"] == []


def test_expired_entries_fail_the_run_with_owner_and_reason(project: Path) -> None:
    target = create(project)
    baseline = load_baseline(target)
    entries = [
        BaselineEntry(
            **{
                **e.__dict__,
                "owner": "data-team",
                "reason": "removed with the v2 loader",
                "expires": dt.date(2020, 1, 31) if e.code == "IL951" else dt.date(2999, 1, 1),
            }
        )
        for e in baseline.entries
    ]
    write_baseline(Baseline(entries), target)
    assert "expires = 2020-01-31" in target.read_text()
    result = cli("check", str(project), "--baseline", str(target), "--fail-on", "error")
    assert result.exit_code == 1, result.output
    assert "expired on 2020-01-31" in result.stdout
    assert "data-team" in result.stdout and "removed with the v2 loader" in result.stdout
    assert "IL951" in result.stdout
    # --exit-zero still wins, as for findings.
    result = cli("check", str(project), "--baseline", str(target), "--exit-zero")
    assert result.exit_code == 0, result.output


def test_baseline_from_config(project: Path) -> None:
    create(project)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'baseline = ".integ-lint-baseline.toml"\n')
    code, data = check_json(project)
    assert code == 0 and data["summary"]["baselined"] == 2
    code, data = check_json(project, "--no-baseline")
    assert code == 1 and len(data["findings"]) == 2


def test_scoped_runs_do_not_call_other_files_stale(project: Path) -> None:
    (project / "pkg" / "other.py").write_text("x = 1\n")
    target = create(project)
    code, data = check_json(project / "pkg" / "other.py", "--baseline", str(target))
    assert code == 0
    assert data["notifications"] == []


def test_unreadable_or_malformed_baseline_is_a_one_line_error(project: Path) -> None:
    missing = project / "nope.toml"
    result = cli("check", str(project), "--baseline", str(missing))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "baseline file not found" in result.stderr
    assert str(missing) in result.stderr

    bad = project / "bad.toml"
    for text, expected in [
        ("version = [", "invalid TOML"),
        ("version = 9\n", "unsupported baseline version"),
        ('[[finding]]\npath = "a.py"\n', "finding 1: fingerprint: missing"),
        ('[[finding]]\nfingerprint = "x"\nexpires = "soon"\n', "finding 1: expires"),
        ('[[finding]]\nfingerprint = "x"\ncolour = "red"\n', "finding 1: colour: unknown key"),
        ('[[finding]]\nfingerprint = "x"\nowner = 3\n', "finding 1: owner: expected a string"),
    ]:
        bad.write_text(text)
        with pytest.raises(BaselineError, match=expected):
            load_baseline(bad)
        result = cli("check", str(project), "--baseline", str(bad))
        assert result.exit_code == 2, text
        assert result.stderr.startswith(f"integ-lint: error: {bad}: ")
        assert result.stderr.count("\n") == 1


def test_dump_round_trips_awkward_strings(tmp_path: Path) -> None:
    entry = BaselineEntry(
        fingerprint="abc",
        path='we"ird\\path.py',
        code="IL951",
        scope="A.b",
        message='quote " backslash \\ tab \t newline \n ctrl \x01 del \x7f ünï 🎉',
        owner="o",
        reason="r",
        expires=dt.date(2030, 5, 6),
    )
    target = tmp_path / "b.toml"
    write_baseline(Baseline([entry]), target)
    assert load_baseline(target).entries == [entry]
    assert dump_baseline(Baseline([entry])) == target.read_text()
