"""The measured floor of a cold run: what the parts no analysis over LibCST's tree can
avoid already cost, as ratios against LibCST's own ``parse_module`` measured in the
same run, on the same files, with the same pool.

Not a test: it prints one table. Each stage runs in a fresh process (its own pool of
``--jobs`` forked workers, as the engine's), best wall time and best CPU time of
``--repeat`` (CPU: user + system of the process and its workers; on a loaded machine
compare CPU)::

    (a) LibCST ``parse_module``, as a user of LibCST calls it (the floor of
        benchmarks/run.py: validation on, the cyclic collector on)
    (b) the parse as the engine does it (``analysis._parse_module``: no per-node
        validation; the cyclic collector off, as during a file's analysis)
    (c) (b) plus the engine's read-only walk over the tree with no rule and no
        collector: every node the full selection's walk enters or records, no
        dispatch (the minimum any analysis over the CST pays)
    (n) (c) plus the positions the engine really asks for: an untimed recording run
        of the per-file phase (in process) notes every range and snippet the
        collectors and rules ask of a file's positions (the node, by its index in
        the walk's order, or its path of fields when the walk did not record it);
        the timed run parses and walks each file as (c), then asks for those,
        in the same order, through the same positions code (after the walk, where
        the engine asks some during it)
    (d) (c) plus every node's position from CPython's ``ast`` (the second parse,
        its bucketing and the numbering of the walked nodes), as if every file
        were asked for one
    (p) the engine's per-file phase alone (``executor.analyze_files``: every selected
        file rule and fact collector, the results sent back to the parent), without
        start-up, discovery, the project phase or the report
    (e) the engine's cold run (``integ-lint check --no-cache``, the config's rules)
    (f) the engine's cold run with the cache (emptied before each run as ``integ-lint
        cache clean`` does, then written: the benchmark's cold); only when asked

So a cold run splits into: the parse (b), the walk (c) - (b), the positions the
analysis needs (n) - (c), the collectors' and rules' own work and the results'
transfer (p) - (n), start-up, discovery and the project phase (e) - (p), the cache's
writing (f) - (e). (d) - (c) is what positions would cost if every node were asked.

Files: the ones the engine scans (its discovery with the corpus's config). The
analysed code is parsed, never imported or executed::

    python benchmarks/floor.py benchmarks/corpora/eco-napari-0.9.2 --jobs 2
    python benchmarks/floor.py benchmarks/corpora/eco-napari-0.9.2 --jobs 1 --stages bcnpe
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import multiprocessing
import os
import pickle
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

STAGES = {
    "a": "LibCST parse_module",
    "b": "parse as the engine does",
    "c": "(b) + bare walk",
    "n": "(c) + positions asked for",
    "d": "(c) + every node's position",
    "p": "per-file phase alone",
    "e": "integ-lint cold (--no-cache)",
    "f": "integ-lint cold, cache written",
}
# A file's tree recurses as deep as its nesting (the engine's own bound).
RECURSION_LIMIT = 20_000


# -- one stage, in its own process -------------------------------------------------
_WANTED: frozenset[str] = frozenset()
_CONFIG: Any = None
# Where a node asked about is: its index in the walk's order, or (not recorded by
# the walk) its path from the module: field names, and indices in a sequence field.
NodePath = tuple[str | int, ...]
NodeAddress = int | NodePath
# One question asked of a file's positions: ("range", address, 0, answer) or
# ("snippet", address, limit, answer).
Ask = tuple[str, NodeAddress, int, Any]
# Stage (n): absolute path -> (whether the engine had the walk's order, its asks).
_ASKS: dict[str, tuple[bool, list[Ask]]] = {}


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError):
        return None


def _stage_a(path: str) -> None:
    import libcst

    text = _read(path)
    if text is None:
        return
    with contextlib.suppress(Exception):
        libcst.parse_module(text)


def _engine_stage(
    path: str, walk: bool, positions: bool, asks: tuple[bool, list[Ask]] | None = None
) -> None:
    from libcst.metadata import MetadataWrapper

    from integ_lint.engine import analysis
    from integ_lint.facts.context import FileContext
    from integ_lint.facts.positions import NodePositions

    text = _read(path)
    if text is None:
        return
    collecting = gc.isenabled()
    gc.disable()
    try:
        try:
            tree = analysis._parse_module(text)
        except Exception:
            return
        if not walk:
            return
        context = FileContext(
            relpath=path,
            module="m",
            is_package_init=False,
            source=text,
            tree=tree,
            wrapper=MetadataWrapper(tree, unsafe_skip_copy=True),
            config=_CONFIG,
        )
        walker = analysis.bare_walker(context, _WANTED)
        try:
            walker.walk(tree)
        except RecursionError:
            return
        if positions:
            found = NodePositions(tree, text, walker.visited).from_ast
            assert found is not None
            found.number_all()
        if asks is not None and asks[1]:
            replay_asks(tree, text, walker.visited, *asks)
    finally:
        if collecting:
            gc.enable()


def _stage_b(path: str) -> None:
    _engine_stage(path, walk=False, positions=False)


def _stage_c(path: str) -> None:
    _engine_stage(path, walk=True, positions=False)


def _stage_d(path: str) -> None:
    _engine_stage(path, walk=True, positions=True)


def _stage_n(path: str) -> None:
    _engine_stage(path, walk=True, positions=False, asks=_ASKS.get(path, (True, [])))


WORK: dict[str, Callable[[str], None]] = {
    "a": _stage_a,
    "b": _stage_b,
    "c": _stage_c,
    "n": _stage_n,
    "d": _stage_d,
}


# -- stage (n): the positions asked for in a real run ---------------------------------
def _child_paths(module: Any) -> dict[int, NodePath]:
    """id(node) -> its path from ``module`` (field names, and indices in a field's
    sequence), for every node: cheap to follow (``CSTNode.children`` visits)."""
    import dataclasses

    import libcst

    paths: dict[int, NodePath] = {}
    stack: list[tuple[Any, NodePath]] = [(module, ())]
    while stack:
        current, path = stack.pop()
        paths[id(current)] = path
        for field in dataclasses.fields(current):
            value = getattr(current, field.name)
            if isinstance(value, libcst.CSTNode):
                stack.append((value, (*path, field.name)))
            elif isinstance(value, (list, tuple)):
                stack.extend(
                    (item, (*path, field.name, i))
                    for i, item in enumerate(value)
                    if isinstance(item, libcst.CSTNode)
                )
    return paths


def _follow(module: Any, path: NodePath) -> Any:
    node = module
    for step in path:
        node = node[step] if isinstance(step, int) else getattr(node, step)
    return node


def replay_asks(
    tree: Any, text: str, visited: list[Any], had_order: bool, asks: list[Ask]
) -> list[Any]:
    """Ask a fresh positions object of ``tree`` the recorded questions; their answers."""
    from integ_lint.facts.positions import NodePositions

    positions = NodePositions(tree, text, visited if had_order else None)
    answers: list[Any] = []
    for kind, address, limit, _ in asks:
        node = visited[address] if isinstance(address, int) else _follow(tree, address)
        if kind == "range":
            answers.append(positions.range_of(node))
        else:
            answers.append(positions.snippet(node, limit))
    return answers


@contextlib.contextmanager
def _recording(relpath_to_path: dict[str, str]) -> Iterator[dict[str, tuple[bool, list[Ask]]]]:
    """While open, every range and snippet asked of a file's positions (through
    ``FileContext.positions``, the engine's only way to them) is noted, with its
    answer, by the file's absolute path."""
    from integ_lint.facts.context import FileContext
    from integ_lint.facts.positions import NodePositions

    recorded: dict[str, tuple[bool, list[Ask]]] = {}
    # id(positions) -> (its file's asks, the walk's order, id(node) -> index, and
    # id(node) -> its path, filled once a node outside the order is asked about).
    owners: dict[int, tuple[list[Ask], list[Any] | None, dict[int, int], dict[int, NodePath]]] = {}
    made_positions = FileContext.positions
    original_range = NodePositions.range_of
    original_snippet = NodePositions.snippet

    def positions(context: FileContext) -> NodePositions:
        new = context._positions is None
        found: NodePositions = made_positions.fget(context)  # type: ignore[attr-defined]
        if new:
            # A file analysed again (positions.AstPositions.consistent) adds to its list.
            _, asks = recorded.setdefault(
                relpath_to_path[context.relpath], (context.visited is not None, [])
            )
            owners[id(found)] = (asks, context.visited, {}, {})
        return found

    def address(owner: NodePositions, node: Any) -> NodeAddress | None:
        _, order, indexes, paths = owners[id(owner)]
        if order is not None:
            if id(node) not in indexes and len(indexes) < len(order):
                indexes.update((id(walked), i) for i, walked in enumerate(order))
            if id(node) in indexes:
                return indexes[id(node)]
        if not paths:
            paths.update(_child_paths(owner._module))
        return paths.get(id(node))

    def note(owner: NodePositions, kind: str, node: Any, limit: int, answer: Any) -> None:
        if id(owner) not in owners:
            return  # not made for a file's context (none is, at HEAD)
        where = address(owner, node)
        if where is not None:  # a node of another tree: no position of this file
            owners[id(owner)][0].append((kind, where, limit, answer))

    def range_of(self: NodePositions, node: Any) -> tuple[int, int, int, int]:
        answer = original_range(self, node)
        note(self, "range", node, 0, answer)
        return answer

    def snippet(self: NodePositions, node: Any, limit: int) -> str | None:
        answer = original_snippet(self, node, limit)
        note(self, "snippet", node, limit, answer)
        return answer

    FileContext.positions = property(positions)  # type: ignore[assignment,method-assign]
    NodePositions.range_of = range_of  # type: ignore[method-assign]
    NodePositions.snippet = snippet  # type: ignore[method-assign]
    try:
        yield recorded
    finally:
        FileContext.positions = made_positions  # type: ignore[method-assign]
        NodePositions.range_of = original_range  # type: ignore[method-assign]
        NodePositions.snippet = original_snippet  # type: ignore[method-assign]


