"""The per-file cache: hits, misses on content and config change, corrupt and forged
entries, concurrent writers, the size bound, and ``integ-lint cache clean``."""

from __future__ import annotations

import json
import multiprocessing
import os
import pickle
import threading
from pathlib import Path
from typing import Any

import libcst as cst
import pytest
from click.testing import CliRunner

from integ_lint.cli import main
from integ_lint.config import Config, load_config
from integ_lint.engine import analysis
from integ_lint.engine import cache as cache_module
from integ_lint.engine.cache import (
    MAGIC,
    CacheError,
    FileCache,
    cache_directory,
    clean,
    config_digest,
    namespace,
)
from integ_lint.engine.discovery import SourceFile, discover
from integ_lint.engine.executor import ExecutionStats, analyze_files, load_deferred_facts
from integ_lint.engine.results import FileResult
from integ_lint.files.source import content_digest
from integ_lint.findings import Severity
from integ_lint.rule import FactCollector, FileRule


class BoomCall(FileRule):
    """Reports calls of ``boom``.

    **What it does**: test rule.
    """

    code = "ZZ901"
    name = "boom-call"
    family = "test"
    severity = Severity.WARNING

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "boom":
            self.report(node, "boom called")


class IsTestFile(FileRule):
    """Reports every module that is a test file (depends on ``test-paths``).

    **What it does**: test rule.
    """

    code = "ZZ902"
    name = "is-test"
    family = "test"

    def visit_Module(self, node: cst.Module) -> None:
        if self.context.is_test:
            self.report(node, "a test file")


class Names(FactCollector):
    KEY = "test-names"

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self.names: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)

    def collect(self) -> tuple[str, ...]:
        return tuple(sorted(self.names))


RULES = [BoomCall, IsTestFile]
COLLECTORS = [Names]


