"""The per-file phase: read, decode, parse once, run every file rule and fact collector
in one traversal, and return a small picklable :class:`FileResult`."""

from __future__ import annotations

import ast
import functools
import gc
import sys
import traceback
import warnings
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path
from typing import Any

import libcst as cst
from libcst.metadata import MetadataWrapper

from integ_lint.config.loader import Config
from integ_lint.engine import node_init
from integ_lint.engine.discovery import SourceFile
from integ_lint.engine.results import FileResult
from integ_lint.facts.collector import visitor_method_names
from integ_lint.facts.context import FileContext
from integ_lint.facts.positions import RECORDED_KINDS
from integ_lint.facts.syntax import (
    CHILD_FIELDS,
    NODE_TYPES,
    OPTIONAL_LAST_FIELD,
    SKIPPED_WHEN_NONE,
    child_fields,
    field_kinds,
    is_node_type,
    kinds_inside,
    node_kinds,
)
from integ_lint.files.paths import has_undecodable_bytes
from integ_lint.files.source import (
    FileTooLargeError,
    NotRegularFileError,
    SourceError,
    bracket_depth_problem,
    decode_source,
    max_file_bytes,
    offset_to_position,
    read_regular_file,
)
from integ_lint.findings.model import Finding, Fix, Notification, NotificationKind, Site, Span
from integ_lint.findings.suppressions import parse_suppressions
from integ_lint.rule import FactCollector, FileRule, PendingFinding

# Deeply nested expressions recurse deeply in LibCST's visitors.
_RECURSION_LIMIT = 20_000


VisitorCall = Callable[[cst.CSTNode], Any]


def _visitor_methods(visitor: cst.BatchableCSTVisitor) -> dict[str, VisitorCall]:
    if type(visitor).get_visitors is not cst.BatchableCSTVisitor.get_visitors:
        return dict(visitor.get_visitors())  # a visitor that customises its table
    return {name: getattr(visitor, name) for name in visitor_method_names(type(visitor))}


_Entries = list[tuple[cst.BatchableCSTVisitor, VisitorCall]]
# Closed under containment: these nodes hold only each other.
_WHITESPACE_TYPES: frozenset[type] = frozenset(
    {
        cst.SimpleWhitespace,
        cst.ParenthesizedWhitespace,
        cst.TrailingWhitespace,
        cst.EmptyLine,
        cst.Comment,
        cst.Newline,
    }
)
_WHITESPACE_NAMES = frozenset(kind.__name__ for kind in _WHITESPACE_TYPES)

# What the walk does with a child, per its type (see _Dispatcher._action).
_SKIP, _RECORD, _WALK = 0, 1, 2
# Per node type, how the walk treats it besides its fields.
_IMPORT, _IMPORT_FROM, _SCOPED, _HOOKED = 1, 2, 4, 8


class _KindsLeftOut:
    """The node kinds a :class:`_Pruning` leaves out in one way (never entered, or only
    recorded), judged per kind when first asked: a run that analyses one file meets
    a few dozen of LibCST's 170-odd kinds, and judging every kind up front cost more
    than that file's walk. Iterating judges every kind (tests, never the walk)."""

    def __init__(self, pruning: _Pruning, way: int) -> None:
        self._pruning = pruning
        self._way = way

    def __contains__(self, kind: object) -> bool:
        return self._pruning.left_out(kind) == self._way

    def __iter__(self) -> Iterator[type]:
        return (kind for kind in _exported_kinds() if kind in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)


# How a _Pruning leaves a node kind out: not at all, never entered, only recorded.
_KEPT, _NOT_ENTERED, _ONLY_RECORDED = 0, 1, 2


@functools.cache
def _exported_kinds() -> frozenset[type]:
    """node_kinds(), learnt once."""
    return frozenset(node_kinds())


