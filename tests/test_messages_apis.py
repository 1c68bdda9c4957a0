"""Message contracts beyond the default bus shapes: configured APIs (and the cache that
must follow them), pyee emitters, redis streams and channels, typed payloads."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from integ_lint import api
from integ_lint.cli import main
from integ_lint.config import ConfigError
from integ_lint.config.settings import MessageSettings
from integ_lint.engine.cache import namespace
from integ_lint.facts.messages import PatternError, parse_api_pattern

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

CUSTOM_CONFIG = """
[tool.integ-lint.messages]
publish = ["emit_event(payload=0, event=name)"]
subscribe = ["add_hook(event=0, handler=1)"]
"""

HOOKS = """
HOOKS = {}

def emit_event(payload, name):
    for hook in HOOKS.get(name, ()):
        hook(payload)

def add_hook(name, handler):
    HOOKS.setdefault(name, []).append(handler)
"""

APP = """
from pkg.hooks import add_hook, emit_event

def on_paid(data):
    return data["order_id"], data["amount"]

add_hook("order.paid", on_paid)

def pay(order_id):
    emit_event({"order_id": order_id}, name="order.paid")
"""


def project(root: Path, files: dict[str, str], config: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'demo'\nversion = '0'\n" + config)
    for relpath, code in files.items():
        target = root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(code))
    return root


def findings(root: Path, select: list[str], cache: bool = False) -> list[tuple[str, str, int]]:
    options = {"cache_dir": str(root / ".cache")} if cache else {}
    report = api.check([root], select=select, jobs=1, **options)
    return sorted((f.code, f.path, f.line) for f in report.findings)


# -- patterns ------------------------------------------------------------------------------
def test_pattern_positions_keywords_and_receivers() -> None:
    pattern = parse_api_pattern("hub.emit_event(payload=0, event=1|name)", "publish")
    assert (pattern.receiver, pattern.method, pattern.decorator) == ("hub", "emit_event", False)
    event = pattern.spec("event")
    assert event is not None and (event.position, event.keyword) == (1, "name")
    decorator = parse_api_pattern("@*.handles(event=topic)", "subscribe")
    assert decorator.decorator and decorator.receiver == "*"


@pytest.mark.parametrize(
    ("text", "kind", "why"),
    [
        ("emit_event", "publish", "expected [@][RECEIVER.]METHOD"),
        ("emit_event(payload=0)", "publish", "where the event is"),
        ("emit_event(event=0, handler=1)", "publish", "unknown role 'handler'"),
        ("add_hook(event=0)", "subscribe", "must say where the handler is"),
        ("@emit(event=0)", "publish", "only subscribe patterns"),
        ("@on(event=0, handler=1)", "subscribe", "decorated function"),
        ("emit(event=-1)", "publish", "not a position or a keyword"),
        ("emit(event=)", "publish", "needs a position or keyword"),
        ("emit(event=²)", "publish", "not a position or a keyword"),
    ],
)
def test_malformed_patterns_say_why(text: str, kind: str, why: str) -> None:
    with pytest.raises(PatternError) as raised:
        parse_api_pattern(text, kind)
    assert why in str(raised.value)


def test_bad_pattern_is_a_one_line_config_error_naming_the_key(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {"pkg/app.py": APP},
        '[tool.integ-lint.messages]\npublish = ["emit_event(payload=0)"]\n',
    )
    with pytest.raises(ConfigError) as raised:
        api.check([root], jobs=1)
    message = str(raised.value)
    assert "\n" not in message
    assert "tool.integ-lint.messages.publish" in message and "emit_event(payload=0)" in message
    result = CliRunner().invoke(main, ["check", str(root), "--no-cache"])
    assert result.exit_code != 0 and "tool.integ-lint.messages.publish" in result.output


def test_ill_typed_pattern_key_names_the_key(tmp_path: Path) -> None:
    root = project(tmp_path, {"pkg/app.py": APP}, '[tool.integ-lint.messages]\nsubscribe = "x"\n')
    with pytest.raises(ConfigError, match="subscribe"):
        api.check([root], jobs=1)


# -- the configured API ----------------------------------------------------------------------
def test_configured_api_is_checked_and_only_when_configured(tmp_path: Path) -> None:
    files = {"pkg/__init__.py": "", "pkg/hooks.py": HOOKS, "pkg/app.py": APP}
    plain = project(tmp_path / "plain", files)
    assert findings(plain, ["IL6"]) == []  # emit_event is nobody's bus by default
    configured = project(tmp_path / "configured", files, CUSTOM_CONFIG)
    assert findings(configured, ["IL6"]) == [("IL603", "pkg/app.py", 5)]


def test_a_changed_pattern_changes_the_cache_namespace(tmp_path: Path) -> None:
    from integ_lint.facts.messages import MessageFactCollector

    root = project(tmp_path, {"pkg/app.py": APP}, CUSTOM_CONFIG)
    config = api.load([root])
    before = namespace(config, [], [MessageFactCollector])
    config.section(MessageSettings).publish = ["emit_event(payload=0, event=1|name)"]
    assert namespace(config, [], [MessageFactCollector]) != before


def test_cached_facts_follow_a_changed_pattern(tmp_path: Path) -> None:
    files = {"pkg/__init__.py": "", "pkg/hooks.py": HOOKS, "pkg/app.py": APP}
    root = project(tmp_path, files, CUSTOM_CONFIG)
    assert findings(root, ["IL6"], cache=True) == [("IL603", "pkg/app.py", 5)]
    # The same files, the event now taken from a keyword nobody passes: every
    # publication becomes dynamic, so the cached facts must not be reused.
    (root / "pyproject.toml").write_text(
        "[project]\nname = 'demo'\nversion = '0'\n"
        + CUSTOM_CONFIG.replace("event=name", "event=topic")
    )
    assert findings(root, ["IL6"], cache=True) == []


# -- typed payloads ---------------------------------------------------------------------------
BUS = """
class Bus:
    def publish(self, name, data=None): ...
    def subscribe(self, name, handler): ...

