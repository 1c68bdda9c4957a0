"""The audit on a real project: stable-baselines3 2.9.2 (24,600 lines), component
``stable_baselines3.common``.

The tree comes from the ecosystem cache of ``benchmarks/ecosystem.py`` (``$INTEG_LINT_
ECOSYSTEM_CACHE``, default ``~/.cache/integ-lint-ecosystem``; with
``INTEG_LINT_ECOSYSTEM_FETCH=1`` it is downloaded and checksum-verified on a miss) or
from the shared ``/work/eco/src`` folder of the development machine. Without either the
test is skipped, saying so. The tree is only read: the certificate goes to a temporary
folder and the cache is off.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import load_ecosystem
from test_audit import check_strengths, check_structure

from integ_lint.audit.certificate import STALE, VALID, verify_certificate
from integ_lint.audit.model import MAX_CRITICAL
from integ_lint.cli import main

PROJECT = "stable-baselines3"
KEY = "stable_baselines3-2.9.2"
COMPONENT = "stable_baselines3.common"
SHARED = Path("/work/eco/src") / KEY

pytestmark = pytest.mark.slow


def ecosystem_tree() -> Path | None:
    """The unpacked project from the ecosystem helper's cache (fetched on a miss only
    when INTEG_LINT_ECOSYSTEM_FETCH=1), else None."""
    try:
        module = load_ecosystem()
        project = module.find_project(module.load_projects(), PROJECT)
        cache = module.cache_from(None)
        tree = cache.tree(project)
        if tree.is_dir():
            return Path(tree)
        if os.environ.get("INTEG_LINT_ECOSYSTEM_FETCH") == "1":
            return Path(module.fetch(project, cache, log=lambda *_: None))
    except Exception:
        return None
    return None


def project_tree() -> Path | None:
    tree = ecosystem_tree()
    if tree is not None:
        return tree
    return SHARED if SHARED.is_dir() else None


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str, dict[str, Any]]:
    tree = project_tree()
    if tree is None:
        pytest.skip(
            f"{KEY} is not available: set INTEG_LINT_ECOSYSTEM_FETCH=1 (and optionally "
            "INTEG_LINT_ECOSYSTEM_CACHE) to fetch it with benchmarks/ecosystem.py"
        )
    out = tmp_path_factory.mktemp("certs")
    result = CliRunner().invoke(
        main,
        ["audit", str(tree), "--component", COMPONENT, "--out-dir", str(out), "--no-cache"],
        catch_exceptions=False,
    )
    assert result.exit_code in (0, 1), result.output
    path = Path(result.stdout.strip())
    return (
        tree,
        path,
        path.read_text(encoding="utf-8"),
        json.loads(path.with_suffix(".json").read_text(encoding="utf-8")),
    )


def test_scope_holds_only_the_components_files(
    certificate: tuple[Path, Path, str, dict[str, Any]],
) -> None:
    tree, _, _, payload = certificate
    files = payload["scope"]["component"]["files"]
    expected = sorted(
        p.relative_to(tree).as_posix()
        for p in (tree / "stable_baselines3" / "common").rglob("*.py")
    )
    assert files == expected
    assert payload["scope"]["project_files"] > len(files)  # the rest was context
    assert {f["path"] for f in payload["findings"]} <= set(files)


def test_groups_partition_the_findings_and_are_capped(
    certificate: tuple[Path, Path, str, dict[str, Any]],
) -> None:
    _, _, markdown, payload = certificate
    grouped = sorted(loc for g in payload["groups"] for loc in g["locations"])
    assert grouped == sorted(f"{f['path']}:{f['line']}" for f in payload["findings"])
    assert len(payload["critical"]) == min(MAX_CRITICAL, len(payload["groups"]))
    block = markdown.split("### Critical Issues Identified", 1)[1].split("\n### ", 1)[0]
    assert block.count("   - Fix:") == len(payload["critical"])


def test_strengths_match_the_facts(certificate: tuple[Path, Path, str, dict[str, Any]]) -> None:
    tree, _, markdown, payload = certificate
    assert payload["strengths"]
    check_strengths(tree, payload, markdown)


def test_status_follows_the_policy(certificate: tuple[Path, Path, str, dict[str, Any]]) -> None:
    _, _, _, payload = certificate
    groups = payload["groups"]
    blocking = [g for g in groups if g["severity"] == "error" and g["precision"] == "high"]
    status = payload["decision"]["status"]
    if len(blocking) > payload["policy"]["reject_above_errors"]:
        assert status == "REJECTED"
    elif blocking:
        assert status == "REQUIRES_REMEDIATION"
    elif payload["problems"]:
        assert status == "NEEDS_FURTHER_REVIEW"
    elif any(g["severity"] != "note" for g in groups):
        assert status == "CONDITIONALLY_APPROVED"
    else:
        assert status == "APPROVED"


def test_markdown_structure_and_size(certificate: tuple[Path, Path, str, dict[str, Any]]) -> None:
    _, _, markdown, payload = certificate
    check_structure(markdown)
    assert markdown.count("\n") <= 200
    assert len(payload["files"]) == payload["scope"]["project_files"]


def test_verify_valid_then_tampered(
    certificate: tuple[Path, Path, str, dict[str, Any]], tmp_path: Path
) -> None:
    _, path, markdown, _ = certificate
    assert verify_certificate(path).status == VALID
    copy = tmp_path / path.name
    copy.write_text(markdown.replace("**Status**:", "**Status**: APPROVED or"), encoding="utf-8")
    copy.with_suffix(".json").write_bytes(path.with_suffix(".json").read_bytes())
    assert verify_certificate(copy).status not in (VALID, STALE)
