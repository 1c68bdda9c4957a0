"""Benchmark integ-lint against the LibCST floor and peer tools on real corpora.

Not a test: it prints a table (and writes it to ``benchmarks/results/``). One command
from a fresh clone, with integ-lint installed in the running interpreter::

    python benchmarks/run.py                 # Django and stable-baselines3, 2 cores
    python benchmarks/run.py --corpus django --cores 2
    python benchmarks/run.py --corpus django-5.2 --corpus napari   # the ecosystem trees

What it does:

1. downloads the corpora's sdists from PyPI into ``benchmarks/corpora/`` with
   ``pip download --no-deps --no-binary :all:`` and unpacks them (once), or copies
   a tree of the ecosystem check's cache (``/work/eco/src``, see
   ``benchmarks/ecosystem.py``);
2. creates ``benchmarks/.venv-peers`` with pinned Fixit, pylint, import-linter and
   ruff (once);
3. pins every tool to the same ``--cores`` CPUs (``taskset`` where it exists) and
   measures, on each corpus, wall time and peak memory of the tool's process tree:
   its PSS where Linux reports it (a page shared by forked workers counted once,
   sampled every 0.2 s) and the sum of its RSS (every 20 ms), of:

   * integ-lint cold (empty cache), warm (nothing changed), one file changed three
     ways (a comment appended, which leaves its facts unchanged; a line inserted at
     the top, which shifts every position in them; and a function added after the
     imports, which changes its facts and shifts every line below: the target's row,
     as most real edits do both), and a pre-commit run (the one changed file named,
     warm cache, a function added);
   * on a corpus that ships import-linter contracts, warm ``check --select IL1``
     and warm ``imports`` against ``lint-imports`` with grimp's cache warm;
   * the LibCST floor: only ``libcst.parse_module`` on every file, same pool size;
   * Fixit with its default rules;
   * pylint with ``--disable=all --enable=cyclic-import,import-error``;
   * import-linter with one forbidden contract (its import phase);
   * ruff ``--select ASYNC,B009,B010 --no-cache``;

   each as a ratio to integ-lint cold from the same run; and integ-lint (no cache)
   at 1/8, 1/4 and 1/2 of the corpus (every n-th file) with the fitted growth exponent
   (time ~ lines ** k).

It ends with the issue's targets as ratios from this one run (cold / LibCST floor,
warm / cold, one file changed / cold, pre-commit / cold, peak memory, growth,
peers, IL1 and imports / import-linter).
"""

from __future__ import annotations

import argparse
import compileall
import math
import os
import platform
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CORPORA = HERE / "corpora"
RESULTS = HERE / "results"
PEERS = HERE / ".venv-peers"
PEER_PACKAGES = ["fixit==2.2.1", "pylint==4.1.4", "import-linter==2.16", "ruff==0.17.6"]


@dataclass(frozen=True)
class Corpus:
    key: str
    requirement: str
    sdist_prefix: str
    package: str  # top-level package (import-linter root, pylint target)
    # A forbidden import-linter contract: source must not import forbidden.
    contract: tuple[str, str]
    changed_file: str  # edited for the "one file changed" run
    # A tree of the ecosystem check's cache to copy instead of a PyPI download.
    local: str = ""
    # Where import-linter finds the root package (PYTHONPATH), relative to the tree.
    pythonpath: str = "."
    # The tree ships import-linter contracts (compared warm: IL1 and imports).
    contracts: bool = False
    # Several ecosystem trees side by side in one tree (the 1M-line corpus).
    combined: tuple[str, ...] = ()


