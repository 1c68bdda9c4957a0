"""Event loops (IL201-IL207): where code runs, followed across the project's calls.

IL201-IL205 read the facts of the known-loop-state collector
(:mod:`integ_lint.rules._loop_state`), which walks each file once, tracks the state
(running / not running / unknown) statement by statement, and classifies every loop
call. The project call graph (:mod:`integ_lint.model.call_graph`, built from the facts of
:mod:`integ_lint.facts.calls`) then gives every function a loop context: IL201 and
IL203 drop calls in thread bodies and entry points, IL201 says "may raise" with the
running callers named, IL205 reports calls in running code of functions that start a
loop on every path (with the chain), IL206 finds dropped coroutines of project
``async def`` functions and IL207 blocking calls reached from ``async def`` code.
The recognised shapes are documented in ``docs/rules/event-loops.md``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

from integ_lint.config.roles import Role
from integ_lint.config.settings import EventLoopSettings
from integ_lint.facts.calls import BLOCKING_TYPES, CALL, CallFactsCollector, ModuleCallFacts
from integ_lint.findings.model import Finding, RelatedLocation, Severity, Site
from integ_lint.model.call_graph import (
    CALL_GRAPH,
    RUNNING,
    UNKNOWN,
    CallGraph,
    Edge,
    Function,
    loop_contexts,
    shortest_chain,
    site_kind,
)
from integ_lint.model.project import FileFacts, ProjectIndex
from integ_lint.rule import FactCollector, Invalid, ProjectRule, Valid

from ._loop_state import NOT_RUNNING, LoopCall, LoopFactsCollector, ModuleLoopFacts

FAMILY = "event-loops"
_ANALYSIS = "event-loops.analysis"  # the key _LoopAnalysis is shared under

# Examples shared by several rules or by a Valid/Invalid pair (the same code, judged
# in another context): written once, so that the pair visibly differs only there.


def _run_sync(attempt: str, after: str = "") -> str:
    """``run_sync(factory)`` doing ``attempt`` (statements, a line each) where a loop
    may run, and ``asyncio.run`` where none does (``RuntimeError``), then ``after``:
    the guard this family recommends, and the wrong fixes inside it."""
    body = "".join(f"        {line}\n" for line in attempt.splitlines())
    tail = f"    {after}\n" if after else ""
    return (
        "\nimport asyncio\n\ndef run_sync(factory):\n    try:\n"
        f"{body}    except RuntimeError:\n        return asyncio.run(factory())\n{tail}"
    )


# The guard this family recommends: start a loop only where none runs, and say so
# where one does. IL201, IL204 and IL205 stay silent on it.
_RUN_ONLY_WITHOUT_LOOP = _run_sync(
    "asyncio.get_running_loop()", after='raise RuntimeError("await factory() instead")'
)

# A helper starting a loop, called from the ``__main__`` block: an entry point while no
# other module calls it.
_HELPER_RUN_FROM_MAIN = """
import asyncio

def helper():
    return asyncio.run(main())

if __name__ == "__main__":
    helper()
"""

# ``run`` is a console script of the project (``_SCRIPT_PROJECT``): an entry point.
_SCRIPT_ENTRY = """
import asyncio

def run():
    asyncio.run(serve())
