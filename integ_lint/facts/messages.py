"""Message facts: what each file publishes and subscribes to, and what handlers read.

This collector records every *candidate*: a call of a publish-like or subscribe-like
method, a ``@receiver(signal)`` / ``@x.on(event)`` decorator, a module-level string
constant or ``Signal()`` object, and, for functions, the keys they read from their
parameters. The project phase (:mod:`integ_lint.model.messages`) decides, with the
configuration, which candidates are messages. The one exception is the custom APIs
of ``[tool.integ-lint.messages] publish`` / ``subscribe``: they say which argument is
what, so they are applied here; the cache namespace includes that table (the whole
configuration digest, :func:`integ_lint.engine.cache.config_digest`), so a changed pattern
re-collects every file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import libcst as cst

from integ_lint.facts.collector import FactCollector
from integ_lint.facts.context import FileContext, dotted_name, modules_imported, names_imported
from integ_lint.facts.syntax import MarkedBlocks, child_nodes, is_terminal, subclass_test
from integ_lint.findings.model import Site

KEY = "messages"

PUBLISH_METHODS = frozenset(
    {"publish", "emit", "dispatch", "fire", "trigger", "send", "send_robust", "xadd", "put"}
)
SUBSCRIBE_METHODS = frozenset(
    {
        "subscribe",
        "on",
        "once",
        "add_listener",
        "add_handler",
        "add_event_handler",
        "register",
        "listen",
        "listens_to",  # pyee
        "connect",
    }
)
# Keyword names that carry the event identity / the payload of a publish-like call.
EVENT_KEYWORDS = ("event", "event_type", "event_name", "topic", "name", "type", "channel")
PAYLOAD_KEYWORDS = ("data", "payload", "message", "body", "event_data", "fields")
SIGNAL_FACTORIES = frozenset({"Signal", "signal", "ModelSignal", "NamedSignal"})
# Queues only: a Pipe's two ends are two objects (what one end sends the other
# receives), so send/recv on one name is not one channel.
QUEUE_PUT_METHODS = frozenset({"put", "put_nowait"})
QUEUE_GET_METHODS = frozenset({"get", "get_nowait"})
WORKER_FACTORIES = frozenset({"Process", "Thread"})
# APIs told apart from a generic bus (``Publication.api``): a pattern of the
# configuration, redis streams and redis pub/sub channels (pyee emitters are buses:
# they are told apart by ``MessageFacts.emitters``).
CUSTOM_API = "custom"
STREAM_API = "stream"
CHANNEL_API = "channel"
# xread(streams, ...) / xreadgroup(group, consumer, streams, ...): where ``streams`` is.
STREAM_READ_POSITIONS = {"xread": 0, "xreadgroup": 2}
CHANNEL_SUBSCRIBE_METHODS = frozenset({"subscribe", "psubscribe"})
# Modules whose import makes ``x.publish``/``x.subscribe`` redis pub/sub candidates.
REDIS_MODULES = ("redis", "aioredis", "coredis", "walrus")
# Classes whose instances (and subclasses' ``self``) are pyee emitters.
PYEE_PREFIX = "pyee."
# Exceptions whose handler makes a ``data["k"]`` in the ``try`` body a deliberate probe.
KEY_ERROR_CATCHERS = frozenset({"KeyError", "LookupError", "Exception", "BaseException"})
# Payload classes: what makes a class's fields the keys of its instances.
TYPED_DICT_BASES = frozenset({"TypedDict"})
MODEL_BASES = frozenset({"BaseModel"})  # pydantic
# dataclasses and attrs (``x: int`` fields, or ``x = attr.ib()`` with ``@attr.s``)
DATACLASS_DECORATORS = frozenset(
    {
        "dataclass",
        "dataclasses.dataclass",
        "define",
        "frozen",
        "attr.define",
        "attrs.define",
        "attr.frozen",
        "attrs.frozen",
        "attr.s",
        "attr.attrs",
    }
)


@dataclass(frozen=True)
class ArgumentSpec:
    """Where a call passes one of its roles: a position (0-based, after the receiver),
    a keyword, or either."""

    position: int | None
    keyword: str

    def find(self, call: cst.Call) -> cst.BaseExpression | None:
        if self.keyword:
            for arg in call.args:
                if arg.keyword is not None and arg.keyword.value == self.keyword:
                    return arg.value
        if self.position is not None:
            positional = [a for a in call.args if a.keyword is None and not a.star]
            if self.position < len(positional):
                return positional[self.position].value
        return None


@dataclass(frozen=True)
class ApiPattern:
    """One ``publish``/``subscribe`` pattern of ``[tool.integ-lint.messages]``:
    ``[@][RECEIVER.]METHOD(event=WHERE, payload=WHERE, handler=WHERE)``."""

    decorator: bool
    receiver: str  # fnmatch glob on the receiver's last name; "" = any, or none
    method: str
    roles: tuple[tuple[str, ArgumentSpec], ...]

    def spec(self, role: str) -> ArgumentSpec | None:
        return dict(self.roles).get(role)

    def argument(self, role: str, call: cst.Call) -> cst.BaseExpression | None:
        """What ``call`` passes for ``role`` (None: the pattern does not say, or the
        call passes nothing there)."""
        spec = self.spec(role)
        return spec.find(call) if spec else None

    def matches(self, func: cst.BaseExpression) -> bool:
        import fnmatch

        if isinstance(func, cst.Attribute):
            if func.attr.value != self.method:
                return False
            if not self.receiver:
                return True
            receiver = (dotted_name(func.value) or "").rsplit(".", 1)[-1]
            return bool(receiver) and fnmatch.fnmatchcase(receiver.lower(), self.receiver.lower())
        return isinstance(func, cst.Name) and func.value == self.method and not self.receiver


_PATTERN = re.compile(
    r"^\s*(?P<at>@)?\s*(?:(?P<receiver>[\w*?\[\]]+)\.)?(?P<method>[A-Za-z_]\w*)"
    r"\s*\((?P<roles>[^()]*)\)\s*$"
)
_ROLES: dict[str, tuple[str, ...]] = {
    "publish": ("event", "payload"),
    "subscribe": ("event", "handler"),
    "send": ("payload",),  # a queue write: q.push(msg)
    "receive": (),  # a queue read: msg = q.pop(); the call's value is the message
}


class PatternError(ValueError):
    """A pattern that does not parse; the message says why, in a few words."""


@lru_cache(maxsize=256)
def parse_api_pattern(text: str, kind: str) -> ApiPattern:
    """Parse a ``kind`` (``publish``/``subscribe``/``send``/``receive``) pattern;
    :class:`PatternError` when it is malformed."""
    match = _PATTERN.match(text)
    if match is None:
        raise PatternError("expected [@][RECEIVER.]METHOD(event=WHERE, ...)")
    decorator = bool(match["at"])
    if decorator and kind != "subscribe":
        raise PatternError("only subscribe patterns can be decorators")
    roles: dict[str, ArgumentSpec] = {}
    for part in filter(None, (p.strip() for p in match["roles"].split(","))):
        role, equals, where = (x.strip() for x in part.partition("="))
        if role not in _ROLES[kind]:
            allowed = " or ".join(_ROLES[kind]) or "no argument"
            raise PatternError(f"unknown role {role!r} (a {kind} pattern names {allowed})")
        if not equals or not where:
            raise PatternError(f"{role} needs a position or keyword ({role}=0, {role}=name)")
        position: int | None = None
        keyword = ""
        for choice in (c.strip() for c in where.split("|")):
            # isdecimal, not isdigit: "²" is a digit that int() rejects.
            if choice.isdecimal():
                position = int(choice)
            elif choice.isidentifier():
                keyword = choice
            else:
                raise PatternError(f"{role}={where}: not a position or a keyword")
        roles[role] = ArgumentSpec(position, keyword)
    if kind in ("publish", "subscribe") and "event" not in roles:
        raise PatternError("the pattern must say where the event is (event=0, event=name)")
    if kind == "send" and "payload" not in roles:
        raise PatternError("a send pattern must say where the message is (payload=0)")
    if kind in ("send", "receive") and not match["receiver"]:
        # The receiver is the queue: without one there is no channel to join.
        raise PatternError(f"a {kind} pattern is a method of the queue: RECEIVER.METHOD(...)")
    if kind == "subscribe" and not decorator and "handler" not in roles:
        raise PatternError("a subscribe call pattern must say where the handler is")
    if decorator and "handler" in roles:
        raise PatternError("a decorator's handler is the decorated function")
    return ApiPattern(decorator, match["receiver"] or "", match["method"], tuple(roles.items()))


def api_patterns(texts: list[str] | tuple[str, ...], kind: str) -> tuple[ApiPattern, ...]:
    """The valid patterns of ``texts`` (the configuration validated them already)."""
    found: list[ApiPattern] = []
    for text in texts:
        try:
            found.append(parse_api_pattern(text, kind))
        except PatternError:
            continue
    return tuple(found)


@dataclass(frozen=True)
class EventRef:
    """How a call names its event: ``literal`` (the string itself), ``name`` (the
    qualified name of a constant, enum member or signal object, resolved later) or
    ``prefix`` (an f-string whose value starts with ``value``)."""

    kind: str
    value: str


@dataclass(frozen=True)
class Publication:
    receiver: str  # the receiver as written, dotted ("self.event_bus")
    receiver_ref: str  # its qualified name when it resolves (imported or module-level)
    method: str
    event: EventRef | None  # None: computed at run time
    payload_keys: tuple[str, ...] | None  # None: unknown (not a literal dict)
    site: Site
    # ``x.send(sender=...)``: the signal shape, whatever ``x`` resolves to (a socket's
    # or a generator's send never names a sender).
    names_sender: bool = False
    api: str = ""  # "" (a bus or signal by shape), or one of the *_API constants
    # The project class the payload is an instance of (``Payload(...)``), qualified;
    # its fields are the payload keys (resolved in the project phase).
    payload_class: str = ""


@dataclass(frozen=True)
class Subscription:
    receiver: str
    receiver_ref: str
    method: str  # "receiver" for Django's @receiver(signal)
    event: EventRef | None
    handler: str  # qualified name of the handler function ("" when unknown)
    site: Site
    api: str = ""


@dataclass(frozen=True)
class KeyRead:
    key: str
    # "subscript" (KeyError when missing), "get" (the default always applies) or
    # "attribute" (``data.x``; checked only against a payload class's fields)
    how: str
    site: Site


@dataclass(frozen=True)
class FunctionReads:
    """A function's parameters and the literal keys it reads from each."""

    qualname: str
    params: tuple[str, ...]  # positional-or-keyword parameters, in order (self included)
    required: tuple[str, ...]  # named parameters without a default
    var_kwargs: str  # name of the ``**kwargs`` parameter, "" when none
    reads: tuple[tuple[str, tuple[KeyRead, ...]], ...]  # param -> reads
    is_method: bool
    site: Site
    # param -> qualified name of its annotation (``data: LoginPayload``)
    annotations: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class PayloadClass:
    """A TypedDict, dataclass or pydantic model the project defines: the names its
    instances carry (fields, and for objects also methods and class attributes)."""

    qualname: str
    kind: str  # "typeddict" (keys), "object" (attributes), "" (the bases' kind)
    fields: tuple[str, ...]
    # Qualified names of the other bases: their fields count too, so the class is
    # known only when each of them is a known payload class.
    bases: tuple[str, ...]
    site: Site


