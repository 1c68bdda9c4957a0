"""Module boundaries: components, their public interfaces, shared modules and contracts.

Resolved from ``[tool.integ-lint.boundaries]`` against the project's module table.
Contracts follow import-linter's contract types (``forbidden``, ``layers``,
``independence``) and key names, so a team can carry its contracts over; the
differences are listed in ``docs/rules/boundaries.md``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from integ_lint.config.contracts import (
    Contract,
    IgnoredImport,
    is_under,
    match_module,
    parse_contracts,
    validate_boundary_settings,
)
from integ_lint.config.loader import Config, ConfigError
from integ_lint.config.settings import BoundarySettings
from integ_lint.model.digraph import DiGraph, strongly_connected_components
from integ_lint.model.import_graph import ImportGraph, ImportSite, ModuleTable, counted
from integ_lint.model.layout import did_you_mean, missing_module_message


def _where(config: Config) -> str:
    return str(config.config_file) if config.config_file else "command line"


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


def _missing(name: str, table: ModuleTable) -> str:
    """``""`` when ``name`` (a module or a glob) names a project module; else the
    import-linter style reason with a did-you-mean."""
    if "*" in name:
        if any(match_module(name, m) for m in table.modules):
            return ""
        return f"{name!r} matches no module"
    return "" if name in table else missing_module_message(name, table.modules)


def check_configured_modules(config: Config, table: ModuleTable) -> None:
    """A configured component, public interface or shared module that names nothing is
    a usage error, as in import-linter; raised as one line naming the key."""
    settings = config.section(BoundarySettings)
    prefix = f"{_where(config)}: tool.integ-lint.boundaries"
    for name in settings.modules:
        problem = _missing(name, table)
        if problem:
            raise ConfigError(f"{prefix}.modules: {problem}")
    for name in settings.shared:
        problem = _missing(name, table)
        if problem:
            raise ConfigError(f"{prefix}.shared: {problem}")
    for component, submodules in settings.public.items():
        problem = _missing(component, table)
        if problem:
            raise ConfigError(f"{prefix}.public: {problem}")
        if isinstance(submodules, list) and "*" not in component:
            for submodule in submodules:
                problem = _missing(f"{component}.{submodule}", table)
                if problem:
                    raise ConfigError(f"{prefix}.public.{component}: {problem}")


def resolve_boundaries(config: Config, graph: ImportGraph) -> Boundaries:
    settings = config.section(BoundarySettings)
    table = graph.table
    configured = bool(settings.modules or settings.public or settings.shared)
    if configured and table.files:
        check_configured_modules(config, table)
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
    """One import that breaks a contract: the offending import of one or more chains
    (the import that enters the forbidden, higher or independent module), with the
    shortest chain through it."""

    contract: Contract
    importer: str  # the importing module of the offending import
    imported: str  # the module it imports
    site: ImportSite
    chain: tuple[str, ...]  # source ... importer, imported (2 items when direct)
    description: str  # "app.a (lower layer) must not import app.b (higher layer)"
    pair: tuple[str, str] = ("", "")  # the contract's modules: (source, target)

    @property
    def direct(self) -> bool:
        return len(self.chain) == 2


@dataclass(frozen=True)
class Undeclared:
    """A child of a container that an ``exhaustive`` layers contract does not list."""

    contract: Contract
    container: str
    module: str
    path: str  # the module's file (its ``__init__`` for a package), "" if none


@dataclass
class ContractResult:
    contract: Contract
    violations: list[Violation] = field(default_factory=list)
    undeclared: list[Undeclared] = field(default_factory=list)
    unmatched_ignores: list[IgnoredImport] = field(default_factory=list)
    # (source, target) module pairs of the contract with an offending import (one
    # import may break several pairs; it is one violation)
    pairs: set[tuple[str, str]] = field(default_factory=set)

    @property
    def kept(self) -> bool:
        return not self.violations and not self.undeclared


def _in_roots(module: str, roots: Sequence[str]) -> bool:
    return not roots or any(is_under(module, root) for root in roots)


def _contract_graph(
    graph: ImportGraph, contract: Contract, edges: DiGraph | None = None
) -> tuple[DiGraph, list[IgnoredImport]]:
    """The graph a contract is checked on, and its ``ignore_imports`` that matched no
    import: static imports (or ``edges``: IL104's dynamic ones), without the ignored
    imports, without ``TYPE_CHECKING`` imports when the contract excludes them, and,
    for import-linter's contracts, only the root packages (plus external packages
    when ``include_external_packages``). The model's small graph, not networkx: the
    same iteration order, a tenth of the cost to build (one per contract)."""
    result = DiGraph()
    matched: set[IgnoredImport] = set()
    roots = contract.root_packages
    for root in roots:
        if root not in graph.table:
            # Else every module is outside the roots and the contract silently holds.
            raise ConfigError(
                f"{contract.where}: root_packages: "
                f"{missing_module_message(root, graph.table.modules)}"
            )
    source: Iterable[tuple[str, str, list[ImportSite]]]
    if edges is None:
        source = graph.static_edges()
    else:
        source = [(a, b, data["sites"]) for a, b, data in edges.edges(data=True)]
    inside: dict[str, bool] = {}  # module -> under the contract's roots

    def in_roots(module: str) -> bool:
        known = inside.get(module)
        if known is None:
            known = inside[module] = _in_roots(module, roots)
        return known

    result.add_nodes_from(node for node in graph.internal_nodes() if in_roots(node))
    external_nodes = graph.external_nodes()
    ignores = contract.ignore_imports
    kept: list[tuple[str, str, dict[str, list[ImportSite]]]] = []
    for importer, imported, sites in source:
        if not sites or not in_roots(importer):
            continue
        external = (
            imported in external_nodes or imported not in graph.graph or not in_roots(imported)
        )
        if external and not contract.include_external_packages:
            continue
        if contract.exclude_type_checking_imports:
            sites = [s for s in sites if not s.record.type_checking]
            if not sites:
                continue
        if ignores:
            ignored = [rule for rule in ignores if rule.matches(importer, imported)]
            if ignored:
                matched.update(ignored)
                continue
        kept.append((importer, imported, {"sites": sites}))
    # In the order of the loop above: the order of the graph's edges is the order in
    # which chains are found.
    result.add_edges_from(kept)
    unmatched = [rule for rule in ignores if rule not in matched]
    return result, unmatched


def _names_nothing(contract: Contract, key: str, pattern: str, table: ModuleTable) -> ConfigError:
    return ConfigError(
        f"{contract.where}.{key}: {pattern!r} names no module{did_you_mean(pattern, table.modules)}"
    )


def _expand(
    contract: Contract,
    key: str,
    patterns: Iterable[str],
    table: ModuleTable,
    *,
    external_ok: bool = False,
) -> list[str]:
    """The modules ``patterns`` name (globs expanded); a pattern that names nothing
    is an error, as in import-linter. ``external_ok``: a name outside the project is an
    external package."""
    out: list[str] = []
    for pattern in patterns:
        if "*" in pattern:
            found = sorted(m for m in table.modules if match_module(pattern, m))
            if not found:
                raise _names_nothing(contract, key, pattern, table)
            out.extend(found)
        elif pattern in table:
            out.append(pattern)
        elif external_ok and pattern.split(".")[0] not in table.roots:
            if "." in pattern:
                raise ConfigError(
                    f"{contract.where}.{key}: {pattern!r}: only the top-level name of an "
                    "external package can be forbidden"
                )
            if not contract.include_external_packages:
                raise ConfigError(
                    f"{contract.where}.{key}: {pattern!r} is an external package: set "
                    "include_external_packages = True in [importlinter] to forbid it"
                )
            out.append(pattern)
        else:
            raise _names_nothing(contract, key, pattern, table)
    return list(dict.fromkeys(out))


_Link = tuple[str, str]


def _offending_links(
    static: DiGraph,
    sources: Sequence[str],
    targets: Sequence[str],
    *,
    as_packages: bool = True,
    allow_indirect: bool = False,
    barriers: Sequence[str] = (),
    route_tails: bool = False,
    every_chain: bool = False,
) -> dict[_Link, tuple[str, ...]]:
    """The offending imports from modules of ``sources`` to modules of ``targets``,
    each with one chain through it, the way import-linter finds them.

    Every direct import is offending. Indirect chains (unless ``allow_indirect``) go
    through modules under neither side and under none of ``barriers`` (the
    contract's other layers or independent modules, whose own imports are reported
    for themselves). They are found as grimp finds them: the shortest chain from any
    source module to any target module, then its imports are removed and the next
    shortest is searched, until none is left (ties broken by name, so the result is
    the same on every run). The offending import of a chain is its last one; with
    ``route_tails`` (layers, independence) it is every import from the chain's last
    intermediate module into the targets, as import-linter's routes print them.
    Several chains through one import are one entry. ``every_chain``: every import
    into a target from a module some source reaches (what grimp may print on some
    run, whichever way it breaks ties).
    """

    def within(module: str, names: Sequence[str]) -> bool:
        if as_packages:
            return any(is_under(module, name) for name in names)
        return module in names

    in_sources = {n for n in static.nodes if within(n, sources)}
    in_targets = {n for n in static.nodes if within(n, targets)}
    source_nodes = sorted(in_sources - in_targets)
    links: dict[_Link, tuple[str, ...]] = {}
    if not source_nodes or not in_targets:
        return links
    for node in source_nodes:
        for successor in sorted(static.successors(node)):
            if successor in in_targets:
                links[(node, successor)] = (node, successor)
    if allow_indirect:
        return links

    def blocked(module: str) -> bool:
        return (
            module in in_sources
            or module in in_targets
            or any(is_under(module, barrier) for barrier in barriers)
        )

    # The part of the graph indirect chains may use: out of a source, between
    # intermediate modules, into a target.
    passable = {n for n in static.nodes if not blocked(n)}
    successors: dict[str, list[str]] = {}
    for node in [*source_nodes, *sorted(passable)]:
        following = [
            t
            for t in sorted(static.successors(node))
            if t in passable or (t in in_targets and node in passable)
        ]
        if following:
            successors[node] = following
    if every_chain:
        reached = _shortest_chain_tree(successors, source_nodes, in_targets)
        for node, path in reached.items():
            for target in successors.get(node, ()):
                if target in in_targets and node in passable:
                    links.setdefault((node, target), (*path, target))
        return links
    removed: set[_Link] = set()
    while True:
        chain = _shortest_chain(successors, source_nodes, in_targets, removed)
        if chain is None:
            break
        removed.update(pairwise(chain))
        if route_tails:
            last = chain[-2]
            for target in successors.get(last, ()):
                if target in in_targets:
                    links.setdefault((last, target), (*chain[:-1], target))
        else:
            links.setdefault((chain[-2], chain[-1]), chain)
    return links


def _shortest_chain_tree(
    successors: dict[str, list[str]], sources: Sequence[str], targets: set[str]
) -> dict[str, tuple[str, ...]]:
    """Every module reachable from ``sources`` without passing a target, with a
    shortest chain to it."""
    paths: dict[str, tuple[str, ...]] = {source: (source,) for source in sources}
    queue: deque[str] = deque(sources)
    while queue:
        node = queue.popleft()
        for successor in successors.get(node, ()):
            if successor not in paths and successor not in targets:
                paths[successor] = (*paths[node], successor)
                queue.append(successor)
    return paths


def _shortest_chain(
    successors: dict[str, list[str]],
    sources: Sequence[str],
    targets: set[str],
    removed: set[_Link],
) -> tuple[str, ...] | None:
    """The shortest chain from any of ``sources`` to any of ``targets`` avoiding the
    ``removed`` imports (breadth first, neighbours in name order)."""
    parent: dict[str, str] = {}
    seen = set(sources)
    queue: deque[str] = deque(sources)
    while queue:
        node = queue.popleft()
        for successor in successors.get(node, ()):
            if successor in seen or (node, successor) in removed:
                continue
            parent[successor] = node
            if successor in targets:
                hops = [successor]
                while hops[-1] in parent:
                    hops.append(parent[hops[-1]])
                return tuple(reversed(hops))
            seen.add(successor)
            queue.append(successor)
    return None


def _children(table: ModuleTable, package: str) -> list[str]:
    return sorted(m for m in table.modules if m.rpartition(".")[0] == package and m != package)


def check_contract_result(
    graph: ImportGraph,
    contract: Contract,
    edges: DiGraph | None = None,
    *,
    every_chain: bool = False,
) -> ContractResult:
    """Check ``contract``: every offending import (one per import statement, with a
    shortest chain through it), the undeclared children of an exhaustive layers
    contract, and the ``ignore_imports`` that matched nothing (an error unless
    ``unmatched_ignore_imports_alerting`` says otherwise, as in import-linter).

    ``edges`` replaces the graph of static imports (IL104 passes the dynamic ones).
    """
    static, unmatched = _contract_graph(graph, contract, edges)
    table = graph.table
    result = ContractResult(contract, unmatched_ignores=unmatched)
    if unmatched and contract.unmatched_ignore_imports_alerting == "error" and edges is None:
        raise ConfigError(
            f"{contract.where}.ignore_imports: no import matches {str(unmatched[0])!r} "
            "(set unmatched_ignore_imports_alerting to 'warn' or 'none' to allow it)"
        )
    found: list[Violation] = []

    def add(links: dict[_Link, tuple[str, ...]], describe: str, pair: tuple[str, str]) -> None:
        if links:
            result.pairs.add(pair)
        for (importer, imported), chain in links.items():
            for site in static.edges[importer, imported]["sites"]:
                found.append(Violation(contract, importer, imported, site, chain, describe, pair))

    def search(
        source: str, target: str, barriers: Sequence[str] = (), *, layered: bool = True
    ) -> dict[_Link, tuple[str, ...]]:
        return _offending_links(
            static,
            [source],
            [target],
            as_packages=contract.as_packages,
            allow_indirect=contract.allow_indirect_imports,
            barriers=barriers,
            route_tails=layered,
            every_chain=every_chain,
        )

    if contract.type == "forbidden":
        sources = _expand(contract, "source_modules", contract.source_modules, table)
        targets = _expand(
            contract, "forbidden_modules", contract.forbidden_modules, table, external_ok=True
        )
        for source in sources:
            for target in targets:
                overlap = source == target or (
                    contract.as_packages and (is_under(source, target) or is_under(target, source))
                )
                if overlap:
                    continue
                add(
                    search(source, target, layered=False),
                    f"{target} is forbidden",
                    (source, target),
                )
    elif contract.type == "independence":
        modules = _expand(contract, "modules", contract.modules, table)
        for a in modules:
            for b in modules:
                if a != b and not is_under(a, b) and not is_under(b, a):
                    add(search(a, b, modules), f"{a} and {b} must be independent", (a, b))
    elif contract.type == "layers":
        _check_layers(contract, table, result, add, search)
    elif contract.type == "protected":
        _check_protected(contract, static, table, add)
    elif contract.type == "acyclic_siblings":
        found.extend(_check_acyclic_siblings(contract, static, table))
    # One violation per import statement and imported module (``from a import b, c``
    # imports two modules), with its shortest chain.
    seen: set[tuple[str, int, int, str]] = set()
    for violation in sorted(
        found,
        key=lambda v: (v.site.path, v.site.line, v.site.record.col, len(v.chain), v.chain),
    ):
        key = (
            violation.site.path,
            violation.site.line,
            violation.site.record.col,
            violation.imported,
        )
        if key not in seen:
            seen.add(key)
            result.violations.append(violation)
    return result


def check_contract(
    graph: ImportGraph, contract: Contract, static: DiGraph | None = None
) -> list[Violation]:
    """Every import that breaks ``contract`` (see :func:`check_contract_result`)."""
    return check_contract_result(graph, contract, static).violations


def _check_layers(
    contract: Contract,
    table: ModuleTable,
    result: ContractResult,
    add: Any,
    search: Any,
) -> None:
    containers = (
        _expand(contract, "containers", contract.containers, table) if contract.containers else [""]
    )
    for container in containers:

        def full(name: str, container: str = container) -> str:
            return f"{container}.{name}" if container else name

        layers: list[tuple[list[str], bool]] = []
        for layer in contract.layers:
            present = []
            for name, optional in zip(layer.names, layer.optional):
                module = full(name)
                if module in table:
                    present.append(module)
                elif not optional:
                    where = f"container {container!r}: " if container else ""
                    raise ConfigError(
                        f"{contract.where}.layers: {where}{module!r} names no module"
                        f"{did_you_mean(module, table.modules)}; wrap an optional layer in "
                        "parentheses"
                    )
            layers.append((present, layer.independent))
        every_layer = [module for members, _ in layers for module in members]
        for i, (higher_layer, _) in enumerate(layers):
            for lower_layer, _ in layers[i + 1 :]:
                for higher in higher_layer:
                    for lower in lower_layer:
                        add(
                            search(lower, higher, every_layer),
                            f"{lower} (lower layer) must not import {higher} (higher layer)",
                            (lower, higher),
                        )
        for members, independent in layers:
            if not independent or len(members) < 2:
                continue
            for a in members:
                for b in members:
                    if a != b:
                        add(
                            search(a, b, every_layer),
                            f"{a} and {b} are independent siblings in one layer",
                            (a, b),
                        )
        if contract.exhaustive and container:
            declared = {name for layer in contract.layers for name in layer.names}
            for child in _children(table, container):
                tail = child[len(container) + 1 :]
                if tail in declared or any(
                    match_module(ignore, tail) for ignore in contract.exhaustive_ignores
                ):
                    continue
                path = table.files.get(child, "")
                if not path:
                    below = sorted(p for m, p in table.files.items() if is_under(m, child))
                    path = below[0] if below else ""
                result.undeclared.append(Undeclared(contract, container, child, path))


def _check_protected(contract: Contract, static: DiGraph, table: ModuleTable, add: Any) -> None:
    allowed = _expand(contract, "allowed_importers", contract.allowed_importers, table)

    def within(module: str, names: Sequence[str]) -> bool:
        if contract.as_packages:
            return any(is_under(module, name) for name in names)
        return module in names

    for protected in _expand(contract, "protected_modules", contract.protected_modules, table):
        links: dict[_Link, tuple[str, ...]] = {}
        for importer, imported in sorted(static.edges):
            if (
                within(imported, [protected])
                and not within(importer, [protected])
                and not within(importer, allowed)
            ):
                links[(importer, imported)] = (importer, imported)
        add(
            links,
            f"only {', '.join(contract.allowed_importers)} may import {protected}",
            ("", protected),
        )


def _check_acyclic_siblings(
    contract: Contract, static: DiGraph, table: ModuleTable
) -> list[Violation]:
    skipped = set(_expand(contract, "skip_descendants", contract.skip_descendants, table))
    found: list[Violation] = []

    def visit(package: str, remaining: int) -> None:
        children = _children(table, package)
        if len(children) >= 2:
            siblings = DiGraph()
            for importer, imported, data in static.edges(data=True):
                if importer == package or imported == package:
                    continue
                if not (is_under(importer, package) and is_under(imported, package)):
                    continue
                depth = package.count(".") + 2 if package else 1
                a = ".".join(importer.split(".")[:depth])
                b = ".".join(imported.split(".")[:depth])
                if a == b:
                    continue
                if siblings.has_edge(a, b):
                    siblings.edges[a, b]["sites"].extend(data["sites"])
                else:
                    siblings.add_edge(a, b, sites=list(data["sites"]))
            for _, _, data in siblings.edges(data=True):
                data["sites"].sort(key=lambda s: (s.path, s.line, s.record.col))
            for cycle, _members in find_cycles(siblings):
                closing = siblings.edges[cycle[-2], cycle[-1]]["sites"][0]
                found.append(
                    Violation(
                        contract,
                        cycle[-2],
                        cycle[-1],
                        closing,
                        tuple(cycle),
                        f"children of {package} import each other in a cycle",
                    )
                )
        if remaining:
            for child in children:
                if child not in skipped:
                    visit(child, remaining - 1)

    for ancestor in _expand(contract, "ancestors", contract.ancestors, table):
        visit(ancestor, contract.depth)
    return found


# -- cycles ---------------------------------------------------------------------------------


def component_graph(
    graph: ImportGraph,
    boundaries: Boundaries,
    *,
    include_lazy: bool,
    include_type_checking: bool,
    skip_paths: frozenset[str] | set[str] = frozenset(),
) -> DiGraph:
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
    result = DiGraph()
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


def find_cycles(components: DiGraph) -> list[tuple[list[str], list[str]]]:
    """``(cycle, strongly_connected_component)`` for each tangle: the cycle starts and
    ends at the alphabetically first module of the component and is the shortest one
    through it (ties broken by name); its last edge is the import that closes it."""
    cycles = []
    for members in strongly_connected_components(components):
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
