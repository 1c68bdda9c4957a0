"""An edit that adds edges to the call graph, judged by the graph's kept summary
(model.call_graph.CallGraphSummary, with the sinks the event-loop analysis vouches for):
a new synchronous function nothing calls, whose calls reach only functions whose loop
context holds *unknown* already (or async ones, not dropped) and that make no loop call,
keeps the event-loop rules' outcome without building the graph; every other edge runs
them. Either way the report is that of a run without a cache, findings and
notifications alike, in the same order."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from phase_runs import every_rule_outcome as _outcome
from test_call_graph_summary import RUN as GRAPH_EDITS
from test_call_graph_summary import _both, _il2, _replace

from integ_lint.model.call_graph import CallGraphSummary, Names

API = """\
import asyncio

from pkg.util import prepare, starter


async def serve():
    prepare()
    return 1


async def tick():
    starter()


def public(values):
    return prepare()
"""

UTIL = """\
import asyncio
import time


async def job():
    return 1


def prepare():
    return sorted([])


def slow():
    time.sleep(1)


def starter():
    asyncio.run(job())


def run_sync(coro):
    return asyncio.run(coro)


def only_running():
    return sorted([])


async def drive():
    only_running()
"""

pytestmark = pytest.mark.usefixtures("private_cache_key")


def _project(root: Path) -> Path:
    (root / "pkg").mkdir(parents=True)
    config = "[tool.integ-lint.event-loops]\nblocking-waits = true\n"
    (root / "pyproject.toml").write_text(f'[project]\nname = "pkg"\nversion = "0"\n{config}')
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "api.py").write_text(API)
    (root / "pkg" / "util.py").write_text(UTIL)
    return root


def _added_before(relpath: str, anchor: str, function: str) -> Callable[[Path], None]:
    return _replace(relpath, anchor, function + anchor)


# prepare() is called from async code and from public() (unknown): its context holds
# unknown; slow() is called by nothing (unknown); job() is async.
CALLS_PREPARE = "def _edit(values):\n    return prepare()\n\n\n"
CALLS_SLOW = "def _edit_slow(values):\n    return slow()\n\n\n"


KEPT = [
    pytest.param(
        _added_before("pkg/api.py", "async def serve", CALLS_PREPARE), id="edge-into-unknown"
    ),
    pytest.param(
        _added_before("pkg/util.py", "def prepare", CALLS_SLOW),
        id="edge-into-a-function-of-the-same-file",
    ),
    pytest.param(
        _added_before("pkg/util.py", "def slow", "def _edit():\n    return job()\n\n\n"),
        id="edge-into-async-not-dropped",
    ),
]


@pytest.mark.parametrize("edit", KEPT)
def test_an_edge_into_sinks_keeps_the_event_loop_rules_outcome(
    tmp_path: Path, rules_run: list[str], edit: Callable[[Path], None]
) -> None:
    root = _project(tmp_path / "proj")
    before, _ = _outcome(root)
    assert any(code.startswith("IL2") for code in rules_run)
    assert _il2(before, "pkg/api.py")  # the edits move these
    rules_run.clear()
    edit(root)
    after = _outcome(root)
    assert not any(code.startswith("IL2") for code in rules_run)  # the summary judged it
    assert after == _outcome(root, use_cache=False)
    # And the edit undone, judged from the memo of the edited tree.
    (root / "pkg" / "api.py").write_text(API)
    (root / "pkg" / "util.py").write_text(UTIL)
    rules_run.clear()
    undone = _outcome(root)
    assert not any(code.startswith("IL2") for code in rules_run)
    assert undone == _outcome(root, use_cache=False)


RUN = [
    # (edit, a file whose IL2 findings the edit changes, or None)
    pytest.param(
        _replace("pkg/util.py", "def prepare():\n", "def prepare():\n    slow()\n"),
        "pkg/api.py",
        id="existing-function-calls-a-blocking-one",  # serve() now blocks
    ),
    pytest.param(
        _added_before(
            "pkg/api.py", "async def serve", "def _edit(c):\n    return run_sync(c)\n\n\n"
        ),
        "pkg/api.py",
        id="edge-into-a-loop-helper",
    ),
    pytest.param(
        _both(
            _replace("pkg/api.py", "import prepare, starter", "import prepare, starter, run_sync"),
            _added_before(
                "pkg/api.py", "async def serve", "def _edit(c):\n    return run_sync(c)\n\n\n"
            ),
        ),
        "pkg/api.py",
        id="edge-into-a-loop-helper-imported",
    ),
    pytest.param(
        _added_before("pkg/api.py", "async def serve", "def _edit():\n    starter()\n\n\n"),
        None,
        id="edge-into-a-function-that-starts-a-loop",
    ),
    pytest.param(
        _added_before("pkg/util.py", "def slow", "def _edit():\n    return only_running()\n\n\n"),
        None,
        id="edge-into-a-function-only-running-code-calls",
    ),
    pytest.param(
        _added_before("pkg/util.py", "def slow", "def _edit():\n    job()\n\n\n"),
        "pkg/util.py",
        id="edge-dropping-a-coroutine",
    ),
    pytest.param(
        _added_before("pkg/util.py", "def slow", "async def _edit():\n    slow()\n\n\n"),
        "pkg/util.py",
        id="edge-from-an-async-function",
    ),
    pytest.param(
        _added_before("pkg/util.py", "def slow", "@decorated\ndef _edit():\n    prepare()\n\n\n"),
        None,
        id="edge-from-a-decorated-function",
    ),
    pytest.param(
        _added_before("pkg/util.py", "def slow", "def test_edit():\n    prepare()\n\n\n"),
        None,
        id="edge-from-a-test-function",
    ),
    pytest.param(
        _both(
            _added_before("pkg/util.py", "def slow", "def _edit():\n    prepare()\n\n\n"),
            _replace("pkg/api.py", "def public(values):", "def public(values):\n    _edit()"),
        ),
        None,
        id="edge-from-a-function-another-file-calls",
    ),
]


@pytest.mark.parametrize(("edit", "reached"), RUN)
def test_an_edge_the_summary_cannot_judge_runs_the_event_loop_rules(
    tmp_path: Path, rules_run: list[str], edit: Callable[[Path], None], reached: str | None
) -> None:
    root = _project(tmp_path / "proj")
    # An edge into a sink first: the summary must not let it mask the edit.
    _added_before("pkg/api.py", "async def serve", CALLS_PREPARE)(root)
    before, _ = _outcome(root)
    rules_run.clear()
    edit(root)
    after = _outcome(root)
    assert any(code.startswith("IL2") for code in rules_run)
    assert after == _outcome(root, use_cache=False)
    if reached is not None:
        assert _il2(after[0], reached) != _il2(before, reached)
    assert _outcome(root) == after  # and again, on the memo of the edited tree


@pytest.mark.parametrize(("edit", "_reached"), GRAPH_EDITS)
def test_the_graph_summary_edits_with_an_edge_into_a_sink_still_run_the_rules(
    tmp_path: Path, rules_run: list[str], edit: Callable[[Path], None], _reached: str
) -> None:
    """test_call_graph_summary's edits of the graph (a function added that an
    unresolved call names, an alias or a base changed, an override, a file added or
    deleted, ...), each made with an edge into a sink added too: they still run the
    rules, and report what a run without a cache reports."""
    from test_call_graph_summary import _project as summary_project

    root = summary_project(tmp_path / "proj")
    _outcome(root)
    rules_run.clear()
    sink_edge = "def _edit_edge(values):\n    return existing(values)\n\n\n"
    _both(_replace("pkg/base.py", "def slow():", sink_edge + "def slow():"), edit)(root)
    after = _outcome(root)
    assert any(code.startswith("IL2") for code in rules_run)
    assert after == _outcome(root, use_cache=False)


def test_an_edge_into_a_sink_is_inert_in_the_summary_project_too(
    tmp_path: Path, rules_run: list[str]
) -> None:
    """The benchmark's edit: a function added that calls the file's first function."""
    from test_call_graph_summary import _project as summary_project

    root = summary_project(tmp_path / "proj")
    _outcome(root)
    rules_run.clear()
    sink_edge = "def _edit_edge(values):\n    return existing(values)\n\n\n"
    _replace("pkg/base.py", "def slow():", sink_edge + "def slow():")(root)
    after = _outcome(root)
    assert not any(code.startswith("IL2") for code in rules_run)
    assert after == _outcome(root, use_cache=False)


def test_a_later_call_of_the_function_added_runs_the_rules(
    tmp_path: Path, rules_run: list[str]
) -> None:
    """An edge into a sink judged inert keeps the former summary; a later edit that
    calls the function it added from async code must still run the rules."""
    root = _project(tmp_path / "proj")
    _outcome(root)
    _added_before("pkg/util.py", "def prepare", CALLS_SLOW)(root)
    rules_run.clear()
    kept = _outcome(root)
    assert not any(code.startswith("IL2") for code in rules_run)
    assert kept == _outcome(root, use_cache=False)
    _replace("pkg/util.py", "    only_running()", "    only_running()\n    _edit_slow([])")(root)
    rules_run.clear()
    after = _outcome(root)
    assert any(code.startswith("IL2") for code in rules_run)
    assert after == _outcome(root, use_cache=False)
    assert _il2(after[0], "pkg/util.py") != _il2(kept[0], "pkg/util.py")  # drive() blocks


def _summary() -> CallGraphSummary:
    names = Names.of(["pkg.util.prepare"])
    assert names is not None
    empty = Names.of([])
    assert empty is not None
    return CallGraphSummary(
        frozenset({"call-graph"}),
        empty,
        frozenset(),
        empty,
        names,
        empty,
        frozenset(),
        frozenset({"event-loops.analysis"}),
    )


def test_edges_are_judged_only_when_the_vouchers_alone_requested_the_graph() -> None:
    summary = _summary()
    assert not summary.edges_judged  # as stored: until the engine says who requested it
    assert summary.requested_by(frozenset({"event-loops.analysis"})).edges_judged
    rule = "IL999:somewhere.ReadsTheGraph"
    assert not summary.requested_by(frozenset({"event-loops.analysis", rule})).edges_judged
    assert not summary.requested_by(frozenset()).edges_judged


# A sink whose *unknown* loop context comes only from the function that calls it.
ONLY_CALLER = """\
import asyncio


async def job():
    return 1


def starts():
    asyncio.run(job())


def middle(flag):
    if flag:
        starts()


async def serve():
    middle(True)


def _edit(values):
    return middle(values)
"""


def test_a_removed_function_whose_edge_gave_a_sink_its_unknown_context_runs_the_rules(
    tmp_path: Path, rules_run: list[str]
) -> None:
    """The summary of a build that had the function: ``middle`` is a sink there only
    through the *unknown* context ``_edit`` gives it. Removed, ``middle`` (and
    ``starts``) run only under a loop, and IL205 reports ``middle``'s call."""
    root = _project(tmp_path / "proj")
    (root / "pkg" / "util.py").write_text(ONLY_CALLER)
    before, _ = _outcome(root)
    rules_run.clear()
    _replace("pkg/util.py", "\n\ndef _edit(values):\n    return middle(values)\n", "")(root)
    after = _outcome(root)
    assert any(code.startswith("IL2") for code in rules_run)
    assert after == _outcome(root, use_cache=False)
    assert _il2(after[0], "pkg/util.py") != _il2(before, "pkg/util.py")