CORPUS_LIST = [
    Corpus(
        "django",
        "django==5.1.4",
        "django-5.1.4",
        "django",
        ("django.utils", "django.contrib.admin"),
        "django/utils/text.py",
    ),
    Corpus(
        "sb3",
        "stable-baselines3==2.4.0",
        "stable_baselines3-2.4.0",
        "stable_baselines3",
        ("stable_baselines3.common", "stable_baselines3.ppo"),
        "stable_baselines3/common/utils.py",
    ),
]
ECOSYSTEM_SOURCES = Path(os.environ.get("INTEG_LINT_ECOSYSTEM_SRC", "/work/eco/src"))
CORPUS_LIST += [
    Corpus(
        "django-5.2",
        "django==5.2.19",
        "django-5.2.19",
        "django",
        ("django.utils", "django.contrib.admin"),
        "django/utils/text.py",
        local="django-5.2.19",
    ),
    Corpus(
        "napari",
        "napari==0.9.2",
        "napari-0.9.2",
        "napari",
        ("napari.utils", "napari._qt"),
        "src/napari/utils/misc.py",
        local="napari-0.9.2",
        pythonpath="src",
        contracts=True,
    ),
]
# Past a million lines, for peak memory and growth: the largest ecosystem trees side by
# side (1.1M lines). Only integ-lint and the floor are meaningful on it (no peers).
CORPUS_LIST.append(
    Corpus(
        "million",
        "django==5.2.19 + napari==0.9.2 + five more ecosystem trees",
        "million",
        "django",
        ("django.utils", "django.contrib.admin"),
        "django-5.2.19/django/utils/text.py",
        local="million",
        combined=(
            "django-5.2.19",
            "napari-0.9.2",
            "sqlfluff-4.5.0",
            "torchmetrics-1.9.0",
            "django_allauth-65.21.1",
            "distributed-2026.8.0",
            "gradio-6.31.0",
        ),
    )
)
CORPORA_BY_KEY = {c.key: c for c in CORPUS_LIST}


# -- fetching ---------------------------------------------------------------------
def fetch(corpus: Corpus) -> Path:
    """The unpacked sdist of ``corpus`` (downloaded and unpacked on first use), or a
    copy of its ecosystem tree."""
    CORPORA.mkdir(parents=True, exist_ok=True)
    if corpus.local:
        target = CORPORA / f"eco-{corpus.local}"
        if not target.is_dir():
            ignore = shutil.ignore_patterns(".integ-lint-cache", ".import_linter_cache")
            parts = corpus.combined or (corpus.local,)
            for part in parts:
                source = ECOSYSTEM_SOURCES / part
                if not source.is_dir():
                    raise SystemExit(f"{source}: not found (benchmarks/ecosystem.py fetch)")
                destination = target / part if corpus.combined else target
                shutil.copytree(source, destination, ignore=ignore, symlinks=True)
        return target
    for candidate in CORPORA.iterdir():
        if candidate.is_dir() and candidate.name.lower() == corpus.sdist_prefix:
            return candidate
    archives = [
        p for p in CORPORA.glob("*.tar.gz") if p.name.lower().startswith(corpus.sdist_prefix)
    ]
    if not archives:
        print(f"downloading {corpus.requirement} ...", flush=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--no-binary",
                ":all:",
                corpus.requirement,
                "-d",
                str(CORPORA),
            ],
            check=True,
        )
        archives = [
            p for p in CORPORA.glob("*.tar.gz") if p.name.lower().startswith(corpus.sdist_prefix)
        ]
    with tarfile.open(archives[0]) as archive:
        if sys.version_info >= (3, 12):
            archive.extractall(CORPORA, filter="data")
        else:
            archive.extractall(CORPORA)  # a pinned sdist from PyPI
    return fetch(corpus)


