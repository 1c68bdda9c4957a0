"""The discovery memo (integ_lint.engine.layout_memo): a warm discovery reads no file
and recomputes no layout, and every change that can alter the result invalidates it."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

import integ_lint.engine.discovery as discovery
import integ_lint.engine.layout_memo as layout_memo
from integ_lint.config.roles import role_paths
from integ_lint.config.settings import GeneralSettings
from integ_lint.engine.cache import ENTRY_DIR, claim, clean
from integ_lint.engine.discovery import SourceFile, discover_project
from integ_lint.model.layout import Layout

SECRET = b"k" * 32
ROLES = role_paths(GeneralSettings())


def write(root: Path, relpath: str, text: str = "") -> Path:
    path = root / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def settle(root: Path, *relpaths: str, seconds_ago: float = 60.0) -> None:
    """Date the files at ``relpaths`` (default: all) a while back: a file modified just
    now is not memoised (it may change again within the timestamp granularity)."""
    when = time.time_ns() - int(seconds_ago * 1e9)
    paths = [root / r for r in relpaths] if relpaths else list(root.rglob("*.py"))
    for path in paths:
        os.utime(path, ns=(when, when))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    write(root, "pkg/__init__.py")
    write(root, "pkg/core.py", "import os\nfrom pkg import util\n")
    write(root, "pkg/util.py", "def helper():\n    return 1\n")
    write(root, "tests/helpers.py", "def make():\n    return 1\n")
    write(root, "tests/test_core.py", "from pkg.core import util\n")
    settle(root)
    return root


@pytest.fixture
def cache_dir(project: Path) -> Path:
    directory = project / ".integ-lint-cache"
    claim(directory, SECRET)
    (directory / ENTRY_DIR).mkdir()
    return directory


def discover(root: Path, memo: Path | None, **options: Any) -> tuple[list[SourceFile], Layout]:
    options.setdefault("role_patterns", ROLES)
    return discover_project(
        root, exclude=[], respect_gitignore=False, memo_directory=memo, **options
    )


def summary(result: tuple[list[SourceFile], Layout]) -> tuple[Any, ...]:
    files, layout = result
    rows = [(f.relpath, f.module, f.role, f.source_root, f.is_package_init) for f in files]
    return rows, layout.source_roots, layout.origin, layout.warnings


def forbid_reads(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Record the files the memo reads again (none on a warm run)."""
    read: list[Path] = []
    original = layout_memo.scan_file

    def recording(path: Path) -> tuple[set[str], str]:
        read.append(path)
        return original(path)

    monkeypatch.setattr(layout_memo, "scan_file", recording)
    return read


def count_layouts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    computed: list[int] = []
    original = discovery.finish_layout

    def counting(*args: Any, **kwargs: Any) -> Layout:
        computed.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(discovery, "finish_layout", counting)
    return computed


def memo_files(cache_dir: Path) -> list[Path]:
    return [p for p in (cache_dir / ENTRY_DIR).rglob("*") if p.is_file()]


def test_the_memo_sits_in_the_caches_entry_folder() -> None:
    assert layout_memo.ENTRY_DIR == ENTRY_DIR


