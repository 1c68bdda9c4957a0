"""The progress bar: only on a terminal, only after about a second, fed by the engine."""

from __future__ import annotations

import io
from pathlib import Path

from gate_rules import registered_gate_rules, write_project

from integ_lint.cli.progress import DelayedProgress, progress_bar
from integ_lint.config import load_config
from integ_lint.engine import RunOptions, run


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_bar_when_stderr_is_not_a_terminal() -> None:
    with progress_bar(stream=io.StringIO()) as callback:
        assert callback is None
    with progress_bar(enabled=False, stream=Terminal()) as callback:
        assert callback is None
    with progress_bar(stream=Terminal()) as callback:
        assert isinstance(callback, DelayedProgress)


def test_bar_appears_only_after_the_delay() -> None:
    clock = FakeClock()
    stream = Terminal()
    bar = DelayedProgress(stream, delay=1.0, clock=clock)
    bar(1, 10)
    clock.now += 0.5
    bar(2, 10)
    assert not bar.shown and stream.getvalue() == ""
    clock.now += 1.0
    bar(3, 10)
    assert bar.shown
    bar(10, 10)
    bar.close()
    assert "Scanning" in stream.getvalue()


def test_quick_scans_never_show_a_bar() -> None:
    clock = FakeClock()
    bar = DelayedProgress(Terminal(), delay=1.0, clock=clock)
    for done in range(1, 6):
        bar(done, 5)
    clock.now += 5
    bar(5, 5)  # finished: too late to start a bar
    assert not bar.shown


def test_engine_reports_progress_for_every_file(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", {f"m{i}.py": "x = 1\n" for i in range(5)})
    config = load_config([root], root / "pyproject.toml")
    calls: list[tuple[int, int]] = []
    with registered_gate_rules():
        run(
            [root],
            config,
            RunOptions(jobs=1, use_cache=False, progress=lambda d, t: calls.append((d, t))),
        )
    assert calls[-1] == (5, 5)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert {total for _, total in calls} == {5}
