"""``check --shard I/N --facts-out FILE`` and ``check --facts-in GLOB``
(integ_lint.engine.shards): four shards run as separate processes merge into exactly the
report of one run; every way a set of shards can be wrong is a one-line error (exit 2);
loading a shard never unpickles or evaluates anything."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from integ_lint.cli import main
from integ_lint.engine.discovery import SourceFile
from integ_lint.engine.registry import load_registry
from integ_lint.engine.results import FileResult
from integ_lint.engine.shards import (
    KEY_ENV,
    CodecError,
    ResultCodec,
    TypedCodec,
    parse_shard,
    select_shard,
    shard_of,
)

REPO = Path(__file__).resolve().parent.parent
SHARDS = 4
# Every opt-in rule too, so that every family reports (checked below).
OPT_IN = ",".join(
    sorted(code for code, r in load_registry().rules.items() if not r.default_enabled)
)
SELECT = ["--extend-select", OPT_IN]


def build_project(root: Path) -> Path:
    """The training application with a monorepo member (the message back end), a file
    that does not parse, a suppressed finding and an unused suppression."""
    shutil.copytree(REPO / "fixtures" / "training_app", root, ignore=_no_expected)
    shutil.copytree(REPO / "fixtures" / "message_backend", root / "services", ignore=_no_expected)
    package = root / "trainer_app"
    (package / "broken.py").write_text("def broken(:\n    pass\n")
    (package / "pinned.py").write_text(
        "import torch\n\n"
        "def pinned():\n"
        '    return torch.device("cuda:0")  # integ-lint: ignore[IL402] -- pinned on purpose\n'
    )
    (package / "quiet.py").write_text("import os  # integ-lint: ignore[IL502] -- nothing here\n")
    return root


def _no_expected(folder: str, names: list[str]) -> list[str]:
    return [name for name in names if name == "expected"]


def cli(
    project: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """integ-lint in a process of its own, as a CI runner starts it."""
    return subprocess.run(
        [sys.executable, "-m", "integ_lint", "check", ".", "--no-cache", "-j", "1", *SELECT, *args],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


def invoke(project: Path, *args: str) -> Result:
    """integ-lint in this process (the error cases)."""
    old = Path.cwd()
    os.chdir(project)
    try:
        return CliRunner().invoke(main, ["check", ".", "--no-cache", "-j", "1", *SELECT, *args])
    finally:
        os.chdir(old)


@pytest.fixture(scope="module")
def sharded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project, with its four shards written by four processes to ``facts-I.json``."""
    project = build_project(tmp_path_factory.mktemp("shards") / "project")
    for index in range(1, SHARDS + 1):
        done = cli(project, "--shard", f"{index}/{SHARDS}", "--facts-out", f"facts-{index}.json")
        assert done.returncode == 0, done.stderr
        assert f"Shard {index}/{SHARDS}:" in done.stderr
    return project


def comparable(output: str, output_format: str) -> Any:
    """The report without the elapsed time (the one thing two runs never share)."""
    document = json.loads(output)
    if output_format == "json":
        document["summary"].pop("elapsed_seconds")
    return document


@pytest.mark.parametrize("output_format", ["json", "sarif"])
def test_four_shards_merge_into_the_single_run_report(sharded: Path, output_format: str) -> None:
    merged = cli(sharded, "--facts-in", "facts-*.json", "--format", output_format)
    single = cli(sharded, "--format", output_format)
    assert merged.returncode == single.returncode, (merged.stderr, single.stderr)
    assert merged.returncode in (1, 3)  # findings; 3 where fail-on-incomplete is on
    assert merged.stderr == single.stderr
    assert comparable(merged.stdout, output_format) == comparable(single.stdout, output_format)
    if output_format == "json":
        report = json.loads(single.stdout)
        rules = load_registry().rules
        families = {rules[f["code"]].family for f in report["findings"]}
        assert families == {rule.family for rule in rules.values()}  # every family reports
        assert report["suppressed"] and report["notifications"]  # and the rest is there
        paths = {f["path"] for f in report["findings"]}
        assert any(p.startswith("services/") for p in paths)  # the monorepo member
        assert any(p.startswith("trainer_app/") for p in paths)


