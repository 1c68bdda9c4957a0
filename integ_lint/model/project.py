"""The project index: every file's facts, joined, plus lazily derived structures.

A file's facts are read by key (:class:`FactsView`); a key still pickled (a cached
result's) is unpickled for every file on its first read. While a
:class:`ReadRecorder` is attached (the engine's per-rule memo of the project phase),
every read of a fact key, every derived structure requested and built, and every
notification raised is noted for the rule (or the derived structure's build) running.
A derived structure may keep a summary across runs (:class:`Summarised`,
:class:`KeptSummary`): the engine stores it with the memo, and a later run asks it
whether a changed file's facts differ in anything the structure's readers observe.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from integ_lint.config.loader import Config
from integ_lint.config.roles import classify, role_paths
from integ_lint.findings.model import Notification

T = TypeVar("T")

# A fact key standing for "anything": a read the recorder cannot attribute to keys
# (iterating a file's facts). A rule that made one runs again on any change.
ANY_KEY = "*"
_MISSING = object()


class AnalysedFile(Protocol):
    """What the index reads of one file's result from the per-file phase (the engine's
    ``FileResult``; a protocol, so that the project model does not import the engine)."""

    @property
    def relpath(self) -> str: ...
    @property
    def module(self) -> str: ...
    @property
    def is_package_init(self) -> bool: ...
    @property
    def digest(self) -> str: ...
    @property
    def facts(self) -> dict[str, Any]: ...
    @property
    def parsed(self) -> bool: ...


# (relpath, key, pickled) -> the value; raises when it cannot be loaded.
Unpickle = Callable[[str, str, bytes], Any]


@dataclass(frozen=True)
class FrameTrace:
    """What one project rule (or one derived structure's build) did while it ran: the
    fact keys it read (:data:`ANY_KEY` for a read that names none), and in order the
    notifications it added to the index and the derived structures it requested (by
    key: a structure's own notifications are its build's, emitted where it is first
    requested in a run)."""

    reads: frozenset[str]
    events: tuple[Notification | str, ...] = ()


@dataclass
class _Frame:
    reads: set[str] = field(default_factory=set)
    events: list[Notification | str] = field(default_factory=list)
    requested: set[str] = field(default_factory=set)

    def trace(self) -> FrameTrace:
        return FrameTrace(frozenset(self.reads), tuple(self.events))


class ReadRecorder:
    """Notes, per running rule, what it reads of the index (see :class:`FrameTrace`).

    Reads made outside a rule (the engine's) are not noted. A derived structure's build
    is a frame of its own: its reads and notifications are its own, and the frames
    that request it (first or not) note the request."""

    def __init__(self, notifications: list[Notification]) -> None:
        self._notifications = notifications
        self._seen = len(notifications)
        self._stack: list[_Frame] = []
        # Derived structures built while recording: key -> (build's name, trace).
        self.derived: dict[str, tuple[str, FrameTrace]] = {}

    def _flush(self) -> None:
        """Attribute the notifications added since the last look to the running frame."""
        added = self._notifications[self._seen :]
        if added and self._stack:
            self._stack[-1].events.extend(added)
        self._seen = len(self._notifications)

    def read(self, key: str) -> None:
        if self._stack:
            self._stack[-1].reads.add(key)

    def read_any(self) -> None:
        """A read that names no key (a file's facts iterated): the frame depends on all."""
        self.read(ANY_KEY)

    @contextlib.contextmanager
    def rule(self) -> Iterator[list[FrameTrace]]:
        """One rule's frame; the list yielded gets its trace when the block ends (an
        exception included: what it did until then)."""
        self._flush()
        frame = _Frame()
        self._stack.append(frame)
        traced: list[FrameTrace] = []
        try:
            yield traced
        finally:
            self._flush()
            self._stack.pop()
            traced.append(frame.trace())

    def request(self, key: str) -> None:
        self._flush()
        if self._stack:
            top = self._stack[-1]
            if key not in top.requested:
                top.requested.add(key)
                top.events.append(key)

    def begin_build(self) -> None:
        self._flush()
        self._stack.append(_Frame())

    def end_build(self, key: str, builder: str) -> None:
        self._flush()
        frame = self._stack.pop()
        self.derived[key] = (builder, frame.trace())

    def fail_build(self, key: str) -> None:
        """The build raised: what it did is its requester's (as if done inline), and the
        request goes (a later successful build is emitted where it is requested)."""
        self._flush()
        frame = self._stack.pop()
        if self._stack:
            parent = self._stack[-1]
            if parent.events and parent.events[-1] == key:
                parent.events.pop()
            parent.requested.discard(key)
            parent.reads |= frame.reads
            parent.events.extend(frame.events)
            parent.requested |= frame.requested


class FactColumns:
    """Every file's facts by key. A key still pickled is unpickled for all the files
    holding it on its first read; a key no rule reads is never unpickled."""

    def __init__(self, unpickle: Unpickle | None = None) -> None:
        self._loaded: dict[str, dict[str, Any]] = {}
        self._pickled: dict[str, dict[str, bytes]] = {}
        self._unpickle = unpickle
        self._unpickled: set[str] = set()
        self.recorder: ReadRecorder | None = None

    def add(
        self, relpath: str, values: Mapping[str, Any], pickled: Mapping[str, bytes] | None
    ) -> tuple[str, ...]:
        """Add one file's facts (loaded ``values``, and ``pickled`` ones); its keys."""
        for key, value in values.items():
            self._loaded.setdefault(key, {})[relpath] = value
        if not pickled:
            return tuple(values)
        for key, blob in pickled.items():
            self._pickled.setdefault(key, {})[relpath] = blob
        return (*values, *(key for key in pickled if key not in values))

    def column(self, key: str) -> dict[str, Any]:
        """relpath -> value of every file holding ``key`` (loaded now if need be)."""
        column = self._loaded.setdefault(key, {})
        pending = self._pickled.pop(key, None)
        if pending:
            self._unpickled.add(key)
            unpickle = self._unpickle
            if unpickle is None:
                raise RuntimeError("pickled facts without a loader")
            for relpath, blob in pending.items():
                with contextlib.suppress(KeyError):  # the file has no such fact after all
                    column[relpath] = unpickle(relpath, key, blob)
        return column

    def unpickled_keys(self) -> set[str]:
        """The keys unpickled so far (for some file)."""
        return set(self._unpickled)


class FactsView(Mapping[str, Any]):
    """One file's facts, read from the index's :class:`FactColumns` (by key: reads are
    recorded, and a pickled key is loaded on its first read). Iterating the keys (or
    anything built on it: ``items``, ``values``, ``len``, ``==``) names no key: a
    recording rule then depends on every fact."""

    __slots__ = ("_columns", "_keys", "_relpath")

    def __init__(self, relpath: str, keys: tuple[str, ...], columns: FactColumns) -> None:
        self._relpath = relpath
        self._keys = keys
        self._columns = columns

    def __getitem__(self, key: str) -> Any:
        columns = self._columns
        if columns.recorder is not None:
            columns.recorder.read(key)
        if key not in self._keys:
            raise KeyError(key)
        return columns.column(key)[self._relpath]

    def get(self, key: str, default: Any = None) -> Any:
        columns = self._columns
        if columns.recorder is not None:
            columns.recorder.read(key)
        if key not in self._keys:
            return default
        return columns.column(key).get(self._relpath, default)

    def __contains__(self, key: object) -> bool:
        columns = self._columns
        if not isinstance(key, str):
            return False
        if columns.recorder is not None:
            columns.recorder.read(key)
        return key in self._keys and self._relpath in columns.column(key)

    def __iter__(self) -> Iterator[str]:
        if self._columns.recorder is not None:
            self._columns.recorder.read_any()
        return iter(self._keys)

    def __len__(self) -> int:
        if self._columns.recorder is not None:
            self._columns.recorder.read_any()
        return len(self._keys)

    def __repr__(self) -> str:
        return f"FactsView({self._relpath!r}, keys={list(self._keys)!r})"

    def note_any_read(self) -> None:
        """Note a read of the file that names no fact key (its content digest)."""
        if self._columns.recorder is not None:
            self._columns.recorder.read_any()


@dataclass(frozen=True)
class FileFacts:
    """What the project phase knows about one file (from the per-file phase or the
    cache): its identity and the value of each fact collector that ran on it."""

    relpath: str
    module: str
    is_package_init: bool
    content_digest: str
    facts: Mapping[str, Any] = field(default_factory=dict)
    role: str = "library"  # integ_lint.config.roles

    @property
    def digest(self) -> str:
        """The file's content digest. It changes with any edit, so a recording rule that
        reads it depends on every fact (the memo compares files by their facts)."""
        if isinstance(self.facts, FactsView):
            self.facts.note_any_read()
        return self.content_digest


class KeptSummary(Protocol):
    """What a derived structure keeps across runs so that a later run can judge an edit
    of its facts without building it (the engine stores it with the project phase's
    memo, :mod:`integ_lint.engine.phase_memo`).

    The contract, for a structure built by the frames named in :attr:`readers` (derived
    structure keys, its own included) from the fact keys :attr:`fact_keys`:
    ``reduce(key, before, after)`` gets one changed file's facts under ``key`` as they
    were when the memo was stored and as they are now, and returns them both with the
    parts left out that change nothing any reader can observe, or None when it cannot
    tell. "Nothing": if the two returned values are equal, every reader's outcome (its
    value and everything built from it) with ``after`` equals its outcome with
    ``before``; if they are equal but for a renumbering of lines
    (:func:`integ_lint.engine.memo_remap.line_map`), it equals that outcome moved by
    the renumbering. The summary describes the structure as built; it stays valid
    across the edits it judged inert (the engine keeps it while no reader runs again).
    The engine applies ``reduce`` to a key only when every frame that read the key in
    the memoised run is among :attr:`readers`: a rule or structure reading the facts
    by itself compares them in full. Summaries are pickled into the cache
    (authenticated): plain data, with the class defined in the project model or rules.
    """

    @property
    def fact_keys(self) -> frozenset[str]: ...
    @property
    def readers(self) -> frozenset[str]: ...
    def reduce(self, key: str, before: Any, after: Any) -> tuple[Any, Any] | None: ...
    def merged(self, older: KeptSummary) -> KeptSummary | None:
        """This summary joined with ``older``'s, for a run that built the structure anew
        while a rule that used the former build kept its outcome (that rule's queries
        are in ``older``); None when they cannot be joined."""
        ...


class Summarised(Protocol):
    """A derived structure that offers a :class:`KeptSummary` (asked for once, after
    the project phase's rules ran: what they queried counts)."""

    def kept_summary(self) -> KeptSummary | None: ...


def builder_name(build: Callable[..., Any]) -> str:
    """What names a derived structure's build (its function or class), for the memo."""
    module = getattr(build, "__module__", None) or type(build).__module__
    qualname = getattr(build, "__qualname__", None) or type(build).__qualname__
    return f"{module}.{qualname}"


class ProjectIndex:
    """Module table and facts of the whole project.

    Project rules share derived structures (the import graph, the schema table, the
    manager graph) through :meth:`derived`, so each is built once per run whatever
    the number of rules reading it.
    """

    def __init__(
        self, files: list[FileFacts], config: Config, columns: FactColumns | None = None
    ) -> None:
        self.config = config
        self.files: dict[str, FileFacts] = {f.relpath: f for f in files}
        self.modules: dict[str, FileFacts] = {}
        for facts in files:
            if facts.module and (facts.module not in self.modules or facts.relpath.endswith(".py")):
                self.modules[facts.module] = facts
        self._derived: dict[str, Any] = {}
        self._columns = columns
        # Paths findings may be reported on (None: every file). Changed-files runs
        # narrow this while still indexing the whole project.
        self.report_paths: set[str] | None = None
        # Notes project rules raise about inputs that are not Python files (a config
        # file that does not parse); the engine adds them to the report.
        self.notifications: list[Notification] = []
        self.recorder: ReadRecorder | None = None

    @classmethod
    def from_results(
        cls,
        results: Iterable[AnalysedFile],
        config: Config,
        roles: Mapping[str, str] | None = None,
        pickled: Mapping[str, Mapping[str, bytes]] | None = None,
        unpickle: Unpickle | None = None,
    ) -> ProjectIndex:
        """The index of the files of the per-file phase that parsed; ``roles`` maps
        relpaths to their role (from discovery), otherwise roles come from the globs.
        ``pickled``: facts still pickled, relpath -> key -> pickle, loaded per key on
        first read with ``unpickle``."""
        columns = FactColumns(unpickle)
        pickled = pickled or {}
        files = []
        for r in results:
            if not r.parsed:
                continue
            role = roles.get(r.relpath) if roles is not None else None
            if role is None:
                role = classify(r.relpath, role_paths(config.general))
            keys = columns.add(r.relpath, r.facts, pickled.get(r.relpath))
            view = FactsView(r.relpath, keys, columns)
            files.append(FileFacts(r.relpath, r.module, r.is_package_init, r.digest, view, role))
        return cls(files, config, columns)

    def record_reads(self) -> ReadRecorder:
        """Attach a recorder of what each rule reads (see :class:`ReadRecorder`)."""
        recorder = ReadRecorder(self.notifications)
        self.recorder = recorder
        if self._columns is not None:
            self._columns.recorder = recorder
        return recorder

    def unpickled_keys(self) -> set[str]:
        """The fact keys unpickled so far (a cached result's, for some file)."""
        return self._columns.unpickled_keys() if self._columns is not None else set()

    def role_of(self, relpath: str) -> str:
        """The role of the file at ``relpath`` (``library`` for an unknown path whose
        globs say nothing else)."""
        facts = self.files.get(relpath)
        if facts is not None:
            return facts.role
        return classify(relpath, role_paths(self.config.general))

    def reported(self, relpath: str) -> bool:
        """Whether findings may be reported on ``relpath`` at all (it is among the
        reported paths); the engine still filters each finding by its rule's roles."""
        return self.report_paths is None or relpath in self.report_paths

    def facts(self, key: str) -> Iterator[tuple[FileFacts, Any]]:
        """``(file, value)`` for every file that has facts under ``key``."""
        if self.recorder is not None:
            self.recorder.read(key)
        if self._columns is None:
            for file_facts in self.files.values():
                if key in file_facts.facts:
                    yield file_facts, file_facts.facts[key]
            return
        column = self._columns.column(key)
        if not column:
            return
        for file_facts in self.files.values():
            value = column.get(file_facts.relpath, _MISSING)
            if value is not _MISSING:
                yield file_facts, value

    def derived(self, key: str, build: Callable[[ProjectIndex], T]) -> T:
        recorder = self.recorder
        if recorder is None:
            if key not in self._derived:
                self._derived[key] = build(self)
            value: T = self._derived[key]
            return value
        recorder.request(key)
        if key not in self._derived:
            recorder.begin_build()
            try:
                built = build(self)
            except BaseException:
                recorder.fail_build(key)
                raise
            recorder.end_build(key, builder_name(build))
            self._derived[key] = built
        found: T = self._derived[key]
        return found

    def kept_summaries(self) -> dict[str, KeptSummary]:
        """The summaries of the derived structures built so far that offer one
        (:class:`Summarised`), by key: the engine asks once the rules have run."""
        found: dict[str, KeptSummary] = {}
        for key, value in self._derived.items():
            offer = getattr(value, "kept_summary", None)
            if callable(offer):
                try:
                    summary = offer()
                except Exception:  # no summary: the next run builds the structure
                    continue
                if summary is not None:
                    found[key] = summary
        return found

    def is_package(self, module: str) -> bool:
        facts = self.modules.get(module)
        if facts is not None:
            return facts.is_package_init
        prefix = module + "."
        return any(m.startswith(prefix) for m in self.modules)

    def path_of(self, module: str) -> str | None:
        facts = self.modules.get(module)
        return facts.relpath if facts else None
