"""Pull-request reviews: ``integ-lint audit --since REV`` lists exactly the findings new
and fixed between two commits of a fixture repository (and the integration points the
changes touch), and ``--previous CERT`` compares with an earlier certificate."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from integ_lint import api
from integ_lint.audit.certificate import VALID, verify_certificate
from integ_lint.audit.model import CONDITIONALLY_APPROVED, REQUIRES_REMEDIATION
from integ_lint.cli import main
from integ_lint.engine import RunOptions

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

LOOPS = "import asyncio\n\n\ndef {name}():\n    asyncio.run(work())\n"
LOADS = "import torch\n\n\ndef {name}(path):\n    return torch.load(path)\n"
CLEAN = "def {name}():\n    return 1\n"
# IL201 (asyncio.run in library code, an error) is opt-in.
PYPROJECT = '[tool.integ-lint]\nextend-select = ["IL201", "IL405"]\n'


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def write(root: Path, files: dict[str, str]) -> None:
    for relpath, text in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def audit(root: Path, *args: str) -> tuple[int, str, dict[str, Any]]:
    result = CliRunner().invoke(
        main,
        [
            "audit",
            str(root),
            "--jobs",
            "1",
            "--no-cache",
            "--out-dir",
            str(root.parent / "certs"),
            *args,
        ],
        catch_exceptions=False,
    )
    path = Path(result.stdout.strip())
    assert path.is_file(), result.output
    return (
        result.exit_code,
        path.read_text(encoding="utf-8"),
        json.loads(path.with_suffix(".json").read_text(encoding="utf-8")),
    )


def findings(root: Path) -> dict[str, tuple[str, str]]:
    """fingerprint -> (code, path) of the findings under ``pkg/`` right now."""
    report = api.check([root], options=RunOptions(jobs=1, use_cache=False))
    return {f.fingerprint: (f.code, f.path) for f in report.findings if f.path.startswith("pkg/")}


@pytest.fixture
def repository(tmp_path: Path) -> tuple[Path, str, dict[str, tuple[str, str]]]:
    """Two commits: the second fixes one error, adds one warning, keeps one error, and
    changes a file outside the component."""
    root = tmp_path / "repo"
    root.mkdir()
    write(
        root,
        {
            "pyproject.toml": PYPROJECT,
            "pkg/__init__.py": "",
            "pkg/fixed.py": LOOPS.format(name="fixed"),
            "pkg/kept.py": LOOPS.format(name="kept"),
            "pkg/loader.py": CLEAN.format(name="load"),
            "other/__init__.py": "",
            "other/tool.py": CLEAN.format(name="tool"),
        },
    )
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    base = git(root, "rev-parse", "HEAD")
    before = findings(root)
    write(
        root,
        {
            "pkg/fixed.py": CLEAN.format(name="fixed"),
            "pkg/loader.py": LOADS.format(name="load"),
            "other/tool.py": LOOPS.format(name="tool"),
        },
    )
    git(root, "commit", "-q", "-am", "change")
    return root, base, before


def test_since_lists_exactly_the_new_and_fixed_findings(
    repository: tuple[Path, str, dict[str, tuple[str, str]]],
) -> None:
    root, base, before = repository
    after = findings(root)
    code, markdown, payload = audit(root, "--component", "pkg", "--since", base)
    delta = payload["delta"]
    assert delta["kind"] == "since" and delta["base"] == base
    expected_new = sorted(set(after) - set(before))
    expected_fixed = sorted(set(before) - set(after))
    assert sorted(delta["new"]) == expected_new
    assert sorted(f["fingerprint"] for f in delta["fixed"]) == expected_fixed
    assert delta["unchanged"] == len(set(after) & set(before)) == 1
    # Concretely: the torch.load warning is new, the asyncio.run in fixed.py is fixed; the
    # new asyncio.run outside the component is not part of the review.
    assert [after[fp] for fp in delta["new"]] == [("IL405", "pkg/loader.py")]
    assert [(f["code"], f["path"]) for f in delta["fixed"]] == [("IL201", "pkg/fixed.py")]
    assert delta["changed_files"] == ["other/tool.py", "pkg/fixed.py", "pkg/loader.py"]
    touched = {t["kind"]: t for t in delta["touched"]}
    assert touched["devices"]["paths"] == ["pkg/loader.py"]
    # The status rests on what the change introduced: a warning, although the
    # component still holds an older error.
    assert any(f["code"] == "IL201" for f in payload["findings"])
    assert payload["decision"]["status"] == CONDITIONALLY_APPROVED and code == 0
    assert f"### Changes Since {base}" in markdown
    assert "- **New**: 1 finding" in markdown and "- **Fixed**: 1 finding" in markdown
    assert "`pkg/loader.py:5` IL405" in markdown and "`pkg/fixed.py:5` IL201" in markdown


def test_since_without_changes_in_the_component(
    repository: tuple[Path, str, dict[str, tuple[str, str]]],
) -> None:
    root, _, _ = repository
    code, _, payload = audit(root, "--component", "pkg", "--since", "HEAD")
    assert payload["delta"]["new"] == [] and payload["delta"]["fixed"] == []
    assert payload["delta"]["unchanged"] == 2  # kept.py's IL201 and loader.py's IL405
    assert payload["delta"]["touched"] == []
    assert payload["decision"]["status"] == "APPROVED" and code == 0


def test_since_unknown_revision_is_a_one_line_error(
    repository: tuple[Path, str, dict[str, tuple[str, str]]],
) -> None:
    root, _, _ = repository
    result = CliRunner().invoke(
        main, ["audit", str(root), "--component", "pkg", "--since", "no-such-rev", "--no-cache"]
    )
    assert result.exit_code == 2
    assert "--since" in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("option", [["--since", "no-such-rev"], ["--previous", "missing.md"]])
def test_a_bad_comparison_fails_before_the_project_is_scanned(
    repository: tuple[Path, str, dict[str, tuple[str, str]]],
    monkeypatch: pytest.MonkeyPatch,
    option: list[str],
) -> None:
    root, _, _ = repository

    def no_scan(*args: object) -> None:
        raise AssertionError("the project was scanned before the comparison was checked")

    monkeypatch.setattr("integ_lint.cli.audit.run_scan", no_scan)
    result = CliRunner().invoke(
        main, ["audit", str(root), "--component", "pkg", *option, "--no-cache"]
    )
    assert result.exit_code == 2, result.output
    assert option[0] in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_previous_certificate_new_fixed_unchanged(tmp_path: Path) -> None:
    root = tmp_path / "project"
    write(
        root,
        {
            "pyproject.toml": PYPROJECT,
            "pkg/__init__.py": "",
            "pkg/a.py": LOOPS.format(name="a"),
            "pkg/b.py": LOOPS.format(name="b"),
        },
    )
    _, _, first = audit(root, "--component", "pkg")
    previous = sorted((tmp_path / "certs").glob("*.md"))[0]
    write(root, {"pkg/a.py": CLEAN.format(name="a"), "pkg/c.py": LOADS.format(name="c")})
    code, markdown, second = audit(root, "--component", "pkg", "--previous", str(previous))
    delta = second["delta"]
    first_prints = {f["fingerprint"] for f in first["findings"]}
    second_prints = {f["fingerprint"] for f in second["findings"]}
    assert sorted(delta["new"]) == sorted(second_prints - first_prints)
    assert sorted(f["fingerprint"] for f in delta["fixed"]) == sorted(first_prints - second_prints)
    assert delta["unchanged"] == len(first_prints & second_prints) == 1
    assert [f["path"] for f in delta["fixed"]] == ["pkg/a.py"]
    # --previous compares; the status still rests on every finding of the component.
    assert second["decision"]["status"] == REQUIRES_REMEDIATION and code == 1
    assert "### Compared With The Previous Certificate" in markdown
    # The earlier certificate is now stale, not tampered; a tampered one is refused.
    assert verify_certificate(previous).status != VALID
    previous.with_suffix(".json").write_text(
        previous.with_suffix(".json").read_text().replace('"IL201"', '"IL202"')
    )
    result = CliRunner().invoke(
        main, ["audit", str(root), "--component", "pkg", "--previous", str(previous), "--no-cache"]
    )
    assert result.exit_code == 2 and "tampered" in result.stderr


def test_previous_certificate_with_a_malformed_finding_is_a_one_line_error(tmp_path: Path) -> None:
    import hashlib

    from integ_lint.audit.certificate import canonical_json

    root = tmp_path / "project"
    write(
        root,
        {"pyproject.toml": PYPROJECT, "pkg/__init__.py": "", "pkg/a.py": CLEAN.format(name="a")},
    )
    audit(root, "--component", "pkg")
    previous = sorted((tmp_path / "certs").glob("*.md"))[0]
    data = json.loads(previous.with_suffix(".json").read_text())
    data["findings"] = [{"fingerprint": "f", "path": None, "line": 1}]
    payload = canonical_json(data)  # re-signed: consistent, so not "tampered"
    previous.with_suffix(".json").write_bytes(payload)
    head = previous.read_text().rsplit("Certificate Hash: ", 1)[0]
    previous.write_text(f"{head}Certificate Hash: sha256:{hashlib.sha256(payload).hexdigest()}\n")
    result = CliRunner().invoke(
        main, ["audit", str(root), "--component", "pkg", "--previous", str(previous), "--no-cache"]
    )
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().splitlines() == [
        f"integ-lint: error: --previous {previous}: finding 1 of its JSON is not a record "
        "with a fingerprint, path and line"
    ]
