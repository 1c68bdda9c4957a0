"""The project call graph: resolution across modules and the loop context of every
function, built from cached call facts."""

from __future__ import annotations

import pickle
import textwrap
from dataclasses import replace
from pathlib import Path

from integ_lint.config import load_config
from integ_lint.engine import index_project
from integ_lint.engine.examples import dedent
from integ_lint.engine.memo_remap import line_map
from integ_lint.facts.calls import (
    REFERENCE,
    THREAD,
    BlockingCall,
    CallFact,
    CallFactsCollector,
    FunctionFact,
    ModuleCallFacts,
)
from integ_lint.findings.model import Site, Span
from integ_lint.model.call_graph import NOT_RUNNING, RUNNING, UNKNOWN, CallGraph, loop_contexts


def build(root: Path, files: dict[str, str]) -> CallGraph:
    (root / "pyproject.toml").write_text('[project]\nname = "example"\nversion = "0"\n')
    for relpath, code in files.items():
        target = root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(dedent(code))
    config = load_config([root], root / "pyproject.toml")
    project, notes = index_project([root], config, [CallFactsCollector])
    assert not notes
    return CallGraph.build(project)


def callees(graph: CallGraph, caller: str) -> set[str]:
    return {e.callee for e in graph.callees.get(caller, ()) if e.call.role == "call"}


def test_names_imports_reexports_and_constructors(tmp_path: Path) -> None:
    graph = build(
        tmp_path,
        {
            "pkg/__init__.py": "from .core import run as start\n",
            "pkg/core.py": """
                class Engine:
                    def __init__(self):
                        self.ready = True

                def run():
                    return helper()

                def helper():
                    return Engine()
                """,
            "pkg/app.py": """
                import pkg
                from pkg import start
                from pkg.core import helper as h

                def main():
                    start()
                    pkg.start()
                    h()
                    len([])
                """,
        },
    )
    assert callees(graph, "pkg.app.main") == {"pkg.core.run", "pkg.core.helper"}
    assert callees(graph, "pkg.core.run") == {"pkg.core.helper"}
    assert callees(graph, "pkg.core.helper") == {"pkg.core.Engine.__init__"}


def test_methods_self_super_overrides_attributes_and_annotations(tmp_path: Path) -> None:
    graph = build(
        tmp_path,
        {
            "pkg/store.py": """
                class Store:
                    def load(self):
                        return self.read()

                    def read(self):
                        return 1

                class CachedStore(Store):
                    def read(self):
                        return super().read()
                """,
            "pkg/service.py": """
                from pkg.store import Store

                class Service:
                    backend: Store

                    def __init__(self, other: "Store | None"):
                        self.other = other
                        self.made = Store()

                    def go(self, store: Store, untyped):
                        store.load()
                        self.backend.load()
                        self.other.read()
                        self.made.read()
                        untyped.load()
                """,
        },
    )
    assert callees(graph, "pkg.store.Store.load") == {
        "pkg.store.Store.read",
        "pkg.store.CachedStore.read",
    }
    assert callees(graph, "pkg.store.CachedStore.read") == {"pkg.store.Store.read"}
    assert callees(graph, "pkg.service.Service.go") == {
        "pkg.store.Store.load",
        "pkg.store.Store.read",
    }
    assert len([e for e in graph.callees["pkg.service.Service.go"] if e.call.role == "call"]) == 4


def test_loop_contexts(tmp_path: Path) -> None:
    graph = build(
        tmp_path,
        {
            "pkg/a.py": """
                import asyncio
                import threading
                from concurrent.futures import ThreadPoolExecutor
                from functools import partial

                def shared():
                    pass

                def only_async():
                    shared()

                def only_thread():
                    shared()

                def public():
                    pass

                def escaped():
                    pass

                HANDLERS = {"x": escaped}

                async def handler():
                    only_async()
                    await asyncio.to_thread(partial(only_thread))

                def start():
                    threading.Thread(target=only_thread).start()
                    ThreadPoolExecutor().submit(lambda: only_thread())

                class Worker(threading.Thread):
                    def run(self):
                        self.step()

                    def step(self):
                        pass

                def escaped_caller():
                    escaped()

                async def also():
                    escaped_caller()
                """,
        },
    )
    contexts = loop_contexts(graph, {})
    assert contexts["pkg.a.handler"] == {RUNNING}
    assert contexts["pkg.a.only_async"] == {RUNNING}
    assert contexts["pkg.a.only_thread"] == {NOT_RUNNING}
    assert contexts["pkg.a.shared"] == {RUNNING, NOT_RUNNING}
    assert contexts["pkg.a.public"] == {UNKNOWN}
    assert contexts["pkg.a.Worker.run"] == {NOT_RUNNING}
    assert contexts["pkg.a.Worker.step"] == {NOT_RUNNING}
    assert contexts["pkg.a.escaped"] == {UNKNOWN, RUNNING}
    roles = {e.call.role for e in graph.callers["pkg.a.only_thread"]}
    assert roles == {THREAD}
    assert {e.call.role for e in graph.callers["pkg.a.escaped"]} == {REFERENCE, "call"}


