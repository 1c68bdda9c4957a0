"""Walking LibCST trees read-only: a node's direct children and the fields they come
from, learnt once per node type. LibCST's own ``children`` and ``visit`` rebuild and
re-validate every node (they are made for transforms); the engine's one traversal and
the collectors that walk a subtree use these instead. Also: how deep a walk is inside
blocks a collector marked (``MarkedBlocks``)."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable
from typing import Any

import libcst as cst


def subclass_test(base: type, known: dict[type, bool]) -> Callable[[type], bool]:
    """``issubclass(kind, base)`` learnt once per type in ``known`` and then read by
    identity: LibCST's node bases are ABCs, whose ``issubclass`` and ``isinstance`` are
    slow. A hot loop may read ``known`` itself before calling the test."""

    def test(kind: type) -> bool:
        answer = known.get(kind)
        if answer is None:
            answer = known[kind] = issubclass(kind, base)
        return answer

    return test


# Per type: whether it is a CSTNode, by identity.
NODE_TYPES: dict[type, bool] = {}
# Whether values of a type are syntax nodes.
is_node_type = subclass_test(cst.CSTNode, NODE_TYPES)


class MarkedBlocks:
    """How many blocks marked on the way down enclose the node being visited (the body
    of an ``if TYPE_CHECKING:``, of a ``try`` that catches KeyError): a collector marks
    a block when it visits its parent, and passes every ``IndentedBlock`` it visits and
    leaves to ``enter`` and ``leave``."""

    def __init__(self) -> None:
        self._marked: set[int] = set()
        self.depth = 0

    def mark(self, block: cst.BaseSuite) -> None:
        self._marked.add(id(block))

    def enter(self, block: cst.IndentedBlock) -> None:
        if id(block) in self._marked:
            self.depth += 1

    def leave(self, block: cst.IndentedBlock) -> None:
        if id(block) in self._marked:
            self.depth -= 1


def child_nodes(node: cst.CSTNode) -> list[cst.CSTNode]:
    """``node.children`` (its direct children, in order) without LibCST's cost: its
    ``children`` rebuilds and re-validates the node through
    ``_visit_and_replace_children`` on every access."""
    kind = type(node)
    fields = CHILD_FIELDS.get(kind)
    if fields is None:
        fields = child_fields(node)
    children: list[cst.CSTNode] = []
    node_types = NODE_TYPES
    for name in fields:
        value = getattr(node, name)
        value_type = type(value)
        if value_type is tuple or value_type is list:
            children.extend(value)
        elif value is not None:
            known = node_types.get(value_type)  # is_node_type, without its call
            if known or (known is None and is_node_type(value_type)):
                children.append(value)
    return children


def visit_read_only(node: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    """``node.visit(visitor)`` for a visitor that only reads, with ``visit_*`` /
    ``leave_*`` methods (no attribute hooks): the same calls in the same order,
    without LibCST rebuilding and re-validating every node of the subtree."""
    if visitor.on_visit(node):
        for child in child_nodes(node):
            visit_read_only(child, visitor)
    visitor.on_leave(node)


# Per node type: the fields LibCST's ``_visit_and_replace_children`` visits, in its order.
CHILD_FIELDS: dict[type[cst.CSTNode], tuple[str, ...]] = {}
# Node types whose ``_visit_and_replace_children`` skips a field (hooks included) when
# it is None; every other optional field still gets its attribute hooks.
SKIPPED_WHEN_NONE: frozenset[type[cst.CSTNode]] = frozenset(
    kind
    for kind in (
        getattr(cst, "FormattedStringExpression", None),
        getattr(cst, "TemplatedStringExpression", None),
    )
    if kind is not None
)
OPTIONAL_LAST_FIELD = "format_spec"  # the field those types skip when None


class _FieldRecorder(cst.CSTVisitor):
    """Records the attribute names ``_visit_and_replace_children`` announces for one
    node, without descending into its children."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[str] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        return False

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        self.fields.append(attribute)


