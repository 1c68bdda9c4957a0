"""The event-loop family IL201-IL205: known-loop state, entry points, and the fixture's
findings against its hand-written defect list."""

from __future__ import annotations

import pickle
import re
import textwrap
from pathlib import Path

import pytest
from integ_lint.rules._loop_state import ModuleLoopFacts

from integ_lint import api
from integ_lint.engine import RunOptions
from integ_lint.engine.examples import dedent
from integ_lint.findings import Severity

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "eval_service"
# IL201 and IL203 are opt-in: a prefix does not select them.
ALL_IL2 = ["IL2", "IL201", "IL203"]


def scan(
    root: Path,
    files: dict[str, str],
    *,
    project: str = "",
    config: str = "",
    report_paths: set[str] | None = None,
) -> list[tuple[str, int, str]]:
    pyproject = f'[project]\nname = "example"\nversion = "0"\n{textwrap.dedent(project)}\n'
    pyproject += (
        f'\n[tool.integ-lint]\nselect = ["IL2", "IL201", "IL203"]\n{textwrap.dedent(config)}\n'
    )
    (root / "pyproject.toml").write_text(pyproject)
    for relpath, code in files.items():
        target = root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(dedent(code))
    options = RunOptions(jobs=1, report_paths=report_paths)
    report = api.check([root], root / "pyproject.toml", options=options)
    internal = [n.message for n in report.notifications if n.kind.value == "internal-error"]
    assert not internal, internal
    return sorted((f.path, f.line, f.code) for f in report.findings)


# -- the fixture against DEFECTS.md ---------------------------------------------------

_DEFECT = re.compile(r"^(\S+\.py):(\d+)\s+(IL2\d\d)\b")
_SILENT = re.compile(r"^(\S+\.py):(\d+)\s")


def _defects(fixture: Path = FIXTURE) -> tuple[set[tuple[str, int, str]], set[tuple[str, int]]]:
    text = (fixture / "DEFECTS.md").read_text()
    intended, silent = set(), set()
    in_silent = False
    for line in text.splitlines():
        if line.startswith("## "):
            in_silent = "silent" in line.lower()
        match = _DEFECT.match(line)
        if match and not in_silent:
            intended.add((match[1], int(match[2]), match[3]))
        elif in_silent and (m := _SILENT.match(line)):
            silent.add((m[1], int(m[2])))
    return intended, silent


def test_fixture_findings_are_the_documented_defects() -> None:
    intended, silent = _defects()
    assert len(intended) == 7 and silent
    report = api.check([FIXTURE], select=ALL_IL2, jobs=1)
    got = {(f.path, f.line, f.code) for f in report.findings}
    assert got == intended
    assert not {(path, line) for path, line, _ in got} & silent


def test_async_app_findings_are_the_documented_defects() -> None:
    fixture = FIXTURE.parent / "async_app"
    intended, silent = _defects(fixture)
    assert len(intended) == 10 and len(silent) == 12
    report = api.check([fixture], select=ALL_IL2, jobs=1)
    got = {(f.path, f.line, f.code) for f in report.findings}
    assert got == intended
    assert not {(path, line) for path, line, _ in got} & silent
    by_line = {(f.path, f.line): f for f in report.findings}
    chain = by_line[("async_app/training/trainer.py", 22)]
    assert (
        "Trainer.fit -> Scheduler.refresh -> fetch_metrics_blocking -> asyncio.run" in chain.message
    )
    assert [r.path for r in chain.related] == [
        "async_app/scheduling/scheduler.py",
        "async_app/metrics/source.py",
    ]
    may_raise = by_line[("async_app/metrics/source.py", 15)]
    assert "may raise" in may_raise.message and "Scheduler.refresh" in may_raise.message
    assert "_report_forever" not in may_raise.message
    blocking = by_line[("async_app/serving/server.py", 13)]
    assert blocking.severity is Severity.WARNING
    assert "list_checkpoints -> load_checkpoint_index -> _wait_for_file -> time.sleep" in (
        blocking.message
    )
    client = by_line[("async_app/serving/server.py", 26)]
    assert "generate -> load_system_prompt -> httpx.Client.get" in client.message
    polling = by_line[("async_app/serving/server.py", 35)]
    assert "connect -> wait_for_endpoint -> urllib.request.urlopen" in polling.message
    assert "run_sync" in by_line[("async_app/jobs.py", 27)].message


