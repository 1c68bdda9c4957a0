"""A small directed graph for the project phase: the import graph and its views, the
contracts' graphs and the manager graph.

They need adjacency with attributes, predecessors, strongly connected components and
the manager graph's metrics, nothing more; importing networkx for that costs a run
0.1-0.3 s (it loads every algorithm it ships), more than building the graphs.
:class:`DiGraph` keeps the part of ``networkx.DiGraph``'s API those callers use, with
the same iteration order (nodes in insertion order, edges grouped by their source in
node order), so code written against networkx reads it unchanged, and the metrics
follow networkx's algorithms step for step (the same floats). The exports, which need
networkx, build their graph from it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable, Iterable, Iterator
from typing import Any, Protocol

Attributes = dict[str, Any]


class _Nodes:
    """``graph.nodes``: iterable, sized, ``node in``, ``[node]`` for its attributes,
    and ``(data=True)`` for ``(node, attributes)`` pairs."""

    def __init__(self, nodes: dict[Hashable, Attributes]) -> None:
        self._nodes = nodes

    def __iter__(self) -> Iterator[Any]:
        return iter(self._nodes)

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, node: object) -> bool:
        return node in self._nodes

    def __getitem__(self, node: Hashable) -> Attributes:
        return self._nodes[node]

    def __call__(self, data: bool = False) -> Iterator[Any]:
        return iter(self._nodes.items()) if data else iter(self._nodes)


class _Edges:
    """``graph.edges``: ``(source, target)`` pairs, ``[source, target]`` for an edge's
    attributes, and ``(data=True)`` for ``(source, target, attributes)``."""

    def __init__(self, successors: dict[Hashable, dict[Hashable, Attributes]]) -> None:
        self._successors = successors

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        for source, targets in self._successors.items():
            for target in targets:
                yield source, target

    def __len__(self) -> int:
        return sum(len(targets) for targets in self._successors.values())

    def __getitem__(self, edge: tuple[Hashable, Hashable]) -> Attributes:
        source, target = edge
        return self._successors[source][target]

    def __call__(self, data: bool | str = False) -> Iterator[Any]:
        """``data=True``: ``(source, target, attributes)``; ``data="key"``: ``(source,
        target, attributes.get("key"))``, as networkx."""
        if data is False:
            return iter(self)
        if data is True:
            return (
                (source, target, attributes)
                for source, targets in self._successors.items()
                for target, attributes in targets.items()
            )
        return (
            (source, target, attributes.get(data))
            for source, targets in self._successors.items()
            for target, attributes in targets.items()
        )


class DiGraph:
    """A directed graph without parallel edges; nodes and edges carry attributes."""

    def __init__(self) -> None:
        self._node: dict[Hashable, Attributes] = {}
        self._succ: dict[Hashable, dict[Hashable, Attributes]] = {}
        self._pred: dict[Hashable, dict[Hashable, Attributes]] = {}

    @property
    def nodes(self) -> _Nodes:
        return _Nodes(self._node)

    @property
    def edges(self) -> _Edges:
        return _Edges(self._succ)

    def add_node(self, node: Hashable, **attributes: Any) -> None:
        if node not in self._node:
            self._node[node] = {}
            self._succ[node] = {}
            self._pred[node] = {}
        self._node[node].update(attributes)

    def add_nodes_from(self, nodes: Iterable[Hashable]) -> None:
        for node in nodes:
            self.add_node(node)

    def add_edge(self, source: Hashable, target: Hashable, **attributes: Any) -> None:
        self.add_node(source)
        self.add_node(target)
        data = self._succ[source].get(target, {})
        data.update(attributes)
        self._succ[source][target] = data
        self._pred[target][source] = data

    def add_edges_from(
        self, edges: Iterable[tuple[Hashable, Hashable, Attributes] | tuple[Hashable, Hashable]]
    ) -> None:
        """Add ``(source, target)`` or ``(source, target, attributes)`` edges, in order
        (networkx's ``add_edges_from``: the attributes are copied into the edge's)."""
        nodes, successors, predecessors = self._node, self._succ, self._pred
        for edge in edges:
            source, target = edge[0], edge[1]
            for node in (source, target):
                if node not in nodes:
                    nodes[node] = {}
                    successors[node] = {}
                    predecessors[node] = {}
            data = successors[source].get(target)
            if data is None:
                data = successors[source][target] = predecessors[target][source] = {}
            if len(edge) == 3:
                data.update(edge[2])

    def has_edge(self, source: Hashable, target: Hashable) -> bool:
        return target in self._succ.get(source, {})

    def get_edge_data(
        self, source: Hashable, target: Hashable, default: Attributes | None = None
    ) -> Attributes | None:
        return self._succ.get(source, {}).get(target, default)

    def successors(self, node: Hashable) -> Iterator[Any]:
        return iter(self._succ[node])

    def predecessors(self, node: Hashable) -> Iterator[Any]:
        return iter(self._pred[node])

    def in_degree(self, node: Hashable) -> int:
        return len(self._pred[node])

    def out_degree(self, node: Hashable) -> int:
        return len(self._succ[node])

    def number_of_nodes(self) -> int:
        return len(self._node)

    def number_of_edges(self) -> int:
        return len(self.edges)

    def __contains__(self, node: object) -> bool:
        return node in self._node

    def __iter__(self) -> Iterator[Any]:
        return iter(self._node)

    def __len__(self) -> int:
        return len(self._node)


class _Adjacency(Protocol):
    """What :func:`strongly_connected_components` reads: this module's graphs and
    ``networkx.DiGraph`` alike."""

    def __iter__(self) -> Iterator[Any]: ...

    def successors(self, node: Any) -> Iterator[Any]: ...


def strongly_connected_components(graph: _Adjacency) -> list[set[Any]]:
    """The strongly connected components of ``graph`` (Tarjan's algorithm, without
    recursion: import graphs have long chains)."""
    index: dict[Any, int] = {}
    low: dict[Any, int] = {}
    on_stack: set[Any] = set()
    stack: list[Any] = []
    components: list[set[Any]] = []
    for root in graph:
        if root in index:
            continue
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        work: list[tuple[Any, Iterator[Any]]] = [(root, iter(graph.successors(root)))]
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(graph.successors(successor))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    components.append(component)
    return components


def betweenness_centrality(graph: DiGraph) -> dict[Any, float]:
    """Normalised betweenness of every node (unweighted shortest paths, endpoints not
    counted): Brandes' algorithm step for step as ``networkx.betweenness_centrality``
    computes it (same traversal order, same sums, same scaling), so the floats are
    identical to the ones networkx gave."""
    betweenness = dict.fromkeys(graph, 0.0)
    successors = graph._succ
    for source in graph:
        # Breadth first from ``source``: the nodes in the order reached, the shortest
        # paths counted into each (sigma) and their predecessors on them.
        reached: list[Any] = []
        predecessors: dict[Any, list[Any]] = {node: [] for node in graph}
        sigma = dict.fromkeys(graph, 0.0)
        distance: dict[Any, int] = {source: 0}
        sigma[source] = 1.0
        queue: deque[Any] = deque([source])
        while queue:
            node = queue.popleft()
            reached.append(node)
            node_distance = distance[node]
            node_sigma = sigma[node]
            for successor in successors[node]:
                if successor not in distance:
                    queue.append(successor)
                    distance[successor] = node_distance + 1
                if distance[successor] == node_distance + 1:
                    sigma[successor] += node_sigma
                    predecessors[successor].append(node)
        # Dependencies accumulated back from the farthest node.
        delta: dict[Any, float] = dict.fromkeys(reached, 0)
        while reached:
            node = reached.pop()
            coefficient = (1 + delta[node]) / sigma[node]
            for predecessor in predecessors[node]:
                delta[predecessor] += sigma[predecessor] * coefficient
            if node != source:
                betweenness[node] += delta[node]
    pairs = len(graph) - 1  # endpoints excluded: a node is never its own pair's end
    if pairs < 2:
        return betweenness
    scale = 1 / (pairs * (pairs - 1))
    if scale != 1:
        for node in betweenness:
            betweenness[node] *= scale
    return betweenness


def degree_centrality(graph: DiGraph) -> dict[Any, float]:
    """In- plus out-degree over ``n - 1`` for every node, as networkx computes it."""
    if len(graph) <= 1:
        return {node: 1 for node in graph}
    scale = 1.0 / (len(graph) - 1.0)
    return {node: (graph.in_degree(node) + graph.out_degree(node)) * scale for node in graph}


def density(graph: DiGraph) -> float:
    """Edges over the ``n (n - 1)`` possible ones (0, an int, without edges: networkx's
    answer, which the manager graph's summary prints as is)."""
    n = graph.number_of_nodes()
    m = graph.number_of_edges()
    if m == 0 or n <= 1:
        return 0
    return m / (n * (n - 1))
