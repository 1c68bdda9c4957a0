"""Device ownership (IL401/IL402): inferred owners, their listing in `integ-lint graph`
and `integ-lint config`, and the `managers` / `infer-managers` overrides."""

from __future__ import annotations

import textwrap
from pathlib import Path

from click.testing import CliRunner

from integ_lint import api
from integ_lint.cli import main

OWNER = """\
import torch


class DeviceManager:
    def __init__(self, prefer=None):
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    def place(self, model):
        return model.to("cuda:0")
"""

WORKER = """\
import torch


class Worker:
    def __init__(self, device):
        self.device = device

    def run(self, batch):
        return batch.to(self.device), batch.to("cuda")
"""


def _project(root: Path, config: str = "") -> Path:
    (root / "pkg").mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[project]\nname = "demo"\nversion = "0"\n\n[tool.integ-lint]\nselect = ["IL4"]\n'
        + textwrap.dedent(config)
    )
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "devices.py").write_text(OWNER)
    (root / "pkg" / "worker.py").write_text(WORKER)
    return root


def _il401(root: Path) -> list[tuple[str, int]]:
    report = api.check([root], select=["IL401"], jobs=1)
    return sorted((f.path, f.line) for f in report.findings)


def test_inferred_owner_is_silent_and_a_worker_choosing_its_device_is_not(
    tmp_path: Path,
) -> None:
    assert _il401(_project(tmp_path)) == [("pkg/worker.py", 9)]


def test_infer_managers_false_makes_the_owner_report_too(tmp_path: Path) -> None:
    root = _project(tmp_path, "[tool.integ-lint.gpu]\ninfer-managers = false\n")
    assert _il401(root) == [("pkg/devices.py", 9), ("pkg/worker.py", 9)]


def test_configured_managers_add_to_inferred_ones(tmp_path: Path) -> None:
    root = _project(tmp_path, '[tool.integ-lint.gpu]\nmanagers = ["Worker"]\n')
    assert _il401(root) == []


def test_graph_lists_device_owners(tmp_path: Path) -> None:
    root = _project(tmp_path, '[tool.integ-lint.gpu]\nmanagers = ["*.Placement"]\n')
    result = CliRunner().invoke(main, ["graph", str(root)])
    assert result.exit_code == 0, result.output
    assert "Device owners (2" in result.output
    assert "*.Placement  configured in [tool.integ-lint.gpu] managers" in result.output
    assert "pkg.devices.DeviceManager  pkg/devices.py:4  decides the device" in result.output
    assert "pkg.worker.Worker" not in result.output


def test_config_view_lists_inferred_owners(tmp_path: Path) -> None:
    root = _project(tmp_path)
    result = CliRunner().invoke(main, ["config", str(root)])
    assert result.exit_code == 0, result.output
    assert "#   pkg.devices.DeviceManager  (pkg/devices.py:4)" in result.output
    off = _project(tmp_path / "off", "[tool.integ-lint.gpu]\ninfer-managers = false\n")
    result = CliRunner().invoke(main, ["config", str(off)])
    assert "infer-managers = false: only `managers` own devices" in result.output
