"""A folder found twice (issue 14, "two classes for one"): ``evaluation/`` copied to the
project root beside ``pkg/evaluation/``. Two files are two modules and their classes
two managers, each under its own name; when both files would get one module name (the
layout makes ``pkg`` a source root too), the copy the earlier root shadows is named
apart and a warning says so: never one node for two files, nor the same class twice
under one identity."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from layout_fixtures import LAYOUTS, scanned

from integ_lint import api
from integ_lint.cli import main
from integ_lint.engine.discovery import SourceFile, separate_shadowed
from integ_lint.model.layout import Layout


def graph(name: str, scratch: Path) -> tuple[dict[str, Any], str]:
    root = scanned(LAYOUTS / name, scratch)
    result = CliRunner().invoke(main, ["graph", str(root), "--format", "json", "-j", "1"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data, result.stderr


def nodes_and_edges(data: dict[str, Any]) -> tuple[dict[str, str], set[tuple[str, str, str]]]:
    nodes = {n["id"]: n["file"] for n in data["nodes"]}
    edges = {(e["source"], e["target"], e["kind"]) for e in data.get("links", data.get("edges"))}
    return nodes, edges


def test_a_copy_importable_from_the_root_is_a_module_of_its_own(tmp_path: Path) -> None:
    # Both folders are packages under the one source root: two real modules.
    data, stderr = graph("stray_copy", tmp_path)
    nodes, edges = nodes_and_edges(data)
    assert nodes == {
        "TrainManager": "pkg/train.py",
        "pkg.evaluation.mgr.DataManager": "pkg/evaluation/mgr.py",
        "pkg.evaluation.mgr.EvalManager": "pkg/evaluation/mgr.py",
        "evaluation.mgr.DataManager": "evaluation/mgr.py",
        "evaluation.mgr.EvalManager": "evaluation/mgr.py",
    }
    owns = {(u, v) for u, v, kind in edges if kind == "owns"}
    assert owns == {
        ("TrainManager", "pkg.evaluation.mgr.EvalManager"),  # what pkg/train.py imports
        ("pkg.evaluation.mgr.EvalManager", "pkg.evaluation.mgr.DataManager"),
        ("evaluation.mgr.EvalManager", "evaluation.mgr.DataManager"),  # each copy its own
    }
    assert "taken by" not in stderr


def test_a_copy_shadowed_by_an_earlier_source_root_is_named_apart(tmp_path: Path) -> None:
    # pkg/ is run as scripts (``import train``): pkg is a source root, and both
    # evaluation/ folders would be the module ``evaluation``.
    data, stderr = graph("stray_copy_scripts", tmp_path)
    nodes, edges = nodes_and_edges(data)
    assert nodes == {
        "TrainManager": "pkg/train.py",
        "evaluation.mgr.DataManager": "pkg/evaluation/mgr.py",
        "evaluation.mgr.EvalManager": "pkg/evaluation/mgr.py",
        ".:evaluation.mgr.DataManager": "evaluation/mgr.py",
        ".:evaluation.mgr.EvalManager": "evaluation/mgr.py",
    }
    owns = {(u, v) for u, v, kind in edges if kind == "owns"}
    assert owns == {
        ("TrainManager", "evaluation.mgr.EvalManager"),  # pkg/ first on sys.path
        ("evaluation.mgr.EvalManager", "evaluation.mgr.DataManager"),
        (".:evaluation.mgr.EvalManager", ".:evaluation.mgr.DataManager"),
    }
    assert (
        "evaluation/__init__.py and 2 more: module name 'evaluation' is taken by "
        "pkg/evaluation/__init__.py (source root 'pkg' comes first); named '.:evaluation'"
    ) in stderr


def test_every_file_keeps_an_identity_of_its_own(tmp_path: Path) -> None:
    from integ_lint.engine import project_files

    for name in ("stray_copy", "stray_copy_scripts"):
        root = scanned(LAYOUTS / name, tmp_path)
        modules = [f.module for f in project_files(api.load([root]))]
        assert len(modules) == len(set(modules)), name


def test_a_stub_beside_its_module_is_one_module() -> None:
    root = Path("/project")
    layout = Layout(root, (root / "src", root), "source-roots")

    def source(relpath: str, module: str, source_root: str) -> SourceFile:
        return SourceFile(root / relpath, relpath, module, False, source_root=source_root)

    files = [
        source("src/shop/core.py", "shop.core", "src"),
        source("src/shop/core.pyi", "shop.core", "src"),
        source("shop/core.py", "shop.core", "."),
    ]
    kept, warning = separate_shadowed(files, layout)
    assert [f.module for f in kept] == ["shop.core", "shop.core", ".:shop.core"]
    assert warning.startswith("shop/core.py: module name 'shop.core' is taken by src/shop/core.py")


def test_the_library_keeps_its_name_over_an_example() -> None:
    # As in a real project: an example's imports make its folder a source root, and
    # its manage.py must not rename the project's own; nothing to warn about.
    root = Path("/project")
    layout = Layout(root, (root / "examples/site", root), "project root")
    files = [
        SourceFile(
            root / "examples/site/manage.py",
            "examples/site/manage.py",
            "manage",
            False,
            role="example",
            source_root="examples/site",
        ),
        SourceFile(root / "manage.py", "manage.py", "manage", False, source_root="."),
    ]
    kept, warning = separate_shadowed(files, layout)
    assert [f.module for f in kept] == ["examples/site:manage", "manage"]
    assert warning == ""
