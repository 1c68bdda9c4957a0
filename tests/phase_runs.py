"""Shared by the tests of the project phase's memo and of the engine around it: a
fixture tree copied without its cache, count the phase's
runs and the rules that ran, and run every rule (opt-in ones too) over a tree."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from integ_lint.config import load_config
from integ_lint.engine import RunOptions, run
from integ_lint.engine import pipeline as engine
from integ_lint.engine.registry import load_registry
from integ_lint.findings.model import Finding, Notification
from integ_lint.rule import ProjectRule

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def copy_fixture(tmp_path: Path, name: str) -> Path:
    """``fixtures/<name>`` copied under ``tmp_path``, without any cache folder."""
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target, ignore=shutil.ignore_patterns(".integ-lint-cache"))
    return target


def replace_once(old: str, new: str) -> Callable[[Path], None]:
    """An edit of a file: the first ``old`` in it becomes ``new`` (which must be there)."""

    def edit(path: Path) -> None:
        text = path.read_text()
        assert old in text, f"{old!r} not in {path}"
        path.write_text(text.replace(old, new, 1))

    return edit


def count_rule_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """A list that gets the code of each project rule that really runs, in order."""
    ran: list[str] = []
    real = engine._ProjectPhase._run_rule

    def counted(self: engine._ProjectPhase, rule: type[ProjectRule], *args: object) -> object:
        ran.append(rule.code)
        return real(self, rule, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(engine._ProjectPhase, "_run_rule", counted)
    return ran


def count_phases(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A list that gets one item each time the project phase really runs."""
    calls: list[int] = []
    real = engine._ProjectPhase._run

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(engine._ProjectPhase, "_run", counted)
    return calls


def every_rule_outcome(
    root: Path, *paths: str, use_cache: bool = True
) -> tuple[list[Finding], list[Notification]]:
    """Every rule's findings (opt-in ones too) and the notifications of one run."""
    registry = load_registry()
    config = load_config(
        [root], None, {"select": sorted(registry.codes)}, extra_sections=registry.sections
    )
    targets = [root / p for p in paths] or [root]
    report = run(targets, config, RunOptions(jobs=1, use_cache=use_cache, keep_project=False))
    return report.findings, report.notifications
