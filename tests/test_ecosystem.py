"""The ecosystem check's machinery (benchmarks/ecosystem.py): safe unpacking, the
import-linter translation, labels written under a lock, the report's arithmetic, and
that integ-lint's fingerprints (what labels are keyed by) survive unrelated edits."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from conftest import load_ecosystem

from integ_lint.files.atomic import current_umask

eco = load_ecosystem()


def _tar(path: Path, members: list[tarfile.TarInfo], data: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz") as bundle:
        for member in members:
            payload = data.get(member.name)
            if payload is not None:
                member.size = len(payload)
                bundle.addfile(member, io.BytesIO(payload))
            else:
                bundle.addfile(member)


def test_unpack_strips_the_sdist_folder_and_refuses_escapes(tmp_path: Path) -> None:
    archive = tmp_path / "demo-1.0.tar.gz"
    top = tarfile.TarInfo("demo-1.0")
    top.type = tarfile.DIRTYPE
    good = tarfile.TarInfo("demo-1.0/pkg/mod.py")
    escape = tarfile.TarInfo("demo-1.0/../../evil.py")
    absolute = tarfile.TarInfo("/tmp/abs.py")
    link = tarfile.TarInfo("demo-1.0/pkg/link.py")
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc/passwd"
    hard = tarfile.TarInfo("demo-1.0/pkg/hard.py")
    hard.type = tarfile.LNKTYPE
    hard.linkname = "demo-1.0/pkg/mod.py"
    _tar(
        archive,
        [top, good, escape, absolute, link, hard],
        {good.name: b"x = 1\n", escape.name: b"bad\n", absolute.name: b"bad\n"},
    )
    out = tmp_path / "out"
    out.mkdir()
    skipped = eco.safe_unpack(archive, out)
    assert skipped == 4
    assert (out / "pkg" / "mod.py").read_text() == "x = 1\n"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == ["pkg", "pkg/mod.py"]
    assert not (tmp_path / "evil.py").exists()


def test_unpack_wheel_keeps_top_level_and_skips_symlinks(tmp_path: Path) -> None:
    archive = tmp_path / "demo-1.0-py3-none-any.whl"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("demo/__init__.py", "")
        bundle.writestr("demo-1.0.dist-info/METADATA", "Name: demo\n")
        bundle.writestr("../escape.py", "bad")
        link = zipfile.ZipInfo("demo/link.py")
        link.external_attr = (0o120777) << 16
        bundle.writestr(link, "/etc/passwd")
    out = tmp_path / "out"
    out.mkdir()
    assert eco.safe_unpack(archive, out) == 2
    assert (out / "demo" / "__init__.py").exists()
    assert (out / "demo-1.0.dist-info" / "METADATA").exists()
    assert not (out / "demo" / "link.py").exists()


def test_fetch_refuses_a_wrong_checksum(tmp_path: Path) -> None:
    cache = eco.Cache(tmp_path)
    (tmp_path / "dl").mkdir()
    (tmp_path / "dl" / "demo-1.0.tar.gz").write_bytes(b"not the pinned file")
    project = eco.Project("demo", "1.0", "sdist", "demo-1.0.tar.gz", "0" * 64)
    with pytest.raises(eco.EcosystemError, match="sha256"):
        eco.fetch(project, cache, log=lambda _: None)
    assert not (tmp_path / "src" / "demo-1.0").exists()


def test_fetch_unpacks_a_verified_archive_atomically(tmp_path: Path) -> None:
    cache = eco.Cache(tmp_path)
    (tmp_path / "dl").mkdir()
    archive = tmp_path / "dl" / "demo-1.0.tar.gz"
    member = tarfile.TarInfo("demo-1.0/demo/__init__.py")
    _tar(archive, [member], {member.name: b"VALUE = 1\n"})
    project = eco.Project("demo", "1.0", "sdist", archive.name, eco.sha256_of(archive))
    tree = eco.fetch(project, cache, log=lambda _: None)
    assert tree == tmp_path / "src" / "demo-1.0"
    assert (tree / "demo" / "__init__.py").read_text() == "VALUE = 1\n"
    assert [p.name for p in (tmp_path / "src").iterdir()] == ["demo-1.0"]  # no staging left


def test_import_linter_contracts_are_translated(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        """
[project.scripts]
demo = "demo.cli:main"

[tool.importlinter]
root_package = "demo"

[[tool.importlinter.contracts]]
name = "layers"
type = "layers"
containers = "demo"
layers = ["cli", "core"]
ignore_imports = ["demo.core.x -> demo.cli"]