@dataclass(frozen=True)
class QueueWrite:
    """``q.put(payload)`` / ``conn.send(payload)`` in ``function``."""

    function: str
    receiver: str  # as written: "q", "self.results"
    keys: tuple[str, ...] | None
    site: Site


@dataclass(frozen=True)
class QueueRead:
    """``item = q.get()`` in ``function`` and the keys read from ``item`` there."""

    function: str
    receiver: str
    reads: tuple[KeyRead, ...]
    site: Site


@dataclass(frozen=True)
class WorkerStart:
    """``Process(target=f, args=(q,))`` / ``Thread(...)``: which of the starter's
    values the worker's parameters receive."""

    function: str  # the starter
    target: str  # qualified name of the worker function
    args: tuple[str, ...]  # dotted text of each positional argument ("" when not a name)
    kwargs: tuple[tuple[str, str], ...]
    site: Site


@dataclass(frozen=True)
class MessageFacts:
    module: str
    constants: tuple[tuple[str, str], ...] = ()  # qualified name -> string value
    signals: tuple[str, ...] = ()  # qualified names of module-level Signal() objects
    aliases: tuple[tuple[str, str], ...] = ()  # module-level local name -> import target
    publications: tuple[Publication, ...] = ()
    subscriptions: tuple[Subscription, ...] = ()
    functions: tuple[FunctionReads, ...] = ()
    # Receivers whose publish method is taken without being called
    # (``send_prerun = signals.task_prerun.send``): published through an alias.
    escaped_publishers: tuple[EventRef, ...] = ()
    queue_writes: tuple[QueueWrite, ...] = ()
    queue_reads: tuple[QueueRead, ...] = ()
    worker_starts: tuple[WorkerStart, ...] = ()
    # (function, name): a queue of this file handed to a call other than a worker
    # start (``report_error(results, exc)``): that call may write or read it.
    queue_escapes: tuple[tuple[str, str], ...] = ()
    payload_classes: tuple[PayloadClass, ...] = ()
    # Qualified names of pyee emitters: objects built from a pyee class
    # (``ee = EventEmitter()``, ``self.events = AsyncIOEventEmitter()``) and classes
    # deriving from one (their ``self``).
    emitters: tuple[str, ...] = ()
    # (qualified attribute, qualified class) for ``self.x = Cls(...)`` in a method.
    attribute_types: tuple[tuple[str, str], ...] = ()