class _Pruning:
    """What the walk may leave out, for one set of wanted node kinds (learnt once per
    set and shared by every file's dispatcher): the *terminal* kinds (whitespace,
    commas, operators, numbers: nodes that hold only whitespace and each other) that
    no visitor wants and the positions do not number are never entered; the ones the
    positions number but no visitor wants (``Name``, ``SimpleString``) are recorded
    without being entered; a field that can hold only skipped kinds is not read."""

    def __init__(self, wanted: frozenset[str]) -> None:
        self.wanted = wanted
        self.skipped: Collection[type]
        self.recorded: Collection[type]
        if wanted & _WHITESPACE_NAMES:
            # A visitor reads whitespace or comments: every node is walked.
            self.skipped = frozenset()
            self.recorded = frozenset()
        else:
            self.skipped = _KindsLeftOut(self, _NOT_ENTERED)
            self.recorded = _KindsLeftOut(self, _ONLY_RECORDED)
        self._left_out: dict[object, int] = {}  # per kind, as judged
        # Per child type: _SKIP, _RECORD or _WALK (filled in as types are met).
        self.actions: dict[type, int] = {}
        self.fields: dict[type, tuple[str, ...]] = {}  # per node type: the fields read

    def left_out(self, kind: object) -> int:
        """How ``kind`` is left out (_KEPT, _NOT_ENTERED, _ONLY_RECORDED), judged once:
        a terminal kind LibCST exports is left out when no visitor wants it nor any
        kind inside it and the positions number none inside it; only recorded when
        the positions number the kind itself."""
        known = self._left_out.get(kind)
        if known is None:
            known = self._left_out[kind] = self._judge(kind)
        return known

    def _judge(self, kind: object) -> int:
        if not isinstance(self.skipped, _KindsLeftOut) or kind not in _exported_kinds():
            return _KEPT
        assert isinstance(kind, type)
        inside = kinds_inside(kind)
        wanted = self.wanted
        if (
            inside is None
            or kind.__name__ in wanted
            or any(k.__name__ in wanted or k in RECORDED_KINDS for k in inside)
        ):
            return _KEPT
        return _ONLY_RECORDED if kind in RECORDED_KINDS else _NOT_ENTERED

    def action(self, kind: type, hooked: bool) -> int:
        found = NODE_TYPES.get(kind)
        if found is None:
            found = is_node_type(kind)
        if not found or kind in self.skipped:
            return _SKIP
        if kind in self.recorded and not hooked:
            return _RECORD
        return _WALK

    def read_fields(self, kind: type, fields: tuple[str, ...]) -> tuple[str, ...]:
        """``fields`` less those that can hold only skipped kinds."""
        kept = []
        for name in fields:
            kinds = field_kinds(kind, name)
            if kinds is None or not kinds or not all(k in self.skipped for k in kinds):
                kept.append(name)
        return tuple(kept)


_PRUNINGS: dict[frozenset[str], _Pruning] = {}
# Per visitors' method names (a tuple per visitor, in order) and wanted set: what
# _layout makes of them. Every file of a run has the same visitors: learnt once, not
# per file (the set comprehensions cost a third of a dispatcher's making).
_LAYOUTS: dict[
    tuple[tuple[tuple[str, ...], ...], frozenset[str] | None],
    tuple[frozenset[str], _Pruning],
] = {}


def _layout(
    table: dict[str, _Entries], wanted: frozenset[str] | None
) -> tuple[frozenset[str], _Pruning]:
    """The node types with an attribute hook (``visit_If_body``) among ``table``'s
    methods, and the pruning for ``wanted`` (by default, the node types the
    methods name)."""
    hooked = frozenset(name.split("_", 2)[1] for name in table if name.count("_") > 1)
    if wanted is None:
        wanted = frozenset(name.split("_", 2)[1] for name in table)
    pruning = _PRUNINGS.get(wanted)
    if pruning is None:
        pruning = _PRUNINGS[wanted] = _Pruning(wanted)
    return hooked, pruning