# -- known-loop state -----------------------------------------------------------------


def test_elif_after_running_branch_is_not_running(tmp_path: Path) -> None:
    code = """
        import asyncio

        def run_blocking(coro, strict):
            if asyncio._get_running_loop() is not None:
                raise RuntimeError("running")
            elif strict:
                return asyncio.run(coro)
            return asyncio.run(coro)
        """
    assert scan(tmp_path, {"pkg/a.py": code}) == []


def test_state_does_not_leak_between_functions(tmp_path: Path) -> None:
    code = """
        import asyncio

        def probe():
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                return asyncio.run(work())

        def other():
            return asyncio.run(work())
        """
    assert scan(tmp_path, {"pkg/a.py": code}) == [("pkg/a.py", 10, "IL201")]


def test_sync_function_nested_in_coroutine_is_unknown(tmp_path: Path) -> None:
    code = """
        import asyncio

        async def outer():
            def in_thread():
                return asyncio.run(work())
            callback = lambda: asyncio.run(work())
            asyncio.run(work())
            return in_thread, callback
        """
    assert scan(tmp_path, {"pkg/a.py": code}) == [
        ("pkg/a.py", 5, "IL201"),
        ("pkg/a.py", 6, "IL201"),
        ("pkg/a.py", 7, "IL202"),
    ]


def test_is_running_branches(tmp_path: Path) -> None:
    code = """
        import asyncio

        def legacy(coro):
            loop = asyncio.get_event_loop()
            if loop.is_running():
                return asyncio.ensure_future(coro)
            return loop.run_until_complete(coro)

        def other(coro):
            if asyncio.get_event_loop().is_running():
                return asyncio.run(coro)
            return None
        """
    assert scan(tmp_path, {"pkg/a.py": code}) == [("pkg/a.py", 11, "IL205")]


def test_one_line_guard_and_tuple_handler(tmp_path: Path) -> None:
    code = """
        import asyncio

        def a(coro):
            try: asyncio.get_running_loop()
            except (ValueError, RuntimeError): return asyncio.run(coro)
            raise RuntimeError("await it")
        """
    assert scan(tmp_path, {"pkg/a.py": code}) == []


def test_handler_that_exits_leaves_running_state(tmp_path: Path) -> None:
    code = """
        import asyncio

        def a(coro):
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                return None
            return asyncio.run(coro)
        """
    assert scan(tmp_path, {"pkg/a.py": code}) == [("pkg/a.py", 8, "IL205")]


def test_deadlock_through_event_loop_in_running_state(tmp_path: Path) -> None:
    code = """
        import asyncio

        def run_sync(coro):
            asyncio.get_running_loop()
            loop = asyncio.get_event_loop()
            future = asyncio.run_coroutine_threadsafe(coro, loop=loop)
            return future.result(10)

        def fine(coro, loop):
            return asyncio.run_coroutine_threadsafe(coro, loop).result(10)
        """
    assert scan(tmp_path, {"pkg/a.py": code}) == [("pkg/a.py", 7, "IL204")]


def test_rebinding_a_loop_name_forgets_the_loop(tmp_path: Path) -> None:
    # The shape of filelock's finalizer: `loop` first holds the running loop, then the
    # except branch rebinds it (walrus) to a stored loop that may belong to another thread.
    code = """
        import asyncio

        def release(self):
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                if (loop := self.stored_loop) is None:
                    return
                if not loop.is_running():
                    loop.run_until_complete(self.release_async())
                    return
                pending = asyncio.run_coroutine_threadsafe(self.release_async(), loop)
                pending.result()
            else:
                loop.create_task(self.release_async())
        """
    assert scan(tmp_path, {"pkg/a.py": code}) == []


def test_unrelated_receivers_are_not_loops(tmp_path: Path) -> None:
    code = """
        def a(runner, loopback):
            runner.run_until_complete(job())
            loopback.run_until_complete(job())
        """
    assert scan(tmp_path, {"pkg/a.py": code}) == []


def test_global_state_calls(tmp_path: Path) -> None:
    code = """
        import asyncio
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
        """
    assert scan(tmp_path, {"pkg/a.py": code}) == [("pkg/a.py", 4, "IL203")]


# -- entry points ---------------------------------------------------------------------