def _string(node: cst.BaseExpression) -> str | None:
    if type(node) is cst.SimpleString or type(node) is cst.ConcatenatedString:
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


@dataclass
class _Function:
    qualname: str
    node: cst.FunctionDef
    params: tuple[str, ...]
    required: tuple[str, ...]
    var_kwargs: str
    is_method: bool
    reads: dict[str, list[KeyRead]] = field(default_factory=dict)
    # local name -> keys of the dict literal last assigned to it (None: unknown)
    dicts: dict[str, set[str] | None] = field(default_factory=dict)
    # local name -> (queue receiver, site) for ``item = q.get()``
    got: dict[str, tuple[str, Site]] = field(default_factory=dict)
    got_reads: dict[str, list[KeyRead]] = field(default_factory=dict)
    got_origin: dict[str, tuple[str, Site]] = field(default_factory=dict)
    uses_queues: bool = False
    # local name -> qualified name of the class it was last built from (``Payload(..)``)
    instances: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    # (name, key) the function stores itself (``data["k"] = v``) or tests for (``"k" in
    # data``): later reads of it are the handler's own or guarded, whatever is sent.
    stored: set[tuple[str, str]] = field(default_factory=set)
    # Parameters the function narrows (``isinstance(event, Login)``): their annotation
    # is a base, not the payload's class, so reads are checked against the publishers.
    narrowed: set[str] = field(default_factory=set)