event_bus = Bus()
"""


def test_typeddict_instance_sends_its_fields(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/bus.py": BUS,
            "pkg/payloads.py": """
                from typing import TypedDict

                class Base(TypedDict):
                    user_id: int

                class Login(Base, total=False):
                    ip: str
            """,
            "pkg/app.py": """
                from pkg.bus import event_bus
                from pkg.payloads import Login

                def on_login(data):
                    return data["user_id"], data["ip"], data["session"]

                event_bus.subscribe("user.login", on_login)

                def login(uid):
                    payload = Login(user_id=uid, ip="::1")
                    event_bus.publish("user.login", payload)
            """,
        },
    )
    assert findings(root, ["IL603"]) == [("IL603", "pkg/app.py", 6)]


def test_payload_class_with_an_unknown_base_stays_unknown(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/bus.py": BUS,
            "pkg/app.py": """
                from dataclasses import dataclass

                from library import BaseEvent
                from pkg.bus import event_bus

                @dataclass
                class Login(BaseEvent):
                    user_id: int

                def on_login(login: Login):
                    return login.user_id, login.timestamp  # timestamp may come from BaseEvent

                def on_any(data):
                    return data["timestamp"]

                event_bus.subscribe("user.login", on_login)
                event_bus.subscribe("user.login", on_any)
                event_bus.publish("user.login", Login(user_id=1))
            """,
        },
    )
    assert findings(root, ["IL603"]) == []


def test_dataclass_payload_read_by_attribute_only_when_annotated(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/bus.py": BUS,
            "pkg/app.py": """
                from dataclasses import dataclass

                from pkg.bus import event_bus

                @dataclass
                class Login:
                    user_id: int

                    @property
                    def key(self):
                        return str(self.user_id)

                def typed(login: "Login"):
                    return login.user_id, login.key, login.when

                def untyped(login):
                    return login.when

                event_bus.subscribe("user.login", typed)
                event_bus.subscribe("user.login", untyped)
                event_bus.publish("user.login", Login(user_id=1))
            """,
        },
    )
    assert findings(root, ["IL603"]) == [("IL603", "pkg/app.py", 15)]


# -- pyee and redis -------------------------------------------------------------------------------
def test_pyee_emitter_by_construction_whatever_its_name(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/app.py": """
                from pyee.base import EventEmitter

                class Service:
                    def __init__(self):
                        self.notifications = EventEmitter()
                        self.notifications.on("saved", self.on_saved)

                    def save(self, key):
                        self.notifications.emit("saved", {"key": key})

                    def on_saved(self, data):
                        return data["key"], data["size"]
            """,
        },
    )
    assert findings(root, ["IL6"]) == [("IL603", "pkg/app.py", 13)]


def test_redis_pubsub_needs_a_redis_import(tmp_path: Path) -> None:
    code = """
        CHANNEL = "jobs"
        OTHER = "jobs.done"

        def run(client, listener):
            client.publish(CHANNEL, "go")
            listener.subscribe(OTHER)
    """
    plain = project(tmp_path / "plain", {"pkg/__init__.py": "", "pkg/app.py": code})
    assert findings(plain, ["IL6"]) == []
    with_redis = project(
        tmp_path / "redis",
        {"pkg/__init__.py": "", "pkg/app.py": "import redis.asyncio\n" + textwrap.dedent(code)},
    )
    assert findings(with_redis, ["IL6"]) == [("IL602", "pkg/app.py", 8)]


def test_fixture_messages_view_lists_streams_channels_and_custom_events() -> None:
    result = CliRunner().invoke(
        main, ["messages", str(FIXTURES / "message_services"), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    for event in (
        'redis stream \\"orders\\"',
        'redis channel \\"cache.invalidate\\"',
        "order.placed",
    ):
        assert event in result.output


def test_simplenamespace_event_registry_is_declared_constants(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/page.py": """
                from types import SimpleNamespace

                from pyee import EventEmitter

                class Page(EventEmitter):
                    Events = SimpleNamespace(Close="close", Load="load", Crash="crash")

                    def __init__(self):
                        super().__init__()
                        self.on(Page.Events.Load, self.on_load)
                        self.on(Page.Events.Crash, self.on_crash)

                    def close(self):
                        self.emit(Page.Events.Close, {"reason": "closed"})
                        self.emit("load", {"url": "about:blank"})

                    def on_load(self, data):
                        return data["url"], data["status"]

                    def on_crash(self, data):
                        return data
            """,
        },
    )
    # Events.Load is "load" (the literal emit publishes it); Events.Crash is declared
    # and never emitted.
    assert findings(root, ["IL602", "IL603"]) == [
        ("IL602", "pkg/page.py", 12),
        ("IL603", "pkg/page.py", 19),
    ]
    assert findings(root, ["IL605"]) == [("IL605", "pkg/page.py", 16)]


QUEUE_APP = """
from multiprocessing import Process