@pytest.fixture(autouse=True)
def _private_key(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    key_dir = tmp_path_factory.mktemp("key")
    monkeypatch.setenv("INTEG_LINT_CACHE_KEY_FILE", str(key_dir / "cache-key"))


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Records every ``libcst.parse_module`` call made by the analysis."""
    calls: list[str] = []
    real = cst.parse_module

    def counting(source: str, *args: Any, **kwargs: Any) -> cst.Module:
        calls.append(source)
        return real(source, *args, **kwargs)

    monkeypatch.setattr(analysis.cst, "parse_module", counting)
    return calls


def make_project(root: Path, files: int = 5, config: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(f"[tool.integ-lint]\n{config}\n")
    package = root / "pkg"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    for index in range(files):
        (package / f"mod{index}.py").write_text(
            f"import os\n\ndef f{index}():\n    boom({index})\n"
        )
    tests = root / "tests"
    tests.mkdir(exist_ok=True)
    (tests / "test_a.py").write_text("def test_a():\n    assert True\n")
    return root


def setup(root: Path, **overrides: Any) -> tuple[Config, list[SourceFile]]:
    config = load_config([root], None, overrides or None)
    files = discover([root], config.root, exclude=[], respect_gitignore=False)
    return config, files


def run(
    config: Config, files: list[SourceFile], jobs: int = 1
) -> tuple[list[FileResult], ExecutionStats]:
    stats = ExecutionStats()
    results = analyze_files(
        files, config, RULES, COLLECTORS, jobs=jobs, use_cache=True, stats=stats
    )
    return results, stats


def summary(results: list[FileResult]) -> list[tuple[Any, ...]]:
    return [
        (
            r.relpath,
            r.digest,
            r.parsed,
            sorted(r.facts.items()),
            [(f.code, f.line, f.col, f.message) for f in r.findings],
            [n.message for n in r.notifications],
        )
        for r in results
    ]


def entry_files(config: Config) -> list[Path]:
    return sorted(p for p in (cache_directory(config) / "v1").rglob("*") if p.is_file())


def test_rerun_with_nothing_changed_parses_no_file(tmp_path: Path, parses: list[str]) -> None:
    config, files = setup(make_project(tmp_path))
    first, stats = run(config, files)
    assert len(parses) == len(files) == 7
    assert stats.files_from_cache == 0
    parses.clear()
    second, stats = run(config, files)
    assert parses == []
    assert stats.files_from_cache == len(files)
    assert summary(second) == summary(first)
    assert any(r.findings for r in second)


def test_cache_folder_has_gitignore_and_tag(tmp_path: Path) -> None:
    config, files = setup(make_project(tmp_path))
    run(config, files)
    directory = tmp_path / ".integ-lint-cache"
    assert (directory / ".gitignore").read_text().splitlines()[-1] == "*"
    assert (directory / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172")
    assert len(entry_files(config)) == len(files)


def test_content_change_misses_only_that_file(tmp_path: Path, parses: list[str]) -> None:
    config, files = setup(make_project(tmp_path))
    run(config, files)
    parses.clear()
    (tmp_path / "pkg" / "mod2.py").write_text("def changed():\n    boom()\n    boom()\n")
    results, stats = run(config, files)
    assert len(parses) == 1 and "changed" in parses[0]
    assert stats.files_from_cache == len(files) - 1
    changed = next(r for r in results if r.relpath == "pkg/mod2.py")
    assert [f.line for f in changed.findings] == [2, 3]


def test_relevant_config_change_misses(tmp_path: Path, parses: list[str]) -> None:
    make_project(tmp_path)
    config, files = setup(tmp_path)
    first, _ = run(config, files)
    assert [r.relpath for r in first if any(f.code == "ZZ902" for f in r.findings)] == [
        "tests/test_a.py"
    ]
    parses.clear()
    config, files = setup(tmp_path, **{"test-paths": ["pkg/**"]})
    second, stats = run(config, files)
    assert len(parses) == len(files)
    assert stats.files_from_cache == 0
    flagged = sorted(r.relpath for r in second if any(f.code == "ZZ902" for f in r.findings))
    assert flagged == sorted(f.relpath for f in files if f.relpath.startswith("pkg/"))


def test_section_change_misses(tmp_path: Path) -> None:
    make_project(tmp_path)
    before = config_digest(setup(tmp_path)[0])
    make_project(tmp_path, config="[tool.integ-lint.gpu]\nmanagers = ['x.Y']\n")
    assert config_digest(setup(tmp_path)[0]) != before


def test_irrelevant_config_change_still_hits(tmp_path: Path, parses: list[str]) -> None:
    config, files = setup(make_project(tmp_path))
    run(config, files)
    parses.clear()
    config, files = setup(tmp_path, **{"fail-on": "error", "jobs": 3})
    _, stats = run(config, files)
    assert parses == []
    assert stats.files_from_cache == len(files)


def test_rule_selection_is_part_of_the_key(tmp_path: Path, parses: list[str]) -> None:
    config, files = setup(make_project(tmp_path))
    run(config, files)
    parses.clear()
    analyze_files(files, config, [BoomCall], COLLECTORS, jobs=1, use_cache=True)
    assert len(parses) == len(files)
    assert namespace(config, [BoomCall], COLLECTORS) != namespace(config, RULES, COLLECTORS)
    assert namespace(config, RULES, []) != namespace(config, RULES, COLLECTORS)


def test_corrupt_entries_are_ignored_and_rebuilt(tmp_path: Path, parses: list[str]) -> None:
    config, files = setup(make_project(tmp_path))
    first, _ = run(config, files)
    entries = entry_files(config)
    entries[0].write_bytes(b"garbage")
    entries[1].write_bytes(entries[1].read_bytes()[:-7])  # truncated
    entries[2].write_bytes(b"")
    parses.clear()
    second, stats = run(config, files)
    assert len(parses) == 3
    assert stats.files_from_cache == len(files) - 3
    assert summary(second) == summary(first)
    parses.clear()
    run(config, files)
    assert parses == []  # rebuilt


def test_forged_entry_is_never_unpickled(tmp_path: Path, parses: list[str]) -> None:
    """An entry planted in the project (valid magic, no valid tag) must not run code."""
    config, files = setup(make_project(tmp_path))
    run(config, files)
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Exploit(str(marker)))
    for entry in entry_files(config):
        entry.write_bytes(MAGIC + b"\0" * 32 + payload)
    parses.clear()
    results, _ = run(config, files)
    assert not marker.exists()
    assert len(parses) == len(files)
    assert all(isinstance(r, FileResult) for r in results)


def test_entry_from_before_a_class_moved_is_ignored(tmp_path: Path, parses: list[str]) -> None:
    """An authentic entry whose pickle names classes where an older layout kept them
    (``FileResult`` of the flat ``analysis`` module before the packages, since moved
    to ``engine.results``) is a miss, never
    a crash."""
    config, files = setup(make_project(tmp_path))
    first, _ = run(config, files)
    cache = FileCache.for_run(config, RULES, COLLECTORS)
    source = files[0]
    digest = content_digest(source.path.read_bytes())
    path = cache.entry_path(cache.key(source, digest))
    assert cache.get(source, digest) is not None
    # The entry as written (see FileCache._seal), its result's pickle again in
    # protocol 0: text opcodes, so that the module names in it can be edited.
    opened = cache._open(path.read_bytes())
    assert opened is not None
    payload, _, facts = opened
    old = pickle.dumps(pickle.loads(payload), protocol=0)
    assert b"integ_lint.engine.results" in old
    path.write_bytes(cache._seal(old, bytes(facts)))
    assert cache.get(source, digest) is not None  # the same entry, re-encoded: a hit
    # The flat modules of the old layout (spelt in parts so that no rename touches them).
    old = old.replace(b"integ_lint.engine.results", b"integ_lint" + b".analysis")
    old = old.replace(b"integ_lint.findings.model", b"integ_lint" + b".findings")
    path.write_bytes(cache._seal(old, bytes(facts)))
    assert cache.get(source, digest) is None
    assert cache.stats.corrupt == 1
    parses.clear()
    second, _ = run(config, files)
    assert parses == [source.path.read_text()]  # analysed again, the rest still cached
    assert summary(second) == summary(first)


def test_forged_facts_are_never_unpickled_and_analysed_again(
    tmp_path: Path, parses: list[str]
) -> None:
    """An entry whose result is authentic but whose facts were replaced (their own tag,
    checked when they are first read, fails): the facts are never unpickled; the file is
    analysed again for them, and the entry is dropped (the next run writes it again)."""
    config, files = setup(make_project(tmp_path))
    first, _ = run(config, files)
    cache = FileCache.for_run(config, RULES, COLLECTORS)
    source = files[1]
    digest = content_digest(source.path.read_bytes())
    path = cache.entry_path(cache.key(source, digest))
    opened = cache._open(path.read_bytes())
    assert opened is not None
    _, _, facts = opened
    assert len(facts) > 0
    marker = tmp_path / "pwned"
    forged = pickle.dumps(_Exploit(str(marker)))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - len(facts)] + forged.ljust(len(facts), b"."))
    # The result alone is served without reading the facts (a memoised run).
    found = cache.get_deferred(source, digest)
    assert found is not None and found[1] is not None
    assert found[0].findings == next(r for r in first if r.relpath == source.relpath).findings
    parses.clear()
    stats = ExecutionStats()
    results = analyze_files(
        files, config, RULES, COLLECTORS, use_cache=True, stats=stats, defer_facts=True
    )
    load_deferred_facts(stats, config, COLLECTORS)
    assert not marker.exists()
    assert parses == [source.path.read_text()]  # analysed again, for its facts
    assert summary(results) == summary(first)
    assert not path.exists()
    assert cache.stored_facts(first[1], digest) is None  # the memo's view: gone


class _Exploit:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path(self.path).write_text, ("pwned",))


def test_entry_of_another_key_is_rejected(tmp_path: Path) -> None:
    """A valid entry copied under another file's key is not served for that file."""
    config, files = setup(make_project(tmp_path))
    run(config, files)
    cache = FileCache.for_run(config, RULES, COLLECTORS)
    first, second = files[1], files[2]
    first_digest = content_digest(first.path.read_bytes())
    second_digest = content_digest(second.path.read_bytes())
    good = cache.entry_path(cache.key(first, first_digest))
    target = cache.entry_path(cache.key(second, second_digest))
    target.write_bytes(good.read_bytes())
    assert cache.get(second, second_digest) is None
    assert cache.stats.corrupt == 1


def _concurrent_run(root: str, rounds: int) -> None:
    config, files = setup(Path(root))
    for _ in range(rounds):
        run(config, files)


def test_concurrent_writers_leave_a_valid_cache(tmp_path: Path, parses: list[str]) -> None:
    config, files = setup(make_project(tmp_path, files=30))
    context = multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    )
    processes = [context.Process(target=_concurrent_run, args=(str(tmp_path), 2)) for _ in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0
    assert not list(cache_directory(config).rglob("*.tmp"))
    assert len(entry_files(config)) == len(files)
    parses.clear()
    warm, stats = run(config, files)
    assert parses == []
    assert stats.files_from_cache == len(files)
    fresh = analyze_files(files, config, RULES, COLLECTORS, jobs=1, use_cache=False)
    assert summary(warm) == summary(fresh)


def test_concurrent_put_and_get_on_one_entry(tmp_path: Path) -> None:
    config, files = setup(make_project(tmp_path))
    results = analyze_files(files, config, RULES, COLLECTORS, jobs=1)
    cache = FileCache.for_run(config, RULES, COLLECTORS)
    source, result = files[1], results[1]
    seen: list[FileResult | None] = []
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for _ in range(50):
                cache.put(source, result)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def reader() -> None:
        try:
            for _ in range(50):
                seen.append(cache.get(source, result.digest))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=f) for f in (writer, writer, reader, reader)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert cache.stats.corrupt == 0
    found = [r for r in seen if r is not None]
    assert all(summary([r]) == summary([result]) for r in found)


