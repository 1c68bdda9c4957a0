"""Which rules exist: the built-in pack (``integ_lint.rules``) and third-party packs
registered under the ``integ_lint.rules`` entry point group.

Rules are found by importing the pack's modules and collecting the rule classes they
define, so adding a rule is adding a class. Packs load only from installed entry
points, never from paths named in a scanned project's config.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import entry_points
from types import ModuleType

from integ_lint.config.settings import Section
from integ_lint.rule import AnyRule, FileRule, ProjectRule

ENTRY_POINT_GROUP = "integ_lint.rules"
BUILTIN_PACK = "integ_lint.rules"


class RegistryError(Exception):
    pass


@dataclass
class Registry:
    rules: dict[str, AnyRule] = field(default_factory=dict)
    sections: list[type[Section]] = field(default_factory=list)
    load_errors: list[str] = field(default_factory=list)

    def add_module(self, module: ModuleType) -> None:
        for _, value in inspect.getmembers(module, inspect.isclass):
            if value.__module__ != module.__name__:
                continue
            if issubclass(value, (FileRule, ProjectRule)) and value.code:
                self.add_rule(value)
            elif issubclass(value, Section) and value.TABLE and value not in self.sections:
                self.sections.append(value)

    def add_rule(self, rule: AnyRule) -> None:
        problems = rule.validate_declaration()
        if problems:
            raise RegistryError("; ".join(problems))
        existing = self.rules.get(rule.code)
        if existing is not None and existing is not rule:
            raise RegistryError(
                f"rule code {rule.code} is declared twice: {existing.__module__}.{existing.__qualname__} "
                f"and {rule.__module__}.{rule.__qualname__}"
            )
        self.rules[rule.code] = rule

    @property
    def codes(self) -> list[str]:
        return sorted(self.rules)

    def select(self, select: Sequence[str], ignore: Sequence[str]) -> list[AnyRule]:
        """Rules whose code starts with one of ``select`` and with none of ``ignore``
        (the longer matching prefix wins, as in ruff). An opt-in rule
        (``default_enabled = False``) is chosen only when a selector names its code."""
        chosen = []
        for code in self.codes:
            if not self.rules[code].default_enabled and code not in select:
                continue
            best_select = max((len(s) for s in select if code.startswith(s)), default=-1)
            best_ignore = max((len(s) for s in ignore if code.startswith(s)), default=-1)
            if best_select >= 0 and best_select >= best_ignore:
                chosen.append(self.rules[code])
        return chosen

    def unknown_selectors(self, selectors: Iterable[str]) -> list[str]:
        return [s for s in selectors if not any(code.startswith(s) for code in self.rules)]


def _walk_pack(package_name: str, recursive: bool = False) -> list[ModuleType]:
    """The pack's package and its modules; ``recursive`` also walks its subpackages (the
    built-in pack keeps a large family in a package of its own, ``rules/gpu/``)."""
    package = importlib.import_module(package_name)
    modules = [package]
    walk = pkgutil.walk_packages if recursive else pkgutil.iter_modules
    for info in walk(package.__path__, prefix=package_name + "."):
        modules.append(importlib.import_module(info.name))
    return modules


@lru_cache(maxsize=1)
def load_registry(include_plugins: bool = True) -> Registry:
    registry = Registry()
    for module in _walk_pack(BUILTIN_PACK, recursive=True):
        registry.add_module(module)
    if include_plugins:
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            if entry.value.split(":")[0] == BUILTIN_PACK:
                continue
            try:
                loaded = entry.load()
                if isinstance(loaded, ModuleType):
                    for module in (
                        _walk_pack(loaded.__name__) if hasattr(loaded, "__path__") else [loaded]
                    ):
                        registry.add_module(module)
                elif inspect.isclass(loaded) and issubclass(loaded, (FileRule, ProjectRule)):
                    registry.add_rule(loaded)
                else:
                    for rule in loaded:
                        if not (
                            inspect.isclass(rule) and issubclass(rule, (FileRule, ProjectRule))
                        ):
                            raise RegistryError(f"{rule!r} is not a rule class")
                        registry.add_rule(rule)
            except Exception as exc:
                registry.load_errors.append(
                    f"rule pack {entry.name!r} ({entry.value}) failed to load: {type(exc).__name__}: {exc}"
                )
    return registry
