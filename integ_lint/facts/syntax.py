"""Walking LibCST trees read-only: a node's direct children and the fields they come
from, learnt once per node type. LibCST's own ``children`` and ``visit`` rebuild and
re-validate every node (they are made for transforms); the engine's one traversal and
the collectors that walk a subtree use these instead. Also: how deep a walk is inside
blocks a collector marked (``MarkedBlocks``)."""

from __future__ import annotations

from collections.abc import Callable

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
    for name in fields:
        value = getattr(node, name)
        value_type = type(value)
        if value_type is tuple or value_type is list:
            children.extend(value)
        elif value is not None and is_node_type(value_type):
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
