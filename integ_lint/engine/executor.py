"""Running the per-file phase over many files: the cache first, then a process pool.

* Every file's bytes are read and hashed in this process; a file whose content,
  name and run namespace (rules, config, versions) has a cache entry is not parsed.
* The others are analysed in a pool of ``jobs`` worker processes (0: the CPU count,
  1: in this process), in chunks, largest files first so that the workers finish
  together. Workers send back :class:`~integ_lint.engine.results.FileResult` values
  (plain picklable data) and write their cache entries themselves; with the cache, a
  result's facts are pickled once, per key, for the entry and for this process, which
  keeps them pickled until the project phase reads them (as a cached result's).
* The traversal (:mod:`integ_lint.engine.analysis`, LibCST) and the selected rule
  classes are imported only when a file has to be analysed: a run served by the cache
  reads the rules' metadata from their references alone.
* The pool uses the ``fork`` start method where it is safe (Linux), so workers
  inherit the selected rules and config; elsewhere (``spawn``) they are pickled by
  qualified name, and a selection that does not pickle (a rule class defined inside
  a function, for example) runs in this process instead.
* A chunk whose worker dies (a crash in a native parser, memory exhausted) is never
  analysed again in this process, which would die too and lose every other file's
  results: its files are taken one by one by a fresh worker, and a file that kills
  that worker too is reported (an internal-error notification naming it) and
  skipped. A chunk whose results do not pickle (no crash) is analysed here.
* Workers bound their memory (``RLIMIT_DATA``, :data:`WORKER_MEMORY_BYTES` above
  what they use at start), so that one pathological file fails alone instead of
  exhausting the machine.
* Memory: a forked worker shares this process's pages until either side writes to
  them. Before a pool starts, this process collects its garbage and hands the freed
  heap back to the system (:func:`release_free_memory`), and freezes its objects
  (``gc.freeze``) so that the workers' collections do not write to them. A process
  still large after that (a run over monorepo members, after the earlier members'
  results: CPython keeps an arena as long as one object lives in it) does not fork
  its workers: they come from a fork server (:data:`FORK_SERVER_ABOVE_BYTES`). A
  worker releases the peak of a large file's syntax tree after it
  (:data:`RELEASE_GROWTH_BYTES`) and after each chunk, instead of keeping its
  high-water mark for the rest of the run.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import multiprocessing
import os
import pickle
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeAlias

from integ_lint.config.loader import Config
from integ_lint.engine.cache import (
    MEMO_COMPARED_FILES,
    CacheError,
    FileCache,
    PickledFacts,
    load_all_facts,
    load_facts,
    pickle_facts,
)
from integ_lint.engine.collector_pause import collector_paused
from integ_lint.engine.discovery import SourceFile
from integ_lint.engine.manifest import CollectorRef, RuleRef, loaded_rules
from integ_lint.engine.results import FileResult
from integ_lint.files.source import max_file_bytes
from integ_lint.findings.model import Notification, NotificationKind

if TYPE_CHECKING:
    from integ_lint.rule import FactCollector, FileRule

# Below this many files to analyse, starting workers costs more than it saves.
MIN_FILES_FOR_POOL = 8
# Chunks per worker: enough to balance uneven files, few enough to keep IPC cheap.
CHUNKS_PER_WORKER = 6
MAX_CHUNK = 64
# What a worker may allocate beyond its size at start (per file in practice: a worker
# analyses one file at a time). Real files need a few hundred MB at most.
WORKER_MEMORY_BYTES = 3 << 30
# A worker hands the heap back to the system at the end of each chunk, and within one
# after a file that left it this much larger than its last release: the next files
# (smaller: chunks go largest first) reuse the freed pages, and every release costs
# the page faults of touching them again.
RELEASE_GROWTH_BYTES = 64 << 20
# Above this resident size (after trimming), a pool's workers come from a fork server
# rather than being forked from this process (see _pool_start_method): a run over
# monorepo members keeps the heap the earlier members' results fragmented.
FORK_SERVER_ABOVE_BYTES = 256 << 20
# Below this resident size a pool forks without a collection first: what the workers
# would share is small, and a full collection costs a warm run (one file changed)
# tens of milliseconds.
RELEASE_BEFORE_FORK_ABOVE_BYTES = 128 << 20


@dataclass
class ExecutionStats:
    """What the per-file phase did, for the run's statistics and notifications."""

    files_from_cache: int = 0
    files_analysed: int = 0
    workers: int = 1
    cache_written: int = 0
    cache_pruned: int = 0
    notifications: list[Notification] = field(default_factory=list)
    # Results whose facts are still pickled (analyze_files(defer_facts=True)): cached
    # ones, and the ones a worker pickled for its cache entry; with their file:
    # load_deferred_facts fills them in.
    deferred: list[tuple[FileResult, PickledFacts, SourceFile]] = field(default_factory=list)
    # The cache analyze_files read and wrote (None without one): a pre-commit run's
    # context files are looked up in it (analyze_files(reuse_cache=...)).
    cache: FileCache | None = field(default=None, repr=False)