def test_every_file_is_in_exactly_one_shard(sharded: Path) -> None:
    held: list[str] = []
    for index in range(1, SHARDS + 1):
        body = json.loads((sharded / f"facts-{index}.json").read_bytes().split(b"\n", 1)[1])
        assert body["shard"] == [index, SHARDS]
        held.extend(
            f"{part['project']}/{result['relpath']}"
            for part in body["projects"]
            for result in part["results"]
        )
        assert held, "a shard with no file: the balance is off"
    assert len(held) == len(set(held))
    single = json.loads(cli(sharded, "--format", "json").stdout)
    assert len(held) == single["summary"]["files"]


def test_merge_applies_the_baseline_as_a_single_run_does(sharded: Path, tmp_path: Path) -> None:
    baseline = tmp_path / "baseline.toml"
    old = Path.cwd()
    os.chdir(sharded)
    try:
        created = CliRunner().invoke(
            main, ["baseline", "create", ".", *SELECT, "--output", str(baseline)]
        )
    finally:
        os.chdir(old)
    assert created.exit_code == 3, created.output  # broken.py does not parse
    text = baseline.read_text()
    # Keep half of the entries: the other half are new findings.
    entries = text.split("[[finding]]")
    baseline.write_text("[[finding]]".join(entries[: 1 + (len(entries) - 1) // 2]))
    args = ("--baseline", str(baseline), "--format", "json", "--no-fail-on-incomplete")
    merged = invoke(sharded, "--facts-in", "facts-*.json", *args)
    single = invoke(sharded, *args)
    assert merged.exit_code == single.exit_code == 1, merged.output
    assert comparable(merged.stdout, "json") == comparable(single.stdout, "json")
    assert json.loads(merged.stdout)["summary"]["baselined"] > 0


# -- errors: one line naming the file, exit 2 -------------------------------------------
def copy_shards(
    sharded: Path, tmp_path: Path, indices: range | list[int] = range(1, SHARDS + 1)
) -> Path:
    folder = tmp_path / "shards"
    folder.mkdir()
    for index in indices:
        shutil.copy(sharded / f"facts-{index}.json", folder / f"facts-{index}.json")
    return folder


def rewrite(path: Path, change: Callable[[dict[str, Any]], None], key: bytes | None = None) -> None:
    """Change a shard's body and give it a matching digest (a careful forger's edit)."""
    import hmac

    header, body = path.read_bytes().split(b"\n", 1)
    content = json.loads(body)
    change(content)
    data = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    head = json.loads(header)
    if key is None:
        head.update(integrity="sha256", digest=hashlib.sha256(data).hexdigest())
    else:
        head.update(integrity="hmac-sha256", digest=hmac.new(key, data, hashlib.sha256).hexdigest())
    path.write_bytes(json.dumps(head).encode() + b"\n" + data)


def assert_one_line_error(result: Result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("integ-lint: error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert result.stdout == ""  # never a partial report


def test_a_missing_shard_is_an_error(sharded: Path, tmp_path: Path) -> None:
    folder = copy_shards(sharded, tmp_path, [1, 2, 4])
    result = invoke(sharded, "--facts-in", f"{folder}/facts-*.json")
    assert_one_line_error(result, "missing shard 3/4", "facts-*.json")


def test_a_huge_shard_count_names_a_few_missing_shards(sharded: Path, tmp_path: Path) -> None:
    # N is read from the files: a forged N of 10**12 must not be counted through.
    folder = copy_shards(sharded, tmp_path)
    for index in range(1, SHARDS + 1):
        rewrite(
            folder / f"facts-{index}.json", lambda body, i=index: body.update(shard=[i, 10**12])
        )
    result = invoke(sharded, "--facts-in", f"{folder}/facts-*.json")
    assert_one_line_error(result, "missing shards 5/1000000000000, 6/", "more: the report")


def test_a_duplicate_shard_is_an_error(sharded: Path, tmp_path: Path) -> None:
    folder = copy_shards(sharded, tmp_path)
    shutil.copy(folder / "facts-2.json", folder / "facts-2-again.json")
    result = invoke(sharded, "--facts-in", f"{folder}/facts-*.json")
    assert_one_line_error(result, "facts-2", "duplicate")


def test_the_same_file_named_twice_counts_once(sharded: Path, tmp_path: Path) -> None:
    folder = copy_shards(sharded, tmp_path)
    result = invoke(
        sharded, "--facts-in", f"{folder}/facts-*.json", "--facts-in", f"{folder}/facts-1.json"
    )
    assert result.exit_code in (1, 3), result.output  # a report, not a duplicate


def test_shards_of_another_count_are_an_error(sharded: Path, tmp_path: Path) -> None:
    folder = copy_shards(sharded, tmp_path)
    rewrite(folder / "facts-4.json", lambda body: body.update(shard=[4, 5]))
    result = invoke(sharded, "--facts-in", f"{folder}/facts-*.json")
    assert_one_line_error(result, "facts-4.json", "4/5")


@pytest.mark.parametrize("component", ["integ-lint", "python", "libcst"])
def test_a_shard_from_another_version_is_an_error(
    sharded: Path, tmp_path: Path, component: str
) -> None:
    folder = copy_shards(sharded, tmp_path)
    rewrite(folder / "facts-3.json", lambda body: body["environment"].update({component: "0.0"}))
    result = invoke(sharded, "--facts-in", f"{folder}/facts-*.json")
    assert_one_line_error(result, "facts-3.json", f"written with {component} 0.0")


def test_a_shard_from_another_build_of_the_same_version_is_an_error(
    sharded: Path, tmp_path: Path
) -> None:
    folder = copy_shards(sharded, tmp_path)
    rewrite(
        folder / "facts-2.json", lambda body: body["environment"].update({"integ-lint-code": "0"})
    )
    result = invoke(sharded, "--facts-in", f"{folder}/facts-*.json")
    assert_one_line_error(result, "facts-2.json", "another build of integ-lint")


def test_a_shard_from_another_config_is_an_error(sharded: Path, tmp_path: Path) -> None:
    folder = copy_shards(sharded, tmp_path)
    result = invoke(sharded, "--facts-in", f"{folder}/facts-*.json", "--ignore", "IL5")
    assert_one_line_error(result, "facts-1.json", "another configuration")


def test_a_tampered_shard_is_an_error(sharded: Path, tmp_path: Path) -> None:
    folder = copy_shards(sharded, tmp_path)
    path = folder / "facts-2.json"
    data = path.read_bytes()
    path.write_bytes(data.replace(b'"parsed":true', b'"parsed":false', 1))
    assert path.read_bytes() != data
    result = invoke(sharded, "--facts-in", f"{folder}/facts-*.json")
    assert_one_line_error(result, "facts-2.json", "corrupt or was modified")


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # truncated
        lambda data: b"",
        lambda data: b"\x80\x04\x95 not json\n",  # a pickle, say
        lambda data: b'{"format": "integ-lint-shard", "version": 99}\n{}',
        # A digest that is not ASCII (hmac.compare_digest raises on it).
        lambda data: re.sub(
            rb'"digest": ?"[0-9a-f]+"', '"digest":"\u00e9"'.encode(), data, count=1
        ),
    ],
)
def test_a_corrupt_shard_is_an_error(
    sharded: Path, tmp_path: Path, damage: Callable[[bytes], bytes]
) -> None:
    folder = copy_shards(sharded, tmp_path)
    path = folder / "facts-1.json"
    path.write_bytes(damage(path.read_bytes()))
    result = invoke(sharded, "--facts-in", f"{folder}/facts-*.json")
    assert_one_line_error(result, "facts-1.json")


@pytest.mark.parametrize(
    "change",
    [
        # A value of the wrong type for its declared field.
        lambda body: body["projects"][0]["results"][0].update(line_count="many"),
        # A field no class declares (no way to name a class or a callable).
        lambda body: body["projects"][0]["results"][0]["findings"].append(
            {"__class__": "os.system", "args": ["echo owned"]}
        ),
        # An object that should be a list.
        lambda body: body["projects"][0]["results"][0].update(findings={"x": 1}),
    ],
)
def test_a_forged_shard_that_does_not_fit_the_types_is_refused(
    sharded: Path, tmp_path: Path, change: Callable[[dict[str, Any]], None]
) -> None:
    folder = copy_shards(sharded, tmp_path)

    def first_with_results(body: dict[str, Any]) -> None:
        body["projects"].sort(key=lambda part: not part["results"])
        change(body)

    rewrite(folder / "facts-1.json", first_with_results)
    result = invoke(sharded, "--facts-in", f"{folder}/facts-*.json")
    assert_one_line_error(result, "facts-1.json", "corrupt")


def test_shards_from_another_checkout_are_an_error(sharded: Path, tmp_path: Path) -> None:
    folder = copy_shards(sharded, tmp_path)
    project = tmp_path / "project"
    shutil.copytree(sharded, project)
    (project / "trainer_app" / "added.py").write_text("x = 1\n")
    result = invoke(project, "--facts-in", f"{folder}/facts-*.json")
    assert_one_line_error(result, "trainer_app/added.py", "in no shard")
    (project / "trainer_app" / "added.py").unlink()
    (project / "trainer_app" / "quiet.py").write_text("import sys\n")
    result = invoke(project, "--facts-in", f"{folder}/facts-*.json")
    assert_one_line_error(result, "trainer_app/quiet.py", "differs")
    (project / "trainer_app" / "quiet.py").unlink()
    result = invoke(project, "--facts-in", f"{folder}/facts-*.json")
    assert_one_line_error(result, "trainer_app/quiet.py", "does not scan")


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--shard", "2/4"], "go together"),
        (["--facts-out", "x.json"], "go together"),
        (["--shard", "5/4", "--facts-out", "x.json"], "between 1 and N"),
        (["--shard", "two", "--facts-out", "x.json"], "is not I/N"),
        (["--shard", "1/2", "--facts-out", "x.json", "--fix"], "--fix"),
        (["--facts-in", "facts-*.json", "--shard", "1/2"], "does not combine"),
        (["--facts-in", "nothing-*.json"], "nothing-*.json: matches no shard file"),
        (["--facts-in", "nothing.json"], "nothing.json: no such shard file"),
    ],
)
def test_usage_errors(sharded: Path, args: list[str], needle: str) -> None:
    assert_one_line_error(invoke(sharded, *args), needle)


# -- signed shards --------------------------------------------------------------------------
def small_project(root: Path) -> Path:
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "small"\nversion = "0"\n')
    (root / "small").mkdir()
    (root / "small" / "__init__.py").write_text("")
    (root / "small" / "app.py").write_text(
        "import torch\n\ndef run():\n    return torch.device('cuda:0')\n"
    )
    return root


def test_signed_shards_need_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = small_project(tmp_path / "small")
    monkeypatch.setenv(KEY_ENV, "the workflow's secret")
    for index in (1, 2):
        written = invoke(project, "--shard", f"{index}/2", "--facts-out", f"f-{index}.json")
        assert written.exit_code == 0, written.output
    assert json.loads((project / "f-1.json").read_bytes().split(b"\n")[0])["integrity"] == (
        "hmac-sha256"
    )
    merged = invoke(project, "--facts-in", "f-*.json", "--format", "json")
    assert merged.exit_code == 1, merged.output
    assert json.loads(merged.stdout)["summary"]["by_code"] == {"IL402": 1}
    # A forger without the key recomputes a plain digest, or one under another key.
    rewrite(project / "f-2.json", lambda body: None, key=b"a guess")
    assert_one_line_error(invoke(project, "--facts-in", "f-*.json"), "f-2.json", "modified")
    rewrite(project / "f-2.json", lambda body: None)
    assert_one_line_error(invoke(project, "--facts-in", "f-*.json"), "f-2.json", "not signed")
    monkeypatch.delenv(KEY_ENV)
    assert_one_line_error(invoke(project, "--facts-in", "f-*.json"), "f-1.json", KEY_ENV)


def test_merging_never_unpickles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pickle

    project = small_project(tmp_path / "small")
    written = invoke(project, "--shard", "1/1", "--facts-out", "f-1.json")
    assert written.exit_code == 0, written.output

    def refuse(*args: object, **kwargs: object) -> object:
        raise AssertionError("a shard was unpickled")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    merged = invoke(project, "--facts-in", "f-1.json", "--format", "json")
    assert merged.exit_code == 1, merged.output


# -- selection ------------------------------------------------------------------------------
def source_files(tmp_path: Path, sizes: dict[str, int]) -> list[SourceFile]:
    files = []
    for relpath, size in sizes.items():
        path = tmp_path / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"#" * size)
        files.append(SourceFile(path=path, relpath=relpath, module="", is_package_init=False))
    return files