class MessageFactCollector(FactCollector):
    """Collects :class:`MessageFacts` for one file."""

    KEY = KEY

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._module = self.context.module
        self._constants: list[tuple[str, str]] = []
        self._signals: list[str] = []
        self._aliases: dict[str, str] = {}
        self._publications: list[Publication] = []
        self._subscriptions: list[Subscription] = []
        self._functions: list[FunctionReads] = []
        self._escaped: list[EventRef] = []
        self._queue_writes: list[QueueWrite] = []
        self._queue_reads: list[QueueRead] = []
        self._worker_starts: list[WorkerStart] = []
        self._passed: list[tuple[str, str]] = []  # (function, dotted argument)
        self._called: set[int] = set()  # ids of call targets seen (their .send is called)
        self._written: set[int] = set()  # ids of assignment targets (not reads)
        self._augmented: set[int] = set()  # ids of ``x += ...`` targets (read, then written)
        # Bodies of ``try`` statements that catch KeyError, and how many enclose the node.
        self._key_error_bodies = MarkedBlocks()
        self._stack: list[_Function | str] = []  # functions, and class names
        self._depth = 0  # nesting of functions and classes
        self._payload_classes: list[PayloadClass] = []
        self._emitters: list[str] = []
        self._attribute_types: list[tuple[str, str]] = []
        self._uses_redis = False
        self._emitter_classes: set[str] = set()  # local class names deriving from pyee
        settings = _message_settings(context)
        self._publish_patterns = api_patterns(settings[0], "publish")
        self._subscribe_patterns = api_patterns(settings[1], "subscribe")
        self._send_patterns = api_patterns(settings[2], "send")
        self._receive_patterns = api_patterns(settings[3], "receive")
        self._bus_receivers = settings[4]

    # -- names -------------------------------------------------------------------------
    def _qualify(self, local: str) -> str:
        return f"{self._module}.{local}" if self._module else local

    def _ref(self, node: cst.BaseExpression) -> str:
        """The qualified name of a Name/Attribute chain: through imports, else as a
        module-level name of this file, else ``""``."""
        resolved = self.context.resolve(node)
        if resolved:
            return resolved
        dotted = dotted_name(node)
        if not dotted:
            return ""
        head, _, rest = dotted.partition(".")
        if head in ("self", "cls"):
            owner = self._enclosing_class()
            if owner and not rest:
                return self._qualify(owner)  # ``self.emit(...)``: the class's own
            return self._qualify(f"{owner}.{rest}") if owner and rest else ""
        return self._qualify(dotted)

    def _enclosing_class(self) -> str:
        names = [entry for entry in self._stack if isinstance(entry, str)]
        return names[-1] if names else ""

    def _event_ref(self, node: cst.BaseExpression) -> EventRef | None:
        literal = _string(node)
        if literal is not None:
            return EventRef("literal", literal)
        if isinstance(node, cst.FormattedString) and node.parts:
            # f"sync.{kind}": dynamic, but only ever an event starting with "sync."
            first = node.parts[0]
            if isinstance(first, cst.FormattedStringText) and first.value:
                return EventRef("prefix", first.value)
            return None
        if isinstance(node, cst.Attribute) and node.attr.value == "value":
            node = node.value  # Events.USER_LOGGED_IN.value
        if isinstance(node, (cst.Name, cst.Attribute)):
            ref = self._ref(node)
            return EventRef("name", ref) if ref else None
        return None

    def _site(self, node: cst.CSTNode) -> Site:
        return Site(
            span=self.context.span(node),
            scope=self.context.scope,
            snippet=self.context.snippet(node),
        )

    def _function(self) -> _Function | None:
        for entry in reversed(self._stack):
            if isinstance(entry, _Function):
                return entry
            return None  # a class body directly inside: not the function's locals
        return None

    # -- module level: constants, signals, aliases ---------------------------------------
    def visit_Import(self, node: cst.Import) -> None:
        imported = list(modules_imported(node))
        if any(module.split(".")[0] in REDIS_MODULES for module, _ in imported):
            self._uses_redis = True
        if self._depth:
            return
        for module, local in imported:
            if local is not None:
                self._aliases[local] = module

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if (
            node.module is not None
            and not node.relative
            and (dotted_name(node.module) or "").split(".")[0] in REDIS_MODULES
        ):
            self._uses_redis = True
        if self._depth or isinstance(node.names, cst.ImportStar):
            return
        for _, local in names_imported(node):
            target = self.context.resolve(cst.Name(local))
            if target:
                self._aliases[local] = target

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._written.add(id(node.target))
        self._augmented.add(id(node.target))

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._written.add(id(node.target))

    def visit_Assign(self, node: cst.Assign) -> None:
        self._written.update(id(t.target) for t in node.targets)
        if len(node.targets) != 1:
            return
        target = node.targets[0].target
        if (
            type(target) is cst.Attribute
            and type(target.value) is cst.Name
            and target.value.value == "self"
            and type(node.value) is cst.Call
            and (type(node.value.func) is cst.Name or type(node.value.func) is cst.Attribute)
            and _class_like(node.value.func)
        ):
            # self._client = CDPSession(...): the attribute holds that class's instance
            # (a pyee emitter when the class derives from one).
            owner, built = self._ref(target), self._ref(node.value.func)
            if owner and built:
                self._attribute_types.append((owner, built))
        if self._is_pyee_factory(node.value):
            ref = self._ref(target) if isinstance(target, (cst.Name, cst.Attribute)) else ""
            if ref and (self._function() is None or not isinstance(target, cst.Name)):
                self._emitters.append(ref)
        function = self._function()
        if function is not None:
            self._track_local(function, target, node.value)
            return
        if not isinstance(target, cst.Name):
            return
        owner = self._enclosing_class() if self._stack else ""
        if self._stack and not owner:
            return
        local = f"{owner}.{target.value}" if owner else target.value
        value = _string(node.value)
        if value is not None:
            self._constants.append((self._qualify(local), value))
        elif (
            isinstance(node.value, cst.Call)
            and (dotted_name(node.value.func) or "").rsplit(".", 1)[-1] == "SimpleNamespace"
        ):
            # Events = SimpleNamespace(Close="close", ...): a registry of event names
            # (pyee ports of Node APIs declare their events so); Events.Close is "close".
            for arg in node.value.args:
                member = _string(arg.value)
                if arg.keyword is not None and member is not None:
                    self._constants.append((self._qualify(f"{local}.{arg.keyword.value}"), member))
        elif isinstance(node.value, cst.Call) and not owner:
            factory = dotted_name(node.value.func) or ""
            if factory.rsplit(".", 1)[-1] in SIGNAL_FACTORIES:
                self._signals.append(self._qualify(local))

    def _is_pyee_factory(self, value: cst.BaseExpression) -> bool:
        if type(value) is not cst.Call:
            return False
        return (self.context.resolve(value.func) or "").startswith(PYEE_PREFIX)

    def _track_local(
        self, function: _Function, target: cst.BaseAssignTargetExpression, value: cst.BaseExpression
    ) -> None:
        if type(target) is cst.Name:
            function.dicts[target.value] = _literal_keys(value)
            function.instances.pop(target.value, None)
            if type(value) is cst.Call and (
                type(value.func) is cst.Name or type(value.func) is cst.Attribute
            ):
                built = self._ref(value.func)
                if built and function.dicts[target.value] is None:
                    function.instances[target.value] = built
            function.got.pop(target.value, None)
            if (
                type(value) is cst.Call
                and type(value.func) is cst.Attribute
                and value.func.attr.value in QUEUE_GET_METHODS
                and all(a.keyword is not None or _is_flag(a.value) for a in value.args)
            ) or (
                type(value) is cst.Call
                and type(value.func) is cst.Attribute
                and any(p.matches(value.func) for p in self._receive_patterns)
            ):
                receiver = dotted_name(value.func.value) or ""
                if receiver:
                    function.got[target.value] = (receiver, self._site(value))
                    function.uses_queues = True
        elif (
            type(target) is cst.Subscript
            and type(target.value) is cst.Name
            and target.value.value in function.dicts
            and len(target.slice) == 1
            and isinstance(target.slice[0].slice, cst.Index)
        ):
            keys = function.dicts[target.value.value]
            key = _string(target.slice[0].slice.value)
            if keys is not None and key is not None:
                keys.add(key)
            elif keys is not None:
                function.dicts[target.value.value] = None

    # -- scopes ----------------------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        owner = self._enclosing_class()
        local = f"{owner}.{node.name.value}" if owner else node.name.value
        self._payload_class(node, local)
        if any((self.context.resolve(b.value) or "").startswith(PYEE_PREFIX) for b in node.bases):
            self._emitters.append(self._qualify(local))
        self._stack.append(local)
        self._depth += 1

    def _payload_class(self, node: cst.ClassDef, local: str) -> None:
        """Record ``node`` when it is a TypedDict, a dataclass or a pydantic model."""
        if self._function() is not None:
            return
        base_names = [
            (dotted_name(b.value) or "", self._ref(b.value)) for b in node.bases if not b.keyword
        ]
        decorators = [
            dotted_name(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator)
            or ""
            for d in node.decorators
        ]
        kind = ""
        if any(text.rsplit(".", 1)[-1] in TYPED_DICT_BASES for text, _ in base_names):
            kind = "typeddict"
        elif any(text.rsplit(".", 1)[-1] in MODEL_BASES for text, _ in base_names) or any(
            text in DATACLASS_DECORATORS or text.rsplit(".", 1)[-1] == "dataclass"
            for text in decorators
        ):
            kind = "object"
        other_bases = tuple(
            ref
            for text, ref in base_names
            if text.rsplit(".", 1)[-1] not in TYPED_DICT_BASES | MODEL_BASES | {"object", "Generic"}
            and not text.startswith(("typing.", "typing_extensions."))
        )
        annotated = isinstance(node.body, cst.IndentedBlock) and any(
            isinstance(small, cst.AnnAssign)
            for statement in node.body.body
            if isinstance(statement, cst.SimpleStatementLine)
            for small in statement.body
        )
        if not kind and not (other_bases and annotated):
            # Not a payload class; a class with project bases and annotated fields may
            # extend one (``class Login(BasePayload)``): its kind comes from the bases.
            return
        body = node.body.body if isinstance(node.body, cst.IndentedBlock) else ()
        source = self.context.source
        # A parsed statement's code is a slice of the source: without the word, no
        # statement's code is generated (every assignment of a payload class was, a
        # tenth of this collector on napari).
        if "extra" in source:
            model_config = "model_config" in source
            if any(_allows_extra(statement, model_config) for statement in body):
                return  # a pydantic model with extra="allow": any attribute may be there
        fields: list[str] = []
        for statement in body:
            if isinstance(statement, cst.FunctionDef):
                fields.append(statement.name.value)
                # ``self.name = ...`` in ``__post_init__`` (or any method): an attribute
                # every instance may have, though no field declares it.
                fields.extend(_self_attributes(statement))
            elif isinstance(statement, cst.ClassDef):
                fields.append(statement.name.value)
            elif isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                        fields.append(small.target.value)
                    elif isinstance(small, cst.Assign):
                        fields.extend(
                            t.target.value for t in small.targets if isinstance(t.target, cst.Name)
                        )
        self._payload_classes.append(
            PayloadClass(
                qualname=self._qualify(local),
                kind=kind,
                fields=tuple(dict.fromkeys(fields)),
                bases=other_bases,
                site=self._site(node.name),
            )
        )

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._stack.pop()
        self._depth -= 1

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        scope = self.context.scope
        local = f"{scope}.{node.name.value}" if scope else node.name.value
        params = node.params
        positional = [*params.posonly_params, *params.params]
        named = [*params.params, *params.kwonly_params]
        var_kwargs = ""
        if type(params.star_kwarg) is cst.Param:
            var_kwargs = params.star_kwarg.name.value
        is_method = bool(self._stack) and isinstance(self._stack[-1], str)
        annotations: dict[str, str] = {}
        for param in positional:
            if param.annotation is not None:
                annotated = _unquoted(param.annotation.annotation)
                if isinstance(annotated, (cst.Name, cst.Attribute)):
                    ref = self._ref(annotated)
                    if ref:
                        annotations[param.name.value] = ref
        self._stack.append(
            _Function(
                qualname=self._qualify(local),
                node=node,
                params=tuple(p.name.value for p in positional),
                required=tuple(p.name.value for p in named if p.default is None),
                var_kwargs=var_kwargs,
                is_method=is_method,
                annotations=annotations,
            )
        )
        self._depth += 1
        for decorator in node.decorators:
            self._decorator(decorator.decorator, self._qualify(local))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        function = self._stack.pop()
        self._depth -= 1
        if not isinstance(function, _Function):
            return
        for name, reads in function.got_reads.items():
            receiver, site = function.got_origin[name]
            self._queue_reads.append(QueueRead(function.qualname, receiver, tuple(reads), site))
        if function.reads or function.var_kwargs or function.uses_queues or function.got:
            self._functions.append(
                FunctionReads(
                    qualname=function.qualname,
                    params=function.params,
                    required=function.required,
                    var_kwargs=function.var_kwargs,
                    reads=tuple((p, tuple(r)) for p, r in function.reads.items()),
                    is_method=function.is_method,
                    site=self._site(original_node.name),
                    annotations=tuple(
                        sorted(
                            (param, annotated)
                            for param, annotated in function.annotations.items()
                            if param not in function.narrowed
                        )
                    ),
                )
            )

    def _decorator(self, decorator: cst.BaseExpression, handler: str) -> None:
        if not isinstance(decorator, cst.Call):
            return
        func = decorator.func
        for pattern in self._subscribe_patterns:
            if pattern.decorator and pattern.matches(func):
                self._custom_subscription(decorator, pattern, handler)
                return
        name = dotted_name(func) or ""
        last = name.rsplit(".", 1)[-1]
        args = [a for a in decorator.args if a.keyword is None and not a.star]
        if last == "receiver" and args:
            # Django's @receiver(signal) or @receiver([a, b])
            targets = args[0].value
            elements = (
                [e.value for e in targets.elements]
                if isinstance(targets, (cst.List, cst.Tuple))
                else [targets]
            )
            for element in elements:
                self._subscribe(decorator, "", "", "receiver", self._event_ref(element), handler)
            return
        if not isinstance(func, cst.Attribute) or last not in SUBSCRIBE_METHODS:
            return
        receiver = dotted_name(func.value) or ""
        receiver_ref = self._receiver_ref(func.value) if receiver else ""
        event = self._event_argument(decorator)
        if last == "connect" and event is None:
            event = self._event_ref(func.value)  # @signal.connect
        self._subscribe(decorator, receiver, receiver_ref, last, event, handler)

    # -- calls -----------------------------------------------------------------------------
    def _event_argument(self, call: cst.Call) -> EventRef | None:
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value in EVENT_KEYWORDS:
                return self._event_ref(arg.value)
        positional = [a for a in call.args if a.keyword is None and not a.star]
        return self._event_ref(positional[0].value) if positional else None

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value in ("send", "send_robust", "publish", "emit") and (
            id(node) not in self._called
        ):
            ref = self._event_ref(node.value)
            if ref is not None and ref.kind == "name":
                self._escaped.append(ref)
        if type(node.value) is not cst.Name:
            return  # a field read is on a parameter's name
        function = self._function()
        if (
            function is not None
            and id(node) not in self._called
            and id(node) not in self._written
            and node.value.value in function.annotations
            and not node.attr.value.startswith("_")
        ):
            # ``data.user_id`` on a parameter annotated with a class: a field read.
            function.reads.setdefault(node.value.value, []).append(
                KeyRead(node.attr.value, "attribute", self._site(node))
            )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        self._called.add(id(func))
        if not self._worker_start(node):
            self._note_passed(node)
        if self._custom_call(node):
            return
        if type(func) is not cst.Attribute:
            self._narrowing(node)
            return
        for pattern in self._send_patterns:
            spec = pattern.spec("payload")
            payload_node = spec.find(node) if spec is not None and pattern.matches(func) else None
            if payload_node is not None:
                self._queue_write(node, payload_node)
                return
        method = func.attr.value
        if method == "get":
            self._read(node)
        if method in QUEUE_PUT_METHODS:
            self._queue_write(node)
        if method in STREAM_READ_POSITIONS:
            self._stream_read(node, method)
            return
        if (
            self._uses_redis
            and method in CHANNEL_SUBSCRIBE_METHODS | {"publish"}
            and self._channel_call(node, method)
        ):
            return
        if method not in PUBLISH_METHODS and method not in SUBSCRIBE_METHODS:
            return
        if not node.args:
            return
        receiver = dotted_name(func.value) or ""
        if not receiver:
            return
        receiver_ref = self._receiver_ref(func.value)
        if method in PUBLISH_METHODS:
            self._publication(node, receiver, receiver_ref, method)
        else:
            self._subscription(node, receiver, receiver_ref, method)

    # -- configured APIs, redis ------------------------------------------------------------
    def _receiver_of(self, func: cst.BaseExpression) -> tuple[str, str]:
        if not isinstance(func, cst.Attribute):
            return "", ""
        receiver = dotted_name(func.value) or ""
        return receiver, self._receiver_ref(func.value) if receiver else ""

    def _narrowing(self, node: cst.Call) -> None:
        """Note ``isinstance(param, ...)`` on an annotated parameter."""
        function = self._function()
        if (
            function is not None
            and isinstance(node.func, cst.Name)
            and node.func.value == "isinstance"
            and node.args
            and isinstance(node.args[0].value, cst.Name)
        ):
            function.narrowed.add(node.args[0].value.value)

    def _receiver_ref(self, node: cst.BaseExpression) -> str:
        """What a receiver names: for a parameter annotated with a class
        (``client: CDPSession``), the class; else its qualified name."""
        function = self._function()
        if isinstance(node, cst.Name) and function is not None:
            annotated = function.annotations.get(node.value)
            if annotated:
                return annotated
        return self._ref(node)

    def _custom_call(self, node: cst.Call) -> bool:
        """A call matching a configured pattern: recorded as its pattern says."""
        for pattern in self._publish_patterns:
            if pattern.matches(node.func):
                payload_node = pattern.argument("payload", node)
                keys, payload_class = (
                    self._payload(payload_node) if payload_node is not None else (None, "")
                )
                self._publications.append(
                    Publication(
                        **self._custom_fields(node, pattern),
                        payload_keys=keys,
                        payload_class=payload_class,
                    )
                )
                return True
        for pattern in self._subscribe_patterns:
            if not pattern.decorator and pattern.matches(node.func):
                handler_node = pattern.argument("handler", node)
                handler = ""
                if isinstance(handler_node, (cst.Name, cst.Attribute)):
                    handler = self._ref(handler_node)
                self._custom_subscription(node, pattern, handler)
                return True
        return False

    def _custom_subscription(self, node: cst.Call, pattern: ApiPattern, handler: str) -> None:
        self._subscriptions.append(
            Subscription(**self._custom_fields(node, pattern), handler=handler)
        )

    def _custom_fields(self, node: cst.Call, pattern: ApiPattern) -> dict[str, Any]:
        """What every publication or subscription a configured pattern matches has:
        its receiver, method, event (where the pattern says), site and API."""
        receiver, receiver_ref = self._receiver_of(node.func)
        event_node = pattern.argument("event", node)
        return {
            "receiver": receiver,
            "receiver_ref": receiver_ref,
            "method": pattern.method,
            "event": self._event_ref(event_node) if event_node is not None else None,
            "site": self._site(node),
            "api": CUSTOM_API,
        }

    def _subscribe(
        self,
        node: cst.CSTNode,
        receiver: str,
        receiver_ref: str,
        method: str,
        event: EventRef | None,
        handler: str,
        api: str = "",
    ) -> None:
        """Record a subscription made at ``node`` (a call or a decorator)."""
        self._subscriptions.append(
            Subscription(receiver, receiver_ref, method, event, handler, self._site(node), api)
        )

    def _publish(
        self,
        node: cst.Call,
        receiver: str,
        receiver_ref: str,
        method: str,
        event: EventRef | None,
        payload_keys: tuple[str, ...] | None,
        *,
        names_sender: bool = False,
        api: str = "",
        payload_class: str = "",
    ) -> None:
        """Record a publication made by the call ``node``."""
        self._publications.append(
            Publication(
                receiver,
                receiver_ref,
                method,
                event,
                payload_keys,
                self._site(node),
                names_sender=names_sender,
                api=api,
                payload_class=payload_class,
            )
        )

    def _stream_read(self, node: cst.Call, method: str) -> None:
        """``r.xread({"orders": "$"})`` / ``xreadgroup(group, consumer, streams={...})``:
        one subscription per stream named in the ``streams`` dict."""
        streams = ArgumentSpec(STREAM_READ_POSITIONS[method], "streams").find(node)
        if streams is None:
            return
        receiver, receiver_ref = self._receiver_of(node.func)
        events: list[EventRef | None] = [None]  # not a dict display: the names are computed
        if isinstance(streams, cst.Dict):
            events = [
                self._event_ref(e.key) if isinstance(e, cst.DictElement) else None
                for e in streams.elements
            ]
        for event in events:
            self._subscribe(node, receiver, receiver_ref, method, event, "", api=STREAM_API)

    def _channel_call(self, node: cst.Call, method: str) -> bool:
        """Redis pub/sub in a file that imports redis: ``r.publish(channel, message)``,
        ``p.subscribe("a", "b")``, ``p.subscribe(**{"a": handler})``,
        ``p.psubscribe("a.*")`` (a pattern: computed). False when the call is not of
        that shape (left to the bus checks)."""
        receiver, receiver_ref = self._receiver_of(node.func)
        if not receiver or _matches_any(receiver, self._bus_receivers):
            return False  # event_bus.subscribe(EVENT, handler) stays a bus's
        if method == "publish":
            positional = [a for a in node.args if a.keyword is None and not a.star]
            if len(positional) + sum(1 for a in node.args if a.keyword) != 2:
                return False
            event_node = ArgumentSpec(0, "channel").find(node)
            event = self._event_ref(event_node) if event_node is not None else None
            # payload keys None: bytes or a string, serialised by the caller
            self._publish(node, receiver, receiver_ref, method, event, None, api=CHANNEL_API)
            return True
        uses: list[tuple[EventRef | None, str]] = []
        for arg in node.args:
            if arg.star == "**" and isinstance(arg.value, cst.Dict):
                for element in arg.value.elements:
                    if not isinstance(element, cst.DictElement):
                        uses.append((None, ""))
                        continue
                    handler = ""
                    if isinstance(element.value, (cst.Name, cst.Attribute)):
                        handler = self._ref(element.value)
                    uses.append((self._event_ref(element.key), handler))
            elif arg.star or arg.keyword is not None:
                uses.append((None, ""))
            else:
                uses.append((self._event_ref(arg.value), ""))
        if not uses:
            return False
        for event, handler in uses:
            self._subscribe(
                node,
                receiver,
                receiver_ref,
                method,
                None if method == "psubscribe" else event,
                handler,
                api=CHANNEL_API,
            )
        return True

    def _publication(self, node: cst.Call, receiver: str, receiver_ref: str, method: str) -> None:
        payload_class = ""
        positional = [a for a in node.args if a.keyword is None and not a.star]
        # signal.send(sender, **kwargs): the payload is the keywords; a send with
        # several positional arguments is a socket, a generator or a pipe.
        if (
            method in ("send", "send_robust")
            and not any(a.keyword for a in node.args)
            and (len(positional) != 1 or any(a.star for a in node.args))
        ):
            return
        event: EventRef | None
        payload: tuple[str, ...] | None
        if method in ("send", "send_robust"):
            event = self._event_ref(func_value(node))
            keywords = [a for a in node.args if a.keyword is not None]
            payload = (
                None
                if any(a.star == "**" for a in node.args)
                else tuple(
                    a.keyword.value for a in keywords if a.keyword and a.keyword.value != "sender"
                )
            )
        else:
            event = self._event_argument(node)
            payload_node = None
            for arg in node.args:
                if arg.keyword is not None and arg.keyword.value in PAYLOAD_KEYWORDS:
                    payload_node = arg.value
            if payload_node is None and method != "put" and len(positional) >= 2:
                payload_node = positional[1].value
            if method == "put" and positional:
                payload_node = positional[0].value
                event = None
            payload, payload_class = (
                self._payload(payload_node) if payload_node is not None else (None, "")
            )
            if method == "emit" and len(positional) > 2:
                # ee.emit("x", a, b): the handler takes several arguments, none of
                # them "the payload".
                payload, payload_class = None, ""
            extra = [
                a
                for a in node.args
                if a.star == "**"
                or (a.keyword is not None and a.keyword.value not in EVENT_KEYWORDS)
            ]
            if payload_node is None and extra and len(positional) <= 1:
                # bus.publish("auth.login", user_id=uid): the keywords are the payload
                payload = (
                    None
                    if any(a.star == "**" for a in extra)
                    else tuple(sorted(a.keyword.value for a in extra if a.keyword is not None))
                )
        self._publish(
            node,
            receiver,
            receiver_ref,
            method,
            event,
            payload,
            names_sender=any(
                a.keyword is not None and a.keyword.value == "sender" for a in node.args
            ),
            api=STREAM_API if method == "xadd" else "",
            payload_class=payload_class,
        )

    def _payload(self, node: cst.BaseExpression) -> tuple[tuple[str, ...] | None, str]:
        """The literal keys of a payload, or (None, the class it is built from)."""
        keys = self._payload_keys(node)
        if keys is not None:
            return keys, ""
        if isinstance(node, cst.Call) and isinstance(node.func, (cst.Name, cst.Attribute)):
            return None, self._ref(node.func)
        function = self._function()
        if isinstance(node, cst.Name) and function is not None:
            return None, function.instances.get(node.value, "")
        return None, ""

    def _payload_keys(self, node: cst.BaseExpression) -> tuple[str, ...] | None:
        keys = _literal_keys(node)
        if keys is None and isinstance(node, cst.Name):
            function = self._function()
            if function is not None:
                keys = function.dicts.get(node.value)
        return tuple(sorted(keys)) if keys is not None else None

    def _subscription(self, node: cst.Call, receiver: str, receiver_ref: str, method: str) -> None:
        positional = [a for a in node.args if a.keyword is None and not a.star]
        handler_node: cst.BaseExpression | None = None
        event: EventRef | None
        if method == "connect":
            # signal.connect(handler): the receiver is the event
            if not positional:
                return
            event = self._event_ref(func_value(node))
            handler_node = positional[0].value
        else:
            event = self._event_argument(node)
            for arg in node.args:
                if arg.keyword is not None and arg.keyword.value in (
                    "handler",
                    "callback",
                    "listener",
                    "func",
                ):
                    handler_node = arg.value
            if handler_node is None and len(positional) >= 2:
                handler_node = positional[1].value
        handler = ""
        if isinstance(handler_node, (cst.Name, cst.Attribute)):
            handler = self._ref(handler_node)
        self._subscribe(node, receiver, receiver_ref, method, event, handler)

    # -- queues and workers ----------------------------------------------------------------
    def _queue_write(self, node: cst.Call, payload: cst.BaseExpression | None = None) -> None:
        """``q.put(msg)``, or a configured send pattern's call (``payload`` given)."""
        function = self._function()
        assert isinstance(node.func, cst.Attribute)
        receiver = dotted_name(node.func.value) or ""
        positional = [a for a in node.args if a.keyword is None and not a.star]
        if function is None or not receiver:
            return
        if payload is None:
            if len(positional) != 1:
                return
            payload = positional[0].value
        keys = self._payload_keys(payload)
        if keys is None and not isinstance(payload, (cst.Dict, cst.Name, cst.Call)):
            return  # a sentinel (None), a tuple, a number: not a dict message
        function.uses_queues = True
        self._queue_writes.append(QueueWrite(function.qualname, receiver, keys, self._site(node)))

    def _note_passed(self, node: cst.Call) -> None:
        function = self._function()
        if function is None:
            return
        for arg in node.args:
            name = dotted_name(arg.value)  # None unless a Name or Attribute chain
            if name:
                self._passed.append((function.qualname, name))

    def _worker_start(self, node: cst.Call) -> bool:
        """Record ``Process(target=..., args=...)``; whether ``node`` is one."""
        name = dotted_name(node.func) or ""
        if name.rsplit(".", 1)[-1] not in WORKER_FACTORIES:
            return False
        function = self._function()
        target = ""
        args: tuple[str, ...] = ()
        kwargs: tuple[tuple[str, str], ...] = ()
        for arg in node.args:
            if arg.keyword is None:
                continue
            if arg.keyword.value == "target" and isinstance(arg.value, (cst.Name, cst.Attribute)):
                target = self._ref(arg.value)
            elif arg.keyword.value == "args" and isinstance(arg.value, (cst.Tuple, cst.List)):
                args = tuple(dotted_name(e.value) or "" for e in arg.value.elements)
            elif arg.keyword.value == "kwargs" and isinstance(arg.value, cst.Dict):
                kwargs = tuple(
                    (key, dotted_name(e.value) or "")
                    for e in arg.value.elements
                    if isinstance(e, cst.DictElement) and (key := _string(e.key)) is not None
                )
        if target and function is not None:
            self._worker_starts.append(
                WorkerStart(function.qualname, target, args, kwargs, self._site(node))
            )
        return True

    # -- reads of parameters ---------------------------------------------------------------
    def visit_Try(self, node: cst.Try) -> None:
        if any(
            handler.type is None
            or any(
                (dotted_name(n) or "").rsplit(".", 1)[-1] in KEY_ERROR_CATCHERS
                for n in (
                    [e.value for e in handler.type.elements]
                    if isinstance(handler.type, cst.Tuple)
                    else [handler.type]
                )
            )
            for handler in node.handlers
        ):
            self._key_error_bodies.mark(node.body)

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._key_error_bodies.enter(node)

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock) -> None:
        self._key_error_bodies.leave(original_node)

    def visit_Comparison(self, node: cst.Comparison) -> None:
        # ``if "k" in data:`` guards the reads of data["k"] after it.
        function = self._function()
        if function is None or len(node.comparisons) != 1:
            return
        comparison = node.comparisons[0]
        if type(comparison.operator) is not cst.In and type(comparison.operator) is not cst.NotIn:
            return
        key = _string(node.left)
        name = _payload_holder(comparison.comparator)
        if key is not None and name:
            function.stored.add((name, key))

    def visit_Subscript(self, node: cst.Subscript) -> None:
        function = self._function()
        if function is None:
            return
        name = _payload_holder(node.value)
        if not name:
            return
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            return
        key = _string(node.slice[0].slice.value)
        if key is None or (name, key) in function.stored:
            return
        if id(node) in self._written and id(node) not in self._augmented:
            function.stored.add((name, key))  # ``data["k"] = v``: a write, not a read
            return
        if self._key_error_bodies.depth:
            return  # ``try: data["k"] except KeyError:``: a missing key is handled
        if name in function.got:
            function.got_origin.setdefault(name, function.got[name])
            function.got_reads.setdefault(name, []).append(
                KeyRead(key, "subscript", self._site(node))
            )
        elif name in function.params or name == function.var_kwargs:
            function.reads.setdefault(name, []).append(KeyRead(key, "subscript", self._site(node)))

    def _read(self, node: cst.Call) -> None:
        function = self._function()
        func = node.func
        if function is None or not isinstance(func, cst.Attribute):
            return
        name = _payload_holder(func.value)
        if not name:
            return
        if not node.args or node.args[0].keyword is not None:
            return
        key = _string(node.args[0].value)
        if key is None or (name, key) in function.stored:
            return
        if name in function.got:
            function.got_origin.setdefault(name, function.got[name])
            function.got_reads.setdefault(name, []).append(KeyRead(key, "get", self._site(node)))
        elif name in function.params or name == function.var_kwargs:
            function.reads.setdefault(name, []).append(KeyRead(key, "get", self._site(node)))

    def collect(self) -> MessageFacts:
        queues = {w.receiver for w in self._queue_writes} | {r.receiver for r in self._queue_reads}
        queues.update(text for start in self._worker_starts for text in start.args if text)
        queues.update(text for start in self._worker_starts for _, text in start.kwargs if text)
        return MessageFacts(
            module=self._module,
            constants=tuple(self._constants),
            signals=tuple(self._signals),
            aliases=tuple(sorted(self._aliases.items())),
            publications=tuple(self._publications),
            subscriptions=tuple(self._subscriptions),
            functions=tuple(self._functions),
            escaped_publishers=tuple(dict.fromkeys(self._escaped)),
            queue_writes=tuple(self._queue_writes),
            queue_reads=tuple(self._queue_reads),
            worker_starts=tuple(self._worker_starts),
            queue_escapes=tuple(dict.fromkeys(p for p in self._passed if p[1] in queues)),
            payload_classes=tuple(self._payload_classes),
            emitters=tuple(dict.fromkeys(self._emitters)),
            attribute_types=tuple(dict.fromkeys(self._attribute_types)),
        )