def resolve_jobs(jobs: int) -> int:
    """Worker processes for ``jobs`` (0: the CPUs this process may run on)."""
    if jobs > 0:
        return jobs
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim`` (None elsewhere: musl, macOS, Windows)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


def release_free_memory(collect: bool = True) -> None:
    """Return the heap's free pages to the system (after collecting cyclic garbage,
    with ``collect``).

    CPython's allocator gives back its 1 MiB arenas once they are empty, but glibc's
    ``free`` keeps what lies below the top of its heaps: after a large syntax tree a
    process stays at its high-water mark until ``malloc_trim`` releases the free
    pages wherever they are. Where that function does not exist, only the collection
    is done."""
    if collect:
        gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def _start_method() -> str:
    methods = multiprocessing.get_all_start_methods()
    if sys.platform.startswith("linux") and "fork" in methods:
        return "fork"
    return "spawn"


# -- worker side ------------------------------------------------------------------
_State: TypeAlias = (
    "tuple[Config, Sequence[type[FileRule]], Sequence[type[FactCollector]], FileCache | None]"
)
_WORKER_STATE: _State | None = None
# What a chunk's analysis returns: the results; per result, its facts pickled when a
# worker pickled them for its cache entry (the result's ``facts`` then empty: the pool
# does not pickle them a second time for this process), else None; how many entries
# were written; why the cache stopped working (or None).
_ChunkDone: TypeAlias = "tuple[list[FileResult], list[PickledFacts | None], int, str | None]"


def _init_worker(state: _State, collecting: bool = True) -> None:
    global _WORKER_STATE
    _WORKER_STATE = state
    # A forked worker inherits the parent's collector paused (collector_paused).
    if collecting:
        gc.enable()
    _bound_memory(WORKER_MEMORY_BYTES)


def _bound_memory(extra: int) -> None:
    """Limit this process's data segment to its current size plus ``extra`` bytes
    (where the system supports it): beyond that, allocations fail with MemoryError
    (contained to the file) or the worker dies (reported as that file's crash)."""
    try:
        import resource

        current = _statm_bytes(_STATM_DATA)
        if not current:
            return  # /proc does not tell this process's size
        soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
        wanted = current + extra
        if hard != resource.RLIM_INFINITY:
            wanted = min(wanted, hard)
        if soft == resource.RLIM_INFINITY or soft > wanted:
            resource.setrlimit(resource.RLIMIT_DATA, (wanted, hard))
    except (ImportError, OSError, ValueError, IndexError):
        pass  # no such limit here: the per-file recursion bound still applies


def _analyze_chunk(chunk: Sequence[SourceFile], state: _State | None = None) -> _ChunkDone:
    """Analyse ``chunk`` and store the results in the cache (see :data:`_ChunkDone`)."""
    state = state if state is not None else _WORKER_STATE
    assert state is not None, "worker not initialised"
    from integ_lint.engine.analysis import analyze_file

    config, file_rules, collectors, cache = state
    # Only a worker releases memory (the main process's next file reuses the freed
    # pages anyway), and without a collection: a full one costs ~50 ms.
    in_worker = state is _WORKER_STATE
    floor = _resident_bytes() if in_worker else 0
    results = []
    sent: list[PickledFacts | None] = []
    written = 0
    for source_file in chunk:
        result = analyze_file(source_file, config, file_rules, collectors)
        pickled: PickledFacts | None = None
        if cache is not None:
            if in_worker and result.digest:
                # Pickled once, for the entry and for the parent (a third of the
                # result's pickling: napari 0.3 s of CPU).
                with contextlib.suppress(Exception):  # else as before: put and the pool
                    pickled = pickle_facts(result.facts)
            if cache.put(source_file, result, pickled):
                written += 1
        if pickled is not None:
            result.facts = {}
        results.append(result)
        sent.append(pickled)
        if in_worker and _resident_bytes() - floor > RELEASE_GROWTH_BYTES:
            release_free_memory(collect=False)
            floor = _resident_bytes()
    if in_worker:
        release_free_memory(collect=False)
    return results, sent, written, cache.disabled_reason if cache is not None else None


