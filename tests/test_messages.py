"""Message contracts: the model (events resolved through the project), the view
(``integ-lint messages``) and the shapes that must stay silent."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from integ_lint import api
from integ_lint.cli import main
from integ_lint.engine import RunOptions
from integ_lint.views.messages import builtin_svg, event_rows, mermaid

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'demo'\nversion = '0'\n")
    for relpath, code in files.items():
        target = tmp_path / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(code))
    return tmp_path


def codes(root: Path, select: list[str]) -> list[tuple[str, str, int]]:
    report = api.check([root], select=select, jobs=1, cache_dir=str(root / ".cache"))
    return sorted((f.code, f.path, f.line) for f in report.findings)


BUS = """
class Bus:
    def publish(self, name, data=None): ...
    def subscribe(self, name, handler): ...

event_bus = Bus()
"""


def test_events_resolve_through_re_exports_and_enums(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/bus.py": BUS,
            "pkg/events/__init__.py": "from pkg.events.names import Topic\n",
            "pkg/events/names.py": """
                import enum

                class Topic(str, enum.Enum):
                    LOGIN = "login"
            """,
            "pkg/a.py": """
                from pkg.bus import event_bus
                from pkg.events import Topic

                def on_login(data):
                    return data["user"], data["when"]

                event_bus.subscribe(Topic.LOGIN.value, on_login)
            """,
            "pkg/b.py": """
                from pkg.bus import event_bus

                event_bus.publish("login", {"user": 1})
            """,
        },
    )
    # The enum member and the literal are one event: only the missing key is reported.
    assert codes(root, ["IL6"]) == [("IL603", "pkg/a.py", 6)]


def test_a_send_taken_as_a_value_counts_as_a_publisher(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/signals.py": "from blinker import Signal\ntask_started = Signal()\n",
            "pkg/trace.py": """
                from pkg import signals

                send_started = signals.task_started.send

                def run(task):
                    send_started(task, task_id=1)
            """,
            "pkg/fixups.py": """
                from pkg import signals

                def on_started(sender, **kwargs):
                    return kwargs["anything"]

                signals.task_started.connect(on_started)
            """,
        },
    )
    assert codes(root, ["IL6"]) == []


def test_a_signal_receiver_requiring_an_argument_no_sender_passes(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/signals.py": "from django.dispatch import Signal\nuser_saved = Signal()\n",
            "pkg/models.py": """
                from pkg.signals import user_saved

                def save(user):
                    user_saved.send(sender=type(user), instance=user, created=True)
            """,
            "pkg/handlers.py": """
                from django.dispatch import receiver
                from pkg.signals import user_saved

                @receiver(user_saved)
                def audit(sender, instance, created, update_fields, **kwargs):
                    return instance, kwargs.get("signal")
            """,
        },
    )
    assert codes(root, ["IL6"]) == [("IL603", "pkg/handlers.py", 6)]


def test_tests_and_scripts_are_not_reported_but_their_publications_count(
    tmp_path: Path,
) -> None:
    root = project(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/bus.py": BUS,
            "pkg/events.py": 'DONE = "done"\nSTARTED = "started"\n',
            "pkg/worker.py": """
                from pkg.bus import event_bus
                from pkg import events

                def on_done(data):
                    return data["id"]

                event_bus.subscribe(events.DONE, on_done)
                event_bus.publish(events.STARTED, {"id": 1})
            """,
            "tests/test_worker.py": """
                from pkg.bus import event_bus
                from pkg import events

                def on_started(data):
                    return data["missing"]

                event_bus.subscribe(events.STARTED, on_started)
                event_bus.publish(events.DONE, {"id": 2})
            """,
        },
    )
    # The test's publication of DONE is a publisher (no IL602 in the library); the
    # test's own mismatch is not reported (roles).
    assert codes(root, ["IL6"]) == []


def test_opt_in_rules_run_only_when_named(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/bus.py": BUS,
            "pkg/events.py": 'A = "a"\nB = "b"\n',
            "pkg/m.py": """
                from pkg.bus import event_bus
                from pkg import events

                def on_a(data):
                    return data

                event_bus.subscribe(events.A, on_a)
                event_bus.publish(events.A, {})
                event_bus.publish("b", {})
            """,
        },
    )
    assert codes(root, ["IL6"]) == []
    assert codes(root, ["IL601", "IL605"]) == [("IL601", "pkg/m.py", 10), ("IL605", "pkg/m.py", 10)]


def test_fixture_message_map_table_and_formats(tmp_path: Path) -> None:
    fixture = FIXTURES / "message_backend"
    result = CliRunner().invoke(main, ["messages", str(fixture), "--format", "json"])
    assert result.exit_code == 0, result.output
    events = {row["event"]: row for row in json.loads(result.stdout)["events"]}
    login = events['"user.logged_in"']
    assert login["publishers"] == ["backend.auth"]
    assert login["subscribers"] == ["backend.content"]
    assert login["sent"] == ["ip", "user_id"]
    assert login["read"] == ["session_id", "user_id"]
    assert events['"sync.finished"']["sent"] is None  # built by a function
    for fmt, marker in (("mermaid", "flowchart LR"), ("dot", "digraph"), ("html", "<table")):
        out = CliRunner().invoke(main, ["messages", str(fixture), "--format", fmt])
        assert out.exit_code == 0 and marker in out.stdout, out.output
    table = CliRunner().invoke(main, ["messages", str(fixture)])
    assert "user.logged_in" in table.stdout and "backend.auth" in table.stdout


def test_builtin_svg_and_mermaid_draw_every_event() -> None:
    # keep_project: the index is wanted even when a warm cache memoised the phase
    report = api.check(
        [FIXTURES / "message_backend"],
        options=RunOptions(keep_project=True),
        select=["IL6"],
        jobs=1,
    )
    from integ_lint.model.messages import build_message_index

    project_index = report.project
    assert project_index is not None
    rows = event_rows(build_message_index(project_index), project_index)
    picture = builtin_svg(rows)
    assert picture.startswith("<svg") and picture.count("<rect") == len(
        {c for r in rows for c in r.publishers}
    ) + len(rows) + len({c for r in rows for c in r.subscribers})
    chart = mermaid(rows)
    assert all(row.event.replace('"', "'") in chart for row in rows)


@pytest.mark.parametrize("fixture", ["message_backend", "message_trainer"])
def test_message_fixtures_pass_the_default_boundaries_quietly(fixture: str) -> None:
    report = api.check([FIXTURES / fixture], jobs=1)
    assert not report.incomplete
    assert {f.code[:3] for f in report.findings} <= {"IL6"}, [
        f"{f.code} {f.path}:{f.line}" for f in report.findings if not f.code.startswith("IL6")
    ]


def test_pipe_ends_are_not_one_queue(tmp_path: Path) -> None:
    # What the parent sends on its end is read by the child on the other end: the
    # parent's own recv() reads the child's replies, not its own requests.
    root = project(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/env.py": """
                import multiprocessing as mp

                def child_loop(conn):
                    request = conn.recv()
                    conn.send({"obs": request["action"]})

                def step(action):
                    parent, child = mp.Pipe()
                    mp.Process(target=child_loop, args=(child,)).start()
                    parent.send({"cmd": "step", "action": action})
                    reply = parent.recv()
                    return reply["obs"]
            """,
        },
    )
    assert codes(root, ["IL604"]) == []


def test_a_queue_handed_to_another_function_has_writers_we_cannot_see(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/train.py": """
                import multiprocessing as mp

                def report_error(results, exc):
                    results.put({"error": str(exc)})

                def worker(results):
                    try:
                        results.put({"loss": 1.0})
                    except ValueError as exc:
                        report_error(results, exc)

                def train():
                    results = mp.Queue()
                    mp.Process(target=worker, args=(results,)).start()
                    message = results.get()
                    return message.get("error"), message["loss"]
            """,
        },
    )
    assert codes(root, ["IL604"]) == []


def test_a_signal_sent_through_a_parameter_may_be_any_signal(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/signals.py": "from blinker import Signal\njob_done = Signal()\n",
            "pkg/runner.py": """
                from pkg import signals

                def notify(signal, job):
                    signal.send(sender=job, job_id=1)

                def finish(job):
                    notify(signals.job_done, job)
            """,
            "pkg/audit.py": """
                from pkg import signals

                def on_done(sender, **kwargs):
                    return kwargs.get("job_id")

                signals.job_done.connect(on_done)
            """,
        },
    )
    assert codes(root, ["IL6"]) == []


def test_components_follow_configured_globs(tmp_path: Path) -> None:
    from integ_lint.config import load_config
    from integ_lint.views.messages import component_of

    (tmp_path / "pyproject.toml").write_text(
        '[tool.integ-lint.boundaries]\nmodules = ["svc.modules.*", "svc.core"]\n'
    )
    config = load_config([tmp_path])
    assert component_of("svc.modules.auth.handlers", config) == "svc.modules.auth"
    assert component_of("svc.core.bus", config) == "svc.core"
    assert component_of("tools.scripts.x", config) == "tools.scripts"
