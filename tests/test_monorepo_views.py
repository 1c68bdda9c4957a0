"""``imports`` and ``graph`` over a monorepo: every member the paths reach is shown as
the project it is (its own source roots name its modules, its own config picks its
managers), merged into one view with paths from the run's root; paths inside members
narrow each member's view, with the whole member behind it."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from integ_lint.cli import main

MONOREPO = Path(__file__).resolve().parent.parent / "fixtures" / "layouts" / "monorepo"
ALPHA = MONOREPO / "packages" / "alpha"
BETA = MONOREPO / "packages" / "beta"


def invoke(*args: str) -> tuple[str, str]:
    result = CliRunner().invoke(main, [*args, "-j", "1"])
    assert result.exit_code == 0, result.output
    return result.stdout, result.stderr


def as_json(*args: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(invoke(*args, "--format", "json")[0])
    return data


def test_imports_covers_every_member_with_its_own_source_roots() -> None:
    data = as_json("imports", str(MONOREPO))
    nodes = {n["id"]: (n["project"], n["path"]) for n in data["nodes"]}
    assert nodes == {
        "tools.release": (".", "tools/release.py"),
        # alpha's modules start at its src/ (its setuptools package-dir), not at the top.
        "alpha_pkg": ("packages/alpha", "packages/alpha/src/alpha_pkg/__init__.py"),
        "alpha_pkg.alpha": ("packages/alpha", "packages/alpha/src/alpha_pkg/alpha.py"),
        "alpha_pkg.beta": ("packages/alpha", "packages/alpha/src/alpha_pkg/beta.py"),
        "beta_pkg": ("packages/beta", "packages/beta/beta_pkg/__init__.py"),
        "beta_pkg.alpha": ("packages/beta", "packages/beta/beta_pkg/alpha.py"),
        "beta_pkg.beta": ("packages/beta", "packages/beta/beta_pkg/beta.py"),
    }
    got = {(e["source"], e["target"], tuple(e["sites"])) for e in data["edges"]}
    assert got == {
        ("alpha_pkg.alpha", "alpha_pkg.beta", ("packages/alpha/src/alpha_pkg/alpha.py:1",)),
        ("alpha_pkg.beta", "alpha_pkg.alpha", ("packages/alpha/src/alpha_pkg/beta.py:1",)),
        ("beta_pkg.alpha", "beta_pkg.beta", ("packages/beta/beta_pkg/alpha.py:1",)),
        ("beta_pkg.beta", "beta_pkg.alpha", ("packages/beta/beta_pkg/beta.py:1",)),
    }
    # Each member's cycle, from its own settings (the top table ignores IL103 only).
    assert {n["id"] for n in data["nodes"] if n["in_cycle"]} == {
        "alpha_pkg.alpha",
        "alpha_pkg.beta",
        "beta_pkg.alpha",
        "beta_pkg.beta",
    }


def test_imports_text_has_a_table_per_project() -> None:
    text, _ = invoke("imports", str(MONOREPO))
    for title in (
        "File module dependencies (.)",
        "File module dependencies (packages/alpha)",
        "File module dependencies (packages/beta)",
    ):
        assert title in text
    assert "alpha_pkg.alpha -> alpha_pkg.beta -> alpha_pkg.alpha" in text
    assert "beta_pkg.alpha -> beta_pkg.beta -> beta_pkg.alpha" in text


def test_imports_of_paths_in_two_members_narrow_each() -> None:
    # As pre-commit passes them: a file of one member, a folder of the other.
    data = as_json("imports", str(ALPHA / "src" / "alpha_pkg" / "alpha.py"), str(BETA))
    got = {(e["source"], e["target"]) for e in data["edges"]}
    assert got == {
        ("alpha_pkg.alpha", "alpha_pkg.beta"),  # alpha.py's edges, in and out
        ("alpha_pkg.beta", "alpha_pkg.alpha"),
        ("beta_pkg.alpha", "beta_pkg.beta"),  # the whole of beta
        ("beta_pkg.beta", "beta_pkg.alpha"),
    }
    assert "tools.release" not in {n["id"] for n in data["nodes"]}
    assert "alpha_pkg" not in {n["id"] for n in data["nodes"]}  # not alpha.py's neighbour


MANAGERS = """\
class DataManager:
    def load(self):
        return {value}


