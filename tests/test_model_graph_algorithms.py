"""The project model's graph algorithms give networkx's answers, to the last bit.

The manager graph's metrics and the boundary contracts were computed with networkx;
the model computes them on its own small graph (integ_lint.model.digraph) so that a
run rebuilding them does not import networkx. Random graphs, seeded, compared exactly.
"""

from __future__ import annotations

import random
from types import SimpleNamespace

import networkx as nx
import pytest
from integ_lint.rules.coupling import _shortest_cycle

from integ_lint.model.coupling import _longest_chain
from integ_lint.model.digraph import (
    DiGraph,
    betweenness_centrality,
    degree_centrality,
    density,
    strongly_connected_components,
)


def _random_pair(seed: int) -> tuple[DiGraph, nx.DiGraph]:
    rng = random.Random(seed)
    count = rng.randint(0, 14)
    nodes = [f"n{i:02d}" for i in range(count)]
    rng.shuffle(nodes)
    ours, theirs = DiGraph(), nx.DiGraph()
    for node in nodes:
        ours.add_node(node)
        theirs.add_node(node)
    edges = [(u, v) for u in nodes for v in nodes if u != v and rng.random() < 0.2]
    rng.shuffle(edges)
    ours.add_edges_from(edges)
    theirs.add_edges_from(edges)
    return ours, theirs


@pytest.mark.parametrize("seed", range(60))
def test_metrics_equal_networkx(seed: int) -> None:
    ours, theirs = _random_pair(seed)
    assert list(ours) == list(theirs)
    assert list(ours.edges) == list(theirs.edges)
    if len(theirs) > 2:
        expected = nx.betweenness_centrality(theirs, normalized=True)
        found = betweenness_centrality(ours)
        assert list(found.items()) == list(expected.items())  # exact floats, same order
    if len(theirs) > 1:
        assert degree_centrality(ours) == nx.degree_centrality(theirs)
        assert density(ours) == nx.density(theirs)
        assert type(density(ours)) is type(nx.density(theirs))  # 0 without edges
    assert sorted(map(sorted, strongly_connected_components(ours))) == sorted(
        map(sorted, nx.strongly_connected_components(theirs))
    )
    for node in theirs:
        assert ours.in_degree(node) == theirs.in_degree(node)
        assert ours.out_degree(node) == theirs.out_degree(node)
    assert list(ours.edges(data="kinds")) == list(theirs.edges(data="kinds"))


def _networkx_longest_chain(graph: nx.DiGraph, labels: dict[str, str]) -> list[list[str]]:
    """The manager graph's longest chain as it was computed with networkx."""
    if graph.number_of_nodes() == 0:
        return []
    condensed = nx.condensation(graph)
    members = {c: sorted(condensed.nodes[c]["members"], key=lambda k: labels[k]) for c in condensed}

    def names(path: list[int]) -> list[list[str]]:
        return [[labels[k] for k in members[c]] for c in path]

    best: dict[int, list[int]] = {}
    for component in reversed(list(nx.topological_sort(condensed))):
        candidates = [[component, *best[s]] for s in condensed.successors(component)]
        candidates.append([component])
        best[component] = min(candidates, key=lambda p: (-len(p), names(p)))
    path = min(best.values(), key=lambda p: (-len(p), names(p)))
    return [members[c] for c in path]


@pytest.mark.parametrize("seed", range(60))
def test_longest_chain_equals_networkx(seed: int) -> None:
    ours, theirs = _random_pair(seed)
    labels = {node: node.upper() for node in theirs}
    assert _longest_chain(ours, labels) == _networkx_longest_chain(theirs, labels)


def test_add_edges_from_keeps_attributes_and_order() -> None:
    graph = DiGraph()
    graph.add_edges_from([("a", "b", {"sites": [1]}), ("c", "a"), ("a", "b", {"kind": "x"})])
    assert list(graph) == ["a", "b", "c"]
    assert list(graph.edges(data=True)) == [
        ("a", "b", {"sites": [1], "kind": "x"}),
        ("c", "a", {}),
    ]
    assert list(graph.predecessors("a")) == ["c"]


def _networkx_shortest_cycle(graph: SimpleNamespace, component: list[str]) -> list[str]:
    """IL501's cycle as it was chosen with networkx."""
    members = set(component)
    start = component[0]
    sub = nx.DiGraph()
    sub.add_nodes_from(component)
    sub.add_edges_from(
        (u, v)
        for u, v, kinds in graph.simple.edges(data="kinds")
        if u in members and v in members and "back-reference" not in kinds
    )
    best: list[str] | None = None
    for predecessor in sorted(sub.predecessors(start), key=graph.label):
        try:
            paths = list(nx.all_shortest_paths(sub, start, predecessor))
        except nx.NetworkXNoPath:
            continue
        for path in paths:
            candidate = [*path, start]
            if best is None or (len(candidate), [graph.label(n) for n in candidate]) < (
                len(best),
                [graph.label(n) for n in best],
            ):
                best = candidate
    return best or [start, start]


@pytest.mark.parametrize("seed", range(60))
def test_shortest_cycle_equals_networkx(seed: int) -> None:
    rng = random.Random(seed)
    simple = DiGraph()
    nodes = [f"n{i:02d}" for i in range(rng.randint(2, 12))]
    for u in nodes:
        for v in nodes:
            if u != v and rng.random() < 0.3:
                kinds = ["back-reference"] if rng.random() < 0.15 else ["uses"]
                simple.add_edge(u, v, kinds=kinds)
    labels = {node: f"L{(int(node[1:]) * 7) % 13:02d}{node}" for node in nodes}
    graph = SimpleNamespace(simple=simple, label=labels.__getitem__)
    for component in strongly_connected_components(simple):
        ordered = sorted(component, key=labels.__getitem__)
        assert _shortest_cycle(graph, ordered) == _networkx_shortest_cycle(graph, ordered)
