"""The rules ship inside the wheel, and third-party packs load from entry points."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

from integ_lint.engine import registry as registry_module
from integ_lint.engine.examples import run_example

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_ships_the_rule_pack(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(dist),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("integ_lint-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        check=True,
    )
    # The fresh environment gets its dependencies from this one, but not this
    # checkout: only the wheel provides integ_lint.
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    (Path(site) / "_host_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    where = subprocess.run(
        [str(python), "-c", "import integ_lint.rules, sys; print(integ_lint.rules.__file__)"],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    ).stdout
    assert where.startswith(site), where
    listing = subprocess.run(
        [str(venv / "bin" / "integ-lint"), "rules", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert listing.returncode == 0, listing.stderr
    assert '"IL001"' in listing.stdout
    assert '"IL201"' in listing.stdout
    # Every rule of this checkout, subpackages of the pack (rules/gpu/) included.
    shipped = {rule["code"] for rule in json.loads(listing.stdout)}
    assert shipped == set(registry_module.load_registry(include_plugins=False).codes)


def test_third_party_pack_loads_from_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "acme_rules"
    package.mkdir()
    (package / "__init__.py").write_text(
        textwrap.dedent(
            '''
            import libcst as cst
            from integ_lint.rule import FileRule, Invalid, Valid

            class NoPrint(FileRule):
                """Reports print() calls."""

                code = "ACM100"
                name = "no-print"
                family = "acme"
                VALID = (Valid("log('x')\\n"),)
                INVALID = (Invalid("print('x')\\n", line=1),)

                def visit_Call(self, node: cst.Call) -> None:
                    if isinstance(node.func, cst.Name) and node.func.value == "print":
                        self.report(node, "print() in library code")
            '''
        )
    )
    dist_info = tmp_path / "acme_rules-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-rules\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text("[integ_lint.rules]\nacme = acme_rules\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry_module.load_registry.cache_clear()
    try:
        registry = registry_module.load_registry()
        assert not registry.load_errors, registry.load_errors
        rule = registry.rules["ACM100"]
        for example in (*rule.VALID, *rule.INVALID):
            outcome = run_example(rule, example)
            assert len(outcome.findings) == (0 if example in rule.VALID else 1)
    finally:
        registry_module.load_registry.cache_clear()


def test_broken_pack_is_reported_not_fatal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dist_info = tmp_path / "broken-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken\nVersion: 1.0\n")
    (dist_info / "entry_points.txt").write_text("[integ_lint.rules]\nbroken = no_such_module_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry_module.load_registry.cache_clear()
    try:
        registry = registry_module.load_registry()
        assert any("no_such_module_xyz" in error for error in registry.load_errors)
        assert "IL001" in registry.rules
    finally:
        registry_module.load_registry.cache_clear()