def record_asks(root: Path, config_file: Path | None) -> dict[str, tuple[bool, list[Ask]]]:
    """Run the engine's per-file phase in this process (untimed) and return what each
    file's positions were asked."""
    from integ_lint.config.loader import load_config
    from integ_lint.engine.discovery import discover_files
    from integ_lint.engine.executor import analyze_files
    from integ_lint.engine.registry import load_registry
    from integ_lint.engine.selection import select_rules

    registry = load_registry()
    config = load_config([root], config_file, {}, extra_sections=registry.sections)
    selection = select_rules(config, registry)
    files = discover_files([root], config)
    with _recording({f.relpath: str(f.path) for f in files}) as recorded:
        analyze_files(files, config, selection.file_rules, selection.collectors, jobs=1)
    return recorded


def _engine_setup(root: Path, config_file: Path | None) -> list[str]:
    """The files the engine scans, and (as globals the forked workers inherit) the
    config and the node kinds the selected rules and collectors visit."""
    global _CONFIG, _WANTED
    from integ_lint.config.loader import load_config
    from integ_lint.engine.discovery import discover_files
    from integ_lint.engine.manifest import loaded_rules
    from integ_lint.engine.registry import load_registry
    from integ_lint.engine.selection import select_rules
    from integ_lint.facts.collector import visitor_method_names

    registry = load_registry()
    config = load_config([root], config_file, {}, extra_sections=registry.sections)
    selection = select_rules(config, registry)
    visitors = [*loaded_rules(selection.file_rules), *loaded_rules(selection.collectors)]
    _WANTED = frozenset(
        name.split("_", 2)[1] for kind in visitors for name in visitor_method_names(kind)
    )
    _CONFIG = config
    return [str(f.path) for f in discover_files([root], config)]