class _Dispatcher(cst.CSTVisitor):
    """Runs many visitors in one traversal, keeping scope and import aliases current
    and containing each visitor's exceptions to that visitor and file."""

    def __init__(
        self,
        context: FileContext,
        visitors: Sequence[cst.BatchableCSTVisitor],
        on_failure: Callable[[cst.BatchableCSTVisitor, BaseException], None],
        wanted: frozenset[str] | None = None,
    ) -> None:
        super().__init__()
        self.context = context
        self.on_failure = on_failure
        self.failed: set[int] = set()
        # Every node walked or recorded, in order (the positions match them with
        # CPython's ast).
        self.visited: list[cst.CSTNode] = []
        self._hooked = False  # a subclass overrides on_visit/on_leave (see walk)
        self.table: dict[str, _Entries] = {}
        names: list[tuple[str, ...]] = []  # per visitor, its methods' names
        for visitor in visitors:
            methods = _visitor_methods(visitor)
            names.append(tuple(methods))
            for method_name, method in methods.items():
                entries = self.table.get(method_name)
                if entries is None:
                    self.table[method_name] = [(visitor, method)]
                else:
                    entries.append((visitor, method))
        # Per node type: the (visit, leave) entries, the fields to read and the
        # _IMPORT/_SCOPED/_HOOKED flags, so that the hot path does no string
        # formatting. Attribute hooks (``visit_If_body``) are rare: LibCST announces
        # every attribute of every node, so only the node types that have a hook get
        # past a set lookup.
        self._plans: dict[type, tuple[_Entries, _Entries, tuple[str, ...], int]] = {}
        layout_key = (tuple(names), wanted)
        layout = _LAYOUTS.get(layout_key)
        if layout is None:
            layout = _LAYOUTS[layout_key] = _layout(self.table, wanted)
        self._attribute_hook_types, self._pruning = layout
        pruning = self._pruning
        # Whitespace and comment nodes are half of all nodes, tokens and numbers a
        # quarter of the rest; the walk enters none that no visitor wants.
        self._skipped_types: Collection[type] = pruning.skipped

    def _plan(
        self, kind: type, node: cst.CSTNode
    ) -> tuple[_Entries, _Entries, tuple[str, ...], int]:
        name = kind.__name__
        visit = self.table.get(f"visit_{name}", [])
        leave = self.table.get(f"leave_{name}", [])
        fields = CHILD_FIELDS.get(kind)
        if fields is None:
            fields = child_fields(node)
        flags = 0
        if kind is cst.Import:
            flags |= _IMPORT
        elif kind is cst.ImportFrom:
            flags |= _IMPORT_FROM
        elif kind is cst.FunctionDef or kind is cst.ClassDef:
            flags |= _SCOPED
        if name in self._attribute_hook_types:
            flags |= _HOOKED  # every field read, each announced
        elif self._skipped_types is self._pruning.skipped:
            read = self._pruning.fields.get(kind)
            if read is None:
                read = self._pruning.fields[kind] = self._pruning.read_fields(kind, fields)
            fields = read
        plan = self._plans[kind] = (visit, leave, fields, flags)
        return plan

    def _action(self, kind: type) -> int:
        pruning = self._pruning
        if self._skipped_types is not pruning.skipped or self._hooked:
            # A subclass watching the walk: it sees every node it does not skip.
            found = NODE_TYPES.get(kind)
            if found is None:
                found = is_node_type(kind)
            action = _WALK if found and kind not in self._skipped_types else _SKIP
            self._actions[kind] = action
            return action
        action = pruning.actions[kind] = pruning.action(kind, hooked=False)
        return action

    def _run(self, entries: _Entries, node: cst.CSTNode) -> None:
        for visitor, method in entries:
            if self.failed and id(visitor) in self.failed:
                continue
            try:
                method(node)
            except Exception as exc:
                self.failed.add(id(visitor))
                self.on_failure(visitor, exc)

    def _call(self, method_name: str, node: cst.CSTNode) -> None:
        self._run(self.table.get(method_name, []), node)

    def on_visit(self, node: cst.CSTNode) -> bool:
        """A hook for a subclass that watches the walk (tests): :meth:`walk` itself
        dispatches to the visitors, inline, and calls this first when overridden."""
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        """A hook for a subclass that watches the walk, called after the visitors'
        ``leave_*`` methods when overridden."""

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        name = type(node).__name__
        if name in self._attribute_hook_types:
            self._call(f"visit_{name}_{attribute}", node)

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        name = type(original_node).__name__
        if name in self._attribute_hook_types:
            self._call(f"leave_{name}_{attribute}", original_node)

    def walk(self, node: cst.CSTNode) -> None:
        """``node.visit(self)`` without its cost: LibCST's ``visit`` rebuilds (and
        re-validates) every node on the way back up, machinery made for transforms.
        This read-only walk makes the same visitor and attribute calls in the same
        order (tests/test_speed_cold_walk.py) and builds nothing; it leaves out only
        nodes no visitor can see (see :class:`_Pruning`). The dispatch to the visitors
        is inline; the ``on_visit``/``on_leave`` hooks are called only when a subclass
        overrides them, and it then sees every node but the skipped ones."""
        cls = type(self)
        self._hooked = not (
            cls.on_visit is _Dispatcher.on_visit and cls.on_leave is _Dispatcher.on_leave
        )
        pruning = self._pruning
        self._actions = (
            pruning.actions if self._skipped_types is pruning.skipped and not self._hooked else {}
        )
        self._walk(node)

    def _walk(self, node: cst.CSTNode) -> None:
        visited = self.visited
        visited.append(node)
        hooked = self._hooked
        if hooked:
            self.on_visit(node)
        kind = type(node)
        plan = self._plans.get(kind)
        if plan is None:
            plan = self._plan(kind, node)
        visit, leave, fields, flags = plan
        if flags:
            if flags & _IMPORT:
                self.context.aliases.record_import(node)  # type: ignore[arg-type]
            elif flags & _IMPORT_FROM:
                self.context.aliases.record_import_from(node)  # type: ignore[arg-type]
        if visit:
            failed = self.failed
            for visitor, method in visit:
                if failed and id(visitor) in failed:
                    continue
                try:
                    method(node)
                except Exception as exc:
                    failed.add(id(visitor))
                    self.on_failure(visitor, exc)
        if flags & _SCOPED:
            self.context.push_scope(node.name.value)  # type: ignore[attr-defined]
        if flags & _HOOKED:
            self._walk_announced(node, kind, fields)
        elif fields:
            actions = self._actions
            for name in fields:
                value = getattr(node, name)
                value_type = type(value)
                if value_type is tuple or value_type is list:
                    for child in value:
                        child_type = type(child)
                        action = actions.get(child_type)
                        if action is None:
                            action = self._action(child_type)
                        if action is _WALK:
                            self._walk(child)
                        elif action is _RECORD:
                            visited.append(child)
                    continue
                # One child (or None, a sentinel, a string): no one-element tuple to
                # loop over, as most fields hold one.
                action = actions.get(value_type)
                if action is None:
                    action = self._action(value_type)
                if action is _WALK:
                    self._walk(value)
                elif action is _RECORD:
                    visited.append(value)
        if flags & _SCOPED:
            self.context.pop_scope()
        if leave:
            failed = self.failed
            for visitor, method in leave:
                if failed and id(visitor) in failed:
                    continue
                try:
                    method(node)
                except Exception as exc:
                    failed.add(id(visitor))
                    self.on_failure(visitor, exc)
        if hooked:
            self.on_leave(node)

    def _walk_announced(self, node: cst.CSTNode, kind: type, fields: tuple[str, ...]) -> None:
        """The children of a node whose attributes some visitor hooks: every field,
        each announced before and after, as LibCST's ``visit`` does."""
        for name in fields:
            value = getattr(node, name)
            if value is None and name == OPTIONAL_LAST_FIELD and kind in SKIPPED_WHEN_NONE:
                continue
            self.on_visit_attribute(node, name)
            children = value if type(value) is tuple or type(value) is list else (value,)
            for child in children:
                self._take(child)
            self.on_leave_attribute(node, name)

    def _take(self, child: cst.CSTNode) -> None:
        """Walk or record one child by its type's action (what :meth:`_walk` does
        inline, without this call, for the nodes no visitor announces)."""
        child_type = type(child)
        action = self._actions.get(child_type)
        if action is None:
            action = self._action(child_type)
        if action is _WALK:
            self._walk(child)
        elif action is _RECORD:
            self.visited.append(child)


