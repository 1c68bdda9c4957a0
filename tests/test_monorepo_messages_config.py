"""``messages`` and ``config`` at a monorepo root: every member the paths reach is read
as the project it is (its own source roots and settings); ``messages`` merges the
events with paths from the run's root (one table per project), ``config`` prints the
top project's settings and lists each member with its config file and the values it
sets, pointing to ``config MEMBER`` for the whole of one."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from integ_lint.cli import main

BUS = """\
class Bus:
    def publish(self, name, data=None): ...
    def subscribe(self, name, handler): ...

{name} = Bus()
"""


def write(root: Path, files: dict[str, str]) -> None:
    for relpath, text in files.items():
        target = root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text), encoding="utf-8")


@pytest.fixture
def monorepo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two members each publishing and subscribing an event named ``close``; beta's
    bus has a name only its own config declares a bus; the top table names no bus."""
    write(
        tmp_path,
        {
            "pyproject.toml": '[tool.integ-lint]\nignore = ["IL103"]\n'
            '[tool.integ-lint.messages]\nbus-receivers = ["nothing"]\n',
            "tools/release.py": "import json\n",
            "packages/alpha/pyproject.toml": '[project]\nname = "alpha"\nversion = "0"\n'
            '[tool.setuptools.package-dir]\n"" = "src"\n',
            "packages/alpha/src/alpha_pkg/__init__.py": "",
            "packages/alpha/src/alpha_pkg/bus.py": BUS.format(name="event_bus"),
            "packages/alpha/src/alpha_pkg/shop.py": """\
                from alpha_pkg.bus import event_bus

                event_bus.publish("close", {"order": 1})
            """,
            "packages/alpha/src/alpha_pkg/mail.py": """\
                from alpha_pkg.bus import event_bus

                def on_close(data):
                    return data["order"]

                event_bus.subscribe("close", on_close)
            """,
            "packages/beta/pyproject.toml": '[project]\nname = "beta"\nversion = "0"\n'
            '[tool.integ-lint.messages]\nbus-receivers = ["hub"]\n',
            "packages/beta/beta_pkg/__init__.py": "",
            "packages/beta/beta_pkg/hubs.py": BUS.format(name="hub"),
            "packages/beta/beta_pkg/door.py": """\
                from beta_pkg.hubs import hub

                hub.publish("close", {"door": 2})

                def on_close(data):
                    return data["door"]

                hub.subscribe("close", on_close)
            """,
        },
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args: str) -> Result:
    result = CliRunner().invoke(main, [*args])
    assert result.exit_code == 0, result.output
    return result


def events(*args: str) -> dict[str, Any]:
    data = json.loads(invoke("messages", *args, "-j", "1", "--format", "json").stdout)
    return {row["event"]: row for row in data["events"]}


def test_messages_cover_every_member_with_its_own_settings(monorepo: Path) -> None:
    rows = events(".")
    # One event per project: the same name in two members is not one flow.
    assert sorted(rows) == ['"close"', 'packages/beta:"close"']
    alpha = rows['"close"']
    assert alpha["publishers"] == ["alpha_pkg.shop"]  # named from alpha's src/
    assert alpha["subscribers"] == ["alpha_pkg.mail"]
    assert alpha["sent"] == ["order"] and alpha["read"] == ["order"]
    assert alpha["sites"] == [
        "packages/alpha/src/alpha_pkg/shop.py:3 publish",
        "packages/alpha/src/alpha_pkg/mail.py:6 subscribe",
    ]
    beta = rows['packages/beta:"close"']  # found through beta's own bus-receivers
    assert beta["publishers"] == beta["subscribers"] == ["beta_pkg.door"]
    assert beta["sites"] == [
        "packages/beta/beta_pkg/door.py:3 publish",
        "packages/beta/beta_pkg/door.py:8 subscribe",
    ]


def test_messages_of_one_member_from_the_top(monorepo: Path) -> None:
    # The member's own pyproject.toml makes it the run's project (as for imports).
    rows = events("packages/beta")
    assert sorted(rows) == ['"close"']
    assert rows['"close"']["sites"][0] == "beta_pkg/door.py:3 publish"


def test_messages_table_has_a_section_per_project(monorepo: Path) -> None:
    text = invoke("messages", ".", "-j", "1").stdout
    assert "Message flow (.): no events found." in text
    assert "Message flow (packages/alpha)" in text
    assert "Message flow (packages/beta)" in text
    assert "alpha_pkg.shop" in text and "beta_pkg.door" in text


def test_messages_map_keeps_the_projects_apart(monorepo: Path) -> None:
    chart = invoke("messages", ".", "-j", "1", "--format", "mermaid").stdout
    assert "\"'close'\"" in chart and "\"packages/beta:'close'\"" in chart


def test_config_lists_each_member_with_what_it_sets(monorepo: Path) -> None:
    text = invoke("config").stdout
    assert f"# project root: {monorepo}" in text
    assert "bus-receivers = ['nothing']" in text  # the top project's, in full
    members = text[text.index("# monorepo members") :]
    assert "packages/alpha: packages/alpha/pyproject.toml (sets nothing: defaults)" in members
    assert "packages/beta: packages/beta/pyproject.toml (sets messages.bus-receivers)" in members
    assert "integ-lint config packages/alpha" in members


def test_config_json_has_each_member_in_full(monorepo: Path) -> None:
    data = json.loads(invoke("config", "--format", "json").stdout)
    assert data["values"]["ignore"] == ["IL103"]
    members = {m["project"]: m for m in data["members"]}
    assert sorted(members) == ["packages/alpha", "packages/beta"]
    beta = members["packages/beta"]
    assert beta["root"] == str(monorepo / "packages" / "beta")
    assert beta["config_file"] == str(monorepo / "packages" / "beta" / "pyproject.toml")
    assert beta["values"]["messages"]["bus-receivers"] == ["hub"]
    assert beta["sources"]["messages.bus-receivers"] == str(beta["config_file"])
    assert beta["values"]["ignore"] == []  # the top table does not reach the members


def test_config_of_a_member_is_that_member(monorepo: Path) -> None:
    text = invoke("config", "packages/beta").stdout
    assert f"# project root: {monorepo / 'packages' / 'beta'}" in text
    assert "bus-receivers = ['hub']" in text
    assert "# monorepo members" not in text
