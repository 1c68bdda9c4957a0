"""IL304-IL306: config files (YAML, TOML, JSON) against the schema they feed: parsing
with key positions, which file feeds which schema, and the findings."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from integ_lint import api
from integ_lint.config import ConfigError
from integ_lint.engine import RunOptions
from integ_lint.files.source import read_regular_file
from integ_lint.findings import NotificationKind
from integ_lint.model import config_files
from integ_lint.model.config_files import parse_config_text
from rules.config_schema import _FILE_SCHEMA as FILE_RULES_SCHEMA

Row = tuple[str, int, str]

# The schema of the config-file rules' own examples (AppConfig, TrainingConfig), and
# two pydantic models.
SCHEMA = (
    FILE_RULES_SCHEMA
    + """
from pydantic import BaseModel, ConfigDict, Field


class ServerConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    host: str = Field(alias="hostname")
    port: int = 8080


class LooseConfig(BaseModel):
    model_config = ConfigDict(extra="allow")
    port: int = 8080
"""
)


def write(root: Path, files: dict[str, str], config: str = "") -> None:
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "example"\nversion = "0"\n\n[tool.integ-lint]\n'
        f'select = ["IL3"]\n{textwrap.dedent(config)}\n'
    )
    for relpath, code in {"pkg/__init__.py": "", "pkg/config.py": SCHEMA, **files}.items():
        target = root / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(code).lstrip("\n"))


def scan(root: Path) -> api.Report:
    return api.check(
        [root], config_file=root / "pyproject.toml", options=RunOptions(jobs=1, use_cache=False)
    )


def rows(report: api.Report, prefix: str = "config/") -> list[Row]:
    return [(f.path, f.line, f.code) for f in report.findings if f.path.startswith(prefix)]


# --- parsing --------------------------------------------------------------------------
def test_yaml_keys_keep_lines_and_columns() -> None:
    parsed = parse_config_text("a: 1\nsection:\n  inner: 2.5\n  deeper:\n    x: [1, 2]\n", ".yaml")
    a, section = parsed.keys
    assert (a.name, a.line, a.col, a.value) == ("a", 1, 1, 1)
    assert section.children is not None
    inner, deeper = section.children
    assert (inner.line, inner.col, inner.value) == (3, 3, 2.5)
    assert deeper.children is not None and deeper.children[0].value == [1, 2]
    assert deeper.children[0].line == 5


def test_toml_keys_keep_lines() -> None:
    text = 'title = "x"\n\n[training]\nlearning_rate = 0.1\n"batch size" = 3\n[a.b]\nc = 1\n'
    parsed = parse_config_text(text, ".toml")
    by_name = {k.name: k for k in parsed.keys}
    assert by_name["title"].line == 1
    training = by_name["training"]
    assert training.line == 3 and training.children is not None
    assert [(k.name, k.line) for k in training.children] == [
        ("learning_rate", 4),
        ("batch size", 5),
    ]
    a = by_name["a"]
    assert a.children is not None and a.children[0].children is not None
    assert a.children[0].children[0].line == 7


def test_json_keys_keep_lines() -> None:
    parsed = parse_config_text('{\n  "a": 1,\n  "s": {\n    "b": true\n  }\n}\n', ".json")
    a, s = parsed.keys
    assert a.line == 2 and s.children is not None and s.children[0].line == 4
    assert s.children[0].value is True


@pytest.mark.parametrize(
    ("text", "suffix", "line"),
    [
        ("a: [1, 2\nb: 3\n", ".yaml", 2),
        ("a = \n", ".toml", 1),
        ('{"a": 1,,}', ".json", 1),
    ],
)
def test_broken_files_give_an_error_with_a_line(text: str, suffix: str, line: int) -> None:
    parsed = parse_config_text(text, suffix)
    assert parsed.error and parsed.error_line == line and parsed.keys == ()


def test_empty_and_non_mapping_documents() -> None:
    assert parse_config_text("", ".yaml").keys == ()
    assert not parse_config_text("- 1\n- 2\n", ".yaml").is_mapping


# --- which file feeds which schema ------------------------------------------------------
LOADERS = {
    "call": """
        import yaml
        from pkg.config import AppConfig

        def load() -> AppConfig:
            return AppConfig(**yaml.safe_load(open("config/app.yaml")))
    """,
    "with-and-constant": """
        import yaml
        from pkg.config import AppConfig

        PATH = "config/app.yaml"

        def load() -> AppConfig:
            with open(PATH) as handle:
                data = yaml.safe_load(handle)
            return AppConfig(**data)
    """,
    "module-relative": """
        from pathlib import Path

        import yaml
        from pkg.config import AppConfig

        def load() -> AppConfig:
            text = (Path(__file__).parent.parent / "config" / "app.yaml").read_text()
            return AppConfig(**yaml.safe_load(text))
    """,
    "validate": """
        import json
        from pkg import config

        def load() -> config.AppConfig:
            return config.AppConfig.model_validate(json.load(open("config/app.yaml")))
    """,
}


@pytest.mark.parametrize("loader", sorted(LOADERS))
def test_plain_loading_code_says_which_schema_a_file_feeds(tmp_path: Path, loader: str) -> None:
    write(
        tmp_path,
        {
            "pkg/load.py": LOADERS[loader],
            "config/app.yaml": "training:\n  batch_sise: 1\n",
        },
    )
    assert rows(scan(tmp_path)) == [
        ("config/app.yaml", 1, "IL305"),  # run_name is required, the file is loaded alone
        ("config/app.yaml", 2, "IL304"),
    ]


def test_merged_data_is_not_complete(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pkg/load.py": """
                import yaml
                from pkg.config import AppConfig

                def load(name: str) -> AppConfig:
                    data = yaml.safe_load(open("config/app.yaml"))
                    data.update(run_name=name)
                    return AppConfig(**data)

                def load_named(name: str) -> AppConfig:
                    return AppConfig(**yaml.safe_load(open("config/app.yaml")), run_name=name)
            """,
            "config/app.yaml": "training:\n  batch_size: 1\n",
        },
    )
    assert rows(scan(tmp_path)) == []


def test_data_merged_by_a_call_or_handed_to_a_function_is_not_complete(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pkg/load.py": """
                from pathlib import Path

                import yaml
                from pkg.config import AppConfig

                DEFAULTS = {"run_name": "default"}

                def deep_merge(base: dict, other: dict) -> dict:
                    return {**base, **other}

                def apply_defaults(data: dict) -> None:
                    data.setdefault("run_name", "default")

                def merged() -> AppConfig:
                    return AppConfig(**deep_merge(DEFAULTS, yaml.safe_load(open("config/a.yaml"))))

                def handed_off() -> AppConfig:
                    data = yaml.safe_load(open("config/b.yaml"))
                    apply_defaults(data)
                    return AppConfig(**data)

                def alone() -> AppConfig:
                    text = Path("config/c.yaml").read_text(encoding="utf-8")
                    data = yaml.load(text, yaml.SafeLoader)  # a loader option, not more data
                    print(data)
                    return AppConfig(**data)
            """,
            "config/a.yaml": "training: {}\n",
            "config/b.yaml": "training: {}\n",
            "config/c.yaml": "training: {}\n",
        },
    )
    assert rows(scan(tmp_path)) == [("config/c.yaml", 1, "IL305")]


def test_unreferenced_files_and_non_schema_classes_are_not_read(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pkg/load.py": """
                import yaml

                class Plain:
                    def __init__(self, **values: object) -> None:
                        self.values = values

                def load() -> Plain:
                    return Plain(**yaml.safe_load(open("config/plain.yaml")))
            """,
            "config/plain.yaml": "anything: 1\n",
            "config/other.yaml": "a: [\n",  # broken, but nothing reads it
        },
    )
    report = scan(tmp_path)
    assert rows(report) == [] and not report.notifications


def test_a_broken_referenced_file_is_a_notification(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"pkg/load.py": LOADERS["call"], "config/app.yaml": "training: [1,\n  2\nrun: x\n"},
    )
    report = scan(tmp_path)
    assert rows(report) == []
    notes = [n for n in report.notifications if n.path == "config/app.yaml"]
    assert len(notes) == 1
    assert notes[0].kind == NotificationKind.PARSE_ERROR and notes[0].line == 3
    assert "does not parse" in notes[0].message


def _unreadable_app_yaml(root: Path, kind: str) -> None:
    target = root / "config" / "app.yaml"
    target.parent.mkdir(exist_ok=True)
    if kind == "device":
        target.symlink_to("/dev/zero")
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "huge":
        target.write_bytes(b"run_name: x\n" + b"# padding\n" * 250_000)
    else:
        target.write_bytes(
            "run_name: x\ntraining:\n  learning_rate: 0.1 # \u00e9\n".encode("latin-1")
        )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX only")
@pytest.mark.parametrize(
    ("kind", "line", "says"),
    [
        ("device", 1, "not a regular file"),
        ("fifo", 1, "not a regular file"),
        ("huge", 1, "larger than 2 MB"),
        ("latin-1", 3, "not UTF-8"),
    ],
)
def test_an_unreadable_referenced_file_is_one_notification(
    tmp_path: Path, kind: str, line: int, says: str
) -> None:
    # Fed into two schemas (by the code and by the configuration): still read once.
    write(
        tmp_path,
        {"pkg/load.py": LOADERS["call"]},
        '[tool.integ-lint.config-schema]\nfiles = { "config/*.yaml" = "pkg.config:ServerConfig" }\n',
    )
    _unreadable_app_yaml(tmp_path, kind)
    report = scan(tmp_path)  # a FIFO or /dev/zero neither blocks nor runs forever
    assert rows(report) == []
    notes = [n for n in report.notifications if n.path == "config/app.yaml"]
    assert len(notes) == 1, notes
    assert notes[0].kind == NotificationKind.READ_ERROR and notes[0].line == line
    assert says in notes[0].message


def test_a_file_feeding_two_schemas_is_read_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        tmp_path,
        {"pkg/load.py": LOADERS["call"], "config/app.yaml": "run_name: x\nport: 1\n"},
        '[tool.integ-lint.config-schema]\nfiles = { "config/*.yaml" = "pkg.config:ServerConfig" }\n',
    )
    reads: list[str] = []

    def counting_read(path: Path, max_bytes: int | None = None) -> bytes:
        reads.append(Path(path).name)
        return read_regular_file(path, max_bytes)

    monkeypatch.setattr(config_files, "read_regular_file", counting_read)
    report = scan(tmp_path)
    assert reads == ["app.yaml"]
    assert {(f.code, f.line) for f in report.findings if f.path == "config/app.yaml"} == {
        ("IL304", 1),  # run_name is no field of ServerConfig
        ("IL304", 2),  # port is no field of AppConfig
    }


@pytest.mark.parametrize(
    ("text", "suffix"),
    [
        # a few lines of aliases expand to 9**8 keys
        (
            "a: &a {x1: 1, x2: 2, x3: 3, x4: 4, x5: 5, x6: 6, x7: 7, x8: 8, x9: 9}\n"
            + "".join(
                f"{n}: &{n} {{{', '.join(f'{n}{i}: *{p}' for i in range(9))}}}\n"
                for p, n in zip("abcdefg", "bcdefgh")
            ),
            ".yaml",
        ),
        ("a: &x\n  b: *x\n", ".yaml"),  # a mapping that contains itself
        ("[" + ".".join(["a"] * 3000) + "]\nx = 1\n", ".toml"),  # nested 3000 deep, cheaply
        ('x = """\n[' + " " * 100_000 + 'y\n"""\n', ".toml"),  # no header, however long
    ],
)
def test_expanding_or_deep_documents_end_quickly(text: str, suffix: str) -> None:
    parsed = parse_config_text(text, suffix)
    assert parsed.error in ("", "more than 200000 keys (YAML aliases expanding?)")
    assert parsed.error or parsed.keys


def test_yaml_merge_keys_keep_their_own_lines() -> None:
    text = "base: &b\n  lr: 1\nfast:\n  <<: *b\n  lr: 3\n"
    fast = parse_config_text(text, ".yaml").keys[1]
    assert [(k.name, k.line, k.value) for k in fast.children or ()] == [("lr", 5, 3)]


def test_configured_files_aliases_extra_and_nested(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "config/server.toml": 'hostname = "a"\nport = 1\nprot = 2\n',
            "config/loose.json": '{"port": 1, "anything": 2}\n',
            "config/base.yaml": "training:\n  learning_rate: 0.1\n",
        },
        """
        [tool.integ-lint.config-schema]
        files = { "config/*.toml" = "pkg.config:ServerConfig", "config/*.json" = "pkg.config:LooseConfig", "config/base.yaml" = "pkg.config:AppConfig" }
        complete-files = ["config/base.yaml"]
        """,
    )
    report = scan(tmp_path)
    assert rows(report) == [("config/base.yaml", 1, "IL305"), ("config/server.toml", 3, "IL304")]
    typo = next(f for f in report.findings if f.code == "IL304")
    assert "did you mean 'port'?" in typo.message and "loading the file fails" in typo.message
    assert typo.property_dict()["schema"] == "pkg.config.ServerConfig"


def test_a_configured_schema_that_names_nothing_is_a_config_error(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"config/a.yaml": "x: 1\n"},
        '[tool.integ-lint.config-schema]\nfiles = { "config/a.yaml" = "pkg.config:Missing" }\n',
    )
    with pytest.raises(ConfigError, match=r"'pkg\.config:Missing' is not a schema class"):
        scan(tmp_path)
    write(
        tmp_path, {}, '[tool.integ-lint.config-schema]\nfiles = { "config/a.yaml" = "AppConfig" }\n'
    )
    with pytest.raises(ConfigError, match=r"package\.module:ClassName"):
        scan(tmp_path)


def test_three_way_drift_needs_a_fallback_that_disagrees(tmp_path: Path) -> None:
    files = {
        "pkg/load.py": LOADERS["call"]
        + """
        def lr(config: AppConfig) -> float:
            return getattr(config.training, "learning_rate", 0.01)

        def batch(config: AppConfig) -> int:
            return getattr(config.training, "batch_size", 32)
        """,
        "config/app.yaml": "run_name: x\ntraining:\n  learning_rate: 1e-3\n  batch_size: 32\n",
    }
    write(tmp_path, files)
    report = scan(tmp_path)
    # batch_size: the file agrees with the fallback; learning_rate: 1e-3 (a string to
    # YAML 1.1) vs 3e-4 vs 0.01
    assert rows(report) == [("config/app.yaml", 3, "IL306")]
    drift = next(f for f in report.findings if f.code == "IL306")
    assert "three places disagree" in drift.message
    assert {r.path for r in drift.related} == {"pkg/config.py", "pkg/load.py"}
    files["config/app.yaml"] = "run_name: x\ntraining:\n  learning_rate: 0.0003\n"
    write(tmp_path, files)
    assert rows(scan(tmp_path)) == []


def test_config_files_in_tests_are_not_reported(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pkg/load.py": LOADERS["call"].replace("config/app.yaml", "tests/data/app.yaml"),
            "tests/data/app.yaml": "trainig: {}\n",
        },
    )
    assert rows(scan(tmp_path), prefix="tests/") == []


def test_schema_code_that_rewrites_its_input_is_trusted(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pkg/own.py": """
                from dataclasses import dataclass

                import yaml
                from pydantic import BaseModel, root_validator

                @dataclass
                class OwnLoader:
                    run_name: str

                    @classmethod
                    def from_dict(cls, data: dict) -> "OwnLoader":
                        return cls(run_name=data.get("name", "default"))

                class Legacy(BaseModel):
                    host: str

                    @root_validator(pre=True)
                    def _address(cls, values: dict) -> dict:
                        values.setdefault("host", values.pop("address", "localhost"))
                        return values

                class Strict(Legacy):
                    port: int = 1

                def load() -> tuple[OwnLoader, Strict]:
                    return (
                        OwnLoader.from_dict(yaml.safe_load(open("config/own.yaml"))),
                        Strict(**yaml.safe_load(open("config/strict.yaml"))),
                    )
            """,
            "pkg/mixin.py": """
                from dataclasses import dataclass

                import yaml
                from dataclasses_json import DataClassJsonMixin

                @dataclass
                class Library(DataClassJsonMixin):
                    run_name: str

                def load() -> Library:
                    return Library.from_dict(yaml.safe_load(open("config/mixin.yaml")))
            """,
            "config/own.yaml": "name: x\n",
            "config/strict.yaml": "address: x\nprot: 2\n",  # a subclass inherits the hook
            "pkg/own_init.py": """
                from dataclasses import dataclass

                import yaml

                @dataclass
                class OwnInit:
                    run_name: str

                    def __init__(self, **values: object) -> None:
                        self.run_name = str(values.get("name", "default"))

                def load() -> OwnInit:
                    return OwnInit(**yaml.safe_load(open("config/own_init.yaml")))
            """,
            "config/own_init.yaml": "anything: 1\n",
            "config/mixin.yaml": "name: x\n",
        },
    )
    # Keys the schema's own code names are its business; others are still typos. A
    # library's from_dict maps keys to fields: still checked.
    assert rows(scan(tmp_path)) == [
        ("config/mixin.yaml", 1, "IL304"),
        ("config/mixin.yaml", 1, "IL305"),
        ("config/strict.yaml", 2, "IL304"),
    ]