def test_selection_depends_only_on_paths_and_sizes(tmp_path: Path) -> None:
    generator = random.Random(7)
    sizes = {f"pkg{i % 5}/m{i}.py": generator.randrange(0, 40_000) for i in range(120)}
    files = source_files(tmp_path, sizes)
    expected = shard_of(files, 4)
    for _ in range(5):
        generator.shuffle(files)
        assert shard_of(files, 4) == expected
    # Each file in exactly one shard, the shards in the order given.
    chosen = [select_shard(files, index, 4) for index in range(1, 5)]
    assert sorted(f.relpath for part in chosen for f in part) == sorted(sizes)
    assert [f.relpath for f in chosen[0]] == [f.relpath for f in files if expected[f.relpath] == 1]
    # Balanced by size: no shard heavier than the lightest by more than the largest file.
    loads = [sum(sizes[f.relpath] + 512 for f in part) for part in chosen]
    assert max(loads) - min(loads) <= max(sizes.values()) + 512


def test_many_empty_files_spread_over_the_shards(tmp_path: Path) -> None:
    files = source_files(tmp_path, {f"m{i}.py": 0 for i in range(40)})
    assert sorted(len(select_shard(files, index, 4)) for index in range(1, 5)) == [10] * 4


def test_parse_shard() -> None:
    assert parse_shard("3/4") == (3, 4)
    for text in ("0/4", "5/4", "1/0", "4", "a/b", "-1/2"):
        with pytest.raises(ValueError):
            parse_shard(text)


