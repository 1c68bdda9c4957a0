"""Property test: on generated files full of imports, the collector never fails and
records one import per statement or literal dynamic import it generated."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integ_lint.config import load_config
from integ_lint.engine.analysis import analyze_file
from integ_lint.engine.discovery import SourceFile
from integ_lint.facts.imports import ImportFacts

NAMES = st.sampled_from(["a", "b", "pkg.mod", "é", "x.y.z", "os"])
STATEMENTS = st.one_of(
    st.builds(lambda n: f"import {n}", NAMES),
    st.builds(lambda n, a: f"import {n} as {a}", NAMES, st.sampled_from(["q", "r"])),
    st.builds(
        lambda dots, n, names: f"from {dots}{n} import {names}",
        st.sampled_from(["", ".", ".."]),
        NAMES,
        st.sampled_from(["x", "x, y", "(\n    x,\n    y as z,\n)", "*"]),
    ),
    st.builds(lambda n: f'importlib.import_module("{n}")', NAMES),
    st.builds(lambda n: f'x = "ü"; __import__("{n}")', NAMES),
    st.just("from . import sibling"),
    st.just("s = 'import a'  # import b"),
)
WRAPPERS = st.sampled_from(
    [
        "{s}",
        "if TYPE_CHECKING:\n    {s}",
        "try:\n    {s}\nexcept ImportError:\n    pass",
        "def f():\n    {s}",
        "class C:\n    {s}",
        "@deco\ndef g():\n    {s}",
    ]
)


def _indent(statement: str, wrapper: str) -> str:
    pad = "    " if "\n    {s}" in wrapper else ""
    return wrapper.format(s=statement.replace("\n", "\n" + pad))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(STATEMENTS, WRAPPERS), min_size=1, max_size=8))
def test_collector_is_robust(parts: list[tuple[str, str]]) -> None:
    source = "\n".join(_indent(s, w) for s, w in parts) + "\n"
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        path = root / "app" / "pkg" / "m.py"
        path.parent.mkdir(parents=True)
        path.write_text(source, encoding="utf-8")
        source_file = SourceFile(
            path=path, relpath="app/pkg/m.py", module="app.pkg.m", is_package_init=False
        )
        config = load_config([root])
        fast = analyze_file(source_file, config, [], [ImportFacts])
        assert not fast.notifications, (source, fast.notifications)
        assert ImportFacts.KEY in fast.facts, source


@pytest.mark.parametrize(
    "source", ["from .... import x\n", "import_module('')\n", "__import__(b'x')\n"]
)
def test_odd_imports_do_not_crash(tmp_path: Path, source: str) -> None:
    path = tmp_path / "m.py"
    path.write_text(source)
    result = analyze_file(
        SourceFile(path=path, relpath="m.py", module="m", is_package_init=False),
        load_config([tmp_path]),
        [],
        [ImportFacts],
    )
    assert not result.notifications
    assert ImportFacts.KEY in result.facts
