"""GPU handoff rules (IL4xx) beyond the harness examples: allowlist keys and their
stability, expiry, config validation of the allowlist, and managed-scope matching."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from integ_lint import api
from integ_lint.config import ConfigError, load_config
from integ_lint.config.gpu_allowlist import parse_key
from integ_lint.engine import select_rules
from integ_lint.engine.registry import load_registry
from integ_lint.facts.torch import file_imports_torch, scope_matches
from integ_lint.findings import Finding

STEP = """\
import torch


class StepManager:
    def step(self, batches):
        for batch in batches:
            loss = self.model(batch)
            print(loss.item())
            self.log(loss.detach().cpu().item())
"""


def _project(root: Path, source: str, config: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0"\n\n[tool.integ-lint]\nselect = ["IL4"]\n\n'
        + textwrap.dedent(config)
    )
    package = root / "pkg"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "train.py").write_text(source)
    return root


def _findings(root: Path, code: str = "IL4") -> list[Finding]:
    report = api.check([root], select=[code, "IL403", "IL405"], jobs=1)
    assert not report.incomplete, [n.message for n in report.notifications]
    return report.findings


def _keys(findings: list[Finding]) -> list[str]:
    return [f.property_dict()["allowlist_key"] for f in findings if f.code == "IL403"]


def test_every_il403_finding_prints_its_allowlist_key(tmp_path: Path) -> None:
    findings = [f for f in _findings(_project(tmp_path, STEP)) if f.code == "IL403"]
    assert _keys(findings) == [
        "pkg/train.py:StepManager.step:item:1",
        "pkg/train.py:StepManager.step:item:2",
    ]
    for finding in findings:
        assert f"[allowlist key: {finding.property_dict()['allowlist_key']}]" in finding.message


def test_allowlist_keys_are_stable_when_unrelated_lines_are_added_above(tmp_path: Path) -> None:
    before = _keys(_findings(_project(tmp_path / "a", STEP), "IL403"))
    padded = STEP.replace(
        "\n\nclass StepManager:",
        "\nimport os\n\nRETRIES = 3\n\n\ndef warmup(model, batches):\n"
        "    for batch in batches:\n        print(model(batch).item())\n"
        "\n\nclass StepManager:\n    '''Steps.'''\n",
    )
    after = _findings(_project(tmp_path / "b", padded), "IL403")
    assert [f.line for f in after] != []
    assert _keys([f for f in after if f.site.scope == "StepManager.step"]) == before
    # The added loop in another scope gets its own key and does not shift ours.
    assert "pkg/train.py:warmup:item:1" in _keys(after)


def test_allowlist_entry_silences_exactly_the_named_occurrence(tmp_path: Path) -> None:
    config = """
        [[tool.integ-lint.gpu.allowlist]]
        key = "pkg/train.py:StepManager.step:item:2"
        owner = "alice"
        reason = "logging hook needs a float"
        expires = 2999-01-01
    """
    findings = _findings(_project(tmp_path, STEP, config), "IL403")
    assert _keys(findings) == ["pkg/train.py:StepManager.step:item:1"]


def test_allowlist_entry_without_occurrence_covers_the_whole_scope(tmp_path: Path) -> None:
    config = """
        [[tool.integ-lint.gpu.allowlist]]
        key = "pkg/train.py:StepManager.step:item"
        owner = "alice"
        reason = "both are logging"
    """
    assert _findings(_project(tmp_path, STEP, config), "IL403") == []


def test_expired_allowlist_entry_stops_applying_and_is_reported(tmp_path: Path) -> None:
    config = """
        [[tool.integ-lint.gpu.allowlist]]
        key = "pkg/train.py:StepManager.step:item:1"
        owner = "bob"
        reason = "temporary, until the metrics refactor"
        expires = "2020-02-29"
    """
    findings = _findings(_project(tmp_path, STEP, config), "IL403")
    assert len(findings) == 2
    expired = [f for f in findings if "expired" in f.message]
    assert len(expired) == 1
    message = expired[0].message
    assert "allowlist entry expired on 2020-02-29" in message
    assert "owner bob" in message and "until the metrics refactor" in message
    assert "pkg/train.py:StepManager.step:item:1" in message


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            'key = "a.py:f:item"\nowner = "x"\nreason = "y"\nexpires = "soon"',
            "tool.integ-lint.gpu.allowlist[0].expires: expected an ISO date",
        ),
        (
            'key = "a.py:f:item"\nreason = "y"',
            "tool.integ-lint.gpu.allowlist[0].owner: expected a non-empty string (missing)",
        ),
        (
            'key = "a.py:f:items"\nowner = "x"\nreason = "y"',
            "tool.integ-lint.gpu.allowlist[0].key: unknown pattern 'items'",
        ),
        (
            'key = "a.py:item"\nowner = "x"\nreason = "y"',
            "tool.integ-lint.gpu.allowlist[0].key: expected 'path:Scope.qualname:pattern[:n]'",
        ),
        (
            'key = "a.py:f:item:0"\nowner = "x"\nreason = "y"',
            "tool.integ-lint.gpu.allowlist[0].key: occurrence '0' must be a positive integer",
        ),
        (
            'key = "a.py:f:item"\nowner = "x"\nreason = "y"\nuntil = 2030-01-01',
            "tool.integ-lint.gpu.allowlist[0].until: unknown key",
        ),
        (
            'key = "a.py:f:item"\nowner = "x"\nreason = "y"\nexpires = 2030-01-01T10:00:00',
            "tool.integ-lint.gpu.allowlist[0].expires: expected a date like 2026-12-31",
        ),
    ],
)
def test_bad_allowlist_entries_are_one_line_config_errors(
    tmp_path: Path, entry: str, expected: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.integ-lint]\nselect = ["IL4"]\n\n[[tool.integ-lint.gpu.allowlist]]\n{entry}\n'
    )
    config = load_config([tmp_path], tmp_path / "pyproject.toml")
    with pytest.raises(ConfigError) as info:
        select_rules(config, load_registry())
    message = str(info.value)
    assert "\n" not in message
    assert expected in message
    assert str(tmp_path / "pyproject.toml") in message


def test_second_entry_is_named_by_its_index(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[[tool.integ-lint.gpu.allowlist]]\n"
        'key = "a.py:f:item"\nowner = "x"\nreason = "y"\n\n'
        "[[tool.integ-lint.gpu.allowlist]]\n"
        'key = "a.py:f:item"\nowner = ""\nreason = "y"\n'
    )
    config = load_config([tmp_path], tmp_path / "pyproject.toml")
    with pytest.raises(ConfigError, match=r"allowlist\[1\]\.owner"):
        select_rules(config, load_registry())


def test_invalid_manager_glob_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.integ-lint.gpu]\nmanagers = ["[Model"]\n')
    config = load_config([tmp_path], tmp_path / "pyproject.toml")
    with pytest.raises(ConfigError, match=r"tool.integ-lint.gpu.managers\[0\]: invalid glob"):
        select_rules(config, load_registry())


def test_valid_allowlist_loads(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[[tool.integ-lint.gpu.allowlist]]\n"
        'key = "pkg/a.py:<module>:torch.cuda.synchronize:2"\nowner = "x"\nreason = "y"\n'
        "expires = 2030-01-01\n"
    )
    config = load_config([tmp_path], tmp_path / "pyproject.toml")
    assert select_rules(config, load_registry()).file_rules
    assert parse_key("pkg/a.py:<module>:torch.cuda.synchronize:2") == (
        "pkg/a.py",
        "<module>",
        "torch.cuda.synchronize",
        2,
    )


@pytest.mark.parametrize(
    ("pattern", "scope", "matches"),
    [
        ("*.ModelManager", ("ModelManager", "place"), True),
        ("*.ModelManager", ("Trainer", "place"), False),
        ("ModelManager", ("ModelManager", "place", "inner"), True),
        ("pkg.train.StepManager.*", ("StepManager", "step"), True),
        ("pkg.train.StepManager.*", ("StepManager",), False),
        ("pkg/train.py", (), True),
        ("pkg/other.py", ("ModelManager",), False),
        ("pkg.train", (), True),
        ("*Manager", ("Helper", "run"), False),
    ],
)
def test_scope_matching(pattern: str, scope: tuple[str, ...], matches: bool) -> None:
    assert (scope_matches([pattern], "pkg/train.py", "pkg.train", scope) is not None) is matches


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import torch\n", True),
        ("import os, torch as th\n", True),
        ("from torch import nn\n", True),
        ("def f():\n    from torch.nn import functional\n", True),
        ("import torchvision\n", False),
        ("# uses torch\nimport numpy\n", False),
        ('"""import torch"""\n', False),
    ],
)
def test_torch_import_detection(source: str, expected: bool) -> None:
    assert file_imports_torch(source) is expected


def test_no_rule_fires_without_torch(tmp_path: Path) -> None:
    source = textwrap.dedent(
        """
        import multiprocessing


        def run(agent, batches, queue: multiprocessing.Queue, device="cuda"):
            agent.model.eval()
            for batch in batches:
                batch = batch.to(device)
                print(batch.item())
            queue.put(agent.model.state_dict())
        """
    )
    # Only the agent's model, switched to eval through another object, is a handoff
    # that needs no torch import to recognise (IL404).
    found = [(f.code, f.line) for f in _findings(_project(tmp_path, source))]
    assert found == [("IL404", 6)]


def test_careful_code_is_silent(tmp_path: Path) -> None:
    source = textwrap.dedent(
        """
        import torch


        class ModelManager:
            def __init__(self, model: torch.nn.Module, device: torch.device) -> None:
                self.device = device
                self.model = model.to(self.device)

            def prepare(self, batch: torch.Tensor) -> torch.Tensor:
                return batch.to(self.device, non_blocking=True)

            def load(self, path: str) -> None:
                state = torch.load(path, map_location=self.device, weights_only=True)
                self.model.load_state_dict(state)


        def summarise(losses: torch.Tensor) -> float:
            return losses.mean().item()


        def evaluate(model: torch.nn.Module, batches: list[torch.Tensor]) -> list[torch.Tensor]:
            was_training = model.training
            model.eval()
            try:
                with torch.no_grad():
                    return [model(b) for b in batches]
            finally:
                model.train(was_training)
        """
    )
    config = """
        [tool.integ-lint.gpu]
        managers = ["*.ModelManager"]
    """
    assert _findings(_project(tmp_path, source, config)) == []


EDGE_CASES = """\
import torch
import torch as th
import multiprocessing as mp
from multiprocessing import Pipe
from torch import load as tload


