"""IL5xx: coupling between managers, over the manager graph of
:mod:`integ_lint.model.coupling`."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from itertools import pairwise
from typing import TYPE_CHECKING

from integ_lint.config.settings import CouplingSettings
from integ_lint.facts.managers import ManagerFactCollector
from integ_lint.findings.model import Finding, RelatedLocation, Severity
from integ_lint.model.coupling import EdgeSite, ManagerGraph, manager_graph
from integ_lint.model.coupling import ReachThrough as ReachSite
from integ_lint.model.project import ProjectIndex
from integ_lint.rule import Invalid, ProjectRule, Valid

if TYPE_CHECKING:
    pass

FAMILY = "coupling"

# Which site of an edge stands for it: the structural kinds before the import.
_SITE_PREFERENCE = ("owns", "uses", "back-reference", "imports")


def _reportable(project: ProjectIndex, path: str) -> bool:
    return project.report_paths is None or path in project.report_paths


def primary_site(graph: ManagerGraph, source: str, target: str) -> tuple[str, EdgeSite]:
    """The kind and first site that best stand for the edge ``source -> target``."""
    for kind in _SITE_PREFERENCE:
        sites = graph.edge_sites.get((source, target, kind))
        if sites:
            return kind, sites[0]
    raise KeyError((source, target))


def _verb(kind: str) -> str:
    return {
        "owns": "owns",
        "uses": "uses",
        "back-reference": "is handed its owner",
        "imports": "imports",
    }[kind]


class _CouplingRule(ProjectRule):
    FACTS = (ManagerFactCollector,)
    family = FAMILY


class ManagerCycle(_CouplingRule):
    """Managers that depend on each other in a cycle.

    **What it does**
    Builds the manager graph (owns, uses, imports edges) and reports each strongly
    connected group of managers once: on the edge that closes the shortest cycle
    through its alphabetically first manager, with every edge of the cycle as a related
    location. A managed object pointing back at the owner that constructed it with
    ``self`` is IL504's finding and does not close a cycle here; neither do
    ``TYPE_CHECKING`` imports.

    **Why is this bad?**
    Managers in a cycle can only be built, tested and changed together; construction
    order turns into late ``bind_*`` calls and ``None`` checks, and a change in either
    ripples into the other.

    **Example**
    ```python
    class StepManager:
        def __init__(self, metrics_manager: "MetricsManager") -> None:
            self.metrics_manager = metrics_manager

    class MetricsManager:
        def bind_step_manager(self, step_manager: StepManager) -> None:
            self.step_manager = step_manager
    ```

    **How to fix**
    Break one direction: pass the value (``episode_length``) instead of the manager,
    publish an event, or have the owner mediate between the two.
    """

    code = "IL501"
    name = "manager-cycle"
    severity = Severity.WARNING
    VALID = (
        Valid(
            """
            class MetricsManager:
                def record(self, episode_length: int) -> None: ...

            class StepManager:
                def __init__(self, metrics_manager: MetricsManager) -> None:
                    self.metrics_manager = metrics_manager

                def step(self) -> None:
                    self.metrics_manager.record(3)
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            class StepManager:
                def __init__(self, metrics_manager: "MetricsManager") -> None:
                    self.metrics_manager = metrics_manager

                def step(self) -> None:
                    self.metrics_manager.record()

            class MetricsManager:
                def bind(self, step_manager: StepManager) -> None:
                    self.step_manager = step_manager

                def record(self) -> int:
                    return self.step_manager.episode_length
            """,
            line=3,
            message="MetricsManager -> StepManager -> MetricsManager",
        ),
        Invalid(
            """
            from pkg.b import BService

            class ZService:
                def __init__(self, b: BService) -> None:
                    self.b = b
            """,
            line=5,
            path="pkg/a.py",
            files={
                "pkg/__init__.py": "",
                "pkg/b.py": (
                    "from typing import TYPE_CHECKING\n"
                    "if TYPE_CHECKING:\n"
                    "    from pkg.a import ZService\n"
                    "class BService:\n"
                    "    def attach(self, z: 'ZService') -> None:\n"
                    "        self.z = z\n"
                ),
            },
            message="BService -> ZService -> BService",
        ),
    )

    def check(self, project: ProjectIndex) -> Iterable[Finding]:
        graph = manager_graph(project)
        for component in graph.cycles:
            cycle = _shortest_cycle(graph, component)
            edges = list(pairwise(cycle))
            sites = [primary_site(graph, u, v) for u, v in edges]
            _, closing = sites[-1]
            if not _reportable(project, closing.path):
                continue
            names = [graph.label(n) for n in cycle]
            closing_kind = sites[-1][0]
            message = (
                f"manager cycle {' -> '.join(names)}: {names[-2]} {_verb(closing_kind)} "
                f"{names[-1]} here, which closes it"
            )
            if len(component) > len(edges):
                message += (
                    f" (all of {', '.join(graph.label(n) for n in component)} depend on each "
                    "other, directly or not)"
                )
            related = [
                RelatedLocation(
                    site.path, site.site.span, f"{graph.label(u)} {_verb(kind)} {graph.label(v)}"
                )
                for (u, v), (kind, site) in zip(edges, sites)
            ]
            yield self.finding(
                closing.path,
                closing.site,
                message,
                related=related,
                properties={"cycle": names},
            )


def _shortest_cycle(graph: ManagerGraph, component: list[str]) -> list[str]:
    """The shortest cycle through the component's first manager (by name); ties broken
    by names, so the choice is stable."""
    members = set(component)
    start = component[0]
    successors: dict[str, list[str]] = {}
    predecessors: set[str] = set()
    for u, v, kinds in graph.simple.edges(data="kinds"):
        if u in members and v in members and "back-reference" not in kinds:
            successors.setdefault(u, []).append(v)
            if v == start:
                predecessors.add(u)
    cycles = [
        [*path, start]
        for predecessor in sorted(predecessors, key=graph.label)
        for path in _all_shortest_paths(successors, start, predecessor)
    ]
    # min keeps the first of equal keys: the order above decides what the key cannot.
    return min(
        cycles,
        key=lambda cycle: (len(cycle), [graph.label(n) for n in cycle]),
        default=[start, start],
    )


def _all_shortest_paths(
    successors: dict[str, list[str]], source: str, target: str
) -> list[list[str]]:
    """Every shortest path from ``source`` to ``target`` (none when unreachable)."""
    distance = {source: 0}
    parents: dict[str, list[str]] = {source: []}
    queue = deque([source])
    while queue:
        node = queue.popleft()
        for following in successors.get(node, ()):
            if following not in distance:
                distance[following] = distance[node] + 1
                parents[following] = [node]
                queue.append(following)
            elif distance[following] == distance[node] + 1:
                parents[following].append(node)
    if target not in distance:
        return []
    paths: list[list[str]] = []
    pending = [[target]]
    while pending:
        tail = pending.pop()
        if tail[0] == source:
            paths.append(tail)
            continue
        pending.extend([parent, *tail] for parent in parents[tail[0]])
    return paths


class ReachThrough(_CouplingRule):
    """Reaching through one manager into another (``trainer.metrics_manager.x``).

    **What it does**
    Reports every attribute chain that reads attributes of two or more managers other
    than ``self``: ``trainer.metrics_manager.global_timestep`` in a callback,
    ``self.trainer.env_manager.game.board`` in a manager. Types come from parameter
    annotations, ``self.x = X(...)`` constructions, attributes assigned from them and,
    for unannotated parameters, a name that is exactly a manager's snake-cased name.
    One hop (``trainer.metrics_manager``; ``self.env_manager.game`` inside the owner)
    is fine. Each class (or module, outside classes) gets one finding per manager it
    reaches into, at its first site, with every other site as a related location and
    the count in the message. Only library classes are managers; reach-throughs are
    reported in library code only (tests that reach into managers are not).

    **Why is this bad?**
    The caller depends on the owner's private wiring: renaming or splitting a manager
    of the Trainer breaks callbacks far away, and tests have to build the whole owner.

    **Example**
    ```python
    def on_step_end(self, trainer: Trainer) -> None:
        if trainer.metrics_manager.global_timestep % 1000 == 0: ...
    ```

    **How to fix**
    Give the owner a narrow method or property (``trainer.global_timestep``), or
    inject the manager (or the value) the caller actually needs.
    """

    code = "IL502"
    name = "manager-reach-through"
    severity = Severity.WARNING
    _MANAGERS = """
        class MetricsManager:
            def __init__(self) -> None:
                self.global_timestep = 0

        class Trainer:
            def __init__(self) -> None:
                self.metrics_manager = MetricsManager()

            @property
            def global_timestep(self) -> int:
                return self.metrics_manager.global_timestep
        """
    VALID = (
        Valid(
            _MANAGERS
            + """
        def on_step(trainer: Trainer) -> int:
            metrics = trainer.metrics_manager
            return trainer.global_timestep
        """
        ),
    )
    INVALID = (
        Invalid(
            _MANAGERS
            + """
        def on_step(trainer: Trainer) -> int:
            return trainer.metrics_manager.global_timestep
        """,
            line=14,
            message="through Trainer into MetricsManager",
        ),
        Invalid(
            _MANAGERS
            + """
        class Callback:
            def __init__(self, trainer) -> None:
                self.trainer = trainer

            def on_step(self) -> None:
                self.trainer.metrics_manager.global_timestep += 1
        """,
            line=18,
        ),
        Invalid(
            _MANAGERS
            + """
        class Logger:
            def __init__(self, trainer: Trainer) -> None:
                self.trainer = trainer

            def log(self) -> int:
                step = self.trainer.metrics_manager.global_timestep
                return step + self.trainer.metrics_manager.global_timestep
        """,
            line=18,
            message="into MetricsManager (2 sites)",
        ),
    )

    def check(self, project: ProjectIndex) -> Iterable[Finding]:
        graph = manager_graph(project)
        # One finding per (class, reached manager): the first site is the finding,
        # every other one a related location, so that a callback reading ten fields
        # of trainer.metrics_manager is one thing to fix, not ten.
        groups: dict[tuple[str, str, str], list[ReachSite]] = {}
        for reach in graph.reach_throughs:
            if not _reportable(project, reach.path):
                continue
            where = reach.owner or reach.path
            groups.setdefault((where, reach.hops[0], reach.hops[1]), []).append(reach)
        for (_, through, reached), reaches in groups.items():
            reaches.sort(key=lambda r: (r.path, r.site.span.start_line, r.site.span.start_col))
            first_reach = reaches[0]
            first, second = graph.label(through), graph.label(reached)
            count = f" ({len(reaches)} sites)" if len(reaches) > 1 else ""
            yield self.finding(
                first_reach.path,
                first_reach.site,
                f"`{first_reach.site.snippet}` reaches through {first} into {second}{count}: "
                f"this code depends on how {first} wires its managers; ask {first} for what "
                f"you need or inject {second}",
                related=[
                    RelatedLocation(r.path, r.site.span, f"also reaches into {second}")
                    for r in reaches[1:]
                ],
                properties={
                    "hops": [graph.label(h) for h in first_reach.hops],
                    "sites": len(reaches),
                },
            )


class ManagerHub(_CouplingRule):
    """A manager that depends on too many other managers, or sits on most paths.

    **What it does**
    Reports a manager (or owner) whose efferent coupling (the number of managers it
    owns, uses or imports) exceeds ``hub-threshold`` (default 7), and the manager
    with the highest betweenness centrality when that exceeds
    ``betweenness-threshold`` (default 0.5). The message lists its dependencies.

    **Why is this bad?**
    A hub is where every change lands: it cannot be tested without all its managers,
    and every manager that reaches it can reach everything else.

    **Example**
    ```python
    class Trainer:
        def __init__(self, config):
            self.session_manager = SessionManager(config)
            self.model_manager = ModelManager(config)
            ...  # eight more
    ```

    **How to fix**
    Group managers that always work together behind one facade, and pass the narrow
    pieces to the code that needs them instead of the hub itself.
    """

    code = "IL503"
    name = "manager-hub"
    severity = Severity.NOTE
    _HUB = """
        class AManager: ...
        class BManager: ...
        class CManager: ...

        class Trainer:
            def __init__(self) -> None:
                self.a = AManager()
                self.b = BManager()
        """
    # A chain: BManager sits on every path between the others.
    _CHAIN = """
            class AManager: ...

            class BManager:
                def __init__(self) -> None:
                    self.a = AManager()

            class CManager:
                def __init__(self) -> None:
                    self.b = BManager()
            """
    VALID = (
        Valid(_HUB, config="[tool.integ-lint.coupling]\nhub-threshold = 2\n"),
        Valid(_CHAIN),
    )
    INVALID = (
        Invalid(
            _HUB + "        self.c = CManager()\n",
            line=5,
            config="[tool.integ-lint.coupling]\nhub-threshold = 2\n",
            message="AManager, BManager, CManager",
        ),
        Invalid(
            _CHAIN,
            line=3,
            config="[tool.integ-lint.coupling]\nbetweenness-threshold = 0.4\n",
            message="betweenness",
        ),
    )

    def check(self, project: ProjectIndex) -> Iterable[Finding]:
        graph = manager_graph(project)
        settings = project.config.section(CouplingSettings)
        reasons: dict[str, str] = {}
        for key, metrics in graph.metrics.items():
            if metrics.ce > settings.hub_threshold:
                reasons[key] = (
                    f"depends on {metrics.ce} other managers "
                    f"(more than hub-threshold {settings.hub_threshold})"
                )
        if graph.metrics:
            top = max(graph.metrics.values(), key=lambda m: (m.betweenness, m.name))
            if top.betweenness > settings.betweenness_threshold:
                extra = (
                    f"has the highest betweenness centrality ({top.betweenness:.2f}, above "
                    f"betweenness-threshold {settings.betweenness_threshold:g}): it sits on "
                    "most dependency paths between managers"
                )
                reasons[top.key] = (
                    f"{reasons[top.key]} and {extra}" if top.key in reasons else extra
                )
        for key in sorted(reasons, key=graph.label):
            metrics = graph.metrics[key]
            if not _reportable(project, metrics.file):
                continue
            targets = sorted(
                graph.simple.successors(key),
                key=lambda t: _site_key(primary_site(graph, key, t)[1]),
            )
            info = graph.classes[key]
            yield self.finding(
                metrics.file,
                info.fact.site,
                f"{metrics.name} {reasons[key]}: {', '.join(graph.label(t) for t in targets)}",
                properties={
                    "ce": metrics.ce,
                    "betweenness": metrics.betweenness,
                    "dependencies": [graph.label(t) for t in targets],
                },
            )


def _site_key(site: EdgeSite) -> tuple[str, int, int]:
    return (site.path, site.site.span.start_line, site.site.span.start_col)


class OwnerBackReference(_CouplingRule):
    """An owner handing ``self`` to a manager it constructs.

    **What it does**
    Reports ``TrainingLoopManager(trainer=self)`` (any call of a manager's class with
    ``self`` as an argument) in a manager or in a class that owns managers.

    **Why is this bad?**
    The managed object can now reach everything the owner holds, so it grows
    ``self.trainer.x.y`` reach-throughs, owner and managed depend on each other, and
    neither can be built or tested without the other.

    **Example**
    ```python
    class Trainer:
        def __init__(self) -> None:
            self.training_loop_manager = TrainingLoopManager(trainer=self)
    ```

    **How to fix**
    Pass the narrow dependencies the managed object needs (``step_manager=...``,
    ``callbacks=...``), or a ``Protocol`` that the owner implements.
    """

    code = "IL504"
    name = "manager-back-reference"
    severity = Severity.WARNING
    # Opt-in: 0 of 3 true on the ecosystem check (distributed's memory managers and
    # shuffle runs take their owner by design).
    default_enabled = False
    VALID = (
        Valid(
            """
            class StepManager: ...

            class TrainingLoopManager:
                def __init__(self, step_manager: StepManager) -> None:
                    self.step_manager = step_manager

            class Trainer:
                def __init__(self) -> None:
                    self.step_manager = StepManager()
                    self.loop = TrainingLoopManager(step_manager=self.step_manager)

                def train(self) -> None:
                    self.loop.on_train_start(self)
            """
        ),
    )
    INVALID = (
        Invalid(
            """
            class TrainingLoopManager:
                def __init__(self, trainer: "Trainer") -> None:
                    self.trainer = trainer

            class Trainer:
                def __init__(self) -> None:
                    self.loop = TrainingLoopManager(trainer=self)
            """,
            line=7,
            message="Trainer hands `self` to TrainingLoopManager",
        ),
    )

    def check(self, project: ProjectIndex) -> Iterable[Finding]:
        graph = manager_graph(project)
        for back in graph.back_references:
            if not _reportable(project, back.path):
                continue
            owner, target = graph.label(back.owner), graph.label(back.target)
            how = f"{back.keyword}=self" if back.keyword else "self"
            yield self.finding(
                back.path,
                back.site,
                f"{owner} hands `self` to {target} ({how}): the managed object now depends on "
                f"its owner and everything it holds; pass the narrow dependencies or a Protocol",
                properties={"owner": owner, "managed": target},
            )
