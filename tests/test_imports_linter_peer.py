"""integ-lint and import-linter agree on which imports break the same contracts.

import-linter (grimp) parses the source statically; it only needs the package to be
findable on ``sys.path``, which ``PYTHONPATH`` provides. The same contracts are
written in its INI format, and the set of offending first imports
``(importer, imported, line)`` of each contract is compared.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from collections import defaultdict
from pathlib import Path

import pytest

from integ_lint import api
from integ_lint.engine import RunOptions

pytest.importorskip("importlinter")

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "web_backend"
_LINK = re.compile(r"^-\s+(\S+) -> (\S+) \((l\.[\d, l.]+)\)\s*$")

Breaks = dict[str, set[tuple[str, str, int]]]


def lint_imports(config: str, src: Path, workdir: Path) -> Breaks:
    (workdir / ".importlinter").write_text(textwrap.dedent(config))
    executable = Path(sys.executable).parent / "lint-imports"
    command = [str(executable)] if executable.exists() else [shutil.which("lint-imports") or ""]
    result = subprocess.run(
        [*command, "--no-cache"],
        cwd=workdir,
        env={"PYTHONPATH": str(src), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode in (0, 1), result.stdout + result.stderr
    breaks: Breaks = defaultdict(set)
    text = (
        result.stdout.split("Broken contracts", 1)[-1]
        if "Broken contracts" in result.stdout
        else ""
    )
    lines = text.splitlines()
    contract = ""
    for index, line in enumerate(lines):
        if index + 1 < len(lines) and set(lines[index + 1].strip()) == {"-"} and line.strip():
            contract = line.strip()
            continue
        match = _LINK.match(line)
        if match:
            for number in re.findall(r"l\.(\d+)", match.group(3)):
                breaks[contract].add((match.group(1), match.group(2), int(number)))
    return dict(breaks)


def integ_lint_breaks(root: Path) -> Breaks:
    report = api.check([root], select=["IL102"], options=RunOptions(jobs=1))
    assert not report.notifications, [n.message for n in report.notifications]
    breaks: Breaks = defaultdict(set)
    for finding in report.findings:
        properties = finding.property_dict()
        chain = properties["chain"]
        breaks[properties["contract"]].add((chain[0], chain[1], finding.line))
    return dict(breaks)


def test_fixture_contracts_agree(tmp_path: Path) -> None:
    config = """\
        [importlinter]
        root_package = app
        include_external_packages = True

        [importlinter:contract:readonly]
        name = dashboard is read-only
        type = forbidden
        source_modules =
            app.dashboard
        forbidden_modules =
            app.drive
            requests

        [importlinter:contract:layers]
        name = layers
        type = layers
        layers =
            app.dashboard
            app.content
            app.core
        """
    theirs = lint_imports(config, FIXTURE / "src", tmp_path)
    ours = integ_lint_breaks(FIXTURE)
    assert theirs == ours
    assert sum(len(v) for v in ours.values()) == 4


def test_indirect_chains_containers_and_independence_agree(tmp_path: Path) -> None:
    project = tmp_path / "project"
    files = {
        "src/app/__init__.py": "",
        "src/app/web/__init__.py": "",
        "src/app/web/views.py": "from app.domain import model\n",
        "src/app/domain/__init__.py": "",
        "src/app/domain/model.py": "from app.helpers import util\n",
        "src/app/helpers/__init__.py": "",
        "src/app/helpers/util.py": "def f():\n    from app.web import views\nimport app.c\n",
        "src/app/infra/__init__.py": "",
        "src/app/infra/db.py": "from app.web.views import x\nfrom app.domain.model import y\n",
        "src/app/a/__init__.py": "from app.b import x\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import app.b\n",
        "src/app/b/__init__.py": "from app.helpers import util\n",
        "src/app/c/__init__.py": "",
    }
    for relpath, code in files.items():
        target = project / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(code)
    (project / "pyproject.toml").write_text(
        textwrap.dedent(
            """\
            [tool.integ-lint.boundaries]
            modules = ["app.*"]
            [[tool.integ-lint.boundaries.contracts]]
            name = "layered"
            type = "layers"
            containers = ["app"]
            layers = ["web", "domain", "infra"]
            [[tool.integ-lint.boundaries.contracts]]
            name = "independent"
            type = "independence"
            modules = ["app.a", "app.b", "app.c"]
            """
        )
    )
    config = """\
        [importlinter]
        root_package = app

        [importlinter:contract:1]
        name = layered
        type = layers
        containers = app
        layers =
            web
            domain
            infra

        [importlinter:contract:2]
        name = independent
        type = independence
        modules =
            app.a
            app.b
            app.c
        """
    theirs = lint_imports(config, project / "src", tmp_path)
    ours = integ_lint_breaks(project)
    assert theirs == ours
    assert ("app.domain.model", "app.helpers.util", 1) in ours["layered"]
    assert ("app.b", "app.helpers.util", 1) in ours["independent"]


def _project(root: Path, files: dict[str, str], contracts: str) -> Path:
    for relpath, code in files.items():
        target = root / "src" / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(code)
    (root / "pyproject.toml").write_text(textwrap.dedent(contracts))
    return root


def test_sibling_layers_and_chains_through_sources_agree(tmp_path: Path) -> None:
    project = _project(
        tmp_path / "project",
        {
            "app/__init__.py": "",
            "app/ui/__init__.py": "",
            "app/a/__init__.py": "from app.b import x\n",
            "app/b/__init__.py": "",
            "app/c/__init__.py": "from app.d import y\n",
            "app/d/__init__.py": "import app.ui\n",
            "app/s1/__init__.py": "import app.s2\n",
            "app/s2/__init__.py": "import app.m\n",
            "app/m/__init__.py": "import app.f\n",
            "app/f/__init__.py": "",
        },
        """\
        [[tool.integ-lint.boundaries.contracts]]
        name = "siblings"
        type = "layers"
        containers = ["app"]
        layers = ["ui", "a | b", "c : d"]
        [[tool.integ-lint.boundaries.contracts]]
        name = "forb"
        type = "forbidden"
        source_modules = ["app.s1", "app.s2"]
        forbidden_modules = ["app.f"]
        """,
    )
    config = """\
        [importlinter]
        root_package = app

        [importlinter:contract:1]
        name = siblings
        type = layers
        containers = app
        layers =
            ui
            a | b
            c : d

        [importlinter:contract:2]
        name = forb
        type = forbidden
        source_modules =
            app.s1
            app.s2
        forbidden_modules =
            app.f
        """
    theirs = lint_imports(config, project / "src", tmp_path)
    ours = integ_lint_breaks(project)
    assert theirs == ours
    assert ours["forb"] == {("app.s1", "app.s2", 1), ("app.s2", "app.m", 1)}
