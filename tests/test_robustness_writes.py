"""Writes are safe: outputs land only where asked, SARIF URIs never climb out of the
root, ``--fix`` writes atomically and leaves alone a file that changed since it was
read, and reports and baselines are written atomically (a failed write leaves the old
file intact and no temporary file behind)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from probe_rules import ProbeCall

import integ_lint.cli.check
import integ_lint.files.atomic
from integ_lint.cli import main
from integ_lint.engine.registry import load_registry

RUN = "import asyncio\nasyncio.run(main())\n"
# IL201 (asyncio.run in library code) is opt-in: selected so that RUN is a finding.
CONFIG = '[tool.integ-lint]\nextend-select = ["IL201"]\n'


def cli(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception,
        result.output,
    )
    return result


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".integ-lint-cache" not in p.parts
    }


def temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*.tmp") if ".integ-lint-cache" not in p.parts]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "pyproject.toml").write_text(CONFIG)
    (root / "a.py").write_text("probe()\n" + RUN)
    return root


@pytest.fixture
def probe() -> Iterator[None]:
    registry = load_registry()
    registry.add_rule(ProbeCall)
    yield
    registry.rules.pop(ProbeCall.code, None)


def fail_replace(monkeypatch: pytest.MonkeyPatch) -> None:
    def replace(src: Any, dst: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(integ_lint.files.atomic.os, "replace", replace)


def test_report_lands_exactly_where_asked(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "reports"
    out.mkdir()
    before = tree(project)
    result = cli("check", str(project), "--format", "sarif", "-o", str(out / "r.sarif"))
    assert result.exit_code == 1
    assert sorted(p.name for p in out.iterdir()) == ["r.sarif"]
    assert tree(project) == before  # nothing written into the scanned project
    json.loads((out / "r.sarif").read_text())


def test_report_into_a_missing_folder_is_one_line(project: Path, tmp_path: Path) -> None:
    target = tmp_path / "nope" / "r.json"
    result = cli("check", str(project), "--format", "json", "-o", str(target))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and str(target) in result.stderr


def test_a_failed_report_write_keeps_the_old_report(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "r.json"
    target.write_text("old report\n")
    fail_replace(monkeypatch)
    result = cli("check", str(project), "--format", "json", "-o", str(target))
    assert result.exit_code == 2
    assert "cannot write report" in result.stderr and result.stderr.count("\n") == 1
    assert target.read_text() == "old report\n"
    assert temp_files(tmp_path) == []


def test_a_failed_baseline_write_keeps_the_old_baseline(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    baseline = project / "baseline.toml"
    assert cli("baseline", "create", str(project), "-o", str(baseline)).exit_code == 0
    old = baseline.read_bytes()
    (project / "b.py").write_text(RUN)
    fail_replace(monkeypatch)
    result = cli("baseline", "create", str(project), "-o", str(baseline))
    assert result.exit_code == 2
    assert "cannot write baseline" in result.stderr and result.stderr.count("\n") == 1
    assert baseline.read_bytes() == old
    assert temp_files(project) == []


@pytest.mark.usefixtures("probe")
def test_fix_writes_atomically(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "pyproject.toml").write_text("[tool.integ-lint]\n")  # the probe alone
    original = (project / "a.py").read_bytes()
    fail_replace(monkeypatch)
    result = cli(
        "check", str(project), "--select", "IL901", "--ignore", "IL201", "--fix", "--no-cache"
    )
    assert result.exit_code == 1  # the finding is still there
    assert "a.py: not fixed: cannot write it: No space left on device" in result.stderr
    assert (project / "a.py").read_bytes() == original
    assert temp_files(project) == []
    monkeypatch.undo()
    load_registry().add_rule(ProbeCall)
    result = cli(
        "check", str(project), "--select", "IL901", "--ignore", "IL201", "--fix", "--no-cache"
    )
    assert result.exit_code == 0, result.output
    assert (project / "a.py").read_text().startswith("checked()\n")


@pytest.mark.usefixtures("probe")
def test_fix_skips_a_file_changed_since_it_was_read(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "b.py").write_text("probe()\n")
    real_fix_files = integ_lint.cli.check.fix_files

    def edit_then_fix(*args: Any, **kwargs: Any) -> Any:
        (project / "a.py").write_text("probe()  # edited meanwhile\n")
        return real_fix_files(*args, **kwargs)

    monkeypatch.setattr(integ_lint.cli.check, "fix_files", edit_then_fix)
    result = cli(
        "check", str(project), "--select", "IL901", "--ignore", "IL201", "--fix", "--no-cache"
    )
    assert "a.py: not fixed: the file changed during the run" in result.stderr
    assert (project / "a.py").read_text() == "probe()  # edited meanwhile\n"
    assert (project / "b.py").read_text() == "checked()\n"  # the other file is fixed


def test_sarif_uris_never_escape_the_root(project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "x.py"
    outside.parent.mkdir()
    outside.write_text(RUN)
    (project / "sub").mkdir()
    (project / "sub" / "y.py").write_text(RUN)
    result = cli(
        "check",
        str(project / "a.py"),
        str(outside),
        str(project / "sub" / ".." / "sub" / "y.py"),
        "--config",
        str(project / "pyproject.toml"),
        "--format",
        "sarif",
        "--no-cache",
    )
    assert result.exit_code == 1, result.output
    run = json.loads(result.stdout)["runs"][0]
    uris = []

    def collect(value: Any) -> None:
        if isinstance(value, dict):
            if "uri" in value:  # an artifactLocation
                uris.append(value)
            for item in value.values():
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    collect(run["results"])
    collect(run["invocations"])
    assert uris
    relative = [u["uri"] for u in uris if "uriBaseId" in u]
    absolute = [u["uri"] for u in uris if "uriBaseId" not in u]
    assert set(relative) == {"a.py", "sub/y.py"}
    assert all(".." not in uri.split("/") and not uri.startswith("/") for uri in relative)
    assert set(absolute) == {outside.resolve().as_uri()}


def test_audit_certificates_stay_in_the_out_dir(project: Path, tmp_path: Path) -> None:
    out_dir = tmp_path / "certs"
    before = tree(tmp_path)
    result = cli(
        "audit",
        str(project),
        "--component",
        "../../escape/me",
        "--descriptor",
        "../x",
        "--out-dir",
        str(out_dir),
        "--no-cache",
    )
    assert result.exit_code in (0, 1, 3), result.output
    after = tree(tmp_path)
    new = sorted(set(after) - set(before))
    assert new and all(name.startswith("certs/") and name.count("/") == 1 for name in new), new
    assert {k: v for k, v in after.items() if k in before} == before
    assert not (tmp_path.parent / "escape").exists()
    assert os.listdir(out_dir)
