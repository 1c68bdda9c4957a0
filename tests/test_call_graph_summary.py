"""The call graph's summary kept with the project memo (model.call_graph.CallGraphSummary,
engine.phase_memo): an edit that adds or removes a top-level function no lookup asked
for and whose calls reach nothing keeps the event-loop rules' outcome (moved) without
running them; every other edit of the call facts runs them. Either way, the report is
that of a run without a cache, findings and notifications alike, in the same order."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path

import pytest
from phase_runs import every_rule_outcome as _outcome

from integ_lint.engine.cache import FileCache
from integ_lint.findings import Finding
from integ_lint.model.call_graph import CallGraph, Names

BASE = """\
import queue
import time

from pkg.missing import nowhere


class Base:
    async def handle(self):
        return sorted([])

    def kick(self):
        self.handle()


async def fetch():
    return sorted([])


def existing(values):
    return nowhere(sorted(set(values)))


def unused(values):
    return sorted(set(values))


def slow():
    time.sleep(1)


class Pump:
    def __init__(self):
        self.jobs = queue.Queue()

    def peek(self):
        self.jobs.get()

    def drain(self):
        return sorted([])

    async def tick(self):
        self.drain()
"""

HELPERS = """\
from pkg.base import existing as alias
from pkg.missing import nowhere


def tidy(values):
    return sorted(set(values))
"""

WORKER = """\
from pkg.base import Base
from pkg.helpers import alias, helper
from pkg.missing import nowhere


class Worker(Base):
    async def serve(self):
        self.handle()


class Quiet(Base):
    def other(self):
        return sorted([])


def run():
    helper()
    alias()