def bare_walker(context: FileContext, wanted: frozenset[str]) -> _Dispatcher:
    """The engine's walk with no visitor, pruned as for visitors of the node kinds
    ``wanted`` (``If``, ``Call``...): what any analysis over the tree pays before its
    first rule (benchmarks/floor.py). ``walk(tree)``, then ``visited`` holds the
    nodes the positions number."""

    def reraise(visitor: cst.BatchableCSTVisitor, exc: BaseException) -> None:
        raise exc

    return _Dispatcher(context, [], reraise, wanted=wanted)


def analyze_file(
    source_file: SourceFile,
    config: Config,
    file_rules: Sequence[type[FileRule]],
    collectors: Sequence[type[FactCollector]],
) -> FileResult:
    """Analyse one file. Never raises for bad input: problems become notifications."""
    result = FileResult(
        relpath=source_file.relpath,
        module=source_file.module,
        is_package_init=source_file.is_package_init,
    )
    if has_undecodable_bytes(str(source_file.path)):
        message = "file name is not valid UTF-8; reported with \\x escapes, not fixable"
        result.notifications.append(_note(NotificationKind.FILE_NAME, result, message))
    try:
        # Non-blocking, fstat-checked, size-capped (a FIFO or endless device never
        # hangs or exhausts the scan): see source.read_regular_file.
        data = read_regular_file(source_file.path, max_file_bytes(config))
    except FileNotFoundError:
        result.notifications.append(
            _note(NotificationKind.READ_ERROR, result, "file vanished during the scan")
        )
        return result
    except NotRegularFileError:
        message = "not a regular file (a FIFO, device or socket?): not read"
        result.notifications.append(_note(NotificationKind.READ_ERROR, result, message))
        return result
    except FileTooLargeError:
        message = (
            f"file is larger than max-file-size-kb ({config.general.max_file_size_kb} KiB): "
            "not read"
        )
        result.notifications.append(_note(NotificationKind.READ_ERROR, result, message))
        return result
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        result.notifications.append(
            _note(NotificationKind.READ_ERROR, result, f"cannot read file: {reason}")
        )
        return result
    try:
        text = decode_source(data)
    except SourceError as exc:
        result.notifications.append(
            _note(NotificationKind.READ_ERROR, result, exc.message, exc.line, exc.col)
        )
        return result
    result.digest = text.digest
    result.line_count = text.text.count("\n") + (
        0 if text.text.endswith("\n") or not text.text else 1
    )
    previous_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous_limit, _RECURSION_LIMIT))
    # A file's syntax tree is millions of allocations but no reference cycles: the
    # cyclic collector would traverse it (and every earlier file's results) a few
    # times per file for nothing, about a tenth of the run. What cycles a file's
    # analysis leaves are collected after it.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _analyze_text(result, text.text, config, file_rules, collectors)
    finally:
        if collecting:
            gc.enable()
        sys.setrecursionlimit(previous_limit)