def test_main_only_chain_and_its_limits(tmp_path: Path) -> None:
    code = """
        import asyncio

        __all__ = ["exported"]

        def chained():
            return asyncio.run(work())

        def main_sync():
            return chained()

        def exported():
            return asyncio.run(work())

        def ping():
            return asyncio.run(pong())

        def pong():
            return ping()

        if "__main__" == __name__:
            main_sync()
            exported()
        """
    files = {"pkg/a.py": code, "pkg/b.py": "import pkg.a\n"}
    # `exported` is only called from the __main__ block (no loop runs there), so the
    # call graph clears it; the ping/pong cycle has no known entry: unknown.
    assert scan(tmp_path, files) == [("pkg/a.py", 15, "IL201")]


def test_main_only_function_imported_elsewhere_is_library(tmp_path: Path) -> None:
    code = """
        import asyncio

        def main_sync():
            return asyncio.run(work())

        if __name__ == "__main__":
            main_sync()
        """
    files = {
        "pkg/a.py": code,
        "pkg/b.py": "from pkg.a import main_sync\n\ndef use():\n    return main_sync()\n",
    }
    assert scan(tmp_path, files) == [("pkg/a.py", 4, "IL201")]


@pytest.mark.parametrize(
    ("importer", "expected"),
    [
        ("", []),
        ("import pkg.tool\n", [("pkg/tool.py", 4, "IL201"), ("pkg/tool.py", 5, "IL203")]),
        ("from pkg import tool\n", [("pkg/tool.py", 4, "IL201"), ("pkg/tool.py", 5, "IL203")]),
    ],
)
def test_script_only_module(
    tmp_path: Path, importer: str, expected: list[tuple[str, int, str]]
) -> None:
    code = """
        import asyncio

        def helper():
            asyncio.run(work())
            asyncio.set_event_loop_policy(None)

        def api():
            return helper()

        HANDLERS = [api]

        if __name__ == "__main__":
            api()
        """
    files = {"pkg/__init__.py": "", "pkg/tool.py": code}
    if importer:
        files["pkg/user.py"] = importer
    assert scan(tmp_path, files) == expected


def test_project_scripts_with_extras_and_nested_functions(tmp_path: Path) -> None:
    code = """
        import asyncio

        class App:
            def main(self):
                def inner():
                    asyncio.run(work())
                inner()

        def not_entry():
            asyncio.run(work())
        """
    project = """
        [project.gui-scripts]
        app = "pkg.cli:App.main [gui]"
        """
    assert scan(tmp_path, {"pkg/cli.py": code}, project=project) == [("pkg/cli.py", 10, "IL201")]


def test_entry_point_decorators_are_configurable(tmp_path: Path) -> None:
    code = """
        import asyncio
        import click
        from myapp import entry

        @entry
        def a():
            asyncio.run(work())

        @click.command()
        def b():
            asyncio.run(work())
        """
    config = """
        [tool.integ-lint.event-loops]
        entry-point-decorators = ["myapp.entry"]
        """
    assert scan(tmp_path, {"pkg/a.py": code}, config=config) == [("pkg/a.py", 11, "IL201")]


def test_custom_script_paths(tmp_path: Path) -> None:
    code = "import asyncio\nasyncio.run(work())\n"
    config = 'script-paths = ["tools/**"]'
    files = {"tools/run.py": code, "scripts/run.py": code}
    assert scan(tmp_path, files, config=config) == [("scripts/run.py", 2, "IL201")]


# -- engine integration ---------------------------------------------------------------


def test_suppression_comment_and_report_paths(tmp_path: Path) -> None:
    code = "import asyncio\n\ndef f():\n    return asyncio.run(work())\n"
    suppressed = code.replace("(work())", "(work())  # integ-lint: ignore[IL201]")
    files = {"pkg/a.py": code, "pkg/b.py": suppressed, "pkg/c.py": code}
    assert scan(tmp_path, files) == [("pkg/a.py", 4, "IL201"), ("pkg/c.py", 4, "IL201")]
    assert scan(tmp_path, {}, report_paths={"pkg/c.py"}) == [("pkg/c.py", 4, "IL201")]


def test_bad_input_does_not_crash(tmp_path: Path) -> None:
    files = {
        "pkg/broken.py": "import asyncio\ndef f(:\n    asyncio.run(x)\n",
        "pkg/ok.py": "import asyncio\nasyncio.run(main())\n",
        "pkg/weird.py": "import asyncio\nasyncio.get_event_loop().run_until_complete\nrun = asyncio.run\n",
    }
    assert scan(tmp_path, files) == [("pkg/ok.py", 2, "IL201")]


