"""Module boundaries: components, their public interfaces, shared modules and contracts.

Resolved from ``[tool.integ-lint.boundaries]`` against the project's module table.
Contracts follow import-linter's contract types (``forbidden``, ``layers``,
``independence``) and key names, so a team can carry its contracts over; the
differences are listed in ``docs/rules/boundaries.md``.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from .config import Config, ConfigError
from .import_graph import ImportGraph, ImportSite, ModuleTable, counted
from .settings import BoundarySettings

CONTRACT_TYPES = ("forbidden", "layers", "independence")
_COMMON_KEYS = {"name", "type", "id", "ignore_imports"}
_CONTRACT_KEYS: dict[str, set[str]] = {
    "forbidden": {"source_modules", "forbidden_modules", "allow_indirect_imports"},
    "layers": {"layers", "containers"},
    "independence": {"modules"},
}
_REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "forbidden": ("source_modules", "forbidden_modules"),
    "layers": ("layers",),
    "independence": ("modules",),
}
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
    return _match_parts(pattern.strip().split("."), module.split("."))


def _match_parts(pattern: list[str], parts: list[str]) -> bool:
    if not pattern:
        return not parts
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_match_parts(rest, parts[i:]) for i in range(len(parts) + 1))
    if not parts:
        return False
    if head == "*" or head == parts[0]:
        return _match_parts(rest, parts[1:])
    return False


def is_under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


# -- contracts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class IgnoredImport:
    importer: str
    imported: str

    def matches(self, importer: str, imported: str) -> bool:
        return match_module(self.importer, importer) and match_module(self.imported, imported)


@dataclass(frozen=True)
class Contract:
    name: str
    type: str
    index: int
    source_modules: tuple[str, ...] = ()
    forbidden_modules: tuple[str, ...] = ()
    allow_indirect_imports: bool = False
    # layers: highest first; each layer is a tuple of sibling names and whether the
    # siblings are independent of each other (``a | b``) or not (``a : b``)
    layers: tuple[tuple[tuple[str, ...], bool], ...] = ()
    containers: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()
    ignore_imports: tuple[IgnoredImport, ...] = ()


def _where(config: Config) -> str:
    return str(config.config_file) if config.config_file else "command line"


def _str_list(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of strings, got {value!r}")
    return tuple(v.strip() for v in value)


def _parse_layer(text: str, where: str) -> tuple[tuple[str, ...], bool]:
    text = text.strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()  # optional layer: integ-lint never requires presence
    if "|" in text and ":" in text:
        raise ConfigError(f"{where}: a layer cannot mix '|' and ':' ({text!r})")
    independent = ":" not in text
    names = tuple(part.strip() for part in re.split(r"[|:]", text))
    for name in names:
        problem = pattern_problem(name)
        if problem:
            raise ConfigError(f"{where}: {problem}")
    return names, independent


def parse_contracts(settings: BoundarySettings, source: str) -> list[Contract]:
    """Validate and parse ``boundaries.contracts``; raises :class:`ConfigError` naming
    ``source`` (the config file) and ``tool.integ-lint.boundaries.contracts[<i>].<key>``."""
    contracts: list[Contract] = []
    for index, table in enumerate(settings.contracts):
        prefix = f"{source}: tool.integ-lint.boundaries.contracts[{index}]"
        if not isinstance(table, dict):
            raise ConfigError(f"{prefix}: expected a table")
        raw = {str(k).replace("-", "_"): v for k, v in table.items()}
        kind = raw.get("type")
        if kind is None:
            raise ConfigError(f"{prefix}.type: missing (one of {', '.join(CONTRACT_TYPES)})")
        if kind not in CONTRACT_TYPES:
            raise ConfigError(
                f"{prefix}.type: unknown contract type {kind!r} (expected one of {', '.join(CONTRACT_TYPES)})"
            )
        allowed = _COMMON_KEYS | _CONTRACT_KEYS[kind]
        for key in table:
            if str(key).replace("-", "_") not in allowed:
                raise ConfigError(
                    f"{prefix}.{key}: unknown key for a {kind} contract "
                    f"(expected {', '.join(sorted(allowed))})"
                )
        for key in _REQUIRED_KEYS[kind]:
            if key not in raw:
                raise ConfigError(f"{prefix}.{key}: missing (required by a {kind} contract)")
        name = raw.get("name", raw.get("id", f"contract {index}"))
        if not isinstance(name, str):
            raise ConfigError(f"{prefix}.name: expected a string, got {name!r}")
        lists: dict[str, tuple[str, ...]] = {}
        for key in (
            "source_modules",
            "forbidden_modules",
            "containers",
            "modules",
            "ignore_imports",
        ):
            if key in raw:
                lists[key] = _str_list(raw[key], f"{prefix}.{key}")
                if key != "ignore_imports":
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
        allow_indirect = raw.get("allow_indirect_imports", False)
        if isinstance(allow_indirect, str) and allow_indirect.lower() in ("true", "false"):
            allow_indirect = allow_indirect.lower() == "true"
        if not isinstance(allow_indirect, bool):
            raise ConfigError(
                f"{prefix}.allow_indirect_imports: expected true or false, got {allow_indirect!r}"
            )
        layers: list[tuple[tuple[str, ...], bool]] = []
        if kind == "layers":
            layer_texts = _str_list(raw["layers"], f"{prefix}.layers")
            if len(layer_texts) < 2:
                raise ConfigError(f"{prefix}.layers: needs at least two layers")
            layers = [_parse_layer(t, f"{prefix}.layers") for t in layer_texts]
        if kind == "independence" and len(lists.get("modules", ())) < 2:
            raise ConfigError(f"{prefix}.modules: needs at least two modules")
        contracts.append(
            Contract(
                name=name,
                type=kind,
                index=index,
                source_modules=lists.get("source_modules", ()),
                forbidden_modules=lists.get("forbidden_modules", ()),
                allow_indirect_imports=allow_indirect,
                layers=tuple(layers),
                containers=lists.get("containers", ()),
                modules=lists.get("modules", ()),
                ignore_imports=tuple(ignored),
            )
        )
    return contracts


def validate_boundary_settings(settings: BoundarySettings, source: str) -> None:
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


def validate(config: Config) -> None:
    validate_boundary_settings(config.section(BoundarySettings), _where(config))


def contracts_of(config: Config) -> list[Contract]:
    return parse_contracts(config.section(BoundarySettings), _where(config))


# -- components and interfaces ------------------------------------------------------------


def is_private_name(part: str) -> bool:
    """A leading underscore marks a module or name private (PEP 8); dunders do not."""
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def private_scope(path: str, table: ModuleTable) -> tuple[str, str] | None:
    """``(package, private_path)`` when ``path`` (a module, or a module and a name
    defined in it) has a part with a leading underscore below some package: the
    package that the first such part belongs to, and the path up to that part.

    ``pkg.sub._impl`` and ``pkg.sub._impl.Thing`` belong to ``pkg.sub``; a name
    ``_helper`` of the plain module ``pkg.sub.util`` belongs to ``pkg.sub`` too (a
    private name is private to its package, not only to its file). Top-level private
    modules (``_pytest``) belong to no package and are never reported.
    """
    parts = path.split(".")
    for index, part in enumerate(parts):
        if not is_private_name(part):
            continue
        if index == 0:
            return None
        owner = ".".join(parts[:index])
        package = owner if table.is_package(owner) else owner.rpartition(".")[0]
        if not package:
            return None
        return package, ".".join(parts[: index + 1])
    return None


@dataclass
class Boundaries:
    """Components (the project's "modules" in the boundary sense), their public
    interfaces and the shared modules, resolved against the module table.

    ``configured`` is False when ``[tool.integ-lint.boundaries]`` names no components
    (``modules``, ``public``, ``shared``): IL101 then reports only what the code
    itself marks private (leading underscores, ``__all__`` re-exports), while IL103
    still looks for cycles between the default components.
    """

    components: list[str]
    public: dict[str, list[str] | str]  # component -> public modules (prefixes) or CONVENTION
    shared: list[str]
    contracts: list[Contract]
    reexports: dict[str, dict[str, str]] = field(default_factory=dict)  # pkg -> name -> from
    configured: bool = True
    # module -> component_of(module): rules ask for every import of every file.
    _component_cache: dict[str, str | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def component_of(self, module: str) -> str | None:
        cache = self._component_cache
        if module in cache:
            return cache[module]
        best: str | None = None
        for component in self.components:
            if is_under(module, component) and (best is None or len(component) > len(best)):
                best = component
        cache[module] = best
        return best

    _shared_cache: dict[str, bool] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def is_shared(self, module: str) -> bool:
        cache = self._shared_cache
        if module not in cache:
            cache[module] = any(
                is_under(module, shared) or match_module(shared, module) for shared in self.shared
            )
        return cache[module]

    def is_public(self, module: str, component: str) -> bool:
        """Whether ``module`` is in ``component``'s interface: the package itself, or
        under a public submodule (globs allowed: ``"handlers.*"``), or, with
        ``public = "convention"``, any submodule without a leading underscore."""
        interface = self.public.get(component, [component])
        if isinstance(interface, str):
            below = module[len(component) + 1 :].split(".") if module != component else []
            return not any(is_private_name(part) for part in below)
        for prefix in interface:
            if prefix == component:
                if module == component:
                    return True
            elif "*" in prefix:
                if match_module(prefix, module) or match_module(prefix + ".**", module):
                    return True
            elif is_under(module, prefix):
                return True
        return False

    def interface(self, component: str) -> list[str]:
        interface = self.public.get(component, [component])
        if isinstance(interface, str):
            return [component, f"every submodule of {component} without a leading underscore"]
        return interface


def default_components(table: ModuleTable) -> list[str]:
    """The top-level subpackages of each root package that has at least two."""
    components: list[str] = []
    for root in table.roots:
        if not table.is_package(root):
            continue
        subpackages = sorted(
            p for p in table.packages if p.count(".") == 1 and p.startswith(root + ".")
        )
        if len(subpackages) >= 2:
            components.extend(subpackages)
    return components


def resolve_boundaries(config: Config, graph: ImportGraph) -> Boundaries:
    settings = config.section(BoundarySettings)
    table = graph.table
    configured = bool(settings.modules or settings.public or settings.shared)
    if settings.modules:
        candidates = table.modules
        found: set[str] = set()
        for pattern in settings.modules:
            if "*" in pattern:
                found.update(m for m in candidates if match_module(pattern, m))
            else:
                found.add(pattern)
        components = sorted(found)
    else:
        components = default_components(table)

    reexports: dict[str, dict[str, str]] = {}
    for component in components:
        facts = graph.facts.get(component)
        if facts is None:
            continue
        names: dict[str, str] = {}
        for record in facts.imports:
            if record.dynamic or record.lazy:
                continue
            if not record.names and is_under(record.module, component):
                names[record.module.rpartition(".")[2]] = record.module.rpartition(".")[0]
            for name in record.names:
                if name != "*":
                    names[name] = record.module
        reexports[component] = names

    public: dict[str, list[str] | str] = {}
    for component in components:
        configured_public: list[str] | str | None = None
        for key, submodules in settings.public.items():
            if key == component or ("*" in key and match_module(key, component)):
                configured_public = submodules
                if key == component:
                    break
        if isinstance(configured_public, str):
            public[component] = configured_public
        elif configured_public is not None:
            public[component] = [component, *(f"{component}.{s}" for s in configured_public)]
        else:
            # Default: the package itself and the submodules its __init__ imports as
            # modules (``from . import api``, ``import app.billing.api``).
            interface = [component]
            for name, origin in sorted(reexports.get(component, {}).items()):
                submodule = f"{origin}.{name}"
                if submodule in table and is_under(submodule, component):
                    interface.append(submodule)
            public[component] = interface
    return Boundaries(
        components=components,
        public=public,
        shared=list(settings.shared),
        contracts=contracts_of(config),
        reexports=reexports,
        configured=configured,
    )


# -- private by convention -------------------------------------------------------------------


def _reexporting_package(graph: ImportGraph, module: str, name: str) -> str | None:
    """The nearest package above the plain module ``module`` whose ``__all__`` lists
    ``name`` and whose ``__init__`` imports it from a module below it."""
    table = graph.table
    if table.is_package(module):
        return None
    package = module.rpartition(".")[0]
    while package:
        facts = graph.facts.get(package)
        if facts is not None and facts.all_names and name in facts.all_names:
            for record in facts.imports:
                if record.dynamic or record.module == package:
                    continue
                if is_under(record.module, package) and (name in record.names or record.star):
                    return package
        package = package.rpartition(".")[0]
    return None


def convention_breach(
    graph: ImportGraph, importer: str, imported: str, site: ImportSite
) -> str | None:
    """Why the import ``site`` (``importer`` -> ``imported``) uses something its
    package marks private (None when it does not): a module or name with a leading
    underscore below a package the importer is outside of, or a name imported from a
    submodule although the package re-exports it in ``__all__``. The ``__init__`` of
    an enclosing package is not outside: that is where public APIs are assembled."""
    table = graph.table

    def outside(package: str) -> bool:
        # A package's own ``__init__`` assembling its API from below is inside too.
        return not is_under(importer, package) and not is_under(package, importer)

    for path in (imported, *(f"{imported}.{n}" for n in site.names if n != "*")):
        scope = private_scope(path, table)
        if scope is not None and outside(scope[0]):
            package, private = scope
            return f"{importer} imports {private}, private to {package} (leading underscore, PEP 8)"
    for name in site.names:
        if name == "*":
            continue
        reexporter = _reexporting_package(graph, imported, name)
        if reexporter is not None and outside(reexporter):
            return (
                f"{importer} imports {name} from {imported}, but {reexporter} re-exports it "
                f"in its __all__: import it from {reexporter}"
            )
    return None


# -- contract checking ---------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    contract: Contract
    importer: str  # the importing module of the first import
    imported: str  # the module imported by the first import
    site: ImportSite
    chain: tuple[str, ...]  # importer ... final module (2 items when direct)
    description: str  # "app.a (lower layer) imports app.b (higher layer)"

    @property
    def direct(self) -> bool:
        return len(self.chain) == 2


def _static_graph(graph: ImportGraph, contract: Contract) -> nx.DiGraph:
    """File-level graph of static imports (every kind but dynamic), without the
    contract's ignored imports."""
    result: nx.DiGraph = nx.DiGraph()
    for importer, imported, sites in graph.edges():
        static = [s for s in sites if not s.record.dynamic]
        if not static:
            continue
        if any(rule.matches(importer, imported) for rule in contract.ignore_imports):
            continue
        result.add_edge(importer, imported, sites=static)
    return result


def _expand(patterns: Iterable[str], table: ModuleTable) -> list[str]:
    out: list[str] = []
    for pattern in patterns:
        if "*" in pattern:
            out.extend(sorted(m for m in table.modules if match_module(pattern, m)))
        else:
            out.append(pattern)
    return out


def _chains(
    static: nx.DiGraph,
    sources: Sequence[str],
    targets: Sequence[str],
    allow_indirect: bool,
    barriers: Sequence[str] = (),
) -> list[tuple[str, str, ImportSite, tuple[str, ...]]]:
    """Imports from modules under ``sources`` that reach modules under ``targets``:
    directly, or (unless ``allow_indirect``) through modules under neither and under
    none of ``barriers`` (the contract's other layers or independent modules, whose
    own imports are reported for themselves, as import-linter does).

    One entry per statement making an offending first import: ``(importer, imported,
    site, chain)``.
    """

    def in_sources(module: str) -> bool:
        return any(is_under(module, s) for s in sources)

    def in_targets(module: str) -> bool:
        return any(is_under(module, t) for t in targets)

    def blocked(module: str) -> bool:
        return (
            in_sources(module) or in_targets(module) or any(is_under(module, b) for b in barriers)
        )

    found: list[tuple[str, str, ImportSite, tuple[str, ...]]] = []
    nodes = list(static.nodes)
    source_nodes = sorted(n for n in nodes if in_sources(n) and not in_targets(n))
    target_nodes = {n for n in nodes if in_targets(n)}
    if not source_nodes or not target_nodes:
        return found
    # Nodes that reach a target through nodes outside both sides (reverse BFS).
    next_hop: dict[str, str] = {}
    if not allow_indirect:
        queue: deque[str] = deque()
        for target in sorted(target_nodes):
            for predecessor in sorted(static.predecessors(target)):
                if predecessor in next_hop or blocked(predecessor):
                    continue
                next_hop[predecessor] = target
                queue.append(predecessor)
        while queue:
            node = queue.popleft()
            for predecessor in sorted(static.predecessors(node)):
                if predecessor in next_hop or blocked(predecessor):
                    continue
                next_hop[predecessor] = node
                queue.append(predecessor)
    for importer in source_nodes:
        for imported in sorted(static.successors(importer)):
            sites = static.edges[importer, imported]["sites"]
            if imported in target_nodes:
                chain: tuple[str, ...] = (importer, imported)
            elif imported in next_hop:
                hops = [importer, imported]
                while hops[-1] not in target_nodes:
                    hops.append(next_hop[hops[-1]])
                chain = tuple(hops)
            else:
                continue
            # every statement making the first import breaks the contract
            found.extend((importer, imported, site, chain) for site in sites)
    return found


def check_contract(
    graph: ImportGraph, contract: Contract, static: nx.DiGraph | None = None
) -> list[Violation]:
    """Every import that breaks ``contract``, with the chain for indirect breaks.

    ``static`` replaces the graph of static imports (IL104 passes the dynamic ones).
    """
    if static is None:
        static = _static_graph(graph, contract)
    else:
        static = static.copy()
        static.remove_edges_from(
            [
                (a, b)
                for a, b in static.edges
                if any(rule.matches(a, b) for rule in contract.ignore_imports)
            ]
        )
    table = graph.table
    violations: list[Violation] = []

    def add(
        sources: Sequence[str],
        targets: Sequence[str],
        describe: str,
        allow_indirect: bool = False,
        barriers: Sequence[str] = (),
    ) -> None:
        for importer, imported, site, chain in _chains(
            static, sources, targets, allow_indirect, barriers
        ):
            violations.append(
                Violation(
                    contract=contract,
                    importer=importer,
                    imported=imported,
                    site=site,
                    chain=chain,
                    description=describe,
                )
            )

    if contract.type == "forbidden":
        for source in _expand(contract.source_modules, table):
            for target in _expand(contract.forbidden_modules, table):
                add([source], [target], f"{target} is forbidden", contract.allow_indirect_imports)
    elif contract.type == "independence":
        modules = _expand(contract.modules, table)
        for a in modules:
            for b in modules:
                if a != b and not is_under(a, b) and not is_under(b, a):
                    add([a], [b], f"{a} and {b} must be independent", barriers=modules)
    elif contract.type == "layers":
        containers = contract.containers or ("",)
        for container in containers:

            def full(name: str, container: str = container) -> str:
                return f"{container}.{name}" if container else name

            layers = [[full(n) for n in names] for names, _ in contract.layers]
            every_layer = [module for layer in layers for module in layer]
            for i, higher_layer in enumerate(layers):
                for lower_layer in layers[i + 1 :]:
                    for higher in higher_layer:
                        for lower in lower_layer:
                            add(
                                [lower],
                                [higher],
                                f"{lower} (lower layer) must not import {higher} (higher layer)",
                                barriers=every_layer,
                            )
            for (_names, independent), members in zip(contract.layers, layers):
                if not independent or len(members) < 2:
                    continue
                for a in members:
                    for b in members:
                        if a != b:
                            add(
                                [a],
                                [b],
                                f"{a} and {b} are independent siblings in one layer",
                                barriers=every_layer,
                            )
    seen: set[tuple[str, int, int]] = set()
    unique = []
    for violation in sorted(
        violations,
        key=lambda v: (v.site.path, v.site.line, v.site.record.col, len(v.chain), v.chain),
    ):
        key = (violation.site.path, violation.site.line, violation.site.record.col)
        if key in seen:
            continue
        seen.add(key)
        unique.append(violation)
    return unique


# -- cycles ---------------------------------------------------------------------------------


def component_graph(
    graph: ImportGraph,
    boundaries: Boundaries,
    *,
    include_lazy: bool,
    include_type_checking: bool,
    skip_paths: frozenset[str] | set[str] = frozenset(),
) -> nx.DiGraph:
    """Import graph between components (modules outside every component stand for
    themselves); each edge keeps the counted import sites that make it.

    A package that contains components (the root package's ``__init__``) is left
    out: Python runs it before any of its submodules, so every component "imports"
    it, and a cycle through it would hide the real cycles between its children.
    Imports written in ``skip_paths`` (tests, scripts, ... unless
    ``cycles-include-tests``) add no edge.
    """
    containers = {
        ".".join(parts[:end])
        for parts in (c.split(".") for c in boundaries.components)
        for end in range(1, len(parts))
    }
    result: nx.DiGraph = nx.DiGraph()
    for module in graph.internal_nodes():
        node = boundaries.component_of(module) or module
        if node not in containers:
            result.add_node(node)
    for importer, imported, sites in graph.edges():
        if graph.is_external(imported):
            continue
        source = boundaries.component_of(importer) or importer
        target = boundaries.component_of(imported) or imported
        if source == target or source in containers or target in containers:
            continue
        kept = counted(sites, lazy=include_lazy, type_checking=include_type_checking, dynamic=True)
        if skip_paths:
            kept = [site for site in kept if site.path not in skip_paths]
        if not kept:
            continue
        if result.has_edge(source, target):
            result.edges[source, target]["sites"].extend(kept)
        else:
            result.add_edge(source, target, sites=list(kept))
    for _, _, data in result.edges(data=True):
        data["sites"].sort(key=lambda s: (s.path, s.line, s.record.col))
    return result


def find_cycles(components: nx.DiGraph) -> list[tuple[list[str], list[str]]]:
    """``(cycle, strongly_connected_component)`` for each tangle: the cycle starts and
    ends at the alphabetically first module of the component and is the shortest one
    through it (ties broken by name); its last edge is the import that closes it."""
    cycles = []
    for members in nx.strongly_connected_components(components):
        if len(members) < 2:
            continue
        start = min(members)
        parent: dict[str, str] = {}
        distance = {start: 0}
        queue: deque[str] = deque([start])
        while queue:
            node = queue.popleft()
            for successor in sorted(components.successors(node)):
                if successor in members and successor not in distance:
                    distance[successor] = distance[node] + 1
                    parent[successor] = node
                    queue.append(successor)
        closers = sorted(
            (distance[u], u) for u in members if u != start and components.has_edge(u, start)
        )
        last = closers[0][1]
        path = [last]
        while path[-1] != start:
            path.append(parent[path[-1]])
        cycle = [*reversed(path), start]
        cycles.append((cycle, sorted(members)))
    return sorted(cycles)