# -- parent side ------------------------------------------------------------------
def analyze_files(
    files: Sequence[SourceFile],
    config: Config,
    file_rules: Sequence[RuleRef],
    collectors: Sequence[CollectorRef],
    jobs: int = 1,
    use_cache: bool = False,
    stats: ExecutionStats | None = None,
    progress: Callable[[int, int], None] | None = None,
    reuse_rules: Sequence[RuleRef] = (),
    defer_facts: bool = False,
    reuse_cache: FileCache | None = None,
) -> list[FileResult]:
    """Analyse ``files`` and return their results in the same order.

    ``jobs``: worker processes (0: the CPU count; 1: in this process).
    ``use_cache``: read and write the per-file cache under the project root.
    ``stats``: filled with what was done (cache hits, workers, notifications).
    ``progress``: called with (files done, total) as files complete.
    ``reuse_rules``: with no ``file_rules`` (facts only: the context files of a
    pre-commit run), a cache entry written by a full run with these rules and the
    same collectors serves too; its findings are dropped. ``reuse_cache``: that
    cache, already open (the ``stats.cache`` of the run's call with those rules): its
    folder's content digests are loaded once, and its key not computed again.
    ``defer_facts``: cached results come with empty ``facts``, kept pickled in
    ``stats.deferred`` until :func:`load_deferred_facts` (the project phase's memo
    may make them unnecessary).
    """
    stats = stats if stats is not None else ExecutionStats()
    cache: FileCache | None = None
    if use_cache and files:
        try:
            cache = FileCache.for_run(config, file_rules, collectors)
        except CacheError as exc:
            stats.notifications.append(_cache_note(str(exc)))
        if cache is not None and cache.max_bytes <= 0:
            cache = None
    fuller: FileCache | None = None
    if cache is not None and reuse_rules and not file_rules:
        if reuse_cache is not None:
            fuller = reuse_cache
        else:
            with contextlib.suppress(CacheError):
                fuller = FileCache.for_run(config, reuse_rules, collectors)
    # Content digests are learnt and stored through one cache of the folder: the
    # fuller one, which the run's first call loaded them into.
    digests = fuller if fuller is not None else cache
    reused_codes = {rule.code for rule in reuse_rules}

    results: list[FileResult | None] = [None] * len(files)
    todo: list[tuple[int, int]] = []  # (index, size) of files to analyse
    for index, source_file in enumerate(files):
        size = 0
        if cache is not None and digests is not None:
            # Read and hashed only when its stat changed since a run hashed it.
            known = digests.digest_of(source_file.path, max_file_bytes(config))
            if known is not None:  # else analyse_file reports it
                size, digest = known
                cached = None
                found = None
                if fuller is not None:
                    # First: after a full run every unchanged file has an entry there,
                    # and a facts-only entry only a file changed since (one lookup per
                    # file, not a miss and then a hit).
                    found = fuller.get_deferred(source_file, digest, defer_facts)
                    if found is not None and _facts_only(found[0], reused_codes) is None:
                        found = None
                if found is None:
                    found = cache.get_deferred(source_file, digest, defer_facts)
                if found is not None:
                    cached, pickled_facts = found
                    if pickled_facts is not None:
                        stats.deferred.append((cached, pickled_facts, source_file))
                if cached is not None:
                    results[index] = cached
                    continue
        else:
            with contextlib.suppress(OSError):
                size = os.stat(source_file.path).st_size
        todo.append((index, size))
    stats.files_from_cache = len(files) - len(todo)
    stats.files_analysed = len(todo)
    tracker = _Progress(progress, len(files), stats.files_from_cache)

    if todo:
        # The facts the workers send stay pickled for the project phase's memo, which
        # may spare them; with more files analysed than it compares, it spares none
        # (its rules all run and read every key): they are unpickled as they come in,
        # while the workers still run, not in the phase after the pool (napari: 0.1 s
        # of the phase's 0.6 s of CPU).
        defer_sent = defer_facts and len(todo) <= MEMO_COMPARED_FILES
        _analyze_todo(
            files,
            todo,
            config,
            file_rules,
            collectors,
            cache,
            jobs,
            _Received(files, results, stats, defer_sent),
            tracker,
        )

    stats.cache = cache
    if cache is not None and digests is not None:
        digests.save_digests()
        if stats.cache_written:
            with contextlib.suppress(OSError):
                stats.cache_pruned = cache.prune()
        if cache.disabled_reason:
            stats.notifications.append(_cache_note(cache.disabled_reason))
    final = [r for r in results if r is not None]
    assert len(final) == len(files)
    return final


