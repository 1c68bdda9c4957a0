"""Per-file facts about classes and how they reach each other, for the manager
coupling graph (:mod:`integ_lint.model.coupling`).

The collector records, without knowing which classes are managers (that is
configuration, applied in the project phase):

* every class with its bases resolved through import aliases, and the attribute types
  it declares (class-level annotations, ``self.x: X = ...``, ``@property`` return
  annotations);
* every ``self.x = <value>`` assignment in a method, where the value is a construction
  ``X(...)``, a parameter, or an attribute chain off ``self``/a parameter/a local;
* every maximal attribute chain rooted at ``self``, a parameter or a local variable
  (``self.trainer.metrics_manager.global_timestep``) with its site;
* every call that passes ``self`` as an argument (``TrainingLoopManager(trainer=self)``);
* the names the file imports, with their sites.

Type references are strings: the qualified name an import alias resolves to
(``trainer_app.training.step_manager.StepManager``), or ``<module>.<Name>`` for a name
defined (or not found) in the file itself. The project phase resolves them against the
class table, following package re-exports. The records themselves are in
:mod:`integ_lint.facts.manager_records` (re-exported here).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from sys import intern
from typing import Any, NamedTuple

import libcst as cst

from integ_lint.facts.collector import FactCollector
from integ_lint.facts.context import FileContext, dotted_name
from integ_lint.facts.manager_records import (
    ANNOTATED,
    MANAGERS_KEY,
    NEW,
    PARAM,
    SELF,
    AttrAssign,
    Chain,
    ClassFact,
    ImportedName,
    ManagerFacts,
    Root,
    SelfPass,
)
from integ_lint.facts.syntax import MarkedBlocks

_WRAPPERS = {"Optional", "Union", "Final", "ClassVar", "Annotated", "ReadOnly", "Required"}


__all__ = [
    "ANNOTATED",
    "MANAGERS_KEY",
    "NEW",
    "PARAM",
    "SELF",
    "AttrAssign",
    "Chain",
    "ClassFact",
    "ImportedName",
    "ManagerFactCollector",
    "ManagerFacts",
    "Root",
    "SelfPass",
]


@dataclass
class _Frame:
    owner: str  # class qualname whose instance ``self`` is ("" when none)
    self_name: str
    params: dict[str, tuple[str, ...]] = field(default_factory=dict)
    locals: dict[str, tuple[Root, tuple[str, ...]]] = field(default_factory=dict)


class _Pos(NamedTuple):
    """Where a record's site is, resolved in :meth:`ManagerFactCollector.collect`
    (positions are computed once per file, only when something was recorded). A
    tuple: one is made for most attribute chains and calls of a file."""

    node: cst.CSTNode
    scope: str


@dataclass
class _ClassState:
    qualname: str
    bases: tuple[str, ...]
    pos: _Pos
    attr_types: dict[str, tuple[str, ...]] = field(default_factory=dict)


class ManagerFactCollector(FactCollector):
    """Collects :class:`ManagerFacts` for one file."""

    KEY = MANAGERS_KEY

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._stack: list[tuple[str, _ClassState | _Frame]] = []
        self._classes: list[_ClassState] = []
        # records waiting for their site: (build(*site fields) -> record, position)
        self._assigns: list[tuple[Callable[..., AttrAssign], _Pos]] = []
        self._chains: list[tuple[Callable[..., Chain], _Pos]] = []
        self._self_passes: list[tuple[Callable[..., SelfPass], _Pos]] = []
        self._imports: list[tuple[Callable[..., ImportedName], _Pos]] = []
        self._inner: set[int] = set()
        self._type_checking = MarkedBlocks()
        self._import_depth = 0

    # -- helpers ------------------------------------------------------------------------
    def _pos(self, node: cst.CSTNode) -> _Pos:
        return _Pos(node, self.context.scope)

    def _ref(self, node: cst.BaseExpression) -> str | None:
        dotted = dotted_name(node)
        if not dotted:
            return None
        resolved = self.context.resolve(node)
        if resolved:
            return resolved
        module = self.context.module
        return f"{module}.{dotted}" if module else dotted

    def _annotation_refs(self, node: cst.BaseExpression | None, depth: int = 0) -> tuple[str, ...]:
        if node is None or depth > 5:
            return ()
        if type(node) is cst.SimpleString:
            text = node.evaluated_value
            if not isinstance(text, str):
                return ()
            try:
                parsed = cst.parse_expression(text)
            except Exception:
                return ()
            return self._annotation_refs(parsed, depth + 1)
        if type(node) is cst.BinaryOperation and type(node.operator) is cst.BitOr:
            return self._annotation_refs(node.left, depth + 1) + self._annotation_refs(
                node.right, depth + 1
            )
        if type(node) is cst.Subscript:
            head = dotted_name(node.value) or ""
            if head.rsplit(".", 1)[-1] not in _WRAPPERS:
                return ()
            refs: tuple[str, ...] = ()
            for element in node.slice:
                if isinstance(element.slice, cst.Index):
                    refs += self._annotation_refs(element.slice.value, depth + 1)
                if head.endswith("Annotated"):
                    break
            return refs
        if isinstance(node, (cst.Name, cst.Attribute)):
            if isinstance(node, cst.Name) and node.value == "None":
                return ()
            ref = self._ref(node)
            return (ref,) if ref else ()
        return ()

    def _frame(self) -> _Frame | None:
        for kind, item in reversed(self._stack):
            if kind == "func":
                assert isinstance(item, _Frame)
                return item
        return None

    def _class(self) -> _ClassState | None:
        """The class whose body directly encloses the current node."""
        if self._stack and self._stack[-1][0] == "class":
            item = self._stack[-1][1]
            assert isinstance(item, _ClassState)
            return item
        return None

    def _lookup(self, name: str) -> tuple[Root, tuple[str, ...]] | None:
        """What a bare name refers to in the enclosing functions (innermost first)."""
        for kind, item in reversed(self._stack):
            if kind != "func":
                continue
            assert isinstance(item, _Frame)
            if name in item.locals:
                return item.locals[name]
            if name == item.self_name and item.owner:
                return Root(SELF, name), ()
            if name in item.params:
                return Root(PARAM, name, item.params[name]), ()
        return None

    def _value(self, node: cst.BaseExpression) -> tuple[Root, tuple[str, ...]] | None:
        """(root, attrs) of a value expression: a construction or a chain."""
        if type(node) is cst.Call:
            dotted = dotted_name(node.func)
            ref = self._ref(node.func)
            if (
                ref is not None
                and dotted is not None
                and self._lookup(dotted.split(".")[0]) is None
            ):
                return Root(NEW, "", (ref,)), ()  # not a method call on self/param/local
            return None
        dotted = dotted_name(node)
        if not dotted:
            return None
        head, *rest = dotted.split(".")
        bound = self._lookup(head)
        if bound is None:
            return None
        root, attrs = bound
        return root, attrs + tuple(rest)

    # -- classes and functions ------------------------------------------------------------
    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        scope = self.context.scope
        qualname = f"{scope}.{node.name.value}" if scope else node.name.value
        bases = tuple(
            ref for arg in node.bases if arg.keyword is None and (ref := self._ref(arg.value))
        )
        state = _ClassState(qualname, bases, self._pos(node.name))
        self._classes.append(state)
        self._stack.append(("class", state))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._stack.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        enclosing_class = self._class()
        outer = self._frame()
        decorators = {dotted_name(d.decorator) for d in node.decorators}
        params = [*node.params.posonly_params, *node.params.params]
        self_name = ""
        owner = ""
        if enclosing_class is not None:
            owner = enclosing_class.qualname
            if "staticmethod" not in decorators and "classmethod" not in decorators and params:
                self_name = params[0].name.value
            if "property" in decorators or "functools.cached_property" in decorators:
                refs = self._annotation_refs(node.returns.annotation if node.returns else None)
                if refs:
                    enclosing_class.attr_types.setdefault(node.name.value, refs)
            if "cached_property" in decorators:
                refs = self._annotation_refs(node.returns.annotation if node.returns else None)
                if refs:
                    enclosing_class.attr_types.setdefault(node.name.value, refs)
        elif outer is not None:
            owner, self_name = outer.owner, outer.self_name
        frame = _Frame(owner=owner, self_name=self_name)
        all_params = [*params, *node.params.kwonly_params]
        for extra in (node.params.star_arg, node.params.star_kwarg):
            if type(extra) is cst.Param:
                all_params.append(extra)
        for param in all_params:
            name = param.name.value
            if name == self_name and enclosing_class is not None:
                continue
            is_star = param is node.params.star_arg or param is node.params.star_kwarg
            refs = (
                ()
                if is_star
                else self._annotation_refs(
                    param.annotation.annotation if param.annotation else None
                )
            )
            frame.params[name] = refs
        self._stack.append(("func", frame))

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._stack.pop()

    # -- assignments ------------------------------------------------------------------------
    def _self_attr(self, target: cst.BaseExpression) -> str | None:
        frame = self._frame()
        if (
            frame is not None
            and frame.self_name
            and isinstance(target, cst.Attribute)
            and isinstance(target.value, cst.Name)
            and target.value.value == frame.self_name
            and self._lookup(frame.self_name) == (Root(SELF, frame.self_name), ())
        ):
            return target.attr.value
        return None

    def visit_Assign(self, node: cst.Assign) -> None:
        frame = self._frame()
        if frame is None:
            return
        value = self._value(node.value)
        for target in node.targets:
            self._bind(target.target, value, node)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        refs = self._annotation_refs(node.annotation.annotation)
        cls = self._class()
        if cls is not None and isinstance(node.target, cst.Name):
            if refs:
                cls.attr_types.setdefault(node.target.value, refs)
            return
        frame = self._frame()
        if frame is None:
            return
        attr = self._self_attr(node.target)
        if attr is not None and refs:
            owner_state = self._owner_state(frame.owner)
            if owner_state is not None:
                owner_state.attr_types.setdefault(attr, refs)
        if attr is not None:
            # a declaration: its type is recorded above; only a chain value is a use
            value = self._value(node.value) if node.value is not None else None
            if value is not None:
                self._bind(node.target, value, node)
            return
        value = self._value(node.value) if node.value is not None else None
        if value is None and refs:
            value = (Root(ANNOTATED, "", refs), ())
        self._bind(node.target, value, node)

    def _owner_state(self, owner: str) -> _ClassState | None:
        for state in reversed(self._classes):
            if state.qualname == owner:
                return state
        return None

    def _bind(
        self,
        target: cst.BaseExpression,
        value: tuple[Root, tuple[str, ...]] | None,
        node: cst.CSTNode,
    ) -> None:
        frame = self._frame()
        if frame is None:
            return
        attr = self._self_attr(target)
        if attr is not None:
            if value is not None:
                pos = self._pos(node)
                root, attrs = value
                assign = partial(AttrAssign, owner=frame.owner, attr=attr, root=root, attrs=attrs)
                self._assigns.append((assign, pos))
            return
        if isinstance(target, cst.Name):
            if value is None:
                frame.locals.pop(target.value, None)
            else:
                frame.locals[target.value] = value

    # -- chains and calls -----------------------------------------------------------------------
    def visit_Attribute(self, node: cst.Attribute) -> None:
        if id(node) in self._inner or self._import_depth:
            return
        # Outside a function the chain's inner attributes, visited next, are outside
        # one too: nothing to mark.
        frame = self._frame()
        if frame is None:
            return
        inner: cst.BaseExpression = node.value
        while type(inner) is cst.Attribute:
            self._inner.add(id(inner))
            inner = inner.value
        dotted = dotted_name(node)
        if not dotted:
            return
        head, *rest = dotted.split(".")
        bound = self._lookup(head)
        if bound is None:
            return
        root, prefix = bound
        attrs = prefix + tuple(rest)
        if root.kind == SELF and len(attrs) < 2:
            return  # ``self.x`` alone reaches nothing beyond the class itself
        via_local = head in frame.locals or _is_outer_local(self._stack, head)
        chain = partial(Chain, owner=frame.owner, root=root, attrs=attrs, via_local=via_local)
        self._chains.append((chain, self._pos(node)))

    def visit_Call(self, node: cst.Call) -> None:
        func = dotted_name(node.func)
        if not func:
            return
        frame = self._frame()
        if frame is None or not frame.self_name:
            return
        pos = self._pos(node)
        for arg in node.args:
            if not (type(arg.value) is cst.Name and arg.value.value == frame.self_name):
                continue
            if self._lookup(frame.self_name) != (Root(SELF, frame.self_name), ()):
                continue
            keyword = arg.keyword.value if arg.keyword is not None else ""
            dotted = dotted_name(node.func)
            if not dotted or self._lookup(dotted.split(".")[0]) is not None:
                continue  # a method call, not a construction
            ref = self._ref(node.func)
            if ref:
                self_pass = partial(SelfPass, owner=frame.owner, callee=ref, keyword=keyword)
                self._self_passes.append((self_pass, pos))

    # -- imports -------------------------------------------------------------------------------
    def visit_If(self, node: cst.If) -> None:
        test = dotted_name(node.test)
        if test in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            self._type_checking.mark(node.body)

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self._type_checking.enter(node)

    def leave_IndentedBlock(self, original_node: cst.IndentedBlock) -> None:
        self._type_checking.leave(original_node)

    def visit_Import(self, node: cst.Import) -> None:
        self._import_depth += 1
        pos = self._pos(node)
        for alias in node.names:
            dotted = dotted_name(alias.name)
            if dotted:
                self._add_import(dotted, pos)

    def leave_Import(self, original_node: cst.Import) -> None:
        self._import_depth -= 1

    def leave_ImportFrom(self, original_node: cst.ImportFrom) -> None:
        self._import_depth -= 1

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self._import_depth += 1
        pos = self._pos(node)
        if isinstance(node.names, cst.ImportStar):
            return
        base = self.context.aliases.absolute(
            len(node.relative), dotted_name(node.module) if node.module else None
        )
        for alias in node.names:
            imported = dotted_name(alias.name)
            if imported:
                self._add_import(f"{base}.{imported}" if base else imported, pos)

    def _add_import(self, target: str, pos: _Pos) -> None:
        """An import of ``target`` (a module or a qualified name) at ``pos``."""
        type_checking = self._type_checking.depth > 0
        self._imports.append(
            (partial(ImportedName, target=target, type_checking=type_checking), pos)
        )

    # -- sites ---------------------------------------------------------------------------------
    def collect(self) -> ManagerFacts:
        def site(pos: _Pos) -> tuple[int, int, int, int, str, str]:
            """The fields of the record's :class:`Site`, flat (see manager_records)."""
            start_line, start_col, end_line, end_col = self.context.positions.range_of(pos.node)
            # Interned: the records of one scope then hold one string, pickled once.
            scope = intern(pos.scope)
            snippet = self.context.snippet(pos.node)
            return start_line, start_col + 1, end_line, end_col + 1, scope, snippet

        def built(records: list[tuple[Callable[..., Any], _Pos]]) -> tuple[Any, ...]:
            return tuple(build(*site(pos)) for build, pos in records)

        return ManagerFacts(
            module=self.context.module,
            classes=tuple(
                ClassFact(
                    *site(c.pos),
                    c.qualname,
                    c.bases,
                    attr_types=tuple(sorted(c.attr_types.items())),
                )
                for c in self._classes
            ),
            assigns=built(self._assigns),
            chains=built(self._chains),
            self_passes=built(self._self_passes),
            imports=built(self._imports),
            aliases=tuple(sorted(self.context.aliases.names.items())),
        )


def _is_outer_local(stack: list[tuple[str, _ClassState | _Frame]], name: str) -> bool:
    for kind, item in reversed(stack):
        if kind == "func" and isinstance(item, _Frame):
            if name in item.locals:
                return True
            if name in item.params or name == item.self_name:
                return False
    return False