def _class_like(node: cst.BaseExpression) -> bool:
    """``CDPSession`` / ``connection.Connection``: a capitalised last name."""
    last = (dotted_name(node) or "").rsplit(".", 1)[-1]
    return last[:1].isupper()


def _message_settings(
    context: FileContext,
) -> tuple[list[str], list[str], list[str], list[str], list[str]]:
    """The configured publish/subscribe/send/receive patterns and bus receiver names
    (the defaults without a configuration)."""
    from integ_lint.config.settings import MessageSettings

    config = getattr(context, "config", None)
    settings = config.section(MessageSettings) if config is not None else MessageSettings()
    return (
        list(settings.publish),
        list(settings.subscribe),
        list(settings.send),
        list(settings.receive),
        list(settings.bus_receivers),
    )


def _matches_any(receiver: str, patterns: list[str]) -> bool:
    """Whether the receiver's last name matches one of the ``bus-receivers`` globs."""
    import fnmatch

    last = receiver.rsplit(".", 1)[-1].lower()
    return any(fnmatch.fnmatchcase(last, pattern.lower()) for pattern in patterns)


def _unquoted(node: cst.BaseExpression) -> cst.BaseExpression:
    """``"Payload"`` (a forward reference) as the name it quotes."""
    text = _string(node)
    if text is not None and text.replace(".", "").replace("_", "").isalnum():
        try:
            return cst.parse_expression(text)
        except cst.ParserSyntaxError:
            return node
    return node


