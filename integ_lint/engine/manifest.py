"""The built-in rule pack's manifest: what the engine needs to know of each rule without
importing it.

A run with nothing to analyse (every file's result cached, the project phase's memo
valid) reads only rule *metadata*: codes to select, roles to filter, names and docs for
reporters, modules and qualified names for cache keys. Importing the pack for that
would import LibCST and every fact module, the larger part of a warm run. The manifest
(``manifest.json`` next to the pack's modules, written from the classes themselves by
:func:`integ_lint.engine.registry.write_manifest`) holds that metadata, and the registry
hands out :class:`RuleHandle` / :class:`CollectorHandle` values that import their class
on first real use: analysing a file, or running a project rule.

The manifest carries a digest of the sources its content comes from; when it does not
match (a rule edited in a checkout and the manifest not regenerated), the registry
imports the pack, as without a manifest, and keeps a manifest of what it imported in the
user's cache folder (next to the cache key), which the next runs read while the sources
stay as they are: a checkout being edited pays the import once per edit, not per run.
``tests/test_manifest.py`` asserts that the shipped manifest is what regenerating it
gives.

Regenerate it with ``python -m integ_lint.engine.registry``.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeAlias, TypeVar, cast

from integ_lint.engine.collector_pause import collector_paused
from integ_lint.findings.model import RuleInfo, Severity

if TYPE_CHECKING:
    from integ_lint.rule import FactCollector, FileRule, ProjectRule, RuleMixin

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 1
# The module outside the pack whose content shapes the metadata: the rule API, with the
# defaults rules inherit. (A collector's KEY is checked when its class is imported; a
# change to what a rule's declaration names elsewhere, such as a set of roles, is caught
# by tests/test_manifest.py.)
_API_MODULES = ("integ_lint.rule",)


def module_file(name: str) -> str | None:
    """The source file of module ``name``, without importing it (only its parent
    packages, as any import would); None when it has none or cannot be found."""
    module = sys.modules.get(name)
    if module is not None:
        return getattr(module, "__file__", None)
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    return spec.origin if spec is not None and spec.has_location else None


def _load_attribute(module: str, qualname: str) -> Any:
    # An import makes long-lived objects (the rule modules, LibCST's node classes): the
    # cyclic collections it sets off would find nothing.
    with collector_paused():
        value: Any = importlib.import_module(module)
    for part in qualname.split("."):
        value = getattr(value, part)
    return value


_Loaded = TypeVar("_Loaded")


class _Handle(Generic[_Loaded]):
    """What both handles share: the class they name is imported on first real use,
    checked to be the one the manifest describes (``_IDENTITY``, its ``KEY`` or
    ``code``), then answers every attribute the handle does not hold; a handle pickles
    as that class."""

    _IDENTITY: ClassVar[str]
    _LABEL: ClassVar[str]  # what the repr calls it
    __qualname__: str

    def __init__(self, module: str, qualname: str) -> None:
        self.__module__ = module
        self.__qualname__ = qualname
        self._loaded: _Loaded | None = None

    def _described(self) -> str:
        raise NotImplementedError

    def load(self) -> _Loaded:
        if self._loaded is None:
            loaded = _load_attribute(self.__module__, self.__qualname__)
            if getattr(loaded, self._IDENTITY, None) != getattr(self, self._IDENTITY):
                raise ImportError(
                    f"{self.__module__}.{self.__qualname__}: not the {self._described()} "
                    "the rule manifest names (regenerate it)"
                )
            self._loaded = loaded
        return self._loaded

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return cast(Any, self.load())(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "_loaded":
            raise AttributeError(name)
        return getattr(self.load(), name)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_load_attribute, (self.__module__, self.__qualname__))

    def __repr__(self) -> str:
        named = f"{getattr(self, self._IDENTITY)} {self.__module__}.{self.__qualname__}"
        return f"<{self._LABEL} {named} (not imported)>"


class CollectorHandle(_Handle["type[FactCollector]"]):
    """A fact collector named by the manifest: ``KEY``, module and qualified name
    without the import; anything else imports the class and is read from it."""

    _IDENTITY = "KEY"
    _LABEL = "collector"
    KEY: str

    def __init__(self, key: str, module: str, qualname: str) -> None:
        self.KEY = key
        super().__init__(module, qualname)

    def _described(self) -> str:
        return f"fact collector {self.KEY!r}"


class RuleHandle(_Handle["type[RuleMixin]"]):
    """A rule named by the manifest. It answers what the engine reads of a rule class
    (``code``, ``roles``, ``info()``, ``kind()``, ``FACTS`` ...) from the manifest;
    calling it, or reading anything else, imports the rule's module and uses the class."""

    _IDENTITY = "code"
    _LABEL = "rule"
    code: str
    name: str
    family: str
    severity: Severity
    tags: tuple[str, ...]
    fixable: bool
    roles: frozenset[str]
    default_enabled: bool
    FACTS: tuple[CollectorHandle, ...]

    def __init__(self, data: dict[str, Any], collectors: dict[str, CollectorHandle]) -> None:
        self.code = data["code"]
        self.name = data["name"]
        self.family = data["family"]
        self.severity = Severity(data["severity"])
        self.tags = tuple(data["tags"])
        self.fixable = bool(data["fixable"])
        self.roles = frozenset(data["roles"])
        self.default_enabled = bool(data["default_enabled"])
        self.FACTS = tuple(collectors[key] for key in data["facts"])
        super().__init__(data["module"], data["qualname"])
        self._kind: str = data["kind"]
        self._summary: str = data["summary"]
        self._documentation: str = data["documentation"]

    def _described(self) -> str:
        return f"rule {self.code}"

    def kind(self) -> str:
        return self._kind

    def summary(self) -> str:
        return self._summary

    def documentation(self) -> str:
        return self._documentation

    def info(self) -> RuleInfo:
        return RuleInfo.of(self)