def test_facts_are_picklable_and_cheap_for_unrelated_files() -> None:
    report = api.check([FIXTURE], select=ALL_IL2, jobs=1)
    assert {f.code: f.severity for f in report.findings} == {
        "IL201": Severity.ERROR,
        "IL202": Severity.ERROR,
        "IL203": Severity.WARNING,
        "IL204": Severity.ERROR,
        "IL205": Severity.ERROR,
    }
    facts = ModuleLoopFacts(module="m", imports=("a.b",), main_only_functions=("f",))
    assert pickle.loads(pickle.dumps(facts)) == facts


def test_fixture_sarif_validates_against_the_official_schema() -> None:
    from gate_rules import validate_sarif

    report = api.check([FIXTURE], select=ALL_IL2, jobs=1)
    document = validate_sarif(api.render(report, "sarif"))
    results = document["runs"][0]["results"]
    assert sorted(r["ruleId"] for r in results) == sorted(f.code for f in report.findings)
    assert len(results) == 7


# -- guards, helpers and context across calls (issue 17) ---------------------------------


def test_loop_none_guard_runner_anyio_trio(tmp_path: Path) -> None:
    code = """
        import anyio
        import asyncio
        import trio

        def guarded(coro):
            loop = None
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                pass
            if loop is None:
                return asyncio.run(coro)
            if loop and loop.is_running():
                return asyncio.run(coro)
            return None

        def runner_api():
            with asyncio.Runner() as runner:
                return runner.run(work())

        def other_libraries():
            anyio.run(work)
            trio.run(work)
        """
    assert scan(tmp_path, {"pkg/a.py": code}) == [
        ("pkg/a.py", 14, "IL205"),
        ("pkg/a.py", 19, "IL201"),
        ("pkg/a.py", 22, "IL201"),
        ("pkg/a.py", 23, "IL201"),
    ]


def test_nest_asyncio_in_the_module_guards_loop_starts_but_is_still_il203(
    tmp_path: Path,
) -> None:
    code = """
        import asyncio
        import nest_asyncio

        nest_asyncio.apply()

        def run_here():
            return asyncio.run(work())
        """
    assert scan(tmp_path, {"pkg/a.py": code}) == [("pkg/a.py", 4, "IL203")]


def test_il203_honours_thread_bodies_and_loop_owners(tmp_path: Path) -> None:
    code = """
        import asyncio
        import threading

        def lock():
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                asyncio.set_event_loop(asyncio.new_event_loop())
            return asyncio.Lock()

        def _loop_body():
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            loop.run_forever()

        def start():
            threading.Thread(target=_loop_body).start()

        def library():
            asyncio.set_event_loop(asyncio.new_event_loop())
            asyncio.set_event_loop_policy(None)
        """
    # lock() installs a loop it never runs nor closes (guarded or not, a leak);
    # _loop_body is a thread that owns its loop; library() changes global state.
    assert scan(tmp_path, {"pkg/a.py": code}) == [
        ("pkg/a.py", 8, "IL203"),
        ("pkg/a.py", 8, "IL203"),
        ("pkg/a.py", 20, "IL203"),
        ("pkg/a.py", 20, "IL203"),
        ("pkg/a.py", 21, "IL203"),
    ]


def test_il205_chain_needs_every_path_and_a_running_caller(tmp_path: Path) -> None:
    files = {
        "pkg/sync.py": """
            import asyncio

            def always():
                return asyncio.run(work())

            def sometimes(flag):
                if flag:
                    return asyncio.run(work())
                return None

            def wrapper():
                return always()
            """,
        "pkg/app.py": """
            from pkg.sync import always, sometimes, wrapper

            async def handler():
                wrapper()
                sometimes(True)

            def plain():
                always()
            """,
    }
    found = scan(tmp_path, files)
    assert ("pkg/app.py", 4, "IL205") in found
    # `sometimes` starts a loop on one path only; it has one caller, a running one:
    # IL205 at its loop call (it raises whenever that path runs).
    assert ("pkg/sync.py", 8, "IL205") in found
    # `always` has a running caller (through wrapper) and an unknown one: may raise.
    assert ("pkg/sync.py", 4, "IL201") in found
    assert ("pkg/app.py", 8, "IL205") not in found