"""

# Its call is recorded (a name of the project, unlike sorted() or json.dumps()) and
# reaches nothing, as one made before.
INERT = "async def _edit(values):\n    return nowhere(values)\n\n\n"


pytestmark = pytest.mark.usefixtures("private_cache_key")


def _project(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    config = "[tool.integ-lint.event-loops]\nblocking-waits = true\n"  # queue.Queue.get
    (root / "pyproject.toml").write_text(f'[project]\nname = "pkg"\nversion = "0"\n{config}')
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "base.py").write_text(BASE)
    (root / "pkg" / "helpers.py").write_text(HELPERS)
    (root / "pkg" / "worker.py").write_text(WORKER)
    return root


def _replace(relpath: str, old: str, new: str) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        path = root / relpath
        text = path.read_text()
        assert old in text, f"{old!r} not in {relpath}"
        path.write_text(text.replace(old, new, 1))

    return edit


def _both(*edits: Callable[[Path], None]) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        for each in edits:
            each(root)

    return edit


def _deleted(relpath: str) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        (root / relpath).unlink()

    return edit


def _added(relpath: str, text: str) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        (root / relpath).write_text(text)

    return edit


def _il2(findings: list[Finding], path: str) -> list[tuple[str, int]]:
    return [
        (f.code, f.span.start_line) for f in findings if f.code.startswith("IL2") and f.path == path
    ]


# An inert function (no lookup asked for its id, its calls reach nothing).
_INERT_ADDED = _replace("pkg/base.py", "class Base:", INERT + "class Base:")

KEPT = [
    # (edit, a file whose IL2 findings move with it, or None)
    pytest.param(_INERT_ADDED, "pkg/base.py", id="inert-function-added"),
    pytest.param(
        _replace(
            "pkg/base.py", "        self.handle()", "        nowhere([])\n        self.handle()"
        ),
        "pkg/base.py",
        id="call-reaching-nothing-added",
    ),
    pytest.param(
        _replace("pkg/base.py", "\n\ndef unused(values):\n    return sorted(set(values))\n", ""),
        None,
        id="inert-function-removed",
    ),
]


@pytest.mark.parametrize(("edit", "moved"), KEPT)
def test_an_inert_edit_keeps_the_event_loop_rules_outcome(
    tmp_path: Path, rules_run: list[str], edit: Callable[[Path], None], moved: str | None
) -> None:
    root = _project(tmp_path / "proj")
    before, _ = _outcome(root)
    assert any(code.startswith("IL2") for code in rules_run)
    rules_run.clear()
    edit(root)
    after = _outcome(root)
    assert not any(code.startswith("IL2") for code in rules_run)  # the summary judged it
    assert after == _outcome(root, use_cache=False)
    if moved is not None:
        assert _il2(after[0], moved) and _il2(after[0], moved) != _il2(before, moved)


RUN = [
    # (edit, a file whose IL2 findings the edit changes)
    pytest.param(
        _added("pkg/helpers.py", HELPERS + "\n\nasync def helper():\n    return sorted([])\n"),
        "pkg/worker.py",
        id="function-added-that-an-unresolved-call-names",
    ),
    pytest.param(
        _both(
            _replace("pkg/helpers.py", "import existing as alias", "import fetch as alias"),
            _replace("pkg/helpers.py", "def tidy", INERT + "def tidy"),
        ),
        "pkg/worker.py",
        id="import-alias-changed",
    ),
    pytest.param(
        _both(
            _replace("pkg/worker.py", "class Worker(Base):", "class Worker:"),
            _replace("pkg/worker.py", "def run():", INERT + "def run():"),
        ),
        "pkg/worker.py",
        id="base-class-changed",
    ),
    pytest.param(
        _replace(
            "pkg/worker.py",
            "    def other(self):",
            "    def handle(self):\n        return sorted([])\n\n    def other(self):",
        ),
        "pkg/base.py",
        id="method-added-overriding-a-base-method",
    ),
    pytest.param(
        _replace(
            "pkg/base.py",
            "def slow():",
            "async def _slow_edit():\n    slow()\n\n\ndef slow():",
        ),
        "pkg/base.py",
        id="function-added-with-an-edge",
    ),
    pytest.param(
        _replace("pkg/base.py", "def existing(values):", "def existing(values):\n    fetch()"),
        "pkg/base.py",
        id="call-with-an-edge-added",
    ),
    pytest.param(
        _replace(
            "pkg/base.py",
            "        return sorted([])\n\n    async def tick",
            "        self.jobs.get()\n\n    async def tick",
        ),
        "pkg/base.py",
        id="blocking-call-added",  # its resolution reaches nothing, but it blocks
    ),
    pytest.param(
        _added("pkg/late.py", "from pkg.base import fetch\n\n\ndef go():\n    fetch()\n"),
        "pkg/late.py",
        id="file-added",
    ),
    pytest.param(_deleted("pkg/base.py"), "pkg/worker.py", id="file-deleted"),
]


@pytest.mark.parametrize(("edit", "reached"), RUN)
def test_an_edit_of_the_graph_runs_the_event_loop_rules(
    tmp_path: Path, rules_run: list[str], edit: Callable[[Path], None], reached: str
) -> None:
    root = _project(tmp_path / "proj")
    _INERT_ADDED(root)  # the summary must not let an inert function mask the edit
    before, _ = _outcome(root)
    rules_run.clear()
    edit(root)
    after = _outcome(root)
    assert any(code.startswith("IL2") for code in rules_run)
    assert after == _outcome(root, use_cache=False)
    assert _il2(after[0], reached) != _il2(before, reached)
    assert _outcome(root) == after  # and again, on the memo of the edited tree


def test_a_summary_carried_across_inert_edits_still_sees_the_next_one(
    tmp_path: Path, rules_run: list[str]
) -> None:
    """An inert edit keeps the former build's summary; a later edit that calls the
    function it added (dropping its coroutine) must still run the rules."""
    root = _project(tmp_path / "proj")
    _outcome(root)
    _INERT_ADDED(root)
    rules_run.clear()
    kept = _outcome(root)
    assert not any(code.startswith("IL2") for code in rules_run)
    assert kept == _outcome(root, use_cache=False)
    more = "async def _edit_again(values):\n    return nowhere(values)\n\n\n"
    _replace("pkg/helpers.py", "def tidy", more + "def tidy")(root)
    rules_run.clear()
    kept = _outcome(root)
    assert not any(code.startswith("IL2") for code in rules_run)
    assert kept == _outcome(root, use_cache=False)
    rules_run.clear()
    _replace("pkg/worker.py", "def run():", "def later():\n    _edit([])\n\n\ndef run():")(root)
    _replace("pkg/worker.py", "from pkg.base import Base", "from pkg.base import Base, _edit")(root)
    after = _outcome(root)
    assert any(code.startswith("IL2") for code in rules_run)
    assert after == _outcome(root, use_cache=False)
    dropped = (root / "pkg/worker.py").read_text().splitlines().index("    _edit([])") + 1
    assert ("IL206", dropped) in _il2(after[0], "pkg/worker.py")  # later() drops it


def test_names_answer_as_a_set_before_and_after_their_set_is_built() -> None:
    names = Names.of(["pkg.a", "pkg.ab", "", "pkg.b\0x"])
    assert names is not None
    names = pickle.loads(pickle.dumps(names))
    asked = ["pkg.a", "pkg.ab", "", "pkg.b\0x", "pkg", "a", "pkg.a\npkg.ab", "pkg.b"]
    expected = [True, True, True, True, False, False, False, False]
    for _ in range(3):  # searches of the string first, then the set
        assert [name in names for name in asked] == expected
    assert sorted(names) == ["", "pkg.a", "pkg.ab", "pkg.b\0x"]
    assert Names.of(["one\ntwo"]) is None
    empty = Names.of([])
    assert empty is not None and list(empty) == [] and "" not in empty


def test_a_summary_that_does_not_authenticate_is_not_used(
    tmp_path: Path, rules_run: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The summary's entry altered on disk: it is never unpickled, and the inert edit
    runs the rules (as a run without a summary would)."""
    stored: list[Path] = []
    real = FileCache.put_pickled

    def spied(self: FileCache, key: str, value: object) -> bool:
        if isinstance(value, tuple):  # (token, summary)
            stored.append(self.entry_path(key))
        return real(self, key, value)

    monkeypatch.setattr(FileCache, "put_pickled", spied)
    root = _project(tmp_path / "proj")
    _outcome(root)
    assert stored
    for path in stored:
        data = bytearray(path.read_bytes())
        data[-1] ^= 1
        path.write_bytes(bytes(data))
    _INERT_ADDED(root)
    rules_run.clear()
    after = _outcome(root)
    assert any(code.startswith("IL2") for code in rules_run)
    assert after == _outcome(root, use_cache=False)


def test_a_summary_that_cannot_be_made_leaves_the_run_as_it_was(
    tmp_path: Path, rules_run: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: CallGraph) -> None:
        raise RuntimeError("no summary")

    monkeypatch.setattr(CallGraph, "kept_summary", broken)
    root = _project(tmp_path / "proj")
    before = _outcome(root)
    assert before == _outcome(root, use_cache=False)
    _INERT_ADDED(root)
    rules_run.clear()
    after = _outcome(root)
    assert any(code.startswith("IL2") for code in rules_run)  # no summary: they run
    assert after == _outcome(root, use_cache=False)