def test_a_warm_discovery_reads_no_file_and_computes_no_layout(
    project: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cold = discover(project, cache_dir)
    assert len(memo_files(cache_dir)) == 1
    read = forbid_reads(monkeypatch)
    computed = count_layouts(monkeypatch)
    warm = discover(project, cache_dir)
    assert read == [] and computed == []
    assert summary(warm) == summary(cold) == summary(discover(project, None))
    # "from helpers import ..." is not there: tests/ is no root; the roles are the usual.
    assert {f.relpath: f.role for f in warm[0]}["tests/test_core.py"] == "test"


def test_without_a_claimed_cache_folder_nothing_is_stored(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = project / ".integ-lint-cache"
    discover(project, directory)
    assert not directory.exists()  # never created here: the cache creates and tags it
    directory.mkdir()
    (directory / ENTRY_DIR).mkdir()  # a folder without the cache's tag
    discover(project, directory)
    assert memo_files(directory) == []


def test_a_new_file_is_read_and_can_change_the_layout(
    project: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = discover(project, cache_dir)
    assert project / "tests" not in before[1].source_roots
    write(project, "tests/test_helpers.py", "from helpers import make\n")
    settle(project, "tests/test_helpers.py")
    read = forbid_reads(monkeypatch)
    after = discover(project, cache_dir)
    assert read == [project / "tests" / "test_helpers.py"]
    assert project / "tests" in after[1].source_roots  # its import resolves from tests/
    assert summary(after) == summary(discover(project, None))
    assert {f.relpath: f.module for f in after[0]}["tests/helpers.py"] == "helpers"


def test_a_deleted_file_is_gone_and_its_entry_too(
    project: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    discover(project, cache_dir)
    (project / "pkg" / "util.py").unlink()
    read = forbid_reads(monkeypatch)
    files, layout = discover(project, cache_dir)
    assert read == []
    assert "pkg/util.py" not in [f.relpath for f in files]
    assert summary((files, layout)) == summary(discover(project, None))
    stored = json.loads(memo_files(cache_dir)[0].read_text())
    assert "pkg/util.py" not in stored["files"]


def test_a_renamed_file_gets_its_new_name(
    project: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    discover(project, cache_dir)
    (project / "pkg" / "util.py").rename(project / "pkg" / "tools.py")
    read = forbid_reads(monkeypatch)
    files, _ = discover(project, cache_dir)
    assert read == [project / "pkg" / "tools.py"]  # no entry under its new name
    modules = {f.relpath: f.module for f in files}
    assert modules["pkg/tools.py"] == "pkg.tools" and "pkg/util.py" not in modules


def test_a_changed_import_that_changes_the_layout(
    project: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(project, "tests/test_helpers.py", "from helpers import make\n")
    settle(project)
    assert project / "tests" in discover(project, cache_dir)[1].source_roots
    (project / "tests" / "test_helpers.py").write_text("from pkg.util import helper\n")
    settle(project, "tests/test_helpers.py", seconds_ago=30.0)
    read = forbid_reads(monkeypatch)
    computed = count_layouts(monkeypatch)
    after = discover(project, cache_dir)
    assert read == [project / "tests" / "test_helpers.py"]
    assert computed == [1]
    assert project / "tests" not in after[1].source_roots
    assert summary(after) == summary(discover(project, None))


def test_a_changed_file_with_the_same_imports_keeps_the_layout(
    project: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    discover(project, cache_dir)
    write(project, "pkg/core.py", "import os\nfrom pkg import util\n\nVALUE = 1\n")
    settle(project, "pkg/core.py", seconds_ago=30.0)
    read = forbid_reads(monkeypatch)
    computed = count_layouts(monkeypatch)
    discover(project, cache_dir)
    assert read == [project / "pkg" / "core.py"] and computed == []


def test_a_generated_header_changes_the_role(
    project: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    discover(project, cache_dir)
    write(project, "pkg/util.py", "# Generated by a tool. DO NOT EDIT!\nX = 1\n")
    settle(project, "pkg/util.py", seconds_ago=30.0)
    files, _ = discover(project, cache_dir)
    assert {f.relpath: f.role for f in files}["pkg/util.py"] == "generated"


def test_a_changed_config_gives_its_own_result(
    project: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    discover(project, cache_dir)
    read = forbid_reads(monkeypatch)
    configured = discover(project, cache_dir, source_roots=["tests"])
    assert read == []  # the files' scans do not depend on the config
    assert configured[1].origin == "source-roots"
    assert summary(configured) == summary(discover(project, None, source_roots=["tests"]))
    roles = discover(project, cache_dir, role_patterns={"test": ["pkg/util.py"]})
    assert {f.relpath: f.role for f in roles[0]}["pkg/util.py"] == "test"
    # A declared root (the packaging's) is read from the config files each time.
    write(project, "pyproject.toml", '[tool.setuptools]\npackage-dir = {"" = "tests"}\n')
    declared = discover(project, cache_dir)
    assert declared[1].origin.startswith("setuptools package-dir")
    assert summary(declared) == summary(discover(project, None))


def test_a_file_modified_just_now_is_read_again(
    project: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(project, "pkg/fresh.py", "import json\n")  # not settled: racily clean
    discover(project, cache_dir)
    read = forbid_reads(monkeypatch)
    discover(project, cache_dir)
    assert read == [project / "pkg" / "fresh.py"]


def test_a_damaged_memo_is_ignored(
    project: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = summary(discover(project, cache_dir))
    (entry,) = memo_files(cache_dir)
    stored = json.loads(entry.read_text())
    for damage in (
        b"not json",
        b"[]",
        json.dumps({**stored, "files": {k: [1, "x"] for k in stored["files"]}}).encode(),
        json.dumps(
            {**stored, "layouts": [[k, {"roots": 1}] for k, _ in stored["layouts"]]}
        ).encode(),
    ):
        entry.write_bytes(damage)
        assert summary(discover(project, cache_dir)) == expected


def test_a_memo_of_other_files_is_never_taken(
    project: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A memo copied from another checkout (or planted) matches no file: the inode and
    the nanosecond modification time of each must agree."""
    discover(project, cache_dir)
    (entry,) = memo_files(cache_dir)
    stored = json.loads(entry.read_text())
    stored["files"] = {
        relpath: [scan[0] + 1, *scan[1:4], True, ["planted"]]
        for relpath, scan in stored["files"].items()
    }
    entry.write_text(json.dumps(stored))
    files, _ = discover(project, cache_dir)
    assert {f.role for f in files} != {"generated"}


def test_cache_clean_deletes_the_memo(project: Path, cache_dir: Path) -> None:
    discover(project, cache_dir)
    assert memo_files(cache_dir)
    outcome = clean(cache_dir, project, SECRET)
    assert outcome.left == [] and not cache_dir.exists()


def checking_app(tmp_path: Path) -> tuple[Path, Callable[..., Result]]:
    """A small project, and ``check`` on it through the CLI (JSON, a key of its own)."""
    from click.testing import CliRunner

    from integ_lint.cli import main

    root = tmp_path / "app"
    write(root, "pyproject.toml", "[tool.integ-lint]\n")
    write(root, "app/__init__.py")
    write(root, "app/core.py", "import json\n\n\ndef load(text):\n    return json.loads(text)\n")
    settle(root)
    env = {"INTEG_LINT_CACHE_KEY_FILE": str(tmp_path / "key")}
    args = ["check", str(root), "--format", "json", "--no-progress", "--exit-zero"]

    def check(*extra: str) -> Result:
        return CliRunner().invoke(main, [*args, *extra], env=env)

    return root, check


def test_check_runs_use_the_memo_unless_no_cache(tmp_path: Path) -> None:
    root, check = checking_app(tmp_path)
    first = check("--no-cache")
    assert first.exit_code == 0, first.output
    assert not (root / ".integ-lint-cache").exists()
    runs = [check() for _ in range(3)]
    assert all(r.exit_code == 0 for r in runs), runs[0].output
    cache = root / ".integ-lint-cache"
    memos = [p for p in memo_files(cache) if p.read_bytes().startswith(b"{")]
    assert len(memos) == 1  # written by the first cached run, once its cache folder existed

    def findings(output: str) -> Any:
        return json.loads(output)["findings"]

    assert all(findings(r.output) == findings(first.output) for r in runs)


def test_the_layout_check_names_the_same_example_on_a_tie(tmp_path: Path) -> None:
    """Two packages missed as often: the warning names the first by name, in every
    process (it used to follow set order, which PYTHONHASHSEED changes)."""
    import subprocess
    import sys

    for name in ("alpha", "beta"):
        write(tmp_path, f"src/{name}/__init__.py")
        write(tmp_path, f"src/{name}/m.py")
    for i in range(6):
        write(tmp_path, f"src/user{i}.py", "import beta.m\nimport alpha.m\n")
    script = (
        "import sys; from pathlib import Path; from integ_lint.model.layout import infer_layout;"
        "root = Path(sys.argv[1]); files = sorted(root.rglob('*.py'));"
        "print(infer_layout(root, files, ['.']).warnings[0])"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script, str(tmp_path)],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in range(4)
    }
    (warning,) = outputs
    assert "12 of 12 imports" in warning and "such as 'alpha'" in warning
    assert 'source-roots = ["src"]' in warning


def test_the_first_cached_run_stores_the_memo_once_its_cache_folder_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cold run creates the cache folder after discovery: what discovery learnt is
    stored once the folder is claimed, so the very next run reads no file either."""
    root, check = checking_app(tmp_path)
    cold = check()
    assert cold.exit_code == 0, cold.output
    cache = root / ".integ-lint-cache"
    assert [p for p in memo_files(cache) if p.read_bytes().startswith(b"{")]
    read = forbid_reads(monkeypatch)
    computed = count_layouts(monkeypatch)
    warm = check()
    assert warm.exit_code == 0, warm.output
    assert read == [] and computed == []
    assert json.loads(warm.output)["findings"] == json.loads(cold.output)["findings"]


def test_a_cold_imports_run_stores_the_memo_too(tmp_path: Path) -> None:
    """``imports`` (and ``graph``) claim the cache folder like ``check``: their first run
    stores discovery's memo as well."""
    from click.testing import CliRunner

    from integ_lint.cli import main

    root, _ = checking_app(tmp_path)
    env = {"INTEG_LINT_CACHE_KEY_FILE": str(tmp_path / "key")}
    result = CliRunner().invoke(main, ["imports", str(root), "--jobs", "1"], env=env)
    assert result.exit_code == 0, result.output
    memos = [p for p in memo_files(root / ".integ-lint-cache") if p.read_bytes().startswith(b"{")]
    assert len(memos) == 1
