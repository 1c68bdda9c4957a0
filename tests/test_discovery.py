"""Which files are scanned and what their modules are called."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from integ_lint.engine.discovery import DiscoveryError, discover, module_name
from integ_lint.files.globs import matches_any


def touch(root: Path, *relpaths: str) -> None:
    for relpath in relpaths:
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n")


def rels(
    root: Path, exclude: list[str] | None = None, paths: list[Path] | None = None
) -> list[str]:
    return [f.relpath for f in discover(paths or [root], root, exclude or [])]


def test_skips_tooling_folders_and_virtualenvs(tmp_path: Path) -> None:
    touch(
        tmp_path,
        "pkg/__init__.py",
        "pkg/a.py",
        "pkg/b.pyi",
        "pkg/notes.txt",
        ".git/hooks/x.py",
        "build/lib/pkg/a.py",
        "dist/x.py",
        "node_modules/x.py",
        "pkg/__pycache__/a.py",
        "lib/python3.11/site-packages/dep.py",
        "myenv/lib/x.py",
    )
    (tmp_path / "myenv" / "pyvenv.cfg").write_text("home = /usr\n")
    assert rels(tmp_path) == ["pkg/__init__.py", "pkg/a.py", "pkg/b.pyi"]


def test_exclude_globs(tmp_path: Path) -> None:
    touch(tmp_path, "pkg/a.py", "pkg/migrations/0001.py", "legacy/old.py")
    assert rels(tmp_path, ["migrations", "legacy/**"]) == ["pkg/a.py"]
    assert matches_any("pkg/migrations/0001.py", ["**/migrations/*.py"])


def test_explicit_file_is_scanned(tmp_path: Path) -> None:
    touch(tmp_path, "build/gen.py")
    assert rels(tmp_path, paths=[tmp_path / "build" / "gen.py"]) == ["build/gen.py"]


def test_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DiscoveryError, match="no such file"):
        discover([tmp_path / "missing"], tmp_path, [])


def test_gitignore_is_honoured_in_a_checkout(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    touch(tmp_path, "pkg/a.py", "generated/out.py")
    (tmp_path / ".gitignore").write_text("generated/\n")
    assert rels(tmp_path) == ["pkg/a.py"]


def test_module_names_src_layout_and_namespace_packages(tmp_path: Path) -> None:
    touch(
        tmp_path,
        "src/app/__init__.py",
        "src/app/auth/__init__.py",
        "src/app/auth/api.py",
        "src/nsp/plugin/__init__.py",
        "src/nsp/plugin/core.py",
        "scripts/run.py",
    )
    modules = {f.relpath: f.module for f in discover([tmp_path], tmp_path, [])}
    assert modules == {
        "scripts/run.py": "scripts.run",
        "src/app/__init__.py": "app",
        "src/app/auth/__init__.py": "app.auth",
        "src/app/auth/api.py": "app.auth.api",
        "src/nsp/plugin/__init__.py": "nsp.plugin",
        "src/nsp/plugin/core.py": "nsp.plugin.core",
    }


def test_module_name_never_climbs_above_its_source_root(tmp_path: Path) -> None:
    touch(tmp_path, "pkg/__init__.py", "pkg/sub/__init__.py", "pkg/sub/mod.py", "__init__.py")
    assert module_name(tmp_path / "pkg" / "sub" / "mod.py", [tmp_path / "pkg" / "sub"]) == "mod"
    # A stray __init__.py in the root itself changes nothing.
    assert module_name(tmp_path / "pkg" / "sub" / "mod.py", [tmp_path]) == "pkg.sub.mod"


def test_module_name_never_runs_through_a_folder_that_is_not_an_identifier(
    tmp_path: Path,
) -> None:
    touch(tmp_path, "web-app/pkg/__init__.py", "web-app/pkg/views.py")
    assert module_name(tmp_path / "web-app" / "pkg" / "views.py", [tmp_path]) == "pkg.views"


def test_a_folder_git_ignores_as_a_whole_is_scanned_when_named(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    touch(tmp_path, "pkg/a.py", "vendor_tree/lib/mod.py")
    (tmp_path / ".gitignore").write_text("vendor_tree/\n")
    assert rels(tmp_path, paths=[tmp_path / "vendor_tree"]) == ["vendor_tree/lib/mod.py"]
    assert rels(tmp_path) == ["pkg/a.py"]


def test_anchored_and_file_name_globs() -> None:
    # A leading "/" anchors a glob at the project root.
    assert matches_any("setup.py", ["/setup.py"])
    assert not matches_any("pkg/trainer/setup.py", ["/setup.py"])
    # "**/test_*.py" names a file at any depth; "*" does not run across folders.
    assert matches_any("pkg/sub/test_core.py", ["**/test_*.py"])
    assert not matches_any("pkg/test_data/__init__.py", ["**/test_*.py"])
    # A folder glob at any depth still matches folders.
    assert matches_any("pkg/tests/helpers.py", ["**/tests/**"])


def test_folder_globs_from_the_root_and_at_any_depth() -> None:
    # "tests/**" is the top-level folder only; "**/tests/**" any depth, the top too.
    assert matches_any("tests/unit/test_a.py", ["tests/**"])
    assert not matches_any("pkg/tests/test_a.py", ["tests/**"])
    assert matches_any("tests/test_a.py", ["**/tests/**"])
    assert matches_any("src/pkg/tests/unit/helpers.py", ["**/tests/**"])
    assert not matches_any("src/pkg/tests.py", ["**/tests/**"])
    assert not matches_any("src/pkg/mytests/a.py", ["**/tests/**"])
    assert matches_any("docs/source/conf.py", ["/docs/**"])
    assert not matches_any("pkg/docs/conf.py", ["/docs/**"])
    assert matches_any("pkg/alembic/versions/0001_init.py", ["**/alembic/versions/**"])


def test_a_run_names_each_project_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run's discovery reuses the project's files (roles classified, heads read
    while the layout was inferred) instead of reading every file's head again."""
    import integ_lint.engine.discovery as discovery
    from integ_lint.config import load_config
    from integ_lint.engine import discover_files

    touch(tmp_path, "pkg/__init__.py", "pkg/core.py", "tests/test_core.py")
    (tmp_path / "pyproject.toml").write_text("[tool.integ-lint]\n")
    (tmp_path / "pkg" / "gen.py").write_text("# Generated by a tool. DO NOT EDIT!\n")
    config = load_config([tmp_path], None, {})

    def no_second_read(path: Path, size: int = 2048) -> str:
        raise AssertionError(f"{path} read again")

    monkeypatch.setattr(discovery, "read_head", no_second_read)
    files = discover_files([tmp_path], config)
    assert {f.relpath: f.role for f in files} == {
        "pkg/__init__.py": "library",
        "pkg/core.py": "library",
        "pkg/gen.py": "generated",
        "tests/test_core.py": "test",
    }
    assert [f.relpath for f in discover_files([tmp_path / "pkg"], config)] == [
        "pkg/__init__.py",
        "pkg/core.py",
        "pkg/gen.py",
    ]
