"""The built-in pack's manifest (integ_lint/engine/manifest.py): it is what the classes
say, a stale one is ignored, and a run served by the cache imports no rule, no LibCST
and no networkx."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from integ_lint.engine.manifest import (
    MANIFEST_NAME,
    CollectorHandle,
    RuleHandle,
    manifest_text,
    read_manifest,
)
from integ_lint.engine.registry import (
    BUILTIN_PACK,
    builtin_manifest,
    builtin_pack_dir,
    import_builtin_pack,
    load_registry,
)

REPO = Path(__file__).resolve().parent.parent
REGENERATE = f"{sys.executable} -m integ_lint.engine.registry"


def test_the_shipped_manifest_is_what_the_classes_say() -> None:
    path, data = builtin_manifest()
    assert path.read_text(encoding="utf-8") == manifest_text(data), (
        f"{path} is stale: a rule module changed; regenerate it with `{REGENERATE}`"
    )


def test_every_handle_answers_as_its_class() -> None:
    manifest = read_manifest(BUILTIN_PACK, builtin_pack_dir())
    assert manifest is not None, f"the manifest is stale: `{REGENERATE}`"
    handles, sections = manifest
    classes = import_builtin_pack()
    assert sections == classes.sections
    assert sorted(h.code for h in handles) == classes.codes
    for handle in handles:
        rule = classes.rules[handle.code]
        assert handle.info() == rule.info()
        assert handle.kind() == rule.kind()
        assert (handle.roles, handle.default_enabled) == (rule.roles, rule.default_enabled)
        assert (handle.__module__, handle.__qualname__) == (rule.__module__, rule.__qualname__)
        facts = getattr(rule, "FACTS", ())
        assert [(c.KEY, c.__module__, c.__qualname__) for c in handle.FACTS] == [
            (c.KEY, c.__module__, c.__qualname__) for c in facts
        ]
        assert handle.load() is rule
        assert [c.load() for c in handle.FACTS] == list(facts)
        assert pickle.loads(pickle.dumps(handle)) is rule  # spawned workers get the class


def test_a_stale_manifest_is_ignored(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(builtin_pack_dir(), pack, ignore=shutil.ignore_patterns("__pycache__"))
    assert read_manifest(BUILTIN_PACK, pack) is not None
    module = pack / "suppressions.py"
    module.write_text(module.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert read_manifest(BUILTIN_PACK, pack) is None  # the registry imports the pack
    (pack / MANIFEST_NAME).write_text("{not json", encoding="utf-8")
    assert read_manifest(BUILTIN_PACK, pack) is None
    (pack / MANIFEST_NAME).unlink()
    assert read_manifest(BUILTIN_PACK, pack) is None


def test_a_handle_that_names_another_class_fails_loudly() -> None:
    handle = CollectorHandle("not-the-key", "integ_lint.facts.imports", "ImportFacts")
    with pytest.raises(ImportError, match="regenerate"):
        handle.load()


def test_the_registry_imports_a_rule_only_when_asked_for_its_class() -> None:
    registry = load_registry()
    ref = registry.ref("IL102")
    if isinstance(ref, RuleHandle):  # the manifest is current
        assert ref.info().code == "IL102"
        rule = registry.rules["IL102"]  # every rule, imported
        assert registry.ref("IL102") is rule
    assert registry.rules["IL102"].code == "IL102"


_PROBE = """
import sys
from integ_lint.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
heavy = sorted(
    name for name in ("libcst", "networkx", "integ_lint.rule", "integ_lint.rules.boundaries")
    if name in sys.modules
)
print("IMPORTED", ",".join(heavy), file=sys.stderr)
"""


def _frozen_copy(where: Path, stale_manifest: bool = False) -> dict[str, str]:
    """The environment of a copy of integ-lint (the pack inside, as installed), with its
    manifest regenerated: the cache keys stamp integ-lint's own files, which a checkout
    being edited changes between two runs. ``stale_manifest``: then a rule module
    edited, as in a checkout where the manifest was not regenerated."""
    site = where / "site"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REPO / "integ_lint", site / "integ_lint", ignore=ignore)
    shutil.copytree(REPO / "rules", site / "integ_lint" / "rules", ignore=ignore)
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTEG_LINT_")}
    env["PYTHONPATH"] = str(site)
    env["INTEG_LINT_CACHE_KEY_FILE"] = str(where / "cache-key")
    subprocess.run(
        [sys.executable, "-m", "integ_lint.engine.registry"],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    if stale_manifest:
        module = site / "integ_lint" / "rules" / "suppressions.py"
        module.write_text(module.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    return env


def _run(project: Path, env: dict[str, str], *args: str) -> tuple[str, str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, "check", "--format", "json", "--no-progress", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    imported = [line for line in done.stderr.splitlines() if line.startswith("IMPORTED")]
    assert imported, done.stderr
    return done.stdout, imported[-1].removeprefix("IMPORTED").strip()


def _without_timing(report: str) -> object:
    data = json.loads(report)
    data["summary"].pop("elapsed_seconds", None)
    return data


@pytest.mark.parametrize(
    ("args", "stale_manifest"),
    [((), False), (("--select", "IL1,IL101,IL103"), False), ((), True)],
)
def test_a_warm_run_imports_no_rule_no_libcst_no_networkx(
    tmp_path: Path, args: tuple[str, ...], stale_manifest: bool
) -> None:
    """With the shipped manifest current; and stale, when the first run (which imports
    the pack) keeps a manifest in the user's cache folder for the next."""
    env = _frozen_copy(tmp_path, stale_manifest)
    project = tmp_path / "training_app"
    shutil.copytree(
        REPO / "fixtures" / "training_app",
        project,
        ignore=shutil.ignore_patterns(".integ-lint-cache", "__pycache__"),
    )
    cold, imported_cold = _run(project, env, "--exit-zero", *args)
    assert "libcst" in imported_cold  # the files were analysed
    warm, imported_warm = _run(project, env, "--exit-zero", *args)
    assert imported_warm == ""
    assert _without_timing(warm) == _without_timing(cold)
    assert json.loads(warm)["findings"]  # the findings come from the cache and the memo
    assert (tmp_path / "rule-manifest.json").exists() == stale_manifest
