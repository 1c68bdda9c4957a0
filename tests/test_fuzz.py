"""Fuzzing: hypothesmith generates valid Python programs; every registered rule (all
families, file and project rules) runs on each without an internal error, and where
``--fix`` changes something, the result still parses and a second fix changes nothing.

Bounded by the ``ci`` hypothesis profile (tests/conftest.py); explore more with
``--hypothesis-profile deep``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import hypothesmith
import libcst as cst
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from integ_lint.config import load_config
from integ_lint.engine import RunOptions, run
from integ_lint.engine.registry import load_registry
from integ_lint.findings import NotificationKind, Report
from integ_lint.findings.fixes import fix_files

# Prepended to some programs so that alias-resolving rules see the names they look for.
HEADERS = (
    "",
    "import asyncio\nimport torch\nimport multiprocessing as mp\nfrom app import config\n",
    "from __future__ import annotations\nimport asyncio as aio\nfrom torch import nn\n",
)

programs = st.one_of(hypothesmith.from_grammar(), hypothesmith.from_node())


def scan(root: Path) -> Report:
    registry = load_registry()
    config = load_config([root], overrides={"select": list(registry.codes)})
    return run([root], config, RunOptions(jobs=1, use_cache=False))


def internal_errors(report: Report) -> list[str]:
    return [n.message for n in report.notifications if n.kind == NotificationKind.INTERNAL_ERROR]


def check_program(source: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        (root / "pyproject.toml").write_text('[tool.integ-lint]\nextend-select = ["IL302"]\n')
        (root / "pkg").mkdir()
        (root / "pkg" / "__init__.py").write_text("")
        target = root / "pkg" / "mod.py"
        target.write_text(source, encoding="utf-8")
        report = scan(root)
        assert internal_errors(report) == []
        if not any(f.fix is not None for f in report.findings):
            return
        fix_files(Path(report.root), report.findings, report.file_hashes, write=True)
        fixed = target.read_text(encoding="utf-8")
        cst.parse_module(fixed)  # the fixed file still parses
        again = scan(root)
        assert internal_errors(again) == []
        second = fix_files(Path(again.root), again.findings, again.file_hashes, write=False)
        assert second.diffs == [], "a second --fix would change the file again"


@pytest.mark.filterwarnings("ignore::SyntaxWarning")  # hypothesmith compiles odd programs
@given(header=st.sampled_from(HEADERS), program=programs)
@example(header="", program="")
@example(
    header=HEADERS[1],
    program="async def f():\n    asyncio.run(g())\n    x.cuda()\n    torch.load('m')\n",
)
def test_every_rule_survives_generated_programs(header: str, program: str) -> None:
    check_program(header + program)


def test_fix_round_trip_is_exercised() -> None:
    """The fix branch above is not vacuous: a fixable finding (IL302, a redundant
    config fallback) is fixed, still parses, and a second pass changes nothing."""
    program = (
        "from dataclasses import dataclass\n\n"
        "@dataclass\nclass Config:\n    lr: float = 0.1\n\n"
        "def f(config: Config) -> float:\n    return getattr(config, 'lr', 0.1)\n"
    )
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        (root / "pyproject.toml").write_text('[tool.integ-lint]\nextend-select = ["IL302"]\n')
        (root / "mod.py").write_text(program)
        report = scan(root)
        assert any(f.fix is not None for f in report.findings), report.findings
    check_program(program)
