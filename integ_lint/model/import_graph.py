"""The project-wide import graph, built once per run from every file's import facts.

Nodes are the project's modules (dotted names from discovery) plus, for imports that
leave the project, the top-level name of the external package (``external=True``).
Each edge ``importer -> imported`` carries the :class:`ImportSite` s that make it, so
rules can place findings on the import statement and filter by kind (regular, lazy,
type-checking, dynamic).

``from pkg import name`` is an import of the submodule ``pkg.name`` when that module
exists in the project (a file or a package, namespace packages included), and an
import of ``pkg`` otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from integ_lint.facts.import_records import IMPORTS_KEY, ImportFactsValue, ImportRecord
from integ_lint.model.digraph import DiGraph
from integ_lint.model.project import ProjectIndex

DERIVED_KEY = "import-graph"


@dataclass(frozen=True)
class ImportSite:
    """One import statement (or dynamic call) contributing to an edge."""

    path: str
    record: ImportRecord
    # The names imported from ``imported`` (``from a import b, c``), when they are not
    # submodules; empty for ``import a.b``.
    names: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return self.record.kind

    @property
    def line(self) -> int:
        return self.record.line


@dataclass
class ModuleTable:
    """Every module of the project, with its file and whether it is a package."""

    files: dict[str, str] = field(default_factory=dict)  # module -> relpath
    packages: set[str] = field(default_factory=set)  # packages, namespace ones included

    @classmethod
    def from_project(cls, project: ProjectIndex) -> ModuleTable:
        table = cls()
        for module, facts in project.modules.items():
            table.files[module] = facts.relpath
            if facts.is_package_init:
                table.packages.add(module)
            parts = module.split(".")
            for end in range(1, len(parts)):
                table.packages.add(".".join(parts[:end]))
        return table

    def __contains__(self, module: str) -> bool:
        return module in self.files or module in self.packages

    def is_package(self, module: str) -> bool:
        return module in self.packages

    @property
    def modules(self) -> set[str]:
        """Every module name: files and packages (namespace packages included)."""
        return set(self.files) | self.packages

    @property
    def roots(self) -> list[str]:
        """Top-level packages and modules."""
        return sorted({m.split(".")[0] for m in self.modules})

    def owner(self, name: str) -> str | None:
        """The longest project module that ``name`` is or lies under (None: external).

        A name under a package known only as the parent of scanned files (a partial
        scan, or a namespace package) is its own, unscanned, project module.
        """
        parts = name.split(".")
        for end in range(len(parts), 0, -1):
            candidate = ".".join(parts[:end])
            if candidate in self:
                if candidate != name and candidate not in self.files:
                    return name
                return candidate
        return None


@dataclass
class ImportGraph:
    table: ModuleTable
    graph: DiGraph  # not networkx: a warm ``imports`` run never imports it
    facts: dict[str, ImportFactsValue]  # module -> its import facts

    def sites(self, importer: str, imported: str) -> list[ImportSite]:
        data = self.graph.get_edge_data(importer, imported)
        return list(data["sites"]) if data else []

    # Computed on first use: every contract of the boundaries rules reads them.
    _static: list[tuple[str, str, list[ImportSite]]] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    _external: frozenset[str] | None = field(default=None, init=False, repr=False, compare=False)

    def edges(self) -> Iterator[tuple[str, str, list[ImportSite]]]:
        for importer, imported, data in self.graph.edges(data=True):
            yield importer, imported, data["sites"]

    def static_edges(self) -> list[tuple[str, str, list[ImportSite]]]:
        """The edges with their static sites only (dynamic imports left out; an edge
        made only of dynamic imports has none), in the graph's order. The graph is
        not changed after it is built."""
        if self._static is None:
            self._static = [
                (a, b, [s for s in sites if not s.record.dynamic]) for a, b, sites in self.edges()
            ]
        return self._static

    def external_nodes(self) -> frozenset[str]:
        """The nodes that are external packages."""
        if self._external is None:
            self._external = frozenset(
                n for n, d in self.graph.nodes(data=True) if d.get("external")
            )
        return self._external

    def is_external(self, module: str) -> bool:
        return bool(self.graph.nodes[module].get("external")) if module in self.graph else True

    def internal_nodes(self) -> list[str]:
        return sorted(n for n, d in self.graph.nodes(data=True) if not d.get("external"))


def resolve_targets(record: ImportRecord, table: ModuleTable) -> list[tuple[str, tuple[str, ...]]]:
    """The modules one import record imports: ``[(module, names_from_it), ...]``.

    Project modules resolve to the longest existing module; others (external
    packages) to their top-level name.
    """
    if record.dynamic or not record.names:
        owner = table.owner(record.module)
        return [(owner if owner is not None else record.module.split(".")[0], ())]
    targets: dict[str, list[str]] = {}
    base_owner = table.owner(record.module) if record.module else None
    for name in record.names:
        if name != "*" and record.module:
            submodule = f"{record.module}.{name}"
            if submodule in table:
                targets.setdefault(submodule, [])
                continue
        if base_owner is not None:
            targets.setdefault(base_owner, []).append(name)
        elif record.module:
            targets.setdefault(record.module.split(".")[0], []).append(name)
    return [(module, tuple(names)) for module, names in targets.items()]


def build_import_graph(project: ProjectIndex) -> ImportGraph:
    table = ModuleTable.from_project(project)
    graph = DiGraph()
    facts_by_module: dict[str, ImportFactsValue] = {}
    for module, relpath in table.files.items():
        graph.add_node(module, path=relpath, package=table.is_package(module), external=False)
    for file_facts, value in project.facts(IMPORTS_KEY):
        importer = file_facts.module
        if not importer or project.modules.get(importer) is not file_facts:
            continue  # no module name, or a .pyi shadowed by its .py
        if not isinstance(value, ImportFactsValue):
            continue
        facts_by_module[importer] = value
        for record in value.imports:
            for imported, names in resolve_targets(record, table):
                if not imported or imported == importer:
                    continue
                if imported not in graph:
                    external = table.owner(imported) is None
                    graph.add_node(
                        imported,
                        path=table.files.get(imported, ""),
                        package=table.is_package(imported),
                        external=external,
                    )
                site = ImportSite(path=file_facts.relpath, record=record, names=names)
                if graph.has_edge(importer, imported):
                    graph.edges[importer, imported]["sites"].append(site)
                else:
                    graph.add_edge(importer, imported, sites=[site])
    for _, _, data in graph.edges(data=True):
        data["sites"].sort(key=lambda s: (s.path, s.record.line, s.record.col))
        data["kinds"] = sorted({s.kind for s in data["sites"]})
    return ImportGraph(table=table, graph=graph, facts=facts_by_module)


def import_graph(project: ProjectIndex) -> ImportGraph:
    """The project's import graph, built once and shared by every rule."""
    return project.derived(DERIVED_KEY, build_import_graph)


def counted(
    sites: Iterable[ImportSite], *, lazy: bool, type_checking: bool, dynamic: bool
) -> list[ImportSite]:
    """The sites that count when lazy / TYPE_CHECKING / dynamic imports may or may not."""
    kept = []
    for site in sites:
        record = site.record
        if record.dynamic and not dynamic:
            continue
        if record.type_checking and not type_checking:
            continue
        if record.lazy and not lazy:
            continue
        kept.append(site)
    return kept
