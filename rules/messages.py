"""Message contracts (IL6xx): events and payloads between the components that publish
and subscribe to them. The model is :mod:`integ_lint.model.messages`; the shapes recognised
and the limits are in docs/rules/messages.md."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Iterator

from integ_lint.config.settings import MessageSettings
from integ_lint.facts.messages import (
    FunctionReads,
    MessageFactCollector,
    Publication,
)
from integ_lint.findings.model import Finding, RelatedLocation, Severity
from integ_lint.model.messages import (
    BUS,
    NAMED_FAMILIES,
    SIGNAL,
    STREAM,
    EventEntry,
    MessageIndex,
    build_message_index,
    payload_parameter,
    queue_channels,
)
from integ_lint.model.project import ProjectIndex
from integ_lint.rule import Invalid, ProjectRule, Valid

FAMILY = "messages"

BUS_MODULE = """
class EventBus:
    def publish(self, event_type, data=None): ...
    def subscribe(self, event_type, handler): ...

event_bus = EventBus()
"""
EVENTS_MODULE = """
USER_LOGGED_IN = "user.logged_in"
USER_LOGGED_OUT = "user.logged_out"
"""
# A login event published and subscribed to (IL601's Valid; its Invalid publishes
# one more event).
LOGIN_ROUND_TRIP = """
from pkg.bus import event_bus
from pkg import events

def on_login(data):
    return data["user_id"]

