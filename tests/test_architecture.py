"""docs/architecture.md matches the code: its layer table is the ``layers`` contract
of pyproject.toml (which ``.ci/self-check`` enforces with integ-lint itself), it names
every module of every package, the Mermaid picture names every package, and each
package's ``__init__`` docstring says what the package may import."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from integ_lint.config.loader import tomllib

REPO = Path(__file__).resolve().parents[1]
DOC = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
PACKAGES = sorted(p.name for p in (REPO / "integ_lint").iterdir() if (p / "__init__.py").is_file())


def layer_table() -> list[tuple[str, str]]:
    """(package, job) for each row of the table, top layer first."""
    rows = []
    for line in DOC.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[1].startswith("`integ_lint."):
            rows.append((cells[1].split("`")[1], cells[2]))
    return rows


def contract_layers() -> list[str]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["integ-lint"]["boundaries"]["contracts"]
    (layers,) = [c["layers"] for c in contracts if c["type"] == "layers"]
    return list(layers)


def test_the_table_is_the_layers_contract_in_order() -> None:
    # rules/ is scanned under its folder's name (see pyproject.toml)
    table = ["rules" if name == "integ_lint.rules" else name for name, _ in layer_table()]
    assert table == contract_layers()


def test_the_table_names_every_package_and_module() -> None:
    rows = dict(layer_table())
    for package in PACKAGES:
        job = rows[f"integ_lint.{package}"]
        named = set(re.findall(r"`([\w/]+)`", job))
        modules = {
            p.stem if p.is_file() else f"{p.name}/"
            for p in (REPO / "integ_lint" / package).iterdir()
            if (p.suffix == ".py" and p.stem != "__init__")
            or (p.is_dir() and (p / "__init__.py").is_file())
        }
        assert modules <= named, f"integ_lint.{package}: {sorted(modules - named)} not in the table"


def test_the_picture_names_every_package() -> None:
    picture = DOC.split("```mermaid", 1)[1].split("```", 1)[0]
    assert DOC.lstrip().startswith("# Architecture\n\n```mermaid")
    for package in [*PACKAGES, "rules", "rule", "api"]:
        assert f"integ_lint.{package}" in picture, package


def test_each_package_says_what_it_may_import() -> None:
    for package in PACKAGES:
        init = REPO / "integ_lint" / package / "__init__.py"
        docstring = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert "May import" in docstring, package
