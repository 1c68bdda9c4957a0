"""A warm ``check`` with nothing changed (every file cached, the project phase memoised)
must not pay for importing the libraries only a phase that runs needs.

Behaviour, not wall time: each run is a fresh interpreter (as on the command line), and
the second run reports which of the heavy libraries ended up in ``sys.modules``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

# Run the command line in-process of a fresh interpreter, then report what it imported.
RUN_CHECK = """
import json, sys
from integ_lint.cli import main
try:
    main(sys.argv[1:], prog_name="integ-lint")
except SystemExit as exit_:
    code = exit_.code
heavy = sorted(
    {name.split(".")[0] for name in sys.modules} & {"libcst", "networkx"}
    | {name for name in sys.modules}
    & {"integ_lint.audit", "integ_lint.views", "integ_lint.model.import_graph"}
)
print("\\nIMPORTED=" + json.dumps(heavy))
"""


def _run(project: Path, *arguments: str) -> list[str]:
    """The heavy libraries a fresh interpreter imported running ``integ-lint ARGUMENTS``."""
    completed = subprocess.run(
        [sys.executable, "-c", RUN_CHECK, *arguments],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    marker = [line for line in completed.stdout.splitlines() if line.startswith("IMPORTED=")]
    assert marker, completed.stdout + completed.stderr
    imported: list[str] = json.loads(marker[-1].removeprefix("IMPORTED="))
    return imported


def _check(project: Path, *arguments: str) -> list[str]:
    return _run(project, "check", *arguments, ".")


@pytest.mark.parametrize("selection", [(), ("--select", "IL1")])
def test_warm_check_with_nothing_changed_does_not_import_networkx(
    tmp_path: Path, selection: tuple[str, ...]
) -> None:
    project = tmp_path / "project"
    shutil.copytree(FIXTURES / "boundaries_contracts", project)
    cold = _check(project, *selection)
    assert "libcst" in cold  # the cold run parses: the probe sees real imports
    warm = _check(project, *selection)
    assert "networkx" not in warm
    assert "integ_lint.model.import_graph" not in warm  # the project phase was skipped
    # the other commands' packages (audit, views) load only when their command runs
    assert "integ_lint.audit" not in warm and "integ_lint.views" not in warm


def test_warm_check_builds_the_import_graph_again_when_the_project_phase_must_run(
    tmp_path: Path,
) -> None:
    """The memo is what lets the warm run skip the import graph: a changed file makes
    the project phase come back, and it needs no networkx either (the contracts and
    the manager graph run on integ_lint.model.digraph)."""
    project = tmp_path / "project"
    shutil.copytree(FIXTURES / "boundaries_contracts", project)
    _check(project, "--select", "IL1")
    changed = next(p for p in sorted(project.rglob("*.py")) if p.stat().st_size > 0)
    changed.write_text(changed.read_text() + "\nimport os\n")
    imported = _check(project, "--select", "IL1")
    assert "integ_lint.model.import_graph" in imported
    assert "networkx" not in imported


def test_project_phase_with_manager_cycles_imports_no_networkx(tmp_path: Path) -> None:
    """The coupling rules (metrics, cycles, IL501's shortest cycle) run without networkx."""
    project = tmp_path / "project"
    shutil.copytree(
        FIXTURES / "training_app", project, ignore=shutil.ignore_patterns(".integ-lint-cache")
    )
    # training_app has a manager cycle (IL501), a reach-through and a hub
    assert "networkx" not in _check(project, "--no-cache", "--select", "IL5")


@pytest.mark.parametrize("output_format", ["text", "json"])
def test_warm_imports_view_does_not_import_libcst(tmp_path: Path, output_format: str) -> None:
    """``imports`` reads the import records from the cache: with every file cached, the
    collector (and LibCST behind it) stays unimported; the records live apart from it
    (integ_lint.facts.import_records). The table is drawn without networkx."""
    project = tmp_path / "project"
    shutil.copytree(FIXTURES / "boundaries_contracts", project)
    arguments = ("imports", "--format", output_format, ".")
    assert "libcst" in _run(project, *arguments)  # cold: parsed
    warm = _run(project, *arguments)
    assert "libcst" not in warm
    if output_format == "text":
        # the import graph, its components and cycles need no networkx (model.digraph);
        # only the graph exports do
        assert "networkx" not in warm


@pytest.mark.parametrize("output_format", ["table", "json"])
def test_warm_graph_view_does_not_import_libcst(tmp_path: Path, output_format: str) -> None:
    """``graph`` reads the manager and GPU records from the cache: their collectors
    (and LibCST) stay unimported (integ_lint.facts.manager_records, .gpu_records)."""
    project = tmp_path / "project"
    # without the cache other runs over the fixture in place may have left
    shutil.copytree(
        FIXTURES / "training_app", project, ignore=shutil.ignore_patterns(".integ-lint-cache")
    )
    arguments = ("graph", "--format", output_format, ".")
    assert "libcst" in _run(project, *arguments)  # cold: parsed
    assert "libcst" not in _run(project, *arguments)
