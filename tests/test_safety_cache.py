"""Item 2 of issue 25: the cache writes into, prunes and deletes only a folder it
created and tagged with an id this user's key proves; it never follows a symlink,
refuses an existing folder it did not create (one line), and ``cache clean`` deletes
only its own files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import integ_lint.engine.cache
from integ_lint.cli import main
from integ_lint.engine.cache import CACHEDIR_TAG, FileCache


@pytest.fixture(autouse=True)
def _private_key(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    key_dir = tmp_path_factory.mktemp("key")
    monkeypatch.setenv("INTEG_LINT_CACHE_KEY_FILE", str(key_dir / "cache-key"))


def project(root: Path, cache_dir: str | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    line = f"cache-dir = '{cache_dir}'\n" if cache_dir else ""
    (root / "pyproject.toml").write_text(f'[tool.integ-lint]\nselect = ["IL201"]\n{line}')
    (root / "pkg").mkdir(exist_ok=True)
    (root / "pkg" / "__init__.py").write_text("")
    for index in range(10):
        (root / "pkg" / f"m{index}.py").write_text(f"import asyncio\nasyncio.run(f{index}())\n")
    return root


def cli(root: Path, *args: str) -> Result:
    old = Path.cwd()
    os.chdir(root)
    try:
        return CliRunner().invoke(main, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


def snapshot(folder: Path) -> dict[str, Any]:
    """Every name under ``folder`` (links not followed) with its content or target."""
    found: dict[str, Any] = {}
    for current, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in [*dirnames, *filenames]:
            path = Path(current, name)
            key = path.relative_to(folder).as_posix()
            if path.is_symlink():
                found[key] = ("link", os.readlink(path))
            elif path.is_file():
                found[key] = path.read_bytes()
            else:
                found[key] = "dir"
    return found


def assert_refused_and_untouched(root: Path, folder: Path, before: dict[str, Any]) -> None:
    result = cli(root, "check", "-j", "1", "--format", "concise", ".")
    assert result.exit_code == 1, result.output
    assert snapshot(folder) == before
    lines = [line for line in result.output.splitlines() if "cache disabled" in line]
    assert len(lines) == 1, result.output
    assert "not created by integ-lint" in lines[0] or "symbolic link" in lines[0]
    cleaned = cli(root, "cache", "clean")
    assert cleaned.exit_code == 2
    assert cleaned.stderr.count("\n") == 1 and cleaned.stderr.startswith("integ-lint: error:")
    assert snapshot(folder) == before


@pytest.mark.parametrize("where", ["pkg", "../sibling", "absolute"])
def test_an_existing_foreign_folder_is_refused(tmp_path: Path, where: str) -> None:
    sibling = tmp_path / "sibling"
    sibling.mkdir()
    (sibling / "notes.txt").write_text("precious")
    absolute = tmp_path / "elsewhere"
    absolute.mkdir()
    (absolute / "data.bin").write_bytes(b"\0data")
    cache_dir = str(absolute) if where == "absolute" else where
    root = project(tmp_path / "proj", cache_dir)
    folder = {"pkg": root / "pkg", "../sibling": sibling, "absolute": absolute}[where]
    before = snapshot(folder)
    assert_refused_and_untouched(root, folder, before)
    assert not (folder / ".gitignore").exists() and not (folder / "CACHEDIR.TAG").exists()


def test_a_committed_symlink_cache_folder_is_never_followed(tmp_path: Path) -> None:
    target = tmp_path / "victim"
    target.mkdir()
    (target / "keep.txt").write_text("precious")
    root = project(tmp_path / "proj")
    (root / ".integ-lint-cache").symlink_to(target)
    before = snapshot(target)
    assert_refused_and_untouched(root, target, before)
    assert (root / ".integ-lint-cache").is_symlink()


def test_a_committed_folder_with_the_old_tag_and_a_v1_symlink_is_refused(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    (victim / "ab").mkdir(parents=True)
    (victim / "ab" / ("ab" + "0" * 62)).write_text("precious")
    root = project(tmp_path / "proj")
    folder = root / ".integ-lint-cache"
    folder.mkdir()
    (folder / "CACHEDIR.TAG").write_text(CACHEDIR_TAG)
    (folder / "v1").symlink_to(victim)
    before = snapshot(victim)
    assert_refused_and_untouched(root, folder, {**snapshot(folder)})
    assert snapshot(victim) == before


def test_a_tag_made_with_another_users_key_is_foreign(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = project(tmp_path / "proj")
    assert cli(root, "check", "-j", "1", ".").exit_code == 1
    folder = root / ".integ-lint-cache"
    assert integ_lint.engine.cache.ownership(folder, FileCache(folder, "", 0).secret) == "ours"
    assert (
        integ_lint.engine.cache.ownership(folder, b"another user's key".ljust(32, b"-"))
        == "foreign"
    )


def test_an_empty_existing_folder_is_taken_and_tagged(tmp_path: Path) -> None:
    root = project(tmp_path / "proj", "cache")
    (root / "cache").mkdir()
    assert cli(root, "check", "-j", "1", ".").exit_code == 1
    tag = (root / "cache" / "CACHEDIR.TAG").read_text()
    assert tag.startswith(CACHEDIR_TAG) and "# integ-lint-id: " in tag
    assert list((root / "cache" / "v1").rglob("*"))


def test_clean_deletes_only_its_own_entries(tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    assert cli(root, "check", "-j", "1", ".").exit_code == 1
    folder = root / ".integ-lint-cache"
    entries = [p for p in (folder / "v1").rglob("*") if p.is_file()]
    # One per file (11), the project phase's memo, the call graph's kept summary
    # (engine.phase_memo.kept_summaries) and discovery's (engine.layout_memo).
    assert len(entries) == 14
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    (folder / "notes.txt").write_text("mine")
    shard = entries[0].parent
    (shard / ("f" * 64)).symlink_to(outside)
    (shard / "README").write_text("mine too")
    result = cli(root, "cache", "clean")
    assert result.exit_code == 0, result.output
    assert "Removed 14 cache entries" in result.stdout
    assert "3 file(s) integ-lint did not create" in result.stderr
    assert sorted(snapshot(folder)) == sorted(
        ["notes.txt", "v1", shard.relative_to(folder).as_posix()]
        + [f"{shard.relative_to(folder).as_posix()}/{n}" for n in ("README", "f" * 64)]
    )
    assert outside.read_text() == "precious"


def test_prune_and_reads_never_follow_a_symlinked_entry(tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    assert cli(root, "check", "-j", "1", ".").exit_code == 1
    folder = root / ".integ-lint-cache"
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    entry = next(p for p in (folder / "v1").rglob("*") if p.is_file())
    entry.unlink()
    entry.symlink_to(outside)
    cache = FileCache(folder, "", max_bytes=1)
    # 14 entries (11 files, the project memo, the call graph's kept summary, the
    # discovery memo), one a symlink.
    assert cache.prune() == 13
    assert entry.is_symlink() and outside.read_text() == "precious"
    fifo_entry = entry.parent / ("e" * 64)
    os.mkfifo(fifo_entry)
    assert [e.name for e in cache._entries()] == []  # neither link nor FIFO is an entry


def test_clean_leaves_an_empty_folder_it_did_not_create(tmp_path: Path) -> None:
    root = project(tmp_path / "proj", "mine")
    (root / "mine").mkdir()
    result = cli(root, "cache", "clean")
    assert result.exit_code == 0, result.output
    assert (root / "mine").is_dir()


def test_no_cache_folder_when_the_key_cannot_be_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key for this process only would make the folder look foreign to the next
    run (refused forever): no folder is created, one warning says why."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("INTEG_LINT_CACHE_KEY_FILE", str(blocker / "cache-key"))
    root = project(tmp_path / "proj")
    result = cli(root, "check", "-j", "1", "--format", "concise", ".")
    assert result.exit_code == 1, result.output
    assert not (root / ".integ-lint-cache").exists()
    [line] = [line for line in result.output.splitlines() if "cache disabled" in line]
    assert "cannot store the cache key" in line
