"""analyze_file pauses the cyclic garbage collector for one file's analysis only (a
syntax tree has no cycles; traversing it cost about a tenth of a cold run)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import libcst as cst
import pytest

from integ_lint.config.loader import load_config
from integ_lint.engine.analysis import analyze_file
from integ_lint.engine.discovery import SourceFile
from integ_lint.facts.context import FileContext
from integ_lint.rule import FactCollector


class _CollectorState(FactCollector):
    KEY = "collector-state"

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self.seen: list[bool] = []

    def visit_Call(self, node: cst.Call) -> None:
        self.seen.append(gc.isenabled())

    def collect(self) -> list[bool]:
        return self.seen


@pytest.fixture
def collecting() -> Iterator[None]:
    was = gc.isenabled()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def _analyse(tmp_path: Path, text: str) -> list[bool]:
    path = tmp_path / "a.py"
    path.write_text(text, encoding="utf-8")
    config = load_config([tmp_path])
    source = SourceFile(path=path, relpath="a.py", module="a", is_package_init=False)
    result = analyze_file(source, config, [], [_CollectorState])
    return result.facts.get("collector-state", [])


def test_collector_paused_during_analysis_and_resumed_after(
    tmp_path: Path, collecting: None
) -> None:
    gc.enable()
    assert _analyse(tmp_path, "f()\ng()\n") == [False, False]
    assert gc.isenabled()


def test_resumed_after_a_file_that_does_not_parse(tmp_path: Path, collecting: None) -> None:
    gc.enable()
    assert _analyse(tmp_path, "def f(:\n") == []
    assert gc.isenabled()


def test_left_off_when_the_caller_had_turned_it_off(tmp_path: Path, collecting: None) -> None:
    gc.disable()
    assert _analyse(tmp_path, "f()\n") == [False]
    assert not gc.isenabled()
