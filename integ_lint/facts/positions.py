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

import ast
import bisect
import dataclasses
import functools
import inspect
import re
import warnings
from collections.abc import Iterable
from itertools import accumulate, compress, count, filterfalse, islice
from operator import length_hint
from typing import Any

import libcst as cst
from libcst import MaybeSentinel
from libcst._nodes.internal import CodegenState

from integ_lint.facts.syntax import child_nodes

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
    and never pay for generating the rest. Given the source and the nodes the
    engine's walk visited, most ranges come from CPython's ``ast`` instead
    (:class:`AstPositions`), and the code is generated only for the others."""

    def __init__(
        self,
        module: cst.Module,
        source: str | None = None,
        visited: list[cst.CSTNode] | None = None,
    ) -> None:
        self._module = module  # keeps the nodes alive: ranges are keyed by id()
        self.from_ast = (
            AstPositions(module, source, visited)
            if source is not None and visited is not None
            else None
        )
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
        if self.from_ast is not None:
            found = self.from_ast.range_of(node)
            if found is not None:
                return found
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
        if self.from_ast is not None:
            sliced = self.from_ast.snippet(node, limit)
            if sliced is not None:
                return sliced
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


# -- positions from CPython's parser ----------------------------------------------
# CPython's ``ast`` gives line/column ranges for expressions and statements at C speed
# (a fraction of generating the code). The LibCST nodes of a bucket, in the order the
# engine's walk visits them, match the ast ranges of the same bucket sorted by
# position, once the contexts where only one tree has a node are left out (a name
# in an import is an ``ast`` string, ``"a" "b"`` one ``ast.Constant``, ...). Where
# ``ast`` holds a LibCST ``Name`` as a string (an attribute's name, a keyword, a
# parameter, a function's or class's name) or as a constant (``True``), the range
# of the name is worked out from its ast node, so that every ``Name`` but a few
# rare ones (``global a``, ``except E as e``, match captures) has its ast range: the
# LibCST side then numbers the nodes of a bucket in bulk, with C-level filters over
# the walk's order, and only for the buckets asked about. The engine checks after
# its walk that the counts agree in every bucket asked
# (:meth:`AstPositions.consistent`) and analyses the file again without them when
# they do not; tests/test_positions_ast.py checks the ranges against the
# code-generated ones.

# LibCST kind -> the bucket it is matched in (a concatenation holding an f-string is
# in "fstring", see AstPositions._exclude_inside).
_CST_BUCKETS: dict[type[cst.CSTNode], str] = {
    cst.Name: "name",
    cst.Attribute: "attribute",
    cst.Call: "call",
    cst.Subscript: "subscript",
    cst.Comparison: "comparison",
    cst.BooleanOperation: "boolean",
    cst.IfExp: "ifexp",
    cst.Assign: "assign",
    cst.AnnAssign: "annassign",
    cst.Import: "import",
    cst.ImportFrom: "importfrom",
    cst.SimpleString: "string",
    cst.ConcatenatedString: "string",
    cst.FormattedString: "fstring",
}
_BUCKETS: tuple[str, ...] = tuple(dict.fromkeys(_CST_BUCKETS.values()))
# Bucket -> the LibCST kinds numbered in it.
_BUCKET_KINDS: dict[str, frozenset[type[cst.CSTNode]]] = {
    bucket: frozenset(
        {kind for kind, its in _CST_BUCKETS.items() if its == bucket}
        | ({cst.ConcatenatedString} if bucket == "fstring" else set())
    )
    for bucket in _BUCKETS
}
# ast kind -> the same buckets, for the nodes whose own range is matched.
_AST_BUCKETS: dict[type[ast.AST], str] = {
    ast.Name: "name",
    ast.Call: "call",
    ast.Subscript: "subscript",
    ast.Compare: "comparison",
    ast.BoolOp: "boolean",
    ast.IfExp: "ifexp",
    ast.Assign: "assign",
    ast.AnnAssign: "annassign",
    ast.Import: "import",
    ast.ImportFrom: "importfrom",
    ast.JoinedStr: "fstring",
}
# ast kinds that hold a LibCST Name as a string or a constant (the "name" bucket gets
# its range), or a string constant (the "string" bucket), handled one by one in
# AstPositions._parse.
_AST_ATTRIBUTE, _AST_CONSTANT, _AST_IDENTIFIER, _AST_DEFINITION, _AST_SINGLETON = range(5)
_AST_SPECIAL: dict[type[ast.AST], int] = {
    ast.Attribute: _AST_ATTRIBUTE,  # its own range, and its name's
    ast.Constant: _AST_CONSTANT,  # a string, or True / False / None (a Name)
    ast.arg: _AST_IDENTIFIER,  # a parameter: the name starts it
    ast.keyword: _AST_IDENTIFIER,  # ``name=value`` (not ``**kwargs``)
    ast.FunctionDef: _AST_DEFINITION,  # the name after ``def`` / ``class``
    ast.AsyncFunctionDef: _AST_DEFINITION,
    ast.ClassDef: _AST_DEFINITION,
    ast.MatchSingleton: _AST_SINGLETON,  # ``case None:``, a Name in LibCST
}
_FORMATTED_STRINGS: tuple[type[cst.CSTNode], ...] = tuple(
    kind
    for kind in (
        cst.FormattedString,
        getattr(cst, "TemplatedString", None),
    )
    if kind is not None
)
_AST_FORMATTED: tuple[type[ast.AST], ...] = tuple(
    kind for kind in (ast.JoinedStr, getattr(ast, "TemplateStr", None)) if kind is not None
)
# A Name child that is an identifier in ``ast`` without a position of its own: per
# parent kind, the fields holding it (directly or as ``AsName.name``).
_IDENTIFIER_FIELDS: dict[type[cst.CSTNode], tuple[str, ...]] = {
    cst.NameItem: ("name",),
    cst.ExceptHandler: ("name",),
    cst.ExceptStarHandler: ("name",),
    cst.MatchAs: ("name",),
    cst.MatchStar: ("name",),
    cst.MatchMapping: ("rest",),
    cst.MatchKeywordElement: ("key",),
    **{
        kind: ("name",)
        for kind in (
            getattr(cst, "TypeVar", None),
            getattr(cst, "ParamSpec", None),
            getattr(cst, "TypeVarTuple", None),
        )
        if kind is not None
    },
}
# ``def`` or ``class`` and the whitespace after it, from where ast starts the
# definition (its decorators apart): the name follows.
_STRING_STARTS = frozenset("'\"bBfFrRuUtT")
_DEFINITION_KEYWORD = re.compile(r"(?:async[ \t\f]+)?(?:def|class)[ \t\f]+")

# Nothing inside an import or an f-string has an ast match (its names are strings, an
# f-string's positions are unreliable before Python 3.12).
_OPAQUE: frozenset[type[cst.CSTNode]] = frozenset({cst.Import, cst.ImportFrom, *_FORMATTED_STRINGS})
# The kinds that leave some nodes inside them out of the buckets (see
# AstPositions._exclude_inside): few, found in each new stretch of the walk's order
# with one C-level filter.
_EXCLUDING: frozenset[type[cst.CSTNode]] = frozenset(
    {*_IDENTIFIER_FIELDS, *_OPAQUE, cst.ConcatenatedString, cst.BooleanOperation}
)
# The kinds the engine's walk must record in its order, even where no visitor wants
# them.
RECORDED_KINDS: frozenset[type[cst.CSTNode]] = frozenset({*_CST_BUCKETS, *_EXCLUDING})
# Small statements: their range holds their semicolon, which ast's does not.
_SMALL_STATEMENTS = (cst.Assign, cst.AnnAssign, cst.Import, cst.ImportFrom)

# Per ast kind: the fields that may hold nodes (not ``ctx``, whose Load and Store are
# a third of the nodes, nor operators, strings and numbers), the index in _BUCKETS of
# the bucket its range goes to (-1: none) and its _AST_SPECIAL code (-1: none).
_AstPlan = tuple[tuple[str, ...], int, int]
_AST_PLANS: dict[type, _AstPlan] = {}
_AST_LEAF_FIELDS = frozenset(
    {
        "ctx",
        "op",
        "ops",
        "id",
        "attr",
        "arg",
        "name",
        "module",
        "level",
        "kind",
        "conversion",
        "type_comment",
        "is_async",
        "simple",
        "tag",
        "n",
        "s",
    }
)


def _ast_plan(kind: type) -> _AstPlan:
    if kind is ast.Constant or kind in _AST_FORMATTED:
        fields: tuple[str, ...] = ()  # a constant's value; nothing inside an f-string
    elif kind is getattr(ast, "TypeAlias", None):
        fields = getattr(kind, "_fields", ())  # its ``name`` is a Name (``type X = ...``)
    else:
        fields = tuple(
            name for name in getattr(kind, "_fields", ()) if name not in _AST_LEAF_FIELDS
        )
    bucket = _AST_BUCKETS.get(kind)
    plan = (
        fields,
        -1 if bucket is None else _BUCKETS.index(bucket),
        _AST_SPECIAL.get(kind, -1),
    )
    _AST_PLANS[kind] = plan
    return plan


# line, byte column, end line and end byte column negated (see AstPositions._parse);
# a definition's name is recorded as the empty range where its ``def`` starts.
_AstRange = tuple[int, int, int, int]


def _subtree(node: cst.CSTNode, into: set[int]) -> None:
    into.add(id(node))
    for child in child_nodes(node):
        _subtree(child, into)


class AstPositions:
    """Ranges of the expression and assignment nodes of one module from CPython's
    ``ast``, matched by kind and order with the nodes the engine's walk visited
    (``order``, appended to during the walk: a node is matched once visited)."""

    def __init__(self, module: cst.Module, source: str, order: list[cst.CSTNode]) -> None:
        self._module = module
        self._source = source
        self._order = order
        # The kinds of order[: _classified], whose exclusions are known.
        self._kinds: list[type] = []
        self._classified = 0
        self._excluded: set[int] = set()
        self._concatenation_bucket: dict[int, str] = {}  # id(ConcatenatedString) -> bucket
        # Per bucket asked about: id(node) -> its position in the bucket, the walk's
        # order numbered so far, and the nodes numbered ahead of the walk.
        self._numbers: dict[str, dict[int, int]] = {}
        self._numbered: dict[str, int] = {}
        self._ahead: dict[str, set[int]] = {}
        self._formatted_root_of: dict[int, cst.CSTNode] = {}  # id(node inside) -> root
        self._formatted_positions: dict[int, NodePositions] = {}  # id(root) -> its own
        self._buckets: dict[str, list[_AstRange]] | None = None
        self._lines: list[str] | None = None
        self._ascii = source.isascii()
        self.usable = True
        self.used = False

    # -- the two trees ---------------------------------------------------------
    def _parse(self) -> dict[str, list[_AstRange]] | None:
        if self._buckets is None:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # SyntaxWarning: invalid escape...
                    tree = ast.parse(self._source)
            except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
                self.usable = False
                return None
            found: dict[str, list[_AstRange]] = {name: [] for name in _BUCKETS}
            # Sorted in source order, an enclosing node before the ones it starts
            # with (``f()()``): the end negated.
            lists = [found[bucket] for bucket in _BUCKETS]
            names, strings, attributes = found["name"], found["string"], found["attribute"]
            ascii_only = self._ascii
            plans = _AST_PLANS
            stack: list[Any] = [tree]
            pop, append, extend = stack.pop, stack.append, stack.extend
            while stack:
                node = pop()
                kind = type(node)
                plan = plans.get(kind)
                if plan is None:
                    if not isinstance(node, ast.AST):
                        continue  # a name in a list of names (``global a, b``)
                    plan = _ast_plan(kind)
                fields, bucket, special = plan
                if bucket >= 0:
                    lists[bucket].append(
                        (node.lineno, node.col_offset, -node.end_lineno, -node.end_col_offset)
                    )
                elif special >= 0:
                    # The kinds that hold a LibCST Name as a string or a constant, or
                    # are a string constant (see _AST_SPECIAL), inline: a third of
                    # the nodes.
                    if special == _AST_CONSTANT:
                        value = node.value
                        value_kind = type(value)
                        if value_kind is str or value_kind is bytes:
                            strings.append(
                                (
                                    node.lineno,
                                    node.col_offset,
                                    -node.end_lineno,
                                    -node.end_col_offset,
                                )
                            )
                        elif value is True or value is False or value is None:
                            names.append(
                                (
                                    node.lineno,
                                    node.col_offset,
                                    -node.end_lineno,
                                    -node.end_col_offset,
                                )
                            )
                    elif special == _AST_ATTRIBUTE:
                        end_line, end = node.end_lineno, node.end_col_offset
                        attributes.append((node.lineno, node.col_offset, -end_line, -end))
                        # The name ends the attribute (nothing after it, not even
                        # parentheses).
                        attr = node.attr
                        size = len(attr) if ascii_only else len(attr.encode("utf-8"))
                        names.append((end_line, end - size, -end_line, -end))
                    elif special == _AST_IDENTIFIER:
                        identifier = node.arg
                        if identifier is not None:  # not ``**kwargs``
                            line, column = node.lineno, node.col_offset
                            if ascii_only:
                                size = len(identifier)
                            else:
                                size = len(identifier.encode("utf-8"))
                            names.append((line, column, -line, -column - size))
                    elif special == _AST_DEFINITION:
                        # After any decorator, before the rest; where: _definition_name.
                        line, column = node.lineno, node.col_offset
                        names.append((line, column, -line, -column))
                    else:  # _AST_SINGLETON
                        names.append(
                            (node.lineno, node.col_offset, -node.end_lineno, -node.end_col_offset)
                        )
                for name in fields:
                    value = getattr(node, name, None)
                    if type(value) is list:
                        extend(value)
                    elif value is not None:
                        append(value)
            for ranges in found.values():
                ranges.sort()
            self._buckets = found
        return self._buckets

    def _classify(self) -> None:
        """Learn the kinds of the nodes visited since, and what their exclusions
        leave out of the buckets (the few nodes of the _EXCLUDING kinds)."""
        order = self._order
        start, end = self._classified, len(order)
        if start == end:
            return
        segment = order[start:end]
        kinds = list(map(type, segment))
        self._kinds += kinds
        for node in compress(segment, map(_EXCLUDING.__contains__, kinds)):
            self._exclude_inside(node)
        self._classified = end

    def _exclude_inside(self, node: cst.CSTNode) -> None:
        """Leave out of the buckets the nodes inside ``node`` that ``ast`` has no
        match for (an import's names, an identifier without a position, what is
        inside an f-string or a concatenation); again for the same node is a no-op."""
        kind = type(node)
        excluded = self._excluded
        fields = _IDENTIFIER_FIELDS.get(kind)
        if fields is not None:
            for name in fields:
                child = getattr(node, name)
                if type(child) is cst.AsName:
                    child = child.name
                if child is not None:
                    excluded.add(id(child))
        elif kind is cst.ConcatenatedString:
            if id(node) not in excluded:
                self._concatenation_bucket[id(node)] = (
                    "fstring" if self._concatenation(node) else "string"  # type: ignore[arg-type]
                )
        elif kind is cst.BooleanOperation:
            # ``a or b or c`` is one ast.BoolOp of three values, two LibCST nodes: the
            # left one, without parentheses of its own, has no match.
            left = node.left  # type: ignore[attr-defined]
            if (
                type(left) is cst.BooleanOperation
                and not left.lpar
                and type(left.operator) is type(node.operator)  # type: ignore[attr-defined]
            ):
                excluded.add(id(left))
        elif kind is cst.FormattedString and id(node) not in excluded:
            self._formatted_root(node)
        else:  # an import, or an f-string inside another
            for child in child_nodes(node):
                _subtree(child, excluded)

    def _number(self, bucket: str) -> dict[int, int]:
        """The bucket's numbers, extended over the nodes classified since."""
        numbers = self._numbers.get(bucket)
        if numbers is None:
            numbers = self._numbers[bucket] = {}
            self._numbered[bucket] = 0
        start, end = self._numbered[bucket], self._classified
        if start < end:
            kinds_in = _BUCKET_KINDS[bucket]
            nodes = compress(
                self._order[start:end], map(kinds_in.__contains__, self._kinds[start:end])
            )
            self._add_numbers(bucket, numbers, nodes)
            self._numbered[bucket] = end
        return numbers

    def _add_numbers(
        self, bucket: str, numbers: dict[int, int], nodes: Iterable[cst.CSTNode]
    ) -> list[int]:
        """Number ``nodes`` of the bucket's kinds (the next ones in the walk's order),
        less the ones left out and the ones numbered ahead of the walk already; the
        keys numbered."""
        if cst.ConcatenatedString in _BUCKET_KINDS[bucket]:
            of_concatenation = self._concatenation_bucket
            nodes = [
                node
                for node in nodes
                if type(node) is not cst.ConcatenatedString
                or of_concatenation.get(id(node)) == bucket
            ]
        keys: Iterable[int] = map(id, nodes)
        if self._excluded:
            keys = filterfalse(self._excluded.__contains__, keys)
        keys = list(keys)
        ahead = self._ahead.get(bucket)
        if ahead:  # the walk reaches nodes numbered ahead of it: they keep their number
            ahead.difference_update(keys)
            keys = [key for key in keys if key not in numbers]
        numbers.update(zip(keys, count(len(numbers))))
        return keys

    def _bucket_of(self, node: cst.CSTNode) -> str | None:
        kind = type(node)
        if kind is cst.ConcatenatedString:
            return self._concatenation_bucket.get(id(node))
        return _CST_BUCKETS.get(kind)

    def _position(self, node: cst.CSTNode) -> tuple[str, int] | None:
        """The node's bucket and position in it, once visited (or looked ahead)."""
        bucket = self._bucket_of(node)
        if bucket is None:
            return None
        index = self._number(bucket).get(id(node))
        return None if index is None else (bucket, index)

    def _look_ahead(self, target: cst.CSTNode) -> bool:
        """Number the nodes of the last visited node's subtree up to ``target``, when it
        is there: a collector asks about a child of the node it visits (``node.func``)
        before the walk reaches it. They come next in the walk's order."""
        if not self._order:
            return False
        ahead: list[cst.CSTNode] = []
        stack = child_nodes(self._order[-1])
        stack.reverse()
        while stack:
            node = stack.pop()
            ahead.append(node)
            if node is target:
                break
            children = child_nodes(node)
            children.reverse()
            stack.extend(children)
        else:
            return False
        for node in ahead:
            if type(node) in _EXCLUDING:
                self._exclude_inside(node)
        bucket = self._bucket_of(target)
        if bucket is not None:
            numbers = self._number(bucket)  # first the nodes the walk visited
            kinds_in = _BUCKET_KINDS[bucket]
            fresh = [node for node in ahead if type(node) in kinds_in]
            added = self._add_numbers(bucket, numbers, fresh)
            self._ahead.setdefault(bucket, set()).update(added)
        return True

    def _concatenation(self, node: cst.ConcatenatedString) -> bool:
        """``"a" "b"`` is one ``ast.Constant`` (its parts none), or one
        ``ast.JoinedStr`` when a part is an f-string (True)."""
        if any(type(part) in _FORMATTED_STRINGS for part in _concatenated_parts(node)):
            self._formatted_root(node)
            return True
        parts: set[int] = set()
        _subtree(node, parts)
        parts.discard(id(node))
        self._excluded |= parts
        return False

    def _formatted_root(self, root: cst.CSTNode) -> None:
        """An f-string (or a concatenation holding one) is one ``ast.JoinedStr``; the
        positions ast gives inside it are unreliable before Python 3.12, so the nodes
        inside are placed by generating the f-string's code alone (see
        :meth:`_inside_formatted`)."""
        inside: set[int] = set()
        for child in child_nodes(root):
            _subtree(child, inside)
        self._excluded |= inside
        self._formatted_root_of.update(dict.fromkeys(inside, root))

    def _inside_formatted(
        self, node: cst.CSTNode, root: cst.CSTNode
    ) -> tuple[int, int, int, int] | None:
        """A node inside an f-string, on its first line: its range in the f-string's
        code generated alone, moved to where ast starts the f-string (without
        parentheses of its own, which that code would start with)."""
        if getattr(root, "lpar", None):
            return None
        start = self.range_of(root)
        if start is None:
            return None
        alone = self._formatted_positions.get(id(root))
        if alone is None:
            module = self._module
            holder = cst.Module(
                body=[cst.SimpleStatementLine(body=[cst.Expr(value=root)])],  # type: ignore[arg-type]
                default_indent=module.default_indent,
                default_newline=module.default_newline,
            )
            alone = self._formatted_positions[id(root)] = NodePositions(holder)
        try:
            _, column, end_line, end_column = alone.range_of(node)
        except KeyError:
            return None
        if end_line != 1:
            # On the f-string's next lines, generated alone, a parenthesised line
            # break lacks the indentation of the blocks around it: code generation.
            return None
        root_line, root_column = start[0], start[1]
        return root_line, column + root_column, root_line, end_column + root_column

    # -- answers ---------------------------------------------------------------
    def _column(self, line: int, byte_column: int) -> int:
        if self._lines is None:
            self._lines = _NEWLINE.split(self._source)
        text = self._lines[line - 1] if 0 < line <= len(self._lines) else ""
        if text.isascii():
            return byte_column
        return len(text.encode("utf-8")[:byte_column].decode("utf-8", "replace"))

    def range_of(self, node: cst.CSTNode) -> tuple[int, int, int, int] | None:
        """The node's range, or None when ``ast`` cannot give it (not visited yet, a
        kind or context without a match, ``ast`` cannot parse the file)."""
        if not self.usable:
            return None
        kind = type(node)
        bucket = _CST_BUCKETS.get(kind)
        if bucket is None:
            return None
        if kind in _SMALL_STATEMENTS and (
            node.semicolon is not MaybeSentinel.DEFAULT  # type: ignore[attr-defined]
        ):
            return None  # its range holds the semicolon: code generation
        if self._classified < len(self._order):
            self._classify()
        key = id(node)
        if kind is cst.ConcatenatedString:
            bucket = self._concatenation_bucket.get(key, "")
        # The bucket's numbers, extended over the walk's latest nodes if need be.
        numbers = self._numbers.get(bucket)
        if numbers is None or self._numbered[bucket] < self._classified:
            numbers = self._number(bucket) if bucket else {}
        index = numbers.get(key)
        if index is None:
            root = self._formatted_root_of.get(key)
            if root is None and key not in self._excluded and self._look_ahead(node):
                position = self._position(node)
                root = self._formatted_root_of.get(key)
                if position is not None:
                    bucket, index = position
            if index is None:
                return None if root is None else self._inside_formatted(node, root)
        buckets = self._buckets
        if buckets is None:
            buckets = self._parse()
            if buckets is None:
                return None
        found = buckets[bucket]
        if index >= len(found):
            self.usable = False
            return None
        line, byte_column, end_line, end_byte_column = found[index]
        end_line, end_byte_column = -end_line, -end_byte_column
        if kind is cst.Name and end_byte_column == byte_column and end_line == line:
            return self._definition_name(node, line, byte_column)
        if self._ascii:
            result = (line, byte_column, end_line, end_byte_column)
        else:
            result = (
                line,
                self._column(line, byte_column),
                end_line,
                self._column(end_line, end_byte_column),
            )
        if kind is cst.Name:
            if self._text(result) != node.value:  # type: ignore[attr-defined]
                self.usable = False  # the trees disagree: the engine analyses it again
                return None
        elif kind is cst.ConcatenatedString and not self._quoted(result):
            self.usable = False
            return None
        self.used = True
        return result

    def _quoted(self, found: tuple[int, int, int, int]) -> bool:
        """Whether ``found`` starts with a string's prefix or quote and ends with a
        quote: a cheap check that the range of ``"a" f"b"`` is a concatenation's (the
        same on Python 3.10 to 3.12 on napari's and Django's 2021 f-strings, and
        equal to the code-generated range on every one of them)."""
        if self._lines is None:
            self._lines = _NEWLINE.split(self._source)
        line, column, end_line, end_column = found
        lines = self._lines
        if not (0 < line <= end_line <= len(lines)) or end_column < 1:
            return False
        first = lines[line - 1][column : column + 1]
        last = lines[end_line - 1][end_column - 1 : end_column]
        return first in _STRING_STARTS and last in ("'", '"')

    def _definition_name(
        self, name: cst.CSTNode, line: int, byte_column: int
    ) -> tuple[int, int, int, int] | None:
        """A function's or class's name: after ``def`` / ``class`` and its
        whitespace, where ``ast`` starts the definition (its decorators apart)."""
        if self._lines is None:
            self._lines = _NEWLINE.split(self._source)
        text = self._lines[line - 1] if 0 < line <= len(self._lines) else ""
        keyword = _DEFINITION_KEYWORD.match(text, self._column(line, byte_column))
        if keyword is None:
            self.usable = False  # no definition there: the trees disagree
            return None
        start = keyword.end()
        if text.startswith("\\", start):
            return None  # a line continuation before the name: code generation
        value = name.value  # type: ignore[attr-defined]
        end = start + len(value)
        if text[start:end] != value or ("a" + text[end : end + 1]).isidentifier():
            self.usable = False
            return None
        self.used = True
        return line, start, line, end

    def _text(self, found: tuple[int, int, int, int]) -> str:
        if self._lines is None:
            self._lines = _NEWLINE.split(self._source)
        line, column, end_line, end_column = found
        if line != end_line or not 0 < line <= len(self._lines):
            return ""
        return self._lines[line - 1][column:end_column]

    def snippet(self, node: cst.CSTNode, limit: int) -> str | None:
        """The normalised code of a node without parentheses of its own (their
        whitespace is the node's code too), sliced from the source."""
        if type(node) is not cst.ImportFrom and getattr(node, "lpar", None):
            return None  # the parentheses' whitespace is the node's (not ImportFrom's)
        found = self.range_of(node)
        if found is None:
            return None
        if self._lines is None:
            self._lines = _NEWLINE.split(self._source)
        line, column, end_line, end_column = found
        lines = self._lines
        if line == end_line:
            text = lines[line - 1][column:end_column]
        else:
            # The newlines themselves are whitespace: normalised away.
            text = "\n".join(
                [
                    lines[line - 1][column:],
                    *lines[line : end_line - 1],
                    lines[end_line - 1][:end_column],
                ]
            )
        return " ".join(text.split())[:limit]

    def number_all(self) -> None:
        """Parse with ``ast`` and number every bucket over the nodes visited so far:
        what answering a question of every kind costs at the end of the walk
        (benchmarks/floor.py)."""
        self._classify()
        self._parse()
        for bucket in _BUCKETS:
            self._number(bucket)

    def consistent(self) -> bool:
        """Whether every range given came from matching trees: the walk is over, and
        each bucket asked about has as many nodes in both."""
        if not self.used:
            return True
        if not self.usable:
            return False
        self._classify()
        buckets = self._parse()
        return buckets is not None and all(
            len(buckets[bucket]) == len(self._number(bucket)) for bucket in list(self._numbers)
        )


def _concatenated_parts(node: cst.ConcatenatedString) -> list[cst.CSTNode]:
    parts: list[cst.CSTNode] = []
    stack: list[cst.CSTNode] = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.ConcatenatedString):
            stack.extend((current.left, current.right))
        else:
            parts.append(current)
    return parts
