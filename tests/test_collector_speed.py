"""The collectors place (ask the positions of) only the records a project rule can
read: the GPU collector keeps a call by a plain name of its module, or a method call
through ``self``, only when the file defines that function, and places its calls after
the walk; the config-schema collector places its classes after the walk too (a
position asked during it costs more). What the rules report does not change
(tests/test_gpu_syncs.py, the rule examples, the fixture snapshots); these tests pin
which calls are kept and where classes are placed."""

from __future__ import annotations

from pathlib import Path

from integ_lint import api
from integ_lint.config.loader import load_config
from integ_lint.engine.analysis import analyze_file
from integ_lint.engine.discovery import SourceFile
from integ_lint.facts.gpu import GpuFactCollector, GpuFacts
from integ_lint.facts.schemas import SchemaFactCollector
from integ_lint.findings.model import Span

CALLS = """\
import helpers
from helpers import imported


def local():
    pass


class Trainer:
    def fit(self):
        for _ in range(3):
            self.step()
            self.missing()
            local()
            len([])
            imported()
            helpers.run()

    def step(self):
        pass
"""


def _gpu_facts(tmp_path: Path, text: str, module: str) -> GpuFacts:
    path = tmp_path / "a.py"
    path.write_text(text, encoding="utf-8")
    source = SourceFile(path=path, relpath="a.py", module=module, is_package_init=False)
    result = analyze_file(source, load_config([tmp_path]), [], [GpuFactCollector])
    facts = result.facts[GpuFactCollector.KEY]
    assert isinstance(facts, GpuFacts)
    return facts


def test_gpu_calls_keep_defined_local_callees_and_every_imported_one(tmp_path: Path) -> None:
    facts = _gpu_facts(tmp_path, CALLS, "pkg.a")
    assert [call.callee for call in facts.calls] == [
        "pkg.a.Trainer.step",
        "pkg.a.local",
        "helpers.imported",
        "helpers.run",
    ]
    # Placed after the walk, as they were during it: the callee expression's span.
    assert facts.calls[0].span == Span(12, 13, 12, 22)
    assert facts.calls[1].span == Span(14, 13, 14, 18)


def test_gpu_calls_without_a_module_name_keep_every_local_callee(tmp_path: Path) -> None:
    """Files without a module name share the empty one, so a plain name may be another
    such file's function: nothing is dropped."""
    facts = _gpu_facts(tmp_path, CALLS, "")
    assert [call.callee for call in facts.calls] == [
        "range",
        "Trainer.step",
        "Trainer.missing",
        "local",
        "len",
        "helpers.imported",
        "helpers.run",
    ]


def test_a_sync_reached_through_a_defined_local_call_is_still_reported(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0"\n\n[tool.integ-lint]\nselect = ["IL403"]\n'
    )
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "train.py").write_text(
        "import torch\n\n\n"
        "def report(loss):\n"
        "    print(loss.item())\n\n\n"
        "def fit(model, batches):\n"
        "    for batch in batches:\n"
        "        loss = model(batch)\n"
        "        report(loss)\n"
        "        len(batch)\n"
    )
    report = api.check([tmp_path], select=["IL403"], jobs=1)
    messages = [f.message for f in report.findings if f.code == "IL403"]
    assert len(messages) == 1
    assert "which `fit` calls inside a loop (pkg/train.py:11)" in messages[0]


def test_gpu_calls_under_a_periodic_branch_in_a_file_without_torch(tmp_path: Path) -> None:
    """The ``%`` test is looked for only in a file holding a ``%``; an error path
    only in a file that mentions torch (the calls' regions do not depend on it)."""
    facts = _gpu_facts(
        tmp_path,
        "def report(x):\n"
        "    pass\n\n\n"
        "def fit(model, batches):\n"
        "    for step, batch in enumerate(batches):\n"
        "        model(batch)\n"
        "        report(step)\n"
        "        if step % 10 == 0:\n"
        "            report(step)\n"
        "        if not batch:\n"
        "            report(step)\n"
        "            raise ValueError\n",
        "pkg.a",
    )
    assert [(call.callee, call.span.start_line, call.per_iteration) for call in facts.calls] == [
        ("pkg.a.report", 8, "loop"),
        ("pkg.a.report", 10, ""),
        ("pkg.a.report", 12, "loop"),
    ]


def test_schema_classes_are_placed_by_their_name_after_the_walk(tmp_path: Path) -> None:
    path = tmp_path / "a.py"
    path.write_text(
        "from dataclasses import dataclass\n\n\n"
        "@dataclass\n"
        "class Settings:\n"
        "    class Inner:\n"
        "        pass\n\n"
        "    port: int = 8080\n",
        encoding="utf-8",
    )
    source = SourceFile(path=path, relpath="a.py", module="pkg.a", is_package_init=False)
    result = analyze_file(source, load_config([tmp_path]), [], [SchemaFactCollector])
    facts = result.facts[SchemaFactCollector.KEY]
    assert [(c.qualname, c.span) for c in facts.classes] == [
        ("pkg.a.Settings", Span(5, 7, 5, 15)),
        ("pkg.a.Settings.Inner", Span(6, 11, 6, 16)),
    ]