def _analyze_text(
    result: FileResult,
    text: str,
    config: Config,
    file_rules: Sequence[type[FileRule]],
    collectors: Sequence[type[FactCollector]],
) -> FileResult:
    too_deep = bracket_depth_problem(text)
    if too_deep is not None:  # before LibCST, whose native parser would crash on it
        reason, deep_line, deep_col = too_deep
        result.notifications.append(
            _note(
                NotificationKind.PARSE_ERROR,
                result,
                f"syntax error: {reason}",
                deep_line,
                deep_col,
            )
        )
        return result
    try:
        tree = _parse_module(text)
    except cst.ParserSyntaxError as exc:
        cpython = _cpython_syntax_error(text)
        if cpython is not None:
            # CPython's parser names the right line and says why (Python 2 code, for
            # example: "Missing parentheses in call to 'print'"); LibCST's often points
            # at the next token.
            message, line, col = cpython
            note = _note(NotificationKind.PARSE_ERROR, result, message, line, col)
        else:
            message = f"syntax error (LibCST's grammar; Python accepts it): {exc.message}"
            note = _note(
                NotificationKind.PARSE_ERROR, result, message, exc.raw_line, exc.raw_column + 1
            )
        result.notifications.append(note)
        return result
    except RecursionError:
        result.notifications.append(
            _note(NotificationKind.PARSE_ERROR, result, "code is nested too deeply to parse")
        )
        return result
    except Exception as exc:  # LibCST raises assorted errors on exotic input
        result.notifications.append(
            _note(
                NotificationKind.PARSE_ERROR, result, f"cannot parse: {type(exc).__name__}: {exc}"
            )
        )
        return result
    result.parsed = True
    result.suppressions = parse_suppressions(text)
    noted = len(result.notifications)
    if _visit(result, text, tree, config, file_rules, collectors, positions_from_ast=True):
        return result
    # Some position came from a CPython syntax tree that does not match LibCST's
    # (positions.AstPositions.consistent): all again, the positions from code generation.
    del result.notifications[noted:]
    result.facts.clear()
    result.findings.clear()
    _visit(result, text, tree, config, file_rules, collectors, positions_from_ast=False)
    return result


