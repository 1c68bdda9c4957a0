"""Edits that reach the config-schema index (integ_lint.model.schema_index) through one
file: a schema's key added or removed, a dataclass field changed, a file with a schema
deleted, a file added, a config file edited. After each, a run on the warm cache and
memo gives the report of a run without a cache, findings and notifications alike, in
the same order; and the config-schema findings changed where the edit reaches, so that
an outcome kept across the edit would fail.

A function whose parameters flow into nothing the schema facts record (the benchmark's
edit) leaves those facts as they were, but for the lines below it: the config-schema
rules keep their outcome, moved."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from phase_runs import every_rule_outcome as _outcome
from phase_runs import replace_once

from integ_lint.config import load_config
from integ_lint.engine.analysis import analyze_file
from integ_lint.engine.discovery import SourceFile
from integ_lint.facts.schemas import KEY, SchemaFactCollector, SchemaFacts
from integ_lint.findings import Finding

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SCHEMA = "config_app/config_schema.py"


pytestmark = pytest.mark.usefixtures("private_cache_key")


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "config_app"
    shutil.copytree(
        FIXTURES / "config_app", target, ignore=shutil.ignore_patterns(".integ-lint-cache")
    )
    return target


def _written(text: str) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        assert not path.exists()
        path.write_text(text)

    return edit


def _il3(findings: list[Finding]) -> list[tuple[str, str, int, str]]:
    return [
        (f.code, f.path, f.span.start_line, f.message) for f in findings if f.code.startswith("IL3")
    ]


def _function_added(text: str, function: str) -> str:
    """``function`` before the first top-level def or class (benchmarks/run.py's edit)."""
    lines = text.splitlines(keepends=True)
    first = next(
        (i for i, line in enumerate(lines) if line.startswith(("def ", "class ", "async def "))),
        len(lines),
    )
    while first > 0 and lines[first - 1].startswith("@"):
        first -= 1
    return "".join([*lines[:first], function, *lines[first:]])


def _calls_first(text: str) -> str:
    """A function calling the file's first top-level function (benchmarks/run.py)."""
    first = next(
        line.split("(", 1)[0].split()[-1]
        for line in text.splitlines()
        if line.startswith(("def ", "async def ")) and "(" in line
    )
    return f"def _edit(values):\n    return {first}(*values)\n\n\n"


EDITS = [
    # (edited file, edit)
    pytest.param(
        SCHEMA,
        replace_once(
            "    batch_size: int = 64\n", "    batch_size: int = 64\n    batch_sise: int = 64\n"
        ),
        id="key-added",  # default.yaml's training.batch_sise is now a field
    ),
    pytest.param(
        SCHEMA,
        replace_once("    warmup_steps: int = 100\n", ""),
        id="key-removed",  # app.py's getattr of warmup_steps now finds no field
    ),
    pytest.param(
        SCHEMA,
        replace_once("    learning_rate: float = 3e-4\n", "    learning_rate: float = 1e-3\n"),
        id="field-default-changed",  # default.yaml's value is now the schema's default
    ),
    pytest.param(
        SCHEMA,
        replace_once(
            "    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)\n",
            "    evaluation: dict = field(default_factory=dict)\n",
        ),
        id="field-type-changed",  # self.config.evaluation is no longer a schema
    ),
    pytest.param(
        SCHEMA,
        replace_once("@dataclass\nclass EvaluationConfig:", "class EvaluationConfig:"),
        id="dataclass-decorator-removed",  # EvaluationConfig is no longer a schema
    ),
    pytest.param(
        "config_app/variants.py",
        _written(
            "from .config_schema import EvaluationConfig\n\n\n"
            "class QuickEvaluationConfig(EvaluationConfig):\n"
            "    num_game: int = 3\n"
        ),
        id="file-added-subclass",  # a subclass declares num_game: probing it is deliberate
    ),
    pytest.param(
        "config_app/runner.py",
        _written(
            "from .evaluation import EvaluationManager\n\n\n"
            "def evaluate(settings: object) -> int:\n"
            "    return EvaluationManager(settings).games_per_round()\n"
        ),
        id="file-added-caller",  # config flow: a caller passes something unknown
    ),
    pytest.param(
        "config_app/app.py",
        lambda path: path.write_text(
            _function_added(
                path.read_text(),
                "def _evaluate(cfg):\n    return EvaluationManager(cfg)\n\n\n",
            )
        ),
        id="function-added-passing-its-parameter",  # config flow through an unknown
    ),
    pytest.param(
        "config/default.yaml",
        replace_once("batch_sise", "batch_size"),
        id="config-file-fixed",
    ),
]


@pytest.mark.parametrize(("relpath", "edit"), EDITS)
def test_a_schema_edit_matches_a_run_without_cache(
    tmp_path: Path, relpath: str, edit: Callable[[Path], None]
) -> None:
    root = _copy(tmp_path)
    before, _ = _outcome(root)  # the warm cache and memo
    edit(root / relpath)
    after = _outcome(root)
    assert after == _outcome(root, use_cache=False)  # findings and notifications, in order
    assert _il3(after[0]) != _il3(before)
    # and again, on the memo of the edited tree
    assert _outcome(root) == after


def test_a_file_with_a_schema_deleted_matches_a_run_without_cache(tmp_path: Path) -> None:
    """A subclass declaring ``num_game`` silences the read of it on the base; its file
    deleted, the read is reported again."""
    root = _copy(tmp_path)
    variants = root / "config_app/variants.py"
    variants.write_text(
        "from .config_schema import EvaluationConfig\n\n\n"
        "class QuickEvaluationConfig(EvaluationConfig):\n"
        "    num_game: int = 3\n"
    )
    before, _ = _outcome(root)
    variants.unlink()
    after = _outcome(root)
    assert after == _outcome(root, use_cache=False)
    assert _il3(after[0]) != _il3(before)
    assert _outcome(root) == after


def test_a_caller_passing_its_own_parameter_keeps_the_config_flow(tmp_path: Path) -> None:
    """A function that passes its parameter on (``make(config)`` ->
    ``EvaluationManager(config)``), called with the app's config: the manager still
    receives an AppConfig, so its reads stay reported (the function's parameters are in
    the facts because its body names one; without them the flow would be unknown)."""
    root = _copy(tmp_path)
    before, _ = _outcome(root)
    (root / "config_app/factory.py").write_text(
        "from .config_schema import AppConfig\n"
        "from .evaluation import EvaluationManager\n\n\n"
        "def make(config) -> EvaluationManager:\n"
        "    return EvaluationManager(config)\n\n\n"
        'manager = make(AppConfig(run_name="x"))\n'
    )
    after = _outcome(root)
    assert after == _outcome(root, use_cache=False)
    assert _il3(after[0]) == _il3(before)
    assert any(
        code == "IL301" and path.endswith("evaluation.py") for code, path, *_ in _il3(after[0])
    )


@pytest.mark.parametrize("relpath", ["config_app/app.py", SCHEMA, "config_app/evaluation.py"])
def test_a_function_added_after_the_imports_keeps_the_config_schema_outcome(
    tmp_path: Path, rules_run: list[str], relpath: str
) -> None:
    """The benchmark's edit: its parameter flows into nothing recorded, so the schema
    facts only move; the config-schema rules do not run again, and their findings on
    the edited file move with its lines, as a run without a cache gives them."""
    root = _copy(tmp_path)
    before, _ = _outcome(root)
    assert any(code.startswith("IL3") for code in rules_run)
    rules_run.clear()
    path = root / relpath
    path.write_text(
        _function_added(
            path.read_text(), "def _edit(values):\n    return sorted(set(values))\n\n\n"
        )
    )
    after = _outcome(root)
    assert not any(code.startswith("IL3") for code in rules_run)
    assert after == _outcome(root, use_cache=False)
    if any(f.path == relpath for f in before if f.code.startswith("IL3")):
        assert _il3(after[0]) != _il3(before)  # moved down


INERT_EDITS = [
    pytest.param(
        "config_app/app.py",
        lambda text: _function_added(text, _calls_first(text)),
        id="function-calling-the-first-added",  # benchmarks/run.py's add_calling_function
    ),
    # (file, edit): facts that change, in nothing the schema index looked up
    pytest.param(
        "config_app/app.py",
        lambda text: _function_added(
            text, "def _edit(values) -> list:\n    return sorted(set(values))\n\n\n"
        ),
        id="annotated-function-added",  # a function no lookup names
    ),
    pytest.param(
        "config_app/evaluation.py",
        lambda text: text.replace(
            "from __future__ import annotations\n",
            "from __future__ import annotations\n\nimport os\n",
        ),
        id="import-added",  # an alias no resolution goes through
    ),
    pytest.param(
        "config_app/app.py",
        lambda text: _function_added(
            text, "def _edit(path) -> None:\n    print(load_config(), path)\n\n\n"
        ),
        id="call-added",  # a call no config flow asks about
    ),
    pytest.param(
        "config_app/app.py",
        lambda text: text.replace(
            "    def warmup(self) -> int:\n",
            "    def patience(self, default) -> int:\n        return default\n\n"
            "    def warmup(self) -> int:\n",
        ),
        id="method-added",  # to a class that is no schema
    ),
]


@pytest.mark.parametrize(("relpath", "edit"), INERT_EDITS)
def test_an_edit_the_schema_index_does_not_observe_keeps_the_outcome(
    tmp_path: Path, rules_run: list[str], relpath: str, edit: Callable[[str], str]
) -> None:
    """The schema index's kept summary judges the changed facts: the config-schema rules
    keep their outcome (moved), as a run without a cache gives it."""
    root = _copy(tmp_path)
    before, _ = _outcome(root)
    assert any(code.startswith("IL3") for code in rules_run)
    rules_run.clear()
    path = root / relpath
    text = path.read_text()
    path.write_text(edit(text))
    assert path.read_text() != text
    after = _outcome(root)
    assert not any(code.startswith("IL3") for code in rules_run)
    assert after == _outcome(root, use_cache=False)
    # and undone, on the memo of the edited tree (the summary carried over)
    rules_run.clear()
    path.write_text(text)
    undone = _outcome(root)
    assert not any(code.startswith("IL3") for code in rules_run)
    assert undone[0] == before
    assert undone == _outcome(root, use_cache=False)


def test_the_facts_keep_the_parameters_the_project_phase_may_look_up(tmp_path: Path) -> None:
    """A method's parameters, and a function's that its body passes on or reads; not a
    function's whose parameters flow into nothing recorded."""
    source = tmp_path / "pkg" / "mod.py"
    source.parent.mkdir()
    source.write_text(
        "from pkg.config import Manager\n\n\n"
        "def plain(values):\n    return sorted(set(values))\n\n\n"
        "def passes(cfg):\n    return Manager(cfg)\n\n\n"
        "def reads(cfg):\n    return getattr(cfg, 'x', 1)\n\n\n"
        "def annotated(cfg: Manager):\n    return getattr(cfg, 'x', 1)\n\n\n"
        "class Owner:\n    def method(self, a):\n        return a\n"
    )
    (tmp_path / "pyproject.toml").write_text("")
    config = load_config([tmp_path], tmp_path / "pyproject.toml")
    file = SourceFile(path=source, relpath="pkg/mod.py", module="pkg.mod", is_package_init=False)
    facts = analyze_file(file, config, [], [SchemaFactCollector]).facts[KEY]
    assert isinstance(facts, SchemaFacts)
    assert [p.qualname for p in facts.params] == [
        "pkg.mod.passes",
        "pkg.mod.reads",
        "pkg.mod.Owner.method",
    ]


# --- the schema index's summary kept across runs (SchemaSummary) ----------------------

_SUMMARY_PROJECT = {
    "pyproject.toml": '[tool.integ-lint]\nselect = ["IL3"]\n',
    "pkg/__init__.py": "from pkg.config import AppConfig\n",
    "pkg/config.py": (
        "from dataclasses import dataclass\n\n\n"
        "@dataclass\nclass AppConfig:\n    size: int = 1\n\n\n"
        "class Helper:\n    def run(self, a):\n        return a\n"
    ),
    "pkg/loader.py": "def load(path=None):\n    return None\n",
    "pkg/use.py": (
        "from pkg import AppConfig\nfrom pkg.loader import load\n\n\n"
        "def read(cfg: AppConfig) -> int:\n    return getattr(cfg, 'sise', 1)\n\n\n"
        "def read_loaded() -> int:\n    return getattr(load('app.yaml'), 'sise', 2)\n\n\n"
        "def read_flow(cfg) -> int:\n    return getattr(cfg, 'sise', 3)\n\n\n"
        "def caller() -> None:\n    read_flow(AppConfig())\n"
    ),
}


def _schema_facts(root: Path, relpath: str) -> SchemaFacts:
    config = load_config([root], root / "pyproject.toml")
    init = relpath.endswith("/__init__.py")
    module = relpath.removesuffix("/__init__.py").removesuffix(".py").replace("/", ".")
    file = SourceFile(path=root / relpath, relpath=relpath, module=module, is_package_init=init)
    facts = analyze_file(file, config, [], [SchemaFactCollector]).facts[KEY]
    assert isinstance(facts, SchemaFacts)
    return facts


SUMMARY_EDITS = [
    # (file, old, new, whether the index may observe the difference)
    pytest.param(
        "pkg/loader.py",
        "def load(path=None):\n",
        "def load(path=None) -> 'AppConfig':\n",
        True,
        id="probed-function",
    ),
    pytest.param(
        "pkg/loader.py",
        "def load(path=None):\n",
        "def unrelated(values) -> list:\n    return sorted(values)\n\n\ndef load(path=None):\n",
        False,
        id="unprobed-function-above",  # only moves the lines below
    ),
    pytest.param(
        "pkg/config.py",
        "        return a\n",
        "        return a\n\n    def stop(self, b):\n        return b\n",
        False,
        id="method-of-a-plain-class",
    ),
    pytest.param(
        "pkg/config.py",
        "    size: int = 1\n",
        "    size: int = 1\n    sise: int = 1\n",
        True,
        id="schema-field",
    ),
    pytest.param(
        "pkg/config.py", "class Helper:", "class Helper(AppConfig):", True, id="base-added"
    ),
    pytest.param("pkg/use.py", "'sise', 2)", "'sise', 4)", True, id="site-changed"),
    pytest.param(
        "pkg/use.py",
        "from pkg import AppConfig\n",
        "import os\nfrom pkg import AppConfig\n",
        False,
        id="import-no-lookup-reads",  # and the lines below move
    ),
    pytest.param(
        "pkg/__init__.py",
        "from pkg.config import AppConfig\n",
        "from pkg.config import Helper as AppConfig\n",
        True,
        id="re-export-changed",
    ),
    pytest.param(
        "pkg/use.py",
        "    read_flow(AppConfig())\n",
        "    read_flow(AppConfig())\n\n\ndef again(value) -> None:\n    load(value)\n",
        False,
        id="call-to-a-callee-no-flow-asks-for",
    ),
    pytest.param(
        "pkg/use.py",
        "    read_flow(AppConfig())\n",
        "    read_flow(AppConfig())\n\n\ndef again(value) -> None:\n    read_flow(value)\n",
        True,
        id="call-to-a-callee-flow-asks-for",
    ),
    pytest.param(
        "pkg/use.py",
        "    read_flow(AppConfig())\n",
        "    read_flow(AppConfig())\n\n\ndef again(value) -> None:\n    read(value)\n",
        False,
        id="call-to-a-same-file-function-no-call-named-before",  # the benchmark's edge
    ),
    pytest.param(
        "pkg/use.py",
        "def caller() -> None:\n    read_flow(AppConfig())\n",
        "def caller() -> None:\n    pass\n\n\ndef again(value) -> None:\n    read_flow(value)\n",
        True,
        id="same-file-call-moved-to-a-callee-flow-asks-for",
    ),
    pytest.param(
        "pkg/use.py",
        "    read_flow(AppConfig())\n",
        "    read_flow(AppConfig())\n\n\ndef again(value) -> None:\n    read(value)\n\n\n"
        "read = read_flow\n",
        True,
        id="same-file-function-rebound-to-one-flow-asks-for",
    ),
]


@pytest.mark.parametrize(("relpath", "old", "new", "observed"), SUMMARY_EDITS)
def test_the_summary_keeps_what_the_index_observes(
    tmp_path: Path, relpath: str, old: str, new: str, observed: bool
) -> None:
    from integ_lint.engine import RunOptions, run
    from integ_lint.engine.memo_remap import line_map
    from integ_lint.model.schema_index import KEY as INDEX_KEY
    from integ_lint.model.schema_index import SchemaSummary

    for name, text in _SUMMARY_PROJECT.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    config = load_config([tmp_path], tmp_path / "pyproject.toml")
    report = run([tmp_path], config, RunOptions(jobs=1, use_cache=False))
    assert [f.code for f in report.findings] == ["IL301", "IL301"]
    summary = report.project.kept_summaries()[INDEX_KEY]
    assert isinstance(summary, SchemaSummary)
    assert summary.readers == {INDEX_KEY} and summary.fact_keys == {KEY}
    before = _schema_facts(tmp_path, relpath)
    path = tmp_path / relpath
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    after = _schema_facts(tmp_path, relpath)
    assert before != after
    reduced = summary.reduce(KEY, before, after)
    assert reduced is not None
    assert (line_map(*reduced) is None) == observed
    if not observed:  # and a run on the edited tree reports as the memo would keep
        again = run([tmp_path], config, RunOptions(jobs=1, use_cache=False))
        assert [(f.code, f.path, f.message) for f in again.findings] == [
            (f.code, f.path, f.message) for f in report.findings
        ]
    assert summary.merged(summary) == summary
    assert summary.reduce("calls", before, after) is None
