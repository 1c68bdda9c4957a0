"""The message model: events joined across the project, from every file's message facts.

Two families of messages are recognised (docs/rules/messages.md):

* ``bus``: ``x.publish(event, payload)`` / ``x.subscribe(event, handler)`` and the
  ``emit``/``on``/``dispatch``/``add_listener``/... variants on a receiver whose name
  says it is an event bus (``event_bus``, ``self.bus``, ``emitter``; configurable). The
  event is a string literal or a constant/enum member the project declares, resolved
  through imports to its value, so ``events.USER_LOGGED_IN`` and ``"user.logged_in"``
  are the same event.
* ``signal``: ``sig.send(sender, **kwargs)`` / ``sig.connect(handler)`` /
  ``@receiver(sig)`` for a ``Signal()`` object (Django, blinker) defined at module level
  in the project. Signals defined outside the project (a framework's own) are left out:
  their other side is not in the scanned code.

* ``stream`` / ``channel``: redis streams (``xadd(stream, fields)`` /
  ``xread``/``xreadgroup(streams={...})``) and redis pub/sub channels
  (``publish(channel, message)`` / ``subscribe(...)``) in files that import redis.

Custom APIs of ``[tool.integ-lint.messages] publish``/``subscribe`` are ``bus`` events;
so are the calls on pyee emitters the project builds (``ee = EventEmitter()``), whatever
their name. A payload built from a TypedDict/dataclass/pydantic class the project
defines carries that class's fields as its keys.

An event whose identity cannot be resolved (computed names, parameters) is *dynamic*:
it is counted per family, and rules that would need to know every publisher or every
subscriber of a family stay silent when the family has dynamic uses. A
``x.send(sender=...)`` whose ``x`` is a parameter or variable is a dynamic signal
publication: it may send any of the project's signals.
"""

from __future__ import annotations

import fnmatch
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from integ_lint.config.errors import ConfigError
from integ_lint.config.settings import MessageSettings
from integ_lint.facts.messages import (
    CHANNEL_API,
    CUSTOM_API,
    KEY,
    PUBLISH_METHODS,
    STREAM_API,
    SUBSCRIBE_METHODS,
    EventRef,
    FunctionReads,
    MessageFacts,
    PatternError,
    PayloadClass,
    Publication,
    QueueRead,
    QueueWrite,
    Subscription,
    parse_api_pattern,
)
from integ_lint.model.names import follow_reexports

if TYPE_CHECKING:
    from integ_lint.model.project import ProjectIndex

BUS = "bus"
SIGNAL = "signal"
STREAM = "stream"  # redis streams
CHANNEL = "channel"  # redis pub/sub
NAMED_FAMILIES = (BUS, STREAM, CHANNEL)  # events named by a string (not a signal object)
# Events pyee emits itself on a project's emitter: never "without publisher".
PYEE_OWN_EVENTS = frozenset({"new_listener", "removeListener", "error"})
# Redis's own notification channels (keyspace/keyevent notifications).
REDIS_OWN_CHANNEL_PREFIXES = ("__keyspace@", "__keyevent@", "__redis__")
BUS_PUBLISH = PUBLISH_METHODS - {"send", "send_robust", "xadd", "put"}
BUS_SUBSCRIBE = SUBSCRIBE_METHODS - {"connect"}
SIGNAL_PUBLISH = frozenset({"send", "send_robust"})
SIGNAL_SUBSCRIBE = frozenset({"connect", "receiver"})
DEFAULT_BUS_RECEIVERS: tuple[str, ...] = tuple(MessageSettings().bus_receivers)
_EXTERNAL = "\0external"


@dataclass(frozen=True)
class EventKey:
    family: str  # BUS or SIGNAL
    name: str  # the event's value, or the signal's qualified name

    def label(self) -> str:
        if self.family == BUS:
            return f'"{self.name}"'
        if self.family in (STREAM, CHANNEL):
            return f'redis {self.family} "{self.name}"'
        return self.name


@dataclass
class EventEntry:
    key: EventKey
    publications: list[tuple[str, Publication]] = field(default_factory=list)
    subscriptions: list[tuple[str, Subscription]] = field(default_factory=list)
    # How uses named it: the constants (qualified names) and whether a literal was used.
    declared_as: set[str] = field(default_factory=set)
    literal_uses: list[tuple[str, Publication | Subscription]] = field(default_factory=list)

    def payload_keys(self) -> set[str] | None:
        """Every key any publisher sends; None when a publisher's payload is unknown."""
        keys: set[str] = {"sender", "signal"} if self.key.family == SIGNAL else set()
        for _, publication in self.publications:
            if publication.payload_keys is None:
                return None
            keys.update(publication.payload_keys)
        return keys


