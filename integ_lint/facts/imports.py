"""Import facts: every import of a file as a small picklable record.

The collector records what the file says, resolved only as far as the file alone
allows (relative imports against the file's own package). Whether ``from pkg import
name`` imports the submodule ``pkg.name`` needs the module table, so it is decided
later, in :mod:`integ_lint.model.import_graph`. The records themselves are in
:mod:`integ_lint.facts.import_records` (re-exported here).
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from integ_lint.facts.collector import FactCollector
from integ_lint.facts.context import FileContext, dotted_name, is_main_guard
from integ_lint.facts.import_records import IMPORTS_KEY, ImportFactsValue, ImportRecord
from integ_lint.findings.model import Site

_IMPORT_ERRORS = frozenset({"ImportError", "ModuleNotFoundError"})
_DYNAMIC_FUNCTIONS = frozenset({"importlib.import_module", "__import__", "builtins.__import__"})
_DYNAMIC_LAST_NAMES = frozenset(name.rpartition(".")[2] for name in _DYNAMIC_FUNCTIONS)

__all__ = ["IMPORTS_KEY", "ImportFacts", "ImportFactsValue", "ImportRecord"]


@dataclass
class _Pending:
    node: cst.CSTNode
    module: str
    names: tuple[str, ...]
    level: int
    scope: str
    lazy: bool
    type_checking: bool
    guarded: bool
    dynamic: bool


def _is_type_checking(test: cst.BaseExpression, context: FileContext) -> bool:
    name = dotted_name(test)
    if name is None:
        return False
    if name in ("TYPE_CHECKING", "typing.TYPE_CHECKING", "typing_extensions.TYPE_CHECKING"):
        return True
    return context.resolve(test) in ("typing.TYPE_CHECKING", "typing_extensions.TYPE_CHECKING")


def _catches_import_error(handler: cst.ExceptHandler) -> bool:
    if handler.type is None:
        return True  # a bare except also guards the import
    types: list[cst.BaseExpression] = []
    if isinstance(handler.type, cst.Tuple):
        types = [element.value for element in handler.type.elements]
    else:
        types = [handler.type]
    for expression in types:
        name = dotted_name(expression)
        if name and name.split(".")[-1] in (*_IMPORT_ERRORS, "Exception", "BaseException"):
            return True
    return False


def _literal_string(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return value if isinstance(value, str) else None
    return None


class ImportFacts(FactCollector):
    """Collects :class:`ImportRecord` s for every import in a file."""

    KEY = IMPORTS_KEY

    def __init__(self, context: FileContext) -> None:
        super().__init__(context)
        self._function_depth = 0
        self._script_depth = 0
        self._type_checking_depth = 0
        self._guarded_depth = 0
        self._pending: list[_Pending] = []
        self._all_names: tuple[str, ...] | None = None

    # -- context tracking -------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._function_depth += 1

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._function_depth -= 1

    def visit_If_body(self, node: cst.If) -> None:
        if _is_type_checking(node.test, self.context):
            self._type_checking_depth += 1
        elif is_main_guard(node.test):
            self._script_depth += 1

    def leave_If_body(self, node: cst.If) -> None:
        if _is_type_checking(node.test, self.context):
            self._type_checking_depth -= 1
        elif is_main_guard(node.test):
            self._script_depth -= 1

    def visit_Try_body(self, node: cst.Try) -> None:
        if any(_catches_import_error(h) for h in node.handlers):
            self._guarded_depth += 1

    def leave_Try_body(self, node: cst.Try) -> None:
        if any(_catches_import_error(h) for h in node.handlers):
            self._guarded_depth -= 1

    def _add(
        self,
        node: cst.CSTNode,
        module: str,
        names: tuple[str, ...],
        level: int,
        dynamic: bool = False,
    ) -> None:
        self._pending.append(
            _Pending(
                node=node,
                module=module,
                names=names,
                level=level,
                scope=self.context.scope,
                lazy=self._function_depth > 0 or self._script_depth > 0,
                type_checking=self._type_checking_depth > 0,
                guarded=self._guarded_depth > 0,
                dynamic=dynamic,
            )
        )

    # -- imports ----------------------------------------------------------------------
    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            name = dotted_name(alias.name)
            if name:
                self._add(node, name, (), 0)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        level = len(node.relative)
        module_name = dotted_name(node.module) if node.module is not None else None
        if node.module is not None and module_name is None:
            return
        base = self.context.aliases.absolute(level, module_name)
        if level and not base and not module_name:
            return  # ``from . import x`` above the top of the tree: nothing to resolve
        if isinstance(node.names, cst.ImportStar):
            names: tuple[str, ...] = ("*",)
        else:
            names = tuple(n for n in (dotted_name(a.name) for a in node.names) if n)
        if base == "__future__":
            return
        self._add(node, base, names, level)

    def visit_Call(self, node: cst.Call) -> None:
        function = dotted_name(node.func)
        if function is None:
            return
        _, dot, last = function.rpartition(".")
        if dot and last not in _DYNAMIC_LAST_NAMES:
            return  # an import resolves the head only: ``x.y.get()`` stays a ``get``
        qualified = self.context.resolve(node.func) or function
        if qualified not in _DYNAMIC_FUNCTIONS and function != "__import__":
            return
        if not node.args or node.args[0].keyword is not None:
            return
        name = _literal_string(node.args[0].value)
        if not name:
            return
        level = len(name) - len(name.lstrip("."))
        if level:
            if qualified != "importlib.import_module":
                return  # __import__ takes ``level=``; relative __import__ is rare
            package: str | None = None
            for arg in node.args[1:]:
                if arg.keyword is None or arg.keyword.value == "package":
                    package = _literal_string(arg.value)
                    break
            if not package:
                return
            parts = package.split(".")
            if level - 1 > len(parts) - 1:
                return
            base = ".".join(parts[: len(parts) - (level - 1)])
            rest = name[level:]
            name = f"{base}.{rest}" if rest else base
        if not all(part.isidentifier() for part in name.split(".")):
            return
        self._add(node, name, (), level, dynamic=True)

    def visit_Assign(self, node: cst.Assign) -> None:
        if self._function_depth or len(node.targets) != 1:
            return
        target = node.targets[0].target
        if not (isinstance(target, cst.Name) and target.value == "__all__"):
            return
        if isinstance(node.value, (cst.List, cst.Tuple)):
            values = [
                _literal_string(e.value) for e in node.value.elements if isinstance(e, cst.Element)
            ]
            if all(v is not None for v in values):
                self._all_names = tuple(v for v in values if v is not None)

    def collect(self) -> ImportFactsValue:
        records = []
        for p in self._pending:
            span = self.context.span(p.node)
            records.append(
                ImportRecord(
                    module=p.module,
                    names=p.names,
                    site=Site(
                        span=span,
                        scope=p.scope,
                        snippet=self.context.snippet(p.node),
                    ),
                    level=p.level,
                    lazy=p.lazy,
                    type_checking=p.type_checking,
                    guarded=p.guarded,
                    dynamic=p.dynamic,
                )
            )
        return ImportFactsValue(imports=tuple(records), all_names=self._all_names)
