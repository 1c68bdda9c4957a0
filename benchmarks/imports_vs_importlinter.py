"""Warm ``integ-lint check --select IL1`` against import-linter on a project that ships
import-linter contracts: the same tree, the same contracts (integ-lint reads
import-linter's configuration directly).

Not a test: it prints one table. The tree comes from the ecosystem check's cache
(``benchmarks/ecosystem.py``'s ``src/<tree>``; ``/work/eco`` when it has it) and is copied into a temporary folder so that both tools'
caches (integ-lint's ``.integ-lint-cache``, grimp's ``.import_linter_cache``) live there::

    python benchmarks/imports_vs_importlinter.py                      # napari 0.9.2
    python benchmarks/imports_vs_importlinter.py --tree kedro-1.7.0 --pythonpath .

"Warm" is the second and later runs on an unchanged tree (integ-lint's per-file cache;
grimp's cache), the median of ``--repeat`` runs; "cold" is a first run with no cache.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ecosystem import cache_from  # beside this script
from run import BOOT, snapshot  # beside this script: a frozen copy of integ-lint

BIN = Path(sys.executable).parent


def find_tree(name: str) -> Path:
    for sources in (cache_from(None).sources, Path("/work/eco/src")):
        if (sources / name).is_dir():
            return sources / name
    raise SystemExit(f"{name}: not in the ecosystem cache (run benchmarks/ecosystem.py fetch)")


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system of the tool's processes): on a
    shared machine the CPU time is the fairer comparison."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", default="napari-0.9.2")
    parser.add_argument("--pythonpath", default="src", help="where the root packages are")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=0, help="integ-lint --jobs (0: all CPUs)")
    args = parser.parse_args()
    source = find_tree(args.tree)
    with tempfile.TemporaryDirectory(prefix="il-vs-importlinter-") as tmp:
        tree = Path(tmp) / args.tree
        shutil.copytree(source, tree, ignore=shutil.ignore_patterns(".integ-lint-cache"))
        # integ-lint runs from a frozen copy: the cache key stamps its code, and edits
        # to a working tree during the run would turn warm runs cold.
        frozen = snapshot()
        path = os.pathsep.join([str(tree / args.pythonpath), str(frozen)])
        env = {**os.environ, "PYTHONPATH": path, "NO_COLOR": "1"}
        ours = [sys.executable, "-c", BOOT, "check", ".", "--select", "IL1", "--exit-zero"]
        ours += ["--format", "concise", "--jobs", str(args.jobs)]
        theirs = [str(BIN / "lint-imports")]
        rows: list[tuple[str, float, float, float]] = []
        for label, command in (("integ-lint check --select IL1", ours), ("lint-imports", theirs)):
            cold, _ = timed(command, tree, env)
            warm = [timed(command, tree, env) for _ in range(args.repeat)]
            wall = statistics.median(w for w, _ in warm)
            cpu = statistics.median(c for _, c in warm)
            rows.append((label, cold, wall, cpu))
        files = sum(1 for _ in (tree / args.pythonpath).rglob("*.py"))
    print(f"{args.tree}: {files} Python files under {args.pythonpath}/, median of {args.repeat}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'tool':32} {'cold s':>8} {'warm s':>8} {'warm CPU s':>11}")
    for label, cold, wall, cpu in rows:
        print(f"{label:32} {cold:8.2f} {wall:8.2f} {cpu:11.2f}")
    print(
        f"warm ratio integ-lint / import-linter: {rows[0][2] / rows[1][2]:.1f}x wall, "
        f"{rows[0][3] / rows[1][3]:.1f}x CPU"
    )


if __name__ == "__main__":
    main()