def _per_file_phase(root: Path, config_file: Path | None, jobs: int) -> None:
    """Stage (p): the engine's executor over the files, as ``check --no-cache`` runs it."""
    from integ_lint.config.loader import load_config
    from integ_lint.engine.discovery import discover_files
    from integ_lint.engine.executor import analyze_files
    from integ_lint.engine.registry import load_registry
    from integ_lint.engine.selection import select_rules

    registry = load_registry()
    config = load_config([root], config_file, {}, extra_sections=registry.sections)
    selection = select_rules(config, registry)
    files = discover_files([root], config)
    analyze_files(files, config, selection.file_rules, selection.collectors, jobs=jobs)


def run_stage(
    stage: str, root: Path, config_file: Path | None, jobs: int, asks_file: Path | None = None
) -> None:
    """One stage over the corpus; (n) reads its questions from ``asks_file`` (written
    by ``record_asks``), or records them first when there is none."""
    global _ASKS
    if stage == "p":
        _per_file_phase(root, config_file, jobs)
        return
    if stage == "n":
        if asks_file is None:
            _ASKS = record_asks(root, config_file)
        else:
            with open(asks_file, "rb") as handle:
                _ASKS = pickle.load(handle)
    files = _engine_setup(root, config_file)
    if stage in ("b", "c", "n", "d"):
        import libcst  # noqa: F401  (imported before the fork, as the engine does)

        from integ_lint.engine import analysis  # noqa: F401
    sys.setrecursionlimit(max(sys.getrecursionlimit(), RECURSION_LIMIT))
    work = WORK[stage]
    if jobs == 1:
        for path in files:
            work(path)
        return
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        for _ in pool.imap_unordered(work, files, chunksize=16):
            pass


