"""The project phase's memo, rule by rule.

A run that records (:meth:`integ_lint.model.project.ProjectIndex.record_reads`) stores,
per project rule, the fact keys it read, its findings, its internal error and, in
order, the notifications it raised and the derived structures it requested; per
derived structure the same for its build (:class:`integ_lint.engine.cache.ProjectMemo`).
The next run compares each file whose content changed since, key by key, with the facts
of its former content, and for each rule:

* every key it depends on equal (``==``) in every changed file: its outcome stands;
* equal but for a renumbering of lines (:func:`integ_lint.engine.memo_remap.line_map`,
  over all the keys it depends on together, and only for the audited rules): its
  outcome moves with them (:func:`integ_lint.engine.memo_remap.remap_outcome`);
* otherwise, or when it made a read that names no key (:data:`ANY_KEY`): it runs again.

What a rule depends on: the keys it read, those of every derived structure it requested
(also one another rule built), of the structures those requested, and so on; and, since
a derived structure may read facts lazily while a rule uses it (a memoised method),
every key read by any frame that requested that structure counts as the structure's.
The outcome is assembled in the rules' order; the notifications are the internal errors
in that order, then the index's notifications as a run of every rule emits them: each
structure's own at its first request (:func:`assemble`).

A derived structure may keep a summary with the memo
(:class:`integ_lint.model.project.KeptSummary`, in a cache entry of its own, loaded only
when needed): for a fact key it judges, a changed file's facts that differ otherwise
than by their lines are reduced by it, before and after, and compared again
(:meth:`ChangedFacts.status`), when every frame that read that key in the memoised run
is one the summary vouches for. The call graph's drops a function added or removed
that no call reaches and that reaches nothing (the benchmark's edit): the event-loop
rules keep their outcome, moved, without the graph being built. The summary is stored
by the run that built its structure (:func:`kept_summaries`) and carried over by the
runs that did not.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from integ_lint.engine.cache import (
    FileCache,
    KeptRef,
    PickledFacts,
    ProjectMemo,
    RuleOutcome,
    load_facts,
)
from integ_lint.engine.manifest import RuleRef
from integ_lint.engine.memo_remap import LineMap, audited, line_map, remap_outcome
from integ_lint.findings.model import Finding, Notification
from integ_lint.model.project import ANY_KEY, FrameTrace, KeptSummary

_SAME, _MOVED, _DIFFERENT = 0, 1, 2
_ABSENT = object()


def rule_name(rule: RuleRef) -> str:
    """What names a rule in the memo."""
    return f"{rule.code}:{rule.__module__}.{rule.__qualname__}"


def _requests(trace: FrameTrace) -> Iterable[str]:
    return (event for event in trace.events if isinstance(event, str))


def dependencies(
    rules: Sequence[FrameTrace], derived: Mapping[str, FrameTrace]
) -> tuple[list[frozenset[str]], dict[str, frozenset[str]]]:
    """The fact keys each rule, and each derived structure, depends on (see the module
    docstring); a request of a structure the memo has no trace of depends on all."""
    structure: dict[str, set[str]] = {key: set(trace.reads) for key, trace in derived.items()}
    frames = [*rules, *derived.values()]
    changed = True
    while changed:
        changed = False
        for trace in frames:
            for key in _requests(trace):
                deps = structure.setdefault(key, {ANY_KEY} if key not in derived else set())
                if not trace.reads <= deps:
                    deps |= trace.reads
                    changed = True
        for key, trace in derived.items():
            deps = structure[key]
            for nested in _requests(trace):
                if not structure[nested] <= deps:
                    deps |= structure[nested]
                    changed = True
    by_rule = []
    for trace in rules:
        deps = set(trace.reads)
        for key in _requests(trace):
            deps |= structure[key]
        by_rule.append(frozenset(deps))
    return by_rule, {key: frozenset(deps) for key, deps in structure.items()}


def _likeness(old: Any, new: Any) -> int:
    """Whether two values of a fact key are the same, equal but for a renumbering of
    their lines (moved), or different."""
    if old == new:
        return _SAME
    return _MOVED if line_map(old, new) is not None else _DIFFERENT


@dataclass
class ChangedFacts:
    """The files whose content changed since the memo: their facts then (pickled, from
    the cache entry of the former content) and now (pickled, or loaded), compared key
    by key on demand."""

    before: dict[str, PickledFacts] = field(default_factory=dict)
    now_pickled: dict[str, PickledFacts] = field(default_factory=dict)
    now_loaded: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    # Fact key -> the kept summary that may reduce its facts (loaded on first use; None
    # when it cannot be loaded).
    reducers: dict[str, Callable[[], KeptSummary | None]] = field(default_factory=dict)
    _statuses: dict[tuple[str, str], int] = field(default_factory=dict)
    _values: dict[tuple[str, str, bool], Any] = field(default_factory=dict)
    _maps: dict[frozenset[str], dict[str, LineMap] | None] = field(default_factory=dict)

    @property
    def files(self) -> list[str]:
        return list(self.before)

    def _value(self, relpath: str, key: str, now: bool) -> Any:
        slot = (relpath, key, now)
        if slot not in self._values:
            if now and relpath in self.now_loaded:
                value = self.now_loaded[relpath].get(key, _ABSENT)
            else:
                pickled = (self.now_pickled if now else self.before)[relpath]
                value = load_facts(pickled[key])[key] if key in pickled else _ABSENT
            self._values[slot] = value
        return self._values[slot]

    def _present(self, relpath: str, key: str, now: bool) -> bool:
        if now and relpath in self.now_loaded:
            return key in self.now_loaded[relpath]
        return key in (self.now_pickled if now else self.before)[relpath]

    def status(self, relpath: str, key: str) -> int:
        """Whether ``key``'s facts of ``relpath`` are the same, moved or different."""
        slot = (relpath, key)
        if slot not in self._statuses:
            self._statuses[slot] = self._compare(relpath, key)
        return self._statuses[slot]

    def _compare(self, relpath: str, key: str) -> int:
        before, now = self._present(relpath, key, False), self._present(relpath, key, True)
        if not before and not now:
            return _SAME
        if before != now:
            return _DIFFERENT
        pickled = self.now_pickled.get(relpath)
        if pickled is not None and pickled.get(key) == self.before[relpath][key]:
            return _SAME
        try:
            old, new = self._value(relpath, key, False), self._value(relpath, key, True)
            status = _likeness(old, new)
            return status if status != _DIFFERENT else self._reduced(relpath, key, old, new)
        except Exception:  # facts that do not load or compare: different
            return _DIFFERENT

    def _reduced(self, relpath: str, key: str, old: Any, new: Any) -> int:
        """The status of facts that differ, once a kept summary has left out of both
        what its readers do not observe; the reduced values stand for them after."""
        load = self.reducers.get(key)
        summary = load() if load is not None else None
        reduced = summary.reduce(key, old, new) if summary is not None else None
        if reduced is None:
            return _DIFFERENT
        old, new = reduced
        status = _likeness(old, new)
        if status == _DIFFERENT:
            return status
        # The line maps are those of the reduced facts (what the outcome depends on).
        self._values[(relpath, key, False)] = old
        self._values[(relpath, key, True)] = new
        return status

    def line_maps(self, keys: frozenset[str]) -> dict[str, LineMap] | None:
        """How the lines of the facts under ``keys`` moved in each changed file (one map
        over all of them together: its positions must stay in order across keys), or
        None when no single renumbering accounts for them."""
        if keys not in self._maps:
            self._maps[keys] = self._line_maps(keys)
        return self._maps[keys]

    def _line_maps(self, keys: frozenset[str]) -> dict[str, LineMap] | None:
        maps: dict[str, LineMap] = {}
        ordered = sorted(keys)
        for relpath in self.before:
            if all(self.status(relpath, key) == _SAME for key in ordered):
                continue
            try:
                old = tuple(self._value(relpath, key, False) for key in ordered)
                new = tuple(self._value(relpath, key, True) for key in ordered)
                lines = line_map(old, new)
            except Exception:
                return None
            if lines is None:
                return None
            maps[relpath] = lines
        return maps

    def outcome_for(
        self, deps: frozenset[str], movable: bool
    ) -> tuple[bool, dict[str, LineMap] | None]:
        """(reusable, line maps) for an outcome depending on ``deps``: maps None when
        nothing it depends on moved."""
        if not self.before:
            return True, None
        if ANY_KEY in deps:
            return False, None
        moved = False
        for relpath in self.before:
            for key in deps:
                status = self.status(relpath, key)
                if status == _DIFFERENT:
                    return False, None
                moved = moved or status == _MOVED
        if not moved:
            return True, None
        if not movable:
            return False, None
        maps = self.line_maps(deps)
        return maps is not None, maps


