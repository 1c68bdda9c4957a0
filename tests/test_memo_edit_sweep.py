"""A seeded sweep of realistic edits over the bundled fixtures (benchmarks/memo_sweep.py's
generator): after EACH edit, a run on the warm cache and project memo (kept from the
previous run) reports what a run without a cache reports, findings and notifications
alike, in the same order, with every rule selected (opt-in ones too). The kept summaries
(call graph, config-schema index) judge most of these edits inert or not; a wrong
judgement shows here as a warm run that loses or invents a finding."""

from __future__ import annotations

import ast
import importlib.util
import random
import sys
from pathlib import Path
from types import ModuleType

import pytest
from phase_runs import copy_fixture
from phase_runs import every_rule_outcome as _outcome

from integ_lint.model import call_graph, schema_index

REPOSITORY = Path(__file__).resolve().parent.parent


def _load_sweep() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "memo_sweep", REPOSITORY / "benchmarks" / "memo_sweep.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("memo_sweep", module)
    spec.loader.exec_module(module)
    return module


sweep = _load_sweep()

# (fixture, seed, edits): the fixtures with event-loop, config-schema, gpu, manager and
# message findings; the seeds are fixed so that a failure names a reproducible edit
SWEEPS = [
    pytest.param("async_app", 11, 14, id="async_app"),
    pytest.param("config_app", 12, 10, id="config_app"),
    pytest.param("gpu_trainer", 13, 6, id="gpu_trainer"),
    pytest.param("training_app", 14, 6, id="training_app"),
    pytest.param("message_services", 15, 5, id="message_services"),
]


pytestmark = pytest.mark.usefixtures("private_cache_key")


KEPT = " [event-loop rules kept]"


def _sweep(
    root: Path,
    seed: int,
    edits: int,
    kinds: tuple[str, ...] | None = None,
    rules_run: list[str] | None = None,
) -> list[str]:
    """Apply ``edits`` seeded edits (of ``kinds``, or any); after each, compare warm
    with --no-cache. Returns the edits made (marked ``KEPT`` when ``rules_run``, the
    rule-run counter, saw no event-loop rule run on the warm run); fails naming the
    edit (and those before it) on a mismatch."""
    rng = random.Random(seed)
    _outcome(root)  # the warm cache and memo
    done: list[str] = []
    for serial in range(1, edits + 1):
        done.append(sweep.random_edit(root, rng, serial, kinds=kinds))
        if rules_run is not None:
            rules_run.clear()
        warm = _outcome(root)
        if rules_run is not None and not any(code.startswith("IL2") for code in rules_run):
            done[-1] += KEPT
        cold = _outcome(root, use_cache=False)
        assert warm == cold, "warm run differs from --no-cache after:\n" + "\n".join(done)
    return done


@pytest.mark.parametrize(("fixture", "seed", "edits"), SWEEPS)
def test_each_edit_of_a_seeded_sweep_reports_as_without_cache(
    tmp_path: Path, fixture: str, seed: int, edits: int
) -> None:
    done = _sweep(copy_fixture(tmp_path, fixture), seed, edits)
    assert len(done) == edits


# The edits that add or remove edges of the call graph: a new function calling existing
# ones (the summary judges some inert, against sinks the event-loop analysis vouches
# for), removed again (judged against a memo whose graph had it or not), an existing
# function made to call another, and the plain function added (no edge, or one).
EDGE_KINDS = ("add-edge-function", "remove-added-function", "add-call", "add-function")


@pytest.mark.parametrize(
    ("fixture", "seed", "edits", "judged"),
    [
        # The seed is one whose edits take both the summary's judgement and its fall-backs.
        pytest.param("async_app", 30, 16, True, id="async_app"),
        # Functions called from the CLI only: no sink, the fall-backs alone.
        pytest.param("training_app", 39, 8, False, id="training_app"),
    ],
)
def test_each_edge_edit_of_a_seeded_sweep_reports_as_without_cache(
    tmp_path: Path, rules_run: list[str], fixture: str, seed: int, edits: int, judged: bool
) -> None:
    done = _sweep(copy_fixture(tmp_path, fixture), seed, edits, EDGE_KINDS, rules_run)
    added = [made for made in done if "add-edge-function" in made]
    assert any("remove-added-function" in made for made in done)
    assert any(not made.endswith(KEPT) for made in added), "\n".join(done)
    if judged:
        assert any(made.endswith(KEPT) for made in added), "\n".join(done)