def _analyze_todo(
    files: Sequence[SourceFile],
    todo: list[tuple[int, int]],
    config: Config,
    file_rules: Sequence[RuleRef],
    collectors: Sequence[CollectorRef],
    cache: FileCache | None,
    jobs: int,
    received: _Received,
    tracker: _Progress,
) -> None:
    """Analyse the files at the indices of ``todo``, in a pool or in this process."""
    # Only now are the rules imported (their references may be manifest handles).
    state: _State = (config, loaded_rules(file_rules), loaded_rules(collectors), cache)
    workers = min(resolve_jobs(jobs), len(todo))
    if workers > 1 and len(todo) >= MIN_FILES_FOR_POOL and _poolable(state):
        received.stats.workers = workers
        _run_pool(files, todo, state, workers, received, tracker)
    else:
        # In this process, results accumulate as in a pool's parent; what cyclic garbage
        # a file's analysis leaves is young: a young collection after each file finds
        # it (napari: the automatic collections traversing the earlier results cost
        # 0.6 s, the young ones 0.03 s).
        with collector_paused() as collecting:
            for index, _ in todo:
                received.chunk([index], _analyze_chunk([files[index]], state))
                tracker.advance(1)
                if collecting:
                    gc.collect(0)


@dataclass
class _Received:
    """Where the analysed files' results go: ``results`` by index; with ``defer``, the
    facts a worker sent pickled stay pickled in ``stats.deferred`` (as a cached
    result's), else they are unpickled here."""

    files: Sequence[SourceFile]
    results: list[FileResult | None]
    stats: ExecutionStats
    defer: bool

    def chunk(
        self, indices: Sequence[int], done: _ChunkDone, cache: FileCache | None = None
    ) -> None:
        """Take the results of the files at ``indices``; a reason the worker's cache
        stopped working disables ``cache`` too."""
        found, pickled, written, reason = done
        self.stats.cache_written += written
        if reason and cache is not None and cache.disabled_reason is None:
            cache.disabled_reason = reason
        for index, result, facts in zip(indices, found, pickled):
            if facts is not None:
                if self.defer:
                    self.stats.deferred.append((result, facts, self.files[index]))
                else:
                    result.facts = load_all_facts(facts)
            self.results[index] = result


def load_deferred_facts(
    stats: ExecutionStats,
    config: Config,
    collectors: Sequence[CollectorRef],
) -> None:
    """Fill in the facts :func:`analyze_files` left pickled (``defer_facts``); a file
    whose facts cannot be loaded is analysed again (for its facts only)."""
    for result, pickled, source_file in stats.deferred:
        try:
            facts: dict[str, Any] = {}
            for key, blob in pickled.items():
                facts[key] = load_facts(blob)[key]
            result.facts = facts
        except Exception:
            result.facts = _facts_again(source_file, config, collectors)
    stats.deferred.clear()


def _facts_again(
    source_file: SourceFile, config: Config, collectors: Sequence[CollectorRef]
) -> dict[str, Any]:
    """The facts of a file whose cached facts cannot be loaded: analysed again."""
    from integ_lint.engine.analysis import analyze_file

    return analyze_file(source_file, config, [], loaded_rules(collectors)).facts