# -- the codec --------------------------------------------------------------------------------
def test_every_fact_of_a_real_project_survives_the_round_trip() -> None:
    from integ_lint.config import load_config
    from integ_lint.engine import discover_files, select_rules
    from integ_lint.engine.executor import analyze_files

    project = REPO / "fixtures" / "training_app"
    registry = load_registry()
    config = load_config([project], None, {"extend-select": OPT_IN.split(",")}, registry.sections)
    selection = select_rules(config, registry)
    assert len(selection.collectors) >= 6
    results = analyze_files(
        discover_files([project], config), config, selection.file_rules, selection.collectors
    )
    codec = ResultCodec(selection.collectors)
    assert any(r.findings for r in results) and all(r.facts for r in results if r.parsed)
    for result in results:
        text = json.dumps(codec.encode(result))
        assert codec.decode(json.loads(text)) == result, result.relpath


def test_plain_data_under_any_keeps_its_types() -> None:
    codec = TypedCodec([])
    value = {"a": (1, [2.5, None], {"b": True}), "c": "d"}
    assert codec.decode(json.loads(json.dumps(codec.encode(value, Any))), Any) == value
    with pytest.raises(CodecError):
        codec.encode({1, 2}, Any)  # not plain data: refused when writing
    with pytest.raises(CodecError):
        codec.decode({"x": [1]}, Any)  # not tagged plain data