def peers() -> Path:
    """The bin folder of the peers' virtual environment (created on first use)."""
    bin_dir = PEERS / ("Scripts" if os.name == "nt" else "bin")
    if not (bin_dir / "ruff").exists() or not (bin_dir / "lint-imports").exists():
        print("installing peers into benchmarks/.venv-peers ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(PEERS)], check=True)
        subprocess.run(
            [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", *PEER_PACKAGES],
            check=True,
        )
    return bin_dir


# -- measuring --------------------------------------------------------------------
def _tree_rss(root: int) -> int:
    """Resident bytes of ``root`` and all its descendants (Linux /proc): the sum of
    their RSS, which counts a page a forked worker shares with its parent twice."""
    rss = _tree_members(root)
    return sum(rss.values())


def _tree_members(root: int) -> dict[int, int]:
    """The resident bytes of ``root`` and of each of its descendants, by pid."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        parents[pid] = int(stat[1])
        rss[pid] = int(stat[21]) * page
    members: dict[int, int] = {}
    for pid in rss:
        current = pid
        while current and current != root:
            current = parents.get(current, 0)
        if current == root:
            members[pid] = rss[pid]
    return members


def pss_available() -> bool:
    """Whether this system reports proportional set sizes (Linux 4.14 and later)."""
    return os.path.exists("/proc/self/smaps_rollup")


def _tree_pss(pids: list[int]) -> int:
    """The proportional set size of ``pids`` together: each page counted once, a page
    shared by n of them 1/n in each (``smaps_rollup``); a process that has just
    ended counts 0."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
                for line in handle:
                    if line.startswith(b"Pss:"):
                        total += int(line.split()[1]) * 1024
                        break
        except (OSError, ValueError, IndexError):
            continue
    return total


@dataclass
class Measure:
    seconds: float
    peak_bytes: int  # the peak of the process tree's summed RSS
    returncode: int
    timed_out: bool = False
    peak_pss_bytes: int | None = None  # the peak of its summed PSS, where measured

    @property
    def peak_memory(self) -> int:
        """The peak the memory target is judged by: PSS where it was measured (shared
        pages once), the RSS sum otherwise."""
        return self.peak_pss_bytes if self.peak_pss_bytes is not None else self.peak_bytes


STEP_TIMEOUT: list[float] = [0.0]  # seconds; 0: none
SKIP_GROWTH: list[bool] = [False]


# Reading smaps_rollup walks the process's page tables (milliseconds for a large
# one): PSS is sampled every PSS_EVERY-th RSS sample, about every 0.2 s.
PSS_EVERY = 10


def measure(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> Measure:
    peak = 0
    peak_pss: int | None = 0 if sys.platform.startswith("linux") and pss_available() else None
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, so a timeout stops its workers
    )
    done = threading.Event()

    def sample() -> None:
        nonlocal peak, peak_pss
        count = 0
        while not done.is_set():
            if sys.platform.startswith("linux"):
                members = _tree_members(process.pid)
                peak = max(peak, sum(members.values()))
                if peak_pss is not None and count % PSS_EVERY == 0:
                    peak_pss = max(peak_pss, _tree_pss(list(members)))
                count += 1
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    timed_out = False
    try:
        returncode = process.wait(timeout=STEP_TIMEOUT[0] or None)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(process.pid, signal.SIGKILL)
        returncode = process.wait()
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    return Measure(elapsed, peak, returncode, timed_out, peak_pss)


def pinned(command: list[str], cores: int) -> list[str]:
    taskset = shutil.which("taskset")
    if taskset and hasattr(os, "sched_getaffinity"):
        cpus = sorted(os.sched_getaffinity(0))[:cores]
        return [taskset, "-c", ",".join(map(str, cpus)), *command]
    return command


FLOOR = """
import multiprocessing, os, sys
import libcst

def parse(path):
    try:
        libcst.parse_module(open(path, encoding="utf-8").read())
    except Exception:
        pass

files = []
for directory, dirs, names in os.walk(sys.argv[2]):
    dirs[:] = sorted(d for d in dirs if not d.startswith("."))
    files.extend(os.path.join(directory, n) for n in sorted(names) if n.endswith((".py", ".pyi")))
jobs = int(sys.argv[1])
if jobs == 1:
    for f in files:
        parse(f)
else:
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        for _ in pool.imap_unordered(parse, files, chunksize=16):
            pass
"""


def python_files(root: Path) -> list[Path]:
    found: list[Path] = []
    for directory, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(directory) / n for n in sorted(names) if n.endswith((".py", ".pyi")))
    return found


def line_count(files: list[Path]) -> int:
    return sum(f.read_bytes().count(b"\n") for f in files)


def subset(root: Path, fraction: int, name: str) -> Path:
    """Every ``fraction``-th file of ``root`` copied into a new tree."""
    target = CORPORA / "subsets" / f"{name}-1of{fraction}"
    if target.exists():
        shutil.rmtree(target)
    for index, path in enumerate(python_files(root)):
        if index % fraction:
            continue
        destination = target / path.relative_to(root)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, destination)
    (target / "integ-lint.toml").write_text(CONFIG)
    return target


