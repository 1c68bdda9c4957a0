"""Node positions at a fraction of the cost of LibCST's ``PositionProvider``.

``PositionProvider`` updates a line/column pair for every token and builds two
position objects per node; on real code that costs about twice the parse itself.
Here one plain code-generation pass records, per node, the index of the first and
last token it produced (the same syntactic-or-whitespace-inclusive rules as
``PositionProvider``), and line/column are computed only for the nodes asked about,
from cumulative token lengths. The results are identical (tested against
``PositionProvider``).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from itertools import accumulate, islice

import libcst as cst
from libcst._nodes.internal import CodegenState

_NEWLINE = re.compile(r"\r\n?|\n")


@dataclass
class _MarkingState(CodegenState):
    """A code-generation state that records token index ranges per node."""

    marks: dict[int, tuple[int, int]] = field(default_factory=dict)
    stack: list[int] = field(default_factory=list)
    popped: list[str] = field(default_factory=list)

    def pop_trailing_newline(self) -> None:
        # PositionProvider keeps counting the file's last newline after dropping it
        # from the code; keep it for offsets so the last nodes end where it says.
        if self.tokens:
            self.popped.append(self.tokens.pop())

    def before_codegen(self, node: cst.CSTNode) -> None:
        self.stack.append(len(self.tokens))

    def after_codegen(self, node: cst.CSTNode) -> None:
        # A syntactic range recorded while generating the node takes precedence.
        # (``popped`` is empty here: only the module's end pops, see finish_module.)
        self.marks.setdefault(id(node), (self.stack.pop(), len(self.tokens)))

    def finish_module(self, module: cst.Module) -> None:
        """``after_codegen`` for the module, whose end counts the popped newline."""
        start = self.stack.pop()
        self.marks.setdefault(id(module), (start, len(self.tokens) + len(self.popped)))

    def record_syntactic_position(  # type: ignore[override]  # only used in `with`
        self,
        node: cst.CSTNode,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> _SyntacticRange:
        # A plain context manager: LibCST enters one per parenthesizable node, and a
        # @contextmanager generator cost about a quarter of the whole pass.
        return _SyntacticRange(self, node, start_node, end_node)


class _SyntacticRange:
    """Records the token range generated inside it as ``node``'s range, as
    ``CodegenState.record_syntactic_position`` does for ``PositionProvider``."""

    __slots__ = ("_end_node", "_node", "_start", "_start_node", "_state")

    def __init__(
        self,
        state: _MarkingState,
        node: cst.CSTNode,
        start_node: cst.CSTNode | None,
        end_node: cst.CSTNode | None,
    ) -> None:
        self._state = state
        self._node = node
        self._start_node = start_node
        self._end_node = end_node
        self._start = 0

    def __enter__(self) -> None:
        self._start = len(self._state.tokens)

    def __exit__(self, *exc_info: object) -> None:
        marks = self._state.marks
        start = self._start
        end = len(self._state.tokens)
        if self._start_node is not None:
            start = marks[id(self._start_node)][0]
        if self._end_node is not None:
            end = marks[id(self._end_node)][1]
        marks[id(self._node)] = (start, end)


class NodePositions:
    """1-based line and 0-based column ranges of the nodes of one module.

    The code is generated lazily, one top-level statement at a time, only as far as
    the nodes asked about: most files are asked about their imports, near the top,
    and never pay for generating the rest."""

    def __init__(self, module: cst.Module) -> None:
        self._module = module  # keeps the nodes alive: marks are keyed by id()
        self._state = _MarkingState(
            default_indent=module.default_indent, default_newline=module.default_newline
        )
        self._state.before_codegen(module)
        for header in module.header:
            header._codegen(self._state)
        self._next_statement = 0
        self._finished = False
        self._offsets = [0]
        self._line_starts = [0]
        self._measured = 0  # tokens already in _offsets and _line_starts

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
        if module.has_trailing_newline:
            if len(state.tokens) == 0:
                state.add_token(state.default_newline)
        else:
            state.pop_trailing_newline()
        state.finish_module(module)
        self._finished = True

    def _measure(self) -> None:
        """Extend the offsets and line starts over the tokens generated since."""
        tokens = self._state.tokens
        popped = self._state.popped if self._finished else []
        if len(tokens) + len(popped) == self._measured:
            return
        if popped:
            # The dropped last newline still counts (see pop_trailing_newline): it
            # comes back at the index it had.
            tokens = [*tokens, *self._state.popped]
        new = tokens[self._measured :]
        if not new:
            return
        start = self._offsets[-1]
        self._offsets.extend(islice(accumulate(map(len, new), initial=start), 1, None))
        self._line_starts.extend(start + match.end() for match in _NEWLINE.finditer("".join(new)))
        self._measured = len(tokens)

    def _position(self, token_index: int) -> tuple[int, int]:
        offset = self._offsets[min(token_index, len(self._offsets) - 1)]
        line_index = bisect.bisect_right(self._line_starts, offset) - 1
        return line_index + 1, offset - self._line_starts[line_index]

    def range_of(self, node: cst.CSTNode) -> tuple[int, int, int, int]:
        """``(start_line, start_column, end_line, end_column)`` like ``CodeRange``."""
        marks = self._state.marks
        key = id(node)
        while key not in marks and not self._finished:
            self._generate_more()
        start, end = marks[key]
        if self._measured < end or self._finished:
            self._measure()
        start_line, start_col = self._position(start)
        end_line, end_col = self._position(end)
        return start_line, start_col, end_line, end_col
