"""A configured component, public interface or shared module that names nothing is a
one-line usage error (exit 2) with a did-you-mean, as import-linter's contracts are."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from integ_lint.cli import main


def project(tmp_path: Path, boundaries: str) -> Path:
    for package in ("app", "app/core", "app/auth"):
        (tmp_path / package).mkdir(parents=True, exist_ok=True)
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "app" / "auth" / "api.py").write_text("")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[tool.integ-lint]\nextend-select = ["IL101"]\n'
        f"[tool.integ-lint.boundaries]\n{boundaries}"
    )
    return tmp_path


@pytest.mark.parametrize(
    ("boundaries", "message"),
    [
        (
            'modules = ["app.*"]\nshared = ["app.cor"]\n',
            "boundaries.shared: Module 'app.cor' does not exist (did you mean 'app.core'?)",
        ),
        ('modules = ["app.auht"]\n', "boundaries.modules: Module 'app.auht' does not exist"),
        ('modules = ["lib.*"]\n', "boundaries.modules: 'lib.*' matches no module"),
        (
            'modules = ["app.*"]\npublic = { "app.auth" = ["apii"] }\n',
            "boundaries.public.app.auth: Module 'app.auth.apii' does not exist",
        ),
    ],
)
def test_a_configured_module_that_names_nothing_is_an_error(
    tmp_path: Path, boundaries: str, message: str
) -> None:
    root = project(tmp_path, boundaries)
    for command in (["check", str(root), "--no-cache"], ["imports", str(root)]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 2, result.output
        assert message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_existing_modules_are_accepted(tmp_path: Path) -> None:
    root = project(
        tmp_path,
        'modules = ["app.*"]\nshared = ["app.core"]\npublic = { "app.auth" = ["api"] }\n',
    )
    result = CliRunner().invoke(main, ["check", str(root), "--no-cache"])
    assert result.exit_code == 0, result.output