def _parse_module(text: str) -> cst.Module:
    """``cst.parse_module`` without LibCST's validation of each node as the parser
    builds it (``CSTNode.__post_init__``, a sixth of the parse): it checks nodes
    that code builds by hand (a Name is an identifier, whitespace is whitespace),
    which the parser's nodes are by construction; LibCST's own comment there says
    as much. It stays on for every other node (a fix's replacement)."""
    node_init.before_parse()
    cst.CSTNode.__post_init__ = _unvalidated  # type: ignore[method-assign]
    try:
        return cst.parse_module(text)
    finally:
        cst.CSTNode.__post_init__ = _VALIDATED  # type: ignore[method-assign]


_VALIDATED = cst.CSTNode.__post_init__


def _unvalidated(self: cst.CSTNode) -> None:
    """A parsed node's ``__post_init__``: nothing to check (see _parse_module)."""


def _visit(
    result: FileResult,
    text: str,
    tree: cst.Module,
    config: Config,
    file_rules: Sequence[type[FileRule]],
    collectors: Sequence[type[FactCollector]],
    *,
    positions_from_ast: bool,
) -> bool:
    """Run the rules and collectors over ``tree`` into ``result``; False when the
    positions given may be wrong (and nothing of this run must be kept)."""
    wrapper = MetadataWrapper(tree, unsafe_skip_copy=True)
    context = FileContext(
        relpath=result.relpath,
        module=result.module,
        is_package_init=result.is_package_init,
        source=text,
        tree=tree,
        wrapper=wrapper,
        config=config,
    )
    visitors: list[cst.BatchableCSTVisitor] = [
        rule(context) for rule in file_rules if rule.applies_to(context)
    ]
    fact_visitors: list[FactCollector] = [collector(context) for collector in collectors]
    all_visitors: list[cst.BatchableCSTVisitor] = [*fact_visitors, *visitors]

    def on_failure(visitor: cst.BatchableCSTVisitor, exc: BaseException) -> None:
        name = getattr(visitor, "code", "") or type(visitor).__name__
        result.notifications.append(_internal_error(result, name, exc))

    dependencies: set[Any] = set()
    for visitor in all_visitors:
        dependencies.update(visitor.get_inherited_dependencies())
    if dependencies:
        try:
            resolved = wrapper.resolve_many(dependencies)
        except Exception as exc:
            result.notifications.append(_internal_error(result, "metadata", exc))
            return True
        for visitor in all_visitors:
            visitor.metadata = {
                k: v for k, v in resolved.items() if k in visitor.get_inherited_dependencies()
            }

    dispatcher = _Dispatcher(context, all_visitors, on_failure)
    if positions_from_ast:
        context.visited = dispatcher.visited
    try:
        dispatcher.walk(tree)
    except RecursionError:
        result.notifications.append(
            _note(NotificationKind.PARSE_ERROR, result, "code is nested too deeply to analyse")
        )
        return True
    for collector in fact_visitors:
        if id(collector) in dispatcher.failed:
            continue
        try:
            result.facts[collector.KEY] = collector.collect()
        except Exception as exc:
            result.notifications.append(_internal_error(result, type(collector).__name__, exc))
    for pending in context.pending:
        try:
            result.findings.append(_complete(pending, context, result.relpath))
        except Exception as exc:
            result.notifications.append(_internal_error(result, pending.rule.code, exc))
    return context.positions_consistent()