def test_the_generator_is_deterministic_and_keeps_the_syntax(tmp_path: Path) -> None:
    """Same seed, same edits (a failure can be replayed), valid Python after each; every
    kind of edit applies on the fixtures."""
    kinds = set()
    for fixture in ("async_app", "config_app"):
        first = copy_fixture(tmp_path / "a", fixture)
        second = copy_fixture(tmp_path / "b", fixture)
        rng_first, rng_second = random.Random(2), random.Random(2)
        for serial in range(1, 60):
            made = sweep.random_edit(first, rng_first, serial)
            assert made == sweep.random_edit(second, rng_second, serial)
            kinds.add(made.split(": ")[1])
        assert sweep.python_files(first) == sweep.python_files(second)
        for relpath in sweep.python_files(first):
            assert (first / relpath).read_text() == (second / relpath).read_text()
            ast.parse((first / relpath).read_text(), relpath)
    assert kinds == set(sweep.EDIT_KINDS)


@pytest.mark.parametrize(
    ("summary", "fixture", "seed", "edits"),
    [
        pytest.param(schema_index.SchemaSummary, "config_app", 12, 10, id="schema"),
        pytest.param(call_graph.CallGraphSummary, "async_app", 11, 14, id="call-graph"),
    ],
)
def test_the_sweep_catches_a_summary_that_drops_everything(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    summary: type,
    fixture: str,
    seed: int,
    edits: int,
) -> None:
    """The sweep can fail: a summary whose reduce() drops every fact judges every edit
    of its facts inert, and the warm run keeps findings a run without cache no longer
    reports (or misses new ones)."""
    monkeypatch.setattr(summary, "reduce", lambda self, key, before, after: (None, None))
    with pytest.raises(AssertionError, match="warm run differs from --no-cache"):
        _sweep(copy_fixture(tmp_path, fixture), seed, edits)


# Targeted edits of a file that change findings in ANOTHER file through a derived
# structure (call graph: lookups through module attributes, aliases, annotations,
# bases, constructors, re-exports; schema index: config flow, schema classes), each
# changing the report, so that a summary judging it inert would fail.
PYPROJECT = (
    '[project]\nname = "pkg"\nversion = "0"\n[tool.integ-lint.event-loops]\nblocking-waits = true\n'
)
SLOW = "\n\ndef slow():\n    time.sleep(1)\n"
SLOW_METHOD = "\n    def slow(self):\n        time.sleep(1)\n"
A_FUNCTION = "import time\n\n\ndef other():\n    pass\n"
A_CLASS = "import time\n\n\nclass Thing:\n    def other(self):\n        pass\n"
AWAITS = "\n\nasync def serve():\n    {}\n"

CALL_GRAPH_EDITS = [
    # (id, files, edited file, old (None: append), new)
    (
        "module-attribute",
        {"a": A_FUNCTION, "b": "import pkg.a" + AWAITS.format("pkg.a.slow()")},
        "a",
        None,
        SLOW,
    ),
    (
        "module-alias",
        {"a": A_FUNCTION, "b": "from pkg import a as mod" + AWAITS.format("mod.slow()")},
        "a",
        None,
        SLOW,
    ),
    (
        "relative-import",
        {"a": A_FUNCTION, "b": "from .a import slow" + AWAITS.format("slow()")},
        "a",
        None,
        SLOW,
    ),
    (
        "try-import",
        {
            "a": A_FUNCTION,
            "b": "try:\n    from pkg.a import slow\nexcept ImportError:\n    slow = None\n"
            + AWAITS.format("slow()"),
        },
        "a",
        None,
        SLOW,
    ),
    (
        "reexport-added",
        {
            "__init__": "\n",
            "a": "import time\n" + SLOW,
            "b": "from pkg import slow" + AWAITS.format("slow()"),
        },
        "__init__",
        None,
        "from pkg.a import slow\n",
    ),
    (
        "annotated-parameter",
        {
            "a": A_CLASS,
            "b": "from pkg.a import Thing\n\n\nasync def serve(t: Thing):\n    t.slow()\n",
        },
        "a",
        None,
        SLOW_METHOD,
    ),
    (
        "local-instance",
        {"a": A_CLASS, "b": "from pkg.a import Thing" + AWAITS.format("x = Thing()\n    x.slow()")},
        "a",
        None,
        SLOW_METHOD,
    ),
    (
        "constructor",
        {"a": A_CLASS, "b": "from pkg.a import Thing" + AWAITS.format("Thing()")},
        "a",
        None,
        "\n    def __init__(self):\n        time.sleep(1)\n",
    ),
    (
        "classmethod",
        {"a": A_CLASS, "b": "from pkg.a import Thing" + AWAITS.format("Thing.make()")},
        "a",
        None,
        "\n    @classmethod\n    def make(cls):\n        time.sleep(1)\n",
    ),
    (
        "inherited",
        {
            "a": A_CLASS,
            "b": "from pkg.a import Thing\n\n\nclass Sub(Thing):\n    async def serve(self):\n        self.slow()\n",
        },
        "a",
        None,
        SLOW_METHOD,
    ),
    (
        "base-of-base",
        {
            "a": "import time\n\n\nclass Root:\n    pass\n\n\nclass Thing:\n    def other(self):\n        pass\n",
            "b": "from pkg.a import Thing\n\n\nclass Sub(Thing):\n    async def serve(self):\n        self.slow()\n",
        },
        "a",
        "class Thing:",
        "class Thing(Root):\n    def slow(self):\n        time.sleep(1)\n",
    ),
    (
        "became-async",
        {"a": "def job():\n    return 1\n", "b": "from pkg.a import job" + AWAITS.format("job()")},
        "a",
        "def job",
        "async def job",
    ),
    (
        "became-sync",
        {
            "a": "async def job():\n    return 1\n",
            "b": "from pkg.a import job\n\n\ndef serve():\n    job()\n",
        },
        "a",
        "async def job",
        "def job",
    ),
]