# -- the table -----------------------------------------------------------------------
def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds of ``command`` (its workers included)."""
    cpu = _children_cpu()
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started, _children_cpu() - cpu


def command_for(
    stage: str, root: Path, config_file: Path | None, jobs: int, asks_file: Path | None = None
) -> list[str]:
    if stage in ("e", "f"):
        command = [sys.executable, "-m", "integ_lint", "check", "--exit-zero"]
        command += ["--no-cache"] if stage == "e" else []
        command += ["--jobs", str(jobs), "--format", "concise", "--no-progress"]
        if config_file is not None:
            command += ["--config", str(config_file)]
        return [*command, str(root)]
    command = [sys.executable, os.path.abspath(__file__), str(root), "--stage", stage]
    if stage == "n" and asks_file is not None:
        command += ["--asks", str(asks_file)]
    command += ["--jobs", str(jobs)]
    if config_file is not None:
        command += ["--config", str(config_file)]
    return command


def _clean_cache(root: Path, config_file: Path | None) -> None:
    """Empty the cache folder stage (f) writes, as ``integ-lint cache clean`` does (it
    deletes integ-lint's own files only)."""
    from integ_lint.config.loader import load_config
    from integ_lint.engine.cache import cache_directory, clean
    from integ_lint.engine.registry import load_registry

    registry = load_registry()
    config = load_config([root], config_file, {}, extra_sections=registry.sections)
    clean(cache_directory(config), config.root)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, help="the corpus (a project folder)")
    parser.add_argument("--jobs", type=int, default=2, help="pool size (1: in process)")
    parser.add_argument("--config", type=Path, help="default: ROOT/integ-lint.toml if any")
    parser.add_argument("--repeat", type=int, default=1, help="best of this many runs")
    parser.add_argument(
        "--stages", default="abcndpe", help="which stages, in order (default: all but f)"
    )
    parser.add_argument("--stage", choices=sorted([*WORK, "p"]), help=argparse.SUPPRESS)
    parser.add_argument("--asks", type=Path, help=argparse.SUPPRESS)  # stage (n)'s input
    parser.add_argument("--record", type=Path, help=argparse.SUPPRESS)  # its output
    options = parser.parse_args()
    root = options.root.resolve()
    config_file = options.config
    if config_file is None and (root / "integ-lint.toml").is_file():
        config_file = root / "integ-lint.toml"
    if options.record is not None:
        recorded = record_asks(root, config_file)
        with open(options.record, "wb") as handle:
            pickle.dump(recorded, handle)
        return
    if options.stage is not None:
        run_stage(options.stage, root, config_file, options.jobs, options.asks)
        return
    with tempfile.TemporaryDirectory(prefix="integ-lint-floor-") as scratch:
        asks_file = None
        if "n" in options.stages:
            asks_file = Path(scratch) / "asks.pickle"
            record = [sys.executable, os.path.abspath(__file__), str(root)]
            record += ["--record", str(asks_file)]
            if config_file is not None:
                record += ["--config", str(config_file)]
            subprocess.run(record, cwd=root, check=True, stdout=subprocess.DEVNULL)
            _print_asks(asks_file)
        _table(root, config_file, options, asks_file)