[[tool.importlinter.contracts]]
name = "no qt"
type = "forbidden"
source_modules = "demo"
forbidden_modules = ["PyQt5"]
allow_indirect_imports = "True"

[[tool.importlinter.contracts]]
name = "custom"
type = "acyclic_siblings"
""",
        encoding="utf-8",
    )
    contracts, notes, source = eco.read_import_linter_contracts(tmp_path)
    assert source == "pyproject.toml"
    assert contracts == [
        {
            "name": "layers",
            "type": "layers",
            "containers": ["demo"],
            "layers": ["cli", "core"],
            "ignore_imports": ["demo.core.x -> demo.cli"],
        },
        {
            "name": "no qt",
            "type": "forbidden",
            "source_modules": ["demo"],
            "forbidden_modules": ["PyQt5"],
            "allow_indirect_imports": True,
        },
    ]
    assert notes == ["contract 'custom': type 'acyclic_siblings' is not supported, skipped"]
    config = eco.write_contracts_config(tmp_path, contracts)
    loaded = eco.tomllib.loads(config.read_text(encoding="utf-8"))
    assert loaded["project"]["scripts"] == {"demo": "demo.cli:main"}
    assert loaded["tool"]["integ-lint"]["boundaries"]["contracts"] == contracts


def test_ini_contracts_from_dot_importlinter(tmp_path: Path) -> None:
    (tmp_path / ".importlinter").write_text(
        "[importlinter]\nroot_package = demo\n\n"
        "[importlinter:contract:one]\nname = Independent\ntype = independence\n"
        "modules =\n    demo.a\n    demo.b\n",
        encoding="utf-8",
    )
    contracts, notes, source = eco.read_import_linter_contracts(tmp_path)
    assert source == ".importlinter"
    assert contracts == [
        {"name": "Independent", "type": "independence", "modules": ["demo.a", "demo.b"]}
    ]
    assert notes == []


@pytest.mark.parametrize(
    ("loader", "text", "message"),
    [
        ("labels", '[finding]\nfingerprint = "a"\n', "finding: expected [[finding]] tables"),
        ("labels", '[[finding]]\nfingerprint = "a"\nverdict = "true"\nline = "x"\n', "line"),
        ("labels", "[[miss]]\ncode = 1\n", "miss[0]: needs code, path, line, reason"),
        ("labels", "[[finding]\n", "Expected"),
        ("projects", '[project]\nname = "x"\n', "project: expected [[project]] tables"),
        ("projects", '[[project]]\nname = "x"\n', "project[0].version: missing"),
        (
            "projects",
            '[[project]]\nname = "../x"\nversion = "1"\ndist = "sdist"\n'
            'filename = "x-1.tar.gz"\nsha256 = "0"\n',
            "project[0].name: expected a plain name",
        ),
        ("slice", 'projects = "ipykernel"\n', "projects: expected a list"),
        ("slice", 'projects = ["a"]\ngone-false = 3\n', "[gone-false]: expected"),
    ],
)
def test_a_malformed_file_is_one_clear_line(
    tmp_path: Path, loader: str, text: str, message: str
) -> None:
    path = tmp_path / "demo.toml"
    path.write_text(text, encoding="utf-8")
    load = {
        "labels": lambda: eco.load_labels("demo", tmp_path),
        "projects": lambda: eco.load_projects(path),
        "slice": lambda: eco.load_slice(path),
    }[loader]
    with pytest.raises(eco.EcosystemError) as caught:
        load()
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_label_files_keep_a_readable_mode(tmp_path: Path) -> None:
    """Labels, slice.toml and meta.json are shared files: an atomic write leaves them
    as the umask (or the file's old mode) says, never 0600."""
    path = eco.append_entry("demo", "miss", {"code": "IL201"}, tmp_path)
    assert path.stat().st_mode & 0o044 == 0o044 & ~current_umask()
    path.chmod(0o640)
    eco.append_entry("demo", "miss", {"code": "IL202"}, tmp_path)
    assert path.stat().st_mode & 0o777 == 0o640


def test_labelling_into_a_malformed_file_is_one_clear_line(tmp_path: Path) -> None:
    (tmp_path / "demo.toml").write_text("[[miss]\n", encoding="utf-8")
    with pytest.raises(eco.EcosystemError, match="fix the file"):
        eco.append_entry("demo", "miss", {"code": "IL201"}, tmp_path)
    assert (tmp_path / "demo.toml").read_text(encoding="utf-8") == "[[miss]\n"


def _found(fingerprint: str, code: str = "IL201", line: int = 3) -> object:
    return eco.Found("demo", "defaults", fingerprint, code, "demo/a.py", line, line, "m", "")


def test_labels_append_and_report_arithmetic(tmp_path: Path) -> None:
    labels_dir = tmp_path / "labels"
    base = {"code": "IL201", "path": "demo/a.py", "line": 3}
    eco.append_entry(
        "demo",
        "finding",
        {"fingerprint": "a" * 32, **base, "verdict": "true", "reason": 'quoted "x"'},
        labels_dir,
    )
    eco.append_entry(
        "demo",
        "finding",
        {"fingerprint": "b" * 32, **base, "verdict": "false", "reason": "r"},
        labels_dir,
    )
    eco.append_entry(
        "demo",
        "finding",
        {"fingerprint": "c" * 32, **base, "verdict": "debatable", "reason": "r"},
        labels_dir,
    )
    eco.append_entry(
        "demo",
        "finding",
        {"fingerprint": "d" * 32, **base, "verdict": "true", "reason": "gone"},
        labels_dir,
    )
    # A later label of the same finding replaces the earlier one.
    eco.append_entry(
        "demo",
        "finding",
        {"fingerprint": "c" * 32, **base, "verdict": "true", "reason": "on second look"},
        labels_dir,
    )
    eco.append_entry(
        "demo",
        "miss",
        {"code": "IL201", "path": "demo/a.py", "line": 4, "reason": "found"},
        labels_dir,
    )
    eco.append_entry(
        "demo",
        "miss",
        {"code": "IL201", "path": "demo/b.py", "line": 9, "reason": "missed"},
        labels_dir,
    )
    labels = eco.load_labels("demo", labels_dir)
    assert labels.findings["a" * 32].reason == 'quoted "x"'
    assert labels.findings["c" * 32].verdict == "true"
    project = eco.Project("demo", "1.0", "sdist", "demo-1.0.tar.gz", "0" * 64)
    found = [_found("a" * 32), _found("b" * 32), _found("c" * 32), _found("e" * 32)]
    report = eco.project_report(project, found, labels)
    row = report.rows["IL201"]
    assert (row.findings, row.labelled, row.true, row.false, row.debatable) == (4, 3, 2, 1, 0)
    assert row.precision == pytest.approx(2 / 3)
    assert (row.misses_found, row.misses) == (1, 2)  # the one at line 4 is next to line 3
    assert (row.gone_true, row.gone_false) == (1, 0)
    assert [f.fingerprint for f in report.unlabelled] == ["e" * 32]


def test_sample_is_seeded_and_bounded() -> None:
    found = [_found(f"{i:032x}", code="IL4") for i in range(30)] + [_found("f" * 32, code="IL5")]
    first = eco.sample_unlabelled(found, 10, seed=15)
    assert first == eco.sample_unlabelled(list(reversed(found)), 10, seed=15)
    assert sum(f.code == "IL4" for f in first) == 10
    assert sum(f.code == "IL5" for f in first) == 1


def test_slice_catches_lost_true_and_returning_false() -> None:
    project = eco.Project("demo", "1.0", "sdist", "demo-1.0.tar.gz", "0" * 64)
    label = {"code": "IL201", "path": "demo/a.py", "line": 3, "reason": "r"}
    labels = eco.Labels(
        {
            "t" * 32: eco.Label("t" * 32, verdict="true", **label),
            "f" * 32: eco.Label("f" * 32, verdict="false", **label),
            "g" * 32: eco.Label("g" * 32, verdict="false", **label),
        },
        [],
    )
    state = eco.SliceState(["demo"], {"demo": ["f" * 32]})
    outcome = eco.check_slice(project, [_found("f" * 32)], labels, state)
    assert [lab.fingerprint for lab in outcome.lost_true] == ["t" * 32]
    assert [f.fingerprint for f in outcome.back_false] == ["f" * 32]
    assert outcome.newly_gone_false == ["g" * 32]


def _fingerprints(root: Path) -> list[tuple[str, str, str]]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "integ_lint",
            "check",
            str(root),
            "--format",
            "json",
            "--no-cache",
            "--exit-zero",
            "--jobs",
            "1",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    findings = json.loads(done.stdout)["findings"]
    return sorted((f["code"], f["path"], f["fingerprint"]) for f in findings)


def test_fingerprints_survive_unrelated_lines(tmp_path: Path) -> None:
    """Labels are keyed by integ-lint's fingerprint: adding lines above and between
    findings, in the same file and elsewhere, must not change it."""
    package = tmp_path / "app"
    package.mkdir()
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\nversion = "0"\n')
    (package / "__init__.py").write_text("")
    # Shapes several families report in library code (at least one must fire).
    body = (
        "import asyncio\n\nimport torch\n\n\n"
        "def restore(path):\n    return torch.load(path)\n\n\n"
        "async def main() -> None:\n    pass\n\n\n"
        "async def handler() -> None:\n    asyncio.run(main())\n"
    )
    (package / "service.py").write_text(body)
    before = _fingerprints(tmp_path)
    assert before, "the example must produce a finding"
    (package / "service.py").write_text(
        '"""Docs."""\n\nimport os\n\nCONSTANT = 1\n'
        + body.replace("async def handler", "# note\n\nasync def handler")
    )
    (package / "other.py").write_text("VALUE = 2\n")
    assert _fingerprints(tmp_path) == before


def _write_run(cache: object, tag: str, name: str, variant: str, findings: list[dict]) -> None:
    path = cache.runs(tag) / f"{name}.{variant}.json"  # type: ignore[attr-defined]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"findings": findings}), encoding="utf-8")


def _item(fingerprint: str, code: str = "IL101", line: int = 1) -> dict:
    return {
        "fingerprint": fingerprint,
        "code": code,
        "path": "demo/a.py",
        "line": line,
        "end_line": line,
        "message": "m",
        "scope": "",
    }


def test_contracts_run_adds_only_its_own_findings_and_diff_lists_changes(tmp_path: Path) -> None:
    cache = eco.Cache(tmp_path)
    project = eco.Project("demo-eco-test", "1.0", "sdist", "demo-1.0.tar.gz", "0" * 64)
    _write_run(cache, "base", project.name, "defaults", [_item("a" * 32), _item("b" * 32)])
    _write_run(
        cache,
        "base",
        project.name,
        "contracts",
        [_item("a" * 32), _item("c" * 32, code="IL102")],
    )
    _write_run(cache, "head", project.name, "defaults", [_item("a" * 32), _item("d" * 32)])
    base = eco.findings_of(project, cache, "base")
    assert [(f.fingerprint[0], f.variant) for f in base] == [
        ("a", "defaults"),
        ("b", "defaults"),
        ("c", "contracts"),
    ]
    changes = eco.diff_findings([project], cache, "base", "head")[project.name]
    assert [c["fingerprint"][0] for c in changes["appeared"]] == ["d"]
    assert [c["fingerprint"][0] for c in changes["disappeared"]] == ["b", "c"]


def test_slice_file_round_trips_and_keeps_hand_written_acceptances(tmp_path: Path) -> None:
    path = tmp_path / "slice.toml"
    state = eco.SliceState(["demo"], {"demo": ["b" * 32, "a" * 32]})
    eco.write_slice(state, path)
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.rstrip("\n") + '\n# dropped on purpose: the file became a script\n"demo" = ["c"]\n',
        encoding="utf-8",
    )
    eco.write_slice(eco.load_slice(path), path)  # --update rewrites the file
    eco.write_slice(eco.load_slice(path), path)
    loaded = eco.load_slice(path)
    assert loaded.gone_false == {"demo": ["a" * 32, "b" * 32]}
    assert loaded.accepted_lost_true == {"demo": ["c"]}
    assert "dropped on purpose" in path.read_text(encoding="utf-8")