def func_value(node: cst.Call) -> cst.BaseExpression:
    """The receiver of a method call ``x.m(...)``."""
    assert isinstance(node.func, cst.Attribute)
    return node.func.value


def _literal_keys(node: cst.BaseExpression) -> set[str] | None:
    """The keys of a dict display with literal string keys, or of ``dict(a=..)``;
    None when the keys are not all known."""
    if type(node) is cst.Dict:
        keys: set[str] = set()
        for element in node.elements:
            if not isinstance(element, cst.DictElement):
                return None  # ** splat
            key = _string(element.key)
            if key is None:
                return None
            keys.add(key)
        return keys
    if (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Name)
        and node.func.value == "dict"
        and all(a.keyword is not None for a in node.args)
    ):
        return {a.keyword.value for a in node.args if a.keyword is not None}
    return None


def _is_flag(node: cst.BaseExpression) -> bool:
    """``q.get(True)`` / ``q.get(False)``: the block flag, not a key."""
    return isinstance(node, cst.Name) and node.value in ("True", "False")


# ``event.payload["k"]``: an event object's payload attribute is read like the payload.
PAYLOAD_ATTRIBUTES = frozenset({"payload", "data", "body", "kwargs", "fields"})


# ``model_config = ConfigDict(extra="allow")``, ``class Config: extra = Extra.allow``.
_EXTRA_ALLOW = re.compile(r"\bextra\W{0,3}\s*[=:]\s*(?:[\"']allow[\"']|[\w.]*\ballow\b)")


