"""``integ-lint init``: a starter table from what the project already says, a baseline so
the gate starts green, and writes only when asked (atomically, never over a table
without --force). Run on every fixture and on a real project of the ecosystem set."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from conftest import load_ecosystem

from integ_lint.cli import main
from integ_lint.cli.init import replace_table

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
FIXTURE_NAMES = sorted(
    p.name
    for p in FIXTURES.iterdir()
    if (p / "pyproject.toml").exists() and (p / "expected").is_dir()
)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def seeded(fixture: Path) -> set[str]:
    """Every finding the fixture's snapshots record (its seeded defects)."""
    lines: set[str] = set()
    for snapshot in (fixture / "expected").glob("*.txt"):
        lines.update(without_config_position(line) for line in snapshot.read_text().splitlines())
    return lines - {""}


def without_config_position(line: str) -> str:
    """A finding in pyproject.toml (a stale allowlist entry) moves when init rewrites
    the table: compare those without line and column."""
    if line.startswith("pyproject.toml:"):
        path, _line, _col, rest = line.split(":", 3)
        return f"{path}:{rest}"
    return line


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_init_on_every_fixture_starts_green_with_only_seeded_defects(
    tmp_path: Path, name: str
) -> None:
    project = tmp_path / name
    shutil.copytree(FIXTURES / name, project, ignore=shutil.ignore_patterns(".integ-lint-cache"))
    if "[tool.integ-lint" in (project / "pyproject.toml").read_text():
        refused = invoke("init", str(project), "--write")
        assert refused.exit_code == 2 and "--force" in refused.stderr
    written = invoke("init", str(project), "--write", "--force")
    assert written.exit_code == 0, written.output
    assert "integ-lint init decided:" in written.stderr
    text = (project / "pyproject.toml").read_text()
    assert text.count("[tool.integ-lint]") == 1
    assert "[project]" in text  # the rest of the file is kept
    assert (project / ".integ-lint-baseline.toml").exists()
    green = invoke("check", str(project), "--no-cache")
    assert green.exit_code == 0, green.output
    unbaselined = invoke(
        "check", str(project), "--no-cache", "--no-baseline", "--format", "concise"
    )
    root_relative = [
        line.split(str(project) + "/", 1)[-1] for line in unbaselined.stdout.splitlines() if line
    ]
    extra = [line for line in root_relative if without_config_position(line) not in seeded(project)]
    assert not extra, extra


def test_init_shows_without_writing_and_explains(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (project / "src" / "pkg").mkdir(parents=True)
    (project / "src" / "pkg" / "__init__.py").write_text("")
    (project / "src" / "pkg" / "core.py").write_text(
        "import asyncio\n\ndef run():\n    asyncio.run(main())\n"
    )
    (project / "tests").mkdir()
    (project / "tests" / "test_core.py").write_text("from pkg.core import run\n")
    (project / "pyproject.toml").write_text('[project]\nname = "pkg"\nversion = "1"\n')
    shown = invoke("init", str(project))
    assert shown.exit_code == 0, shown.output
    assert 'source-roots = ["src"]' in shown.stdout
    assert "1 test" in shown.stderr and "nothing written" in shown.stderr
    assert "[tool.integ-lint]" not in (project / "pyproject.toml").read_text()
    assert not (project / ".integ-lint-baseline.toml").exists()


def test_replace_table_keeps_everything_else() -> None:
    text = (
        '[project]\nname = "x"\n\n[tool.integ-lint]\nselect = ["IL2"]\n\n'
        '[tool.integ-lint.gpu]\nmanagers = ["A"]\n\n[tool.ruff]\nline-length = 100\n'
    )
    new = replace_table(text, '[tool.integ-lint]\nbaseline = "b.toml"\n')
    assert new == (
        '[project]\nname = "x"\n\n[tool.ruff]\nline-length = 100\n\n'
        '[tool.integ-lint]\nbaseline = "b.toml"\n'
    )


@pytest.mark.slow
def test_init_on_a_real_project_starts_green(tmp_path: Path) -> None:
    eco = load_ecosystem()
    cache = eco.cache_from(None)
    (project,) = eco.select_projects(eco.load_projects(), ["ipykernel"])
    try:
        tree = eco.fetch(project, cache, log=lambda _: None)
    except eco.EcosystemError as exc:
        pytest.skip(f"cannot download {project.requirement}: {exc}")
    copy = tmp_path / "ipykernel"
    shutil.copytree(tree, copy)
    written = invoke("init", str(copy), "--write", "--force")
    assert written.exit_code == 0, written.output
    assert invoke("check", str(copy), "--no-cache").exit_code == 0


def test_force_keeps_strings_with_newlines_and_quotes_parseable(tmp_path: Path) -> None:
    from integ_lint.config import tomllib

    project = tmp_path / "proj"
    (project / "pkg").mkdir(parents=True)
    (project / "pkg" / "__init__.py").write_text("")
    (project / "pyproject.toml").write_text(
        '[project]\nname = "pkg"\nversion = "1"\n\n[tool.integ-lint]\n'
        "[[tool.integ-lint.gpu.allowlist]]\n"
        'key = "pkg/a.py:f:item:1"\nowner = "ml"\nreason = """two\nlines with a \\"quote\\" and a\ttab"""\n'
    )
    written = invoke("init", str(project), "--write", "--force", "--no-baseline")
    assert written.exit_code == 0, written.output
    document = tomllib.loads((project / "pyproject.toml").read_text())
    (entry,) = document["tool"]["integ-lint"]["gpu"]["allowlist"]
    assert entry["reason"] == 'two\nlines with a "quote" and a\ttab'
