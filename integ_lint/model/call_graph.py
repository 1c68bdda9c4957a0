"""The project call graph, built once per run from every file's call facts.

Nodes are the project's functions (``<module>.<qualname>``, for example
``app.sched.Scheduler.refresh``); edges are the calls between them that can be
resolved without type inference (see :mod:`integ_lint.facts.calls` for what is
recorded and ``docs/rules/event-loops.md`` for the limits):

* a name defined in the module or imported from a project module, following
  re-exports (``from .core import run`` in ``pkg/__init__.py``) and classes to their
  ``__init__``;
* ``self.method()`` / ``cls.method()`` through the class and its project bases, plus
  the overrides in project subclasses;
* ``super().method()`` through the bases;
* ``self.attr.method()`` where the class (or a base) annotates ``attr`` or assigns it
  a constructor call of a project class, and ``var.method()`` on an annotated
  parameter or a variable bound to a constructor call.

Everything else stays unresolved (no edge). The graph never reads a file: it is built
from cached facts and shared through ``project.derived("call-graph", ...)``.

:func:`loop_contexts` gives every function the set of loop states it may run in
(``running``, ``not_running``, ``unknown``), propagated along the edges from async
functions, thread and process bodies and the calls whose state a guard decides.

The graph notes every name its lookups asked for (hits and misses, the rules' too), so
that its summary kept with the project memo (:class:`CallGraphSummary`) can tell a
later run that an edit of a file's call facts changes no edge: a call that reaches
nothing added or removed, a function no call reaches and that reaches nothing added
or removed. The event-loop analysis also vouches for the functions an added edge
from a function nothing calls changes nothing of (:meth:`CallGraph.vouch_for_edges`):
such a function added or removed, whose calls reach only those, is judged inert too
(the benchmark's "a function added that calls the file's first"). The event-loop
rules then keep their outcome without the graph being built.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import NamedTuple

from integ_lint.facts.calls import (
    BLOCKING_TYPES,
    CALL,
    LOOP_CALLBACK,
    PROCESS,
    REFERENCE,
    THREAD,
    BlockingCall,
    CallFact,
    CallFactsCollector,
    ClassFact,
    FunctionFact,
    ModuleCallFacts,
)
from integ_lint.findings.model import Site
from integ_lint.model.names import follow_reexports
from integ_lint.model.project import ProjectIndex

RUNNING = "running"
NOT_RUNNING = "not_running"
UNKNOWN = "unknown"

_THREAD_BASES = frozenset({"threading.Thread", "multiprocessing.Process"})

# loop_contexts() works on the states as bits; its result maps each mask to its set.
_RUNNING_BIT, _NOT_RUNNING_BIT, _UNKNOWN_BIT = 1, 2, 4
_BITS = {RUNNING: _RUNNING_BIT, NOT_RUNNING: _NOT_RUNNING_BIT, UNKNOWN: _UNKNOWN_BIT}
_STATE_SETS = tuple(
    frozenset(state for state, bit in _BITS.items() if mask & bit) for mask in range(8)
)


@dataclass(frozen=True)
class Function:
    id: str  # <module>.<qualname>
    module: str
    relpath: str
    fact: FunctionFact

    @property
    def qualname(self) -> str:
        return self.fact.qualname

    @property
    def is_async(self) -> bool:
        return self.fact.is_async


class Edge(NamedTuple):
    """A resolved call (or submission) from ``caller`` (a function id, or "" for
    module-level code) to the function ``callee``."""

    caller: str
    callee: str
    relpath: str
    call: CallFact

    @property
    def site(self) -> Site:
        """Where the call is (built on access: most edges never become findings)."""
        return self.call.site


@dataclass
class CallGraph:
    functions: dict[str, Function] = field(default_factory=dict)
    classes: dict[str, ClassFact] = field(default_factory=dict)
    edges: list[Edge] = field(default_factory=list)
    callers: dict[str, list[Edge]] = field(default_factory=dict)
    callees: dict[str, list[Edge]] = field(default_factory=dict)
    # Blocking calls per function: (what, site, made on every path).
    blocking: dict[str, list[tuple[str, Site, bool]]] = field(default_factory=dict)
    module_aliases: dict[str, dict[str, str]] = field(default_factory=dict)
    subclasses: dict[str, set[str]] = field(default_factory=dict)
    # resolve_symbol's answers, once the symbol tables are complete (build fills them
    # first and nothing changes them after): a base class or a callee is resolved
    # through the same re-exports again and again.
    _resolved: dict[str, str] | None = field(default=None, init=False, repr=False, compare=False)
    # The same, for whole calls: a module calls ``self.refresh()`` or ``Path(...)`` many
    # times, and each resolution walks the class's bases and subclasses.
    _calls: dict[tuple[str, str, str, str, str], tuple[str, ...]] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    _methods: dict[tuple[str, str, bool], str] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    # Once the subclasses are known: each class's project subclasses (transitively),
    # and for each last part of a function id, the ids' prefixes (``m`` -> the classes
    # defining a method ``m``), so that overrides() need not walk a large hierarchy
    # (Django's fields and models) for every method called on it.
    _descendants: dict[str, set[str]] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    _definers: dict[str, set[str]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # What the graph's answers depended on, for its kept summary (CallGraphSummary):
    # every name tested for being a function or class (hits and misses), and every
    # method name whose overrides were asked for.
    _probes: set[str] = field(default_factory=set, init=False, repr=False, compare=False)
    _override_queries: set[str] = field(default_factory=set, init=False, repr=False, compare=False)
    # Derived structures other than the graph that read the call facts, and vouch that
    # they read nothing of them a summary's reduction drops (see also_read_by).
    _readers: set[str] = field(default_factory=set, init=False, repr=False, compare=False)
    # Readers that vouch for the edges a call from a function nothing calls adds (see
    # vouch_for_edges): reader -> (its sinks, computed when the summary is made; the
    # ids of its entry-point functions).
    _sinks: dict[str, tuple[Callable[[], Iterable[str]], frozenset[str]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    # -- building ----------------------------------------------------------------
    @classmethod
    def build(cls, project: ProjectIndex) -> CallGraph:
        graph = cls()
        facts: list[tuple[str, ModuleCallFacts]] = []
        for file, value in project.facts(CallFactsCollector.KEY):
            if isinstance(value, ModuleCallFacts):
                facts.append((file.relpath, value))
        for relpath, module_facts in facts:
            module = module_facts.module
            graph.module_aliases[module] = dict(module_facts.aliases)
            for function in module_facts.functions:
                fid = _join(module, function.qualname)
                if fid not in graph.functions:
                    graph.functions[fid] = Function(fid, module, relpath, function)
            for klass in module_facts.classes:
                cid = _join(module, klass.qualname)
                graph.classes.setdefault(cid, klass)
        graph._resolved = {}
        graph._calls = {}
        graph._methods = {}
        for cid, klass in graph.classes.items():
            for base in klass.bases:
                resolved = graph.resolve_symbol(base)
                if resolved in graph.classes:
                    graph.subclasses.setdefault(resolved, set()).add(cid)
        graph._descendants = {}
        for fid in graph.functions:
            prefix, _, last = fid.rpartition(".")
            graph._definers.setdefault(last, set()).add(prefix)
        edges, callers, callees = graph.edges, graph.callers, graph.callees
        resolved_calls = graph._calls  # _call_targets' memo, read inline: 167k calls on Django
        functions, probes = graph.functions, graph._probes
        for relpath, module_facts in facts:
            module = module_facts.module
            caller_ids: dict[str, str] = {"": ""}  # a function's many calls: one join
            for call in module_facts.calls:
                caller = caller_ids.get(call.caller)
                if caller is None:
                    caller = caller_ids[call.caller] = _join(module, call.caller)
                    if caller not in functions:
                        probes.add(caller)  # the rules look the caller up
                key = (call.how, call.ref, call.method, call.attr, call.role)
                targets = resolved_calls.get(key)
                if targets is None:
                    targets = resolved_calls[key] = tuple(graph._resolve_call(call))
                if not targets:
                    if call.blocking and call.how == "attr":
                        blocking_type = graph.attribute_type(call.ref, call.attr)
                        if BLOCKING_TYPES.get(blocking_type) == call.blocking and caller:
                            graph.blocking.setdefault(caller, []).append(
                                (f"{blocking_type}.{call.blocking}", call.site, call.always)
                            )
                    continue
                for callee in targets:
                    edge = Edge(caller, callee, relpath, call)
                    edges.append(edge)
                    callers.setdefault(callee, []).append(edge)
                    callees.setdefault(caller, []).append(edge)
            for blocking in module_facts.blocking:
                caller = _join(module, blocking.caller) if blocking.caller else ""
                if caller:
                    graph.blocking.setdefault(caller, []).append(
                        (blocking.what, blocking.site, blocking.always)
                    )
        return graph

    # -- resolution ----------------------------------------------------------------
    def resolve_symbol(self, dotted: str) -> str:
        """The function or class id a dotted name refers to ("" if not the project's),
        following module-level import bindings (re-exports)."""
        memo = self._resolved
        if memo is not None:
            known = memo.get(dotted)
            if known is not None:
                return known
        found = follow_reexports(dotted, self._is_symbol, self.module_aliases)
        resolved = found if self._is_symbol(found) else ""
        if memo is not None:
            memo[dotted] = resolved
        return resolved

    def _is_symbol(self, name: str) -> bool:
        self._probes.add(name)
        return name in self.functions or name in self.classes

    def lookup_method(self, class_id: str, method: str, *, skip_own: bool = False) -> str:
        """The method ``method`` of class ``class_id`` or of its first project base
        that defines it (depth first, in base order), else ""."""
        memo = self._methods
        if memo is not None:
            key = (class_id, method, skip_own)
            known = memo.get(key)
            if known is None:
                known = memo[key] = self._lookup_method(class_id, method, skip_own)
            return known
        return self._lookup_method(class_id, method, skip_own)

    def _lookup_method(self, class_id: str, method: str, skip_own: bool) -> str:
        seen: set[str] = set()
        pending = deque([class_id])
        first = True
        while pending:
            current = pending.popleft()
            if current in seen:
                continue
            seen.add(current)
            if not (first and skip_own):
                candidate = f"{current}.{method}"
                self._probes.add(candidate)
                if candidate in self.functions:
                    return candidate
            first = False
            klass = self.classes.get(current)
            if klass is None:
                continue
            for base in klass.bases:
                resolved = self.resolve_symbol(base)
                if resolved in self.classes:
                    pending.append(resolved)
        return ""

    def overrides(self, class_id: str, method: str) -> list[str]:
        """Definitions of ``method`` in project subclasses of ``class_id``."""
        self._override_queries.add(method)
        memo = self._descendants
        if memo is not None and "." not in method:
            below = memo.get(class_id)
            if below is None:
                below = memo[class_id] = self._subclasses_below(class_id)
            return sorted(
                f"{prefix}.{method}" for prefix in self._definers.get(method, ()) if prefix in below
            )
        found: list[str] = []
        seen: set[str] = set()
        pending = list(self.subclasses.get(class_id, ()))
        while pending:
            current = pending.pop()
            if current in seen:
                continue
            seen.add(current)
            candidate = f"{current}.{method}"
            self._probes.add(candidate)
            if candidate in self.functions:
                found.append(candidate)
            pending.extend(self.subclasses.get(current, ()))
        return sorted(found)

    def _subclasses_below(self, class_id: str) -> set[str]:
        """The project subclasses of ``class_id``, direct or not (itself too when the
        hierarchy has a cycle: the walk of overrides() reaches it)."""
        seen: set[str] = set()
        pending = list(self.subclasses.get(class_id, ()))
        while pending:
            current = pending.pop()
            if current not in seen:
                seen.add(current)
                pending.extend(self.subclasses.get(current, ()))
        return seen

    def attribute_type(self, class_id: str, attr: str) -> str:
        """The declared or constructed type of ``self.<attr>`` in ``class_id`` or its
        bases ("" if unknown)."""
        for klass in self._class_chain(class_id):
            for name, kind in klass.attributes:
                if name == attr:
                    return kind
        return ""

    def _class_chain(self, class_id: str) -> Iterator[ClassFact]:
        """The project class ``class_id`` and its project bases, each once, nearest
        first (bases resolved through re-exports)."""
        seen: set[str] = set()
        pending = [class_id]
        while pending:
            current = pending.pop(0)
            if current in seen:
                continue
            seen.add(current)
            klass = self.classes.get(current)
            if klass is None:
                continue
            yield klass
            pending.extend(self.resolve_symbol(b) for b in klass.bases)

    def _constructor(self, class_id: str) -> list[str]:
        init = self.lookup_method(class_id, "__init__")
        return [init] if init else []

    def resolve_call(self, call: CallFact) -> list[str]:
        """Function ids the call may reach (several for a method with overrides)."""
        return list(self._call_targets(call))

    def _call_targets(self, call: CallFact) -> tuple[str, ...]:
        memo = self._calls
        if memo is None:
            return tuple(self._resolve_call(call))
        key = (call.how, call.ref, call.method, call.attr, call.role)  # as build() reads it
        known = memo.get(key)
        if known is None:
            known = memo[key] = tuple(self._resolve_call(call))
        return known

    def _resolve_call(self, call: CallFact) -> list[str]:
        # Reads the call's how, ref, method, attr and role only (resolve_call's key).
        if call.how == "name":
            target = self.resolve_symbol(call.ref)
            if target in self.functions:
                return [target]
            if target in self.classes and call.role == CALL:
                return self._constructor(target)
            return []
        if call.how == "self":
            found = self.lookup_method(call.ref, call.method)
            if not found:
                return []
            return [found, *self.overrides(call.ref, call.method)]
        if call.how == "super":
            found = self.lookup_method(call.ref, call.method, skip_own=True)
            return [found] if found else []
        if call.how == "attr":
            kind = self.attribute_type(call.ref, call.attr)
            klass = self.resolve_symbol(kind) if kind else ""
            if klass in self.classes:
                found = self.lookup_method(klass, call.method)
                return [found] if found else []
            return []
        if call.how == "typed":
            klass = self.resolve_symbol(call.ref)
            if klass in self.classes:
                found = self.lookup_method(klass, call.method)
                return [found] if found else []
        return []

    # -- queries -------------------------------------------------------------------
    def is_thread_class(self, class_id: str) -> bool:
        """Whether the class derives (through project classes) from ``threading.Thread``
        or ``multiprocessing.Process``."""
        return any(
            base in _THREAD_BASES or base.rsplit(".", 1)[-1] in ("Thread", "Process")
            for klass in self._class_chain(class_id)
            for base in klass.bases
        )

    def function_of(self, module: str, scope: str) -> Function | None:
        """The function whose body holds a site with ``scope`` (the enclosing
        class/function qualname), if that scope is a function."""
        if not scope:
            return None
        fid = _join(module, scope)
        self._probes.add(fid)
        return self.functions.get(fid)

    def label(self, fid: str) -> str:
        function = self.functions.get(fid)
        if function is None:
            self._probes.add(fid)
            return fid
        return function.qualname

    # -- kept across runs ----------------------------------------------------------
    def also_read_by(self, reader: str) -> None:
        """Note that the derived structure ``reader`` reads the call facts too, and
        reads nothing of them :meth:`CallGraphSummary.reduce` drops (a function no
        call reaches, and its calls); the summary then vouches for it."""
        self._readers.add(reader)

    def vouch_for_edges(
        self, reader: str, sinks: Callable[[], Iterable[str]], entry_points: Iterable[str]
    ) -> None:
        """Note that the reader ``reader`` (one of :meth:`also_read_by`'s) observes
        nothing of an edge into one of ``sinks()`` (function ids, asked for when the
        summary is made) added by a plain call (a :data:`CALL`, not dropped, not in the
        ``__main__`` block, no blocking method) made in a new synchronous top-level
        function that nothing calls, has no decorator, is no test function and none of
        ``entry_points`` (its loop context is *unknown*). The summary then judges such
        a function and its calls inert (:class:`CallGraphSummary`) when every reader
        of the graph vouched and no other frame requested it."""
        self._sinks[reader] = (sinks, frozenset(entry_points))

    def _sink_calls(
        self,
    ) -> tuple[Names, Names, Names, frozenset[str], frozenset[str]] | None:
        """The sinks of every reader, the resolution keys (as :func:`_call_text`) whose
        every target is one, the functions with an edge into one, the readers' entry
        points and the readers; None when a reader did not vouch."""
        if not self._sinks or set(self._sinks) != self._readers:
            return None
        common: set[str] | None = None
        entry_points: set[str] = set()
        for sinks_of, entries in self._sinks.values():
            found = set(sinks_of())
            common = found if common is None else common & found
            entry_points |= entries
        if common is None:
            return None
        calls = Names.of(
            _call_text(key)
            for key, targets in (self._calls or {}).items()
            if targets and all(target in common for target in targets)
        )
        ids = Names.of(common)
        callers = Names.of(edge.caller for edge in self.edges if edge.callee in common)
        if calls is None or ids is None or callers is None:
            return None
        return ids, calls, callers, frozenset(entry_points), frozenset(self._sinks)

    def kept_summary(self) -> CallGraphSummary | None:
        """What a later run needs to tell an inert edit of a file's call facts (see
        :class:`CallGraphSummary`; None in the unlikely case of a name it cannot
        store); ask once the rules have queried the graph."""
        modules = set(self.module_aliases)
        shadowing = frozenset(i for i in (*self.functions, *self.classes) if i in modules)
        unresolved = Names.of(
            _call_text(k) for k, targets in (self._calls or {}).items() if not targets
        )
        probes = Names.of(self._probes)
        if probes is None or unresolved is None:
            return None
        readers = frozenset({CALL_GRAPH, *self._readers})
        sinks = self._sink_calls()
        if sinks is None:
            return CallGraphSummary(readers, probes, shadowing, unresolved)
        sink_ids, sink_calls, sink_callers, entry_points, vouchers = sinks
        return CallGraphSummary(
            readers,
            probes,
            shadowing,
            unresolved,
            sink_ids,
            sink_calls,
            entry_points,
            vouchers,
            sink_callers=sink_callers,
        )


def _join(module: str, qualname: str) -> str:
    return f"{module}.{qualname}" if module else qualname


# The key the graph is shared under (ProjectIndex.derived).
CALL_GRAPH = "call-graph"


def _call_text(key: tuple[str, str, str, str, str]) -> str:
    """A call's resolution key (how, ref, method, attr, role) as one name."""
    return "\0".join(key)


class Names:
    """A set of names kept as one newline-separated string: it loads at once (Django's
    37k lookups pickle to 2 MB; as a set of strings they took 25 ms to load). A name is
    looked up by a search of the string, or in a set once a few lookups were made."""

    __slots__ = ("_lookups", "_set", "text")
    _SEARCHES = 8  # lookups answered by a search of the string before the set is built

    def __init__(self, text: str) -> None:
        self.text = text
        self._set: frozenset[str] | None = None
        self._lookups = 0

    @classmethod
    def of(cls, names: Iterable[str]) -> Names | None:
        """The set of ``names``; None if one holds a newline (it could not be told)."""
        ordered = sorted(set(names))
        if any("\n" in name for name in ordered):
            return None
        return cls("\n" + "".join(f"{name}\n" for name in ordered))

    def __contains__(self, name: str) -> bool:
        if "\n" in name:
            return False
        if self._set is None:
            self._lookups += 1
            if self._lookups <= self._SEARCHES:
                return f"\n{name}\n" in self.text
            self._set = frozenset(self)
        return name in self._set

    def __iter__(self) -> Iterator[str]:
        return iter(self.text[1:-1].split("\n") if len(self.text) > 1 else ())

    def __reduce__(self) -> tuple[type[Names], tuple[str]]:
        return (Names, (self.text,))


@dataclass(frozen=True)
class CallGraphSummary:
    """The call graph's summary kept across runs (a
    :class:`~integ_lint.model.project.KeptSummary`): the edits it drops are calls that
    reach nothing, and functions added or removed that are nodes with no edge.

    ``reduce`` leaves out of a file's call facts, before and after:

    * every call whose resolution the graph computed as reaching nothing
      (``unresolved``) and that names no blocking method: it makes no edge and no
      blocking entry, and no reader reads a call but through an edge (the graph
      changes only in functions no lookup asked for, so those answers stand);
    * then each top-level function present on one side only (added or removed) that
      no call of what stays is made in, and no blocking call of the file either (no
      edge out, no blocking entry), when no lookup of the graph, its builder's or its
      readers' (the rules'), ever asked for its id (``probes``: every name tested for
      being a function or class, hit or miss, every method candidate, every caller and
      label looked up: no call resolves to it, no base is it, no lookup by scope
      reaches it), when it is no method, no nested function, shares its name with no
      class of the file, and its module (not empty) is no function or class id of the
      graph (``shadowing``): its id is then no other file's function (ids are
      ``<module>.<qualname>``, modules unique) and no class's method.

    Such a function is a node without edges: its loop context starts and stays its own,
    no edge, chain, override or blocking entry reaches it, and the rules report only on
    loop calls (their own facts) and edges. What stays of the facts (the other
    functions, classes, calls, aliases, blocking calls, loop starts) is compared as it
    is, so every other change makes the facts differ.

    When every reader of the graph vouched for the edges into some functions
    (:meth:`CallGraph.vouch_for_edges`: ``vouchers``, ``sinks``, and ``sink_calls``,
    the calls whose every target is a sink) and no other frame requested the graph in
    the memoised run (:meth:`requested_by`, which the engine asks before it reduces),
    such a function may also make calls, each one of ``sink_calls`` or a call by name
    of a sink's own id (which resolves to it: the graph's tables changed only in
    functions no lookup asked for), made as a plain call (not dropped, not in the
    ``__main__`` block, naming no blocking method), when it
    is synchronous, has no decorator, is no test function and no entry point: it and
    its calls are left out. It is a node nothing reaches whose loop context is
    *unknown*, and its edges end at functions the readers vouched change nothing
    through such an edge (the event-loop analysis: their context holds *unknown*
    already, or they are async, and their callers are read only for the running
    ones). Such a function removed is judged so only when the summary's build did not
    have it (``sink_callers``: the build's functions with an edge into a sink): its
    edges may have been what gave a sink its *unknown* context."""

    readers: frozenset[str]
    probes: Names
    shadowing: frozenset[str]
    unresolved: Names  # _call_text of each key
    sinks: Names | None = None  # function ids
    sink_calls: Names | None = None  # _call_text of each key whose targets are sinks
    entry_points: frozenset[str] = frozenset()
    vouchers: frozenset[str] = frozenset()
    # Set by requested_by: only the vouchers requested the graph (sink_calls apply).
    edges_judged: bool = False
    # The functions of the build with an edge into a sink: one of them removed may
    # have been what gave a sink its *unknown* context (see _inert).
    sink_callers: Names | None = None

    @property
    def fact_keys(self) -> frozenset[str]:
        return frozenset({CallFactsCollector.KEY})

    def reduce(self, key: str, before: object, after: object) -> tuple[object, object] | None:
        if key != CallFactsCollector.KEY:
            return None
        if not isinstance(before, ModuleCallFacts) or not isinstance(after, ModuleCallFacts):
            return None
        module = after.module
        if not module or before.module != module or module in self.shadowing:
            return None
        before, after = self._reached(before), self._reached(after)
        removed = self._inert(before, after, removed=True)
        added = self._inert(after, before, removed=False)
        return _without(before, removed), _without(after, added)

    def _reached(self, facts: ModuleCallFacts) -> ModuleCallFacts:
        """``facts`` without the calls that reach nothing and name no blocking method."""
        unresolved = self.unresolved
        calls = tuple(
            call
            for call in facts.calls
            if call.blocking
            or _call_text((call.how, call.ref, call.method, call.attr, call.role)) not in unresolved
        )
        return replace(facts, calls=calls) if len(calls) != len(facts.calls) else facts

    def requested_by(self, frames: frozenset[str]) -> CallGraphSummary:
        """This summary for a memoised run in which ``frames`` (rules and derived
        structures) requested the graph: calls into sinks are judged only when every
        one of them vouched for its sinks."""
        judged = bool(self.sink_calls is not None and frames and frames <= self.vouchers)
        return replace(self, edges_judged=judged)

    def _inert(self, facts: ModuleCallFacts, other: ModuleCallFacts, *, removed: bool) -> set[str]:
        """The top-level functions of ``facts`` that ``other`` lacks and no one reaches
        (``facts`` holds only the calls that reach something, see :meth:`_reached`):
        those that make none of them, or (see the class) only calls into sinks. A
        function ``removed`` (``facts`` are the memoised run's) whose calls reach sinks
        is judged so only when the summary's build did not have its edges: there they
        may be all that gave a sink its *unknown* context, which the removal takes
        away (in a build without it, the sinks' context came from elsewhere, and every
        edit judged since left that source alone)."""
        others = {function.qualname for function in other.functions}
        classes = {c.qualname for c in facts.classes} | {c.qualname for c in other.classes}
        blocking = {b.caller for b in facts.blocking}
        seen: set[str] = set()
        twice: set[str] = set()
        for function in facts.functions:
            (twice if function.qualname in seen else seen).add(function.qualname)
        found = {
            function.qualname
            for function in facts.functions
            if function.qualname not in others
            and "." not in function.qualname
            and not function.owner
            and function.qualname not in twice
            and function.qualname not in classes
            and function.qualname not in blocking
            and _join(facts.module, function.qualname) not in self.probes
        }
        if not found:
            return found
        judged = self.edges_judged and (not removed or self.sink_callers is not None)
        built = self.sink_callers if removed else None
        # Functions of this file as it is on this side: a call by name of one of them
        # resolves to it whatever the graph binds (see _into_sinks).
        local = {_join(facts.module, f.qualname) for f in facts.functions if "." not in f.qualname}
        calling: set[str] = set()
        for call in facts.calls:
            if call.caller in found:
                calling.add(call.caller)
                if (
                    not judged
                    or not self._into_sinks(call, local)
                    or (built is not None and _join(facts.module, call.caller) in built)
                ):
                    found.discard(call.caller)
        if calling & found:
            # Its calls reach sinks: it must be a node whose loop context is unknown.
            for function in facts.functions:
                name = function.qualname
                if name in calling and name in found and not self._unknown(facts.module, function):
                    found.discard(name)
        return found

    def _unknown(self, module: str, function: FunctionFact) -> bool:
        """Whether the loop context of ``function``, when nothing calls it, is unknown
        by itself: synchronous, no decorator (a CLI command's), no test function, no
        entry point of a reader."""
        return not (
            function.is_async
            or function.decorators
            or function.qualname.startswith("test")
            or _join(module, function.qualname) in self.entry_points
        )

    def _into_sinks(self, call: CallFact, local: set[str]) -> bool:
        """Whether ``call`` is a plain call whose every target is a sink: a key the
        build resolved so, or a call by name of a sink defined in the same file now
        (``local``: resolve_symbol() ends at it at once; a function the summary knew
        but that is gone now could resolve through a binding elsewhere)."""
        sinks, sink_calls = self.sinks, self.sink_calls
        if sinks is None or sink_calls is None:
            return False
        if call.role != CALL or call.dropped or call.in_main or call.blocking:
            return False
        if call.how == "name" and call.ref in local and call.ref in sinks:
            return True
        return _call_text((call.how, call.ref, call.method, call.attr, call.role)) in sink_calls

    def merged(self, older: object) -> CallGraphSummary | None:
        """This build's summary with the lookups of an older build's readers (rules that
        kept the outcome they computed on it): the resolutions are this build's."""
        if not isinstance(older, CallGraphSummary):
            return None
        probes = Names.of([*self.probes, *older.probes])
        if probes is None:
            return None
        readers, shadowing = self.readers | older.readers, self.shadowing | older.shadowing
        # No sinks: they are this build's, and the kept rules' outcomes are the older's.
        return CallGraphSummary(readers, probes, shadowing, self.unresolved)


def _without(facts: ModuleCallFacts, functions: set[str]) -> ModuleCallFacts:
    """``facts`` without the functions named and the calls made in them."""
    if not functions:
        return facts
    return replace(
        facts,
        functions=tuple(f for f in facts.functions if f.qualname not in functions),
        calls=tuple(call for call in facts.calls if call.caller not in functions),
    )


def site_kind(edge: Edge, overrides: Mapping[str, Mapping[tuple[int, int], str]]) -> str:
    """The loop state an edge's call site fixes by itself ("" when it inherits the
    caller's): thread/process submissions run the target with no loop, loop
    callbacks on the loop, a guard decides, the ``__main__`` block and module code."""
    call = edge.call
    if call.role in (THREAD, PROCESS):
        return NOT_RUNNING
    if call.role == LOOP_CALLBACK:
        return RUNNING
    if call.role == REFERENCE:
        return UNKNOWN  # escapes as a value: called from anywhere
    guarded = overrides.get(edge.relpath, {}).get((call.start_line, call.start_col))
    if guarded:
        return guarded
    if call.in_main:
        return NOT_RUNNING
    if not edge.caller:
        return UNKNOWN
    return ""


def loop_contexts(
    graph: CallGraph,
    overrides: Mapping[str, Mapping[tuple[int, int], str]],
    not_running_seeds: Iterable[str] = (),
) -> dict[str, frozenset[str]]:
    """For every function, the loop states it may run in.

    An ``async def`` runs under a loop. A sync function gets the states of its call
    sites: a site's own state (see :func:`site_kind`), else its caller's states. The
    ``run()`` of a ``Thread`` subclass and ``not_running_seeds`` (entry points) start
    *not running*; a sync function nothing resolvable calls is *unknown* (it may be
    public API).
    """
    # States as bits (one int per function, or-ed along the edges): the fixpoint runs
    # over every inheriting edge (tens of thousands on Django), where a set union each
    # cost most of the time.
    states: dict[str, int] = dict.fromkeys(graph.functions, 0)
    # Asked for every edge, twice: a set, not the property chain of each function.
    is_async = {fid for fid, function in graph.functions.items() if function.is_async}
    for fid, function in graph.functions.items():
        if fid in is_async:
            states[fid] |= _RUNNING_BIT
        elif function.fact.owner and function.qualname.rsplit(".", 1)[-1] == "run":
            owner = _join(function.module, function.fact.owner)
            if graph.is_thread_class(owner):
                states[fid] |= _NOT_RUNNING_BIT
    for fid in not_running_seeds:
        if fid in states:
            states[fid] |= _NOT_RUNNING_BIT
    # caller -> the sync callees that inherit its states (async callees never do).
    inherited: dict[str, list[str]] = {}
    for edge in graph.edges:
        if edge.callee in is_async:
            continue
        call = edge.call
        # site_kind(edge, overrides), its common case inline (62k edges on Django): a
        # plain call without a guard and outside the __main__ block inherits.
        if call.role == CALL and not call.in_main and edge.caller:
            guards = overrides.get(edge.relpath)
            kind = guards.get((call.start_line, call.start_col), "") if guards else ""
        else:
            kind = site_kind(edge, overrides)
        if kind:
            states[edge.callee] |= _BITS[kind]
        else:
            inherited.setdefault(edge.caller, []).append(edge.callee)

    def propagate(start: Iterable[str]) -> None:
        # A least fixpoint of unions: the order of the work list changes nothing.
        work = deque(start)
        while work:
            caller = work.popleft()
            callees = inherited.get(caller)
            if not callees:
                continue
            bits = states[caller]
            for callee in callees:
                before = states[callee]
                if before | bits != before:
                    states[callee] = before | bits
                    work.append(callee)

    for fid in graph.functions:
        if fid not in is_async and not graph.callers.get(fid) and not states[fid]:
            states[fid] = _UNKNOWN_BIT
    propagate(fid for fid, bits in states.items() if bits)
    # Closed now: only the functions given UNKNOWN below have anything new to pass on.
    empty = [fid for fid, bits in states.items() if not bits]
    for fid in empty:
        states[fid] = _UNKNOWN_BIT
    propagate(empty)
    return {fid: _STATE_SETS[bits] for fid, bits in states.items()}


def shortest_chain(
    graph: CallGraph,
    start: Edge,
    accept: Callable[[str], tuple[str, Site] | None],
    follow: Callable[[Edge], bool],
    max_depth: int = 5,
) -> tuple[list[Edge], tuple[str, Site]] | None:
    """Breadth-first from ``start``'s callee along edges ``follow`` accepts, the
    shortest path to a function for which ``accept`` returns a (label, site)."""
    queue: deque[tuple[str, list[Edge]]] = deque([(start.callee, [start])])
    seen = {start.callee}
    while queue:
        fid, path = queue.popleft()
        found = accept(fid)
        if found is not None:
            return path, found
        if len(path) >= max_depth:
            continue
        for edge in graph.callees.get(fid, ()):
            if edge.callee in seen or not follow(edge):
                continue
            seen.add(edge.callee)
            queue.append((edge.callee, [*path, edge]))
    return None


__all__ = [
    "CALL_GRAPH",
    "NOT_RUNNING",
    "RUNNING",
    "UNKNOWN",
    "BlockingCall",
    "CallGraph",
    "CallGraphSummary",
    "Edge",
    "Function",
    "loop_contexts",
    "shortest_chain",
    "site_kind",
]