# What the engine passes around for a selected rule or collector: the class itself
# (third-party packs, rules added at run time, a stale manifest) or a handle.
FileRuleRef: TypeAlias = "type[FileRule] | RuleHandle"
ProjectRuleRef: TypeAlias = "type[ProjectRule] | RuleHandle"
RuleRef: TypeAlias = "type[FileRule] | type[ProjectRule] | RuleHandle"
CollectorRef: TypeAlias = "type[FactCollector] | CollectorHandle"


def loaded_rules(rules: Iterable[Any]) -> list[Any]:
    """``rules`` (or collectors) with every handle replaced by its class."""
    return [r.load() if isinstance(r, (RuleHandle, CollectorHandle)) else r for r in rules]


# -- building and reading ---------------------------------------------------------------
def sources_digest(package_dir: Path, modules: Iterable[str]) -> str:
    """A digest of every ``.py`` file below ``package_dir`` and of the files of
    ``modules``: what the manifest's content is made from."""
    digest = hashlib.sha256()
    files = sorted(p for p in package_dir.rglob("*.py") if "__pycache__" not in p.parts)
    for path in files:
        digest.update(f"{path.relative_to(package_dir).as_posix()}\0".encode())
        digest.update(path.read_bytes())
    for name in sorted(set(modules)):
        digest.update(f"\0module {name}\0".encode())
        file = module_file(name)
        digest.update(Path(file).read_bytes() if file else b"?")
    return digest.hexdigest()


def build_manifest(
    rules: Sequence[type[RuleMixin]],
    sections: Sequence[type],
    package: str,
    package_dir: Path,
) -> dict[str, Any]:
    """The manifest of ``rules`` and the config ``sections`` (tables) of the pack
    ``package``, whose modules are in ``package_dir``."""
    collectors: dict[str, dict[str, str]] = {}
    entries = []
    for rule in sorted(rules, key=lambda r: r.code):
        facts = []
        for collector in getattr(rule, "FACTS", ()):
            known = collectors.setdefault(
                collector.KEY,
                {
                    "key": collector.KEY,
                    "module": collector.__module__,
                    "qualname": collector.__qualname__,
                },
            )
            if (known["module"], known["qualname"]) != (
                collector.__module__,
                collector.__qualname__,
            ):
                raise ValueError(f"two fact collectors share the key {collector.KEY!r}")
            facts.append(collector.KEY)
        entries.append(
            {
                "code": rule.code,
                "name": rule.name,
                "family": rule.family,
                "severity": rule.severity.value,
                "tags": list(rule.tags),
                "fixable": rule.fixable,
                "roles": sorted(rule.roles),
                "default_enabled": rule.default_enabled,
                "kind": rule.kind(),
                "facts": facts,
                "module": rule.__module__,
                "qualname": rule.__qualname__,
                "summary": rule.summary(),
                "documentation": rule.documentation(),
            }
        )
    data: dict[str, Any] = {
        "format": MANIFEST_FORMAT,
        "package": package,
        "collectors": [collectors[key] for key in sorted(collectors)],
        "rules": entries,
        "sections": [{"module": s.__module__, "qualname": s.__qualname__} for s in sections],
    }
    data["sources"] = sources_digest(package_dir, _API_MODULES)
    return data


def manifest_text(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def current_digest(package_dir: Path) -> str:
    """The sources digest a manifest of the pack in ``package_dir`` must carry."""
    return sources_digest(package_dir, _API_MODULES)


def read_manifest(
    package: str,
    package_dir: Path,
    file: Path | None = None,
    digest: str | None = None,
) -> tuple[list[RuleHandle], list[type]] | None:
    """The rule handles and the (imported) config sections of the manifest ``file``
    (default: the one in ``package_dir``), or None when there is none, it is of another
    format or pack, or it does not carry the sources ``digest`` (default: the pack's
    current one)."""
    try:
        data = json.loads((file or package_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        return None
    if data.get("package") != package:
        return None
    try:
        if data["sources"] != (digest or current_digest(package_dir)):
            return None
        collectors = {
            c["key"]: CollectorHandle(c["key"], c["module"], c["qualname"])
            for c in data["collectors"]
        }
        handles = [RuleHandle(entry, collectors) for entry in data["rules"]]
        sections = [_load_attribute(s["module"], s["qualname"]) for s in data["sections"]]
    except (KeyError, TypeError, ValueError, OSError):
        return None
    return handles, sections
