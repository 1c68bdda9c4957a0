"""The fixed cost of a run that analyses one file (issue #21): such a run judges only
the node kinds it meets, imports without cyclic collections, prunes the cache from
the shards that changed, parses pyproject.toml once and opens one cache for a
pre-commit run's files, with the same answers as doing all of it every time."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import cast
from unittest import mock

import libcst as cst
import pytest

from integ_lint.engine.analysis import _WHITESPACE_NAMES, _Dispatcher, _Pruning
from integ_lint.facts.context import FileContext
from integ_lint.facts.positions import RECORDED_KINDS
from integ_lint.facts.syntax import kinds_inside, node_kinds

WANTED_SETS = [
    frozenset(),
    frozenset({"Call", "Name"}),
    frozenset({"Comma", "Attribute", "Integer"}),
    frozenset({"FunctionDef", "ClassDef", "Import", "SimpleString", "Subscript"}),
    frozenset({"Comment", "Call"}),  # whitespace wanted: nothing is left out
]


def _left_out_up_front(wanted: frozenset[str]) -> tuple[frozenset[type], frozenset[type]]:
    """The definition, judged for every kind LibCST exports: (never entered, only
    recorded)."""
    if wanted & _WHITESPACE_NAMES:
        return frozenset(), frozenset()
    left_out = []
    for kind in node_kinds():
        inside = kinds_inside(kind)
        if (
            inside is not None
            and kind.__name__ not in wanted
            and not any(k.__name__ in wanted or k in RECORDED_KINDS for k in inside)
        ):
            left_out.append(kind)
    return (
        frozenset(k for k in left_out if k not in RECORDED_KINDS),
        frozenset(k for k in left_out if k in RECORDED_KINDS),
    )


@pytest.mark.parametrize("wanted", WANTED_SETS, ids=lambda w: ",".join(sorted(w)) or "none")
def test_pruning_judges_each_kind_as_met_and_as_judging_every_kind_would(
    wanted: frozenset[str],
) -> None:
    skipped, recorded = _left_out_up_front(wanted)
    pruning = _Pruning(wanted)
    assert not pruning._left_out  # nothing judged before the walk asks
    # Asked one kind at a time (as the walk meets them), then as whole sets.
    for kind in [*node_kinds(), int, str]:
        assert (kind in pruning.skipped) == (kind in skipped), kind
        assert (kind in pruning.recorded) == (kind in recorded), kind
    assert set(pruning.skipped) == skipped and set(pruning.recorded) == recorded
    assert len(pruning.skipped) == len(skipped)
    if not wanted & _WHITESPACE_NAMES and "Comma" not in wanted:
        assert cst.Comma in pruning.skipped  # the oracle is not empty


class _Hooks(cst.BatchableCSTVisitor):
    def visit_If_body(self, node: cst.If) -> None:
        pass

    def visit_Call(self, node: cst.Call) -> None:
        pass


def test_dispatchers_of_the_same_visitors_share_what_their_methods_imply() -> None:
    context = cast(FileContext, mock.MagicMock())
    first = _Dispatcher(context, [_Hooks()], lambda v, e: None)
    second_visitor = _Hooks()
    second = _Dispatcher(context, [second_visitor], lambda v, e: None)
    assert first._attribute_hook_types == {"If"}
    assert second._attribute_hook_types is first._attribute_hook_types
    assert second._pruning is first._pruning and second._pruning.wanted == {"If", "Call"}
    # The methods are each file's own visitors'.
    assert [visitor for visitor, _ in second.table["visit_Call"]] == [second_visitor]
    # Other visitors, another wanted set: another layout.
    other = _Dispatcher(context, [_Hooks(), _Hooks()], lambda v, e: None, wanted=frozenset())
    assert other._pruning.wanted == frozenset() and len(other.table["visit_Call"]) == 2


def test_loading_a_rule_module_sets_off_no_cyclic_collection(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc
    import sys

    from integ_lint.engine.manifest import _load_attribute

    # A module whose import makes many container objects, as LibCST's does.
    (tmp_path / "_many_objects_rule.py").write_text(
        "TABLE = [{'index': i, 'pair': [i, i]} for i in range(20000)]\nclass Rule:\n    pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "_many_objects_rule", raising=False)
    collections: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    assert gc.isenabled()
    gc.callbacks.append(count)
    try:
        loaded = _load_attribute("_many_objects_rule", "Rule")
    finally:
        gc.callbacks.remove(count)
    assert loaded.__name__ == "Rule"
    assert collections == []
    assert gc.isenabled() and not gc.get_freeze_count()


def _settle(folder: Path) -> None:
    """The shards of ``folder`` changed in the last minute: last changed an hour ago
    (not racily changed)."""
    for shard in (folder / "v1").iterdir():
        if shard.is_dir() and shard.stat().st_mtime > time.time() - 60:
            os.utime(shard, (time.time() - 3600, time.time() - 3600))


def test_a_prune_reads_only_the_shards_changed_since_the_last_and_keeps_the_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from integ_lint.engine import cache as cache_module
    from integ_lint.engine.cache import FileCache

    folder = tmp_path / "c"
    cache = FileCache(folder, "ns", max_bytes=10**9, secret=b"k" * 32)
    for number in range(60):
        key = hashlib.sha256(str(number).encode()).hexdigest()
        assert cache.put_pickled(key, b"x" * 1000)
    _settle(folder)
    read: list[str] = []
    real_shard_size = cache_module._shard_size

    def counting(folder_path: str) -> tuple[int, bool]:
        read.append(Path(folder_path).name)
        return real_shard_size(folder_path)

    monkeypatch.setattr(cache_module, "_shard_size", counting)
    shards = sorted(p.name for p in (folder / "v1").iterdir() if p.is_dir())
    assert len(shards) > 30
    assert cache.prune() == 0
    assert sorted(read) == shards  # the first prune reads every shard
    _settle(folder)  # the sizes' own entry settles too
    read.clear()
    assert cache.prune() == 0
    # Only the shard of the sizes' entry, rewritten by the first prune, is read again.
    assert len(read) <= 1
    read.clear()
    # One entry written: its shard is read, the others' sizes are remembered, and the
    # total is still exact: a bound just below it prunes.
    key = "b" * 64
    assert cache.put_pickled(key, b"y" * 5000)
    assert cache.prune() == 0
    assert key[:2] in read and len(read) <= 2
    cache.max_bytes = cache.size() - 1
    assert cache.prune() > 0
    assert cache.size() <= int(cache.max_bytes * 0.8)


def test_importing_the_command_line_and_a_command_sets_off_almost_no_collection() -> None:
    import subprocess
    import sys

    code = (
        "import gc; started = []\n"
        "gc.callbacks.append(lambda p, i: started.append(i) if p == 'start' else None)\n"
        "import integ_lint.cli\n"
        "integ_lint.cli.main.commands['check']\n"
        "print(len(started), gc.isenabled(), gc.get_freeze_count())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    # Without the pause: about 40 (click and the engine make ~100k objects).
    assert int(out[0]) < 5, out
    assert out[1:] == ["True", "0"]


PYPROJECT = """\
[project]
name = "shop"

