"""What a per-file rule or fact collector knows about the file it is visiting."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import libcst as cst
from libcst.metadata import MetadataWrapper

from integ_lint.config.loader import Config
from integ_lint.config.roles import Role, classify, role_paths
from integ_lint.facts.positions import NodePositions
from integ_lint.findings.model import RelatedLocation, Severity, Span


class ReportingRule(Protocol):
    """What a pending finding needs of the file rule that reported it (the rule API's
    ``FileRule``; a protocol, so that this module does not import the rule API)."""

    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]


@dataclass
class PendingFinding:
    """A finding reported during traversal, before positions and fingerprints exist."""

    rule: type[ReportingRule]
    node: cst.CSTNode
    message: str
    scope: str
    replacement: cst.CSTNode | cst.RemovalSentinel | None = None
    fix_description: str = ""
    related: tuple[RelatedLocation, ...] = ()
    properties: tuple[tuple[str, Any], ...] = ()


def names_imported(node: cst.ImportFrom) -> Iterator[tuple[str, str]]:
    """``(imported, local)`` for each name of ``from m import a, b as c`` (nothing for
    a star import): ``("a", "a")``, ``("b", "c")``."""
    if isinstance(node.names, cst.ImportStar):
        return
    for alias in node.names:
        imported = dotted_name(alias.name)
        if not imported:
            continue
        local = imported
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            local = alias.asname.name.value
        yield imported, local


def modules_imported(node: cst.Import) -> Iterator[tuple[str, str | None]]:
    """``(module, alias)`` for each module of ``import a.b, c as d``: ``("a.b", None)``,
    ``("c", "d")``."""
    for alias in node.names:
        module = dotted_name(alias.name)
        if not module:
            continue
        if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
            yield module, alias.asname.name.value
        else:
            yield module, None


@dataclass
class ImportAliases:
    """Local names bound by imports in a file, mapped to what they refer to.

    ``import asyncio as aio`` binds ``aio -> asyncio``; ``from asyncio import run as
    arun`` binds ``arun -> asyncio.run``. Scoping is ignored on purpose: a name
    imported inside a function resolves everywhere after it, which is what rules want
    for aliases and costs no scope analysis.
    """

    module: str
    is_package: bool
    names: dict[str, str] = field(default_factory=dict)

    def absolute(self, relative_level: int, module: str | None) -> str:
        """Resolve ``from .. import`` style module references against this file."""
        if not relative_level:
            return module or ""
        parts = self.module.split(".") if self.module else []
        if not self.is_package:
            parts = parts[:-1]
        if relative_level > 1:
            parts = (
                parts[: len(parts) - (relative_level - 1)]
                if relative_level - 1 <= len(parts)
                else []
            )
        base = ".".join(parts)
        if module:
            return f"{base}.{module}" if base else module
        return base

    def record_import(self, node: cst.Import) -> None:
        for dotted, local in modules_imported(node):
            if local is not None:
                self.names[local] = dotted
            else:
                top = dotted.split(".")[0]
                self.names[top] = top

    def record_import_from(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        base = self.absolute(len(node.relative), dotted_name(node.module) if node.module else None)
        for imported, local in names_imported(node):
            self.names[local] = f"{base}.{imported}" if base else imported

    def resolve(self, node: cst.BaseExpression) -> str | None:
        """The qualified name of a ``Name`` / ``Attribute`` chain whose base is an
        imported name (``aio.run`` -> ``asyncio.run``), else None."""
        dotted = dotted_name(node)
        if not dotted:
            return None
        head, _, rest = dotted.partition(".")
        target = self.names.get(head)
        if target is None:
            return None
        return f"{target}.{rest}" if rest else target


def is_main_guard(test: cst.BaseExpression) -> bool:
    """Whether ``test`` is ``__name__ == "__main__"`` (either way round): the body runs
    only when the module is executed as a script, never when it is imported."""
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    target = test.comparisons[0]
    if not isinstance(target.operator, cst.Equal):
        return False
    sides = [test.left, target.comparator]
    names = [s for s in sides if isinstance(s, cst.Name) and s.value == "__name__"]
    strings = [
        s
        for s in sides
        if isinstance(s, cst.SimpleString) and s.evaluated_value in ("__main__", b"__main__")
    ]
    return len(names) == 1 and len(strings) == 1


def dotted_name(node: cst.CSTNode | None) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    # Types by identity (these classes have no subclasses): CSTNode is an ABC, whose
    # isinstance is slow, and this runs for most names of every file.
    kind = type(node)
    if kind is cst.Name:
        return node.value  # type: ignore[union-attr]
    if kind is cst.Attribute:
        value = node.value  # type: ignore[union-attr]
        if type(value) is cst.Name:  # ``a.b``, most chains: no list to join
            return f"{value.value}.{node.attr.value}"  # type: ignore[union-attr]
    parts: list[str] = []
    while kind is cst.Attribute:
        parts.append(node.attr.value)  # type: ignore[union-attr]
        node = node.value  # type: ignore[union-attr]
        kind = type(node)
    if kind is cst.Name:
        parts.append(node.value)  # type: ignore[union-attr]
        return ".".join(reversed(parts))
    return None


class FileContext:
    """Per-file state shared by the rules and collectors of one traversal."""

    def __init__(
        self,
        *,
        relpath: str,
        module: str,
        is_package_init: bool,
        source: str,
        tree: cst.Module,
        wrapper: MetadataWrapper,
        config: Config,
        role: str | None = None,
    ) -> None:
        self.relpath = relpath
        self.module = module
        self.is_package_init = is_package_init
        self.source = source
        self.tree = tree
        self.config = config
        self.aliases = ImportAliases(module=module, is_package=is_package_init)
        self.pending: list[PendingFinding] = []
        self._wrapper = wrapper
        self._positions: NodePositions | None = None
        # The nodes the engine's walk has visited, in order, when it records them: the
        # positions then come from CPython's ast where they can (positions.py).
        self.visited: list[cst.CSTNode] | None = None
        self._scope_stack: list[str] = []
        # Each enclosing scope's qualified name, outermost first: ``scope`` is read for
        # most calls and attributes of a file (every collector's sites), a scope is
        # entered once per class or function, so the name is joined there.
        self._scopes: list[str] = [""]
        self.scope = ""
        """Qualified name of the enclosing class/function (``""`` at module level)."""
        self._role = role

    # -- scope -----------------------------------------------------------------
    @property
    def scope_stack(self) -> Sequence[str]:
        return tuple(self._scope_stack)

    def push_scope(self, name: str) -> None:
        self._scope_stack.append(name)
        scope = f"{self.scope}.{name}" if self._scope_stack[1:] else name
        self._scopes.append(scope)
        self.scope = scope

    def pop_scope(self) -> None:
        self._scope_stack.pop()
        self._scopes.pop()
        self.scope = self._scopes[-1]

    # -- names -----------------------------------------------------------------
    def resolve(self, node: cst.BaseExpression) -> str | None:
        return self.aliases.resolve(node)

    def imports(self, prefix: str) -> bool:
        """Whether the file imports ``prefix`` or anything under it."""
        return any(v == prefix or v.startswith(prefix + ".") for v in self.aliases.names.values())

    # -- paths and roles -------------------------------------------------------
    @property
    def role(self) -> str:
        """The file's role (integ_lint.config.roles): ``library``, ``test``, ``script``, ..."""
        if self._role is None:
            self._role = classify(self.relpath, role_paths(self.config.general), self.source)
        return self._role

    @property
    def is_test(self) -> bool:
        return self.role == Role.TEST

    @property
    def is_script(self) -> bool:
        """An entry point or an example: run as a program, not imported."""
        return self.role in (Role.SCRIPT, Role.EXAMPLE)

    # -- positions (computed lazily, once per file, see positions.py) ----------
    @property
    def positions(self) -> NodePositions:
        if self._positions is None:
            self._positions = NodePositions(self.tree, self.source, self.visited)
        return self._positions

    def positions_consistent(self) -> bool:
        """Whether every range given so far is right: False only when some came from
        a CPython syntax tree that turned out not to match (positions.AstPositions)."""
        positions = self._positions
        return positions is None or positions.from_ast is None or positions.from_ast.consistent()

    def span(self, node: cst.CSTNode) -> Span:
        start_line, start_col, end_line, end_col = self.positions.range_of(node)
        return Span(start_line, start_col + 1, end_line, end_col + 1)

    def code_for(self, node: cst.CSTNode) -> str:
        return self.tree.code_for_node(node)

    def snippet(self, node: cst.CSTNode, limit: int = 200) -> str:
        """Whitespace-normalised source of ``node``, for fingerprints."""
        # Sliced from the positions' generated code (most snippets are asked for nodes
        # whose span was asked too); generated again only for a node not in the tree.
        snippet = self.positions.snippet(node, limit)
        if snippet is None:
            return " ".join(self.code_for(node).split())[:limit]
        return snippet