def test_il206_resolution_and_what_it_skips(tmp_path: Path) -> None:
    files = {
        "pkg/base.py": """
            import functools

            class Base:
                async def close(self):
                    pass

                async def flush(self):
                    pass

                def shutdown(self):
                    self.flush()

            class SyncChild(Base):
                def flush(self):
                    pass

            def sync_wrapper(fn):
                @functools.wraps(fn)
                def inner(*args):
                    return None
                return inner

            @sync_wrapper
            async def wrapped():
                pass

            async def agen():
                yield 1
            """,
        "pkg/use.py": """
            from pkg.base import Base, agen, wrapped

            class User(Base):
                def stop(self):
                    self.close()
                    wrapped()
                    agen()
                    result = self.close()
                    return result
            """,
    }
    # self.close() resolves through the base class; an async generator dropped is the
    # same defect; the decorated one and the method a subclass overrides with a plain
    # def (Base.shutdown's self.flush()) are skipped.
    assert scan(tmp_path, files) == [("pkg/use.py", 5, "IL206"), ("pkg/use.py", 7, "IL206")]
    report = api.check([tmp_path], tmp_path / "pyproject.toml", options=RunOptions(jobs=1))
    messages = {f.line: f.message for f in report.findings}
    assert "never awaited" in messages[5] and "async generator" in messages[7]


def test_il207_follows_only_unconditional_chains_and_waits_are_opt_in(tmp_path: Path) -> None:
    files = {
        "pkg/io.py": """
            import queue
            import subprocess
            import time

            class Pipe:
                def __init__(self):
                    self.q = queue.Queue()

                def take(self):
                    return self.q.get()

            def maybe(flag):
                if flag:
                    time.sleep(1)

            def version():
                return subprocess.run(["tool", "--version"])
            """,
        "pkg/app.py": """
            import asyncio
            from pkg.io import Pipe, maybe, version

            async def handler(pipe: Pipe):
                maybe(True)
                pipe.take()
                if pipe:
                    version()
                await asyncio.to_thread(version)
            """,
    }
    assert scan(tmp_path, files) == [("pkg/app.py", 8, "IL207")]
    opt_in = "[tool.integ-lint.event-loops]\nblocking-waits = true\n"
    assert scan(tmp_path, files, config=opt_in) == [
        ("pkg/app.py", 6, "IL207"),
        ("pkg/app.py", 8, "IL207"),
    ]


def test_il206_local_names_shadow_a_module_level_instance(tmp_path: Path) -> None:
    files = {
        "pkg/client.py": """
            class Client:
                async def close(self):
                    pass

            client = Client()

            def by_parameter(client):
                client.close()

            def by_closure(client):
                def inner():
                    client.close()
                return inner

            def by_loop(clients):
                for client in clients:
                    client.close()

            def by_with(pool):
                with pool.get() as client:
                    client.close()

            def by_unpacking(make):
                client, other = make()
                client.close()

            def the_module_level_one():
                client.close()
            """,
    }
    # Only the module-level Client is known to be a Client: a parameter, a closure's
    # variable, a loop/with target and an unpacked name of the same name are not.
    assert scan(tmp_path, files) == [("pkg/client.py", 28, "IL206")]


def test_il206_and_il207_skip_a_function_whose_name_is_bound_again(tmp_path: Path) -> None:
    files = {
        "pkg/a.py": """
            import sys
            import time

            from pkg.sync import to_sync

            async def fetch():
                pass

            fetch = to_sync(fetch)

            if sys.version_info >= (3, 99):
                async def close():
                    pass
            else:
                def close():
                    pass

            async def kept():
                pass

            def pause():
                time.sleep(1)

            pause = to_sync(pause)

            def run():
                fetch()
                close()
                kept()

            async def handler():
                pause()
            """,
        "pkg/sync.py": "def to_sync(fn):\n    return fn\n",
    }
    # `fetch = to_sync(fetch)` and the second `def close` rebind the name: which
    # body a call reaches is not known, like a decorated function.
    assert scan(tmp_path, files) == [("pkg/a.py", 29, "IL206")]


def test_il206_skips_a_method_a_subclass_overrides_with_a_plain_def(tmp_path: Path) -> None:
    files = {
        "pkg/a.py": """
            class Base:
                async def close(self):
                    pass

                async def flush(self):
                    pass

            class SyncChild(Base):
                def close(self):
                    pass

            class Holder:
                def __init__(self, base: Base):
                    self.base = base

                def stop(self):
                    self.base.close()
                    self.base.flush()

            def stop(base: Base):
                base.close()
                base.flush()
            """,
    }
    # The receiver, an attribute or an annotated parameter, may be a SyncChild whose
    # close() is a plain def; flush() has no sync override.
    assert scan(tmp_path, files) == [("pkg/a.py", 18, "IL206"), ("pkg/a.py", 22, "IL206")]


