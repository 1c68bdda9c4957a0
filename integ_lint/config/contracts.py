"""The ``[tool.integ-lint.boundaries]`` table, checked and parsed: module patterns and
import contracts (integ-lint's own and import-linter's, adopted by
:mod:`integ_lint.config.importlinter`). What the contracts mean for an import graph is
:mod:`integ_lint.model.boundaries`."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from integ_lint.config.errors import ConfigError
from integ_lint.config.importlinter import ERROR, ORIGIN, SESSION


class BoundaryTable(Protocol):
    """What the checks read of :class:`~integ_lint.config.settings.BoundarySettings`
    (a protocol, so that settings.py can call them without an import cycle)."""

    modules: list[str]
    public: dict[str, list[str] | str]
    shared: list[str]
    contracts: list[dict[str, Any]]


CONVENTION = "convention"  # public = every submodule without a leading underscore
_PATTERN = re.compile(r"^(\*\*|\*|[A-Za-z_][A-Za-z0-9_]*)(\.(\*\*|\*|[A-Za-z_][A-Za-z0-9_]*))*$")


# -- patterns ---------------------------------------------------------------------------


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a dotted module name or glob (``*`` one part, ``**`` any)."""
    if not isinstance(pattern, str) or not _PATTERN.match(pattern.strip()):
        return f"{pattern!r} is not a dotted module name or glob like 'app.modules.*'"
    return None


def match_module(pattern: str, module: str) -> bool:
    """Whether ``module`` matches ``pattern``: ``*`` is one dotted part, ``**`` zero or
    more."""
    matcher = _matcher(pattern)
    if isinstance(matcher, str):
        return matcher == module
    # Each part is matched with the dot before it, so that ``**`` can stand for none.
    return matcher.fullmatch("." + module) is not None


@lru_cache(maxsize=4096)
def _matcher(pattern: str) -> str | re.Pattern[str]:
    """``pattern`` compiled once (a contract's ignore_imports are tried on every import
    of the graph): the name itself when it has no wildcard, else a regular expression
    over the module's name with a dot before each part."""
    stripped = pattern.strip()
    if "*" not in stripped:
        return stripped
    pieces = []
    for part in stripped.split("."):
        if part == "**":
            pieces.append(r"(?:\.[^.]*)*")
        elif part == "*":
            pieces.append(r"\.[^.]*")
        else:
            pieces.append(r"\." + re.escape(part))
    return re.compile("".join(pieces))


def is_under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


# -- contracts ---------------------------------------------------------------------------

CONTRACT_TYPES = ("forbidden", "layers", "independence", "acyclic_siblings", "protected")
_COMMON_KEYS = {
    "name",
    "type",
    "id",
    "ignore_imports",
    "unmatched_ignore_imports_alerting",
    "broken_contract_guidance",
    "exclude_type_checking_imports",
    "include_external_packages",
}
_CONTRACT_KEYS: dict[str, set[str]] = {
    "forbidden": {"source_modules", "forbidden_modules", "allow_indirect_imports", "as_packages"},
    "layers": {"layers", "containers", "exhaustive", "exhaustive_ignores"},
    "independence": {"modules"},
    "acyclic_siblings": {"ancestors", "depth", "skip_descendants"},
    "protected": {"protected_modules", "allowed_importers", "as_packages"},
}
_REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "forbidden": ("source_modules", "forbidden_modules"),
    "layers": ("layers",),
    "independence": ("modules",),
    "acyclic_siblings": ("ancestors",),
    "protected": ("protected_modules", "allowed_importers"),
}
_MODULE_LIST_KEYS = (
    "source_modules",
    "forbidden_modules",
    "containers",
    "modules",
    "ancestors",
    "skip_descendants",
    "protected_modules",
    "allowed_importers",
)
_BOOL_KEYS = (
    "allow_indirect_imports",
    "as_packages",
    "exhaustive",
    "exclude_type_checking_imports",
    "include_external_packages",
)
_ALERTING = ("none", "warn", "error")
# import-linter's [importlinter] keys; contract_types (custom contracts) is not supported.
_SESSION_KEYS = {
    "root_package",
    "root_packages",
    "include_external_packages",
    "exclude_type_checking_imports",
    "cache_dir",
}
DEFAULT_ACYCLIC_DEPTH = 10


