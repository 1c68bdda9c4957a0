"""IL301-IL303: the schema table, receiver resolution and the findings, on small
projects written to a temporary directory."""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from integ_lint import api
from integ_lint.config import ConfigError
from integ_lint.engine import RunOptions
from integ_lint.facts.schemas import SchemaFacts
from integ_lint.findings.fixes import fix_files

Row = tuple[str, int, str]


def write(root: Path, files: dict[str, str], config: str = "") -> None:
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "example"\nversion = "0"\n\n[tool.integ-lint]\n'
        f'select = ["IL3", "IL302"]\n{textwrap.dedent(config)}\n'
    )
    for relpath, code in files.items():
        target = root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(code).lstrip("\n"))


def scan(root: Path, options: RunOptions | None = None) -> api.Report:
    report = api.check(
        [root], config_file=root / "pyproject.toml", options=options or RunOptions(jobs=1)
    )
    assert not report.incomplete, [n.message for n in report.notifications]
    return report


def rows(report: api.Report) -> list[Row]:
    return [(f.path, f.line, f.code) for f in report.findings]


KINDS = """
import dataclasses
from dataclasses import dataclass, field
from typing import NamedTuple, TypedDict

import attr
import attrs
import pydantic as pd
from attrs import define, frozen
from pydantic import BaseModel as BM, Field
from pydantic_settings import BaseSettings


class PydConfig(BM):
    a: int = 1

class AliasConfig(pd.BaseModel):
    a: int = Field(2)

class EnvSettings(BaseSettings):
    a: int = Field(default=3)

@dataclass(frozen=True)
class DcConfig:
    a: int = field(default=4)

@dataclasses.dataclass
class Dc2Config:
    a: list = field(default_factory=list)

@attr.s
class AttrsConfig:
    a = attr.ib(default=6)

@attr.attrs(auto_attribs=True)
class Attrs2Config:
    a: int = 7

@attrs.define
class Attrs3Config:
    a: int = attrs.field(default=8)

@define
class Attrs4Config:
    a: int = 9

@frozen
class Attrs5Config:
    a: int = 10

class TdConfig(TypedDict):
    a: int

class NtConfig(NamedTuple):
    a: int = 12
"""


def test_every_schema_kind_is_recognised(tmp_path: Path) -> None:
    names = [
        ("PydConfig", "1"),
        ("AliasConfig", "2"),
        ("EnvSettings", "3"),
        ("DcConfig", "4"),
        ("Dc2Config", "[]"),
        ("AttrsConfig", "6"),
        ("Attrs2Config", "7"),
        ("Attrs3Config", "8"),
        ("Attrs4Config", "9"),
        ("Attrs5Config", "10"),
        ("NtConfig", "12"),
    ]
    use = ["from pkg.kinds import *", ""]
    for cls, _ in names:
        use += [
            f"def f_{cls}(c: {cls}) -> None:",
            '    getattr(c, "b", 0)',
            '    getattr(c, "a", 99)',
        ]
    use += ["def f_td(c: TdConfig) -> None:", '    c.get("b", 0)', '    c.get("a", 99)']
    write(
        tmp_path,
        {"pkg/__init__.py": "", "pkg/kinds.py": KINDS, "pkg/use.py": "\n".join(use) + "\n"},
    )
    report = scan(tmp_path)
    got = rows(report)
    expected = []
    line = 3
    for _ in [*names, ("TdConfig", "")]:
        expected.append(("pkg/use.py", line + 1, "IL301"))
        expected.append(("pkg/use.py", line + 2, "IL303"))
        line += 3
    # The TypedDict has no default for "a": its .get is redundant (total TypedDict).
    expected[-1] = ("pkg/use.py", line - 1, "IL302")
    assert got == expected
    drift = {f.line: f for f in report.findings if f.code == "IL303"}
    for (cls, default), finding in zip(names, sorted(drift.values(), key=lambda f: f.line)):
        assert f"default {default} declared in {cls}.a" in finding.message