def odd(*args, **kwargs):
    x = args[0]
    x.to()
    x.to(*args)
    x.to(**kwargs)
    x.train(*args)
    x.requires_grad_()
    tload(*args, **kwargs)
    th.load()
    conn = Pipe()
    conn.send(x.state_dict())
    q = mp.get_context().SimpleQueue()
    q.put()
    q.put(*args)
    mp.Process(args=None).start()
    pool = mp.Pool()
    pool.map()
    pool.map(odd)
    (lambda m: m.eval())(x)
    with open("f") as (a, b):
        a.eval()
    for (k, v) in x.named_parameters():
        q.put(v)
    if (y := x.cuda()) is not None:
        q.put(y)
    del x
    "cuda".upper()
    f"{args}".strip()
    f"cuda:{1}"
    th.zeros(1, device=f"cuda:{1}" if args else "mps")


async def stream(batches, device: "torch.device"):
    async for batch in batches:
        print(batch.item())
    while (n := len(batches)):
        torch.cuda.current_stream().synchronize()
    match batches:
        case [first, *_]:
            first.eval()


class Holder:
    model: "torch.nn.Module"
    device = "mps"

    @staticmethod
    def place(model, /, device, *, dtype=torch.float16):
        model.to(device, dtype)
        model.to(dtype=dtype)

    def nested(self, agent):
        def inner(m):
            m.eval()
        try:
            agent.model.eval()
        finally:
            pass
        return inner