@dataclass(frozen=True)
class IgnoredImport:
    importer: str
    imported: str

    def matches(self, importer: str, imported: str) -> bool:
        return match_module(self.importer, importer) and match_module(self.imported, imported)

    def __str__(self) -> str:
        return f"{self.importer} -> {self.imported}"


@dataclass(frozen=True)
class Layer:
    """One layer: sibling module names (relative to a container, or absolute), which
    of them are optional (``(name)``), and whether the siblings are independent of
    each other (``a | b``) or not (``a : b``)."""

    names: tuple[str, ...]
    optional: tuple[bool, ...]
    independent: bool = True


@dataclass(frozen=True)
class Contract:
    name: str
    type: str
    index: int
    where: str = ""  # "<file>: tool.integ-lint.boundaries.contracts[0]" for messages
    source_modules: tuple[str, ...] = ()
    forbidden_modules: tuple[str, ...] = ()
    allow_indirect_imports: bool = False
    as_packages: bool = True
    layers: tuple[Layer, ...] = ()  # highest first
    containers: tuple[str, ...] = ()
    exhaustive: bool = False
    exhaustive_ignores: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    ancestors: tuple[str, ...] = ()
    depth: int = DEFAULT_ACYCLIC_DEPTH
    skip_descendants: tuple[str, ...] = ()
    protected_modules: tuple[str, ...] = ()
    allowed_importers: tuple[str, ...] = ()
    ignore_imports: tuple[IgnoredImport, ...] = ()
    unmatched_ignore_imports_alerting: str = "error"
    exclude_type_checking_imports: bool = False
    include_external_packages: bool = True
    guidance: str = ""
    # import-linter's root packages (empty: every module of the project is internal)
    root_packages: tuple[str, ...] = ()
    from_importlinter: bool = False


