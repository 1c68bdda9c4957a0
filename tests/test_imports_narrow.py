"""``integ-lint imports SUBFOLDER``: the whole project is read (imports of other modules
still resolve), and the view shows the given paths' modules with the edges into and
out of them."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from integ_lint.cli import main

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "web_backend"


def edges(*args: str) -> set[tuple[str, str]]:
    result = CliRunner().invoke(main, ["imports", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    return {(e["source"], e["target"]) for e in data["edges"]}


def test_a_subfolder_shows_its_edges_in_and_out_of_the_whole_project() -> None:
    everything = edges(str(FIXTURE))
    auth = edges(str(FIXTURE / "src" / "app" / "auth"))
    assert auth == {(a, b) for a, b in everything if "app.auth" in (a, b)}
    assert auth and auth != everything


def test_at_module_level_a_parent_package_is_not_part_of_the_subfolder(tmp_path: Path) -> None:
    files = {
        "app/__init__.py": "import app.util\n",
        "app/util.py": "",
        "app/auth/__init__.py": "",
        "app/auth/api.py": "import app.util\n",
    }
    for relpath, text in files.items():
        (tmp_path / relpath).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relpath).write_text(text)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\n')
    shown = edges(str(tmp_path / "app" / "auth"), "--level", "module")
    assert shown == {("app.auth.api", "app.util")}
