"""``audit`` at a monorepo root: the component is resolved in the member that holds it
(a dotted module, a configured component or a path glob) and audited there as its own
project, with the member's configuration and the whole member as context; a component
found nowhere keeps the one-line error with a did-you-mean over every member's names."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from integ_lint.cli import main

MONOREPO = Path(__file__).resolve().parent.parent / "fixtures" / "layouts" / "monorepo"


@pytest.fixture
def monorepo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "monorepo"
    shutil.copytree(MONOREPO, root, ignore=shutil.ignore_patterns("expected"))
    monkeypatch.chdir(root)
    return root


def audit(*args: str) -> Result:
    return CliRunner().invoke(main, ["audit", *args, "-j", "1", "--format", "json"])


def certificate(result: Result) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_a_dotted_module_of_a_member_is_audited_in_that_member(monorepo: Path) -> None:
    result = audit(".", "--component", "alpha_pkg")
    assert result.exit_code == 0, result.output
    data = certificate(result)
    scope = data["certificate"]["scope"]
    # The member's root, its files only (named from its src/), its own config file.
    assert scope["root"] == str(monorepo / "packages" / "alpha")
    assert scope["component"]["files"] == [
        "src/alpha_pkg/__init__.py",
        "src/alpha_pkg/alpha.py",
        "src/alpha_pkg/beta.py",
    ]
    assert scope["project_files"] == 3  # the whole member, not tools/ nor beta
    assert scope["config_file"] == "pyproject.toml"
    assert "is in the project at packages/alpha" in result.stderr
    # Written under the member's audit.out-dir, and the certificate verifies there.
    markdown = Path(data["markdown_path"])
    assert (monorepo / "packages" / "alpha") in markdown.parents
    assert f"under `{monorepo / 'packages' / 'alpha'}`" in markdown.read_text(encoding="utf-8")
    verified = CliRunner().invoke(main, ["certificate", "verify", str(markdown)])
    assert verified.exit_code == 0, verified.output


def test_a_member_module_reached_from_a_folder_above_it(monorepo: Path) -> None:
    result = audit("packages", "--component", "beta_pkg.alpha")
    assert result.exit_code == 0, result.output
    scope = certificate(result)["certificate"]["scope"]
    assert scope["root"] == str(monorepo / "packages" / "beta")
    assert scope["component"]["files"] == ["beta_pkg/alpha.py"]
    assert scope["project_files"] == 3


def test_a_glob_written_from_the_run_root_names_member_files(monorepo: Path) -> None:
    result = audit(".", "--component", "packages/beta/beta_pkg/b*.py")
    assert result.exit_code == 0, result.output
    scope = certificate(result)["certificate"]["scope"]
    assert scope["root"] == str(monorepo / "packages" / "beta")
    assert scope["component"]["files"] == ["beta_pkg/beta.py"]


def test_a_component_configured_at_the_top_with_member_paths(monorepo: Path) -> None:
    top = monorepo / "pyproject.toml"
    top.write_text(
        top.read_text(encoding="utf-8")
        + '\n[tool.integ-lint.audit.components]\nalpha_core = ["packages/alpha/src/alpha_pkg/alpha.py"]\n',
        encoding="utf-8",
    )
    result = audit(".", "--component", "alpha_core")
    assert result.exit_code == 0, result.output
    scope = certificate(result)["certificate"]["scope"]
    assert scope["component"]["kind"] == "configured"
    assert scope["component"]["files"] == ["src/alpha_pkg/alpha.py"]


def test_a_component_configured_in_the_member(monorepo: Path) -> None:
    member = monorepo / "packages" / "beta" / "pyproject.toml"
    member.write_text(
        member.read_text(encoding="utf-8")
        + '\n[tool.integ-lint.audit]\nout-dir = "certs"\n'
        + '[tool.integ-lint.audit.components]\nbeta_core = ["beta_pkg.beta"]\n',
        encoding="utf-8",
    )
    result = audit(".", "--component", "beta_core")
    assert result.exit_code == 0, result.output
    data = certificate(result)
    assert data["certificate"]["scope"]["component"]["files"] == ["beta_pkg/beta.py"]
    # The member's audit settings, from its own folder.
    assert Path(data["markdown_path"]).parent == monorepo / "packages" / "beta" / "certs"


def test_the_top_project_keeps_its_own_components(monorepo: Path) -> None:
    result = audit(".", "--component", "tools")
    assert result.exit_code == 0, result.output
    scope = certificate(result)["certificate"]["scope"]
    assert scope["root"] == str(monorepo)
    assert scope["component"]["files"] == ["tools/release.py"]


def test_a_component_found_nowhere_suggests_member_names(monorepo: Path) -> None:
    result = audit(".", "--component", "alpha_pkgg", "--out-dir", "out")
    assert result.exit_code == 3, result.output
    assert result.stderr.strip().splitlines()[-1] == (
        "Status: NEEDS_FURTHER_REVIEW: --component 'alpha_pkgg' matched no file "
        "(did you mean 'alpha_pkg'?)"
    )
    path_like = audit(".", "--component", "packages/beta/beta_pkg/gamma.py", "--out-dir", "out")
    assert path_like.exit_code == 3, path_like.output
    assert "did you mean 'packages/beta/beta_pkg/" in path_like.stderr


def test_a_component_in_several_members_is_a_usage_error(monorepo: Path) -> None:
    # ``alpha`` is the last part of alpha_pkg.alpha and of beta_pkg.alpha.
    result = audit(".", "--component", "alpha", "--out-dir", "out")
    assert result.exit_code == 2
    assert "several projects (packages/alpha, packages/beta)" in result.stderr
    assert not (monorepo / "out").exists()


def test_paths_in_two_members_audit_the_one_holding_the_component(monorepo: Path) -> None:
    # As pre-commit passes them: the run starts from the folder above both members,
    # and beta's files are named from beta's root, never as packages.beta.beta_pkg.
    alpha_file = "packages/alpha/src/alpha_pkg/alpha.py"
    result = audit(alpha_file, "packages/beta", "--component", "beta_pkg")
    assert result.exit_code == 0, result.output
    scope = certificate(result)["certificate"]["scope"]
    assert scope["root"] == str(monorepo / "packages" / "beta")
    assert scope["component"]["packages"] == ["beta_pkg"]
    assert scope["component"]["files"] == [
        "beta_pkg/__init__.py",
        "beta_pkg/alpha.py",
        "beta_pkg/beta.py",
    ]


def test_since_compares_within_the_member(monorepo: Path) -> None:
    environment = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "init"]):
        subprocess.run(
            ["git", *command], cwd=monorepo, check=True, env={**os.environ, **environment}
        )
    changed = monorepo / "packages" / "alpha" / "src" / "alpha_pkg" / "alpha.py"
    changed.write_text(changed.read_text(encoding="utf-8") + "\nLIMIT = 1\n", encoding="utf-8")
    result = audit(".", "--component", "alpha_pkg", "--since", "HEAD", "--out-dir", "out")
    assert result.exit_code == 0, result.output
    data = certificate(result)["certificate"]
    assert data["scope"]["root"] == str(monorepo / "packages" / "alpha")
    assert data["scope"]["since"] == "HEAD"
    assert data["delta"]["changed_files"] == ["src/alpha_pkg/alpha.py"]  # from the member
