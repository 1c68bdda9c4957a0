"""Node positions at a fraction of the cost of LibCST's ``PositionProvider``.

``PositionProvider`` updates a line/column pair for every token and builds two
position objects per node; on real code that costs about twice the parse itself.
Here one code-generation pass records, in one flat list of *events*, every token
and, as a zero-length marker, every node as it starts and ends (its first and second
occurrence). The hooks LibCST calls per node and per token are bound to that list's
``append``, so the pass runs no Python code of ours per node: only the syntactic
ranges (the same syntactic-or-whitespace-inclusive rules as ``PositionProvider``)
cost a call. Offsets, line starts and the index of a node's markers are computed
with C-level builtins, per top-level statement and only when asked; line/column
only for the nodes asked about. The results are identical (tested against
``PositionProvider``).
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import inspect
import re
from itertools import accumulate, compress, islice
from operator import length_hint
from typing import Any

import libcst as cst
from libcst import MaybeSentinel
from libcst._nodes.internal import CodegenState

_NEWLINE = re.compile(r"\r\n?|\n")

# (start, end) event indices: end is exclusive, a marker has no length.
_Range = tuple[int, int]


@functools.cache
def _takes_arguments(kind: type[cst.CSTNode]) -> bool:
    """Whether a node of this kind is generated with arguments from its parent
    (``is_elif``, ``default_comma``, ...)."""
    parameters = inspect.signature(kind._codegen_impl).parameters
    return list(parameters) != ["self", "state"]


# Kinds whose code always depends on their parent's arguments: ``elif`` or ``if``, the
# ``:`` or ``->`` of an annotation.
_PLACED_KINDS: frozenset[type[cst.CSTNode]] = frozenset({cst.If, cst.Annotation})


# The fields a parent's arguments fill in when left at ``MaybeSentinel.DEFAULT``,
# besides a comma or semicolon (which a parent adds after every element but the
# last; a parsed tree leaves one at DEFAULT only on the last, where the parent asks
# for none, as ``code_for_node`` does). Other DEFAULT fields (``Arg.equal``) the node
# fills in itself.
_FILLED_BY_PARENT = ("star", "separator", "whitespace_before_from", "whitespace_before_indicator")


@functools.cache
def _parent_filled_fields(kind: type[cst.CSTNode]) -> tuple[str, ...]:
    names = {field.name for field in dataclasses.fields(kind)}
    return tuple(name for name in _FILLED_BY_PARENT if name in names)


def generates_alone(node: cst.CSTNode) -> bool:
    """Whether ``node`` (of a parsed tree) generates the same code alone as inside its
    module: its parent passes it no arguments, or only ones that fill in fields it
    does not leave at ``MaybeSentinel.DEFAULT`` (see ``_FILLED_BY_PARENT``)."""
    kind = type(node)
    if not _takes_arguments(kind):
        return True
    if kind in _PLACED_KINDS:
        return False
    return all(
        getattr(node, name) is not MaybeSentinel.DEFAULT for name in _parent_filled_fields(kind)
    )


# Whether the last node asked about of each kind had a syntactic range (per process:
# a guess that only decides the order of the look-ups, never their result).
_SYNTACTIC_KINDS: dict[type[cst.CSTNode], bool] = {}


class _EventState(CodegenState):
    """A code-generation state whose tokens list is the events list: strings are
    tokens, anything else is a node's start or end marker (zero length)."""

    def __init__(self, module: cst.Module) -> None:
        super().__init__(
            default_indent=module.default_indent, default_newline=module.default_newline
        )
        events: list[Any] = self.tokens  # strings and nodes
        # Instance attributes shadow the methods: C-level appends, no Python frame.
        self.add_token = events.append  # type: ignore[method-assign,assignment]
        self.before_codegen = events.append  # type: ignore[method-assign,assignment]
        self.after_codegen = events.append  # type: ignore[method-assign,assignment]
        # id(node) -> its syntactic range, recorded while generating it (the outermost
        # one when there are several, as PositionProvider keeps the last recorded).
        self.syntactic: dict[int, _Range] = {}
        self._open: list[tuple[cst.CSTNode, cst.CSTNode | None, cst.CSTNode | None, int]] = []

    def record_syntactic_position(  # type: ignore[override]  # only used in `with`
        self,
        node: cst.CSTNode,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> _EventState:
        # The state is its own context manager (a stack of open ranges): LibCST enters
        # one per parenthesizable node, and an object per range cost a quarter of the
        # pass. Nothing is generated between this call and ``__enter__``.
        self._open.append((node, start_node, end_node, len(self.tokens)))
        return self

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        node, start_node, end_node, start = self._open.pop()
        events = self.tokens
        end = len(events)
        if start_node is not None:
            start_range = self.syntactic.get(id(start_node))
            if start_range is not None:
                start = start_range[0]
            else:  # its start marker, generated inside this range
                start = next(i for i in range(start, end) if events[i] is start_node)
        if end_node is not None:
            end_range = self.syntactic.get(id(end_node))
            if end_range is not None:
                end = end_range[1]
            else:  # its end marker, generated inside this range
                end = next(i for i in range(end - 1, -1, -1) if events[i] is end_node)
        self.syntactic[id(node)] = (start, end)


class NodePositions:
    """1-based line and 0-based column ranges of the nodes of one module.

    The code is generated lazily, one top-level statement at a time, only as far as
    the nodes asked about: most files are asked about their imports, near the top,
    and never pay for generating the rest."""

    def __init__(self, module: cst.Module) -> None:
        self._module = module  # keeps the nodes alive: ranges are keyed by id()
        self._state = _EventState(module)
        self._events: list[Any] = self._state.tokens  # strings and nodes
        self._state.before_codegen(module)  # the module's start marker
        for header in module.header:
            header._codegen(self._state)
        self._next_statement = 0
        self._finished = False
        self._offsets = [0]  # offset of events[i], for i up to _measured
        self._line_starts = [0]
        self._measured = 0  # events already in _offsets and _line_starts
        # id -> index of the first / last occurrence of every event, for the nodes
        # without a syntactic range (built only when one is asked about).
        self._first: dict[int, int] = {}
        self._last: dict[int, int] = {}
        self._indexed = 0

    def _generate_more(self) -> None:
        """Generate the next top-level statement, or the module's end."""
        module, state = self._module, self._state
        if self._next_statement < len(module.body):
            module.body[self._next_statement]._codegen(state)
            self._next_statement += 1
            return
        # The rest of Module._codegen_impl and CSTNode._codegen, in their order.
        for footer in module.footer:
            footer._codegen(state)
        events = self._events
        if module.has_trailing_newline and not any(type(event) is str for event in events):
            state.add_token(state.default_newline)
        # Without a trailing newline, LibCST drops the last newline from the code but
        # PositionProvider keeps counting it: it stays here, so the last nodes end
        # where it says.
        state.after_codegen(module)  # the module's end marker
        self._finished = True

    def _measure(self) -> None:
        """Extend the offsets and line starts over the events generated since."""
        events = self._events
        if len(events) == self._measured:
            return
        new = events[self._measured :]
        lengths = list(map(length_hint, new))  # a marker has no len(): 0
        start = self._offsets[-1]
        self._offsets.extend(islice(accumulate(lengths, initial=start), 1, None))
        text = "".join(compress(new, lengths))
        self._line_starts.extend(start + match.end() for match in _NEWLINE.finditer(text))
        self._measured = len(events)

    def _index(self) -> None:
        """Extend the first / last occurrence indexes over the events generated since
        (a node's two markers are always generated in the same step)."""
        events = self._events
        if len(events) == self._indexed:
            return
        new = events[self._indexed :]
        ends = range(self._indexed, len(events))
        self._last.update(zip(map(id, new), ends))
        self._first.update(dict(zip(map(id, reversed(new)), reversed(ends))))
        self._indexed = len(events)

    def _event_range(self, node: cst.CSTNode) -> _Range:
        """The node's range in events: syntactic if it has one, else its markers."""
        if node is self._module:  # its markers are the first and the last event
            while not self._finished:
                self._generate_more()
            return 0, len(self._events) - 1
        key = id(node)
        kind = type(node)
        syntactic = self._state.syntactic
        # Indexing the markers costs more than generating: for a kind that had a
        # syntactic range last time, look for one first (generating further), and
        # index only if there is none.
        expect_syntactic = _SYNTACTIC_KINDS.get(kind, True)
        while True:
            found = syntactic.get(key)
            if found is not None:
                _SYNTACTIC_KINDS[kind] = True
                return found
            if not expect_syntactic or self._finished:
                self._index()
                start = self._first.get(key)
                if start is not None:
                    _SYNTACTIC_KINDS[kind] = False
                    return start, self._last[key]
            if self._finished:
                raise KeyError(f"{kind.__name__} is not a node of this module")
            self._generate_more()

    def _position(self, event_index: int) -> tuple[int, int]:
        offset = self._offsets[min(event_index, len(self._offsets) - 1)]
        line_index = bisect.bisect_right(self._line_starts, offset) - 1
        return line_index + 1, offset - self._line_starts[line_index]

    def range_of(self, node: cst.CSTNode) -> tuple[int, int, int, int]:
        """``(start_line, start_column, end_line, end_column)`` like ``CodeRange``."""
        start, end = self._event_range(node)
        if self._measured < end or self._finished:
            self._measure()
        start_line, start_col = self._position(start)
        end_line, end_col = self._position(end)
        return start_line, start_col, end_line, end_col

    def _markers(self, node: cst.CSTNode) -> _Range:
        """The indices of the node's start and end markers (``KeyError``: not a node of
        this module). A syntactic range is inside them: look around it rather than
        index every event."""
        start, end = self._event_range(node)
        if id(node) not in self._state.syntactic:
            return start, end  # the markers, from the index
        events = self._events
        before = next(i for i in range(start - 1, -1, -1) if events[i] is node)
        after = next(i for i in range(end, len(events)) if events[i] is node)
        return before, after

    def snippet(self, node: cst.CSTNode, limit: int) -> str | None:
        """``" ".join(code.split())[:limit]`` for the code of ``node``, sliced from the
        generated module instead of generating the node again (which the snippet of a
        large node cost); None for a node that is not in this module, and for one whose
        code depends on where it is (``elif``, see :func:`generates_alone`): it must be
        generated alone. Otherwise only whitespace differs between the two (the node's
        indentation in the module), and it is normalised away."""
        if node is self._module or not generates_alone(node):
            return None
        try:
            start, end = self._markers(node)
        except KeyError:
            return None
        events = self._events
        pieces: list[str] = []
        size = 0
        enough = 4 * limit
        # Only enough text for ``limit`` normalised characters: a prefix of the code
        # normalises to a prefix of the normalised code.
        for index in range(start, end):
            event = events[index]
            if type(event) is str:
                pieces.append(event)
                size += len(event)
                if size > enough:
                    if len(" ".join("".join(pieces).split())) > limit:
                        break
                    enough *= 2
        return " ".join("".join(pieces).split())[:limit]
