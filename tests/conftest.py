"""Shared pytest configuration: hypothesis profiles, and the ecosystem helper as a module.

``ci`` (the default) keeps property tests bounded so the suite stays fast; ``deep``
explores much more, on demand::

    python -m pytest tests/test_fuzz.py --hypothesis-profile deep

(``--hypothesis-profile`` is hypothesis's own pytest option; tests that pin
``max_examples`` in their ``@settings`` keep their own numbers.)
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, settings

_RELAXED = [HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]

settings.register_profile("ci", max_examples=40, deadline=None, suppress_health_check=_RELAXED)
settings.register_profile("deep", max_examples=1000, deadline=None, suppress_health_check=_RELAXED)
settings.load_profile("ci")


@pytest.fixture(autouse=True)
def _pools_fork_from_the_test_process(monkeypatch: pytest.MonkeyPatch) -> None:
    """Process pools fork from the test process whatever its size. Past
    ``FORK_SERVER_ABOVE_BYTES`` the executor takes its workers from a fork server, and
    pytest's process passes that mark as the suite runs, so tests whose rules live in
    their own modules and reach the workers by fork would depend on the order they ran
    in; ``tests/test_memory_release.py`` tests the fork server on purpose."""
    from integ_lint.engine import executor

    monkeypatch.setattr(executor, "FORK_SERVER_ABOVE_BYTES", 1 << 62)


def load_script(name: str, filename: str) -> ModuleType:
    """``benchmarks/<filename>`` as the module ``name``, loaded once, so that its
    classes (errors, dataclasses) are the same in every test file."""
    module = sys.modules.get(name)
    if module is None:
        path = Path(__file__).resolve().parent.parent / "benchmarks" / filename
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up
        spec.loader.exec_module(module)
    return module


def load_ecosystem() -> ModuleType:
    """``benchmarks/ecosystem.py`` as the module ``ecosystem``."""
    return load_script("ecosystem", "ecosystem.py")


@pytest.fixture
def private_cache_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache key file under ``tmp_path``: the test never reads or writes the user's
    (a module asks for it with ``pytestmark = pytest.mark.usefixtures(...)``)."""
    monkeypatch.setenv("INTEG_LINT_CACHE_KEY_FILE", str(tmp_path / "key" / "cache-key"))


@pytest.fixture
def rules_run(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The codes of the project rules that really run, in order, across runs."""
    from phase_runs import count_rule_runs

    return count_rule_runs(monkeypatch)
