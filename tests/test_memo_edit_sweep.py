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
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest
from phase_runs import every_rule_outcome as _outcome

from integ_lint.model import call_graph, schema_index

REPOSITORY = Path(__file__).resolve().parent.parent
FIXTURES = REPOSITORY / "fixtures"


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


@pytest.fixture(autouse=True)
def _private_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTEG_LINT_CACHE_KEY_FILE", str(tmp_path / "key" / "cache-key"))


def _copy(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target, ignore=shutil.ignore_patterns(".integ-lint-cache"))
    return target


def _sweep(root: Path, seed: int, edits: int) -> list[str]:
    """Apply ``edits`` seeded edits; after each, compare warm with --no-cache. Returns
    the edits made; fails naming the edit (and those before it) on a mismatch."""
    rng = random.Random(seed)
    _outcome(root)  # the warm cache and memo
    done: list[str] = []
    for serial in range(1, edits + 1):
        done.append(sweep.random_edit(root, rng, serial))
        warm = _outcome(root)
        cold = _outcome(root, use_cache=False)
        assert warm == cold, "warm run differs from --no-cache after:\n" + "\n".join(done)
    return done


@pytest.mark.parametrize(("fixture", "seed", "edits"), SWEEPS)
def test_each_edit_of_a_seeded_sweep_reports_as_without_cache(
    tmp_path: Path, fixture: str, seed: int, edits: int
) -> None:
    done = _sweep(_copy(tmp_path, fixture), seed, edits)
    assert len(done) == edits


def test_the_generator_is_deterministic_and_keeps_the_syntax(tmp_path: Path) -> None:
    """Same seed, same edits (a failure can be replayed), valid Python after each; every
    kind of edit applies on the fixtures."""
    kinds = set()
    for fixture in ("async_app", "config_app"):
        first = _copy(tmp_path / "a", fixture)
        second = _copy(tmp_path / "b", fixture)
        rng_first, rng_second = random.Random(5), random.Random(5)
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
        _sweep(_copy(tmp_path, fixture), seed, edits)