ONE_FILE = "integ-lint one file changed (a function added)"
PRE_COMMIT = "integ-lint pre-commit, one changed file (a function added)"
# Not a target: the same edit, but the new function calls one of the file's own, so the
# call graph gains an edge and no memo can judge the change inert.
ONE_FILE_EDGE = "integ-lint one file changed (a function added that calls the file's first)"
# Not a target either: the same call from a coroutine. The call graph's summary judges the
# plain function's edge when its callee's loop context is unknown already; a coroutine's
# edge carries a running loop into its callee, so the graph is built from every file.
ONE_FILE_COROUTINE_EDGE = (
    "integ-lint one file changed (a coroutine added that calls the file's first)"
)


def add_function(source: bytes, name: str) -> bytes:
    """``source`` with a new top-level function, calling two names, inserted before its
    first top-level ``def`` or ``class`` and its decorators (after the imports): the file's facts change
    (a new scope, new call sites) and every line below moves down."""
    lines = source.splitlines(keepends=True)
    first = next(
        (i for i, line in enumerate(lines) if line.startswith((b"def ", b"class ", b"async def "))),
        len(lines),
    )
    while first > 0 and lines[first - 1].startswith(b"@"):
        first -= 1  # before the decorators
    added = f"def {name}(values):\n    return sorted(set(values))\n\n\n".encode()
    return b"".join([*lines[:first], added, *lines[first:]])


def add_calling_function(source: bytes, name: str) -> bytes:
    """``source`` with a new top-level function that calls the file's first top-level
    function, inserted where :func:`add_function` inserts: an edge added to the call graph."""
    callee = next(
        (
            line.split(b"(", 1)[0].split()[-1].decode()
            for line in source.splitlines()
            if line.startswith((b"def ", b"async def ")) and b"(" in line
        ),
        "print",
    )
    edited = add_function(source, name)
    return edited.replace(
        f"def {name}(values):\n    return sorted(set(values))\n".encode(),
        f"def {name}(values):\n    return {callee}(*values)\n".encode(),
        1,
    )


def add_calling_coroutine(source: bytes, name: str) -> bytes:
    """:func:`add_calling_function`, the new function a coroutine (``async def``)."""
    edited = add_calling_function(source, name)
    return edited.replace(f"def {name}(".encode(), f"async def {name}(".encode(), 1)


CONFIG = "respect-gitignore = false\ncache-dir = '.integ-lint-cache'\n"


def snapshot() -> Path:
    """A frozen copy of the integ-lint package (rules included) to benchmark.

    The cache key includes a stamp of integ-lint's source files, so an edit in the
    working tree during a run (another developer's commit) would turn the warm run
    into a cold one. Benchmarking a copy keeps every run on the same code."""
    import integ_lint.rules

    import integ_lint

    target = RESULTS / "snapshot"
    shutil.rmtree(target, ignore_errors=True)
    package = Path(integ_lint.__file__).parent
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(package, target / "integ_lint", ignore=ignore)
    rules = Path(integ_lint.rules.__file__).parent
    if rules.parent != package:
        shutil.rmtree(target / "integ_lint" / "rules", ignore_errors=True)
        shutil.copytree(rules, target / "integ_lint" / "rules", ignore=ignore)
    # Byte-compiled as ``pip install`` does (the peers' installs have their .pyc too);
    # otherwise, with PYTHONDONTWRITEBYTECODE set, every run would compile the package.
    compileall.compile_dir(target, quiet=1)
    return target


# Runs integ-lint from the snapshot: an editable install's import hook would
# otherwise map integ_lint.rules back to the working tree (whose edits change the
# cache key mid-run).
BOOT = (
    "import runpy, sys; "
    "sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in type(f).__module__.lower()"
    " and 'editable' not in repr(f).lower()]; "
    "sys.argv[0] = 'integ-lint'; runpy.run_module('integ_lint', run_name='__main__')"
)
INTEG_LINT = [sys.executable, "-c", BOOT]
SNAPSHOT_ENV: dict[str, str] = {}
SNAPSHOT_PATH: list[str] = []  # the frozen package's folder, first on PYTHONPATH


def integ_lint(root: Path, cores: int, cache: bool = True) -> list[str]:
    command = [*INTEG_LINT, "check", "--config", "integ-lint.toml"]
    command += ["--jobs", str(cores), "--format", "concise", "--no-progress"]
    if not cache:
        command.append("--no-cache")
    return [*command, "."]


