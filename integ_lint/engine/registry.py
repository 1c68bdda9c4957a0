"""Which rules exist: the built-in pack (``integ_lint.rules``) and third-party packs
registered under the ``integ_lint.rules`` entry point group.

Rules are found by importing the pack's modules and collecting the rule classes they
define, so adding a rule is adding a class. The built-in pack ships a manifest of those
classes (:mod:`integ_lint.engine.manifest`): while it matches the pack's sources, the
registry holds :class:`~integ_lint.engine.manifest.RuleHandle` values that import a
rule only when it must run, so that a run with everything cached imports neither the
pack nor LibCST. Third-party packs are imported, as they ship no manifest. Packs load
only from installed entry points, never from paths named in a scanned project's config.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeGuard

from integ_lint.config.settings import Section
from integ_lint.engine.installed import ENTRY_POINT_GROUP, installed
from integ_lint.engine.manifest import (
    MANIFEST_NAME,
    RuleHandle,
    RuleRef,
    build_manifest,
    current_digest,
    manifest_text,
    read_manifest,
)
from integ_lint.engine.user_files import user_key_file
from integ_lint.files.atomic import write_atomic

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

    from integ_lint.rule import AnyRule

BUILTIN_PACK = "integ_lint.rules"


class RegistryError(Exception):
    pass


def _is_rule_class(value: object) -> TypeGuard[AnyRule]:
    from integ_lint.rule import FileRule, ProjectRule

    return inspect.isclass(value) and issubclass(value, (FileRule, ProjectRule))


@dataclass
class Registry:
    sections: list[type[Section]] = field(default_factory=list)
    load_errors: list[str] = field(default_factory=list)
    # Rules by code: the imported classes, and the manifest's rules not imported yet.
    _classes: dict[str, AnyRule] = field(default_factory=dict)
    _handles: dict[str, RuleHandle] = field(default_factory=dict)

    @property
    def rules(self) -> dict[str, AnyRule]:
        """Every rule class by code. Imports the rules the manifest names (the whole
        built-in pack); :meth:`ref` answers metadata without that."""
        if self._handles:
            for code, handle in sorted(self._handles.items()):
                self._classes[code] = handle.load()  # type: ignore[assignment]
            self._handles.clear()
        return self._classes

    def ref(self, code: str) -> RuleRef:
        """The rule ``code``: its class if imported, else its handle."""
        found = self._classes.get(code)
        return found if found is not None else self._handles[code]

    def add_handles(self, handles: Iterable[RuleHandle]) -> None:
        for handle in handles:
            self._handles[handle.code] = handle

    def add_module(self, module: ModuleType) -> None:
        for _, value in inspect.getmembers(module, inspect.isclass):
            if value.__module__ != module.__name__:
                continue
            if _is_rule_class(value) and value.code:
                self.add_rule(value)
            elif issubclass(value, Section) and value.TABLE and value not in self.sections:
                self.sections.append(value)

    def add_rule(self, rule: AnyRule) -> None:
        problems = rule.validate_declaration()
        if problems:
            raise RegistryError("; ".join(problems))
        handle = self._handles.get(rule.code)
        if handle is not None and (handle.__module__, handle.__qualname__) == (
            rule.__module__,
            rule.__qualname__,
        ):
            del self._handles[rule.code]  # the class the manifest names, now imported
        existing = self._classes.get(rule.code) or self._handles.get(rule.code)
        if existing is not None and existing is not rule:
            raise RegistryError(
                f"rule code {rule.code} is declared twice: {existing.__module__}.{existing.__qualname__} "
                f"and {rule.__module__}.{rule.__qualname__}"
            )
        self._classes[rule.code] = rule

    @property
    def codes(self) -> list[str]:
        return sorted({*self._classes, *self._handles})

    def select(self, select: Sequence[str], ignore: Sequence[str]) -> list[RuleRef]:
        """Rules whose code starts with one of ``select`` and with none of ``ignore``
        (the longer matching prefix wins, as in ruff). An opt-in rule
        (``default_enabled = False``) is chosen only when a selector names its code."""
        chosen = []
        for code in self.codes:
            rule = self.ref(code)
            if not rule.default_enabled and code not in select:
                continue
            best_select = max((len(s) for s in select if code.startswith(s)), default=-1)
            best_ignore = max((len(s) for s in ignore if code.startswith(s)), default=-1)
            if best_select >= 0 and best_select >= best_ignore:
                chosen.append(rule)
        return chosen

    def unknown_selectors(self, selectors: Iterable[str]) -> list[str]:
        codes = self.codes
        return [s for s in selectors if not any(code.startswith(s) for code in codes)]


def _walk_pack(package_name: str, recursive: bool = False) -> list[ModuleType]:
    """The pack's package and its modules; ``recursive`` also walks its subpackages (the
    built-in pack keeps a large family in a package of its own, ``rules/gpu/``)."""
    package = importlib.import_module(package_name)
    modules = [package]
    walk = pkgutil.walk_packages if recursive else pkgutil.iter_modules
    for info in walk(package.__path__, prefix=package_name + "."):
        modules.append(importlib.import_module(info.name))
    return modules


def builtin_pack_dir() -> Path:
    """The built-in pack's folder (its package is only a docstring: cheap to import)."""
    return Path(next(iter(importlib.import_module(BUILTIN_PACK).__path__)))