@dataclass
class MessageIndex:
    events: dict[EventKey, EventEntry] = field(default_factory=dict)
    dynamic_publications: Counter[str] = field(default_factory=Counter)
    # Literal prefixes of dynamic bus publications (f"sync.{kind}" -> "sync."): such a
    # publication can only be an event that starts with one of them.
    dynamic_prefixes: set[tuple[str, str]] = field(default_factory=set)  # (family, prefix)
    dynamic_subscriptions: Counter[str] = field(default_factory=Counter)
    functions: dict[str, tuple[str, FunctionReads]] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)  # qualified name -> value
    signals: dict[str, str] = field(default_factory=dict)  # qualified name -> relpath
    module_of: dict[str, str] = field(default_factory=dict)  # module -> relpath
    # Events published through an alias of their publish method (payload unknown).
    aliased_publications: set[EventKey] = field(default_factory=set)
    # Payload classes (TypedDict, dataclass, pydantic) -> (kind, every field with the
    # bases'); only classes whose bases are all known.
    payload_classes: dict[str, tuple[str, frozenset[str]]] = field(default_factory=dict)

    def entry(self, key: EventKey) -> EventEntry:
        if key not in self.events:
            self.events[key] = EventEntry(key)
        return self.events[key]

    def annotated_class(self, function: FunctionReads, param: str) -> str:
        """The payload class ``param`` of ``function`` is annotated with ("" when none)."""
        return dict(function.annotations).get(param, "")

    def subscriptions_of_handler(self, handler: str) -> list[EventEntry]:
        return [
            entry
            for entry in self.events.values()
            if any(s.handler == handler for _, s in entry.subscriptions)
        ]


def is_bus_receiver(receiver: str, patterns: tuple[str, ...] | list[str]) -> bool:
    last = receiver.rsplit(".", 1)[-1].lower()
    return any(fnmatch.fnmatchcase(last, pattern.lower()) for pattern in patterns)


class _Resolver:
    """Follows qualified names through the project's module-level aliases (re-exports)
    to the constant or signal they name."""

    def __init__(self, project: ProjectIndex, facts: dict[str, MessageFacts]) -> None:
        self.modules = set(project.modules)
        self.aliases = {f.module: dict(f.aliases) for f in facts.values() if f.module}
        self.constants = {q: v for f in facts.values() for q, v in f.constants}
        self.signals = {q for f in facts.values() for q in f.signals}
        self.classes = {c.qualname: c for f in facts.values() for c in f.payload_classes}
        self.class_names = set(self.classes)
        self.emitters = {name for f in facts.values() for name in f.emitters}
        self.fields: dict[str, tuple[str, frozenset[str]] | None] = {}
        # Attributes holding an instance of an emitter class are emitters too.
        for value in facts.values():
            for attribute, built in value.attribute_types:
                if self.follow(built, self.emitters) not in (None, _EXTERNAL):
                    self.emitters.add(attribute)

    def is_emitter(self, name: str) -> bool:
        """Whether ``name`` (an object, or the class of an annotated parameter) is a
        pyee emitter of the project."""
        if not name:
            return False
        if name in self.emitters:
            return True
        return self.follow(name, self.emitters) not in (None, _EXTERNAL)

    def payload_class(self, name: str) -> tuple[str, tuple[str, frozenset[str]]] | None:
        """The project payload class ``name`` refers to and its (kind, fields); None when
        it is not one, or a base of it is not known."""
        if not name:
            return None
        found = self.follow(name, self.class_names)
        if found is None or found == _EXTERNAL:
            return None
        fields = self._fields(found, ())
        return (found, fields) if fields is not None else None

    def _fields(self, qualname: str, seen: tuple[str, ...]) -> tuple[str, frozenset[str]] | None:
        if qualname in self.fields:
            return self.fields[qualname]
        cls: PayloadClass = self.classes[qualname]
        names = set(cls.fields)
        kind = cls.kind
        result: tuple[str, frozenset[str]] | None = None
        for base in cls.bases:
            found = self.follow(base, self.class_names)
            if found is None or found == _EXTERNAL or found in seen:
                break
            merged = self._fields(found, (*seen, qualname))
            if merged is None:
                break
            kind = kind or merged[0]
            names |= merged[1]
        else:
            result = (kind, frozenset(names)) if kind else None
        self.fields[qualname] = result
        return result

    def follow(self, name: str, table: set[str] | dict[str, str]) -> str | None:
        """The name in ``table`` that ``name`` refers to; ``_EXTERNAL`` when it lies
        outside the project; None when it is the project's but not in ``table``."""
        found = follow_reexports(name, table.__contains__, self.aliases)
        if found in table:
            return found
        parts = found.split(".")
        if not any(".".join(parts[:cut]) in self.modules for cut in range(1, len(parts))):
            return _EXTERNAL
        return None


