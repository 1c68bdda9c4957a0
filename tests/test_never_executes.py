"""Analysed code never runs: a corpus whose every module writes a marker file when it is
imported or executed (module top level, ``__init__``, ``__main__``, ``conftest.py``,
``setup.py``, a would-be rule plugin), scanned by every registered command. No marker
may appear, no corpus module may be imported, and rule plugins named by the scanned
project (its config, its entry points) are never loaded."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from integ_lint.cli import main

CORPUS_MODULES = ("ilmark_pkg", "ilmark_plugin", "conftest", "setup", "sitecustomize")


def marker_code(markers: Path, name: str) -> str:
    """Writes a marker when imported or run; IL201 reports its ``asyncio.run``."""
    return (
        "import pathlib\n"
        f"pathlib.Path({str(markers)!r}, {name!r}).write_text('executed')\n"
        "import asyncio\n"
        "asyncio.run(main())\n"
    )


MAIN_GUARD = "if __name__ == '__main__':\n    pathlib.Path({markers!r}, 'main').write_text('run')\n"


def make_corpus(root: Path, markers: Path) -> Path:
    corpus = root / "corpus"
    files = {
        "ilmark_pkg/__init__.py": "__init__",
        "ilmark_pkg/mod.py": "mod",
        "ilmark_pkg/__main__.py": "__main__",
        "ilmark_pkg/sub/__init__.py": "sub-init",
        "conftest.py": "conftest",
        "setup.py": "setup",
        "tests/conftest.py": "tests-conftest",
        "tests/test_mod.py": "test_mod",
        "ilmark_plugin.py": "plugin",
        "sitecustomize.py": "sitecustomize",
        "scripts/run.py": "script",
    }
    for relpath, name in files.items():
        path = corpus / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(marker_code(markers, name))
    with (corpus / "scripts" / "run.py").open("a") as handle:
        handle.write(MAIN_GUARD.format(markers=str(markers)))
    # A .pth file would run code if this folder were a site directory.
    (corpus / "ilmark.pth").write_text(
        f"import pathlib; pathlib.Path({str(markers)!r}, 'pth').write_text('executed')\n"
    )
    (corpus / "pyproject.toml").write_text(
        "[project]\nname = 'ilmark'\nversion = '0'\n"
        "[project.scripts]\nilmark = 'ilmark_pkg.mod:main'\n"
        '[project.entry-points."integ_lint.rules"]\nevil = "ilmark_plugin"\n'
        "[tool.setuptools]\npackages = ['ilmark_pkg']\n"
        # IL201 (asyncio.run in library code, which every marker module has) is opt-in.
        "[tool.integ-lint]\nextend-select = ['IL201']\n"
        "[tool.integ-lint.audit]\nout-dir = 'certs'\n"
    )
    return corpus


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Path]]:
    markers = tmp_path / "markers"
    markers.mkdir()
    corpus = make_corpus(tmp_path, markers)
    # If anything imported analysed code by name, it would find the corpus first.
    monkeypatch.chdir(corpus)
    monkeypatch.syspath_prepend(str(corpus))
    yield corpus, markers
    for name in list(sys.modules):
        if name.split(".")[0] in CORPUS_MODULES and "integ_lint" not in name:
            module_file = getattr(sys.modules[name], "__file__", "") or ""
            if module_file.startswith(str(corpus)):
                del sys.modules[name]


def leaf_commands(
    group: click.Group = main, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from leaf_commands(command, (*prefix, name))
        else:
            yield (*prefix, name), command


def invocations(corpus: Path) -> list[list[str]]:
    """One or more invocations of every registered command (new commands are covered
    automatically), plus the variants that write: --fix, reports, graphs."""
    runs: list[list[str]] = []
    for names, command in leaf_commands():
        args = list(names)
        for param in command.params:
            if isinstance(param, click.Argument):
                if param.name == "paths":
                    args.append(".")
                elif param.name == "code":
                    args.append("IL201")
                elif param.required:
                    certificates = sorted((corpus / "certs").glob("*.md"))
                    args.append(str(certificates[0]) if certificates else "setup.py")
            elif isinstance(param, click.Option) and param.required:
                args += [param.opts[0], "x"]
        runs.append(args)
        if names == ("check",):
            runs += [
                [*args, "--no-cache"],
                [*args, "--fix"],
                [*args, "--diff"],
                [*args, "--format", "sarif", "--output", "report.sarif"],
                [*args, "--jobs", "2", "--no-cache"],
                ["check", "ilmark_pkg/mod.py", "setup.py"],
            ]
        elif names in (("graph",), ("imports",)):
            runs.append([*args, "--format", "json"])
    return runs


def run_checked(args: list[str]) -> Result:
    result = CliRunner().invoke(main, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        args,
        result.exception,
    )
    return result


def test_no_command_executes_the_analysed_code(corpus: tuple[Path, Path]) -> None:
    root, markers = corpus
    ran: list[str] = []
    for args in invocations(root):
        run_checked(args)
        ran.append(" ".join(args))
        assert sorted(p.name for p in markers.iterdir()) == [], ran[-1]
        imported = [
            name
            for name, module in list(sys.modules.items())
            if (getattr(module, "__file__", "") or "").startswith(str(root))
        ]
        assert imported == [], (ran[-1], imported)
    assert any(r.startswith("audit") for r in ran) and any(r.startswith("check") for r in ran)
    # The commands did their work on the corpus: findings were seen, files written.
    sarif = json.loads((root / "report.sarif").read_text())
    assert len(sarif["runs"][0]["results"]) >= 5
    assert list((root / "certs").glob("*.md"))


def test_a_fresh_process_in_the_corpus_runs_nothing(corpus: tuple[Path, Path]) -> None:
    """``python -m integ_lint`` puts the current folder on sys.path, the registry is
    loaded afresh, and the corpus declares a rule pack entry point: still nothing."""
    root, markers = corpus
    process = subprocess.run(
        [sys.executable, "-m", "integ_lint", "check", ".", "--format", "json", "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert process.returncode == 1, process.stderr
    data = json.loads(process.stdout)
    # (setup.py has the script role since file roles: IL201 does not report there.)
    assert {f["path"] for f in data["findings"] if f["code"] == "IL201"} >= {
        "ilmark_pkg/mod.py",
        "ilmark_plugin.py",
    }
    assert data["notifications"] == []  # in particular, no rule pack failed to load
    assert list(markers.iterdir()) == []


def test_plugins_named_in_the_scanned_config_are_rejected(corpus: tuple[Path, Path]) -> None:
    root, markers = corpus
    config = root / "pyproject.toml"
    for key in ("plugins", "rule-packs", "load"):
        config.write_text(f"[tool.integ-lint]\n{key} = ['ilmark_plugin', './ilmark_plugin.py']\n")
        result = run_checked(["check", "."])
        assert result.exit_code == 2
        assert f"tool.integ-lint.{key}: unknown key" in result.stderr
    assert list(markers.iterdir()) == []