def test_size_bound_prunes_oldest_entries(tmp_path: Path) -> None:
    config, files = setup(make_project(tmp_path, files=20))
    results = analyze_files(files, config, RULES, COLLECTORS, jobs=1)
    cache = FileCache(tmp_path / "c", "ns", max_bytes=10**9)
    for source, result in zip(files, results):
        cache.put(source, result)
    total = cache.size()
    assert total > 0
    paths = sorted((tmp_path / "c" / "v1").rglob("*"))
    entries = [p for p in paths if p.is_file()]
    for age, entry in enumerate(entries):  # deterministic ages: first is oldest
        os.utime(entry, (1_000_000 + age, 1_000_000 + age))
    cache.max_bytes = total // 2
    removed = cache.prune()
    assert removed > 0
    assert cache.size() <= int(total // 2 * 0.8)
    survivors = {p for p in entries if p.exists()}
    assert survivors == set(entries[len(entries) - len(survivors) :])  # the newest stayed
    assert cache.prune() == 0


def test_zero_size_bound_disables_the_cache(tmp_path: Path, parses: list[str]) -> None:
    config, files = setup(make_project(tmp_path, config="cache-max-mb = 0"))
    run(config, files)
    parses.clear()
    run(config, files)
    assert len(parses) == len(files)
    assert not (tmp_path / ".integ-lint-cache").exists()


@pytest.mark.parametrize("cache_dir", [".", ".."])
def test_cache_dir_at_the_root_is_refused(tmp_path: Path, cache_dir: str) -> None:
    root = make_project(tmp_path / "proj", config=f"cache-dir = '{cache_dir}'")
    config, files = setup(root)
    results, stats = run(config, files)
    assert all(r.parsed for r in results)
    assert [n.message for n in stats.notifications] == [
        f"cache disabled: {(root / cache_dir).resolve()}: cache-dir must not be the project "
        "root or one of its parents"
    ]
    assert not (root / ".gitignore").exists()
    assert not (root / "CACHEDIR.TAG").exists()


def test_unwritable_cache_dir_is_a_notification_not_a_crash(tmp_path: Path) -> None:
    config, files = setup(make_project(tmp_path, config="cache-dir = 'blocker/cache'"))
    (tmp_path / "blocker").write_text("a file, not a folder")
    results, stats = run(config, files)
    assert all(r.parsed for r in results)
    assert len(stats.notifications) == 1
    assert stats.notifications[0].message.startswith("cache disabled: ")
    assert "blocker" in stats.notifications[0].message


def _cli(args: list[str], cwd: Path) -> Any:
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(main, args, catch_exceptions=False)
    finally:
        os.chdir(old)


def test_cli_no_cache_writes_nothing_and_cache_clean(tmp_path: Path) -> None:
    make_project(tmp_path)
    result = _cli(["check", "--no-cache", "-j", "1", "."], tmp_path)
    assert result.exit_code in (0, 1), result.output
    assert not (tmp_path / ".integ-lint-cache").exists()
    result = _cli(["check", "-j", "1", "."], tmp_path)
    assert result.exit_code in (0, 1), result.output
    entries = [p for p in (tmp_path / ".integ-lint-cache" / "v1").rglob("*") if p.is_file()]
    assert entries
    result = _cli(["cache", "clean"], tmp_path)
    assert result.exit_code == 0, result.output
    assert f"Removed {len(entries)} cache entries" in result.output
    assert not (tmp_path / ".integ-lint-cache").exists()
    result = _cli(["cache", "clean"], tmp_path)
    assert result.exit_code == 0
    assert "Removed 0 cache entries" in result.output


def test_cache_clean_refuses_a_foreign_folder(tmp_path: Path) -> None:
    make_project(tmp_path, config="cache-dir = 'docs'")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("precious")
    result = _cli(["cache", "clean"], tmp_path)
    assert result.exit_code == 2
    assert "not an integ-lint cache folder" in result.output
    assert (tmp_path / "docs" / "index.md").read_text() == "precious"
    with pytest.raises(CacheError, match="project root"):
        clean(tmp_path, tmp_path)


def _counting_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths the cache reads (entries, and the sources it hashes)."""
    reads: list[str] = []
    real = cache_module.read_regular_file

    def counting(path: Any, *args: Any, **kwargs: Any) -> bytes:
        reads.append(os.fspath(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(cache_module, "read_regular_file", counting)
    return reads


def test_unchanged_files_are_not_read_again(
    tmp_path: Path, parses: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file whose stat signature is the one its digest was taken under is not read
    (git's index): a warm run reads the entries alone."""
    monkeypatch.setattr(cache_module, "RACY_NS", 0)  # files written just now count as settled
    config, files = setup(make_project(tmp_path))
    first, _ = run(config, files)
    reads = _counting_reads(monkeypatch)
    second, stats = run(config, files)
    assert stats.files_from_cache == len(files)
    assert not {os.fspath(f.path) for f in files} & set(reads)
    assert summary(second) == summary(first)


def test_an_edit_that_keeps_size_and_modification_time_is_seen(
    tmp_path: Path, parses: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The content replaced with the same size and the modification time put back
    (``cp -p``, an archive): the change time moved, the file is read again."""
    monkeypatch.setattr(cache_module, "RACY_NS", 0)
    config, files = setup(make_project(tmp_path))
    run(config, files)
    target = next(f for f in files if f.path.name == "mod1.py").path
    info = target.stat()
    text = target.read_text()
    target.write_text(text.replace("boom(1)", "bxxm(1)"))
    os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert target.stat().st_size == info.st_size
    parses.clear()
    results, _ = run(config, files)
    assert parses == [target.read_text()]
    changed = next(r for r in results if r.relpath == "pkg/mod1.py")
    assert changed.findings == []  # boom() is gone
    assert changed.digest == content_digest(target.read_bytes())


def test_a_file_modified_just_now_is_read_every_time(
    tmp_path: Path, parses: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Racily clean: a file modified within the timestamps' granularity may change
    again without its signature changing, so its digest is not remembered."""
    config, files = setup(make_project(tmp_path))  # every file written just now
    run(config, files)
    reads = _counting_reads(monkeypatch)
    _, stats = run(config, files)
    assert stats.files_from_cache == len(files)
    assert {os.fspath(f.path) for f in files} <= set(reads)


def test_forged_digests_are_ignored(
    tmp_path: Path, parses: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The remembered digests are authenticated like an entry: a planted list (here
    naming another content for every file) is ignored and the files are read."""
    monkeypatch.setattr(cache_module, "RACY_NS", 0)
    config, files = setup(make_project(tmp_path))
    first, _ = run(config, files)
    cache = FileCache.for_run(config, RULES, COLLECTORS)
    path = cache._digests_path()
    opened = cache._open(path.read_bytes())
    assert opened is not None
    digests = json.loads(bytes(opened[0]))
    assert {os.fspath(f.path) for f in files} <= set(digests)
    forged = {name: [*entry[:6], "0" * 64] for name, entry in digests.items()}
    path.write_bytes(
        MAGIC + b"\0" * (len(cache._seal(b"")) - len(MAGIC)) + json.dumps(forged).encode()
    )
    reads = _counting_reads(monkeypatch)
    second, stats = run(config, files)
    assert stats.files_from_cache == len(files)
    assert {os.fspath(f.path) for f in files} <= set(reads)
    assert summary(second) == summary(first)


def test_digests_of_files_long_gone_are_dropped_when_they_pile_up(
    tmp_path: Path, parses: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache_module, "RACY_NS", 0)
    config, files = setup(make_project(tmp_path))
    run(config, files)
    cache = FileCache.for_run(config, RULES, COLLECTORS)
    digests = cache._load_digests()
    gone = {f"/gone/{index}.py": [1, 1, 1, index, 1, 33188, "0" * 64] for index in range(50)}
    cache._digests = {**digests, **gone}
    cache._digests_changed = True
    cache.save_digests()
    assert set(cache._load_digests()) == set(digests) | set(gone)  # under the bound: kept
    size = len(json.dumps({**digests, **gone}))
    monkeypatch.setattr(cache_module, "_DIGESTS_LIMIT", size)  # over half of it
    cache = FileCache.for_run(config, RULES, COLLECTORS)
    (tmp_path / "pkg" / "mod0.py").write_text("x = 1\n")
    mod0 = next(f for f in files if f.path.name == "mod0.py")
    assert cache.digest_of(mod0.path, None) is not None
    cache.save_digests()
    assert set(cache._load_digests()) == {os.fspath(mod0.path)}


def test_facts_of_a_large_entry_are_read_when_first_used(
    tmp_path: Path, parses: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run reads an entry's header and result; the facts of a large entry (here:
    every entry) only when they are used, from the same file: one replaced or deleted
    meanwhile is never read, the file is analysed again for its facts."""
    config, files = setup(make_project(tmp_path))
    first, _ = run(config, files)
    monkeypatch.setattr(cache_module, "_ENTRY_HEAD", cache_module._RESULT_START)
    parses.clear()
    stats = ExecutionStats()
    results = analyze_files(
        files, config, RULES, COLLECTORS, use_cache=True, stats=stats, defer_facts=True
    )
    assert all(not r.facts for r in results) and len(stats.deferred) == len(files)
    load_deferred_facts(stats, config, COLLECTORS)
    assert parses == []
    assert summary(results) == summary(first)

    cache = FileCache.for_run(config, RULES, COLLECTORS)
    source = files[1]
    digest = content_digest(source.path.read_bytes())
    found = cache.get_deferred(source, digest)
    assert found is not None and found[1] is not None
    path = cache.entry_path(cache.key(source, digest))
    replacement = tmp_path / "replacement"
    replacement.write_bytes(path.read_bytes())
    os.replace(replacement, path)  # the same bytes, another file
    facts = cache_module.load_all_facts(found[1])
    assert facts == next(r.facts for r in first if r.relpath == source.relpath)
    assert parses == [source.path.read_text()]  # analysed again, never read from the new file