def _notes(trace: FrameTrace) -> list[Notification]:
    return [event for event in trace.events if not isinstance(event, str)]


def _with_notes(trace: FrameTrace, notes: Iterable[Notification]) -> FrameTrace:
    """``trace`` with its notifications replaced, in order, by ``notes``."""
    replaced = iter(notes)
    events = tuple(e if isinstance(e, str) else next(replaced) for e in trace.events)
    return FrameTrace(trace.reads, events)


def _moved_trace(trace: FrameTrace, maps: dict[str, LineMap]) -> FrameTrace | None:
    """``trace`` with its notifications moved, or None when they cannot be."""
    moved = remap_outcome([], _notes(trace), maps)
    return _with_notes(trace, moved[1]) if moved is not None else None


def _moved_rule(outcome: RuleOutcome, maps: dict[str, LineMap]) -> RuleOutcome | None:
    notes = _notes(outcome.trace)
    if outcome.error is not None:
        notes.append(outcome.error)
    moved = remap_outcome(outcome.findings, notes, maps)
    if moved is None:
        return None
    findings, moved_notes = moved
    error = moved_notes.pop() if outcome.error is not None else None
    trace = _with_notes(outcome.trace, moved_notes)
    return replace(outcome, trace=trace, findings=findings, error=error)