[tool.integ-lint]
select = ["IL1"]

[tool.importlinter]
root_package = "shop"

[[tool.importlinter.contracts]]
name = "orders never import billing"
type = "forbidden"
source_modules = ["shop.orders"]
forbidden_modules = ["shop.billing"]

[tool.setuptools.packages.find]
where = ["src"]
"""


def test_a_run_parses_the_projects_pyproject_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loader, import-linter's adopter and the layout each read pyproject.toml;
    the text is parsed once and each gets its own copy."""
    import tomllib
    from click.testing import CliRunner

    from integ_lint.cli import main
    from integ_lint.files import toml_text

    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "src" / "shop").mkdir(parents=True)
    for module in ("__init__", "orders", "billing"):
        (tmp_path / "src" / "shop" / f"{module}.py").write_text("import os\n")
    toml_text._parsed.cache_clear()
    parsed: list[str] = []
    real_loads = tomllib.loads

    def counting(text: str, **kwargs: object) -> dict[str, object]:
        parsed.append(text)
        return real_loads(text)

    monkeypatch.setattr(tomllib, "loads", counting)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "--no-cache", "-j", "1", "."])
    assert result.exit_code in (0, 1), result.output
    assert parsed.count(PYPROJECT) == 1
    first = toml_text.parse_toml(PYPROJECT)
    first["tool"]["integ-lint"]["select"].append("IL9")  # a caller changing its copy
    assert toml_text.parse_toml(PYPROJECT)["tool"]["integ-lint"]["select"] == ["IL1"]
    assert parsed.count(PYPROJECT) == 1
    with pytest.raises(toml_text.TOMLDecodeError):
        toml_text.parse_toml("[broken")
    with pytest.raises(toml_text.TOMLDecodeError):
        toml_text.parse_toml("[broken")


def test_an_entry_tag_is_the_hmac_of_its_payload_under_the_current_secret(
    tmp_path: Path,
) -> None:
    import hmac

    from integ_lint.engine.cache import TAG_SIZE, FileCache

    cache = FileCache(tmp_path / "c", "ns", max_bytes=1 << 20, secret=b"k" * 32)

    def expected(secret: bytes, payload: bytes) -> bytes:
        return hmac.new(secret, payload, hashlib.blake2b).digest()[:TAG_SIZE]

    for payload in (b"", b"x", os.urandom(700), os.urandom(5000)):
        assert cache._tag(payload) == expected(b"k" * 32, payload)
        assert cache._tag(memoryview(payload)) == expected(b"k" * 32, payload)
    cache.secret = b"j" * 32  # another key: tags under it, not the first one's
    assert cache._tag(b"abc") == expected(b"j" * 32, b"abc") != expected(b"k" * 32, b"abc")


def test_a_pre_commit_run_loads_the_folders_content_digests_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run over one named file analyses it with the rules and the rest of the
    project for facts: both look their files up through the cache the first opened
    (one load of the content digests, one key with the rules), with the same report
    as a run without the cache."""
    from click.testing import CliRunner

    from integ_lint.cli import main
    from integ_lint.engine.cache import FileCache

    (tmp_path / "pyproject.toml").write_text('[project]\nname = "shop"\n')
    package = tmp_path / "src" / "shop"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for number in range(6):
        (package / f"m{number}.py").write_text(
            f"import asyncio\n\n\nasync def f{number}():\n    await asyncio.sleep(1)\n"
        )
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    arguments = ["check", "-j", "1", "--format", "concise", "--no-progress"]
    assert runner.invoke(main, [*arguments, "."]).exit_code in (0, 1)
    (package / "m3.py").write_text(
        "import asyncio\n\n\nasync def g():\n    asyncio.run(asyncio.sleep(1))\n"
    )
    loads: list[int] = []
    real_load = FileCache._load_digests

    def counting(self: FileCache) -> dict[str, list[object]]:
        loads.append(id(self))
        return real_load(self)

    with monkeypatch.context() as patched:
        patched.setattr(FileCache, "_load_digests", counting)
        warm = runner.invoke(main, [*arguments, "src/shop/m3.py"])
    assert len(loads) == 1, loads
    cold = runner.invoke(main, [*arguments, "--no-cache", "src/shop/m3.py"])
    assert warm.exit_code == cold.exit_code and warm.stdout == cold.stdout
    assert "m3.py" in warm.stdout  # the loop run inside a coroutine is reported