def _complete(pending: PendingFinding, context: FileContext, relpath: str) -> Finding:
    span = context.span(pending.node)
    fix = None
    if pending.replacement is not None:
        fix = _make_fix(context, pending, span)
    return Finding(
        code=pending.rule.code,
        rule_name=pending.rule.name,
        severity=pending.rule.severity,
        message=pending.message,
        path=relpath,
        site=Site(span=span, scope=pending.scope, snippet=context.snippet(pending.node)),
        related=pending.related,
        fix=fix,
        properties=pending.properties,
    )


def _make_fix(context: FileContext, pending: PendingFinding, span: Span) -> Fix | None:
    """Turn a node replacement into the smallest text edit that performs it."""
    assert pending.replacement is not None
    new_tree = context.tree.deep_replace(pending.node, pending.replacement)  # type: ignore[type-var]
    assert isinstance(new_tree, cst.Module)
    old, new = context.source, new_tree.code
    if old == new:
        return None
    prefix = 0
    limit = min(len(old), len(new))
    while prefix < limit and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    limit = min(len(old), len(new)) - prefix
    while suffix < limit and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]:
        suffix += 1
    # Lines as the tokenizer counts them ("\r" too), as fixes.py counts them back.
    start = offset_to_position(old, prefix)
    end = offset_to_position(old, len(old) - suffix)
    return Fix(
        description=pending.fix_description or f"apply the {pending.rule.code} fix",
        span=Span(start[0], start[1], end[0], end[1]),
        replacement=new[prefix : len(new) - suffix],
    )


def _cpython_syntax_error(text: str) -> tuple[str, int | None, int | None] | None:
    """CPython's account of a syntax error in ``text`` (message, line, column), or None
    when CPython's parser accepts it. Compiles to an AST only: nothing is executed."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SyntaxWarning: invalid escape sequence...
            compile(text, "<analysed>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as exc:  # also IndentationError, TabError
        line = exc.lineno if exc.lineno and exc.lineno > 0 else None
        col = exc.offset if line and exc.offset and exc.offset > 0 else None
        return f"syntax error: {exc.msg}", line, col
    except (ValueError, RecursionError, MemoryError, OverflowError):
        return None
    return None


def _note(
    kind: NotificationKind,
    result: FileResult,
    message: str,
    line: int | None = None,
    col: int | None = None,
) -> Notification:
    return Notification(kind=kind, message=message, path=result.relpath, line=line, col=col)


def _internal_error(result: FileResult, rule: str, exc: BaseException) -> Notification:
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" at {Path(frame.filename).name}:{frame.lineno}" if frame else ""
    return Notification(
        kind=NotificationKind.INTERNAL_ERROR,
        message=f"internal error in {rule}: {type(exc).__name__}: {exc}{where}",
        path=result.relpath,
        rule=rule,
        level="error",
    )