print(th.tensor([1.0]).item())
for i in range(3):
    torch.cuda.synchronize()
    th.zeros(1).add_(i)
"""


def test_odd_code_never_crashes_a_gpu_rule(tmp_path: Path) -> None:
    report = api.check(
        [_project(tmp_path, EDGE_CASES)], select=["IL4", "IL403", "IL405", "IL406"], jobs=1
    )
    assert not report.incomplete, [n.message for n in report.notifications]
    codes = {f.code for f in report.findings}
    # Sanity: the odd file still yields findings of every family it contains.
    assert {"IL401", "IL402", "IL403", "IL404", "IL405", "IL406"} <= codes, sorted(codes)
    by_line = {(f.code, f.line) for f in report.findings}
    assert ("IL403", 71) in by_line  # module-level loop
    assert ("IL404", 63) in by_line  # `finally: pass` restores nothing


def test_cache_namespace_changes_with_the_date_only_when_entries_can_expire(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datetime

    from integ_lint.config import settings
    from integ_lint.engine.cache import namespace

    class Day(datetime.date):
        current = datetime.date(2030, 1, 1)

        @classmethod
        def today(cls) -> datetime.date:
            return cls.current

    monkeypatch.setattr(settings.datetime, "date", Day)
    entry = 'key = "a.py:f:item"\nowner = "x"\nreason = "y"\n'
    spaces = {}
    for name, extra in (("plain", ""), ("expiring", "expires = 2030-06-01\n")):
        (tmp_path / name).mkdir()
        config_file = tmp_path / name / "pyproject.toml"
        config_file.write_text(f"[[tool.integ-lint.gpu.allowlist]]\n{entry}{extra}")
        config = load_config([tmp_path / name], config_file)
        first = namespace(config, [], [])
        Day.current = datetime.date(2030, 1, 2)
        spaces[name] = (first, namespace(config, [], []))
        Day.current = datetime.date(2030, 1, 1)
    assert spaces["plain"][0] == spaces["plain"][1]
    assert spaces["expiring"][0] != spaces["expiring"][1]