def child_fields(node: cst.CSTNode) -> tuple[str, ...]:
    """The visited fields of ``type(node)``, learnt once per type from LibCST itself."""
    recorder = _FieldRecorder()
    node._visit_and_replace_children(recorder)
    fields = list(dict.fromkeys(recorder.fields))
    kind = type(node)
    if kind in SKIPPED_WHEN_NONE and OPTIONAL_LAST_FIELD not in fields:
        fields.append(OPTIONAL_LAST_FIELD)
    CHILD_FIELDS[kind] = result = tuple(fields)
    return result


# -- what a node kind can hold -------------------------------------------------------
# Per node kind: whether it holds only whitespace and tokens (``Comma``, ``Dot``, ``+``,
# a parenthesis; ``Name`` and ``Integer``, whose only children are parentheses). A walk
# that wants none of them, and no position of them, need not enter them at all.
_TERMINAL: dict[type, bool] = {}


# Per node kind: it and its concrete subclasses (the walk above, learnt once: a run that
# analyses one file judges a hundred field annotations, most naming a few abstract bases).
_CONCRETE_SUBCLASSES: dict[type, list[type]] = {}
# Per terminal node kind: kinds_inside's answer, learnt once.
_INSIDE: dict[type, frozenset[type]] = {}


def _concrete_kinds(annotation: Any) -> list[type] | None:
    """The node kinds a field annotated ``annotation`` may hold (subclasses included,
    ``Sequence[...]`` and unions unpacked); None when unknown (a string annotation)."""
    arguments = typing.get_args(annotation)
    if arguments:
        kinds: list[type] = []
        for argument in arguments:
            inner = _concrete_kinds(argument)
            if inner is None:
                return None
            kinds.extend(inner)
        return kinds
    if not isinstance(annotation, type):
        return None if isinstance(annotation, (str, typing.ForwardRef)) else []
    if not is_node_type(annotation):
        return []  # a string, a flag, MaybeSentinel
    found = _CONCRETE_SUBCLASSES.get(annotation)
    if found is None:
        found = []
        stack = [annotation]
        while stack:
            kind = stack.pop()
            if not inspect.isabstract(kind):
                found.append(kind)
            stack.extend(kind.__subclasses__())
        _CONCRETE_SUBCLASSES[annotation] = found
    return list(found)


def is_terminal(kind: type) -> bool:
    """Whether nodes of ``kind`` hold only whitespace and other terminal nodes (learnt
    once per kind from LibCST's field annotations; False when unsure)."""
    known = _TERMINAL.get(kind)
    if known is None:
        _TERMINAL[kind] = False  # a kind that may hold itself is not terminal
        known = all(
            kinds is not None and all(is_terminal(k) for k in kinds)
            for kinds in map(_concrete_kinds, _field_annotations(kind).values())
        )
        _TERMINAL[kind] = known
    return known


def _field_annotations(kind: type) -> dict[str, Any]:
    if not dataclasses.is_dataclass(kind):
        return {"": None}  # unknown: not terminal
    return {field.name: field.type for field in dataclasses.fields(kind)}


def field_kinds(kind: type, name: str) -> list[type] | None:
    """The node kinds field ``name`` of ``kind`` may hold, or None when unknown."""
    annotations = _field_annotations(kind)
    if name not in annotations:
        return None
    return _concrete_kinds(annotations[name])


def node_kinds() -> list[type[cst.CSTNode]]:
    """Every concrete node kind LibCST exports."""
    return [
        kind
        for kind in vars(cst).values()
        if isinstance(kind, type) and is_node_type(kind) and not inspect.isabstract(kind)
    ]


def kinds_inside(kind: type) -> frozenset[type] | None:
    """Every node kind that may occur inside a node of terminal ``kind`` (at any depth);
    None for a kind that is not terminal."""
    if not is_terminal(kind):
        return None
    known = _INSIDE.get(kind)
    if known is None:
        inside: set[type] = set()
        for annotation in _field_annotations(kind).values():
            for held in _concrete_kinds(annotation) or ():
                inside.add(held)
                inside |= kinds_inside(held) or frozenset()
        known = _INSIDE[kind] = frozenset(inside)
    return known
