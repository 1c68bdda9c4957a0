"""Memory: the executor hands freed heap back to the system (workers after large files
and chunks, the main process before it forks a pool, frozen out of the workers'
collections), and the benchmark measures PSS (shared pages once) beside the RSS sum."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest
from conftest import load_script

from integ_lint.config import Config, load_config
from integ_lint.engine import executor
from integ_lint.engine.discovery import SourceFile, discover
from integ_lint.engine.executor import ExecutionStats, analyze_files
from integ_lint.rule import FactCollector

LINUX = sys.platform.startswith("linux")
HAS_TRIM = executor._malloc_trim() is not None
HAS_PSS = os.path.exists("/proc/self/smaps_rollup")


def load_benchmark() -> ModuleType:
    """``benchmarks/run.py`` as the module ``benchmark_run`` (loaded once)."""
    return load_script("benchmark_run", "run.py")


@pytest.fixture(autouse=True)
def _private_key(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTEG_LINT_CACHE_KEY_FILE", str(tmp_path_factory.mktemp("k") / "key"))


def project(root: Path, sizes: list[int]) -> tuple[Config, list[SourceFile]]:
    """Files ``m0.py``, ``m1.py``... of about the given sizes in bytes."""
    (root / "pyproject.toml").write_text("[tool.integ-lint]\n")
    for index, size in enumerate(sizes):
        lines = max(1, size // 20)
        (root / f"m{index}.py").write_text("".join(f"v{n} = {n:<10}\n" for n in range(lines)))
    config = load_config([root], None)
    found = discover([root], config.root, exclude=[], respect_gitignore=False)
    return config, sorted(found, key=lambda f: f.relpath)


# -- executor ---------------------------------------------------------------------
@pytest.mark.skipif(not HAS_TRIM, reason="glibc's malloc_trim only")
def test_release_free_memory_returns_freed_heap_pages() -> None:
    """Freed blocks below a live one stay resident until the heap is trimmed."""
    probe = textwrap.dedent(
        """
        from integ_lint.engine.executor import release_free_memory

        def rss():
            with open("/proc/self/statm") as statm:
                return int(statm.read().split()[1]) * 4096 >> 20

        blocks = [bytearray(1000) for _ in range(80_000)]  # ~80 MiB from malloc
        keep = blocks[-1]  # pins the top of the heap: free() alone cannot shrink it
        del blocks
        before = rss()
        release_free_memory()
        print(before, rss())
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    before, after = map(int, out.split())
    assert before - after > 40, (before, after)


def test_workers_release_after_a_large_growth_and_each_chunk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config, files = project(tmp_path, [300] * 5)
    state: executor._State = (config, [], [], None)
    mib = 1 << 20
    growth = {"m0.py": 80 * mib, "m3.py": 50 * mib}  # what each file leaves resident
    resident = [100 * mib]
    calls: list[tuple[int, bool]] = []  # (files analysed so far, collect)
    done: list[str] = []
    from integ_lint.engine import analysis  # _analyze_chunk imports it from there

    real = analysis.analyze_file

    def growing(source_file: SourceFile, *args: object, **kwargs: object) -> object:
        done.append(source_file.relpath)
        resident[0] += growth.get(source_file.relpath, 10 * mib)
        return real(source_file, *args, **kwargs)  # type: ignore[arg-type]

    def release(collect: bool = True) -> None:
        calls.append((len(done), collect))
        resident[0] = 100 * mib

    monkeypatch.setattr(analysis, "analyze_file", growing)
    monkeypatch.setattr(executor, "_resident_bytes", lambda: resident[0])
    monkeypatch.setattr(executor, "release_free_memory", release)
    # In a worker: after m0 (+80 MiB), after m3 (+70 MiB since), at the chunk's end.
    monkeypatch.setattr(executor, "_WORKER_STATE", state)
    executor._analyze_chunk(files)
    assert calls == [(1, False), (4, False), (5, False)]
    # Small growth only: once, at the end.
    calls.clear()
    done.clear()
    executor._analyze_chunk(files[1:3])
    assert calls == [(2, False)]
    # In the main process (no worker state; state given): never, its next file
    # reuses the pages.
    monkeypatch.setattr(executor, "_WORKER_STATE", None)
    calls.clear()
    executor._analyze_chunk(files, state)
    assert calls == []


