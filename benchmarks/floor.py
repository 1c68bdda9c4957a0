"""The measured floor of a cold run: what the parts no analysis over LibCST's tree can
avoid already cost, as ratios against LibCST's own ``parse_module`` measured in the
same run, on the same files, with the same pool.

Not a test: it prints one table. Each stage runs in a fresh process (its own pool of
``--jobs`` forked workers, as the engine's), best wall time of ``--repeat``; CPU is
user + system of the process and its workers::

    (a) LibCST ``parse_module``, as a user of LibCST calls it (the floor of
        benchmarks/run.py: validation on, the cyclic collector on)
    (b) the parse as the engine does it (``analysis._parse_module``: no per-node
        validation; the cyclic collector off, as during a file's analysis)
    (c) (b) plus the engine's read-only walk over the tree with no rule and no
        collector: every node the full selection's walk enters or records, no
        dispatch (the minimum any analysis over the CST pays)
    (d) (c) plus every node's position from CPython's ``ast`` (the second parse,
        its bucketing and the numbering of the walked nodes), as if every file
        were asked for one
    (p) the engine's per-file phase alone (``executor.analyze_files``: every selected
        file rule and fact collector, the results sent back to the parent), without
        start-up, discovery, the project phase or the report
    (e) the engine's cold run (``integ-lint check --no-cache``, the config's rules)
    (f) the engine's cold run with the cache (emptied before each run as ``integ-lint
        cache clean`` does, then written: the benchmark's cold); only when asked

(c) to (d) is the positions, (d) to (p) the collectors' and rules' own work and the
results' transfer, (p) to (e) start-up, discovery and the project phase, (e) to (f)
the cache's writing.

Files: the ones the engine scans (its discovery with the corpus's config). The
analysed code is parsed, never imported or executed::

    python benchmarks/floor.py benchmarks/corpora/eco-napari-0.9.2 --jobs 2
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import multiprocessing
import os
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

STAGES = {
    "a": "LibCST parse_module",
    "b": "parse as the engine does",
    "c": "(b) + bare walk",
    "d": "(c) + positions",
    "p": "per-file phase alone",
    "e": "integ-lint cold (--no-cache)",
    "f": "integ-lint cold, cache written",
}
# A file's tree recurses as deep as its nesting (the engine's own bound).
RECURSION_LIMIT = 20_000


# -- one stage, in its own process -------------------------------------------------
_WANTED: frozenset[str] = frozenset()
_CONFIG: Any = None


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


def _engine_stage(path: str, walk: bool, positions: bool) -> None:
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
    finally:
        if collecting:
            gc.enable()


def _stage_b(path: str) -> None:
    _engine_stage(path, walk=False, positions=False)


def _stage_c(path: str) -> None:
    _engine_stage(path, walk=True, positions=False)


def _stage_d(path: str) -> None:
    _engine_stage(path, walk=True, positions=True)


WORK: dict[str, Callable[[str], None]] = {
    "a": _stage_a,
    "b": _stage_b,
    "c": _stage_c,
    "d": _stage_d,
}


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


def run_stage(stage: str, root: Path, config_file: Path | None, jobs: int) -> None:
    if stage == "p":
        _per_file_phase(root, config_file, jobs)
        return
    files = _engine_setup(root, config_file)
    if stage in ("b", "c", "d"):
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


def command_for(stage: str, root: Path, config_file: Path | None, jobs: int) -> list[str]:
    if stage in ("e", "f"):
        command = [sys.executable, "-m", "integ_lint", "check", "--exit-zero"]
        command += ["--no-cache"] if stage == "e" else []
        command += ["--jobs", str(jobs), "--format", "concise", "--no-progress"]
        if config_file is not None:
            command += ["--config", str(config_file)]
        return [*command, str(root)]
    command = [sys.executable, os.path.abspath(__file__), str(root), "--stage", stage]
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
        "--stages", default="abcdpe", help="which stages, in order (default: all but f)"
    )
    parser.add_argument("--stage", choices=sorted([*WORK, "p"]), help=argparse.SUPPRESS)
    options = parser.parse_args()
    root = options.root.resolve()
    config_file = options.config
    if config_file is None and (root / "integ-lint.toml").is_file():
        config_file = root / "integ-lint.toml"
    if options.stage is not None:
        run_stage(options.stage, root, config_file, options.jobs)
        return

    print(f"{root.name}: {len(_engine_setup(root, config_file))} files, -j {options.jobs}")
    measured: dict[str, tuple[float, float]] = {}
    for stage in options.stages:
        runs = []
        for _ in range(options.repeat):
            if stage == "f":
                _clean_cache(root, config_file)
            runs.append(measure(command_for(stage, root, config_file, options.jobs), root))
        measured[stage] = min(runs)
    base = measured.get("a")
    print(f"{'stage':<36}{'wall s':>8}{'CPU s':>8}{'x (a)':>8}{'CPU x':>8}")
    for stage, (wall, cpu) in measured.items():
        ratio = f"{wall / base[0]:.2f}" if base else "-"
        cpu_ratio = f"{cpu / base[1]:.2f}" if base else "-"
        label = f"({stage}) {STAGES[stage]}"
        print(f"{label:<36}{wall:>8.2f}{cpu:>8.2f}{ratio:>8}{cpu_ratio:>8}")
    if base and "d" in measured:
        budget = 1.3 * base[0]
        print(
            f"the 1.3x target: {budget:.2f} s; (d), before any rule or collector, "
            f"already takes {measured['d'][0] / budget:.0%} of it"
        )


if __name__ == "__main__":
    main()