def test_a_failed_run_is_recorded_and_named_by_report_and_label(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run that fails, even silently, leaves no report, and what reads the run says
    that it failed (not "run it first"); `report` leaves the project out, saying why."""
    cache = eco.Cache(tmp_path)
    (project,) = eco.select_projects(eco.load_projects(), ["skorch"])
    cache.tree(project).mkdir(parents=True)
    silent_crash = [sys.executable, "-c", "raise SystemExit(1)"]
    _write_run(cache, "t", project.name, "defaults", [_item("a" * 32)])  # an earlier run
    (result,) = eco.run_projects(
        [project], cache, "t", command=silent_crash, revision="r", contracts=False, log=print
    )
    assert (result.returncode, result.error) == (1, "exit 1, no output")
    assert not (cache.runs("t") / "skorch.defaults.json").exists()
    with pytest.raises(eco.EcosystemError, match=r"^skorch: its run failed \(exit 1\): exit 1"):
        eco.findings_of(project, cache, "t")
    _write_run(cache, "t", "kedro", "defaults", [])
    capsys.readouterr()
    assert eco.main(["--cache-dir", str(tmp_path), "report", "--tag", "t", "--json"]) == 0
    out, err = capsys.readouterr()
    assert [p["name"] for p in json.loads(out)["projects"]] == ["kedro"]
    assert (
        err
        == "ecosystem.py: skorch left out of the report: its run failed (exit 1): exit 1, no output\n"
    )
