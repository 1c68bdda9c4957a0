"""Writing one file's cache entry (``cache.write_entry``, what ``FileCache.put`` uses):
atomic, the mode the umask gives, a symlink replaced and never followed, nothing
left behind on an error, and a temporary file that a prune or ``clean`` recognises."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from integ_lint.engine import cache as cache_module
from integ_lint.engine.cache import FileCache, write_entry
from integ_lint.engine.discovery import SourceFile
from integ_lint.engine.results import FileResult
from integ_lint.files.atomic import TEMP_NAME

ENTRY = "ab" + "c" * 62


@pytest.fixture(autouse=True)
def _private_key(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    key_dir = tmp_path_factory.mktemp("key")
    monkeypatch.setenv("INTEG_LINT_CACHE_KEY_FILE", str(key_dir / "cache-key"))


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_entry_is_written_with_the_umask_mode_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / ENTRY
    write_entry(str(target), b"first")
    write_entry(str(target), b"second")
    assert target.read_bytes() == b"second"
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~_umask()
    assert os.listdir(tmp_path) == [ENTRY]


def test_a_symlink_at_the_entry_is_replaced_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"the user's")
    target = tmp_path / ENTRY
    target.symlink_to(outside)
    write_entry(str(target), b"entry")
    assert not target.is_symlink()
    assert target.read_bytes() == b"entry"
    assert outside.read_bytes() == b"the user's"


def test_a_folder_at_the_entry_fails_and_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / ENTRY
    target.mkdir()
    with pytest.raises(OSError):
        write_entry(str(target), b"entry")
    assert os.listdir(tmp_path) == [ENTRY]
    assert target.is_dir()


def test_the_temporary_file_has_the_name_a_prune_recognises_and_goes_on_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    def failing_replace(source: str, destination: str) -> None:
        seen.append(os.path.basename(source))
        assert os.path.exists(source)  # written, about to be renamed
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache_module.os, "replace", failing_replace)
    with pytest.raises(OSError):
        write_entry(str(tmp_path / ENTRY), b"entry")
    assert len(seen) == 1 and TEMP_NAME.match(seen[0]), seen
    assert os.listdir(tmp_path) == []


def _result(relpath: str) -> tuple[SourceFile, FileResult]:
    source = SourceFile(Path("/nowhere") / relpath, relpath, "pkg.mod", is_package_init=False)
    result = FileResult(relpath=relpath, module="pkg.mod", is_package_init=False, digest="d" * 64)
    result.facts = {"names": ["a", "b"]}
    return source, result


def test_put_writes_entries_that_read_back_and_one_shard_folder_each(tmp_path: Path) -> None:
    cache = FileCache(tmp_path / "c", "ns", max_bytes=10**9)
    written = []
    for index in range(40):
        source, result = _result(f"pkg/mod{index}.py")
        assert cache.put(source, result)
        written.append((source, result))
    for source, result in written:
        found = cache.get(source, result.digest)
        assert found is not None
        assert found.relpath == result.relpath and found.facts == {"names": ["a", "b"]}
    shards = sorted(p.name for p in (tmp_path / "c" / "v1").iterdir())
    assert shards == sorted(
        {p.parent.name for p in (tmp_path / "c" / "v1").rglob("*") if p.is_file()}
    )
    assert not [p for p in (tmp_path / "c" / "v1").rglob("*") if TEMP_NAME.match(p.name)]


def test_put_into_a_shard_that_is_a_symlink_disables_the_cache(tmp_path: Path) -> None:
    first_source, first = _result("pkg/first.py")
    assert FileCache(tmp_path / "c", "ns", max_bytes=10**9).put(first_source, first)  # claims
    cache = FileCache(tmp_path / "c", "ns", max_bytes=10**9)
    shards = {p.name for p in (tmp_path / "c" / "v1").iterdir()}
    source, result = next(
        found
        for index in range(100)
        if cache.key((found := _result(f"pkg/mod{index}.py"))[0], found[1].digest)[:2] not in shards
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shard = tmp_path / "c" / "v1" / cache.key(source, result.digest)[:2]
    shard.symlink_to(elsewhere, target_is_directory=True)
    assert not cache.put(source, result)
    assert cache.disabled_reason is not None and "symlink" in cache.disabled_reason
    assert "\n" not in cache.disabled_reason
    assert os.listdir(elsewhere) == []