def build_message_index(
    project: ProjectIndex, bus_receivers: tuple[str, ...] | list[str] = DEFAULT_BUS_RECEIVERS
) -> MessageIndex:
    by_path: dict[str, MessageFacts] = {f.relpath: value for f, value in project.facts(KEY)}
    resolver = _Resolver(project, by_path)
    index = MessageIndex(constants=resolver.constants)
    for qualname in sorted(resolver.classes):
        known = resolver.payload_class(qualname)
        if known is not None:
            index.payload_classes[known[0]] = known[1]
    for relpath, value in sorted(by_path.items()):
        if value.module:
            index.module_of[value.module] = relpath
        for name in value.signals:
            index.signals[name] = relpath
        for function in value.functions:
            if function.annotations:
                # Annotations resolved to the payload class they name, once, here.
                annotations = []
                for param, name in function.annotations:
                    known = resolver.payload_class(name)
                    if known is not None:
                        annotations.append((param, known[0]))
                function = replace(function, annotations=tuple(annotations))
            index.functions[function.qualname] = (relpath, function)
    for relpath, value in sorted(by_path.items()):
        for ref in value.escaped_publishers:
            for family in (SIGNAL, BUS):
                key = _key(resolver, family, ref)
                if isinstance(key, EventKey) and key is not _DYNAMIC:
                    index.aliased_publications.add(key)
                    break
        for publication in value.publications:
            _add(index, resolver, relpath, publication, bus_receivers, publish=True)
        for subscription in value.subscriptions:
            _add(index, resolver, relpath, subscription, bus_receivers, publish=False)
    return index


def _add(
    index: MessageIndex,
    resolver: _Resolver,
    relpath: str,
    use: Publication | Subscription,
    bus_receivers: tuple[str, ...] | list[str],
    publish: bool,
) -> None:
    method = use.method
    family = ""
    pyee = resolver.is_emitter(use.receiver_ref)
    if use.api == CUSTOM_API:
        family = BUS
    elif use.api == STREAM_API:
        family = STREAM
    elif use.api == CHANNEL_API and not is_bus_receiver(use.receiver, bus_receivers):
        family = CHANNEL
    elif method in (SIGNAL_PUBLISH if publish else SIGNAL_SUBSCRIBE):
        family = SIGNAL
    elif method in (BUS_PUBLISH if publish else BUS_SUBSCRIBE) and (
        pyee or is_bus_receiver(use.receiver, bus_receivers)
    ):
        family = BUS
    if not family:
        return
    if family != SIGNAL and use.event is not None and use.event.kind == "prefix":
        if publish:
            index.dynamic_prefixes.add((family, use.event.value))
        return
    if not publish and use.event is not None and use.event.kind == "literal":
        if pyee and use.event.value in PYEE_OWN_EVENTS:
            return  # pyee's own events: their publisher is the library
        if family == CHANNEL and use.event.value.startswith(REDIS_OWN_CHANNEL_PREFIXES):
            return
    if isinstance(use, Publication) and use.payload_class:
        known = resolver.payload_class(use.payload_class)
        use = replace(
            use,
            payload_keys=tuple(sorted(known[1][1])) if known is not None else None,
            payload_class=known[0] if known is not None else "",
        )
    key = _key(resolver, family, use.event)
    if key is None and isinstance(use, Publication) and use.names_sender:
        if _signal_through_a_name(resolver, use.event):
            index.dynamic_publications[SIGNAL] += 1  # ``signal.send(sender=...)``, any signal
        return
    if key is None:
        return  # outside the project (a framework's signal or constant)
    if key is _DYNAMIC:
        counter = index.dynamic_publications if publish else index.dynamic_subscriptions
        counter[family] += 1
        return
    assert isinstance(key, EventKey)
    entry = index.entry(key)
    if publish:
        assert isinstance(use, Publication)
        entry.publications.append((relpath, use))
    else:
        assert isinstance(use, Subscription)
        entry.subscriptions.append((relpath, use))
    if use.event is not None and use.event.kind == "literal":
        entry.literal_uses.append((relpath, use))
    elif use.event is not None:
        entry.declared_as.add(use.event.value)


_DYNAMIC = EventKey("", "\0dynamic")


