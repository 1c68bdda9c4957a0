"""Pre-commit in a monorepo: the files passed together may belong to several members.
Each file is judged with its own member's settings and with its whole member behind it;
the findings are merged in one stable order and the exit code comes from them all."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from gate_rules import registered_gate_rules, write_project

from integ_lint import api
from integ_lint.cli import main

# alpha reports calls of defect() (IL951) only; beta reports undefined helpers (IL953)
# and ignores IL951. Both files call defect() and an undefined helper, and a helper
# defined in another file of their member (found only with the whole member behind).
ALPHA_CONFIG = 'select = ["IL951"]\n'
BETA_CONFIG = 'select = ["IL95"]\nignore = ["IL951"]\n'
CHANGED = "helper_here()\nhelper_missing()\ndefect()\n"
DEFINES = "def helper_here():\n    pass\n"


@pytest.fixture
def monorepo(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    root = tmp_path / "repo"
    with registered_gate_rules():
        for member, config in (("alpha", ALPHA_CONFIG), ("beta", BETA_CONFIG)):
            member_root = write_project(
                root / "packages" / member,
                {f"{member}_pkg/__init__.py": "", f"{member}_pkg/helpers.py": DEFINES},
            )
            # write_project selects the gate rules; each member narrows them its way.
            text = (member_root / "pyproject.toml").read_text()
            text = text.replace('select = ["IL95", "IL001"]\n', config)
            (member_root / "pyproject.toml").write_text(text)
            (member_root / f"{member}_pkg" / "changed.py").write_text(CHANGED)
            (member_root / f"{member}_pkg" / "clean.py").write_text("helper_here()\n")
        if request.param:  # with and without a pyproject.toml at the top
            (root / "pyproject.toml").write_text('[tool.integ-lint]\nselect = ["IL952"]\n')
        yield root


def passed(root: Path, *names: str) -> list[Path]:
    paths = []
    for name in names:
        member = name.split("_")[0]
        paths.append(root / "packages" / member / f"{member}_pkg" / f"{name.split('_', 1)[1]}.py")
    return paths


def check(*paths: Path) -> tuple[int, list[tuple[str, int, str]]]:
    args = ["check", *map(str, paths), "--no-cache", "-j", "1", "--format", "json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code in (0, 1), result.output
    data = json.loads(result.stdout)
    assert data["notifications"] == []
    # project_path: relative to the run's root (path may be shown from the current folder)
    found = [(f.get("project_path", f["path"]), f["line"], f["code"]) for f in data["findings"]]
    return result.exit_code, found


EXPECTED = [
    ("packages/alpha/alpha_pkg/changed.py", 3, "IL951"),
    ("packages/beta/beta_pkg/changed.py", 2, "IL953"),
]


@pytest.mark.parametrize("monorepo", [True, False], indirect=True, ids=["top", "no-top"])
def test_each_file_is_judged_by_its_own_member(monorepo: Path) -> None:
    code, got = check(*passed(monorepo, "alpha_changed", "beta_changed"))
    if (monorepo / "pyproject.toml").is_file():
        assert got == EXPECTED
    else:  # no project above the members: paths start at the folder holding them all
        assert got == [(path.removeprefix("packages/"), line, c) for path, line, c in EXPECTED]
    assert code == 1
    # The order the files are passed in changes nothing.
    assert check(*passed(monorepo, "beta_changed", "alpha_changed")) == (code, got)


@pytest.mark.parametrize("monorepo", [True], indirect=True, ids=["top"])
def test_exit_code_comes_from_every_member(monorepo: Path) -> None:
    assert check(*passed(monorepo, "alpha_clean", "beta_clean")) == (0, [])
    # Only the second member's file has a finding: it still fails the run.
    assert check(*passed(monorepo, "alpha_clean", "beta_changed")) == (
        1,
        [("packages/beta/beta_pkg/changed.py", 2, "IL953")],
    )


@pytest.mark.parametrize("monorepo", [True], indirect=True, ids=["top"])
def test_the_api_splits_the_files_the_same_way(monorepo: Path) -> None:
    with registered_gate_rules():
        report = api.check(passed(monorepo, "beta_changed", "alpha_changed"), jobs=1)
    assert [(f.path, f.line, f.code) for f in report.findings] == EXPECTED
    # beta (a project rule selected) was read whole for it: its three other files are
    # context; alpha runs a file rule only, which needs no context.
    assert report.stats.files_scanned == 2
    assert report.stats.files_context == 3


@pytest.mark.parametrize("monorepo", [True], indirect=True, ids=["top"])
def test_a_member_the_top_excludes_stays_excluded(monorepo: Path) -> None:
    # Pre-commit passes every staged file; the top project's exclude still applies to
    # the members below it, as when the top folder is scanned.
    (monorepo / "pyproject.toml").write_text(
        '[tool.integ-lint]\nselect = ["IL952"]\nexclude = ["packages/beta"]\n'
    )
    assert check(*passed(monorepo, "alpha_changed", "beta_changed")) == (1, EXPECTED[:1])
