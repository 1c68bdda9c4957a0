"""[tool.integ-lint]: discovery of the file, validation with precise messages, provenance."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from integ_lint.cli import main
from integ_lint.config import ConfigError, find_config_file, load_config


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_nearest_pyproject_makes_the_project(tmp_path: Path) -> None:
    """A monorepo member's pyproject.toml makes it a project of its own: the table
    above does not switch its rules off (``extend`` inherits it explicitly)."""
    write(tmp_path / "pyproject.toml", "[tool.integ-lint]\nselect = ['IL2']\n")
    write(tmp_path / "sub" / "pyproject.toml", "[project]\nname = 'x'\n")
    (tmp_path / "sub" / "pkg").mkdir()
    assert find_config_file([tmp_path / "sub" / "pkg"]) == tmp_path / "sub" / "pyproject.toml"
    config = load_config([tmp_path / "sub" / "pkg"])
    assert config.root == (tmp_path / "sub").resolve()
    assert config.general.select == ["IL"]


def test_values_and_provenance(tmp_path: Path) -> None:
    config_file = write(
        tmp_path / "pyproject.toml",
        "[project]\nname='x'\n[project.scripts]\nx = 'pkg.cli:main'\n"
        "[tool.integ-lint]\nselect = ['IL2']\nfail-on = 'error'\n"
        "[tool.integ-lint.gpu]\nmanagers = ['*.ModelManager']\n",
    )
    config = load_config([tmp_path])
    assert config.config_file == config_file
    assert config.root == tmp_path.resolve()
    assert config.general.select == ["IL2"]
    assert config.general.fail_on == "error"
    assert config.sections["gpu"].managers == ["*.ModelManager"]  # type: ignore[attr-defined]
    assert config.project_scripts == ("pkg.cli:main",)
    assert config.provenance["select"] == str(config_file)
    assert config.provenance["ignore"] == "default"
    assert config.provenance["gpu.managers"] == str(config_file)


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("selct = ['IL2']", "tool.integ-lint.selct: unknown key (did you mean 'select'?)"),
        ("select = 'IL2'", "tool.integ-lint.select: expected a list of strings, got str"),
        ("select = [1]", "tool.integ-lint.select: item 0: expected a string"),
        ("fail-on = 'fatal'", "tool.integ-lint.fail-on: expected error, warning or note"),
        ("severity = { IL201 = 'loud' }", "tool.integ-lint.severity.IL201: unknown severity"),
        (
            "[tool.integ-lint.gpu]\nmanager = []",
            "tool.integ-lint.gpu.manager: unknown key (did you mean 'managers'?)",
        ),
        (
            "[tool.integ-lint.coupling]\nhub-threshold = 'seven'",
            "tool.integ-lint.coupling.hub-threshold: expected an integer",
        ),
        (
            "[tool.integ-lint.coupling]\nhub-threshold = true",
            "tool.integ-lint.coupling.hub-threshold: expected an integer",
        ),
        ("jobs = -1", "tool.integ-lint.jobs: must be 0"),
    ],
)
def test_bad_values_name_file_and_key(tmp_path: Path, toml: str, expected: str) -> None:
    write(tmp_path / "pyproject.toml", f"[tool.integ-lint]\n{toml}\n")
    with pytest.raises(ConfigError) as info:
        load_config([tmp_path])
    message = str(info.value)
    assert message.startswith(str(tmp_path / "pyproject.toml") + ": ")
    assert expected in message
    assert "\n" not in message


def test_invalid_toml_is_one_line(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.integ-lint\nselect = 1\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config([tmp_path])


def test_cli_config_errors_exit_2(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.integ-lint]\nselect = ['IL2']\nignroe = []\n")
    write(tmp_path / "a.py", "x = 1\n")
    result = CliRunner().invoke(main, ["check", str(tmp_path)])
    assert result.exit_code == 2
    assert "ignroe: unknown key (did you mean 'ignore'?)" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_unknown_rule_code_exits_2(tmp_path: Path) -> None:
    write(tmp_path / "a.py", "x = 1\n")
    result = CliRunner().invoke(main, ["check", str(tmp_path), "--select", "IL999"])
    assert result.exit_code == 2
    assert "unknown rule code 'IL999'" in result.output


def test_missing_path_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["check", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "no such file or directory" in result.output


def test_invalid_glob_exits_2(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.integ-lint]\nexclude = ['src/[abc']\n")
    write(tmp_path / "a.py", "x = 1\n")
    result = CliRunner().invoke(main, ["check", str(tmp_path)])
    assert result.exit_code == 2
    assert "exclude: invalid glob" in result.output


def test_config_command_shows_sources(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.integ-lint]\nignore = ['IL503']\n")
    result = CliRunner().invoke(main, ["config", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"ignore = ['IL503']  # from {tmp_path / 'pyproject.toml'}" in result.output
    assert "fail-on = 'warning'  # from default" in result.output
    assert "[gpu]" in result.output


def test_type_descriptions_read_as_english() -> None:
    from integ_lint.config.loader import _describe

    assert _describe(list[str]) == "a list of strings"
    assert _describe(dict[str, str]) == "a table of strings"
    assert _describe(dict[str, list[str]]) == "a table of lists of strings"
    assert _describe(dict[str, bool]) == "a table of true or false values"