def test_pool_is_forked_from_a_trimmed_frozen_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if executor._start_method() != "fork":
        pytest.skip("fork start method only")
    config, files = project(tmp_path, [300] * 12)
    seen: list[int] = []

    def release(collect: bool = True) -> None:
        seen.append(gc.get_freeze_count())  # before the freeze: nothing frozen yet

    monkeypatch.setattr(executor, "release_free_memory", release)
    monkeypatch.setattr(executor, "RELEASE_BEFORE_FORK_ABOVE_BYTES", 0)
    frozen_while_forking: list[int] = []
    real_submit = executor.ProcessPoolExecutor.submit

    def submit(self: object, *args: object, **kwargs: object) -> object:
        frozen_while_forking.append(gc.get_freeze_count())
        return real_submit(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(executor.ProcessPoolExecutor, "submit", submit)
    stats = ExecutionStats()
    pooled = analyze_files(files, config, [], [], jobs=2, stats=stats)
    assert stats.workers == 2
    assert seen == [0]
    assert frozen_while_forking and all(count > 0 for count in frozen_while_forking)
    assert gc.get_freeze_count() == 0  # handed back after the forks
    serial = analyze_files(files, config, [], [], jobs=1)
    assert [(r.relpath, r.line_count, r.parsed) for r in pooled] == [
        (r.relpath, r.line_count, r.parsed) for r in serial
    ]


def test_a_small_process_forks_without_a_collection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if executor._start_method() != "fork":
        pytest.skip("fork start method only")
    config, files = project(tmp_path, [300] * 12)
    seen: list[bool] = []
    monkeypatch.setattr(executor, "release_free_memory", lambda collect=True: seen.append(collect))
    monkeypatch.setattr(executor, "RELEASE_BEFORE_FORK_ABOVE_BYTES", 1 << 50)
    stats = ExecutionStats()
    analyze_files(files, config, [], [], jobs=2, stats=stats)
    assert stats.workers == 2
    assert seen == []  # the workers' own releases are in their processes


def test_a_callers_freeze_is_left_alone(tmp_path: Path) -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with executor._shared_with_forked_workers(True):
            assert gc.get_freeze_count() == frozen
        assert gc.get_freeze_count() == frozen  # not unfrozen by the executor
    finally:
        gc.unfreeze()


class ParentPid(FactCollector):
    """The pid of the process that started the one analysing the file."""

    KEY = "test-parent-pid"

    def collect(self) -> int:
        return os.getppid()


def test_a_large_process_takes_its_workers_from_a_fork_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past FORK_SERVER_ABOVE_BYTES the workers are not this process's children (they
    would start as large as it is); below it they are, and the results are the same."""
    if (
        executor._start_method() != "fork"
        or "forkserver" not in executor.multiprocessing.get_all_start_methods()
    ):
        pytest.skip("fork and forkserver start methods only")
    config, files = project(tmp_path, [300] * 12)
    forked = analyze_files(files, config, [], [ParentPid], jobs=2)
    assert {r.facts["test-parent-pid"] for r in forked} == {os.getpid()}
    monkeypatch.setattr(executor, "FORK_SERVER_ABOVE_BYTES", 0)
    served = analyze_files(files, config, [], [ParentPid], jobs=2)
    parents = {r.facts["test-parent-pid"] for r in served}
    assert os.getpid() not in parents and len(parents) == 1  # the fork server
    assert [(r.relpath, r.line_count) for r in served] == [
        (r.relpath, r.line_count) for r in forked
    ]


def test_a_selection_that_does_not_pickle_is_still_forked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class LocalParentPid(ParentPid):  # defined in a function: pickle cannot name it
        KEY = "test-local-parent-pid"

    if executor._start_method() != "fork":
        pytest.skip("fork start method only")
    config, files = project(tmp_path, [300] * 12)
    monkeypatch.setattr(executor, "FORK_SERVER_ABOVE_BYTES", 0)
    stats = ExecutionStats()
    results = analyze_files(files, config, [], [LocalParentPid], jobs=2, stats=stats)
    assert stats.workers == 2
    assert {r.facts["test-local-parent-pid"] for r in results} == {os.getpid()}


# -- the benchmark's ruler --------------------------------------------------------
@pytest.mark.skipif(not (LINUX and HAS_PSS), reason="Linux smaps_rollup only")
def test_pss_counts_pages_shared_with_a_forked_child_once() -> None:
    bench = load_benchmark()
    shared = bytearray(os.urandom(1 << 20)) * 64  # 64 MiB, resident before the fork
    ready_read, ready_write = os.pipe()
    hold_read, hold_write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child only waits
        os.write(ready_write, b"x")
        os.read(hold_read, 1)
        os._exit(0)
    try:
        os.read(ready_read, 1)
        members = bench._tree_members(os.getpid())
        assert child in members
        rss_sum = members[os.getpid()] + members[child]
        pss = bench._tree_pss([os.getpid(), child])
        # The 64 MiB are in both RSS values but only once in the PSS.
        assert rss_sum - pss > 48 << 20, (rss_sum >> 20, pss >> 20)
        assert pss > 60 << 20
        assert shared[-1] == shared[(1 << 20) - 1]
    finally:
        os.write(hold_write, b"x")
        os.waitpid(child, 0)
        for fd in (ready_read, ready_write, hold_read, hold_write):
            os.close(fd)


@pytest.mark.skipif(not LINUX, reason="Linux /proc only")
def test_measure_reports_both_peaks() -> None:
    bench = load_benchmark()
    command = [sys.executable, "-c", "import time; b = bytearray(48 << 20); time.sleep(0.6)"]
    result = bench.measure(command, Path.cwd())
    assert result.returncode == 0
    assert result.peak_bytes > 48 << 20
    if HAS_PSS:
        assert result.peak_pss_bytes is not None
        assert 40 << 20 < result.peak_pss_bytes <= result.peak_bytes
        assert result.peak_memory == result.peak_pss_bytes
    else:
        assert result.peak_pss_bytes is None
        assert result.peak_memory == result.peak_bytes


def test_table_names_its_ruler_and_keeps_the_rss_sum() -> None:
    bench = load_benchmark()
    corpus = bench.CORPORA_BY_KEY["napari"]
    mib = 1 << 20
    with_pss = bench.Measure(10.0, 1500 * mib, 0, peak_pss_bytes=900 * mib)
    table = bench._table(corpus, [Path("a.py")], 1_000_000, 2, [("cold", with_pss)], with_pss, [])
    assert (
        "| run | seconds | x integ-lint cold | peak PSS (MiB) | peak RSS sum (MiB) | exit |"
        in table
    )
    assert "| cold | 10.00 | 1.000 | 900 | 1500 | 0 |" in table
    assert (
        "| peak memory (PSS) < 1 GiB (cold, 1,000,000 lines) | 900 MiB PSS (1500 MiB RSS sum) | yes |"
        in table
    )

    rss_only = bench.Measure(10.0, 1500 * mib, 0)
    table = bench._table(corpus, [Path("a.py")], 1_000_000, 2, [("cold", rss_only)], rss_only, [])
    assert "PSS unavailable" in table
    assert "| run | seconds | x integ-lint cold | peak RSS sum (MiB) | exit |" in table
    assert "| cold | 10.00 | 1.000 | 1500 | 0 |" in table
    assert (
        "| peak memory (RSS sum) < 1 GiB (cold, 1,000,000 lines) | 1500 MiB RSS sum | **no** |"
        in table
    )