def fact_unpickler(
    stats: Sequence[ExecutionStats], config: Config, collectors: Sequence[CollectorRef]
) -> Callable[[str, str, bytes], Any]:
    """The loader of one key of one file's facts left pickled by :func:`analyze_files`
    (``defer_facts``), for the project index to unpickle a key when a rule first reads
    it (:class:`integ_lint.model.project.FactColumns`); a file whose pickle cannot be
    loaded is analysed again (once, for all its facts)."""
    sources = {result.relpath: source for one in stats for result, _, source in one.deferred}
    again: dict[str, dict[str, Any]] = {}

    def unpickle(relpath: str, key: str, pickled: bytes) -> Any:
        if relpath not in again:
            try:
                return load_facts(pickled)[key]
            except Exception:
                again[relpath] = _facts_again(sources[relpath], config, collectors)
        return again[relpath][key]

    return unpickle


def _facts_only(result: FileResult | None, rule_codes: set[str]) -> FileResult | None:
    """``result`` (from a run with the rules ``rule_codes``) as a run with no file rule
    would have produced it: no findings; None when one of those rules crashed on the
    file (its facts are then not trusted to be complete)."""
    if result is None:
        return None
    if any(n.rule in rule_codes for n in result.notifications):
        return None
    result.findings = []
    return result


def _poolable(state: _State) -> bool:
    if _start_method() == "fork":
        return True
    return _picklable(state)


def _picklable(state: _State) -> bool:
    try:
        pickle.loads(pickle.dumps(state))
    except Exception:
        return False
    return True


# Fields of /proc/self/statm (in pages): resident memory, and data + stack.
_STATM_RESIDENT = 1
_STATM_DATA = 5


def _statm_bytes(field: int) -> int:
    """One field of this process's ``/proc/self/statm``, in bytes (0 where ``/proc``
    does not tell)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[field]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _resident_bytes() -> int:
    """This process's resident memory (0 where ``/proc`` does not tell)."""
    return _statm_bytes(_STATM_RESIDENT)


def _pool_start_method(state: _State) -> str:
    """``fork`` while this process is small; past :data:`FORK_SERVER_ABOVE_BYTES`
    (after :func:`release_free_memory`) the workers come from a fork server instead,
    when the selection pickles: each forked worker would start as large as this
    process, and copy what of it its allocations and collections touch."""
    method = _start_method()
    if method != "fork" or "forkserver" not in multiprocessing.get_all_start_methods():
        return method
    if _resident_bytes() <= FORK_SERVER_ABOVE_BYTES or not _picklable(state):
        return "fork"
    return "forkserver"


def _preload(state: _State) -> list[str]:
    """The modules a fork server imports once for all its workers: the analysis and
    the selected rules' and collectors' modules."""
    _, file_rules, collectors, _ = state
    modules = {kind.__module__ for kind in [*file_rules, *collectors]}
    return ["integ_lint.engine.analysis", *sorted(modules)]