@dataclass
class Plan:
    """Which rules keep their outcome (moved if need be) and which run again."""

    memo: ProjectMemo
    changed: ChangedFacts
    # Per rule, in order: its outcome kept (moved), or None: it runs again.
    outcomes: list[RuleOutcome | None]
    derived_deps: dict[str, frozenset[str]]
    movable: bool  # every rule audited (derived structures' notifications may move)
    _derived: dict[str, FrameTrace | None] = field(default_factory=dict)

    @property
    def reruns(self) -> int:
        return sum(1 for outcome in self.outcomes if outcome is None)

    def stored_derived(self, key: str) -> FrameTrace | None:
        """The memo's trace of the derived structure ``key``, moved to the facts of
        now, or None when it cannot be (its build must then run)."""
        if key not in self._derived:
            self._derived[key] = self._moved_derived(key)
        return self._derived[key]

    def _moved_derived(self, key: str) -> FrameTrace | None:
        stored = self.memo.derived.get(key)
        if stored is None:
            return None
        trace = stored[1]
        reusable, maps = self.changed.outcome_for(
            self.derived_deps.get(key, frozenset({ANY_KEY})), self.movable
        )
        if not reusable:
            return None
        return trace if maps is None else _moved_trace(trace, maps)


def plan(memo: ProjectMemo, rules: Sequence[RuleRef], changed: ChangedFacts) -> Plan | None:
    """What of ``memo`` the run keeps; None when the memo is of other rules."""
    if [outcome.rule for outcome in memo.rules] != [rule_name(rule) for rule in rules]:
        return None
    derived = {key: trace for key, (_, trace) in memo.derived.items()}
    by_rule, by_structure = dependencies([o.trace for o in memo.rules], derived)
    outcomes: list[RuleOutcome | None] = []
    for outcome, deps, rule in zip(memo.rules, by_rule, rules, strict=True):
        reusable, maps = changed.outcome_for(deps, audited([rule.__module__]))
        if not reusable:
            outcomes.append(None)
        elif maps is None:
            outcomes.append(outcome)
        else:
            outcomes.append(_moved_rule(outcome, maps))
    movable = audited(rule.__module__ for rule in rules)
    return Plan(memo, changed, outcomes, by_structure, movable)


class GiveUp(Exception):
    """A derived structure's trace is not known: run every rule."""


def assemble(
    outcomes: Sequence[RuleOutcome], derived: Callable[[str], FrameTrace | None]
) -> tuple[list[Finding], list[Notification], dict[str, FrameTrace]]:
    """The phase's findings and notifications from each rule's outcome, as a run of
    every rule in order gives them, and the traces of the derived structures used;
    raises :class:`GiveUp` when ``derived`` does not know one that was requested."""
    findings: list[Finding] = []
    for outcome in outcomes:
        findings.extend(outcome.findings)
    notifications = [outcome.error for outcome in outcomes if outcome.error is not None]
    used: dict[str, FrameTrace] = {}

    def walk(events: Iterable[Notification | str]) -> None:
        for event in events:
            if not isinstance(event, str):
                notifications.append(event)
            elif event not in used:
                trace = derived(event)
                if trace is None:
                    raise GiveUp(event)
                used[event] = trace
                walk(trace.events)

    for outcome in outcomes:
        walk(outcome.trace.events)
    return findings, notifications, used