"""
_SCRIPT_PROJECT = """
name = "example"
version = "0"
[project.scripts]
example = "pkg.example:run"
"""


class _EntryPoints:
    """Decides which loop calls sit in entry-point code, for IL201 and IL203."""

    def __init__(self, project: ProjectIndex) -> None:
        config = project.config
        self.decorators = list(config.section(EventLoopSettings).entry_point_decorators)
        self.scripts: list[tuple[str, str]] = []
        for entry in config.project_scripts:
            target = entry.split("[", 1)[0].strip()
            module, _, qualname = target.partition(":")
            self.scripts.append((module.strip(), qualname.strip()))
        # Imported qualified name -> the files importing it.
        self.importers: dict[str, set[str]] = {}
        self._memo: dict[tuple[str, str, bool], bool] = {}
        # Decorator -> whether it marks an entry point: every function is asked.
        self._entry_decorators: dict[str, bool] = {}
        for file, facts in project.facts(LoopFactsCollector.KEY):
            if isinstance(facts, ModuleLoopFacts):
                for name in facts.imports:
                    self.importers.setdefault(name, set()).add(file.relpath)

    def _imported_elsewhere(self, name: str, relpath: str, *, prefix: bool) -> bool:
        key = (name, relpath, prefix)
        if key not in self._memo:
            self._memo[key] = self._search(name, relpath, prefix=prefix)
        return self._memo[key]

    def _search(self, name: str, relpath: str, *, prefix: bool) -> bool:
        for imported, files in self.importers.items():
            matches = imported == name or (prefix and imported.startswith(name + "."))
            if matches and files - {relpath}:
                return True
        return False

    def is_entry_function(
        self, file: FileFacts, qualname: str, decorators: tuple[str, ...]
    ) -> bool:
        """Whether a synchronous function starts with no loop running: a
        ``[project.scripts]`` target, a CLI command, a test function."""
        for module, target in self.scripts:
            if module == file.module and target and qualname == target:
                return True
        for decorator in decorators:
            matches = self._entry_decorators.get(decorator)
            if matches is None:
                matches = self._entry_decorators[decorator] = any(
                    fnmatch.fnmatchcase(decorator, pattern) for pattern in self.decorators
                )
            if matches:
                return True
        last = qualname.rsplit(".", 1)[-1]
        return last.startswith("test") and file.role == Role.TEST

    def is_entry(self, file: FileFacts, facts: ModuleLoopFacts, call: LoopCall) -> bool:
        # Tests, scripts, examples... (file roles) are not reported at all: the engine
        # drops IL201/IL203 findings outside library files.
        relpath = file.relpath
        if relpath.rsplit("/", 1)[-1] == "__main__.py" or call.in_main_block:
            return True
        scope = call.site.scope
        for module, qualname in self.scripts:
            if (
                module == file.module
                and qualname
                and (scope == qualname or scope.startswith(qualname + "."))
            ):
                return True
        for decorator in call.decorators:
            if any(fnmatch.fnmatchcase(decorator, pattern) for pattern in self.decorators):
                return True
        if (
            call.function
            and call.function in facts.main_only_functions
            and not self._imported_elsewhere(
                f"{file.module}.{call.function}", relpath, prefix=False
            )
        ):
            return True
        return bool(
            facts.has_main_block
            and file.module
            and not self._imported_elsewhere(file.module, relpath, prefix=True)
        )


@dataclass(frozen=True)
class _LoopStart:
    """A loop-starting call a function makes on every path: ``hops`` are the calls
    leading to it (empty when the function makes it itself)."""

    hops: tuple[Edge, ...]
    relpath: str
    call: LoopCall

    def chain(self, graph: CallGraph, first: str) -> str:
        names = [first, *(graph.label(edge.callee) for edge in self.hops)]
        what = self.call.label.split(" (=")[0].removesuffix("()") or "a loop"
        resolved = self.call.label.partition("(= ")[2].rstrip(")")
        return " -> ".join([*names, resolved or what])

    def related(self, graph: CallGraph) -> list[RelatedLocation]:
        locations = [
            RelatedLocation(edge.relpath, edge.site.span, f"calls `{graph.label(edge.callee)}`")
            for edge in self.hops[1:]
        ]
        locations.append(
            RelatedLocation(self.relpath, self.call.site.span, f"`{self.call.label}` starts a loop")
        )
        return locations


class _LoopAnalysis:
    """The event-loop view of the project: call graph, loop contexts, entry points,
    and which functions start a loop on every path. Built once per run."""

    def __init__(self, project: ProjectIndex) -> None:
        self.project = project
        self.graph: CallGraph = project.derived(CALL_GRAPH, CallGraph.build)
        # Of the call facts, this reads the loop starts' positions only (kept whole by
        # the graph's summary): the summary may judge an edit for it too.
        self.graph.also_read_by(_ANALYSIS)
        self.entry_points: _EntryPoints = project.derived("event-loops.entry-points", _EntryPoints)
        self.loop_facts: dict[str, tuple[FileFacts, ModuleLoopFacts]] = {}
        overrides: dict[str, dict[tuple[int, int], str]] = {}
        for file, facts in project.facts(LoopFactsCollector.KEY):
            if isinstance(facts, ModuleLoopFacts):
                self.loop_facts[file.relpath] = (file, facts)
                if facts.known_calls:
                    overrides[file.relpath] = {
                        (line, col): known for line, col, known in facts.known_calls
                    }
        self.overrides = overrides
        self.always_positions: dict[str, frozenset[tuple[int, int]]] = {}
        for file, call_facts in project.facts(CallFactsCollector.KEY):
            if isinstance(call_facts, ModuleCallFacts):
                self.always_positions[file.relpath] = call_facts.always_loop_starts
        self.starts: dict[str, list[tuple[str, LoopCall]]] = {}
        for relpath, (file, facts) in self.loop_facts.items():
            if facts.nest_asyncio:
                continue  # loops re-enter in this module: starting one never raises
            for call in facts.calls:
                if call.code in ("IL201", "IL205") and call.site.scope and not call.in_lambda:
                    fid = f"{file.module}.{call.site.scope}" if file.module else call.site.scope
                    self.starts.setdefault(fid, []).append((relpath, call))
        self.contexts = loop_contexts(self.graph, overrides, self._entry_functions())
        self._always: dict[str, _LoopStart | None] = {}
        self._visiting: set[str] = set()
        scripts = (f"{m}.{name}" if m else name for m, name in self.entry_points.scripts)
        self.graph.vouch_for_edges(_ANALYSIS, self._edge_sinks, scripts)

    def _edge_sinks(self) -> set[str]:
        """The functions an added edge from a function of unknown loop context that
        nothing calls changes nothing of, for the graph's summary: their context holds
        *unknown* already (or they are async: no context flows into them) so no
        context changes, and they make no loop call (the rules read the callers of
        those only; other functions' callers only for the ones under a running loop,
        which such an edge is not; a callee that starts no loop is no helper)."""
        observed = {
            f"{file.module}.{call.site.scope}" if file.module else call.site.scope
            for file, facts in self.loop_facts.values()
            for call in facts.calls
        }
        return {
            fid
            for fid, function in self.graph.functions.items()
            if fid not in observed and (function.is_async or UNKNOWN in self.contexts[fid])
        }

    def _entry_functions(self) -> list[str]:
        """Functions that start with no loop running: CLI commands, ``[project.scripts]``
        targets, and synchronous test functions."""
        found = []
        for fid, function in self.graph.functions.items():
            if function.is_async:
                continue
            file = self.project.files.get(function.relpath)
            if file is None:
                continue
            if self.entry_points.is_entry_function(
                file, function.qualname, function.fact.decorators
            ):
                found.append(fid)
        return found

    def context(self, fid: str) -> frozenset[str]:
        return self.contexts.get(fid, frozenset({UNKNOWN}))

    def function_at(self, file: FileFacts, call: LoopCall) -> Function | None:
        """The function whose own body makes ``call`` (None in a lambda or class body)."""
        if call.in_lambda:
            return None
        return self.graph.function_of(file.module, call.site.scope)

    def always_starts(self, fid: str) -> _LoopStart | None:
        """How the synchronous function ``fid`` starts an event loop on every path
        (directly or through its calls), if it does."""
        if fid in self._always:
            return self._always[fid]
        function = self.graph.functions.get(fid)
        if function is None or function.is_async or fid in self._visiting:
            return None
        self._visiting.add(fid)
        found: _LoopStart | None = None
        for relpath, call in self.starts.get(fid, ()):
            span = call.site.span
            if (span.start_line, span.start_col) in self.always_positions.get(relpath, ()):
                found = _LoopStart((), relpath, call)
                break
        if found is None:
            for edge in self.graph.callees.get(fid, ()):
                if edge.call.role != CALL or not edge.call.always:
                    continue
                if len(self.graph.resolve_call(edge.call)) != 1:
                    continue  # an overridable method: which body runs is not known
                inner = self.always_starts(edge.callee)
                if inner is not None:
                    found = _LoopStart((edge, *inner.hops), inner.relpath, inner.call)
                    break
        self._visiting.discard(fid)
        self._always[fid] = found
        return found

    def helper(self, fid: str) -> _LoopStart | None:
        """How ``fid`` runs a coroutine it is given on a fresh loop, when it is a
        sync-over-async helper: it starts a loop itself on every path, on a coroutine
        built from one of its parameters (``asyncio.run(coro)``, ``asyncio.run(fn())``)."""
        function = self.graph.functions.get(fid)
        start = self.always_starts(fid)
        if function is None or start is None or start.hops:
            return None
        argument = start.call.argument
        return start if argument and argument in function.fact.param_names else None

    def edge_state(self, edge: Edge) -> frozenset[str]:
        """The loop states in which the call of ``edge`` may be made."""
        fixed = site_kind(edge, self.overrides)
        if fixed:
            return frozenset({fixed})
        return self.context(edge.caller)

    def running_callers(self, fid: str) -> list[Edge]:
        """The calls of ``fid`` that may be made while a loop runs."""
        return [
            edge
            for edge in self.graph.callers.get(fid, ())
            if edge.call.role == CALL and RUNNING in self.edge_state(edge)
        ]


def _overridden_by_sync(graph: CallGraph, function: Function) -> bool:
    """Whether a project subclass overrides the method ``function`` with a plain
    ``def``: the receiver, whatever its declared type, may be that subclass."""
    if not function.fact.owner:
        return False
    owner, _, method = function.id.rpartition(".")
    return any(not graph.functions[fid].is_async for fid in graph.overrides(owner, method))


def _describe(graph: CallGraph, edges: list[Edge], limit: int = 3) -> str:
    names = sorted({graph.label(e.caller) or "module code" for e in edges})
    shown = ", ".join(f"`{n}`" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


class _CallSite(NamedTuple):
    """One classified loop call, with the module and the analysis it is judged in."""

    analysis: _LoopAnalysis
    file: FileFacts
    facts: ModuleLoopFacts
    call: LoopCall


class _EventLoopRule(ProjectRule):
    FACTS: ClassVar[tuple[type[FactCollector], ...]] = (LoopFactsCollector, CallFactsCollector)
    # Calls in entry-point code (``__main__``, CLI commands) are exempt (IL201, IL203):
    # there no loop runs yet. Roles already keep tests and scripts out.
    EXEMPT_ENTRY_POINTS: ClassVar[bool] = False

    def check(self, project: ProjectIndex) -> Iterator[Finding]:
        analysis = project.derived(_ANALYSIS, _LoopAnalysis)
        for relpath, (file, facts) in sorted(analysis.loop_facts.items()):
            if project.report_paths is not None and relpath not in project.report_paths:
                continue
            for call in facts.calls:
                if call.code != self.code:
                    continue
                if self.EXEMPT_ENTRY_POINTS and analysis.entry_points.is_entry(file, facts, call):
                    continue
                finding = self.judge(_CallSite(analysis, file, facts, call))
                if finding is not None:
                    yield finding
        yield from self.check_graph(analysis)

    def judge(self, at: _CallSite) -> Finding | None:
        """The finding for one classified loop call (the default: as classified)."""
        return self.finding(at.file.relpath, at.call.site, at.call.message)

    def check_graph(self, analysis: _LoopAnalysis) -> Iterator[Finding]:
        """Findings that need the call graph, beyond the per-call ones."""
        return iter(())

    def reportable(self, analysis: _LoopAnalysis, relpath: str) -> bool:
        paths = analysis.project.report_paths
        return paths is None or relpath in paths


class AsyncioRunInLibrary(_EventLoopRule):
    """An event loop is run from library code (`asyncio.run`, `run_until_complete`).

    **What it does**

    Flags `asyncio.run(...)` and `loop.run_until_complete(...)` (on a loop from
    `asyncio.new_event_loop()`, `asyncio.get_event_loop()`, or a variable whose name
    clearly is a loop: `loop`, `event_loop`, `*_loop`) in library code where nothing is
    known about the current thread's event loop. Aliases are followed (`import asyncio
    as aio`, `from asyncio import run as arun`).

    Entry points are not library code: `__main__.py`, the body of
    `if __name__ == "__main__":`, files of another role (`script-paths`,
    `test-paths`, ...), the functions named in the project's `[project.scripts]` /
    `[project.gui-scripts]`, functions decorated with one of
    `[tool.integ-lint.event-loops] entry-point-decorators` (click and typer commands
    by default), module-level
    functions used only from the module's `__main__` block (directly or through other
    such functions), and modules with a `__main__` block that nothing in the project
    imports.

    A call is guarded, and silent, in the `except RuntimeError:` of a
    `try: asyncio.get_running_loop()`, after an early-return guard (a `try` whose body
    returns once `get_running_loop()` succeeds and whose handler falls through), and in
    the branch of `if asyncio._get_running_loop() is None:`.

    **Why is this bad?**

    `asyncio.run` raises `RuntimeError` when the caller already runs a loop (a
    notebook, an async server, an async trainer); otherwise it starts a second loop,
    and objects bound to another loop (clients, locks, queues) cannot be used from it.

    **Example**

    ```python
    def evaluate(agent):
        return asyncio.run(evaluate_async(agent))
    ```

    **How to fix**

    Expose the coroutine (`async def evaluate_async`) and let the application's entry
    point run the loop, or guard the blocking helper:

    ```python
    def evaluate(agent):
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(evaluate_async(agent))
        raise RuntimeError("inside a running loop: await evaluate_async() instead")
    ```
    """

    code = "IL201"
    name = "event-loop-run-in-library"
    family = FAMILY
    severity = Severity.ERROR
    EXEMPT_ENTRY_POINTS = True
    # 0 of 4 true on distributed, ipykernel, gradio, celery, lightning (and 17 of 19
    # false in the sample): opt-in, see docs/rules/event-loops.md.
    default_enabled = False

    def judge(self, at: _CallSite) -> Finding | None:
        analysis, file, facts, call = at
        if facts.nest_asyncio:
            return None  # nest_asyncio lets loops re-enter in this module (still IL203)
        function = analysis.function_at(file, call)
        if function is None:
            return self.finding(file.relpath, call.site, call.message)
        if analysis.helper(function.id) is not None and any(
            e.call.role == CALL for e in analysis.graph.callers.get(function.id, ())
        ):
            return None  # a sync-over-async helper: its callers are judged instead
        context = analysis.context(function.id)
        if context == frozenset({NOT_RUNNING}):
            return None  # a thread or process body, or reached only from one
        if context == frozenset({RUNNING}):
            return None  # always raises: IL205 reports it
        if RUNNING not in context:
            return self.finding(file.relpath, call.site, call.message)
        running = analysis.running_callers(function.id)
        graph = analysis.graph
        message = (
            f"`{call.label}` in `{function.qualname}()` may raise RuntimeError: "
            f"`{function.qualname}` is called from code that runs under an event loop "
            f"({_describe(graph, running)}) as well as from elsewhere; starting a loop "
            "there raises ('asyncio.run() cannot be called from a running event loop'); "
            "give the running-loop callers an async API (await / create_task) and keep "
            "the loop for the synchronous callers"
        )
        related = [
            RelatedLocation(e.relpath, e.site.span, f"`{graph.label(e.caller)}` calls it")
            for e in running[:5]
        ]
        return self.finding(file.relpath, call.site, message, related=related)

    def check_graph(self, analysis: _LoopAnalysis) -> Iterator[Finding]:
        graph = analysis.graph
        reported: set[tuple[str, int, int]] = set()
        for edge in graph.edges:
            if edge.call.role != CALL or not self.reportable(analysis, edge.relpath):
                continue
            start = analysis.helper(edge.callee)
            if start is None:
                continue
            state = analysis.edge_state(edge)
            if state in (frozenset({RUNNING}), frozenset({NOT_RUNNING})):
                continue  # IL205 at the running ones; silent in threads and entry points
            key = (edge.relpath, edge.call.start_line, edge.call.start_col)
            if key in reported:
                continue
            file = analysis.project.files.get(edge.relpath)
            if file is None:
                continue
            caller = graph.functions.get(edge.caller)
            pseudo = LoopCall(
                code=self.code,
                site=edge.site,
                message="",
                function=edge.site.scope.split(".", 1)[0] if caller is not None else "",
                in_main_block=edge.call.in_main,
                decorators=caller.fact.decorators if caller is not None else (),
            )
            loop_facts = analysis.loop_facts.get(edge.relpath)
            facts = loop_facts[1] if loop_facts else ModuleLoopFacts(module=file.module)
            if analysis.entry_points.is_entry(file, facts, pseudo):
                continue
            reported.add(key)
            helper = graph.label(edge.callee)
            how = f"{start.call.label}"
            where = f"`{graph.label(edge.caller)}()`" if caller is not None else "module-level code"
            if RUNNING in state:
                message = (
                    f"`{helper}()` (a sync-over-async helper: `{how}` on the coroutine it is "
                    f"given) may raise RuntimeError here: {where} is also reached from code "
                    "running under an event loop; await the coroutine on that path instead"
                )
            else:
                message = (
                    f"`{helper}()` (a sync-over-async helper: `{how}` on the coroutine it is "
                    f"given) runs an event loop from library code ({where}): it raises "
                    "RuntimeError when the caller already runs a loop (a notebook, an async "
                    "server); expose an async API, or call the helper only from entry points "
                    "and threads"
                )
            yield self.finding(
                edge.relpath,
                edge.site,
                message,
                related=[
                    RelatedLocation(start.relpath, start.call.site.span, f"`{how}` in the helper")
                ],
            )

    VALID = (
        Valid(_RUN_ONLY_WITHOUT_LOOP),
        Valid(
            """
            from asyncio import get_running_loop, run

            def submit(agent):
                try:
                    loop = get_running_loop()
                    return loop.create_task(work(agent))
                except RuntimeError:
                    pass
                return run(work(agent))
            """
        ),
        Valid(
            """
            import asyncio

            def submit(agent):
                try:
                    loop = asyncio.get_running_loop()
                except RuntimeError:
                    pass
                else:
                    return loop.create_task(work(agent))
                return asyncio.run(work(agent))
            """
        ),
        Valid(
            """
            import asyncio as aio

            def run_blocking(coro):
                if aio._get_running_loop() is None:
                    return aio.run(coro)
                raise RuntimeError("running loop")
            """
        ),
        Valid(
            """
            import asyncio

            def run_blocking(coro):
                if asyncio._get_running_loop() is not None:
                    raise RuntimeError("running loop")
                return asyncio.run(coro)
            """
        ),
        Valid(
            """
            import asyncio

            async def main():
                ...

            if __name__ == "__main__":
                asyncio.run(main())
            """,
            files={"pkg/other.py": "import pkg.example\n"},
        ),
        Valid(
            """
            import asyncio
            import sys

            def _run(argv):
                return asyncio.run(main(argv))

            def main_sync(argv):
                return _run(argv)

            if __name__ == "__main__":
                sys.exit(main_sync(sys.argv[1:]))
            """,
            files={"pkg/other.py": "from pkg.example import other_thing\n"},
        ),
        Valid(_HELPER_RUN_FROM_MAIN),
        Valid(_SCRIPT_ENTRY, project=_SCRIPT_PROJECT),
        Valid(
            """
            import asyncio
            import click

            @click.group()
            def cli():
                pass

            @cli.command()
            def evaluate():
                asyncio.run(work())
            """
        ),
        Valid(
            """
            import asyncio
            import typer

            app = typer.Typer()

            @app.command()
            def leaderboard():
                asyncio.run(work())
            """
        ),
        Valid(
            """
            import asyncio

            def main():
                asyncio.run(work())

            main()
            """,
            path="scripts/bench.py",
        ),
        Valid("import asyncio\nasyncio.run(work())\n", path="pkg/__main__.py"),
        Valid(
            """
            import asyncio

            def test_it():
                assert asyncio.run(work()) == 1
            """,
            path="tests/test_it.py",
        ),
        Valid(
            """
            import asyncio

            def start(loop):
                loop.run_forever()

            def unrelated(runner):
                runner.run_until_complete(job())
            """
        ),
        Valid(
            """
            import asyncio

            def evaluate():
                return asyncio.run(work())
            """,
            config="""
            [tool.integ-lint.event-loops]
            entry-point-decorators = []
            """,
            path="tools/cli.py",
            project="""
            name = "example"
            version = "0"
            [project.gui-scripts]
            example-gui = "tools.cli:evaluate"
            """,
        ),
    )
    INVALID = (
        Invalid(
            """
            import asyncio

            class EvaluationManager:
                def evaluate_current_agent(self, agent):
                    return asyncio.run(self.evaluate_async(agent))
            """,
            line=5,
            message="raises RuntimeError when the caller already runs a loop",
        ),
        Invalid(
            """
            from asyncio import run as arun

            def score_batch(store, results):
                return arun(update(store, results))
            """,
            line=4,
            message="arun() (= asyncio.run)",
        ),
        Invalid(
            """
            import asyncio as aio

            def gather_blocking(*aws):
                return aio.run(gather(*aws))
            """,
            line=4,
        ),
        Invalid(
            """
            import asyncio

            def current_ratings(store, names):
                return asyncio.get_event_loop().run_until_complete(store.fetch(names))
            """,
            line=4,
        ),
        Invalid(
            """
            import asyncio

            def run_on_thread_loop(coro):
                loop = asyncio.new_event_loop()
                try:
                    return loop.run_until_complete(coro)
                finally:
                    loop.close()
            """,
            line=6,
        ),
        Invalid(
            """
            class Client:
                def fetch(self):
                    return self._loop.run_until_complete(self._fetch())
            """,
            line=3,
        ),
        Invalid(
            """
            import asyncio

            def helper():
                return asyncio.run(main())

            def api():
                return helper()

            if __name__ == "__main__":
                helper()
            """,
            files={"pkg/other.py": "import pkg.example\n"},
            line=4,
        ),
        Invalid(
            """
            import asyncio

            async def main():
                ...

            asyncio.run(main())

            if __name__ == "__main__":
                pass
            """,
            line=6,
            files={"pkg/other.py": "from pkg import example\n"},
        ),
        Invalid(
            """
            import asyncio

            def submit(agent):
                try:
                    prepare()
                except RuntimeError:
                    return asyncio.run(work(agent))
            """,
            line=7,
        ),
        Invalid(
            _HELPER_RUN_FROM_MAIN,
            files={"pkg/other.py": "from pkg.example import helper\n\ndef use():\n    helper()\n"},
            line=4,
        ),
        Invalid(
            """
            import asyncio

            def submit(agent):
                try:
                    asyncio.get_running_loop()
                    running = True
                except RuntimeError:
                    running = False
                return asyncio.run(work(agent))
            """,
            line=9,
        ),
        Invalid(
            """
            import asyncio

            def run_blocking(coro):
                if asyncio._get_running_loop() is None:
                    print("no loop yet")
                return asyncio.run(coro)
            """,
            line=6,
        ),
        Invalid(
            """
            import asyncio
            import click

            @click.command()
            def evaluate():
                asyncio.run(work())
            """,
            config="""
            [tool.integ-lint.event-loops]
            entry-point-decorators = []
            """,
            line=6,
        ),
        Invalid(
            _SCRIPT_ENTRY + "\ndef helper():\n    asyncio.run(serve())\n",
            project=_SCRIPT_PROJECT,
            line=7,
        ),
    )


class AsyncioRunInCoroutine(_EventLoopRule):
    """An event loop is run inside an `async def` body.

    **What it does**

    Flags `asyncio.run(...)`, `loop.run_until_complete(...)` and `loop.run_forever()`
    written directly in the body of an `async def` (not in a nested synchronous
    function or lambda), whatever the module (entry points included).

    **Why is this bad?**

    It cannot work: a coroutine body always runs inside an event loop, so starting a
    loop there raises `RuntimeError` ("asyncio.run() cannot be called from a running
    event loop" / "Cannot run the event loop while another loop is running").

    **Example**

    ```python
    async def handle_evaluate(self, request):
        if self.registry.loaded_at is None:
            asyncio.run(self.registry.load())
    ```

    **How to fix**

    Await the coroutine: `await self.registry.load()`.
    """

    code = "IL202"
    name = "event-loop-run-in-coroutine"
    family = FAMILY
    severity = Severity.ERROR
    # It fails wherever it runs: entry points and examples included.
    roles = frozenset({"library", "script", "example", "benchmark"})
    VALID = (
        Valid(
            """
            import asyncio

            async def handle(self):
                await self.registry.load()

            async def outer():
                def in_thread():
                    return asyncio.run(work())
                return await asyncio.to_thread(in_thread)
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            import asyncio

            class Service:
                async def handle_evaluate(self, request):
                    if self.registry.loaded_at is None:
                        asyncio.run(self.registry.load())
            """,
            line=6,
            message="cannot work",
        ),
        Invalid(
            """
            import asyncio as aio

            async def refresh():
                loop = aio.new_event_loop()
                return loop.run_until_complete(fetch())
            """,
            line=5,
        ),
        Invalid(
            """
            import asyncio

            async def main():
                asyncio.run(work())
            """,
            path="pkg/__main__.py",
            line=4,
        ),
    )


class GlobalLoopStateInLibrary(_EventLoopRule):
    """Library code mutates global event-loop state.

    **What it does**

    Flags `asyncio.new_event_loop()`, `asyncio.set_event_loop(...)`,
    `asyncio.set_event_loop_policy(...)` and `nest_asyncio.apply()` in library code
    (entry points as for IL201 are exempt).

    **Why is this bad?**

    The event loop of a thread, the loop policy and asyncio's behaviour belong to the
    application. A library that creates and installs loops leaves loops to close and
    objects bound to the wrong loop; `nest_asyncio.apply()` patches asyncio for the
    whole process, changing the semantics of every loop the application runs.

    **Example**

    ```python
    def run_on_thread_loop(coro):
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(coro)
    ```

    **How to fix**

    Offer coroutines and let the application's entry point own the loop
    (`asyncio.run(main())`); document that notebooks should `await` them.
    """

    code = "IL203"
    name = "global-event-loop-state-in-library"
    family = FAMILY
    severity = Severity.WARNING
    EXEMPT_ENTRY_POINTS = True
    # Loop set-up in kernels, backports of asyncio.run and thread loops is deliberate:
    # 0 of 8 true before the thread/guard context, 0 of 1 after; opt-in.
    default_enabled = False

    def judge(self, at: _CallSite) -> Finding | None:
        analysis, file, facts, call = at
        process_wide = "nest_asyncio" in call.label or "set_event_loop_policy" in call.label
        if not process_wide:
            if call.site.scope in facts.loop_runners and not call.in_lambda:
                # The function runs the loop it sets up (an asyncio.run backport, a
                # kernel's loop integration): it owns that loop's whole life.
                return None
            function = analysis.function_at(file, call)
            if function is not None and analysis.context(function.id) == frozenset({NOT_RUNNING}):
                return None  # a thread that owns its loop
        return self.finding(file.relpath, call.site, call.message)

    VALID = (
        Valid(
            """
            import asyncio

            def test_legacy_loop():
                loop = asyncio.new_event_loop()
                asyncio.set_event_loop(loop)
            """,
            path="tests/test_loops.py",
        ),
        Valid(
            """
            import nest_asyncio

            def main():
                nest_asyncio.apply()

            if __name__ == "__main__":
                main()
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            import asyncio

            def run_on_thread_loop(coro):
                loop = asyncio.new_event_loop()
                asyncio.set_event_loop(loop)
                return loop
            """,
            lines=(4, 5),
        ),
        Invalid(
            """
            import nest_asyncio

            def enable_notebook_support():
                nest_asyncio.apply()
            """,
            line=4,
            message="process-wide",
        ),
        Invalid(
            """
            from asyncio import new_event_loop as fresh

            LOOP = fresh()
            """,
            line=3,
        ),
    )


class BlockingOnOwnLoop(_EventLoopRule):
    """Blocking on a coroutine scheduled on the current thread's running loop (deadlock).

    **What it does**

    Flags `asyncio.run_coroutine_threadsafe(coro, loop).result(...)` (also through a
    variable holding the future, and `concurrent.futures.wait(...)` on it) when `loop`
    is the running loop of the current thread: `asyncio.get_running_loop()` (directly
    or bound in the same function), or `asyncio.get_event_loop()` in code where a loop
    is known to be running. Also flags `loop.run_until_complete(...)` on that running
    loop in synchronous code.

    **Why is this bad?**

    The coroutine can only run when the loop gets control back, but the loop's own
    thread is blocked waiting for it: the loop cannot make progress while its own
    thread waits, so `.result(timeout=...)` hangs until its timeout (forever without
    one). `run_until_complete` on the running loop raises `RuntimeError` ("This event
    loop is already running").

    **Example**

    ```python
    def run_sync(factory):
        loop = asyncio.get_running_loop()
        return asyncio.run_coroutine_threadsafe(factory(), loop).result(timeout=5)
    ```

    **How to fix**

    From code running on the loop, `await` the coroutine or schedule it with
    `loop.create_task(...)`. `run_coroutine_threadsafe(...).result()` is for *other*
    threads submitting to a loop that runs elsewhere.
    """

    code = "IL204"
    name = "blocking-on-own-event-loop"
    family = FAMILY
    severity = Severity.ERROR
    VALID = (
        Valid(
            """
            import asyncio

            def submit_from_worker(coro, loop):
                return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=5)

            class Bridge:
                def call(self, coro):
                    return asyncio.run_coroutine_threadsafe(coro, self._loop).result()
            """
        ),
        Valid(_RUN_ONLY_WITHOUT_LOOP),
    )
    INVALID = (
        Invalid(
            _run_sync(
                "loop = asyncio.get_running_loop()\n"
                "return asyncio.run_coroutine_threadsafe(factory(), loop).result(timeout=5)"
            ),
            line=6,
            message="the loop cannot make progress while its own thread waits",
        ),
        Invalid(
            """
            from asyncio import get_running_loop, run_coroutine_threadsafe

            def run_sync(coro):
                future = run_coroutine_threadsafe(coro, get_running_loop())
                return future.result()
            """,
            line=5,
            message="hangs forever",
        ),
        Invalid(
            """
            import asyncio
            import concurrent.futures

            async def handler(coro):
                loop = asyncio.get_event_loop()
                fut = asyncio.run_coroutine_threadsafe(coro, loop)
                concurrent.futures.wait([fut], timeout=3)
            """,
            line=7,
        ),
        Invalid(
            """
            import asyncio

            def legacy(coro):
                if asyncio.get_event_loop().is_running():
                    loop = asyncio.get_event_loop()
                    return loop.run_until_complete(coro)
                return None
            """,
            line=6,
            message="already running",
        ),
    )


class LoopStartedWhileRunning(_EventLoopRule):
    """An event loop is started where one is known to be running.

    **What it does**

    Flags `asyncio.run(...)`, `loop.run_until_complete(...)` (on a new or unrelated
    loop) and `loop.run_forever()` in synchronous code where a loop is known to be
    running in the current thread: after `asyncio.get_running_loop()` returned (in its
    `try` body or `else`), in the branch of `if asyncio._get_running_loop() is not
    None:` / `if asyncio.get_event_loop().is_running():`.

    **Why is this bad?**

    It always raises `RuntimeError` ("Cannot run the event loop while another loop is
    running"): a thread runs at most one loop at a time, whether the new one is a
    fresh `new_event_loop()` or not. Usually this is a "fix" for a timeout that moved
    the bug rather than removing it.

    **Example**

    ```python
    try:
        asyncio.get_running_loop()
        private_loop = asyncio.new_event_loop()
        return private_loop.run_until_complete(factory())
    except RuntimeError:
        return asyncio.run(factory())
    ```

    **How to fix**

    Inside a running loop, `await` the coroutine or schedule it with `create_task`; if
    it must block, run it on a loop in another thread.
    """

    code = "IL205"
    name = "event-loop-started-while-running"
    family = FAMILY
    severity = Severity.ERROR

    def check_graph(self, analysis: _LoopAnalysis) -> Iterator[Finding]:
        graph = analysis.graph
        # A loop call in a function reached only from running code, on some path.
        for relpath, (file, facts) in sorted(analysis.loop_facts.items()):
            if facts.nest_asyncio or not self.reportable(analysis, relpath):
                continue
            for call in facts.calls:
                if call.code != "IL201":
                    continue
                function = analysis.function_at(file, call)
                if function is None or analysis.context(function.id) != frozenset({RUNNING}):
                    continue
                if analysis.always_starts(function.id) is not None and analysis.running_callers(
                    function.id
                ):
                    continue  # reported at the calls, in the running code
                running = analysis.running_callers(function.id)
                yield self.finding(
                    relpath,
                    call.site,
                    f"`{call.label}` in `{function.qualname}()` always raises RuntimeError "
                    "when it runs: every caller of "
                    f"`{function.qualname}` runs under an event loop "
                    f"({_describe(graph, running)}); await the coroutine in the caller "
                    "instead (or run it in a worker thread)",
                    related=[
                        RelatedLocation(
                            e.relpath, e.site.span, f"`{graph.label(e.caller)}` calls it"
                        )
                        for e in running[:5]
                    ],
                )
        # A call, in running code, of a function that starts a loop on every path.
        reported: set[tuple[str, int, int]] = set()
        for edge in graph.edges:
            made = edge.call
            if made.role != CALL or not self.reportable(analysis, edge.relpath):
                continue
            callee = graph.functions[edge.callee]
            if callee.is_async:
                continue
            start = analysis.always_starts(edge.callee)
            if start is None or analysis.edge_state(edge) != frozenset({RUNNING}):
                continue
            caller = graph.functions.get(edge.caller)
            if (
                caller is not None
                and not caller.is_async
                and site_kind(edge, analysis.overrides) != RUNNING
                and analysis.always_starts(caller.id) is not None
                and analysis.running_callers(caller.id)
            ):
                continue  # reported further up, where the running code calls it
            key = (edge.relpath, made.start_line, made.start_col)
            if key in reported:
                continue
            reported.add(key)
            first = graph.label(edge.caller) if edge.caller else "module code"
            chain = _LoopStart((edge, *start.hops), start.relpath, start.call)
            if caller is not None and caller.is_async:
                where = f"`{first}` is an `async def`"
            else:
                where = f"`{first}` runs only under a running loop"
            yield self.finding(
                edge.relpath,
                made.site,
                f"`{made.site.snippet[:60]}` always raises RuntimeError: it starts an event "
                f"loop on every path ({chain.chain(graph, first)}) and {where}; await an "
                "async version of the call, or run it in a worker thread "
                "(asyncio.to_thread)",
                related=chain.related(graph),
                properties={"chain": chain.chain(graph, first)},
            )

    VALID = (
        Valid(
            """
            import asyncio

            def run_sync(factory):
                if asyncio._get_running_loop() is None:
                    loop = asyncio.new_event_loop()
                    return loop.run_until_complete(factory())
                raise RuntimeError("running loop")
            """
        ),
        Valid(_RUN_ONLY_WITHOUT_LOOP),
    )
    INVALID = (
        Invalid(
            _run_sync(
                "asyncio.get_running_loop()\n"
                "private_loop = asyncio.new_event_loop()\n"
                "try:\n"
                "    return private_loop.run_until_complete(factory())\n"
                "finally:\n"
                "    private_loop.close()"
            ),
            line=8,
            message="always raises RuntimeError",
        ),
        Invalid(
            """
            import asyncio as aio

            def run_blocking(coro):
                running = aio._get_running_loop()
                if running is not None:
                    return aio.run(coro)
                return None
            """,
            line=6,
        ),
        Invalid(
            """
            import asyncio

            def run_sync(factory):
                try:
                    asyncio.get_running_loop()
                except RuntimeError:
                    pass
                else:
                    loop = asyncio.new_event_loop()
                    loop.run_forever()
            """,
            line=10,
        ),
        Invalid(
            """
            import asyncio

            def run_blocking(coro):
                if not asyncio._get_running_loop():
                    return None
                return asyncio.run(coro)
            """,
            line=6,
        ),
    )


class CoroutineNeverAwaited(_EventLoopRule):
    """A call to a project `async def` whose coroutine is thrown away: nothing runs.

    **What it does**

    Flags an expression statement that calls a project `async def` (resolved through
    the call graph, across modules: plain and imported names, `self.method()`,
    `super().method()`, `self.attr.method()` and annotated variables) without `await`,
    without handing the coroutine to `asyncio.run` / `create_task` / `gather` /
    `ensure_future` / `run_coroutine_threadsafe`, and without returning or storing
    it. A decorated `async def` (other than `staticmethod`, `classmethod`,
    `abstractmethod`, `override`) is skipped: the decorator may return something
    else; so is one whose name the same scope binds again (`fetch = to_sync(fetch)`,
    a second `def`), and a method that a project subclass overrides with a plain
    `def` (whatever the receiver: `self`, an attribute, an annotated variable).

    **Why is this bad?**

    Calling a coroutine function only creates the coroutine; its body never runs,
    and Python merely warns "coroutine ... was never awaited" when it is collected.
    The classic shape is a script calling `main()` where `main` is `async def`.

    **Example**

    ```python
    async def main() -> None:
        ...

    if __name__ == "__main__":
        main()
    ```

    **How to fix**

    `await main()` inside async code, `asyncio.run(main())` at the entry point, or
    keep a reference to `asyncio.create_task(main())`.
    """

    code = "IL206"
    name = "coroutine-never-awaited"
    family = FAMILY
    severity = Severity.ERROR
    roles: ClassVar[frozenset[str]] = frozenset(
        {"library", "script", "example", "test", "benchmark"}
    )
    VALID = (
        Valid(
            """
            import asyncio

            async def main():
                ...

            def start():
                asyncio.run(main())

            async def outer():
                await main()
                task = asyncio.create_task(main())
                return main()
            """
        ),
        Valid(
            """
            import functools

            def to_sync(fn):
                return fn

            @to_sync
            async def fetch():
                ...

            def run():
                fetch()
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            async def main():
                ...

            if __name__ == "__main__":
                main()
            """,
            line=5,
            message="never awaited",
        ),
        Invalid(
            """
            from pkg.client import Client

            class Service:
                def __init__(self, client: Client):
                    self.client = client

                async def stop(self):
                    self.client.close()
            """,
            files={"pkg/client.py": "class Client:\n    async def close(self):\n        ...\n"},
            line=8,
        ),
    )

    def check_graph(self, analysis: _LoopAnalysis) -> Iterator[Finding]:
        graph = analysis.graph
        by_site: dict[tuple[str, int, int], list[Edge]] = {}
        for edge in graph.edges:
            call = edge.call
            if call.role == CALL and call.dropped:
                by_site.setdefault((edge.relpath, call.start_line, call.start_col), []).append(edge)
        for (relpath, _, _), edges in sorted(by_site.items()):
            if not self.reportable(analysis, relpath):
                continue
            callees = [graph.functions[e.callee] for e in edges]
            if not all(
                c.is_async and c.fact.transparent and not _overridden_by_sync(graph, c)
                for c in callees
            ):
                continue
            callee = callees[0]
            edge = edges[0]
            yield self.finding(
                relpath,
                edge.call.site,
                (
                    f"`{edge.call.site.snippet[:60]}` creates an async generator of `async def "
                    f"{callee.qualname}` and drops it: it is never iterated, so its body never "
                    "runs; iterate it with `async for` (or drive it with `await anext()`)"
                )
                if callee.fact.generator
                else (
                    f"`{edge.call.site.snippet[:60]}` creates a coroutine of `async def "
                    f"{callee.qualname}` and drops it: the coroutine is never awaited, so its "
                    "body never runs; await it, pass it to asyncio.run() at the entry point, "
                    "or keep the task of asyncio.create_task()"
                ),
                related=[RelatedLocation(callee.relpath, callee.fact.site.span, "the `async def`")],
            )


