"""Event loops in library code (IL201-IL205).

All five rules read the facts of one collector (:mod:`integ_lint.rules._loop_state`),
which walks each file once, tracks the known-loop state (running / not running /
unknown) statement by statement, and classifies every loop call. IL201 and IL203 then
drop calls in entry-point code, which needs the project (a module nothing imports is a
script) and the configuration (script paths, ``[project.scripts]``, CLI decorators).
The recognised shapes are documented in ``docs/rules/event-loops.md``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from typing import ClassVar

from integ_lint.discovery import matches_any
from integ_lint.findings import Finding, Severity
from integ_lint.project import FileFacts, ProjectIndex
from integ_lint.rule import FactCollector, Invalid, ProjectRule, Valid
from integ_lint.settings import EventLoopSettings

from ._loop_state import LoopCall, LoopFactsCollector, ModuleLoopFacts

FAMILY = "event-loops"


class _EntryPoints:
    """Decides which loop calls sit in entry-point code, for IL201 and IL203."""

    def __init__(self, project: ProjectIndex) -> None:
        config = project.config
        self.test_paths = config.general.test_paths
        self.script_paths = config.general.script_paths
        try:
            self.decorators = list(config.section(EventLoopSettings).entry_point_decorators)
        except (KeyError, AssertionError):
            self.decorators = list(EventLoopSettings().entry_point_decorators)
        self.scripts: list[tuple[str, str]] = []
        for entry in config.project_scripts:
            target = entry.split("[", 1)[0].strip()
            module, _, qualname = target.partition(":")
            self.scripts.append((module.strip(), qualname.strip()))
        # Imported qualified name -> the files importing it.
        self.importers: dict[str, set[str]] = {}
        self._memo: dict[tuple[str, str, bool], bool] = {}
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

    def is_entry(self, file: FileFacts, facts: ModuleLoopFacts, call: LoopCall) -> bool:
        relpath = file.relpath
        if relpath.rsplit("/", 1)[-1] == "__main__.py" or call.in_main_block:
            return True
        if matches_any(relpath, self.test_paths) or matches_any(relpath, self.script_paths):
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


class _EventLoopRule(ProjectRule):
    FACTS: ClassVar[tuple[type[FactCollector], ...]] = (LoopFactsCollector,)
    # Whether calls in entry-point code are exempt (IL201, IL203).
    LIBRARY_ONLY: ClassVar[bool] = False

    def check(self, project: ProjectIndex) -> Iterator[Finding]:
        entry_points = project.derived("event-loops.entry-points", _EntryPoints)
        for file, facts in project.facts(LoopFactsCollector.KEY):
            if not isinstance(facts, ModuleLoopFacts):
                continue
            if project.report_paths is not None and file.relpath not in project.report_paths:
                continue
            for call in facts.calls:
                if call.code != self.code:
                    continue
                if self.LIBRARY_ONLY and entry_points.is_entry(file, facts, call):
                    continue
                yield self.finding(file.relpath, call.site, call.message)


class AsyncioRunInLibrary(_EventLoopRule):
    """An event loop is run from library code (`asyncio.run`, `run_until_complete`).

    **What it does**

    Flags `asyncio.run(...)` and `loop.run_until_complete(...)` (on a loop from
    `asyncio.new_event_loop()`, `asyncio.get_event_loop()`, or a variable whose name
    clearly is a loop: `loop`, `event_loop`, `*_loop`) in library code where nothing is
    known about the current thread's event loop. Aliases are followed (`import asyncio
    as aio`, `from asyncio import run as arun`).

    Entry points are not library code: `__main__.py`, the body of
    `if __name__ == "__main__":`, files matching `script-paths` / `test-paths`, the
    functions named in the project's `[project.scripts]` / `[project.gui-scripts]`,
    functions decorated with one of `[tool.integ-lint.event-loops]
    entry-point-decorators` (click and typer commands by default), module-level
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
    LIBRARY_ONLY = True
    VALID = (
        Valid(
            """
            import asyncio

            def evaluate(agent):
                try:
                    asyncio.get_running_loop()
                except RuntimeError:
                    return asyncio.run(work(agent))
                raise RuntimeError("await work() instead")
            """
        ),
        Valid(
            """
            import asyncio

            def submit(agent):
                try:
                    loop = asyncio.get_running_loop()
                    return loop.create_task(work(agent))
                except RuntimeError:
                    pass
                return asyncio.run(work(agent))
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
        Valid(
            """
            import asyncio

            def helper():
                return asyncio.run(main())

            if __name__ == "__main__":
                helper()
            """,
        ),
        Valid(
            """
            import asyncio

            def run():
                asyncio.run(serve())
            """,
            project="""
            name = "example"
            version = "0"
            [project.scripts]
            example = "pkg.example:run"
            """,
        ),
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
            """
            import asyncio

            def helper():
                return asyncio.run(main())

            if __name__ == "__main__":
                helper()
            """,
            files={"pkg/other.py": "from pkg.example import helper\n"},
            line=4,
        ),
        Invalid(
            """
            import asyncio

            def submit(agent):
                try:
                    loop = asyncio.get_running_loop()
                except RuntimeError:
                    pass
                return asyncio.run(work(agent))
            """,
            line=8,
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
            """
            import asyncio

            def run():
                asyncio.run(serve())

            def helper():
                asyncio.run(serve())
            """,
            project="""
            name = "example"
            version = "0"
            [project.scripts]
            example = "pkg.example:run"
            """,
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
    LIBRARY_ONLY = True
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
        Valid(
            """
            import asyncio

            def run_sync(factory):
                try:
                    asyncio.get_running_loop()
                except RuntimeError:
                    return asyncio.run(factory())
                raise RuntimeError("await factory() instead")
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            import asyncio

            def run_sync(factory):
                try:
                    loop = asyncio.get_running_loop()
                    return asyncio.run_coroutine_threadsafe(factory(), loop).result(timeout=5)
                except RuntimeError:
                    return asyncio.run(factory())
            """,
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
    VALID = (
        Valid(
            """
            import asyncio

            def run_sync(factory):
                try:
                    asyncio.get_running_loop()
                except RuntimeError:
                    return asyncio.run(factory())
                return None
            """
        ),
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
    )
    INVALID = (
        Invalid(
            """
            import asyncio

            def run_sync_isolated(factory):
                try:
                    asyncio.get_running_loop()
                    private_loop = asyncio.new_event_loop()
                    try:
                        return private_loop.run_until_complete(factory())
                    finally:
                        private_loop.close()
                except RuntimeError:
                    return asyncio.run(factory())
            """,
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