SCHEMA_EDITS = [
    # (id, edited file of config_app, old, new)
    (
        "flow-call-argument",
        "config_app/app.py",
        "EvaluationManager(self.config)",
        "EvaluationManager(self.config.training)",
    ),
    (
        "flow-annotation-dropped",
        "config_app/app.py",
        "def __init__(self, config: AppConfig)",
        "def __init__(self, config)",
    ),
    (
        "owner-attribute-renamed",
        "config_app/evaluation.py",
        "        self.config = config",
        "        self.cfg = config\n        self.config = None",
    ),
    (
        "field-type-changed",
        "config_app/config_schema.py",
        "    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)",
        "    evaluation: TrainingConfig = field(default_factory=TrainingConfig)",
    ),
    (
        "decorator-removed",
        "config_app/config_schema.py",
        "@dataclass\nclass EvaluationConfig:",
        "class EvaluationConfig:",
    ),
    (
        "method-named-as-read",
        "config_app/config_schema.py",
        "class EvaluationConfig:\n",
        "class EvaluationConfig:\n    def num_game(self):\n        return 1\n\n",
    ),
    (
        "class-attribute-added",
        "config_app/config_schema.py",
        "class EvaluationConfig:\n",
        "class EvaluationConfig:\n    num_game = 20\n",
    ),
    (
        "post-init-attribute",
        "config_app/config_schema.py",
        "    interval: int = 1000\n",
        "    interval: int = 1000\n\n    def __post_init__(self) -> None:\n        self.num_game = 3\n",
    ),
]


def _edit(path: Path, old: str | None, new: str) -> None:
    text = path.read_text() if path.exists() else ""
    if old is None:
        path.write_text(text + new)
        return
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("files", "edited", "old", "new"),
    [pytest.param(*case[1:], id=case[0]) for case in CALL_GRAPH_EDITS],
)
def test_a_call_graph_edit_reaching_another_file_reports_as_without_cache(
    tmp_path: Path, files: dict[str, str], edited: str, old: str | None, new: str
) -> None:
    root = tmp_path / "proj"
    (root / "pkg").mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT)
    for name, text in ({"__init__": ""} | files).items():
        (root / "pkg" / f"{name}.py").write_text(text)
    before = _outcome(root)
    _edit(root / "pkg" / f"{edited}.py", old, new)
    warm = _outcome(root)
    assert warm == _outcome(root, use_cache=False)
    assert [f for f in warm[0] if f.path == "pkg/b.py"] != [
        f for f in before[0] if f.path == "pkg/b.py"
    ]


@pytest.mark.parametrize(
    ("edited", "old", "new"), [pytest.param(*case[1:], id=case[0]) for case in SCHEMA_EDITS]
)
def test_a_schema_edit_reaching_another_file_reports_as_without_cache(
    tmp_path: Path, edited: str, old: str, new: str
) -> None:
    root = copy_fixture(tmp_path, "config_app")
    before = _outcome(root)
    _edit(root / edited, old, new)
    warm = _outcome(root)
    assert warm == _outcome(root, use_cache=False)
    elsewhere = [(f.path, f.code, f.message) for f in warm[0] if f.path != edited]
    assert elsewhere != [(f.path, f.code, f.message) for f in before[0] if f.path != edited]
