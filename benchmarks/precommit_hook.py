"""Benchmark: the pre-commit hook's time for a one-file commit, warm.

Generates a project of a few hundred files (packages importing each other, managers,
config objects, asyncio code), runs the hook's command (``integ-lint check FILE``, what
pre-commit runs for a one-file commit) once to warm the cache, then times it
``--repeat`` times and prints the timings. This is a report, not a test: nothing is
asserted.

    python benchmarks/precommit_hook.py [--files 300] [--repeat 5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODULE = '''\
"""Module {index} of package {package}."""

import asyncio
from dataclasses import dataclass

from {package}.{previous} import helper_{previous_index}


@dataclass
class Settings{index}:
    name: str = "m{index}"
    retries: int = 3


class Worker{index}Manager:
    def __init__(self, config: Settings{index}) -> None:
        self.config = config
        self.timeout = getattr(config, "timeout", 30)

    async def fetch(self) -> int:
        await asyncio.sleep(0)
        return helper_{previous_index}() + {index}


def helper_{index}() -> int:
    total = 0
    for step in range(10):
        total += step * {index}
    return total
'''


def generate(root: Path, files: int, per_package: int = 20) -> Path:
    """Write the project; return the file the benchmark "commits"."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "bench"\nversion = "0"\n\n[tool.integ-lint]\nselect = ["IL"]\n'
    )
    target = root
    for index in range(files):
        package = f"pkg{index // per_package}"
        directory = root / "src" / package
        if not directory.exists():
            directory.mkdir(parents=True)
            (directory / "__init__.py").write_text("")
        first = (index // per_package) * per_package
        previous_index = index - 1 if index > first else index
        previous = f"mod{previous_index}" if index > first else f"mod{index}"
        path = directory / f"mod{index}.py"
        path.write_text(
            MODULE.format(
                index=index, package=package, previous=previous, previous_index=previous_index
            )
        )
        if index == files // 2:
            target = path
    return target


def hook_command(target: Path) -> list[str]:
    script = Path(sys.executable).with_name("integ-lint")
    base = [str(script)] if script.exists() else [sys.executable, "-m", "integ_lint"]
    return [*base, "check", str(target), "--no-progress"]


def time_once(command: list[str], cwd: Path) -> tuple[float, int, str]:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    summary = (result.stdout.strip().splitlines() or [""])[-1]
    return elapsed, result.returncode, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="Generate the project here and keep it.")
    args = parser.parse_args()

    directory = args.keep or Path(tempfile.mkdtemp(prefix="integ-lint-precommit-bench-"))
    try:
        target = generate(directory, args.files)
        relative = target.relative_to(directory)
        command = hook_command(relative)
        subprocess.run(["git", "init", "-q"], cwd=directory, check=False)
        cold, code, summary = time_once(command, directory)
        print(f"project: {args.files} files in {directory}")
        print(f"hook command: {' '.join(command[-4:-1])} (exit {code})")
        print(f"cold (cache empty): {cold:.3f}s  [{summary}]")
        warm = [time_once(command, directory)[0] for _ in range(args.repeat)]
        print(
            f"warm one-file run: median {statistics.median(warm):.3f}s, "
            f"min {min(warm):.3f}s, max {max(warm):.3f}s over {len(warm)} runs"
        )
        # Touch the committed file as a commit would: only it needs re-analysis.
        target.write_text(target.read_text() + "\n# edited\n")
        edited, _, _ = time_once(command, directory)
        print(f"warm, the committed file edited: {edited:.3f}s")
    finally:
        if args.keep is None:
            shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