def _allows_extra(
    statement: cst.BaseStatement | cst.BaseCompoundStatement, model_config_named: bool
) -> bool:
    """Whether a class-body statement opens a pydantic model to undeclared fields
    (``model_config_named``: the file's source holds ``model_config`` at all)."""
    if isinstance(statement, cst.ClassDef) and statement.name.value == "Config":
        text = cst.Module([]).code_for_node(statement)
    elif (
        model_config_named
        and isinstance(statement, cst.SimpleStatementLine)
        and any(isinstance(small, (cst.Assign, cst.AnnAssign)) for small in statement.body)
    ):
        text = cst.Module([]).code_for_node(statement)
        if "model_config" not in text:
            return False
    else:
        return False
    return bool(_EXTRA_ALLOW.search(text))


def _self_attribute(target: cst.BaseExpression) -> str | None:
    """``name`` for the assignment target ``self.name``, else None."""
    if (
        isinstance(target, cst.Attribute)
        and isinstance(target.value, cst.Name)
        and target.value.value == "self"
    ):
        return target.attr.value
    return None


def _self_attributes(method: cst.FunctionDef) -> list[str]:
    """The names a method assigns on ``self`` (``self.name = ...``)."""
    # The assignments of the body's statements, in the order a visit meets them; an
    # expression holds no statement, so the walk does not enter expressions.
    names: list[str] = []
    stack: list[cst.CSTNode] = [method.body]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is cst.AssignTarget or kind is cst.AnnAssign:
            name = _self_attribute(node.target)  # type: ignore[attr-defined]
            if name is not None:
                names.append(name)
        children = [child for child in child_nodes(node) if _may_hold_assignment(type(child))]
        children.reverse()
        stack.extend(children)
    return names


_is_expression = subclass_test(cst.BaseExpression, {})
# Per node kind: whether it may hold a statement (not an expression, nor whitespace
# and tokens, which are most of a body's nodes).
_HOLDS_STATEMENTS: dict[type, bool] = {}


def _may_hold_assignment(kind: type) -> bool:
    known = _HOLDS_STATEMENTS.get(kind)
    if known is None:
        known = _HOLDS_STATEMENTS[kind] = not _is_expression(kind) and not is_terminal(kind)
    return known


def _payload_holder(node: cst.BaseExpression) -> str:
    """The name whose payload ``node`` is: ``data`` for ``data`` and for
    ``data.payload`` (and the other payload attributes); ``""`` otherwise."""
    if isinstance(node, cst.Name):
        return node.value
    if (
        isinstance(node, cst.Attribute)
        and isinstance(node.value, cst.Name)
        and node.attr.value in PAYLOAD_ATTRIBUTES
    ):
        return node.value.value
    return ""