def test_plain_classes_and_non_config_schemas_stay_silent(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/m.py": """
                from dataclasses import dataclass

                class PlainConfig:  # not a schema class: no base, no decorator
                    def __init__(self) -> None:
                        self.a = 1

                @dataclass
                class StepResult:  # a schema class, but not a config schema
                    reward: float = 0.0

                def f(c: PlainConfig, r: StepResult) -> None:
                    getattr(c, "b", 0)
                    getattr(r, "done", False)
                    getattr(r, "reward", 0.0)
            """,
        },
    )
    assert rows(scan(tmp_path)) == []


def test_inheritance_nesting_reexports_and_unwrapping(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pkg/__init__.py": "from .schema import AppConfig as AppConfig\n",
            "pkg/base.py": """
                from pydantic import BaseModel

                class Base(BaseModel):
                    seed: int = 42
            """,
            "pkg/schema.py": """
                from typing import Annotated, Optional, Union

                from pydantic import Field

                from .base import Base

                class Evaluation(Base):  # no config-like name: reachable from AppConfig
                    num_games: int = 20

                class Parallel(Base):
                    workers: int = 4

                class AppConfig(Base):
                    evaluation: Optional[Evaluation] = None
                    parallel: Annotated[Union[Parallel, None], Field(description="x")] = None
                    extra: "Evaluation | None" = None
            """,
            "pkg/use.py": """
                from pkg import AppConfig

                def f(config: AppConfig) -> None:
                    getattr(config.evaluation, "seed", 0)
                    getattr(config.parallel, "workerz", 1)
                    getattr(config.extra, "num_games", 20)
                    getattr(config, "seed", 42)
            """,
        },
    )
    report = scan(tmp_path)
    assert rows(report) == [
        ("pkg/use.py", 4, "IL303"),
        ("pkg/use.py", 5, "IL301"),
        ("pkg/use.py", 6, "IL302"),
        ("pkg/use.py", 7, "IL302"),
    ]
    gap = report.findings[1]
    assert "Parallel (pkg/schema.py:10)" in gap.message
    assert "did you mean 'workers'?" in gap.message
    drift = report.findings[0]
    assert drift.related and drift.related[0].path == "pkg/base.py"
    assert drift.related[0].span.start_line == 4


def test_resolution_order(tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/schema.py": """
                from pydantic import BaseModel

                class TrainingConfig(BaseModel):
                    lr: float = 0.1

                class AppConfig(BaseModel):
                    training: TrainingConfig = TrainingConfig()

                def load() -> AppConfig:
                    return AppConfig()
            """,
        "pkg/use.py": """
                from pkg import schema
                from pkg.schema import AppConfig, TrainingConfig, load

                class Manager:
                    training: TrainingConfig

                    def __init__(self, config: AppConfig) -> None:
                        self.config = config
                        self.training = config.training
                        self.other = self.config.training

                    def run(self, thing) -> None:
                        getattr(self.training, "lr", 0.1)  # 1: class annotation
                        getattr(self.config.training, "lr", 0.1)  # 2: field chain
                        getattr(self.other, "lr", 0.1)  # 3: assigned from a chain
                        loaded = load()
                        getattr(loaded, "lr", 0.1)  # 1: return type, AppConfig has no lr
                        getattr(schema.load().training, "lr", 0.1)  # module attribute call
                        made = AppConfig.model_validate({})
                        getattr(made.training, "lr", 0.1)
                        getattr(thing, "lr", 0.1)  # unknown, no config-like name
                        opts = thing
                        getattr(opts, "lr", 0.1)  # 4: name match (opt-in)
            """,
    }
    write(tmp_path, files)
    report = scan(tmp_path)
    resolved = [
        ("pkg/use.py", 13, "IL302"),
        ("pkg/use.py", 14, "IL302"),
        ("pkg/use.py", 15, "IL302"),
        ("pkg/use.py", 17, "IL301"),
        ("pkg/use.py", 18, "IL302"),
        ("pkg/use.py", 20, "IL302"),
    ]
    assert rows(report) == resolved
    assert [f.property_dict()["precision"] for f in report.findings] == ["high"] * 6
    assert all(f.fix is not None for f in report.findings[:3])
    write(tmp_path, files, "[tool.integ-lint.config-schema]\nname-match = true\n")
    report = scan(tmp_path)
    assert rows(report) == [*resolved, ("pkg/use.py", 23, "IL302")]
    assert report.findings[-1].property_dict()["precision"] == "medium"
    assert report.findings[-1].fix is None  # a name match is never fixed


def test_name_match_lists_schemas_and_is_medium_precision_in_sarif(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/schema.py": """
                from dataclasses import dataclass

                @dataclass
                class ACfg:
                    size: int = 1

                @dataclass
                class BCfg:
                    size: int = 2
            """,
            "pkg/use.py": """
                def f(cfg, hparams) -> None:
                    getattr(cfg, "size", 3)
                    getattr(hparams, "sise", 1)
            """,
        },
        "[tool.integ-lint.config-schema]\nname-match = true\n",
    )
    report = scan(tmp_path)
    assert rows(report) == [("pkg/use.py", 2, "IL303"), ("pkg/use.py", 3, "IL301")]
    drift, gap = report.findings
    assert "ACfg.size" in drift.message and "BCfg.size" in drift.message
    assert "name match on 'cfg'" in drift.message
    assert len(drift.related) == 2
    assert "name match on 'hparams'" in gap.message and "searched 2" in gap.message
    assert "did you mean 'size' (ACfg, BCfg)?" in gap.message
    sarif = json.loads(api.render(report, "sarif"))
    results = sarif["runs"][0]["results"]
    assert [r["properties"]["precision"] for r in results] == ["medium", "medium"]


def test_settings_patterns_and_bases(tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/schema.py": """
            from framework import Configurable

            class Knobs(Configurable):
                speed: int = 1
        """,
        "pkg/use.py": """
            from pkg.schema import Knobs

            def f(knobs: Knobs, dials) -> None:
                getattr(knobs, "sped", 1)
                getattr(dials, "sped", 1)
        """,
    }
    write(tmp_path, files)
    assert rows(scan(tmp_path)) == []
    write(
        tmp_path,
        files,
        """
        [tool.integ-lint.config-schema]
        schema-bases = ["framework.Configurable"]
        schema-patterns = ["Knobs"]
        receiver-patterns = ["dials"]
        name-match = true
        """,
    )
    assert rows(scan(tmp_path)) == [("pkg/use.py", 4, "IL301"), ("pkg/use.py", 5, "IL301")]


def test_bad_setting_is_a_one_line_error(tmp_path: Path) -> None:
    write(tmp_path, {"a.py": ""}, "[tool.integ-lint.config-schema]\nschema-patterns = 3\n")
    with pytest.raises(ConfigError) as info:
        scan(tmp_path)
    assert "schema-patterns" in str(info.value) and "\n" not in str(info.value)


def test_report_paths_limit_findings_but_not_the_index(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/schema.py": """
                from pydantic import BaseModel

                class AppConfig(BaseModel):
                    a: int = 1
            """,
            "pkg/one.py": """
                from pkg.schema import AppConfig

                def f(config: AppConfig) -> None:
                    getattr(config, "b", 1)
            """,
            "pkg/two.py": """
                from pkg.schema import AppConfig

                def f(config: AppConfig) -> None:
                    getattr(config, "c", 1)
            """,
        },
    )
    report = scan(tmp_path, RunOptions(jobs=1, report_paths={"pkg/two.py"}))
    assert rows(report) == [("pkg/two.py", 4, "IL301")]


def test_silent_shapes(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/schema.py": """
                from pydantic import BaseModel

                class AppConfig(BaseModel):
                    a: int = 1
            """,
            "pkg/use.py": """
                import importlib
                import os

                from pkg.schema import AppConfig

                def f(config: AppConfig, name: str, plugin: object, *args: object) -> None:
                    getattr(config, name, 1)  # computed name
                    getattr(config, "a")  # no fallback: raises
                    getattr(config, "__dict__", None)  # dunder
                    getattr(config, "model_dump", None)  # pydantic API
                    getattr(*args)
                    getattr(config, "not-an-identifier", 1)
                    hasattr(plugin, "on_step")
                    os.environ.get("LOCAL_RANK")
                    getattr(importlib.import_module("x"), name)
                    config.get("a", 1)  # .get on a model is not a mapping read
                    state = {"timestep": 1}
                    state.get("timestep", 0)
                    opts = ["--verbose"]
                    if "--verbose" in opts:  # a list under a config-like name
                        pass
                    options = {"fast", "slow"}
                    "medium" in options

                def h() -> int:
                    from django.conf import settings

                    return getattr(settings, "MY_FEATURE", 1)  # a library's settings object

                def g(getattr, config: AppConfig) -> None:
                    getattr(config, "zzz", 1)  # a shadowed getattr
            """,
        },
    )
    assert rows(scan(tmp_path)) == []


def test_facts_are_picklable_and_config_independent(tmp_path: Path) -> None:
    from integ_lint.engine.analysis import analyze_file
    from integ_lint.engine.discovery import SourceFile
    from integ_lint.facts.schemas import SchemaFactCollector

    source = tmp_path / "m.py"
    source.write_text(
        "from pydantic import BaseModel\n\n"
        "class AConfig(BaseModel):\n    a: int = 1\n\n"
        "def f(cfg: AConfig) -> int:\n    return getattr(cfg, 'a', 2)\n"
    )
    results = []
    for config in ("", '[tool.integ-lint.config-schema]\nschema-patterns = ["X"]\n'):
        write(tmp_path, {}, config)
        loaded = api.load([tmp_path], tmp_path / "pyproject.toml")
        sf = SourceFile(path=source, relpath="m.py", module="m", is_package_init=False)
        result = analyze_file(sf, loaded, [], [SchemaFactCollector])
        assert not result.notifications
        results.append(result.facts["config-schema"])
    assert results[0] == results[1]
    facts = pickle.loads(pickle.dumps(results[0]))
    assert isinstance(facts, SchemaFacts)
    assert [c.name for c in facts.classes] == ["AConfig"]
    assert facts.sites[0].fix is not None and facts.sites[0].fix.replacement == "cfg.a"


def test_unparsable_and_odd_files_do_not_crash(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/odd.py": """
                from pydantic import BaseModel

                class Loop(Loop):
                    x: "not valid ]" = 1

                class AConfig(BaseModel, metaclass=type):
                    (a) = 1
                    b, c = 1, 2
                    d: int = ...

                def f(cfg: "AConfig[") -> None:
                    getattr(cfg, "a", *())
                    getattr(cfg, "d", lambda: 1)
                    (lambda cfg: getattr(cfg, "q", 1))(None)
                    with open("x") as cfg:
                        getattr(cfg, "zz", 1)
            """,
        },
    )
    report = api.check([tmp_path], config_file=tmp_path / "pyproject.toml", jobs=1)
    assert not report.incomplete, [n.message for n in report.notifications]
    assert {f.code for f in report.findings} <= {"IL301", "IL302"}


def test_post_init_attributes_and_class_annotations_of_plain_classes(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/m.py": """
                from dataclasses import dataclass

                @dataclass
                class RunConfig:
                    name: str = "run"

                    def __post_init__(self) -> None:
                        self.slug = self.name.lower()

                class Holder:
                    cfg: RunConfig

                    def use(self) -> None:
                        getattr(self.cfg, "slug", "")  # set in __post_init__: declared
                        getattr(self.cfg, "nmae", "")  # resolved by the class annotation
            """,
        },
    )
    report = scan(tmp_path)
    assert rows(report) == [("pkg/m.py", 14, "IL302"), ("pkg/m.py", 15, "IL301")]
    assert report.findings[1].property_dict()["precision"] == "high"


def test_mapping_name_matches_use_mapping_schemas_and_cycles_terminate(tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/schema.py": """
            from dataclasses import dataclass

            @dataclass
            class RunParams:
                name: str = "run"
        """,
        "pkg/use.py": """
            import tomllib

            def read(path: str) -> object:
                config = tomllib.load(open(path, "rb"))
                if "pytest" in config:  # a raw mapping, not a RunParams
                    return config.get("tool", {})
                return None

            class Chain:
                def __init__(self, cfg) -> None:
                    self.cfg = cfg
                    self.cfg = self.cfg.inner  # a cycle through the same attribute
                    self.a = self.b.x
                    self.b = self.a.y

                def run(self) -> None:
                    getattr(self.cfg, "nmae", "")
                    getattr(self.a, "z", 1)
        """,
    }
    config = '[tool.integ-lint.config-schema]\nname-match = true\nschema-patterns = ["*Params"]\n'
    write(tmp_path, files, config)
    assert rows(scan(tmp_path)) == [("pkg/use.py", 17, "IL301")]
    files["pkg/schema.py"] = (
        textwrap.dedent(files["pkg/schema.py"]) + 'DEFAULT_CONFIG = {"tool": {}}\n'
    )
    write(tmp_path, files, config.replace('"*Params"', '"*Params", "*Config"'))
    # A raw mapping may lack any key: only the undeclared one is reported.
    assert rows(scan(tmp_path)) == [("pkg/use.py", 5, "IL301"), ("pkg/use.py", 17, "IL301")]


def test_classes_local_to_a_function_resolve(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/m.py": """
                from dataclasses import dataclass

                def build() -> None:
                    @dataclass
                    class LocalConfig:
                        size: int = 1

                    made = LocalConfig()
                    getattr(made, "sise", 1)
            """,
        },
    )
    report = scan(tmp_path)
    assert rows(report) == [("pkg/m.py", 9, "IL301")]
    assert report.findings[0].property_dict()["precision"] == "high"


# --- fixes are checked by running the fixed code -------------------------------------
CONFIG_APP = Path(__file__).resolve().parent.parent / "fixtures" / "config_app"
BEHAVIOUR = (
    "import json, sys\n"
    "sys.path.insert(0, '.')\n"
    "from config_app.app import App\n"
    "from config_app.config_schema import AppConfig\n"
    "print(json.dumps(App(AppConfig(run_name='valid')).behaviour(), sort_keys=True))\n"
)


def behaviour(root: Path) -> str:
    """What the fixture app reads from a valid config, computed by running it (tests
    may run fixture code; the tool never does)."""
    done = subprocess.run(
        [sys.executable, "-c", BEHAVIOUR], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def copy_config_app(tmp_path: Path) -> Path:
    root = tmp_path / "config_app"
    shutil.copytree(CONFIG_APP, root, ignore=shutil.ignore_patterns("expected", "__pycache__"))
    return root


def test_every_fix_keeps_the_behaviour_on_a_valid_config(tmp_path: Path) -> None:
    root = copy_config_app(tmp_path)
    before = behaviour(root)
    report = scan(root)
    fixable = sorted((f.path, f.line) for f in report.findings if f.fix is not None)
    assert fixable == [
        ("config_app/app.py", 24),
        ("config_app/app.py", 27),
        ("config_app/app.py", 31),
        ("config_app/app.py", 37),
        ("config_app/config_schema.py", 38),
    ]
    outcome = fix_files(root, report.findings, report.file_hashes, write=True)
    assert not outcome.skipped and not outcome.notifications
    fixed_app = (root / "config_app" / "app.py").read_text()
    assert "return self.config.training.learning_rate" in fixed_app
    assert "return self.config.training.batch_size" in fixed_app
    assert behaviour(root) == before
    # a second run has nothing left to fix
    assert [f for f in scan(root).findings if f.fix is not None] == []


def test_a_guarded_attribute_is_neither_reported_nor_fixed(tmp_path: Path) -> None:
    root = copy_config_app(tmp_path)
    report = scan(root)
    schema_rows = [r for r in rows(report) if r[0] == "config_app/config_schema.py"]
    # lines 32 and 34 probe _table, assigned only under `if not hasattr(self, "_table")`
    assert schema_rows == [("config_app/config_schema.py", 38, "IL302")]
    # What the old fix did to such a probe breaks the app: the test above would catch it.
    schema = root / "config_app" / "config_schema.py"
    text = schema.read_text()
    broken = text.replace('getattr(self, "_table", None) is not None', "self._table is not None")
    assert broken != text
    schema.write_text(broken)
    done = subprocess.run(
        [sys.executable, "-c", BEHAVIOUR], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0 and "AttributeError" in done.stderr


def test_config_flow_resolution_is_medium_precision_and_never_fixed(tmp_path: Path) -> None:
    root = copy_config_app(tmp_path)
    report = scan(root)
    flow = [f for f in report.findings if f.path == "config_app/evaluation.py"]
    assert [(f.line, f.code) for f in flow] == [(12, "IL301"), (16, "IL303")]
    for finding in flow:
        properties = finding.property_dict()
        assert properties["precision"] == "medium"
        assert properties["resolution"] == "config-flow"
        assert finding.fix is None
    sarif = json.loads(api.render(report, "sarif"))
    by_line = {
        r["locations"][0]["physicalLocation"]["region"]["startLine"]: r
        for r in sarif["runs"][0]["results"]
        if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(
            "evaluation.py"
        )
    }
    assert by_line[12]["properties"]["precision"] == "medium"


def test_config_flow_needs_every_call_site_to_agree(tmp_path: Path) -> None:
    files = {
        "pkg/__init__.py": "",
        "pkg/schema.py": """
            from dataclasses import dataclass

            @dataclass
            class TrainingConfig:
                lr: float = 0.1

            @dataclass
            class AppConfig:
                training: TrainingConfig
        """,
        "pkg/use.py": """
            from pkg.schema import AppConfig, TrainingConfig

            class Manager:
                def __init__(self, cfg) -> None:
                    self.cfg = cfg

                def run(self) -> float:
                    return getattr(self.cfg, "lr_rate", 0.1)

            def helper(section) -> float:
                return getattr(section, "lr_rate", 0.1)

            class Owner:
                def __init__(self, config: AppConfig) -> None:
                    self.config = config
                    self.manager = Manager(self.config.training)
                    helper(section=config.training)
        """,
        "tests/test_use.py": """
            from pkg.use import Manager
            Manager(object())  # a test double does not change what the code receives
        """,
    }
    write(tmp_path, files)
    assert rows(scan(tmp_path)) == [("pkg/use.py", 8, "IL301"), ("pkg/use.py", 11, "IL301")]
    files["pkg/other.py"] = """
        from pkg.use import Manager

        def build(anything) -> None:
            Manager(anything)
    """
    write(tmp_path, files)
    # one call site passes something unresolved: the parameter's type is unknown
    assert rows(scan(tmp_path)) == [("pkg/use.py", 11, "IL301")]


def test_no_findings_in_tests_scripts_or_examples(tmp_path: Path) -> None:
    use = """
        from pkg.schema import AppConfig

        def read(config: AppConfig) -> int:
            return getattr(config, "sise", 1)
    """
    files = {
        "pkg/__init__.py": "",
        "pkg/schema.py": """
            from dataclasses import dataclass

            @dataclass
            class AppConfig:
                size: int = 1
        """,
        "pkg/use.py": use,
        "tests/test_use.py": use,
        "scripts/run.py": use,
        "examples/demo.py": use,
    }
    write(tmp_path, files)
    assert rows(scan(tmp_path)) == [("pkg/use.py", 4, "IL301")]