def fit_exponent(points: list[tuple[int, float]]) -> float:
    xs = [math.log(x) for x, _ in points]
    ys = [math.log(y) for _, y in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    num = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys))
    den = sum((x - mean_x) ** 2 for x in xs)
    return num / den


def run_corpus(corpus: Corpus, cores: int, bin_dir: Path, skip_peers: bool = False) -> str:
    root = fetch(corpus)
    (root / "integ-lint.toml").write_text(CONFIG)
    shutil.rmtree(root / ".integ-lint-cache", ignore_errors=True)
    files = python_files(root)
    lines = line_count(files)
    rows: list[tuple[str, Measure]] = []

    def step(label: str, command: list[str], cwd: Path = root, **env: str) -> Measure:
        print(f"  {label} ...", end="", flush=True)
        environment = {**os.environ, **SNAPSHOT_ENV, **env}
        result = measure(pinned(command, cores), cwd, environment)
        print(f" {result.seconds:.1f}s", flush=True)
        rows.append((label, result))
        return result

    print(f"{corpus.key}: {len(files)} files, {lines} lines, {cores} cores", flush=True)
    has_progress = _has_option("--no-progress")
    il = integ_lint if has_progress else _integ_lint_plain
    cold = step("integ-lint cold", il(root, cores))
    step("integ-lint warm (nothing changed)", il(root, cores))
    changed = root / corpus.changed_file
    original = changed.read_bytes()
    try:
        # A comment appended at the end leaves every fact as it was; a line inserted at
        # the top shifts every position in the file's facts; a function added changes
        # them and shifts the lines below, as most real edits do.
        changed.write_bytes(original + b"\n# benchmark edit\n")
        step("integ-lint one file changed (comment appended)", il(root, cores))
        changed.write_bytes(b"# benchmark edit\n" + original)
        step("integ-lint one file changed (lines shifted)", il(root, cores))
        changed.write_bytes(add_function(original, "_benchmark_edit"))
        step(ONE_FILE, il(root, cores))
        changed.write_bytes(add_function(original, "_benchmark_edit_again"))
        precommit = [c for c in il(root, cores) if c != "."] + [corpus.changed_file]
        step(PRE_COMMIT, precommit)
        changed.write_bytes(add_calling_function(original, "_benchmark_edit_calls"))
        step(ONE_FILE_EDGE, il(root, cores))
        changed.write_bytes(add_calling_coroutine(original, "_benchmark_edit_awaits"))
        step(ONE_FILE_COROUTINE_EDGE, il(root, cores))
    finally:
        changed.write_bytes(original)
    step("LibCST floor (parse_module only)", [sys.executable, "-c", FLOOR, str(cores), "."])
    if corpus.contracts:
        _contracts(corpus, root, cores, step)
    if not skip_peers:
        _peers(corpus, root, cores, bin_dir, step)
    return _growth(corpus, root, cores, il, files, lines, rows, cold)


def _contracts(corpus: Corpus, root: Path, cores: int, step: Any) -> None:
    """Warm IL1 and ``imports`` against import-linter's own run with grimp's cache
    warm, on the corpus's own contracts (integ-lint reads import-linter's config)."""
    env = {"PYTHONPATH": os.pathsep.join([str(root / corpus.pythonpath), *SNAPSHOT_PATH])}
    check = [*INTEG_LINT, "check", ".", "--select", "IL1"]
    check += ["--jobs", str(cores), "--format", "concise", "--exit-zero"]
    imports = [*INTEG_LINT, "imports", ".", "--jobs", str(cores)]
    lint_imports = [str(Path(sys.executable).parent / "lint-imports")]
    for label, command in (
        ("check --select IL1", check),
        ("imports", imports),
        ("lint-imports", lint_imports),
    ):
        measure(pinned(command, cores), root, {**os.environ, **env})  # fills the caches
        step(f"{label}, warm (own contracts)", command, **env)


