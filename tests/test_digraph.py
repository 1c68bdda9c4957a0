"""integ_lint.model.digraph stands in for networkx.DiGraph in the import graph and its
views: same answers, same iteration order."""

from __future__ import annotations

import random

import networkx as nx
import pytest

from integ_lint.model.digraph import DiGraph, strongly_connected_components


def _pair(seed: int) -> tuple[DiGraph, nx.DiGraph]:
    rng = random.Random(seed)
    ours, theirs = DiGraph(), nx.DiGraph()
    names = [f"m{i}" for i in range(rng.randint(1, 30))]
    for _ in range(rng.randint(0, 80)):
        if rng.random() < 0.2:
            node = rng.choice(names)
            ours.add_node(node, external=rng.random() < 0.5)
            theirs.add_node(node, external=ours.nodes[node]["external"])
        else:
            source, target = rng.choice(names), rng.choice(names)
            weight = rng.randint(0, 9)
            ours.add_edge(source, target, weight=weight)
            theirs.add_edge(source, target, weight=weight)
    return ours, theirs


@pytest.mark.parametrize("seed", range(40))
def test_same_graph_as_networkx(seed: int) -> None:
    ours, theirs = _pair(seed)
    assert list(ours.nodes) == list(theirs.nodes)
    assert list(ours.nodes(data=True)) == list(theirs.nodes(data=True))
    assert list(ours.edges) == list(theirs.edges)
    assert list(ours.edges(data=True)) == list(theirs.edges(data=True))
    assert ours.number_of_nodes() == theirs.number_of_nodes()
    assert ours.number_of_edges() == theirs.number_of_edges()
    for node in theirs.nodes:
        assert node in ours
        assert list(ours.successors(node)) == list(theirs.successors(node))
        assert list(ours.predecessors(node)) == list(theirs.predecessors(node))
    for source, target in theirs.edges:
        assert ours.has_edge(source, target)
        assert ours.edges[source, target] == theirs.edges[source, target]
        assert ours.get_edge_data(source, target) == theirs.get_edge_data(source, target)
    assert not ours.has_edge("nowhere", "m0")
    assert ours.get_edge_data("nowhere", "m0") is None


@pytest.mark.parametrize("seed", range(40))
def test_same_strongly_connected_components_as_networkx(seed: int) -> None:
    ours, theirs = _pair(seed)
    expected = sorted(sorted(c) for c in nx.strongly_connected_components(theirs))
    assert sorted(sorted(c) for c in strongly_connected_components(ours)) == expected
    # networkx graphs are read the same way (find_cycles takes either)
    assert sorted(sorted(c) for c in strongly_connected_components(theirs)) == expected


def test_a_long_chain_does_not_recurse() -> None:
    graph = DiGraph()
    for i in range(5000):
        graph.add_edge(i, i + 1)
    graph.add_edge(5000, 0)
    assert [len(c) for c in strongly_connected_components(graph)] == [5001]