def _print_asks(asks_file: Path) -> None:
    with open(asks_file, "rb") as handle:
        recorded: dict[str, tuple[bool, list[Ask]]] = pickle.load(handle)
    asks = [ask for _, file_asks in recorded.values() for ask in file_asks]
    print(
        f"(n) asks {len(asks)} questions of {sum(1 for _, a in recorded.values() if a)} "
        f"files' positions ({sum(1 for a in asks if a[0] == 'snippet')} snippets; "
        f"{sum(1 for a in asks if not isinstance(a[1], int))} nodes outside the walk's order)"
    )


def _table(
    root: Path, config_file: Path | None, options: argparse.Namespace, asks_file: Path | None
) -> None:
    print(f"{root.name}: {len(_engine_setup(root, config_file))} files, -j {options.jobs}")
    measured: dict[str, tuple[float, float]] = {}
    for stage in options.stages:
        runs = []
        for _ in range(options.repeat):
            if stage == "f":
                _clean_cache(root, config_file)
            command = command_for(stage, root, config_file, options.jobs, asks_file)
            runs.append(measure(command, root))
        # The best of each column (on a loaded machine, not always the same run).
        measured[stage] = (min(wall for wall, _ in runs), min(cpu for _, cpu in runs))
    base = measured.get("a")
    print(f"{'stage':<36}{'wall s':>8}{'CPU s':>8}{'x (a)':>8}{'CPU x':>8}")
    for stage, (wall, cpu) in measured.items():
        ratio = f"{wall / base[0]:.2f}" if base else "-"
        cpu_ratio = f"{cpu / base[1]:.2f}" if base else "-"
        label = f"({stage}) {STAGES[stage]}"
        print(f"{label:<36}{wall:>8.2f}{cpu:>8.2f}{ratio:>8}{cpu_ratio:>8}")
    if all(stage in measured for stage in "bcnpe"):
        parts = {
            "parse (b)": measured["b"],
            "walk (c)-(b)": _minus(measured["c"], measured["b"]),
            "positions asked (n)-(c)": _minus(measured["n"], measured["c"]),
            "collectors and rules (p)-(n)": _minus(measured["p"], measured["n"]),
            "start-up, discovery, project (e)-(p)": _minus(measured["e"], measured["p"]),
        }
        if "f" in measured:
            parts["cache writing (f)-(e)"] = _minus(measured["f"], measured["e"])
        total_cpu = sum(cpu for _, cpu in parts.values())
        print(f"{'a cold run, split':<36}{'wall s':>8}{'CPU s':>8}{'CPU %':>8}")
        for label, (wall, cpu) in parts.items():
            print(f"{label:<36}{wall:>8.2f}{cpu:>8.2f}{cpu / total_cpu:>8.0%}")
    if base and "d" in measured:
        budget = 1.3 * base[0]
        print(
            f"the 1.3x target: {budget:.2f} s; (d), before any rule or collector, "
            f"already takes {measured['d'][0] / budget:.0%} of it"
        )


def _minus(later: tuple[float, float], earlier: tuple[float, float]) -> tuple[float, float]:
    return later[0] - earlier[0], later[1] - earlier[1]


if __name__ == "__main__":
    main()