event_bus.subscribe(events.USER_LOGGED_IN, on_login)
event_bus.publish(events.USER_LOGGED_IN, {"user_id": 1})
"""


def message_index(project: ProjectIndex) -> MessageIndex:
    settings = project.config.section(MessageSettings)
    return project.derived(
        "messages", lambda p: build_message_index(p, tuple(settings.bus_receivers))
    )


def _related_publications(entry: EventEntry) -> list[RelatedLocation]:
    return [
        RelatedLocation(path, p.site.span, f"published here ({_keys(p)})")
        for path, p in entry.publications[:20]
    ]


def _keys(publication: Publication) -> str:
    keys = publication.payload_keys
    if keys is None:
        return "payload unknown"
    return "sends " + (", ".join(keys) if keys else "no keys")


# Attributes every pydantic model has (``model_fields``, ``model_config``): not fields.
MODEL_API_PREFIXES = ("model_",)


def _shown(param: str, key: str, how: str) -> str:
    if how == "subscript":
        return f'{param}["{key}"]'
    if how == "get":
        return f'{param}.get("{key}")'
    return f"{param}.{key}"


def _effect(how: str) -> str:
    if how == "subscript":
        return "KeyError when it runs"
    if how == "get":
        return "the default applies every time"
    return "AttributeError when it runs"


class _MessageRule(ProjectRule):
    FACTS = (MessageFactCollector,)
    family = FAMILY

    def _uses(self, project: ProjectIndex) -> MessageIndex:
        return message_index(project)


class EventWithoutSubscriber(_MessageRule):
    """An event the project publishes on its bus that no project code subscribes to.

    **What it does**
    For every event published on an event bus (``event_bus.publish(EVENT, data)``)
    whose identity is known, reports it when no subscription in the project names the
    same event, provided the project subscribes to other events on its bus and no
    subscription computes its event at run time.

    **Why is this bad?**
    A published event that nothing handles is work that goes nowhere: a renamed
    subscription, a handler registered under another name, or a feature half removed.

    **Example**
    ```python
    event_bus.publish(events.USER_LOGGED_OUT, {"user_id": uid})  # nobody listens
    ```

    **How to fix**
    Subscribe the handler that should react, or stop publishing the event.

    **Opt-in**: libraries publish events for their users to subscribe to, so an event
    without a subscriber in the scanned code is often the point. Enable it with
    ``extend-select = ["IL601"]`` in an application whose subscribers all live in the
    project.
    """

    code = "IL601"
    name = "event-without-subscriber"
    severity = Severity.WARNING
    default_enabled = False
    VALID = (
        Valid(
            LOGIN_ROUND_TRIP,
            files={"pkg/bus.py": BUS_MODULE, "pkg/events.py": EVENTS_MODULE},
        ),
    )
    INVALID = (
        Invalid(
            LOGIN_ROUND_TRIP + 'event_bus.publish(events.USER_LOGGED_OUT, {"user_id": 1})\n',
            line=9,
            files={"pkg/bus.py": BUS_MODULE, "pkg/events.py": EVENTS_MODULE},
            message='"user.logged_out" is published but no project code subscribes to it',
        ),
    )

    def check(self, project: ProjectIndex) -> Iterable[Finding]:
        index = self._uses(project)
        for family in (*NAMED_FAMILIES, SIGNAL):
            if index.dynamic_subscriptions[family]:
                continue
            if not any(e.subscriptions for e in index.events.values() if e.key.family == family):
                continue
            for entry in index.events.values():
                if entry.key.family != family or entry.subscriptions or not entry.publications:
                    continue
                path, publication = entry.publications[0]
                if not project.reported(path):
                    continue
                yield self.finding(
                    path,
                    publication.site,
                    f"{entry.key.label()} is published but no project code subscribes to it",
                    related=_related_publications(entry)[1:],
                )


class SubscriberWithoutPublisher(_MessageRule):
    """A handler subscribed to an event that nothing in the project publishes.

    **What it does**
    Reports a subscription (``bus.subscribe(EVENT, handler)``, ``@bus.on(EVENT)``,
    ``signal.connect(handler)``, ``@receiver(signal)``) when no code in the project
    publishes that event and:

    * the event is a constant or enum member the project declares (and the project
      publishes on its bus, with no event computed at run time), or a ``Signal``
      the project defines; or
    * the event is a string literal within a typo of an event that *is* published
      (the message names it).

    The same holds for a redis stream read (``xread``/``xreadgroup``) that nothing
    ``xadd``s to and a redis channel subscription that nothing publishes on. Events
    and signals declared outside the project (a framework's; pyee's own ``error`` and
    ``new_listener``; redis keyspace notifications) are never reported: their
    publishers are not in the scanned code.

    **Why is this bad?**
    The handler never runs: the event was renamed, never wired, or misspelled, and
    nothing fails to say so.

    **Example**
    ```python
    event_bus.subscribe("user.loged_in", audit_login)  # published: "user.logged_in"
    ```

    **How to fix**
    Subscribe to the event that is published (use the declared constant rather than
    a string), or delete the dead handler.
    """

    code = "IL602"
    name = "subscriber-without-publisher"
    severity = Severity.WARNING
    VALID = (
        Valid(
            """
            from pkg.bus import event_bus
            from pkg import events

            def on_login(data):
                return data["user_id"]

            event_bus.subscribe(events.USER_LOGGED_IN, on_login)
            event_bus.publish("user.logged_in", {"user_id": 1})
            """,
            files={"pkg/bus.py": BUS_MODULE, "pkg/events.py": EVENTS_MODULE},
        ),
        Valid(
            # Names that differ only in a number (shards, versions) are different on
            # purpose, not a typo of each other.
            """
            from pkg.bus import event_bus

            def on_shard(data):
                return data

            event_bus.publish("shard-1", {"n": 1})
            event_bus.subscribe("shard-2", on_shard)
            """,
            files={"pkg/bus.py": BUS_MODULE},
        ),
        Valid(
            """
            from django.db.models.signals import post_save
            from django.dispatch import receiver

            @receiver(post_save)
            def on_saved(sender, instance, **kwargs):
                return instance
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            from pkg.bus import event_bus
            from pkg import events

            def on_logout(data):
                return data["user_id"]

            event_bus.publish(events.USER_LOGGED_IN, {"user_id": 1})
            event_bus.subscribe(events.USER_LOGGED_OUT, on_logout)
            """,
            line=8,
            files={"pkg/bus.py": BUS_MODULE, "pkg/events.py": EVENTS_MODULE},
            message='on_logout is subscribed to "user.logged_out", which nothing in the project publishes',
        ),
        Invalid(
            """
            from pkg.bus import event_bus

            def audit(data):
                return data

            event_bus.publish("user.logged_in", {"user_id": 1})
            event_bus.subscribe("user.loged_in", audit)
            """,
            line=7,
            files={"pkg/bus.py": BUS_MODULE},
            message='did you mean "user.logged_in"?',
        ),
    )

    def check(self, project: ProjectIndex) -> Iterable[Finding]:
        index = self._uses(project)
        published: dict[str, set[str]] = {family: set() for family in NAMED_FAMILIES}
        for e in index.events.values():
            if e.key.family in published and e.publications:
                published[e.key.family].add(e.key.name)
        for entry in index.events.values():
            if entry.publications or not entry.subscriptions:
                continue
            if entry.key in index.aliased_publications:
                continue  # published through an alias of its send method
            family = entry.key.family
            hint = ""
            if family in published:
                names = sorted(published[family])
                close = [
                    name
                    for name in difflib.get_close_matches(entry.key.name, names, 3, 0.85)
                    if not _differ_only_in_numbers(name, entry.key.name)
                ]
                if close:
                    hint = f'; did you mean "{close[0]}"?'
                elif not (
                    entry.declared_as
                    and names
                    and not index.dynamic_publications[family]
                    and not any(
                        entry.key.name.startswith(prefix)
                        for of, prefix in index.dynamic_prefixes
                        if of == family
                    )
                ):
                    continue
            elif index.dynamic_publications[SIGNAL]:
                continue  # a send(sender=...) through a parameter may send it
            for path, subscription in entry.subscriptions:
                if not project.reported(path):
                    continue
                handler = subscription.handler.rsplit(".", 1)[-1] or "a handler"
                if family == STREAM:
                    # A stream read has no handler: the reading function is the reader.
                    reader = subscription.site.scope.rsplit(".", 1)[-1] or "module code"
                    text = (
                        f"{reader} reads {entry.key.label()}, which nothing in the project adds to"
                    )
                else:
                    text = (
                        f"{handler} is subscribed to {entry.key.label()}, which nothing in the "
                        "project publishes"
                    )
                yield self.finding(path, subscription.site, text + hint)


class PayloadKeyMismatch(_MessageRule):
    """A handler reads a payload key that no publisher of its event sends.

    **What it does**
    For each handler subscribed to events whose publishers all build their payload
    from literal keys (a dict display, ``dict(k=...)``, a local dict filled with
    ``d["k"] = ...``; a signal's ``send(sender, k=...)`` keywords), reports each key
    the handler reads from its payload (``data["k"]``, ``data.get("k")``, a signal
    receiver's ``kwargs["k"]`` or a required parameter) that none of them sends.
    A handler subscribed to several events may read a key any of them sends. A
    payload built as an instance of a TypedDict, dataclass or pydantic model the
    project defines sends that class's fields; a handler whose payload parameter is
    annotated with such a class is checked against its fields (``data["k"]`` for a
    TypedDict, ``data.k`` for a dataclass or model), whoever publishes.

    **Why is this bad?**
    ``data["k"]`` raises ``KeyError`` in the handler, far from the publisher that
    forgot the key (or renamed it); ``data.get("k")`` silently takes its default every
    time; a signal receiver with a required parameter no sender passes raises
    ``TypeError`` at ``send``.

    **Example**
    ```python
    event_bus.publish(events.USER_LOGGED_IN, {"user": uid})

    def on_login(data):
        audit(data["user_id"])  # KeyError: the publisher sends "user"
    ```

    **How to fix**
    Make publisher and subscriber agree (a TypedDict or dataclass for the payload
    keeps them in step).
    """

    code = "IL603"
    name = "payload-key-mismatch"
    severity = Severity.ERROR
    VALID = (
        Valid(
            """
            from pkg.bus import event_bus
            from pkg import events

            def on_login(data):
                return data["user_id"], data.get("ip")

            event_bus.subscribe(events.USER_LOGGED_IN, on_login)
            payload = {"user_id": 1}
            payload["ip"] = "::1"
            event_bus.publish(events.USER_LOGGED_IN, payload)
            """,
            files={"pkg/bus.py": BUS_MODULE, "pkg/events.py": EVENTS_MODULE},
        ),
        Valid(
            """
            from pkg.bus import event_bus
            from pkg import events

            def on_login(data):
                return data["user_id"]

            def publish(extra):
                event_bus.publish(events.USER_LOGGED_IN, {**extra})

            event_bus.subscribe(events.USER_LOGGED_IN, on_login)
            """,
            files={"pkg/bus.py": BUS_MODULE, "pkg/events.py": EVENTS_MODULE},
        ),
    )
    INVALID = (
        Invalid(
            """
            from pkg.bus import event_bus
            from pkg import events

            class Audit:
                def __init__(self):
                    event_bus.subscribe(events.USER_LOGGED_IN, self.on_login)

                def on_login(self, data):
                    return data["user_id"]

            event_bus.publish(events.USER_LOGGED_IN, {"user": 1})
            """,
            line=9,
            files={"pkg/bus.py": BUS_MODULE, "pkg/events.py": EVENTS_MODULE},
            message='reads data["user_id"], but no publisher of "user.logged_in" sends it',
        ),
        Invalid(
            """
            from django.dispatch import Signal

            order_paid = Signal()

            def on_paid(sender, amount, **kwargs):
                return amount, kwargs["currency"]

            order_paid.connect(on_paid)

            def pay(order):
                order_paid.send(sender=order, total=3)
            """,
            lines=(5, 6),
            message="no send of pkg.example.order_paid passes it",
        ),
        Invalid(
            """
            from dataclasses import dataclass

            from pkg.bus import event_bus
            from pkg import events

            @dataclass
            class Login:
                user_id: int

            def on_login(login: Login):
                return login.user_id, login.session

            event_bus.subscribe(events.USER_LOGGED_IN, on_login)
            event_bus.publish(events.USER_LOGGED_IN, Login(user_id=1))
            """,
            line=11,
            files={"pkg/bus.py": BUS_MODULE, "pkg/events.py": EVENTS_MODULE},
            message="annotated Login, which has no 'session'",
        ),
    )

    def check(self, project: ProjectIndex) -> Iterable[Finding]:
        index = self._uses(project)
        handlers = sorted(
            {s.handler for e in index.events.values() for _, s in e.subscriptions if s.handler}
        )
        for handler in handlers:
            found = index.functions.get(handler)
            if found is None:
                continue
            path, function = found
            if not project.reported(path):
                continue
            entries = index.subscriptions_of_handler(handler)
            if not entries:
                continue
            families = {e.key.family for e in entries}
            if len(families) != 1:
                continue
            (family,) = families
            collected: set[str] = set()
            sent: set[str] | None = collected
            objects = True  # every publisher sends an instance of a dataclass/model
            for entry in entries:
                keys = entry.payload_keys()
                if (
                    keys is None
                    or not entry.publications
                    or entry.key in index.aliased_publications  # a payload we cannot see
                ):
                    sent = None
                    break
                collected |= keys
                objects = objects and all(
                    index.payload_classes.get(p.payload_class, ("",))[0] == "object"
                    for _, p in entry.publications
                )
            yield from self._mismatches(
                index, path, function, family, entries, sent, objects and sent is not None
            )

    def _mismatches(
        self,
        index: MessageIndex,
        path: str,
        function: FunctionReads,
        family: str,
        entries: list[EventEntry],
        sent: set[str] | None,
        objects: bool,
    ) -> Iterator[Finding]:
        labels = " / ".join(e.key.label() for e in entries)
        related = [r for e in entries for r in _related_publications(e)]
        name = function.qualname.rsplit(".", 1)[-1]
        reads = dict(function.reads)
        for param in payload_parameter(function, family):
            annotated = index.annotated_class(function, param)
            kind, fields = index.payload_classes.get(annotated, ("", frozenset()))
            seen: set[str] = set()
            for read in reads.get(param, ()):
                if read.key in seen:
                    continue
                # Which names the read is checked against: the annotation's fields
                # first (a dataclass is read by attribute, a TypedDict by key), else
                # what the publishers send (attributes only when they send objects).
                if kind and (read.how == "attribute") == (kind == "object"):
                    if read.key in fields or read.key.startswith(MODEL_API_PREFIXES):
                        continue
                    seen.add(read.key)
                    short = annotated.rsplit(".", 1)[-1]
                    yield self.finding(
                        path,
                        read.site,
                        f"{name} reads {_shown(param, read.key, read.how)}, but its payload "
                        f"is annotated {short}, which has no {read.key!r} "
                        f"({_effect(read.how)}; {short} has: {', '.join(sorted(fields))})",
                    )
                    continue
                if kind or sent is None or read.key in sent:
                    continue
                if read.how == "attribute" and not objects:
                    continue
                seen.add(read.key)
                yield self.finding(
                    path,
                    read.site,
                    f"{name} reads {_shown(param, read.key, read.how)}, but no publisher of "
                    f"{labels} sends it ({_effect(read.how)}; sent: "
                    f"{', '.join(sorted(sent)) or 'nothing'})",
                    related=related,
                )
        if family == SIGNAL and sent is not None:
            positional = list(function.params)
            if function.is_method and positional:
                positional = positional[1:]
            sender = positional[:1]  # Django and blinker pass the sender first
            required = list(function.required)
            if function.is_method and function.params and required[:1] == [function.params[0]]:
                required = required[1:]  # self
            for param in required:
                if param in sender or param in ("signal", "sender") or param in sent:
                    continue
                yield self.finding(
                    path,
                    function.site,
                    f"{name} requires argument {param!r}, but no send of {labels} passes it "
                    "(TypeError at send)",
                    related=related,
                )


class QueuePayloadMismatch(_MessageRule):
    """The reader of a queue or pipe reads a key that its writers never put in.

    **What it does**
    Joins queues across worker boundaries (``Process(target=worker, args=(q,))`` and
    ``Thread(...)`` make the starter's ``q`` and the worker's parameter one queue;
    ``self.q`` is one queue across a class's methods) and, where every writer puts a
    dict built from literal keys (``q.put({...})``, a local dict),
    reports each key read from an item taken off the queue (``item = q.get()`` then
    ``item["k"]`` / ``item.get("k")``) that no writer puts in.

    **Why is this bad?**
    The two sides run in different processes or threads, often in different modules:
    a renamed key makes the worker raise ``KeyError`` far from the cause, or (with
    ``.get``) silently build the wrong thing from a default.

    **Example**
    ```python
    def worker(tasks):
        spec = tasks.get()
        channels = spec.get("input_channels", 3)  # the trainer sends "obs_shape"

    def train():
        tasks = mp.Queue()
        mp.Process(target=worker, args=(tasks,)).start()
        tasks.put({"obs_shape": (4, 84, 84)})
    ```

    **How to fix**
    Make writer and reader agree on the keys; a TypedDict or dataclass for the message
    keeps them in step.
    """

    code = "IL604"
    name = "queue-payload-mismatch"
    severity = Severity.ERROR
    VALID = (
        Valid(
            """
            import multiprocessing as mp

            def worker(tasks):
                spec = tasks.get()
                return spec["obs_shape"]

            def train():
                tasks = mp.Queue()
                mp.Process(target=worker, args=(tasks,)).start()
                tasks.put({"obs_shape": (4, 84, 84)})
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            import multiprocessing as mp

            def worker(tasks):
                spec = tasks.get()
                return spec.get("input_channels", 3)

            def train():
                tasks = mp.Queue()
                mp.Process(target=worker, args=(tasks,)).start()
                tasks.put({"obs_shape": (4, 84, 84)})
            """,
            line=5,
            message='reads spec.get("input_channels") from the queue, but no writer puts it',
        ),
    )

    def check(self, project: ProjectIndex) -> Iterable[Finding]:
        for channel in project.derived("message-queues", queue_channels):
            sent: set[str] = set()
            for _, write in channel.writes:
                if write.keys is None:
                    break
                sent.update(write.keys)
            else:
                related = [
                    RelatedLocation(
                        path,
                        write.site.span,
                        f"put here ({', '.join(write.keys or ()) or 'no keys'})",
                    )
                    for path, write in channel.writes[:20]
                ]
                for path, read in channel.reads:
                    if not project.reported(path):
                        continue
                    reported: set[str] = set()
                    for key_read in read.reads:
                        if key_read.key in sent or key_read.key in reported:
                            continue
                        reported.add(key_read.key)
                        snippet = key_read.site.snippet
                        if key_read.how == "get":
                            shown = snippet.split(".get(", 1)[0] + f'.get("{key_read.key}")'
                            effect = "the default applies every time"
                        else:
                            shown = snippet
                            effect = "KeyError in the reader"
                        yield self.finding(
                            path,
                            key_read.site,
                            f"reads {shown} from the queue, but no writer puts it ({effect}; "
                            f"written: {', '.join(sorted(sent)) or 'nothing'})",
                            related=related,
                        )


class UndeclaredEvent(_MessageRule):
    """An event named by a string literal in a project that declares its events.

    **What it does**
    When the project names bus events through declared constants or enum members,
    reports each publish or subscribe that spells an event as a string literal. An
    event the project only subscribes to, under a name no constant declares, is left
    alone: it is another party's (a protocol's event, emitted under a computed name).

    **Why is this bad?**
    The literal bypasses the registry: a rename of the constant leaves it behind, and
    a typo in it is a new, silent event.

    **Example**
    ```python
    event_bus.publish("user.logged_in", data)  # events.USER_LOGGED_IN exists
    ```

    **How to fix**
    Use the declared constant.

    **Opt-in**: many projects mix both styles on purpose; enable with
    ``extend-select = ["IL605"]`` where the registry is the rule.
    """

    code = "IL605"
    name = "undeclared-event"
    severity = Severity.WARNING
    default_enabled = False
    VALID = (
        Valid(
            """
            from pkg.bus import event_bus
            from pkg import events

            event_bus.publish(events.USER_LOGGED_IN, {"user_id": 1})
            """,
            files={"pkg/bus.py": BUS_MODULE, "pkg/events.py": EVENTS_MODULE},
        ),
        Valid(
            """
            from pkg.bus import event_bus
            from pkg import events

            def on_attached(params):
                return params

            event_bus.publish(events.USER_LOGGED_IN, {"user_id": 1})
            event_bus.subscribe("Page.frameAttached", on_attached)
            """,
            files={"pkg/bus.py": BUS_MODULE, "pkg/events.py": EVENTS_MODULE},
        ),
    )
    INVALID = (
        Invalid(
            """
            from pkg.bus import event_bus
            from pkg import events

            event_bus.publish(events.USER_LOGGED_IN, {"user_id": 1})
            event_bus.publish("user.logged_out", {"user_id": 1})
            """,
            line=5,
            files={"pkg/bus.py": BUS_MODULE, "pkg/events.py": EVENTS_MODULE},
            message="use the declared constant pkg.events.USER_LOGGED_OUT",
        ),
    )

    def check(self, project: ProjectIndex) -> Iterable[Finding]:
        index = self._uses(project)
        declared_values: dict[str, str] = {}
        for entry in index.events.values():
            for name in sorted(entry.declared_as):
                declared_values.setdefault(entry.key.name, name)
        if not declared_values:
            return
        by_value: dict[str, str] = {}
        for name, value in sorted(index.constants.items()):
            by_value.setdefault(value, name)
        for entry in index.events.values():
            if entry.key.family != BUS:
                continue
            constant = declared_values.get(entry.key.name) or by_value.get(entry.key.name)
            if not entry.publications and not constant:
                # Only subscribed, and in no registry: another party's event (a wire
                # protocol's, "Page.frameAttached" emitted under a computed name), not
                # one the project's registry should declare.
                continue
            for path, use in entry.literal_uses:
                if not project.reported(path):
                    continue
                advice = (
                    f"use the declared constant {constant}"
                    if constant
                    else "declare it beside the project's other events"
                )
                kind = "published" if isinstance(use, Publication) else "subscribed to"
                yield self.finding(
                    path,
                    use.site,
                    f"event {entry.key.label()} is {kind} as a string literal: {advice}",
                )


def _differ_only_in_numbers(left: str, right: str) -> bool:
    """``shard-1`` and ``shard-2``, ``order.v1`` and ``order.v2``: named apart on purpose."""
    return re.sub(r"\d+", "0", left) == re.sub(r"\d+", "0", right)