def kept_entry(memo_key: str, structure: str) -> str:
    """The cache entry holding the kept summary of ``structure`` beside the memo
    ``memo_key`` (one per memo and structure, overwritten by each new summary)."""
    return hashlib.sha256(f"kept-summary\0{memo_key}\0{structure}".encode()).hexdigest()


def _loader(
    cache: FileCache, ref: KeptRef, requesters: frozenset[str] | None = None
) -> Callable[[], KeptSummary | None]:
    """Loads the summary ``ref`` names, once; None when its entry is gone, corrupt or
    of another memo (its token differs). With ``requesters`` (the frames that requested
    the structure in the memoised run), a summary that asks (``requested_by``) is told
    them: what it judges may depend on who reads the structure."""
    loaded: list[KeptSummary | None] = []

    def load() -> KeptSummary | None:
        if not loaded:
            value = cache.get_pickled(ref.entry)
            summary = None
            if isinstance(value, tuple) and len(value) == 2 and value[0] == ref.token:
                summary = value[1]
            told = getattr(summary, "requested_by", None)
            if requesters is not None and callable(told):
                try:
                    summary = told(requesters)
                except Exception:  # no summary: the facts compare in full
                    summary = None
            loaded.append(summary if callable(getattr(summary, "reduce", None)) else None)
        return loaded[0]

    return load


def attach_reducers(changed: ChangedFacts, memo: ProjectMemo, cache: FileCache) -> None:
    """Let ``changed`` reduce the facts under each key a summary of ``memo`` judges,
    when every frame of the memoised run that read the key is one the summary vouches
    for (a rule's own reads never are); the summary is told which frames requested its
    structure (``requested_by``)."""
    rules = [outcome.trace for outcome in memo.rules]
    derived = {key: trace for key, (_, trace) in memo.derived.items()}
    for structure, ref in memo.summaries.items():
        if not isinstance(ref, KeptRef):
            continue
        requesters = frozenset(
            [o.rule for o in memo.rules if structure in _requests(o.trace)]
            + [name for name, trace in derived.items() if structure in _requests(trace)]
        )
        for key in ref.fact_keys:
            if any(key in trace.reads for trace in rules):
                continue
            if any(key in t.reads and name not in ref.readers for name, t in derived.items()):
                continue
            changed.reducers.setdefault(key, _loader(cache, ref, requesters))


def _requested(traces: Iterable[FrameTrace], derived: Mapping[str, FrameTrace]) -> set[str]:
    """The derived structures ``traces`` requested, directly or through others."""
    found: set[str] = set()
    pending = [key for trace in traces for key in _requests(trace)]
    while pending:
        key = pending.pop()
        if key not in found:
            found.add(key)
            nested = derived.get(key)
            if nested is not None:
                pending.extend(_requests(nested))
    return found


def kept_summaries(
    cache: FileCache,
    memo_key: str,
    summaries: Mapping[str, KeptSummary],
    built: Iterable[str],
    used: Iterable[str],
    kept: Plan | None,
) -> dict[str, KeptRef]:
    """Store the summaries of the structures built this run (``summaries``: those
    offering one) and name them for the new memo, with the former memo's for those
    the run used but did not build (every rule reading them kept its outcome). A
    structure built anew while a rule that used the former build kept its outcome gets
    its summary joined with the former one (the kept rule's queries are there), or
    none when that is not at hand."""
    previous = kept.memo.summaries if kept is not None else {}
    kept_traces = [o.trace for o in kept.outcomes if o is not None] if kept is not None else []
    former = {key: trace for key, (_, trace) in kept.memo.derived.items()} if kept else {}
    still_read = _requested(kept_traces, former)
    built = set(built)
    refs: dict[str, KeptRef] = {}
    for key in used:
        if key not in built:
            ref = previous.get(key)
            if isinstance(ref, KeptRef):
                refs[key] = ref
            continue
        summary: KeptSummary | None = summaries.get(key)
        if summary is not None and key in still_read:
            ref = previous.get(key)
            older = _loader(cache, ref)() if isinstance(ref, KeptRef) else None
            try:
                summary = summary.merged(older) if older is not None else None
            except Exception:  # none: the next run builds the structure
                summary = None
        if summary is None:
            continue
        token = secrets.token_hex(8)
        entry = kept_entry(memo_key, key)
        try:
            fact_keys, readers = frozenset(summary.fact_keys), frozenset(summary.readers)
        except Exception:
            continue
        if cache.put_pickled(entry, (token, summary)):
            refs[key] = KeptRef(entry, token, fact_keys, readers)
    return refs