def _peers(corpus: Corpus, root: Path, cores: int, bin_dir: Path, step: Any) -> None:
    step("Fixit (default rules)", [str(bin_dir / "fixit"), "--quiet", "lint", "."])
    step(
        "pylint cyclic-import,import-error",
        [
            str(bin_dir / "pylint"),
            "--disable=all",
            "--enable=cyclic-import,import-error",
            f"--jobs={cores}",
            "--recursive=y",
            "--exit-zero",
            ".",
        ],
    )
    contract = HERE / "results" / f"importlinter-{corpus.key}.ini"
    contract.parent.mkdir(parents=True, exist_ok=True)
    contract.write_text(
        "[importlinter]\n"
        f"root_package = {corpus.package}\n\n"
        "[importlinter:contract:one]\n"
        "name = one forbidden contract\n"
        "type = forbidden\n"
        f"source_modules =\n    {corpus.contract[0]}\n"
        f"forbidden_modules =\n    {corpus.contract[1]}\n"
    )
    step(
        "import-linter (one contract)",
        [str(bin_dir / "lint-imports"), "--config", str(contract), "--no-cache"],
        PYTHONPATH=str(root),
    )
    step(
        "ruff ASYNC,B009,B010 --no-cache",
        [
            str(bin_dir / "ruff"),
            "check",
            "--select",
            "ASYNC,B009,B010",
            "--no-cache",
            "--exit-zero",
            "--isolated",
            ".",
        ],
    )


def _growth(
    corpus: Corpus,
    root: Path,
    cores: int,
    il: Any,
    files: list[Path],
    lines: int,
    rows: list[tuple[str, Measure]],
    cold: Measure,
) -> str:
    points: list[tuple[int, float]] = []
    if not SKIP_GROWTH[0]:
        print("  growth ...", flush=True)
    for fraction in () if SKIP_GROWTH[0] else (8, 4, 2):
        tree = subset(root, fraction, corpus.key)
        size = line_count(python_files(tree))
        result = measure(
            pinned(il(tree, cores, cache=False), cores), tree, {**os.environ, **SNAPSHOT_ENV}
        )
        print(f"    1/{fraction}: {size} lines {result.seconds:.1f}s", flush=True)
        points.append((size, result.seconds))
    return _table(corpus, files, lines, cores, rows, cold, points)


def _table(
    corpus: Corpus,
    files: list[Path],
    lines: int,
    cores: int,
    rows: list[tuple[str, Measure]],
    cold: Measure,
    points: list[tuple[int, float]],
) -> str:
    with_pss = all(result.peak_pss_bytes is not None for _, result in rows)
    memory = "peak PSS (MiB) | peak RSS sum (MiB)" if with_pss else "peak RSS sum (MiB)"
    out = [
        f"### {corpus.requirement}: {len(files)} files, {lines:,} lines, {cores} cores",
        "",
        "Memory: "
        + (
            "PSS summed over the process tree (a page shared by forked workers counted "
            "once), beside the sum of RSS (shared pages counted in every process)."
            if with_pss
            else "the sum of RSS over the process tree (PSS unavailable here: shared "
            "pages are counted in every process)."
        ),
        "",
        f"| run | seconds | x integ-lint cold | {memory} | exit |",
        f"| --- | ---: | ---: | ---: |{' ---: |' if with_pss else ''} ---: |",
    ]
    for label, result in rows:
        ratio = result.seconds / cold.seconds
        more = ">" if result.timed_out else ""
        pss = f"{(result.peak_pss_bytes or 0) / 2**20:.0f} | " if with_pss else ""
        out.append(
            f"| {label} | {more}{result.seconds:.2f} | {more}{ratio:.3f} | "
            f"{pss}{result.peak_bytes / 2**20:.0f} | {result.returncode} |"
        )
    exponent = fit_exponent(points) if len(points) > 1 else None
    if points:
        out += [
            "",
            "integ-lint without cache by corpus size: "
            + ", ".join(f"{n:,} lines {s:.2f}s" for n, s in points)
            + f"; growth exponent k = {exponent:.2f} (time ~ lines^k)",
        ]
    out += ["", *_targets(dict(rows), cold, lines, exponent), ""]
    return "\n".join(out)