def _chunks(todo: list[tuple[int, int]], workers: int) -> list[list[int]]:
    """Indices grouped into chunks, largest files first."""
    ordered = [index for index, _ in sorted(todo, key=lambda item: (-item[1], item[0]))]
    size = max(1, min(MAX_CHUNK, -(-len(ordered) // (workers * CHUNKS_PER_WORKER))))
    return [ordered[start : start + size] for start in range(0, len(ordered), size)]


def _run_pool(
    files: Sequence[SourceFile],
    todo: list[tuple[int, int]],
    state: _State,
    workers: int,
    received: _Received,
    tracker: _Progress,
) -> None:
    results, cache = received.results, state[3]
    chunks = _chunks(todo, workers)
    if _start_method() == "fork" and _resident_bytes() > RELEASE_BEFORE_FORK_ABOVE_BYTES:
        release_free_memory()  # before the size is judged, and what the workers share
    method = _pool_start_method(state)
    context = multiprocessing.get_context(method)
    if method == "forkserver":
        # Read when the server starts (once per process): later calls change nothing.
        context.set_forkserver_preload(_preload(state))
    failed: list[list[int]] = []
    crashed: list[list[int]] = []
    collecting = gc.isenabled()
    try:
        with (
            collector_paused(),
            ProcessPoolExecutor(
                max_workers=workers,
                mp_context=context,
                initializer=_init_worker,
                initargs=(state, collecting),
            ) as pool,
        ):
            with _shared_with_forked_workers(method == "fork"):
                futures: dict[Future[_ChunkDone], list[int]] = {
                    pool.submit(_analyze_chunk, [files[i] for i in chunk]): chunk
                    for chunk in chunks
                }
            for future in as_completed(futures):
                chunk = futures[future]
                try:
                    done = future.result()
                except BrokenProcessPool:
                    crashed.append(chunk)
                    continue
                except Exception:
                    failed.append(chunk)
                    continue
                received.chunk(chunk, done, cache)
                tracker.advance(len(chunk))
    except (BrokenProcessPool, OSError):
        pass  # whatever did not come back is analysed below, file by file
    crashed_indices = {i for chunk in crashed for i in chunk}
    unpicklable = sorted({i for chunk in failed for i in chunk} - crashed_indices)
    lost = {i for i, _ in todo if results[i] is None} - set(unpicklable)
    crashed_files = sorted(crashed_indices | lost)
    if crashed_files:
        _isolate(files, crashed_files, state, received, context)
        tracker.advance(len(crashed_files))
    for index in unpicklable:
        if results[index] is None:
            # The worker finished but its results did not come back (a value that
            # does not pickle): no crash, so this process can analyse the file.
            received.chunk([index], _analyze_chunk([files[index]], state))
            tracker.advance(1)


@contextlib.contextmanager
def _shared_with_forked_workers(forking: bool) -> Iterator[None]:
    """Around the submissions that fork a pool's workers (``fork`` starts them all at
    the first one): this process's objects are frozen out of the cyclic collector, so
    that the workers share their pages instead of copying them (a collection writes
    to every object it traverses)."""
    # Frozen by a caller already: its unfreeze is its own (gc.unfreeze is not nested).
    if not forking or gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _isolate(
    files: Sequence[SourceFile],
    indices: Sequence[int],
    state: _State,
    received: _Received,
    context: multiprocessing.context.BaseContext,
) -> None:
    """Analyse ``indices`` one at a time in a fresh worker; a file that kills its
    worker is reported and skipped, and a new worker takes the rest."""
    pending = list(indices)
    while pending:
        try:
            with ProcessPoolExecutor(
                max_workers=1,
                mp_context=context,
                initializer=_init_worker,
                initargs=(state, gc.isenabled()),
            ) as pool:
                while pending:
                    index = pending[0]
                    future = pool.submit(_analyze_chunk, [files[index]])
                    try:
                        done = future.result()
                    except BrokenProcessPool:
                        raise
                    except Exception:
                        # Not a crash (results that do not pickle): safe in-process.
                        done = _analyze_chunk([files[index]], state)
                    received.chunk([index], done, state[3])
                    pending.pop(0)
        except (BrokenProcessPool, OSError):
            index = pending.pop(0)
            received.results[index] = _crashed_result(files[index])


class _Progress:
    def __init__(self, callback: Callable[[int, int], None] | None, total: int, done: int):
        self.callback = callback
        self.total = total
        self.done = done
        if callback is not None and total:
            callback(done, total)

    def advance(self, count: int) -> None:
        self.done = min(self.total, self.done + count)
        if self.callback is not None:
            self.callback(self.done, self.total)


def _crashed_result(source_file: SourceFile) -> FileResult:
    result = FileResult(
        relpath=source_file.relpath,
        module=source_file.module,
        is_package_init=source_file.is_package_init,
    )
    result.notifications.append(
        Notification(
            kind=NotificationKind.INTERNAL_ERROR,
            message=(
                "the analysis of this file killed its worker process (a crash in the "
                "native parser, or memory exhausted); the file was not analysed"
            ),
            path=source_file.relpath,
            level="error",
        )
    )
    return result


def _cache_note(message: str) -> Notification:
    return Notification(
        kind=NotificationKind.CONFIG,
        message=f"cache disabled: {message}",
        level="warning",
    )
