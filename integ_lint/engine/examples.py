"""Running a rule's ``VALID`` / ``INVALID`` examples (the rule harness).

Each example is written into a temporary project (a ``pyproject.toml`` with the
example's config, the example file, and any extra files) and scanned with only that
rule selected, through the same engine as the CLI. Third-party packs can call
:func:`run_example` from their own tests.
"""

from __future__ import annotations

import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

from integ_lint.config.loader import load_config
from integ_lint.config.roles import LIBRARY
from integ_lint.engine.pipeline import RunOptions, discover_files, run
from integ_lint.engine.registry import load_registry
from integ_lint.findings.fixes import apply_text_fixes
from integ_lint.findings.model import Finding, Report
from integ_lint.rule import AnyRule, Invalid, Valid


def dedent(code: str) -> str:
    """Examples are written indented inside the class; strip that and the first newline."""
    text = textwrap.dedent(code)
    return text[1:] if text.startswith("\n") else text


@dataclass
class ExampleOutcome:
    report: Report
    findings: list[Finding]  # of the rule under test
    fixed_source: str | None  # the example file after applying every fix


def write_example_project(root: Path, rule: AnyRule, example: Valid | Invalid) -> Path:
    select = f'select = ["{rule.code}"]'
    config = dedent(example.config) if example.config else ""
    if "select" not in config.split("=")[0] and not any(
        line.strip().startswith("select") for line in config.splitlines()
    ):
        config = select + "\n" + config
    project = dedent(example.project) if example.project else 'name = "example"\nversion = "0"'
    # Top-level keys must come before sub-tables in TOML.
    (root / "pyproject.toml").write_text(f"[project]\n{project}\n\n[tool.integ-lint]\n{config}\n")
    files = {example.path: example.code, **example.files}
    for relpath, code in files.items():
        target = root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(dedent(code))
    return root / example.path


def run_example(rule: AnyRule, example: Valid | Invalid) -> ExampleOutcome:
    """Run ``example`` through the engine with only ``rule`` selected. Roles apply as in
    a real run: an ``Invalid`` example must lie in a file whose role the rule reports on
    (``ValueError`` otherwise, since it could never pass)."""
    with tempfile.TemporaryDirectory(prefix="integ-lint-example-") as directory:
        root = Path(directory).resolve()
        main_file = write_example_project(root, rule, example)
        config = load_config(
            [root], root / "pyproject.toml", extra_sections=load_registry().sections
        )
        if isinstance(example, Invalid):
            target = example.finding_path or example.path
            files = {f.relpath: f for f in discover_files([root], config)}
            role = files[target].role if target in files else LIBRARY
            if role not in rule.roles:
                raise ValueError(
                    f"{rule.code}: INVALID example in {target} (role {role!r}) can never be "
                    f"reported: the rule reports on {sorted(rule.roles)}"
                )
        report = run([root], config, RunOptions(jobs=1))
        findings = [f for f in report.findings if f.code == rule.code]
        fixed_source = None
        relpath = main_file.relative_to(root).as_posix()
        fixes = [f.fix for f in findings if f.fix is not None and f.path == relpath]
        if fixes:
            fixed_source, _ = apply_text_fixes(main_file.read_text(), fixes)
        return ExampleOutcome(report=report, findings=findings, fixed_source=fixed_source)