def _targets(
    rows: dict[str, Measure], cold: Measure, lines: int, exponent: float | None
) -> list[str]:
    """The performance issue's targets, each as a ratio from this run."""
    out = ["| target | measured | met |", "| --- | ---: | :---: |"]

    def line(target: str, value: float, text: str, met: bool) -> None:
        out.append(f"| {target} | {text} | {'yes' if met else '**no**'} |")

    def ratio(label: str, base: Measure) -> float | None:
        found = rows.get(label)
        return found.seconds / base.seconds if found is not None else None

    floor = rows.get("LibCST floor (parse_module only)")
    if floor is not None:
        value = cold.seconds / floor.seconds
        line("cold <= 1.3x the LibCST floor", value, f"{value:.2f}x", value <= 1.3)
    for label, target, bound in (
        ("integ-lint warm (nothing changed)", "warm <= 3% of cold", 0.03),
        (ONE_FILE, "one file changed <= 5% of cold", 0.05),
        (PRE_COMMIT, "pre-commit, one file <= 5% of cold", 0.05),
    ):
        value_or_none = ratio(label, cold)
        if value_or_none is not None:
            text = f"{value_or_none:.1%}"
            line(target, value_or_none, text, value_or_none <= bound)
    peak = cold.peak_memory / 2**20
    rss_sum = f"{cold.peak_bytes / 2**20:.0f} MiB RSS sum"
    if cold.peak_pss_bytes is not None:
        text, ruler = f"{peak:.0f} MiB PSS ({rss_sum})", "PSS"
    else:
        text, ruler = rss_sum, "RSS sum"
    line(f"peak memory ({ruler}) < 1 GiB (cold, {lines:,} lines)", peak, text, peak < 1024)
    if exponent is not None:
        line("growth exponent <= 1.05", exponent, f"{exponent:.2f}", exponent <= 1.05)
    for label in ("Fixit (default rules)", "pylint cyclic-import,import-error"):
        peer = rows.get(label)
        if peer is not None:
            more = ">" if peer.timed_out else ""
            value = peer.seconds / cold.seconds
            line(f"cold faster than {label}", value, f"{more}{value:.2f}x ours", value > 1)
    anchor = rows.get("lint-imports, warm (own contracts)")
    if anchor is not None:
        for label in ("check --select IL1", "imports"):
            value_or_none = ratio(f"{label}, warm (own contracts)", anchor)
            if value_or_none is not None:
                line(
                    f"{label} warm <= 3x lint-imports warm",
                    value_or_none,
                    f"{value_or_none:.1f}x",
                    value_or_none <= 3,
                )
    return out


def _has_option(option: str) -> bool:
    result = subprocess.run(
        [sys.executable, "-m", "integ_lint", "check", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    return option in result.stdout


def _integ_lint_plain(root: Path, cores: int, cache: bool = True) -> list[str]:
    return [c for c in integ_lint(root, cores, cache) if c != "--no-progress"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--corpus",
        choices=[*CORPORA_BY_KEY, "all"],
        action="append",
        help="Repeat for several; default: django and sb3 (the PyPI sdists).",
    )
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument(
        "--step-timeout",
        type=float,
        default=0.0,
        help="Stop a tool after this many seconds and report '>' its time (0: never).",
    )
    parser.add_argument(
        "--skip-peers", action="store_true", help="Skip Fixit, pylint, import-linter and ruff."
    )
    parser.add_argument(
        "--skip-growth", action="store_true", help="Skip the runs on 1/8, 1/4, 1/2 of a corpus."
    )
    args = parser.parse_args()
    STEP_TIMEOUT[0] = args.step_timeout
    bin_dir = peers()
    frozen = snapshot()
    SNAPSHOT_ENV["PYTHONPATH"] = os.pathsep.join(
        [str(frozen), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    SNAPSHOT_PATH[:] = [str(frozen)]
    wanted = args.corpus or ["django", "sb3"]
    chosen = CORPUS_LIST if "all" in wanted else [CORPORA_BY_KEY[key] for key in wanted]
    from integ_lint import __version__
    from integ_lint.engine.registry import load_registry

    families = sorted({r.family for r in load_registry().rules.values()})
    header = [
        f"integ-lint {__version__}, rule families: {', '.join(families)}; "
        f"Python {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} CPUs visible, {args.cores} used; "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        "",
    ]
    SKIP_GROWTH[0] = args.skip_growth
    sections = [run_corpus(corpus, args.cores, bin_dir, args.skip_peers) for corpus in chosen]
    text = "\n".join([*header, *sections])
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.md").write_text(text)
    print()
    print(text)


if __name__ == "__main__":
    main()
