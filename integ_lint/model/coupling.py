"""The manager coupling graph: which managers own, use, import and point back at each
other, built from :mod:`integ_lint.facts.managers` facts in the project phase.

Nodes are *managers* (classes whose name matches ``[tool.integ-lint.coupling]
manager-patterns`` or that subclass one of ``manager-bases``) plus the classes that own
managers. Edges point from the dependent class to its dependency and carry a kind:

* ``owns``: ``self.a = A(...)`` in a method of the source;
* ``uses``: the source reaches the target through an attribute, a parameter or a chain
  that resolves to it (``self.trainer.metrics_manager.global_timestep``), or stores an
  injected one (``self.metrics = metrics``); an attribute the source owns is ``owns``;
* ``back-reference``: the target hands ``self`` to the source
  (``TrainingLoopManager(trainer=self)`` makes TrainingLoopManager depend on Trainer);
* ``imports``: the source's module imports the target (or its module).

Project rules read it through ``project.derived(GRAPH_KEY, build_manager_graph)``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any, NamedTuple

from integ_lint.config.roles import LIBRARY
from integ_lint.config.settings import CouplingSettings
from integ_lint.facts.manager_records import (
    ANNOTATED,
    MANAGERS_KEY,
    NEW,
    PARAM,
    SELF,
    Chain,
    ClassFact,
    ManagerFacts,
    Root,
)
from integ_lint.findings.model import Site
from integ_lint.model.digraph import (
    DiGraph,
    betweenness_centrality,
    degree_centrality,
    density,
    strongly_connected_components,
)
from integ_lint.model.names import follow_reexports
from integ_lint.model.project import FileFacts, ProjectIndex

if TYPE_CHECKING:
    import networkx as nx

GRAPH_KEY = "coupling.manager-graph"
_UNKNOWN: Any = object()  # a memo's "not asked yet" (None is an answer)
EDGE_KINDS = ("owns", "uses", "back-reference", "imports")


def edge_graphs(
    nodes: Iterable[str], edge_sites: Mapping[tuple[str, str, str], list[EdgeSite]]
) -> tuple[DiGraph, DiGraph]:
    """The graphs of managers ``nodes`` joined by ``edge_sites``: one edge per pair (its
    kinds in EDGE_KINDS order, the site count), and the dependencies. A managed object
    pointing back at the owner that handed it ``self`` is IL504's business:
    back-references are no dependency, so they do not close IL501 cycles. The model's
    small graph, not networkx, whose import alone cost a run that rebuilds the graph
    more than building it (:attr:`ManagerGraph.graph` is networkx's, built on demand)."""
    simple = DiGraph()
    for node in sorted(nodes):
        simple.add_node(node)
    for (u, v, kind), sites in sorted(edge_sites.items()):
        if simple.has_edge(u, v):
            simple.edges[u, v]["kinds"].append(kind)
            simple.edges[u, v]["count"] += len(sites)
        else:
            simple.add_edge(u, v, kinds=[kind], count=len(sites))
    for u, v in simple.edges:
        simple.edges[u, v]["kinds"].sort(key=EDGE_KINDS.index)
    dependencies = DiGraph()
    dependencies.add_nodes_from(simple)
    dependencies.add_edges_from(
        (u, v) for u, v, kinds in simple.edges(data="kinds") if "back-reference" not in kinds
    )
    return simple, dependencies


@dataclass(frozen=True)
class ClassInfo:
    key: str  # module.qualname
    module: str
    qualname: str
    relpath: str
    fact: ClassFact

    @property
    def name(self) -> str:
        return self.qualname.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class EdgeSite:
    path: str
    site: Site

    def __str__(self) -> str:
        return f"{self.path}:{self.site.span.start_line}"


@dataclass(frozen=True)
class ReachThrough:
    """An expression that goes through one manager into another."""

    path: str
    site: Site
    owner: str  # class key of the enclosing method ("" outside classes)
    hops: tuple[str, ...]  # manager keys traversed, in order


@dataclass(frozen=True)
class BackReference:
    path: str
    site: Site
    owner: str  # the class handing out ``self``
    target: str  # the manager receiving it
    keyword: str


@dataclass(frozen=True)
class ManagerMetrics:
    key: str
    name: str
    file: str
    line: int
    kind: str  # "manager" | "owner"
    ca: int
    ce: int
    instability: float
    degree_centrality: float
    betweenness: float
    touched_attributes: int
    in_cycle: bool


class CouplingRow(NamedTuple):
    manager: str
    file: str
    ca: int
    ce: int
    instability: float
    betweenness: float
    in_cycle: bool


@dataclass
class ManagerGraph:
    """The manager graph with its metrics.

    ``simple`` (:class:`integ_lint.model.digraph.DiGraph`) has one edge per pair with
    the kinds (``kinds``, ``count``) and is what the metrics are computed on; ``graph``
    is a :class:`networkx.MultiDiGraph` with one edge per (source, target, kind),
    keyed by kind, carrying ``kind``, ``count`` and ``sites``, built when first read.
    """

    simple: DiGraph
    classes: dict[str, ClassInfo]
    labels: dict[str, str]
    metrics: dict[str, ManagerMetrics]
    cycles: list[list[str]]  # strongly connected components of more than one node
    density: float
    longest_chain: list[list[str]]  # components along the longest dependency chain
    edge_sites: dict[tuple[str, str, str], list[EdgeSite]]
    # strongly connected components of the full graph, back-references included
    components: list[list[str]] = field(default_factory=list)
    reach_throughs: list[ReachThrough] = field(default_factory=list)
    back_references: list[BackReference] = field(default_factory=list)
    touched: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    _cycle_edges: set[tuple[str, str]] | None = field(default=None, repr=False, compare=False)
    _graph: nx.MultiDiGraph | None = field(default=None, repr=False, compare=False)

    @property
    def graph(self) -> nx.MultiDiGraph:
        """One edge per (source, target, kind), keyed by kind (networkx, for callers
        that want its algorithms; the rules read :attr:`simple`)."""
        if self._graph is None:
            import networkx as nx

            graph = nx.MultiDiGraph()
            graph.add_nodes_from(self.simple)
            for (u, v, kind), sites in sorted(self.edge_sites.items()):
                graph.add_edge(u, v, key=kind, kind=kind, count=len(sites), sites=sites)
            self._graph = graph
        return self._graph

    def label(self, key: str) -> str:
        return self.labels.get(key, key)

    @property
    def cycle_nodes(self) -> set[str]:
        return {node for component in self.cycles for node in component}

    def cycle_edges(self) -> set[tuple[str, str]]:
        """Edges between members of one IL501 cycle (back-references excluded)."""
        if self._cycle_edges is not None:
            return self._cycle_edges
        edges: set[tuple[str, str]] = set()
        for component in self.cycles:
            members = set(component)
            edges.update(
                (u, v)
                for u, v, kinds in self.simple.edges(data="kinds")
                if u in members and v in members and "back-reference" not in kinds
            )
        self._cycle_edges = edges
        return edges

    def summary(self) -> dict[str, Any]:
        """Plain data for comparison and JSON: nodes with metrics, edges with kinds,
        cycles, density, longest chain."""
        return {
            "nodes": [
                {
                    "name": m.name,
                    "key": m.key,
                    "file": m.file,
                    "line": m.line,
                    "kind": m.kind,
                    "ca": m.ca,
                    "ce": m.ce,
                    "instability": m.instability,
                    "degree_centrality": m.degree_centrality,
                    "betweenness": m.betweenness,
                    "touched_attributes": m.touched_attributes,
                    "in_cycle": m.in_cycle,
                }
                for m in sorted(self.metrics.values(), key=lambda m: m.name)
            ],
            "edges": [
                {
                    "source": self.label(u),
                    "target": self.label(v),
                    "kind": kind,
                    "count": len(sites),
                    "sites": [str(s) for s in sites],
                }
                for (u, v, kind), sites in sorted(
                    self.edge_sites.items(),
                    key=lambda item: (
                        self.label(item[0][0]),
                        self.label(item[0][1]),
                        EDGE_KINDS.index(item[0][2]),
                    ),
                )
            ],
            "cycles": [[self.label(n) for n in c] for c in self.cycles],
            "strongly_connected_components": [[self.label(n) for n in c] for c in self.components],
            "density": round(self.density, 4),
            "longest_chain": [[self.label(n) for n in c] for c in self.longest_chain],
            "reach_throughs": len(self.reach_throughs),
        }

    def export_graph(self) -> nx.MultiDiGraph:
        """A copy fit for DOT/GraphML/JSON: scalar attributes only."""
        import networkx as nx

        out = nx.MultiDiGraph(name="managers")
        for key in sorted(self.metrics, key=self.label):
            m = self.metrics[key]
            out.add_node(
                self.label(key),
                label=self.label(key),
                qualname=key,
                kind=m.kind,
                file=m.file,
                line=m.line,
                ca=m.ca,
                ce=m.ce,
                instability=m.instability,
                degree_centrality=m.degree_centrality,
                betweenness=m.betweenness,
                touched_attributes=m.touched_attributes,
                in_cycle=m.in_cycle,
            )
        cycle_edges = self.cycle_edges()
        for (u, v, kind), sites in sorted(
            self.edge_sites.items(),
            key=lambda item: (self.label(item[0][0]), self.label(item[0][1]), item[0][2]),
        ):
            out.add_edge(
                self.label(u),
                self.label(v),
                key=kind,
                kind=kind,
                count=len(sites),
                sites=" ".join(str(s) for s in sites),
                in_cycle=(u, v) in cycle_edges,
            )
        return out

    def collapsed_export_graph(self) -> nx.DiGraph:
        """One edge per pair, labelled with its kinds (for Mermaid and pictures)."""
        import networkx as nx

        out = nx.DiGraph(name="managers")
        for key in sorted(self.metrics, key=self.label):
            m = self.metrics[key]
            out.add_node(
                self.label(key), label=f"{self.label(key)} (I={m.instability:.2f})", key=key
            )
        cycle_edges = self.cycle_edges()
        for u, v in sorted(self.simple.edges, key=lambda e: (self.label(e[0]), self.label(e[1]))):
            data = self.simple.edges[u, v]
            out.add_edge(
                self.label(u),
                self.label(v),
                label=", ".join(data["kinds"]),
                kinds=", ".join(data["kinds"]),
                count=data["count"],
                in_cycle=(u, v) in cycle_edges,
            )
        return out


# -- the class table ----------------------------------------------------------------------


class ClassTable:
    """Every class of the project, and resolution of type references to them."""

    def __init__(self, project: ProjectIndex) -> None:
        self.classes: dict[str, ClassInfo] = {}
        self.facts: dict[str, tuple[FileFacts, ManagerFacts]] = {}
        self.aliases: dict[str, dict[str, str]] = {}
        for file_facts, value in sorted(project.facts(MANAGERS_KEY), key=_by_path):
            if not isinstance(value, ManagerFacts):
                continue
            self.facts[file_facts.relpath] = (file_facts, value)
            if file_facts.module not in self.aliases or file_facts.relpath.endswith(".py"):
                self.aliases[value.module] = dict(value.aliases)
            for cls in value.classes:
                key = f"{value.module}.{cls.qualname}" if value.module else cls.qualname
                self.classes.setdefault(
                    key,
                    ClassInfo(key, value.module, cls.qualname, file_facts.relpath, cls),
                )
        self._cache: dict[str, str | None] = {}
        self.by_name: dict[str, list[str]] = {}
        self.by_module: dict[str, list[str]] = {}
        for key, info in self.classes.items():
            self.by_name.setdefault(info.name, []).append(key)
            self.by_module.setdefault(info.module, []).append(key)

    def lookup(self, ref: str) -> str | None:
        """The class key a reference names, following re-exports, else None."""
        if ref not in self._cache:
            found = follow_reexports(ref, self.classes.__contains__, self.aliases)
            self._cache[ref] = found if found in self.classes else None
        return self._cache[ref]

    def module_classes(self, module: str) -> list[str]:
        return list(self.by_module.get(module, ()))


def _by_path(item: tuple[FileFacts, Any]) -> str:
    return item[0].relpath


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


# -- building the graph ------------------------------------------------------------------


class _Builder:
    def __init__(self, project: ProjectIndex, settings: CouplingSettings) -> None:
        self.settings = settings
        self.table = ClassTable(project)
        self.library_paths = {
            relpath for relpath in self.table.facts if project.role_of(relpath) == LIBRARY
        }
        # Only library classes are managers: a test's FakeTrainer or a script's
        # RunManager never enters the graph (their code is still read for edges).
        self.managers = {
            k
            for k, info in self.table.classes.items()
            if info.relpath in self.library_paths and self._is_manager(k, set())
        }
        by_name: dict[str, list[str]] = {}
        for key in self.managers:
            by_name.setdefault(_snake(self.table.classes[key].name), []).append(key)
        self.by_snake_name = {n: keys[0] for n, keys in by_name.items() if len(keys) == 1}
        self.attr_types: dict[str, dict[str, str]] = {k: {} for k in self.table.classes}
        self.owned_attrs: dict[str, set[str]] = {k: set() for k in self.table.classes}
        # Answers that depend on the class table alone (fixed once built); the graph
        # asks them again for every chain and assignment.
        self._first_classes: dict[tuple[str, ...], str | None] = {}
        self._resolved_bases: dict[str, tuple[str, ...]] = {}
        self._attr_type_memo: dict[tuple[str, str], str | None] | None = None
        self._resolve_attribute_types()
        # attr_types is complete: attr_type's answers no longer change.
        self._attr_type_memo = {}

    # manager detection
    def _is_manager(self, key: str, seen: set[str]) -> bool:
        info = self.table.classes[key]
        if any(fnmatchcase(info.name, p) for p in self.settings.manager_patterns):
            return True
        return self._has_manager_base(key, seen)

    def _has_manager_base(self, key: str, seen: set[str]) -> bool:
        if key in seen:
            return False
        seen.add(key)
        bases = self.settings.manager_bases
        if not bases:
            return False
        for ref in self.table.classes[key].fact.bases:
            resolved = self.table.lookup(ref)
            names = {ref, ref.rsplit(".", 1)[-1]}
            if resolved:
                names.update({resolved, resolved.rsplit(".", 1)[-1]})
            if any(fnmatchcase(n, b) for n in names for b in bases):
                return True
            if resolved and self._has_manager_base(resolved, seen):
                return True
        return False

    # types
    def _first_class(self, refs: Iterable[str]) -> str | None:
        refs = tuple(refs)
        known = self._first_classes.get(refs, _UNKNOWN)
        if known is _UNKNOWN:
            known = self._first_classes[refs] = self._find_first_class(refs)
        return known

    def _find_first_class(self, refs: tuple[str, ...]) -> str | None:
        for ref in refs:
            key = self.table.lookup(ref)
            if key is not None:
                return key
        # A forward reference nobody imported (``trainer: "Trainer"``): the project's
        # only class of that name.
        for ref in refs:
            found = self.table.by_name.get(ref.rsplit(".", 1)[-1], [])
            if len(found) == 1:
                return found[0]
        return None

    def _bases(self, key: str) -> tuple[str, ...]:
        found = self._resolved_bases.get(key)
        if found is None:
            found = self._resolved_bases[key] = tuple(
                b for ref in self.table.classes[key].fact.bases if (b := self.table.lookup(ref))
            )
        return found

    def attr_type(self, key: str | None, attr: str) -> str | None:
        memo = self._attr_type_memo
        if memo is None or not key:
            return self._find_attr_type(key, attr)
        known = memo.get((key, attr), _UNKNOWN)
        if known is _UNKNOWN:
            known = memo[key, attr] = self._find_attr_type(key, attr)
        return known

    def _find_attr_type(self, key: str | None, attr: str) -> str | None:
        seen: set[str] = set()
        queue = [key] if key else []
        while queue:
            current = queue.pop(0)
            if current in seen or current not in self.attr_types:
                continue
            seen.add(current)
            found = self.attr_types[current].get(attr)
            if found is not None:
                return found
            queue.extend(self._bases(current))
        return None

    def root_type(self, owner: str, root: Root) -> str | None:
        if root.kind == SELF:
            return owner or None
        if root.kind in (NEW, ANNOTATED):
            return self._first_class(root.types)
        if root.kind == PARAM:
            found = self._first_class(root.types)
            if found is None and not root.types:
                found = self.by_snake_name.get(root.name)
            return found
        return None

    def values(self, owner: str, root: Root, attrs: Sequence[str]) -> list[str | None]:
        """The class of the root and of each prefix of the chain (None: unknown)."""
        current = self.root_type(owner, root)
        out = [current]
        for attr in attrs:
            current = self.attr_type(current, attr) if current else None
            out.append(current)
        return out

    def _resolve_attribute_types(self) -> None:
        for key, info in self.table.classes.items():
            for attr, refs in info.fact.attr_types:
                found = self._first_class(refs)
                if found is not None:
                    self.attr_types[key][attr] = found
        for _, facts in self.table.facts.values():
            for assign in facts.assigns:
                owner = _key(facts.module, assign.owner)
                if owner in self.owned_attrs and assign.root.kind == NEW and not assign.attrs:
                    self.owned_attrs[owner].add(assign.attr)
        for _ in range(6):
            changed = False
            for _, facts in self.table.facts.values():
                for assign in facts.assigns:
                    owner = _key(facts.module, assign.owner)
                    if owner not in self.attr_types or assign.attr in self.attr_types[owner]:
                        continue
                    found = self.values(owner, assign.root, assign.attrs)[-1]
                    if found is not None:
                        self.attr_types[owner][assign.attr] = found
                        changed = True
            if not changed:
                break

    # the graph
    def build(self) -> ManagerGraph:
        edge_sites: dict[tuple[str, str, str], list[EdgeSite]] = {}

        def add(u: str, v: str, kind: str, path: str, site: Site) -> None:
            if u != v:
                edge_sites.setdefault((u, v, kind), []).append(EdgeSite(path, site))

        nodes = set(self.managers)
        # owns
        for relpath, (_, facts) in self.table.facts.items():
            for assign in facts.assigns:
                owner = _key(facts.module, assign.owner)
                if assign.root.kind != NEW or assign.attrs or owner not in self.table.classes:
                    continue
                target = self._first_class(assign.root.types)
                if target in self.managers and relpath in self.library_paths:
                    # An owner in a test (a harness building a Trainer) is no node.
                    nodes.add(owner)
                    add(owner, target, "owns", relpath, assign.site)
        touched: dict[str, set[tuple[str, str]]] = {n: set() for n in nodes}
        reach: list[ReachThrough] = []
        back: list[BackReference] = []
        for relpath, (_, facts) in self.table.facts.items():
            # uses: stored injected managers
            for assign in facts.assigns:
                owner = _key(facts.module, assign.owner)
                if owner not in nodes or (assign.root.kind == NEW and not assign.attrs):
                    continue
                target = self.values(owner, assign.root, assign.attrs)[-1]
                if target in self.managers and target != owner:
                    add(owner, target, "uses", relpath, assign.site)
            # uses, touched attributes and reach-through: chains
            for chain in facts.chains:
                owner = _key(facts.module, chain.owner) if chain.owner else ""
                self._chain(chain, owner, relpath, nodes, touched, reach, add)
            # back-references: a node constructing a manager with ``self``
            for passed in facts.self_passes:
                owner = _key(facts.module, passed.owner)
                target = self.table.lookup(passed.callee)
                if owner in nodes and target in self.managers and target != owner:
                    assert target is not None
                    add(target, owner, "back-reference", relpath, passed.site)
                    back.append(BackReference(relpath, passed.site, owner, target, passed.keyword))
        # imports
        for relpath, (_, facts) in self.table.facts.items():
            importers = [k for k in self.table.module_classes(facts.module) if k in nodes]
            if not importers:
                continue
            for imported in facts.imports:
                if imported.type_checking:
                    continue  # annotations only: no runtime coupling
                key = self.table.lookup(imported.target)
                targets = [key] if key is not None else self.table.module_classes(imported.target)
                for target in targets:
                    if target in nodes and self.table.classes[target].module != facts.module:
                        for importer in importers:
                            add(importer, target, "imports", relpath, imported.site)
        return self._assemble(nodes, edge_sites, touched, reach, back)

    def _chain(
        self,
        chain: Chain,
        owner: str,
        relpath: str,
        nodes: set[str],
        touched: dict[str, set[tuple[str, str]]],
        reach: list[ReachThrough],
        add: Any,
    ) -> None:
        values = self.values(owner, chain.root, chain.attrs)
        hops: list[str] = []  # managers (other than self) whose attribute the chain reads
        used: set[str] = set()
        for index, value in enumerate(values):
            if value is None or value not in self.managers:
                continue
            if index == 0 and chain.root.kind == SELF:
                continue
            if index < len(chain.attrs):
                hops.append(value)
            if owner in nodes and value != owner:
                if index < len(chain.attrs):
                    touched[owner].add((value, chain.attrs[index]))
                owned_directly = (
                    index == 1
                    and chain.root.kind == SELF
                    and chain.attrs[0] in self.owned_attrs.get(owner, set())
                )
                if not owned_directly and value not in used:
                    used.add(value)
                    add(owner, value, "uses", relpath, chain.site)
        if len(hops) >= 2 and not chain.via_local:
            reach.append(ReachThrough(relpath, chain.site, owner, tuple(hops)))

    def _assemble(
        self,
        nodes: set[str],
        edge_sites: dict[tuple[str, str, str], list[EdgeSite]],
        touched: dict[str, set[tuple[str, str]]],
        reach: list[ReachThrough],
        back: list[BackReference],
    ) -> ManagerGraph:
        for sites in edge_sites.values():
            sites.sort(key=lambda s: (s.path, s.site.span.start_line, s.site.span.start_col))
        labels = _labels(nodes, self.table)
        simple, dependencies = edge_graphs(nodes, edge_sites)
        cycles = sorted(
            (
                sorted(c, key=lambda k: labels[k])
                for c in strongly_connected_components(dependencies)
                if len(c) > 1
            ),
            key=lambda c: [labels[n] for n in c],
        )
        components = sorted(
            (
                sorted(c, key=lambda k: labels[k])
                for c in strongly_connected_components(simple)
                if len(c) > 1
            ),
            key=lambda c: [labels[n] for n in c],
        )
        in_cycle = {n for c in cycles for n in c}
        n = simple.number_of_nodes()
        betweenness = betweenness_centrality(simple) if n > 2 else {}
        degree = degree_centrality(simple) if n > 1 else {}
        metrics = {}
        for key in nodes:
            info = self.table.classes[key]
            ca, ce = simple.in_degree(key), simple.out_degree(key)
            metrics[key] = ManagerMetrics(
                key=key,
                name=labels[key],
                file=info.relpath,
                line=info.fact.site.span.start_line,
                kind="manager" if key in self.managers else "owner",
                ca=ca,
                ce=ce,
                instability=round(ce / (ca + ce), 3) if ca + ce else 0.0,
                degree_centrality=round(degree.get(key, 0.0), 3),
                betweenness=round(betweenness.get(key, 0.0), 3),
                touched_attributes=len(touched.get(key, ())),
                in_cycle=key in in_cycle,
            )
        reach.sort(key=lambda r: (r.path, r.site.span.start_line, r.site.span.start_col))
        back.sort(key=lambda b: (b.path, b.site.span.start_line, b.site.span.start_col))
        return assemble_graph(
            nodes,
            edge_sites,
            labels,
            metrics,
            {k: self.table.classes[k] for k in nodes},
            cycles=cycles,
            components=components,
            reach_throughs=reach,
            back_references=back,
            touched=touched,
            graphs=(simple, dependencies),
        )


def assemble_graph(
    nodes: Iterable[str],
    edge_sites: dict[tuple[str, str, str], list[EdgeSite]],
    labels: dict[str, str],
    metrics: dict[str, ManagerMetrics],
    classes: dict[str, ClassInfo],
    *,
    cycles: list[list[str]],
    components: list[list[str]],
    reach_throughs: list[ReachThrough],
    back_references: list[BackReference],
    touched: dict[str, set[tuple[str, str]]],
    graphs: tuple[DiGraph, DiGraph] | None = None,
) -> ManagerGraph:
    """A :class:`ManagerGraph` over ``nodes`` and ``edge_sites`` (``graphs``: their
    :func:`edge_graphs` when the caller has built them already) with the given metrics,
    cycles and sites; density and the longest chain are computed on these nodes and
    edges. The project's graph is one; a view narrowed to some paths or merged from
    monorepo members is another, keeping the metrics of the project(s) they came from."""
    simple, dependencies = graphs or edge_graphs(nodes, edge_sites)
    return ManagerGraph(
        simple=simple,
        classes=classes,
        labels=labels,
        metrics=metrics,
        cycles=cycles,
        components=components,
        density=density(simple) if simple.number_of_nodes() > 1 else 0.0,
        longest_chain=_longest_chain(dependencies, labels),
        edge_sites=edge_sites,
        reach_throughs=reach_throughs,
        back_references=back_references,
        touched=touched,
    )


def _key(module: str, qualname: str) -> str:
    return f"{module}.{qualname}" if module else qualname


def _labels(nodes: Iterable[str], table: ClassTable) -> dict[str, str]:
    short: dict[str, list[str]] = {}
    for key in nodes:
        short.setdefault(table.classes[key].name, []).append(key)
    labels = {}
    for name, keys in short.items():
        for key in keys:
            labels[key] = name if len(keys) == 1 else key
    return labels


def _longest_chain(graph: DiGraph, labels: dict[str, str]) -> list[list[str]]:
    """The longest path through the condensation (components as sorted member lists),
    ties broken by labels, so the answer is deterministic (whatever order the
    components are numbered and visited in: tied paths have the same names)."""
    if graph.number_of_nodes() == 0:
        return []
    components = strongly_connected_components(graph)
    component_of = {node: index for index, members in enumerate(components) for node in members}
    members = {c: sorted(nodes, key=lambda k: labels[k]) for c, nodes in enumerate(components)}
    following: dict[int, set[int]] = {c: set() for c in members}
    for u, v in graph.edges:
        if component_of[u] != component_of[v]:
            following[component_of[u]].add(component_of[v])

    def names(path: list[int]) -> list[list[str]]:
        return [[labels[k] for k in members[c]] for c in path]

    best: dict[int, list[int]] = {}
    for component in _sinks_first(following):
        candidates = [[component, *best[s]] for s in following[component]]
        candidates.append([component])
        best[component] = min(candidates, key=lambda p: (-len(p), names(p)))
    path = min(best.values(), key=lambda p: (-len(p), names(p)))
    return [members[c] for c in path]


def _sinks_first(following: dict[int, set[int]]) -> list[int]:
    """The nodes of a DAG, each after every node it leads to (Kahn's algorithm on the
    reversed edges)."""
    waiting = {node: len(targets) for node, targets in following.items()}
    leading: dict[int, list[int]] = {node: [] for node in following}
    for node, targets in following.items():
        for target in targets:
            leading[target].append(node)
    ready = [node for node, count in waiting.items() if count == 0]
    order: list[int] = []
    while ready:
        node = ready.pop()
        order.append(node)
        for source in leading[node]:
            waiting[source] -= 1
            if waiting[source] == 0:
                ready.append(source)
    return order


def build_manager_graph(project: ProjectIndex) -> ManagerGraph:
    """The manager graph of ``project`` (use through ``project.derived``)."""
    return _Builder(project, project.config.section(CouplingSettings)).build()


def manager_graph(project: ProjectIndex) -> ManagerGraph:
    return project.derived(GRAPH_KEY, build_manager_graph)


# -- for the CLI, the audit and other consumers ------------------------------------------


def coupling_table(project: ProjectIndex) -> list[CouplingRow]:
    """One row per manager (and owner): name, file, Ca, Ce, I, betweenness, in cycle;
    most unstable and central first."""
    graph = manager_graph(project)
    rows = [
        CouplingRow(m.name, m.file, m.ca, m.ce, m.instability, m.betweenness, m.in_cycle)
        for m in graph.metrics.values()
    ]
    return sorted(rows, key=lambda r: (-r.betweenness, -(r.ca + r.ce), r.manager))
