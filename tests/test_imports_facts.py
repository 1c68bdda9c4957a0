"""ImportFacts: every import with its position, scope and kind, as picklable records."""

from __future__ import annotations

import pickle
import textwrap
from pathlib import Path

from integ_lint.config import load_config
from integ_lint.engine.analysis import analyze_file
from integ_lint.engine.discovery import SourceFile
from integ_lint.facts.imports import ImportFacts, ImportFactsValue, ImportRecord

SOURCE = """
import os, app.core.bus as bus
from . import sibling
from ..other import thing as t
from .sub.mod import *
from __future__ import annotations
from typing import TYPE_CHECKING
import typing
import importlib
from importlib import import_module

if TYPE_CHECKING:
    from app.auth.schemas import User
else:
    import app.real
if typing.TYPE_CHECKING:
    import app.typed

try:
    import orjson
except ImportError:
    orjson = None

try:
    import app.not_guarded
except ValueError:
    pass


class Service:
    import app.class_level

    def run(self) -> None:
        from app.drive import api
        importlib.import_module("app.drive.services")
        import_module(".jobs", package="app.sync")
        import_module("..up", package="app.sync.deep")
        __import__("app.legacy")
        importlib.import_module(f"app.{self}.api")
        importlib.import_module(NAME)
        importlib.import_module("not a module")


__all__ = ["Service", "thing"]
"""


def _facts(
    tmp_path: Path, relpath: str = "app/pkg/mod.py", module: str = "app.pkg.mod"
) -> ImportFactsValue:
    path = tmp_path / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(SOURCE).lstrip("\n"))
    config = load_config([tmp_path])
    result = analyze_file(
        SourceFile(path=path, relpath=relpath, module=module, is_package_init=False),
        config,
        [],
        [ImportFacts],
    )
    assert not result.notifications, result.notifications
    value = result.facts[ImportFacts.KEY]
    assert isinstance(value, ImportFactsValue)
    return value


def _by_module(value: ImportFactsValue) -> dict[str, ImportRecord]:
    return {r.module: r for r in value.imports}


def test_absolute_relative_and_star(tmp_path: Path) -> None:
    value = _facts(tmp_path)
    records = _by_module(value)
    assert records["os"].line == 1 and records["os"].col == 1
    assert records["app.core.bus"].names == ()
    assert records["app.pkg"].names == ("sibling",) and records["app.pkg"].level == 1
    assert records["app.other"].names == ("thing",) and records["app.other"].level == 2
    assert records["app.pkg.sub.mod"].star
    assert "__future__" not in records
    assert all(not r.lazy for r in (records["os"], records["app.pkg"]))


def test_type_checking_guarded_lazy(tmp_path: Path) -> None:
    records = _by_module(_facts(tmp_path))
    assert records["app.auth.schemas"].type_checking
    assert records["app.auth.schemas"].kind == "type-checking"
    assert not records["app.real"].type_checking  # the else branch runs
    assert records["app.typed"].type_checking
    assert records["orjson"].guarded and not records["orjson"].lazy
    assert not records["app.not_guarded"].guarded
    assert (
        not records["app.class_level"].lazy and records["app.class_level"].site.scope == "Service"
    )
    api = records["app.drive"]
    assert api.lazy and api.kind == "lazy" and api.names == ("api",)
    assert api.site.scope == "Service.run"
    assert api.site.snippet == "from app.drive import api"
    assert api.line == 33


def test_dynamic_imports_with_literals_only(tmp_path: Path) -> None:
    records = _by_module(_facts(tmp_path))
    dynamic = sorted(r.module for r in records.values() if r.dynamic)
    assert dynamic == ["app.drive.services", "app.legacy", "app.sync.jobs", "app.sync.up"]
    services = records["app.drive.services"]
    assert services.kind == "dynamic" and services.lazy and services.line == 34
    assert services.col == 9


def test_all_names_and_pickle(tmp_path: Path) -> None:
    value = _facts(tmp_path)
    assert value.all_names == ("Service", "thing")
    assert pickle.loads(pickle.dumps(value)) == value


def test_relative_import_in_package_init(tmp_path: Path) -> None:
    path = tmp_path / "app" / "pkg" / "__init__.py"
    path.parent.mkdir(parents=True)
    path.write_text("from . import api\nfrom .. import core\n")
    result = analyze_file(
        SourceFile(
            path=path, relpath="app/pkg/__init__.py", module="app.pkg", is_package_init=True
        ),
        load_config([tmp_path]),
        [],
        [ImportFacts],
    )
    records = result.facts[ImportFacts.KEY].imports
    assert [(r.module, r.names) for r in records] == [("app.pkg", ("api",)), ("app", ("core",))]


POSITIONS = '''\
"""Docs mention import os and importlib.import_module("app.x")."""
s = "héllo"; import os
from app.pkg import (
    a,
    b as c,
)

@register(importlib.import_module("app.deco"))
def f():
    importlib.import_module("app.x"); import os
'''


def test_positions_of_imports(tmp_path: Path) -> None:
    path = tmp_path / "app" / "m.py"
    path.parent.mkdir(parents=True)
    path.write_text("import importlib\n" + POSITIONS, encoding="utf-8")

    def run() -> ImportFactsValue:
        result = analyze_file(
            SourceFile(path=path, relpath="app/m.py", module="app.m", is_package_init=False),
            load_config([tmp_path]),
            [],
            [ImportFacts],
        )
        value = result.facts[ImportFacts.KEY]
        assert isinstance(value, ImportFactsValue)
        return value

    fast = run()
    spans = [(r.module, r.line, r.col) for r in fast.imports]
    assert spans == [
        ("importlib", 1, 1),
        ("os", 3, 14),
        ("app.pkg", 4, 1),
        ("app.deco", 9, 11),
        ("app.x", 11, 5),
        ("os", 11, 39),
    ]
    assert fast.imports[2].site.span.end_line == 7


STATEMENTS_ONLY = """\
import a
class C:
    import b
    def f(self):
        try:
            import c
        except ImportError:
            import d
        else:
            import e
        finally:
            import f
        with open(x):
            if y:
                pass
            elif z:
                from . import g
        match q:
            case 1:
                import h
import a
"""


def test_positions_of_nested_imports(tmp_path: Path) -> None:
    path = tmp_path / "app" / "m.py"
    path.parent.mkdir(parents=True)
    path.write_text(STATEMENTS_ONLY)

    def run() -> ImportFactsValue:
        result = analyze_file(
            SourceFile(path=path, relpath="app/m.py", module="app.m", is_package_init=False),
            load_config([tmp_path]),
            [],
            [ImportFacts],
        )
        value = result.facts[ImportFacts.KEY]
        assert isinstance(value, ImportFactsValue)
        return value

    fast = run()
    assert [r.line for r in fast.imports] == [1, 3, 6, 8, 10, 12, 17, 20, 21]