def worker(jobs):
    job = jobs.pop_job(timeout=1)
    return job["obs_shape"], job["input_channels"]

def train(jobs):
    jobs.push_job({"obs_shape": (3, 84, 84)}, priority=1)
    Process(target=worker, args=(jobs,)).start()
"""


def test_configured_queue_send_and_receive(tmp_path: Path) -> None:
    files = {"pkg/__init__.py": "", "pkg/train.py": QUEUE_APP}
    plain = project(tmp_path / "plain", files)
    assert findings(plain, ["IL604"]) == []
    configured = project(
        tmp_path / "configured",
        files,
        '[tool.integ-lint.messages]\nsend = ["jobs.push_job(payload=0|job)"]\n'
        'receive = ["jobs.pop_job()"]\n',
    )
    assert findings(configured, ["IL604"]) == [("IL604", "pkg/train.py", 6)]


@pytest.mark.parametrize(
    ("text", "kind", "why"),
    [
        ("push(priority=1)", "send", "unknown role 'priority'"),
        ("jobs.push()", "send", "where the message is"),
        ("pop()", "receive", "a method of the queue"),
        ("jobs.pop(payload=0)", "receive", "names no argument"),
    ],
)
def test_malformed_queue_patterns_say_why(text: str, kind: str, why: str) -> None:
    with pytest.raises(PatternError) as raised:
        parse_api_pattern(text, kind)
    assert why in str(raised.value)


def test_annotated_handler_writes_and_model_api_are_not_field_reads(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/bus.py": BUS,
            "pkg/app.py": """
                from pydantic import BaseModel

                from pkg.bus import event_bus

                class Login(BaseModel):
                    user_id: int

                def on_login(login: Login):
                    login.seen = True
                    return login.user_id, login.model_fields, login.model_dump()

                event_bus.subscribe("user.login", on_login)
                event_bus.publish("user.login", Login(user_id=1))
            """,
        },
    )
    assert findings(root, ["IL603"]) == []


def test_instances_of_project_emitter_classes_are_emitters(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/session.py": """
                from pyee import EventEmitter

                class Session(EventEmitter):
                    def closed(self):
                        self.emit("session.closed", {"reason": "eof"})
            """,
            "pkg/page.py": """
                from pkg.session import Session

                class Page:
                    def __init__(self, client: "Session"):
                        client.on("session.closed", self.on_closed)
                        self._session = Session()
                        self._session.on("session.closed", self.on_closed_again)

                    def on_closed(self, data):
                        return data["reason"], data["code"]

                    def on_closed_again(self, data):
                        return data["when"]

                class Other:
                    def __init__(self, socket):
                        socket.on("session.closed", self.on_socket)  # not typed: not pyee

                    def on_socket(self, data):
                        return data["anything"]
            """,
        },
    )
    assert findings(root, ["IL603"]) == [("IL603", "pkg/page.py", 11), ("IL603", "pkg/page.py", 14)]


def test_a_bus_in_a_redis_file_stays_a_bus(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/bus.py": BUS,
            "pkg/app.py": """
                import redis

                from pkg.bus import event_bus

                def on_login(data):
                    return data["user_id"], data["ip"]

                event_bus.subscribe("user.login", on_login)
                event_bus.publish("user.login", {"user_id": 1})
                redis.Redis().publish("user.login", "raw")
            """,
        },
    )
    assert findings(root, ["IL603"]) == [("IL603", "pkg/app.py", 7)]


def test_keys_a_handler_stores_itself_are_not_reads(tmp_path: Path) -> None:
    # data["seen"] = True is a write; reads after it are the handler's own key. An
    # augmented assignment reads first, and a read before the store is still a read.
    root = project(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/bus.py": BUS,
            "pkg/app.py": """
                import queue

                from pkg.bus import event_bus

                def on_logout(data):
                    early = data["seen"]
                    data["seen"] = True
                    data["count"] += 1
                    return early, data["seen"], data.get("seen")

                def drain(q: queue.Queue):
                    item = q.get()
                    item["done"] = True
                    return item["done"]

                event_bus.subscribe("user.logout", on_logout)
                event_bus.publish("user.logout", {"user_id": 1})

                def start():
                    q = queue.Queue()
                    q.put({"job": 1})
                    drain(q)
            """,
        },
    )
    assert findings(root, ["IL603", "IL604"]) == [
        ("IL603", "pkg/app.py", 7),
        ("IL603", "pkg/app.py", 9),
    ]


def test_attributes_set_in_post_init_are_payload_fields(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/bus.py": BUS,
            "pkg/app.py": """
                from dataclasses import dataclass

                from pkg.bus import event_bus

                @dataclass
                class Saved:
                    path: str

                    def __post_init__(self) -> None:
                        self.name = self.path.rsplit("/", 1)[-1]

                def on_saved(saved: Saved):
                    return saved.name, saved.path, saved.size

                event_bus.subscribe("doc.saved", on_saved)
                event_bus.publish("doc.saved", Saved(path="a/b"))
            """,
        },
    )
    assert findings(root, ["IL603"]) == [("IL603", "pkg/app.py", 14)]  # saved.size only


def test_a_handler_narrowing_a_base_annotation_is_checked_against_publishers(
    tmp_path: Path,
) -> None:
    # on_any is annotated with the base Event but narrows it with isinstance: user_id
    # is Login's; session is in no payload any publisher sends.
    root = project(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/bus.py": BUS,
            "pkg/app.py": """
                from dataclasses import dataclass

                from pkg.bus import event_bus

                @dataclass
                class Event:
                    name: str

                @dataclass
                class Login(Event):
                    user_id: int = 0

                def on_any(event: Event):
                    if isinstance(event, Login):
                        return event.user_id, event.session
                    return event.name

                event_bus.subscribe("user.login", on_any)
                event_bus.publish("user.login", Login(name="x", user_id=1))
            """,
        },
    )
    report = api.check([root], select=["IL603"], jobs=1)
    assert [(f.line, f.message.split(",")[0]) for f in report.findings] == [
        (16, "on_any reads event.session")
    ]


def test_guarded_reads_of_optional_keys_are_not_key_errors(tmp_path: Path) -> None:
    # "k" in data and try/except KeyError guard data["k"]; an unguarded read still counts.
    root = project(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/bus.py": BUS,
            "pkg/app.py": """
                from pkg.bus import event_bus

                def on_out(data):
                    if "reason" in data:
                        return data["reason"]
                    try:
                        return data["why"]
                    except KeyError:
                        pass
                    return data["when"]

                event_bus.subscribe("user.out", on_out)
                event_bus.publish("user.out", {"user_id": 1})
            """,
        },
    )
    assert findings(root, ["IL603"]) == [("IL603", "pkg/app.py", 11)]


def test_a_model_open_to_extra_fields_has_no_fixed_fields(tmp_path: Path) -> None:
    # extra="allow": any attribute may be on an instance; a closed model is still checked.
    root = project(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/bus.py": BUS,
            "pkg/app.py": """
                from pydantic import BaseModel, ConfigDict

                from pkg.bus import event_bus

                class Open(BaseModel):
                    model_config = ConfigDict(extra="allow")
                    user_id: int

                class Closed(BaseModel):
                    model_config = ConfigDict(frozen=True)
                    user_id: int

                def on_open(event: Open):
                    return event.user_id, event.trace_id

                def on_closed(event: Closed):
                    return event.user_id, event.trace_id

                event_bus.subscribe("user.open", on_open)
                event_bus.subscribe("user.closed", on_closed)
                event_bus.publish("user.open", Open(user_id=1, trace_id="t"))
                event_bus.publish("user.closed", Closed(user_id=1))
            """,
        },
    )
    assert findings(root, ["IL603"]) == [("IL603", "pkg/app.py", 18)]  # Closed's trace_id