def test_guarded_call_sites_override_the_caller(tmp_path: Path) -> None:
    graph = build(
        tmp_path,
        {
            "pkg/a.py": """
                def helper():
                    pass

                async def handler():
                    helper()
                """,
        },
    )
    (edge,) = graph.callers["pkg.a.helper"]
    span = edge.call.site.span
    contexts = loop_contexts(graph, {"pkg/a.py": {(span.start_line, span.start_col): NOT_RUNNING}})
    assert contexts["pkg.a.helper"] == {NOT_RUNNING}


def test_call_facts_are_plain_picklable_data(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "0"\n')
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text(
        textwrap.dedent(
            """
            import time

            async def main():
                pass

            def f():
                time.sleep(1)
                if True:
                    return main()
                main()
            """
        )
    )
    config = load_config([tmp_path], tmp_path / "pyproject.toml")
    project, _ = index_project([tmp_path], config, [CallFactsCollector])
    facts = project.files["pkg/a.py"].facts[CallFactsCollector.KEY]
    assert isinstance(facts, ModuleCallFacts)
    assert pickle.loads(pickle.dumps(facts)) == facts
    (blocking,) = facts.blocking
    assert blocking.what == "time.sleep" and blocking.always
    dropped = [c for c in facts.calls if c.dropped and c.ref == "pkg.a.main"]
    assert len(dropped) == 1 and not dropped[0].always  # after a conditional return


def test_parameters_and_locals_shadow_module_functions(tmp_path: Path) -> None:
    graph = build(
        tmp_path,
        {
            "pkg/a.py": """
                def callback():
                    pass

                def run(callback):
                    callback()

                def other():
                    callback = make()
                    callback()

                def direct():
                    callback()
                """,
        },
    )
    assert callees(graph, "pkg.a.run") == set()
    assert callees(graph, "pkg.a.other") == set()
    assert callees(graph, "pkg.a.direct") == {"pkg.a.callback"}


def test_sleep_argument_in_any_number_spelling(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "0"\n')
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text(
        "import time\n\ndef f():\n    time.sleep(0x0)\n    time.sleep(0b1)\n    time.sleep(0_0)\n"
    )
    config = load_config([tmp_path], tmp_path / "pyproject.toml")
    project, notes = index_project([tmp_path], config, [CallFactsCollector])
    assert not notes
    facts = project.files["pkg/a.py"].facts[CallFactsCollector.KEY]
    assert isinstance(facts, ModuleCallFacts)
    # 0x0 and 0_0 yield (time.sleep(0)); 0b1 sleeps a second.
    assert [b.site.span.start_line for b in facts.blocking] == [5]


def test_call_records_pickle_as_themselves_and_build_their_site(tmp_path: Path) -> None:
    """The records are tuples with the site flattened (fast to unpickle): each comes
    back as its own class, equal by content, with the Site the collector saw."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "0"\n')
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text(
        "import time\n\nclass C:\n    def run(self):\n        time.sleep(1)\n"
        "        self.helper(\n            1)\n"
    )
    config = load_config([tmp_path], tmp_path / "pyproject.toml")
    project, _ = index_project([tmp_path], config, [CallFactsCollector])
    facts = project.files["pkg/a.py"].facts[CallFactsCollector.KEY]
    assert isinstance(facts, ModuleCallFacts)
    (function,) = facts.functions
    (call,) = facts.calls
    (blocking,) = facts.blocking
    assert function.site == Site(Span(4, 9, 4, 12), "C", "run")
    assert call.site == Site(Span(6, 9, 7, 15), "C.run", "self.helper( 1)")
    assert (call.start_line, call.start_col, call.end_line) == (6, 9, 7)
    assert blocking.site == Site(Span(5, 9, 5, 22), "C.run", "time.sleep(1)")
    for record in (function, call, blocking, *facts.classes):
        copy = pickle.loads(pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL))
        assert type(copy) is type(record) and copy == record
    assert call._replace(dropped=not call.dropped) != call


def test_line_map_pairs_the_records_flat_spans() -> None:
    """memo_remap matches a record's four span fields as a Span: lines moved together
    give a map; a column moved, or two old lines sent to one new line, gives none."""

    def call(line: int, col: int = 5) -> CallFact:
        return CallFact(line, col, line + 1, 9, "f", "g()", "f", "name", "m.g")

    def facts(shift: int, col: int = 5) -> ModuleCallFacts:
        function = FunctionFact(2 + shift, 5, 2 + shift, 6, "", "f", "f", False)
        blocking = BlockingCall(4 + shift, 5, 4 + shift, 18, "", "", "f", "time.sleep")
        return ModuleCallFacts(
            "m", functions=(function,), calls=(call(3 + shift, col),), blocking=(blocking,)
        )

    assert line_map(facts(0), facts(2)) == {2: 4, 3: 5, 4: 6}
    assert line_map(facts(0), facts(2, col=6)) is None
    joined = replace(facts(2), calls=(call(4),))  # the call's line now the blocking's
    assert line_map(facts(0), joined) is None