class BlockingCallInAsync(_EventLoopRule):
    """An `async def` calls project code that blocks the event loop.

    **What it does**

    Follows the calls of each `async def` through synchronous project functions (the
    call graph, across modules) and flags the call, in the `async def`, that leads to
    a blocking call: `time.sleep`, `requests.*`, `httpx.get` / `post` / ...,
    `urllib.request.urlopen` / `urlretrieve`, a request of a synchronous HTTP client
    held in a variable (`with httpx.Client() as client: client.get(...)`,
    `session = requests.Session()`), `subprocess.run` / `call` / `check_call` / `check_output`,
    `socket.create_connection`, `.acquire()` on a `threading.Lock` / `RLock`,
    `.get()` on a `queue.Queue` / `multiprocessing.Queue`, and `.result()` on a
    future from `executor.submit` / `run_coroutine_threadsafe`, each without a
    timeout. The blocking call must be made on every path of its function that does
    not raise (a guard that raises on bad input does not make it optional, one in a
    `try` body that a handler may catch does; the body of a `while True:` polling
    loop runs at least once); so must every further call
    of the chain. The message names the chain. A function handed to `asyncio.to_thread`,
    `loop.run_in_executor` or an executor is not followed (it runs in another
    thread), nor is a function with a decorator other than `staticmethod`,
    `classmethod`, `abstractmethod`, `override`, or whose name the same scope binds
    again (`f = offload(f)`). Direct blocking calls in the
    `async def` itself are left to ruff's `ASYNC` rules.

    **Why is this bad?**

    While the call blocks, the event loop's thread does nothing else: every other
    request, heartbeat and timer of the process stalls, and a lock or queue waited on
    from the loop can deadlock when its releaser needs the loop.

    **Example**

    ```python
    # app/store.py
    def load(path):
        return requests.get(path).json()

    # app/server.py
    async def handle(request):
        return store.load(request.path)
    ```

    **How to fix**

    `await asyncio.to_thread(store.load, request.path)`, or give the helper an async
    version (`httpx.AsyncClient`, `asyncio.sleep`, `asyncio.create_subprocess_exec`).
    """

    code = "IL207"
    name = "blocking-call-in-async"
    family = FAMILY
    severity = Severity.WARNING
    VALID = (
        Valid(
            """
            import asyncio
            import time

            def pause():
                time.sleep(1)

            async def handler():
                await asyncio.to_thread(pause)
                loop = asyncio.get_running_loop()
                await loop.run_in_executor(None, pause)
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            from pkg.store import load

            async def handle(path):
                return load(path)
            """,
            files={
                "pkg/store.py": (
                    "import time\n\n"
                    "def load(path):\n    return _wait(path)\n\n"
                    "def _wait(path):\n    time.sleep(1)\n"
                )
            },
            line=4,
            message="handle -> load -> _wait -> time.sleep",
        ),
        Invalid(
            """
            from pkg.prompts import load_prompt

            async def generate(request):
                return load_prompt() + request
            """,
            files={
                "pkg/prompts.py": (
                    "import httpx\n\n"
                    "def load_prompt():\n"
                    "    with httpx.Client() as client:\n"
                    "        return client.get('https://example.com/p.txt').text\n"
                )
            },
            line=4,
            message="generate -> load_prompt -> httpx.Client.get",
        ),
        Invalid(
            """
            from pkg.endpoint import get_endpoint

            async def launch(url):
                return get_endpoint(url)
            """,
            files={
                "pkg/endpoint.py": (
                    "import time\nfrom urllib.request import urlopen\n\n"
                    "def get_endpoint(url):\n"
                    "    deadline = time.time() + 30\n"
                    "    while True:\n"
                    "        if time.time() > deadline:\n"
                    "            raise TimeoutError(url)\n"
                    "        try:\n"
                    "            return urlopen(url).read()\n"
                    "        except OSError:\n"
                    "            time.sleep(0.1)\n"
                )
            },
            line=4,
            message="launch -> get_endpoint -> urllib.request.urlopen",
        ),
    )

    def check_graph(self, analysis: _LoopAnalysis) -> Iterator[Finding]:
        graph = analysis.graph

        waits = analysis.project.config.section(EventLoopSettings).blocking_waits

        def blocking(fid: str) -> tuple[str, Site] | None:
            for what, site, always in graph.blocking.get(fid, ()):
                # A wait is ``<blocking type>.<method>`` (``queue.Queue.get``), not
                # any call named get (``requests.get``).
                if always and (waits or what.rpartition(".")[0] not in BLOCKING_TYPES):
                    return what, site
            return None

        def callable_hop(edge: Edge) -> bool:
            callee = graph.functions[edge.callee]
            return edge.call.role == CALL and not callee.is_async and callee.fact.transparent

        def follow(edge: Edge) -> bool:
            # Beyond the reported call, only calls made on every path: the chain must
            # block whenever the async code makes that call.
            return edge.call.always and callable_hop(edge)

        reported: set[tuple[str, int, int]] = set()
        for edge in graph.edges:
            caller = graph.functions.get(edge.caller)
            if caller is None or not caller.is_async or not callable_hop(edge):
                continue
            key = (edge.relpath, edge.call.start_line, edge.call.start_col)
            if key in reported or not self.reportable(analysis, edge.relpath):
                continue
            found = shortest_chain(graph, edge, blocking, follow)
            if found is None:
                continue
            reported.add(key)
            path, (what, site) = found
            names = [caller.qualname, *(graph.label(e.callee) for e in path), what]
            chain = " -> ".join(names)
            last = graph.functions[path[-1].callee]
            related = [
                RelatedLocation(e.relpath, e.site.span, f"calls `{graph.label(e.callee)}`")
                for e in path[1:]
            ]
            related.append(RelatedLocation(last.relpath, site.span, f"`{what}` blocks"))
            yield self.finding(
                edge.relpath,
                edge.call.site,
                f"`{edge.call.site.snippet[:60]}` in `async def {caller.qualname}` blocks the "
                f"event loop: {chain}; run the synchronous call in a worker thread "
                "(await asyncio.to_thread(...)) or use an async API",
                related=related,
                properties={"chain": chain},
            )
