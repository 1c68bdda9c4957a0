"""A run on some files of a project reports what a run on the whole project reports
on those files (pre-commit and CI agree), with and without the project phase's memo.

Project rules run on every file and the engine keeps the findings on the reported
paths (``integ_lint.engine.pipeline._ProjectPhase._index``), so a pre-commit run can
reuse the memo of a full run; this pins that the narrowing changes nothing else.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from phase_runs import count_phases, every_rule_outcome

from integ_lint.api import check, rules
from integ_lint.engine.pipeline import RunOptions
from integ_lint.findings.model import Finding

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PROJECTS = sorted(p.parent.name for p in FIXTURES.glob("*/pyproject.toml"))
EVERY_CODE = [rule.code for rule in rules()]


def _run(root: Path, paths: list[Path], use_cache: bool) -> list[Finding]:
    options = RunOptions(jobs=1, use_cache=use_cache, keep_project=False)
    report = check(paths, root / "pyproject.toml", options=options, select=EVERY_CODE)
    return report.findings


@pytest.mark.parametrize("use_cache", [False, True], ids=["no-cache", "memo"])
@pytest.mark.parametrize("name", PROJECTS)
def test_a_run_on_some_files_reports_what_the_full_run_reports_on_them(
    name: str, use_cache: bool, tmp_path: Path
) -> None:
    root = tmp_path / name
    shutil.copytree(FIXTURES / name, root)
    whole = _run(root, [root], use_cache)
    by_path: dict[str, list[Finding]] = {}
    for finding in whole:
        by_path.setdefault(finding.path, []).append(finding)
    sources = sorted(p.relative_to(root).as_posix() for p in root.rglob("*.py"))
    quiet = [path for path in sources if path not in by_path]
    # Every file with a finding (a project rule's, most of them) and two without.
    chosen = sorted(by_path)[:6] + quiet[:2]
    assert chosen, f"{name}: no Python file"
    for relpath in chosen:
        alone = _run(root, [root / relpath], use_cache)
        assert alone == by_path.get(relpath, []), relpath


def test_a_pre_commit_run_after_a_full_run_reuses_its_project_memo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "training_app"
    shutil.copytree(FIXTURES / "training_app", root)
    whole, _ = every_rule_outcome(root)
    phases = count_phases(monkeypatch)
    # A named file comes first in a pre-commit run's results; the phase still sees the
    # files in path order, so the full run's memo answers (nothing changed).
    named = sorted({finding.path for finding in whole})[-1]
    alone, _ = every_rule_outcome(root, named)
    assert phases == []
    assert alone == [finding for finding in whole if finding.path == named]