def test_decoding_checks_every_declared_type() -> None:
    codec = ResultCodec([])
    good = codec.encode(FileResult(relpath="a.py", module="a", is_package_init=False))
    assert codec.decode(good) == FileResult(relpath="a.py", module="a", is_package_init=False)
    for field, value in [("parsed", 1), ("line_count", True), ("module", None)]:
        with pytest.raises(CodecError):
            codec.decode({**good, field: value})
    with pytest.raises(CodecError):
        codec.decode({**good, "facts": {"calls": {}}})  # facts of no selected collector
    with pytest.raises(CodecError):
        codec.decode({**good, "extra": 1})


# -- the README's workflow ------------------------------------------------------------------
def sharding_workflow() -> dict[str, Any]:
    import yaml

    text = REPO.joinpath("README.md").read_text(encoding="utf-8")
    section = text.split("### Sharding across runners", 1)[1].split("\n### ", 1)[0]
    workflow: dict[str, Any] = yaml.safe_load(section.split("```yaml\n", 1)[1].split("```", 1)[0])
    return workflow


def test_readme_sharding_workflow_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shlex

    workflow = sharding_workflow()
    shard_job, report_job = workflow["jobs"]["shard"], workflow["jobs"]["report"]
    assert report_job["needs"] == "shard"
    matrix = shard_job["strategy"]["matrix"]["shard"]
    (shard_line,) = [s["run"] for s in shard_job["steps"] if s.get("run", "").startswith("integ")]
    (merge_line,) = [s["run"] for s in report_job["steps"] if s.get("run", "").startswith("integ")]
    upload = next(s for s in shard_job["steps"] if "upload-artifact" in s.get("uses", ""))
    download = next(s for s in report_job["steps"] if "download-artifact" in s.get("uses", ""))
    assert download["with"]["merge-multiple"] is True  # every shard file in one folder
    assert workflow["env"][KEY_ENV] == "${{ secrets." + KEY_ENV + " }}"

    def expand(text: str, shard: int) -> str:
        return text.replace("${{ matrix.shard }}", str(shard))

    count = int(expand(shard_line, 1).split("--shard ", 1)[1].split()[0].split("/")[1])
    assert matrix == list(range(1, count + 1))  # N is the matrix size
    project = small_project(tmp_path / "repo")
    (project / "small" / "old.py").write_text("import torch\nDEVICE = torch.device('cuda')\n")
    monkeypatch.chdir(project)
    monkeypatch.setenv(KEY_ENV, "stand-in for the secret")
    created = CliRunner().invoke(
        main, ["baseline", "create", "--output", ".integ-lint-baseline.toml"]
    )
    assert created.exit_code == 0, created.output
    (project / "small" / "new.py").write_text("import torch\nDEVICE = torch.device('cuda:1')\n")
    for shard in matrix:
        argv = shlex.split(expand(shard_line, shard))
        done = CliRunner().invoke(main, argv[1:])
        assert done.exit_code == 0, (argv, done.output)
        # The artifact the matrix job uploads is the file it wrote.
        assert (project / expand(upload["with"]["path"], shard)).is_file()
        assert expand(upload["with"]["name"], shard).startswith(
            download["with"]["pattern"].rstrip("*")
        )
    merge_argv = shlex.split(merge_line)[1:]
    merged = CliRunner().invoke(main, merge_argv)
    glob_at = merge_argv.index("--facts-in")
    single = CliRunner().invoke(main, merge_argv[:glob_at] + merge_argv[glob_at + 2 :])
    assert merged.exit_code == single.exit_code == 1, merged.output
    untimed = [re.sub(r" in \d+\.\d+s", "", r.stdout) for r in (merged, single)]
    assert untimed[0] == untimed[1]
    assert "::warning file=small/new.py" in merged.stdout
    assert "small/old.py" not in merged.stdout  # baselined