def test_il207_requests_get_is_a_blocking_call_not_an_opt_in_wait(tmp_path: Path) -> None:
    files = {
        "pkg/store.py": """
            import requests

            def load(path):
                return requests.get(path).json()
            """,
        "pkg/server.py": """
            from pkg.store import load

            async def handle(path):
                return load(path)
            """,
    }
    # The docstring's own example: only Queue.get / Lock.acquire / Future.result waits
    # are opt-in (blocking-waits), not every call whose name ends in get.
    assert scan(tmp_path, files) == [("pkg/server.py", 4, "IL207")]


def test_il207_sync_http_clients_block(tmp_path: Path) -> None:
    files = {
        "pkg/prompts.py": """
            import httpx
            import requests

            def load_prompt():
                try:
                    with httpx.Client() as client:
                        return client.get("https://example.com/prompt.txt").text
                except Exception:
                    return ""

            def fetch(url):
                return httpx.get(url).text

            def post(url):
                session = requests.Session()
                return session.post(url)

            class Local:
                def __enter__(self):
                    return 42

            def opened():
                with Local() as value:
                    return value.get()
            """,
        "pkg/server.py": """
            import httpx
            from pkg.prompts import fetch, load_prompt, opened, post

            async def handle(url):
                prompt = load_prompt()
                fetch(url)
                post(url)
                opened()
                async with httpx.AsyncClient() as client:
                    await client.get(url)
            """,
    }
    # A `with` binds a type only for a known HTTP client (another class's __enter__
    # may return anything), so `value.get()` is not a request.
    assert scan(tmp_path, files) == [
        ("pkg/server.py", 5, "IL207"),
        ("pkg/server.py", 6, "IL207"),
        ("pkg/server.py", 7, "IL207"),
    ]


def test_il207_polling_loops_and_raising_guards(tmp_path: Path) -> None:
    files = {
        "pkg/endpoint.py": """
            import time
            from urllib.request import urlopen

            def get_endpoint(url):
                deadline = time.time() + 30
                while True:
                    if time.time() > deadline:
                        raise TimeoutError(url)
                    try:
                        with urlopen(url) as response:
                            return response.read()
                    except OSError:
                        pass
                    time.sleep(0.1)

            def checked(path):
                if not path:
                    raise ValueError("no path")
                time.sleep(1)

            def wait_until(ready):
                while True:
                    if ready():
                        break
                    time.sleep(0.1)

            def wait_while(busy):
                while busy():
                    time.sleep(0.1)

            def early(path):
                if not path:
                    return None
                time.sleep(1)
            """,
        "pkg/app.py": """
            from pkg.endpoint import checked, early, get_endpoint, wait_until, wait_while

            async def launch(url, ready):
                get_endpoint(url)
                checked(url)
                wait_until(ready)
                wait_while(ready)
                early(url)
            """,
    }
    # `while True:` runs its body at least once (up to a conditional break); a guard
    # that raises does not make the blocking call optional; a conditional return does.
    assert scan(tmp_path, files) == [("pkg/app.py", 4, "IL207"), ("pkg/app.py", 5, "IL207")]


def test_il207_return_or_raise_in_a_try_body_with_handlers_is_not_a_guard(
    tmp_path: Path,
) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/fetch.py": """
            import requests

            _cache = {}

            def cached(url):
                try:
                    return _cache[url]
                except KeyError:
                    pass
                return requests.get(url)

            def checked(url):
                try:
                    if url not in _cache:
                        raise KeyError(url)
                    return _cache[url]
                except KeyError:
                    pass
                return requests.get(url)

            def first(url):
                try:
                    return requests.get(url)
                except OSError:
                    return None
            """,
        "pkg/app.py": """
            from pkg.fetch import cached, checked, first

            async def handle(url):
                cached(url)
                checked(url)
                first(url)
            """,
    }
    # After `try: return ...` or a raise that a handler may catch, the code after the
    # `try` runs only on some paths; the value of the return is still computed.
    assert scan(tmp_path, files) == [("pkg/app.py", 6, "IL207")]