def _key(resolver: _Resolver, family: str, event: EventRef | None) -> EventKey | None:
    if event is None:
        return _DYNAMIC if family != SIGNAL else None
    if family == SIGNAL:
        if event.kind != "name":
            return None
        found = resolver.follow(event.value, resolver.signals)
        if found is None or found == _EXTERNAL:
            # Not a project signal: a socket's send(), a framework's signal.
            return None
        return EventKey(SIGNAL, found)
    if event.kind == "literal":
        return EventKey(family, event.value)
    if event.kind == "prefix":
        return _DYNAMIC
    found = resolver.follow(event.value, resolver.constants)
    if found == _EXTERNAL:
        return None
    if found is None:
        return _DYNAMIC
    return EventKey(family, resolver.constants[found])


def _signal_through_a_name(resolver: _Resolver, event: EventRef | None) -> bool:
    """Whether a ``send(sender=...)`` on ``event`` sends a project signal we cannot
    name: its receiver is a parameter or variable of the project, not a framework's
    signal."""
    if event is None:
        return True
    if event.kind != "name":
        return False
    return resolver.follow(event.value, resolver.signals) is None


def payload_parameter(function: FunctionReads, family: str) -> list[str]:
    """The parameters of a handler that hold the payload: for a bus handler the last
    positional one (``def on_login(self, data)``, ``def handle(event, data)``); for a
    signal receiver its ``**kwargs``."""
    if family == SIGNAL:
        return [function.var_kwargs] if function.var_kwargs else []
    params = list(function.params)
    if function.is_method and params:
        params = params[1:]
    return params[-1:] if params else []


@dataclass
class Channel:
    """A queue or pipe between functions: what is written to it and what is read from
    the items taken off it."""

    writes: list[tuple[str, QueueWrite]] = field(default_factory=list)
    reads: list[tuple[str, QueueRead]] = field(default_factory=list)
    escapes: bool = False  # handed to a call that may write or read it too


def queue_channels(project: ProjectIndex) -> list[Channel]:
    """Queues joined across worker boundaries: ``Process(target=worker, args=(q,))``
    makes the starter's ``q`` and the worker's parameter one channel; ``self.q`` is one
    channel across the methods of a class; a plain local name is one within its
    function."""
    by_path: dict[str, MessageFacts] = {f.relpath: value for f, value in project.facts(KEY)}
    params: dict[str, FunctionReads] = {}
    for value in by_path.values():
        for function in value.functions:
            params[function.qualname] = function
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def endpoint(function: str, receiver: str) -> tuple[str, str]:
        if receiver.startswith("self."):
            return function.rsplit(".", 1)[0], receiver  # the class
        return function, receiver

    def find(node: tuple[str, str]) -> tuple[str, str]:
        while parent.get(node, node) != node:
            node = parent[node]
        return node

    def union(a: tuple[str, str], b: tuple[str, str]) -> None:
        root_a, root_b = find(a), find(b)
        if root_a != root_b:
            parent[max(root_a, root_b)] = min(root_a, root_b)

    for value in by_path.values():
        for start in value.worker_starts:
            target = params.get(start.target)
            if target is None:
                continue
            names = list(target.params)
            if target.is_method and names:
                names = names[1:]
            for position, text in enumerate(start.args):
                if text and position < len(names):
                    union(
                        endpoint(start.function, text), endpoint(target.qualname, names[position])
                    )
            for key, text in start.kwargs:
                if text:
                    union(endpoint(start.function, text), endpoint(target.qualname, key))
    channels: dict[tuple[str, str], Channel] = {}
    for relpath, value in sorted(by_path.items()):
        for write in value.queue_writes:
            root = find(endpoint(write.function, write.receiver))
            channels.setdefault(root, Channel()).writes.append((relpath, write))
        for read in value.queue_reads:
            root = find(endpoint(read.function, read.receiver))
            channels.setdefault(root, Channel()).reads.append((relpath, read))
    for value in by_path.values():
        for escaping_function, name in value.queue_escapes:
            root = find(endpoint(escaping_function, name))
            if root in channels:
                channels[root].escapes = True
    return [c for _, c in sorted(channels.items()) if c.writes and c.reads and not c.escapes]


def validate_message_settings(settings: MessageSettings, source: str) -> None:
    """Checks of ``[tool.integ-lint.messages]`` beyond types (called from engine.select_rules):
    every pattern parses; the error names the key, the pattern and what is wrong."""

    for kind, texts in (
        ("publish", settings.publish),
        ("subscribe", settings.subscribe),
        ("send", settings.send),
        ("receive", settings.receive),
    ):
        for text in texts:
            try:
                parse_api_pattern(text, kind)
            except PatternError as exc:
                raise ConfigError(
                    f"{source}: tool.integ-lint.messages.{kind}: {text!r}: {exc}"
                ) from None