class {train}:
    def __init__(self):
        self.data = DataManager()
"""
RUNNER = """\
from core.managers import TrainManager


class RunManager:
    def __init__(self):
        self.train = TrainManager()
"""


@pytest.fixture
def managers_monorepo(tmp_path: Path) -> Path:
    """Two members with a module of the same name (``core.managers``) and a class of
    the same name in it; beta has a src layout and its own manager patterns, the top
    table names no manager at all."""
    files = {
        "pyproject.toml": '[tool.integ-lint.coupling]\nmanager-patterns = ["Nothing"]\n',
        "tools/release.py": "import json\n",
        "packages/alpha/pyproject.toml": '[project]\nname = "alpha"\nversion = "0"\n',
        "packages/alpha/core/__init__.py": "",
        "packages/alpha/core/managers.py": MANAGERS.format(value=1, train="TrainManager"),
        "packages/alpha/core/runner.py": RUNNER,
        "packages/beta/pyproject.toml": """\
            [project]
            name = "beta"
            version = "0"

            [tool.setuptools.package-dir]
            "" = "src"

            [tool.integ-lint.coupling]
            manager-patterns = ["*Keeper", "DataManager"]
            """,
        "packages/beta/src/core/__init__.py": "",
        "packages/beta/src/core/managers.py": MANAGERS.format(value=2, train="TrainKeeper"),
    }
    for relpath, text in files.items():
        (tmp_path / relpath).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relpath).write_text(textwrap.dedent(text))
    return tmp_path


def test_graph_covers_every_member_with_its_own_config(managers_monorepo: Path) -> None:
    data = as_json("graph", str(managers_monorepo))
    nodes = {n["id"]: n["file"] for n in data["nodes"]}
    assert nodes == {
        "RunManager": "packages/alpha/core/runner.py",
        "TrainManager": "packages/alpha/core/managers.py",
        # A class key both members use: the second is qualified with its folder.
        "core.managers.DataManager": "packages/alpha/core/managers.py",
        "packages/beta:core.managers.DataManager": "packages/beta/src/core/managers.py",
        # beta's own manager-patterns make it a manager (no default pattern matches).
        "TrainKeeper": "packages/beta/src/core/managers.py",
    }
    got = {(e["source"], e["target"], e["kind"], e["sites"]) for e in data["edges"]}
    assert got == {
        ("RunManager", "TrainManager", "imports", "packages/alpha/core/runner.py:1"),
        ("RunManager", "TrainManager", "owns", "packages/alpha/core/runner.py:6"),
        ("TrainManager", "core.managers.DataManager", "owns", "packages/alpha/core/managers.py:8"),
        (
            "TrainKeeper",
            "packages/beta:core.managers.DataManager",
            "owns",
            "packages/beta/src/core/managers.py:8",
        ),
    }
    table, _ = invoke("graph", str(managers_monorepo))
    assert "5 managers, 3 dependencies" in table
    mermaid, _ = invoke("graph", str(managers_monorepo), "--format", "mermaid")
    assert "TrainKeeper" in mermaid and "RunManager" in mermaid


def test_graph_of_paths_in_two_members_narrows_each(managers_monorepo: Path) -> None:
    alpha_runner = managers_monorepo / "packages" / "alpha" / "core" / "runner.py"
    beta_managers = managers_monorepo / "packages" / "beta" / "src" / "core" / "managers.py"
    data = as_json("graph", str(beta_managers), str(alpha_runner))
    # alpha: RunManager and the TrainManager it owns (read from the whole member);
    # beta: its file's managers. No key collides any more: short names come back.
    assert {n["id"]: n["file"] for n in data["nodes"]} == {
        "RunManager": "packages/alpha/core/runner.py",
        "TrainManager": "packages/alpha/core/managers.py",
        "DataManager": "packages/beta/src/core/managers.py",
        "TrainKeeper": "packages/beta/src/core/managers.py",
    }
    assert {(e["source"], e["target"], e["kind"]) for e in data["edges"]} == {
        ("RunManager", "TrainManager", "imports"),
        ("RunManager", "TrainManager", "owns"),
        ("TrainKeeper", "DataManager", "owns"),
    }


def test_a_member_with_a_broken_config_is_left_out_with_a_warning(
    managers_monorepo: Path,
) -> None:
    (managers_monorepo / "packages" / "beta" / "pyproject.toml").write_text(
        "[tool.integ-lint]\nselect = [\n"
    )
    data, warnings = invoke("graph", str(managers_monorepo), "--format", "json")
    assert {n["file"] for n in json.loads(data)["nodes"]} == {
        "packages/alpha/core/managers.py",
        "packages/alpha/core/runner.py",
    }
    assert "the project packages/beta was left out" in warnings
    assert warnings.count("\n") == 1


@pytest.mark.parametrize("command", ["graph", "imports"])
def test_a_member_with_a_bad_table_value_is_left_out_with_a_warning(
    managers_monorepo: Path, command: str
) -> None:
    # Values their types allow but their table's own checks refuse: a member's config
    # gets those checks too (each_project selects its rules), not only the top one's.
    (managers_monorepo / "packages" / "beta" / "pyproject.toml").write_text(
        "[tool.integ-lint.coupling]\nhub-threshold = 0\n"
        "[[tool.integ-lint.boundaries.contracts]]\n"
        'name = "x"\ntype = "layers"\nlayers = ["core", "nope.*.["]\n'
    )
    _, warnings = invoke(command, str(managers_monorepo), "--format", "json")
    assert "packages/beta/pyproject.toml: tool.integ-lint." in warnings
    assert "the project packages/beta was left out" in warnings
    assert warnings.count("\n") == 1


def test_files_inside_members_are_named_by_their_member() -> None:
    # Named directly (as pre-commit passes them), not only found below a folder.
    text, _ = invoke_files(str(ALPHA / "src" / "alpha_pkg" / "alpha.py"), str(BETA))
    assert text.splitlines() == [
        "packages/alpha/src/alpha_pkg/alpha.py  alpha_pkg.alpha  packages/alpha/src  library",
        "packages/beta/beta_pkg/__init__.py  beta_pkg  packages/beta  library",
        "packages/beta/beta_pkg/alpha.py  beta_pkg.alpha  packages/beta  library",
        "packages/beta/beta_pkg/beta.py  beta_pkg.beta  packages/beta  library",
    ]


def invoke_files(*args: str) -> tuple[str, str]:
    result = CliRunner().invoke(main, ["files", *args])
    assert result.exit_code == 0, result.output
    return result.stdout, result.stderr


def test_a_narrowed_member_keeps_its_whole_cycle(tmp_path: Path) -> None:
    # AManager -> BManager -> CManager -> DManager -> AManager, one per file in alpha:
    # narrowed to a.py, the view holds A and its neighbours B and D, and the cycle
    # still names C (beyond the view) by its label.
    files = {
        "pyproject.toml": "",
        "packages/beta/pyproject.toml": "",
        "packages/beta/solo.py": "class SoloManager:\n    pass\n",
        "packages/alpha/pyproject.toml": "",
        "packages/alpha/core/__init__.py": "",
    }
    for name, target in zip("abcd", "bcda"):
        files[f"packages/alpha/core/{name}.py"] = (
            f"from core.{target} import {target.upper()}Manager\n\n\n"
            f"class {name.upper()}Manager:\n"
            f"    def __init__(self):\n"
            f"        self.next = {target.upper()}Manager()\n"
        )
    for relpath, text in files.items():
        (tmp_path / relpath).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relpath).write_text(text)
    whole = as_json("graph", str(tmp_path))
    assert whole["graph"]["cycles"] == [["AManager", "BManager", "CManager", "DManager"]]
    data = as_json(
        "graph", str(tmp_path / "packages/alpha/core/a.py"), str(tmp_path / "packages/beta")
    )
    assert {n["id"] for n in data["nodes"]} == {"AManager", "BManager", "DManager", "SoloManager"}
    assert data["graph"]["cycles"] == whole["graph"]["cycles"]
    table, _ = invoke(
        "graph", str(tmp_path / "packages/alpha/core/a.py"), str(tmp_path / "packages/beta")
    )
    assert "1 manager in the given paths" not in table  # beta is given whole: 2 in focus
    assert "2 managers in the given paths and 2 they meet elsewhere" in table
    assert "AManager <-> BManager <-> CManager <-> DManager" in table