def _str_list(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [line for line in value.splitlines() if line.strip()] or [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of strings, got {value!r}")
    return tuple(v.strip() for v in value)


def _bool(value: Any, where: str) -> bool:
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    return value


def _parse_layer(text: str, where: str) -> Layer:
    text = text.strip()
    if "|" in text and ":" in text:
        raise ConfigError(f"{where}: a layer cannot mix '|' and ':' ({text!r})")
    independent = ":" not in text
    names: list[str] = []
    optional: list[bool] = []
    for part in re.split(r"[|:]", text):
        part = part.strip()
        is_optional = part.startswith("(") and part.endswith(")")
        name = part[1:-1].strip() if is_optional else part
        problem = pattern_problem(name)
        if problem:
            raise ConfigError(f"{where}: {problem}")
        if name in names:
            raise ConfigError(f"{where}: {name!r} is repeated in one layer")
        names.append(name)
        optional.append(is_optional)
    for a in names:
        for b in names:
            if a != b and is_under(b, a):
                raise ConfigError(f"{where}: {a!r} contains {b!r} in one layer")
    return Layer(tuple(names), tuple(optional), independent)


def _session_options(session: Any, where: str) -> tuple[tuple[str, ...], bool, bool]:
    """import-linter's ``[importlinter]`` options: root packages, include external
    packages, exclude TYPE_CHECKING imports."""
    if not isinstance(session, dict):
        return (), True, False
    for key in session:
        if key not in _SESSION_KEYS:
            if key == "contract_types":
                raise ConfigError(
                    f"{where}: contract_types: custom contract types are not supported by "
                    "integ-lint"
                )
            raise ConfigError(
                f"{where}: [importlinter] {key}: unknown option "
                f"(expected {', '.join(sorted(_SESSION_KEYS))})"
            )
    roots: tuple[str, ...] = ()
    if "root_packages" in session:
        roots = _str_list(session["root_packages"], f"{where}: root_packages")
    elif "root_package" in session:
        roots = _str_list(session["root_package"], f"{where}: root_package")
    include = _bool(
        session.get("include_external_packages", False), f"{where}: include_external_packages"
    )
    exclude = _bool(
        session.get("exclude_type_checking_imports", False),
        f"{where}: exclude_type_checking_imports",
    )
    return roots, include, exclude


def parse_contract(table: Any, index: int, source: str) -> Contract:
    """One contract table (integ-lint's TOML, or import-linter's as read by
    :mod:`integ_lint.config.importlinter`); raises :class:`ConfigError` with one line
    naming the file and the key."""
    prefix = f"{source}: tool.integ-lint.boundaries.contracts[{index}]"
    if not isinstance(table, dict):
        raise ConfigError(f"{prefix}: expected a table")
    from_importlinter = ORIGIN in table
    if from_importlinter:
        prefix = str(table[ORIGIN])
        if ERROR in table:
            raise ConfigError(f"{prefix}: {table[ERROR]}")
    roots, include_external, exclude_type_checking = (
        _session_options(table.get(SESSION), prefix) if from_importlinter else ((), True, False)
    )
    raw = {str(k).replace("-", "_"): v for k, v in table.items() if k not in (ORIGIN, SESSION)}
    kind = raw.get("type")
    if kind is None:
        raise ConfigError(f"{prefix}.type: missing (one of {', '.join(CONTRACT_TYPES)})")
    if kind not in CONTRACT_TYPES:
        raise ConfigError(
            f"{prefix}.type: contract type {kind!r} is not supported by integ-lint "
            f"(supported: {', '.join(CONTRACT_TYPES)})"
        )
    allowed = _COMMON_KEYS | _CONTRACT_KEYS[kind]
    for key in raw:
        if key not in allowed:
            close = difflib.get_close_matches(key, sorted(allowed), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ConfigError(
                f"{prefix}.{key}: key not supported for a {kind} contract ({hint}"
                f"expected {', '.join(sorted(allowed))})"
            )
    for key in _REQUIRED_KEYS[kind]:
        if key not in raw:
            raise ConfigError(f"{prefix}.{key}: missing (required by a {kind} contract)")
    name = raw.get("name", raw.get("id", f"contract {index}"))
    if not isinstance(name, str):
        raise ConfigError(f"{prefix}.name: expected a string, got {name!r}")
    lists: dict[str, tuple[str, ...]] = {}
    for key in (*_MODULE_LIST_KEYS, "ignore_imports", "exhaustive_ignores"):
        if key in raw:
            lists[key] = _str_list(raw[key], f"{prefix}.{key}")
            if key in _MODULE_LIST_KEYS:
                for pattern in lists[key]:
                    problem = pattern_problem(pattern)
                    if problem:
                        raise ConfigError(f"{prefix}.{key}: {problem}")
    ignored: list[IgnoredImport] = []
    for text in lists.get("ignore_imports", ()):
        importer, arrow, imported = text.partition("->")
        if not arrow or pattern_problem(importer.strip()) or pattern_problem(imported.strip()):
            raise ConfigError(
                f"{prefix}.ignore_imports: {text!r} is not like 'app.a.b -> app.c.d' "
                "(globs allowed)"
            )
        ignored.append(IgnoredImport(importer.strip(), imported.strip()))
    flags = {key: _bool(raw[key], f"{prefix}.{key}") for key in _BOOL_KEYS if key in raw}
    alerting = raw.get("unmatched_ignore_imports_alerting", "error")
    if not isinstance(alerting, str) or alerting.strip().lower() not in _ALERTING:
        raise ConfigError(
            f"{prefix}.unmatched_ignore_imports_alerting: expected one of "
            f"{', '.join(_ALERTING)}, got {alerting!r}"
        )
    depth = raw.get("depth", DEFAULT_ACYCLIC_DEPTH)
    if isinstance(depth, str) and depth.strip().isdigit():
        depth = int(depth.strip())
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 0:
        raise ConfigError(f"{prefix}.depth: expected a whole number of 0 or more, got {depth!r}")
    guidance = raw.get("broken_contract_guidance", "")
    if isinstance(guidance, list):
        guidance = " ".join(str(g) for g in guidance)
    if not isinstance(guidance, str):
        raise ConfigError(f"{prefix}.broken_contract_guidance: expected a string")
    layers: list[Layer] = []
    if kind == "layers":
        for text in _str_list(raw["layers"], f"{prefix}.layers"):
            layers.append(_parse_layer(text, f"{prefix}.layers"))
        if not layers:
            raise ConfigError(f"{prefix}.layers: needs at least one layer")
        if flags.get("exhaustive") and not lists.get("containers"):
            raise ConfigError(f"{prefix}.exhaustive: an exhaustive contract needs containers")
    if "exclude_type_checking_imports" in flags:
        exclude_type_checking = flags["exclude_type_checking_imports"]
    if "include_external_packages" in flags:
        include_external = flags["include_external_packages"]
    return Contract(
        name=name,
        type=kind,
        index=index,
        where=prefix,
        source_modules=lists.get("source_modules", ()),
        forbidden_modules=lists.get("forbidden_modules", ()),
        allow_indirect_imports=flags.get("allow_indirect_imports", False),
        as_packages=flags.get("as_packages", True),
        layers=tuple(layers),
        containers=lists.get("containers", ()),
        exhaustive=flags.get("exhaustive", False),
        exhaustive_ignores=lists.get("exhaustive_ignores", ()),
        modules=lists.get("modules", ()),
        ancestors=lists.get("ancestors", ()),
        depth=depth,
        skip_descendants=lists.get("skip_descendants", ()),
        protected_modules=lists.get("protected_modules", ()),
        allowed_importers=lists.get("allowed_importers", ()),
        ignore_imports=tuple(ignored),
        unmatched_ignore_imports_alerting=alerting.strip().lower(),
        exclude_type_checking_imports=exclude_type_checking,
        include_external_packages=include_external,
        guidance=guidance.strip(),
        root_packages=roots,
        from_importlinter=from_importlinter,
    )


def parse_contracts(settings: BoundaryTable, source: str) -> list[Contract]:
    """Validate and parse ``boundaries.contracts``; raises :class:`ConfigError` naming
    ``source`` (the config file) and ``tool.integ-lint.boundaries.contracts[<i>].<key>``
    (or the import-linter file and contract)."""
    return [parse_contract(table, index, source) for index, table in enumerate(settings.contracts)]


def validate_boundary_settings(settings: BoundaryTable, source: str) -> None:
    """Check ``[tool.integ-lint.boundaries]`` beyond its types. Called through
    ``BoundarySettings.validate`` when rules are selected, so that a bad contract is a
    usage error (exit 2), not an internal error of a rule."""
    for key, patterns in (("modules", settings.modules), ("shared", settings.shared)):
        for pattern in patterns:
            problem = pattern_problem(pattern)
            if problem:
                raise ConfigError(f"{source}: tool.integ-lint.boundaries.{key}: {problem}")
    for component, submodules in settings.public.items():
        problem = pattern_problem(component)
        if problem:
            raise ConfigError(f"{source}: tool.integ-lint.boundaries.public: {problem}")
        if isinstance(submodules, str):
            if submodules != CONVENTION:
                raise ConfigError(
                    f"{source}: tool.integ-lint.boundaries.public.{component}: expected a "
                    f'list of submodules or "{CONVENTION}", got {submodules!r}'
                )
            continue
        for submodule in submodules:
            problem = pattern_problem(submodule)
            if problem:
                raise ConfigError(
                    f"{source}: tool.integ-lint.boundaries.public.{component}: {problem}"
                )
    parse_contracts(settings, source)
