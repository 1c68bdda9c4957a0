"""The project model on real layouts: module names and roles (``integ-lint files``),
IL1 findings, the whole project behind narrower runs, monorepos, source roots.

Expected outputs live in ``fixtures/layouts/<name>/expected/`` (``files.txt``: one
``path  module  source-root  role`` line per file; ``IL1.txt``: the concise IL1
findings). Regenerate with ``INTEG_LINT_UPDATE_SNAPSHOTS=1`` and review the diff.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from layout_fixtures import scanned

from integ_lint import api
from integ_lint.cli import main
from integ_lint.cli.files import format_row, list_files
from integ_lint.config import ConfigError
from integ_lint.engine import RunOptions
from integ_lint.engine.registry import load_registry
from integ_lint.model.layout import declared_roots, infer_layout, missing_module_message

LAYOUTS = Path(__file__).resolve().parent.parent / "fixtures" / "layouts"
# A layout's project is its folder, or its project/ subfolder when the layout is about
# what lies above the project (a stray __init__.py in the folder holding it).
ROOTS = {
    p.name: p if (p / "pyproject.toml").is_file() else p / "project"
    for p in LAYOUTS.iterdir()
    if (p / "pyproject.toml").is_file() or (p / "project" / "pyproject.toml").is_file()
}
NAMES = sorted(ROOTS)
# Every rule by its exact code, so that opt-in rules (IL101, IL103) run too.
CODES = load_registry().codes
IL1_CODES = [code for code in CODES if code.startswith("IL1")]


def _compare(snapshot: Path, got: list[str]) -> None:
    if os.environ.get("INTEG_LINT_UPDATE_SNAPSHOTS"):
        snapshot.parent.mkdir(exist_ok=True)
        snapshot.write_text("".join(line + "\n" for line in got))
    assert got == snapshot.read_text().splitlines()


@pytest.mark.parametrize("name", NAMES)
def test_module_names_and_roles(name: str, tmp_path: Path) -> None:
    root = scanned(ROOTS[name], tmp_path)
    rows, _ = list_files([root], api.load([root]))
    _compare(LAYOUTS / name / "expected" / "files.txt", [format_row(row) for row in rows])


@pytest.mark.parametrize("name", NAMES)
def test_il1_findings(name: str, tmp_path: Path) -> None:
    root = scanned(ROOTS[name], tmp_path)
    report = api.check([root], select=IL1_CODES, jobs=1)
    assert not report.incomplete, [n.message for n in report.notifications]
    _compare(LAYOUTS / name / "expected" / "IL1.txt", api.render(report, "concise").splitlines())


def test_every_layout_finds_its_cycle_without_configuration() -> None:
    """Each layout hides one import cycle among the project's own modules: a wrong
    module name makes the imports look external and the cycle disappears."""
    for name in NAMES:
        if name == "tests_packages":
            continue
        text = (LAYOUTS / name / "expected" / "IL1.txt").read_text()
        assert "IL103" in text, name


def test_no_family_reports_in_test_files_by_default() -> None:
    root = LAYOUTS / "tests_packages"
    report = api.check([root], jobs=1, select=CODES)
    paths = {f.path for f in report.findings}
    assert paths == {"app/orders/manager.py"}
    assert {f.code[:3] for f in report.findings} >= {"IL1", "IL2", "IL4"}
    # The fixture can fail: the same test files hold a defect of every family.
    everything = api.check([root], jobs=1, test_paths=[], select=CODES)
    in_tests = {f.code[:3] for f in everything.findings if f.path.startswith("tests/")}
    assert in_tests >= {"IL1", "IL2", "IL4", "IL5"}


FIXTURES = LAYOUTS.parent


@pytest.mark.parametrize(
    ("fixture", "subfolder"),
    [
        ("training_app", "trainer_app/training"),
        ("training_app", "trainer_app/evaluation"),
        ("eval_service", "evalsvc"),
        ("web_backend", "src/app/sync"),
    ],
)
def test_check_subfolder_reports_exactly_the_full_runs_findings_under_it(
    fixture: str, subfolder: str
) -> None:
    root = FIXTURES / fixture
    if not (root / subfolder).is_dir():
        pytest.skip(f"{fixture} has no {subfolder}")

    def key(report: api.Report) -> list[tuple[str, int, int, str, str]]:
        return [(f.path, f.line, f.col, f.code, f.message) for f in report.findings]

    full = api.check([root], jobs=1, select=CODES)
    narrow = api.check([root / subfolder], jobs=1, select=CODES)
    expected = [k for k in key(full) if k[0].startswith(subfolder + "/")]
    assert expected, "the subfolder should hold findings for the comparison to mean much"
    assert key(narrow) == expected
    assert narrow.stats.files_context > 0
    assert narrow.stats.files_scanned < full.stats.files_scanned


def test_summary_line_counts_context_files(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.integ-lint]\n")
    (tmp_path / "pkg" / "sub").mkdir(parents=True)
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "other.py").write_text("x = 1\n")
    (tmp_path / "pkg" / "sub" / "__init__.py").write_text("")
    result = CliRunner().invoke(main, ["check", str(tmp_path / "pkg" / "sub"), "--no-cache"])
    assert "in 1 file (0 lines; 2 more read for context)" in result.output


def test_a_monorepo_member_with_a_broken_config_makes_the_run_incomplete(
    tmp_path: Path,
) -> None:
    """Its files are not scanned: one line naming its pyproject.toml, and exit 3
    (never a silent pass); the other members are still scanned."""
    (tmp_path / "pyproject.toml").write_text("[tool.integ-lint]\n")
    for member, config in (("good", "[tool.integ-lint]\n"), ("broken", "[tool.integ-lint\n")):
        (tmp_path / member / "pkg").mkdir(parents=True)
        (tmp_path / member / "pyproject.toml").write_text(config)
        (tmp_path / member / "pkg" / "m.py").write_text("x = 1\n")
    result = CliRunner().invoke(
        main, ["check", str(tmp_path), "--no-cache", "--format", "concise", "--fail-on-incomplete"]
    )
    assert result.exit_code == 3, result.output
    [line] = [line for line in result.output.splitlines() if "broken" in line]
    assert "broken/pyproject.toml:0:0: read-error " in line
    assert "invalid TOML" in line and "not scanned" in line
    assert line.count("pyproject.toml") == 1, line  # the member's file is named once
    report = api.check([tmp_path], options=RunOptions(use_cache=False))
    assert report.incomplete and report.stats.files_scanned == 1  # good/pkg/m.py
    # Without --fail-on-incomplete the line is still printed; the findings decide the exit.
    default = CliRunner().invoke(main, ["check", str(tmp_path), "--no-cache"])
    assert default.exit_code == 0 and "invalid TOML" in default.output, default.output


def test_source_roots_errors_are_one_line_exit_2(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    for roots, problem in (('["lib"]', "'lib' is not a folder"), ('["../.."]', "outside")):
        (tmp_path / "pyproject.toml").write_text(f"[tool.integ-lint]\nsource-roots = {roots}\n")
        with pytest.raises(ConfigError, match="source-roots"):
            api.load([tmp_path])
        result = CliRunner().invoke(main, ["files", str(tmp_path)])
        assert result.exit_code == 2
        assert problem in result.output and len(result.output.strip().splitlines()) == 1


def test_configured_source_roots_win_and_the_layout_check_speaks_up(tmp_path: Path) -> None:
    shutil.copytree(LAYOUTS / "stray_init_src", tmp_path / "proj")
    root = tmp_path / "proj"
    (root / "src" / "connectors" / "gamma.py").write_text(
        "".join(f"from connectors.alpha import alpha as a{i}\n" for i in range(3))
    )
    (root / "src" / "connectors" / "delta.py").write_text(
        "import connectors.beta\nimport connectors.gamma\n"
    )
    (root / "pyproject.toml").write_text('[tool.integ-lint]\nsource-roots = ["."]\n')
    rows, notes = list_files([root], api.load([root]))
    modules = {row.path: row.module for row in rows}
    assert modules["src/connectors/alpha.py"] == "src.connectors.alpha"
    warnings = [n for n in notes if n.startswith("warning:")]
    assert len(warnings) == 1 and 'source-roots = ["src"]' in warnings[0]
    report = api.check([root], jobs=1, select=IL1_CODES)
    assert any("source-roots" in n.message for n in report.notifications)


@pytest.mark.parametrize(
    ("pyproject", "expected"),
    [
        ('[tool.setuptools.package-dir]\n"" = "lib"\n', "lib"),
        ('[tool.setuptools.packages.find]\nwhere = ["lib"]\n', "lib"),
        ('[tool.hatch.build.targets.wheel]\npackages = ["lib/pkg"]\n', "lib"),
        ('[tool.poetry]\npackages = [{ include = "pkg", from = "lib" }]\n', "lib"),
        ('[tool.pdm.build]\npackage-dir = "lib"\n', "lib"),
        ('[tool.maturin]\npython-source = "lib"\n', "lib"),
        ('[tool.pytest.ini_options]\npythonpath = ["lib"]\n', "lib"),
        ('[tool.mypy]\nmypy_path = "$MYPY_CONFIG_FILE_DIR/lib"\n', "lib"),
        ('[tool.ruff]\nsrc = ["lib"]\n', "lib"),
        ('[tool.importlinter]\nroot_packages = ["pkg"]\n', "lib"),
    ],
)
def test_source_roots_from_what_the_project_tells_its_tools(
    tmp_path: Path, pyproject: str, expected: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(pyproject)
    (tmp_path / "lib" / "pkg").mkdir(parents=True)
    init = tmp_path / "lib" / "pkg" / "__init__.py"
    init.write_text("")
    assert expected in [folder for folder, _ in declared_roots(tmp_path, [init])]
    layout = infer_layout(tmp_path, [init])
    assert layout.relative_roots() == [expected, "."]


def test_missing_module_message_suggests_the_close_one() -> None:
    assert (
        missing_module_message("pkg.cor", ["pkg", "pkg.core", "pkg.api"])
        == "Module 'pkg.cor' does not exist (did you mean 'pkg.core'?)"
    )