def import_builtin_pack() -> Registry:
    """The built-in pack, imported (what the manifest is made from)."""
    registry = Registry()
    for module in _walk_pack(BUILTIN_PACK, recursive=True):
        registry.add_module(module)
    return registry


def builtin_manifest() -> tuple[Path, dict[str, Any]]:
    """Where the built-in pack's manifest belongs, and what it should hold (built from
    the imported classes)."""
    registry = import_builtin_pack()
    package_dir = builtin_pack_dir()
    rules = [registry.rules[code] for code in registry.codes]
    data = build_manifest(rules, registry.sections, BUILTIN_PACK, package_dir)
    return package_dir / MANIFEST_NAME, data


def write_manifest() -> Path:
    """Regenerate the built-in pack's manifest from its classes; return its path."""
    path, data = builtin_manifest()
    write_atomic(path, manifest_text(data))  # a reader never sees half a manifest
    return path


def user_manifest_file() -> Path:
    """Where the manifest of a pack whose shipped manifest is stale is kept: the user's
    cache folder (``INTEG_LINT_CACHE_KEY_FILE`` moves it with the key)."""
    return user_key_file().parent / "rule-manifest.json"


def _builtin_handles() -> tuple[list[RuleHandle], list[type]] | None:
    package_dir = builtin_pack_dir()
    digest = current_digest(package_dir)
    return read_manifest(BUILTIN_PACK, package_dir, digest=digest) or read_manifest(
        BUILTIN_PACK, package_dir, user_manifest_file(), digest
    )


def _keep_user_manifest(registry: Registry) -> None:
    """Store the manifest of the imported built-in pack for the next runs (best effort:
    a run that cannot write it imports the pack next time too)."""
    package_dir = builtin_pack_dir()
    rules = [registry.rules[code] for code in registry.codes]
    data = build_manifest(rules, registry.sections, BUILTIN_PACK, package_dir)
    try:
        path = user_manifest_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, manifest_text(data), durable=False)
    except OSError:
        pass


def _rule_pack_entry_points() -> list[EntryPoint]:
    """The installed entry points of third-party rule packs (the built-in pack's left
    out), importing ``importlib.metadata`` only when :func:`installed` names one."""
    if all(value.split(":")[0] == BUILTIN_PACK for _, value in installed()["packs"]):
        return []
    from importlib.metadata import entry_points

    return [
        entry
        for entry in entry_points(group=ENTRY_POINT_GROUP)
        if entry.value.split(":")[0] != BUILTIN_PACK
    ]


@lru_cache(maxsize=1)
def load_registry(include_plugins: bool = True) -> Registry:
    manifest = _builtin_handles()
    if manifest is None:
        registry = import_builtin_pack()
        _keep_user_manifest(registry)
    else:
        handles, sections = manifest
        registry = Registry(sections=list(sections))
        registry.add_handles(handles)
    if include_plugins:
        for entry in _rule_pack_entry_points():
            try:
                loaded = entry.load()
                if isinstance(loaded, ModuleType):
                    for module in (
                        _walk_pack(loaded.__name__) if hasattr(loaded, "__path__") else [loaded]
                    ):
                        registry.add_module(module)
                elif _is_rule_class(loaded):
                    registry.add_rule(loaded)
                else:
                    for rule in loaded:
                        if not _is_rule_class(rule):
                            raise RegistryError(f"{rule!r} is not a rule class")
                        registry.add_rule(rule)
            except Exception as exc:
                registry.load_errors.append(
                    f"rule pack {entry.name!r} ({entry.value}) failed to load: {type(exc).__name__}: {exc}"
                )
    return registry


if __name__ == "__main__":  # python -m integ_lint.engine.registry: regenerate the manifest
    print(write_manifest())
