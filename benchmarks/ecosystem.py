"""Ecosystem check: integ-lint's precision and recall measured on real projects.

Like ruff's ecosystem check and mypy_primer: a pinned set of real projects from PyPI
(``benchmarks/ecosystem/projects.toml``), integ-lint run on each with its defaults,
and labels kept in the repository (``benchmarks/ecosystem/labels/<project>.toml``)
that say, for each judged finding, whether it is true, false or debatable, and which
real defects a rule misses. One command per step::

    python benchmarks/ecosystem.py fetch            # download (sha256-checked), unpack
    python benchmarks/ecosystem.py run              # integ-lint --format json on each
    python benchmarks/ecosystem.py report           # precision / recall per project and code
    python benchmarks/ecosystem.py report --json    # the same as JSON
    python benchmarks/ecosystem.py label kedro 3fa2c1d0 false "why, in one line"
    python benchmarks/ecosystem.py label kedro miss IL201 kedro/runner.py 88 "why"
    python benchmarks/ecosystem.py diff origin/main # findings that appear / disappear
    python benchmarks/ecosystem.py slice            # the CI slice (two small projects)

The analysed projects are only unpacked and read, never imported or run. Usage and
the labelling rules: ``benchmarks/ecosystem/README.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import fcntl
import functools
import hashlib
import json
import os
import random
import shutil
import stat
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from configparser import ConfigParser
from configparser import Error as ConfigParserError
from dataclasses import dataclass, field, fields
from pathlib import Path, PurePosixPath
from typing import IO, Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

from integ_lint.files.atomic import write_atomic

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
ECOSYSTEM = HERE / "ecosystem"
PROJECTS_FILE = ECOSYSTEM / "projects.toml"
LABELS_DIR = ECOSYSTEM / "labels"
SLICE_FILE = ECOSYSTEM / "slice.toml"
CACHE_ENV = "INTEG_LINT_ECOSYSTEM_CACHE"
DEFAULT_CACHE = Path("~/.cache/integ-lint-ecosystem")
CONTRACTS_CONFIG = ".integ-lint-ecosystem-contracts.toml"
VERDICTS = ("true", "false", "debatable")
DEFAULT_TAG = "latest"


class EcosystemError(Exception):
    """A problem the user must fix (bad checksum, unknown project, ...): one line."""


# -- projects ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Project:
    name: str
    version: str
    dist: str  # "sdist" or "wheel"
    filename: str
    sha256: str
    families: tuple[str, ...] = ()
    note: str = ""

    @property
    def requirement(self) -> str:
        return f"{self.name}=={self.version}"

    @property
    def key(self) -> str:
        """The unpacked tree's folder name: the archive's own ``<dist>-<version>``
        (``stable_baselines3-2.9.2``), as pip and the unpacked sdist spell it."""
        if self.dist == "wheel":
            return "-".join(self.filename.split("-")[:2])
        return self.filename.removesuffix(".tar.gz").removesuffix(".zip")


def _read_toml(path: Path) -> dict[str, Any]:
    """A TOML file of this folder (projects, labels, slice); any problem is one line."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise EcosystemError(f"{path}: {exc}") from None


def _tables(document: dict[str, Any], key: str, path: Path) -> list[dict[str, Any]]:
    """The ``[[key]]`` tables of ``document`` (none when it has no ``key``)."""
    tables = document.get(key, [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise EcosystemError(f"{path}: {key}: expected [[{key}]] tables")
    return tables


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def load_projects(path: Path = PROJECTS_FILE) -> list[Project]:
    projects: list[Project] = []
    for index, table in enumerate(_tables(_read_toml(path), "project", path)):
        where = f"{path}: project[{index}]"
        for key in ("name", "version", "dist", "filename", "sha256"):
            if not isinstance(table.get(key), str):
                raise EcosystemError(f"{where}.{key}: missing or not a string")
        for key in ("name", "filename"):  # they name files and folders of the cache
            if table[key] != PurePosixPath(table[key]).name or table[key][:1] in ("", "."):
                raise EcosystemError(f"{where}.{key}: expected a plain name, got {table[key]!r}")
        if table["dist"] not in ("sdist", "wheel"):
            raise EcosystemError(f"{where}.dist: expected 'sdist' or 'wheel'")
        if not _strings(table.get("families", [])) or not isinstance(table.get("note", ""), str):
            raise EcosystemError(f"{where}: families must be a list of strings, note a string")
        if any(p.name == table["name"] for p in projects):
            raise EcosystemError(f"{where}.name: {table['name']!r} is pinned twice")
        projects.append(
            Project(
                name=table["name"],
                version=table["version"],
                dist=table["dist"],
                filename=table["filename"],
                sha256=table["sha256"].lower(),
                families=tuple(table.get("families", ())),
                note=table.get("note", ""),
            )
        )
    return projects


def select_projects(projects: list[Project], names: Sequence[str] | None) -> list[Project]:
    if not names:
        return projects
    by_name = {p.name: p for p in projects}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise EcosystemError(
            f"unknown project(s) {', '.join(unknown)} (known: {', '.join(sorted(by_name))})"
        )
    return [by_name[n] for n in names]


def find_project(projects: list[Project], name: str) -> Project:
    return select_projects(projects, [name])[0]


# -- cache layout -------------------------------------------------------------------------


@dataclass(frozen=True)
class Cache:
    root: Path
    runs_root: Path | None = None  # default: <root>/runs

    @property
    def downloads(self) -> Path:
        return self.root / "dl"

    @property
    def sources(self) -> Path:
        return self.root / "src"

    def runs(self, tag: str) -> Path:
        return (self.runs_root or self.root / "runs") / tag

    def tree(self, project: Project) -> Path:
        return self.sources / project.key


def cache_from(arg: str | None) -> Cache:
    raw = arg or os.environ.get(CACHE_ENV) or str(DEFAULT_CACHE)
    return Cache(Path(raw).expanduser().resolve())


# -- fetch ----------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(project: Project, cache: Cache, log: Any = print) -> Path:
    """The verified archive of ``project`` in the cache (downloaded on a miss)."""
    archive = cache.downloads / project.filename
    if not archive.exists():
        cache.downloads.mkdir(parents=True, exist_ok=True)
        log(f"downloading {project.requirement} ({project.dist}) ...")
        with tempfile.TemporaryDirectory(dir=cache.downloads, prefix=".download-") as tmp:
            binary = (
                ["--no-binary", ":all:"] if project.dist == "sdist" else ["--only-binary", ":all:"]
            )
            command = [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--disable-pip-version-check",
                "--no-deps",
                *binary,
                project.requirement,
                "-d",
                tmp,
            ]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
                raise EcosystemError(f"pip download {project.requirement} failed: {tail[0]}")
            fetched = Path(tmp) / project.filename
            if not fetched.exists():
                got = ", ".join(p.name for p in Path(tmp).iterdir()) or "nothing"
                raise EcosystemError(
                    f"pip download {project.requirement} gave {got}, not {project.filename}"
                )
            os.replace(fetched, archive)
    actual = sha256_of(archive)
    if actual != project.sha256:
        raise EcosystemError(
            f"{archive}: sha256 {actual} does not match projects.toml ({project.sha256}); "
            "delete the file to download it again"
        )
    return archive


def _safe_member_path(name: str) -> PurePosixPath | None:
    """The member's relative path, or None when it would leave the destination."""
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or any(part in ("..", "") for part in path.parts) or not path.parts:
        return None
    if ":" in path.parts[0]:  # a drive letter
        return None
    return path


def _strip_top(files: Sequence[PurePosixPath]) -> int:
    """1 when every file lies under one top folder (an sdist), else 0 (a wheel)."""
    tops = {p.parts[0] for p in files}
    nested = all(len(p.parts) > 1 for p in files)
    return 1 if len(tops) == 1 and nested else 0


# A member's content, or None when the archive has none to give.
_Opener = Callable[[], "IO[bytes] | None"]


def _listing(bundle: zipfile.ZipFile | tarfile.TarFile) -> list[tuple[str, str, _Opener]]:
    """Every member of ``bundle`` as (name, "file" | "dir" | "other", opener)."""
    listing: list[tuple[str, str, _Opener]] = []
    if isinstance(bundle, zipfile.ZipFile):
        for info in bundle.infolist():
            kind = "dir" if info.is_dir() else "file"
            if stat.S_ISLNK(info.external_attr >> 16):
                kind = "other"
            listing.append((info.filename, kind, functools.partial(bundle.open, info)))
        return listing
    for member in bundle.getmembers():
        kind = "file" if member.isfile() else "dir" if member.isdir() else "other"
        listing.append((member.name, kind, functools.partial(bundle.extractfile, member)))
    return listing


def safe_unpack(archive: Path, destination: Path) -> int:
    """Unpack regular files and folders of ``archive`` (a wheel or zip, else a tar)
    into ``destination``; members that are links, devices or would land outside it are
    skipped. Returns how many were skipped."""
    skipped = 0
    is_zip = archive.name.endswith((".whl", ".zip"))
    with zipfile.ZipFile(archive) if is_zip else tarfile.open(archive) as bundle:
        kept: list[tuple[PurePosixPath, str, _Opener]] = []
        for name, kind, opener in _listing(bundle):
            relative = _safe_member_path(name.rstrip("/"))
            if relative is None or kind == "other":
                skipped += 1
                continue
            kept.append((relative, kind, opener))
        strip = _strip_top([relative for relative, kind, _ in kept if kind == "file"])
        for relative, kind, opener in kept:
            if len(relative.parts) <= strip:
                continue
            target = destination.joinpath(*relative.parts[strip:])
            if kind == "dir":
                target.mkdir(parents=True, exist_ok=True)
                continue
            source = opener()
            if source is None:
                skipped += 1
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with source, target.open("wb") as sink:
                shutil.copyfileobj(source, sink)
    return skipped


def fetch(project: Project, cache: Cache, log: Any = print) -> Path:
    """The unpacked tree of ``project`` (downloaded, verified and unpacked on a miss).
    A tree that already exists is never touched: others may be reading it."""
    tree = cache.tree(project)
    if tree.is_dir():
        if (cache.downloads / project.filename).exists():
            download(project, cache, log)  # verifies the checksum, downloads nothing
        return tree
    archive = download(project, cache, log)
    cache.sources.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=cache.sources, prefix=f".{project.key}-"))
    staging.chmod(0o755)  # mkdtemp's 0700 would hide the tree from other users
    try:
        skipped = safe_unpack(archive, staging)
        if project.dist == "wheel" and not (staging / "pyproject.toml").exists():
            # A wheel has no project file: this one marks the tree as the project root
            # (so nothing above it is taken for the project's configuration).
            (staging / "pyproject.toml").write_text(
                f'[project]\nname = "{project.name}"\nversion = "0"\n', encoding="utf-8"
            )
        if skipped:
            log(f"{project.key}: skipped {skipped} link or unsafe member(s)")
        try:
            staging.rename(tree)  # atomic: nobody sees half a tree
        except OSError:
            if not tree.is_dir():
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    log(f"unpacked {project.key} into {tree}")
    return tree


# -- import-linter contracts --------------------------------------------------------------

# import-linter keys integ-lint understands, per contract type (see docs/rules/boundaries.md).
_CONTRACT_KEYS = {
    "forbidden": {"source_modules", "forbidden_modules", "allow_indirect_imports"},
    "layers": {"layers", "containers"},
    "independence": {"modules"},
}
_LIST_KEYS = {
    "source_modules",
    "forbidden_modules",
    "layers",
    "containers",
    "modules",
    "ignore_imports",
}


def _ini_list(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


def read_import_linter_contracts(tree: Path) -> tuple[list[dict[str, Any]], list[str], str]:
    """The project's import-linter contracts translated to integ-lint's keys, the
    notes on what could not be carried over, and the file they came from ("" when the
    project ships none). Reads ``.importlinter``, ``setup.cfg`` and ``pyproject.toml``."""
    raw: list[tuple[str, dict[str, Any]]] = []
    source = ""
    for name in (".importlinter", "setup.cfg"):
        path = tree / name
        if not path.is_file():
            continue
        parser = ConfigParser(interpolation=None)
        try:
            parser.read_string(path.read_text(encoding="utf-8"), source=str(path))
        except (ConfigParserError, UnicodeDecodeError):
            continue
        for section in parser.sections():
            if section.startswith("importlinter:contract:"):
                contract_id = section.split(":", 2)[2]
                raw.append((contract_id, dict(parser[section])))
        if raw:
            source = name
            break
    if not raw and (tree / "pyproject.toml").is_file():
        try:
            document = tomllib.loads((tree / "pyproject.toml").read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            document = {}
        table = document.get("tool", {}).get("importlinter", {})
        for index, contract in enumerate(table.get("contracts", [])):
            if isinstance(contract, dict):
                raw.append((str(contract.get("id", contract.get("name", index))), dict(contract)))
        if raw:
            source = "pyproject.toml"
    contracts: list[dict[str, Any]] = []
    notes: list[str] = []
    for contract_id, table in raw:
        kind = table.get("type")
        if kind not in _CONTRACT_KEYS:
            notes.append(f"contract {contract_id!r}: type {kind!r} is not supported, skipped")
            continue
        converted: dict[str, Any] = {"name": str(table.get("name", contract_id)), "type": kind}
        for key, value in table.items():
            if key in ("name", "type", "id"):
                continue
            if key not in _CONTRACT_KEYS[kind] | {"ignore_imports"}:
                notes.append(f"contract {contract_id!r}: key {key!r} not carried over")
                continue
            if key in _LIST_KEYS:
                converted[key] = _ini_list(value) if isinstance(value, str) else list(value)
            elif key == "allow_indirect_imports":
                converted[key] = (
                    value.strip().lower() == "true" if isinstance(value, str) else bool(value)
                )
        contracts.append(converted)
    return contracts, notes, source


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def write_contracts_config(tree: Path, contracts: list[dict[str, Any]]) -> Path:
    """A config beside the project's own (same root, so the same relative paths and
    fingerprints) holding only the contracts and the project's scripts: everything
    else stays at integ-lint's defaults."""
    lines = ["# Written by benchmarks/ecosystem.py run: the project's import-linter contracts.", ""]
    pyproject = tree / "pyproject.toml"
    if pyproject.is_file():
        try:
            project_table = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            project_table = {}
        for table in ("scripts", "gui-scripts"):
            entries = project_table.get(table, {})
            if isinstance(entries, dict) and entries:
                lines.append(f"[project.{table}]")
                lines += [f"{_toml_value(k)} = {_toml_value(str(v))}" for k, v in entries.items()]
                lines.append("")
    lines.append("[tool.integ-lint]")
    lines.append("")
    for contract in contracts:
        lines.append("[[tool.integ-lint.boundaries.contracts]]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in contract.items()]
        lines.append("")
    path = tree / CONTRACTS_CONFIG
    write_atomic(path, "\n".join(lines))
    return path


# -- run ----------------------------------------------------------------------------------


def installed_cli() -> list[str]:
    """The integ-lint command of the running interpreter's environment."""
    script = Path(sys.executable).parent / ("integ-lint.exe" if os.name == "nt" else "integ-lint")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "integ_lint"]


def tool_revision(repo: Path = REPO) -> str:
    """The integ-lint commit being measured, ``+dirty`` when its code has uncommitted
    changes (the installed CLI is editable and runs the working tree)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "integ_lint", "rules"],
            cwd=repo,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


@dataclass
class RunResult:
    project: str
    variant: str  # "defaults" or "contracts"
    returncode: int
    seconds: float
    output: Path
    error: str = ""


def run_integ_lint(
    command: list[str],
    tree: Path,
    output: Path,
    config: Path | None = None,
    jobs: int | None = None,
    env: dict[str, str] | None = None,
) -> tuple[int, float, str]:
    argv = [*command, "check", str(tree), "--format", "json", "--no-cache", "--exit-zero"]
    argv += ["--no-progress", "--output", str(output)]
    if config is not None:
        argv += ["--config", str(config)]
    if jobs is not None:
        argv += ["--jobs", str(jobs)]
    output.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=tree, capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - started
    error = ""
    if done.returncode not in (0, 3):  # 3: incomplete (a file or rule failed), still a report
        error = done.stderr.strip() or done.stdout.strip() or f"exit {done.returncode}, no output"
    return done.returncode, seconds, error


def run_projects(
    projects: list[Project],
    cache: Cache,
    tag: str,
    command: list[str] | None = None,
    revision: str | None = None,
    jobs: int | None = None,
    env: dict[str, str] | None = None,
    contracts: bool = True,
    log: Any = print,
) -> list[RunResult]:
    command = command or installed_cli()
    out_dir = cache.runs(tag)
    results: list[RunResult] = []
    meta_path = out_dir / "meta.json"
    run_info = {
        "tag": tag,
        "revision": revision or tool_revision(),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join(command),
    }
    for project in projects:
        tree = fetch(project, cache, log)
        variants: list[tuple[str, Path | None]] = [("defaults", None)]
        notes: list[str] = []
        if contracts:
            found, notes, source = read_import_linter_contracts(tree)
            if found:
                variants.append(("contracts", write_contracts_config(tree, found)))
                notes.insert(0, f"{len(found)} contract(s) from {source}")
        for variant, config in variants:
            output = out_dir / f"{project.name}.{variant}.json"
            code, seconds, error = run_integ_lint(command, tree, output, config, jobs, env)
            result = RunResult(project.name, variant, code, seconds, output, error)
            results.append(result)
            count = "?"
            if not error:
                count = str(len(load_run(output)["findings"]))
            log(
                f"{project.key} [{variant}]: exit {code}, {count} findings, {seconds:.1f}s"
                + (f" -- {error.splitlines()[-1]}" if error else "")
            )
            if error:
                # Never leave an earlier run's report behind as if it were this one's.
                output.unlink(missing_ok=True)
            entry = {
                "version": project.version,
                "exit": code,
                "seconds": round(seconds, 1),
                "error": error,
                "notes": notes if variant == "contracts" else [],
                **run_info,
                "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            }
            with _locked(out_dir):  # several runs may share a tag
                try:
                    meta = json.loads(meta_path.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    meta = {"projects": {}}
                meta.update(run_info)
                meta.setdefault("projects", {}).setdefault(project.name, {})[variant] = entry
                write_atomic(meta_path, json.dumps(meta, indent=2) + "\n")
    return results


def run_failure(cache: Cache, tag: str, project: str) -> str:
    """Why the project's defaults run under ``tag`` left no report, as ``meta.json``
    recorded it ("" when it recorded no failure)."""
    entry = _run_meta(cache, tag).get("projects", {}).get(project, {}).get("defaults", {})
    error = str(entry.get("error") or "")
    return f"its run failed (exit {entry.get('exit')}): {error.splitlines()[-1]}" if error else ""


def load_run(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise EcosystemError(f"{path}: cannot read the run ({exc}); run it first") from None
    return data


@dataclass(frozen=True)
class Found:
    """One finding of a run, as the report needs it."""

    project: str
    variant: str
    fingerprint: str
    code: str
    path: str
    line: int
    end_line: int
    message: str
    scope: str


def findings_of(project: Project, cache: Cache, tag: str) -> list[Found]:
    """The findings of the defaults run, plus the contract violations (IL102) of the
    contracts run."""
    found: list[Found] = []
    seen: set[str] = set()
    for variant in ("defaults", "contracts"):
        path = cache.runs(tag) / f"{project.name}.{variant}.json"
        if variant == "contracts" and not path.exists():
            continue
        if not path.exists() and (failure := run_failure(cache, tag, project.name)):
            raise EcosystemError(f"{project.name}: {failure}")
        for item in load_run(path)["findings"]:
            if item["fingerprint"] in seen:
                continue
            if variant == "contracts" and item["code"] != "IL102":
                # The contracts run differs from the defaults run only by contracts; any
                # other difference comes from runs of different integ-lint revisions.
                continue
            seen.add(item["fingerprint"])
            found.append(
                Found(
                    project=project.name,
                    variant=variant,
                    fingerprint=item["fingerprint"],
                    code=item["code"],
                    # Root-relative in every format version (v1's path; v2's project_path).
                    path=item.get("project_path", item["path"]),
                    line=item["line"],
                    end_line=item.get("end_line", item["line"]),
                    message=item["message"],
                    scope=item.get("scope", ""),
                )
            )
    return found


# -- labels -------------------------------------------------------------------------------


@dataclass
class Label:
    fingerprint: str
    code: str
    path: str
    line: int
    verdict: str
    reason: str
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Miss:
    code: str
    path: str
    line: int
    reason: str


@dataclass
class Labels:
    findings: dict[str, Label]  # by fingerprint; a later entry replaces an earlier one
    misses: list[Miss]


def labels_path(project: str, labels_dir: Path = LABELS_DIR) -> Path:
    return labels_dir / f"{project}.toml"


def load_labels(project: str, labels_dir: Path = LABELS_DIR) -> Labels:
    path = labels_path(project, labels_dir)
    if not path.exists():
        return Labels({}, [])
    document = _read_toml(path)
    findings: dict[str, Label] = {}
    for index, entry in enumerate(_tables(document, "finding", path)):
        verdict = entry.get("verdict")
        if verdict not in VERDICTS or not isinstance(entry.get("fingerprint"), str):
            raise EcosystemError(
                f"{path}: finding[{index}]: needs a fingerprint and a verdict in {VERDICTS}"
            )
        if not isinstance(entry.get("line", 0), int):
            raise EcosystemError(f"{path}: finding[{index}].line: expected a number")
        known = {"fingerprint", "code", "path", "line", "verdict", "reason"}
        findings[entry["fingerprint"]] = Label(
            fingerprint=entry["fingerprint"],
            code=str(entry.get("code", "")),
            path=str(entry.get("path", "")),
            line=int(entry.get("line", 0)),
            verdict=verdict,
            reason=str(entry.get("reason", "")),
            extra={k: v for k, v in entry.items() if k not in known},
        )
    misses = []
    for index, entry in enumerate(_tables(document, "miss", path)):
        try:
            misses.append(
                Miss(
                    str(entry["code"]), str(entry["path"]), int(entry["line"]), str(entry["reason"])
                )
            )
        except (KeyError, TypeError, ValueError):
            raise EcosystemError(f"{path}: miss[{index}]: needs code, path, line, reason") from None
    return Labels(findings, misses)


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """An exclusive lock on ``directory`` (flock on the folder itself: no lock file)."""
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def append_entry(
    project: str, table: str, entry: dict[str, Any], labels_dir: Path = LABELS_DIR
) -> Path:
    """Append one ``[[table]]`` entry to the project's label file, atomically and under
    a lock (several people label at once)."""
    path = labels_path(project, labels_dir)
    block = [f"\n[[{table}]]"] + [f"{key} = {_toml_value(value)}" for key, value in entry.items()]
    with _locked(labels_dir):
        text = (
            path.read_text(encoding="utf-8")
            if path.exists()
            else (
                f"# Labels for integ-lint findings on {project} "
                "(written by `benchmarks/ecosystem.py label`).\n"
            )
        )
        new_text = text.rstrip("\n") + "\n" + "\n".join(block) + "\n"
        try:
            tomllib.loads(new_text)  # never write a file that no longer parses
        except tomllib.TOMLDecodeError as exc:
            raise EcosystemError(f"{path}: {exc}; fix the file, then label again") from None
        write_atomic(path, new_text)
    return path


def source_line(tree: Path, relpath: str, line: int) -> str:
    try:
        with (tree / relpath).open(encoding="utf-8", errors="replace") as handle:
            for number, text in enumerate(handle, start=1):
                if number == line:
                    return text.strip()
    except OSError:
        return ""
    return ""


def resolve_fingerprint(found: list[Found], prefix: str) -> Found:
    matches = [f for f in found if f.fingerprint.startswith(prefix)]
    if not matches:
        raise EcosystemError(f"no finding of the run has a fingerprint starting {prefix!r}")
    if len({f.fingerprint for f in matches}) > 1:
        raise EcosystemError(f"fingerprint prefix {prefix!r} is ambiguous: give more characters")
    return matches[0]


# -- report -------------------------------------------------------------------------------


@dataclass
class Row:
    project: str
    code: str
    findings: int = 0
    labelled: int = 0
    true: int = 0
    false: int = 0
    debatable: int = 0
    misses: int = 0
    misses_found: int = 0
    gone_true: int = 0  # labelled true, no longer reported: lost recall
    gone_false: int = 0  # labelled false, no longer reported: fixed

    @property
    def precision(self) -> float | None:
        return self.true / self.labelled if self.labelled else None

    @property
    def recall(self) -> float | None:
        return self.misses_found / self.misses if self.misses else None

    def add(self, other: Row) -> None:
        for name in _ROW_COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, Any]:
        return {key: getattr(self, key) for key in _ROW_KEYS}


# A Row's counters (summed by Row.add), and the keys of its JSON form, in their order.
_ROW_COUNTS = tuple(f.name for f in fields(Row) if f.name not in ("project", "code"))
_ROW_KEYS = (
    "project",
    "code",
    "findings",
    "labelled",
    "true",
    "false",
    "debatable",
    "precision",
    "misses_found",
    "misses",
    "recall",
    "gone_true",
    "gone_false",
)


def miss_found(miss: Miss, found: Iterable[Found]) -> bool:
    return any(
        f.code == miss.code
        and f.path == miss.path
        and (f.line <= miss.line <= max(f.end_line, f.line) or abs(f.line - miss.line) <= 1)
        for f in found
    )


@dataclass
class ProjectReport:
    project: Project
    rows: dict[str, Row]
    unlabelled: list[Found]
    gone: list[Label]


def project_report(project: Project, found: list[Found], labels: Labels) -> ProjectReport:
    rows: dict[str, Row] = {}

    def row(code: str) -> Row:
        return rows.setdefault(code, Row(project.name, code))

    unlabelled = []
    present = {f.fingerprint for f in found}
    for finding in found:
        r = row(finding.code)
        r.findings += 1
        label = labels.findings.get(finding.fingerprint)
        if label is None:
            unlabelled.append(finding)
            continue
        r.labelled += 1
        setattr(r, label.verdict, getattr(r, label.verdict) + 1)
    gone = [label for fp, label in labels.findings.items() if fp not in present]
    for label in gone:
        if label.verdict == "true":
            row(label.code).gone_true += 1
        elif label.verdict == "false":
            row(label.code).gone_false += 1
    for miss in labels.misses:
        r = row(miss.code)
        r.misses += 1
        if miss_found(miss, found):
            r.misses_found += 1
    return ProjectReport(project, dict(sorted(rows.items())), unlabelled, gone)


def build_report(
    projects: list[Project],
    cache: Cache,
    tag: str,
    labels_dir: Path = LABELS_DIR,
    codes: Sequence[str] = (),
) -> list[ProjectReport]:
    """One report per project; ``codes`` (prefixes such as ``IL4``) narrows every
    count, label and miss to those rule codes."""

    def wanted(code: str) -> bool:
        return not codes or code.startswith(tuple(codes))

    reports = []
    for project in projects:
        found = [f for f in findings_of(project, cache, tag) if wanted(f.code)]
        labels = load_labels(project.name, labels_dir)
        labels = Labels(
            {fp: label for fp, label in labels.findings.items() if wanted(label.code)},
            [miss for miss in labels.misses if wanted(miss.code)],
        )
        reports.append(project_report(project, found, labels))
    return reports


def totals_by_code(reports: list[ProjectReport]) -> dict[str, Row]:
    totals: dict[str, Row] = {}
    for report in reports:
        for code, row in report.rows.items():
            totals.setdefault(code, Row("all", code)).add(row)
    return dict(sorted(totals.items()))


def overall(reports: list[ProjectReport]) -> Row:
    total = Row("all", "all")
    for row in totals_by_code(reports).values():
        total.add(row)
    return total


def sample_unlabelled(unlabelled: list[Found], per_code: int, seed: int) -> list[Found]:
    """At most ``per_code`` unlabelled findings per code, drawn with ``seed`` from the
    fingerprint-sorted list (the same sample for the same findings)."""
    by_code: dict[str, list[Found]] = defaultdict(list)
    for finding in sorted(unlabelled, key=lambda f: f.fingerprint):
        by_code[finding.code].append(finding)
    chosen = []
    for code in sorted(by_code):
        group = by_code[code]
        rng = random.Random(f"{seed}:{code}")
        chosen += sorted(
            rng.sample(group, min(per_code, len(group))), key=lambda f: (f.path, f.line)
        )
    return chosen


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def _ratio(found: int, total: int) -> str:
    return f"{found}/{total}" if total else "-"


def markdown_table(reports: list[ProjectReport]) -> str:
    head = (
        "| code | findings | labelled | true | false | debatable | precision "
        "| misses found | gone true / false | projects |"
    )
    lines = [head, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    projects_by_code: dict[str, list[str]] = defaultdict(list)
    for report in reports:
        for code, row in report.rows.items():
            if row.findings:
                projects_by_code[code].append(report.project.name)

    def cells(row: Row) -> str:
        return (
            f"{row.findings} | {row.labelled} | {row.true} | {row.false} | {row.debatable} | "
            f"{_pct(row.precision)} | {_ratio(row.misses_found, row.misses)} | "
            f"{row.gone_true} / {row.gone_false}"
        )

    for code, row in totals_by_code(reports).items():
        lines.append(f"| {code} | {cells(row)} | {', '.join(projects_by_code[code])} |")
    lines.append(f"| **all** | {cells(overall(reports))} | |")
    return "\n".join(lines)


def print_report(
    reports: list[ProjectReport],
    cache: Cache,
    tag: str,
    show: str,
    per_code: int,
    seed: int,
) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 140, soft_wrap=True)
    projects = [r.project for r in reports]
    console.print(f"{run_provenance(cache, tag, projects)} (tag {tag!r})", markup=False)
    table = Table(title="per project and rule code")
    # "gone": labelled findings no longer reported (true: lost; false: fixed)
    cells: dict[str, Callable[[Row], str]] = {
        "project": lambda row: row.project,
        "code": lambda row: row.code,
        "findings": lambda row: str(row.findings),
        "labelled": lambda row: str(row.labelled),
        "true": lambda row: str(row.true),
        "false": lambda row: str(row.false),
        "debatable": lambda row: str(row.debatable),
        "precision": lambda row: _pct(row.precision),
        "misses found": lambda row: _ratio(row.misses_found, row.misses),
        "gone true": lambda row: str(row.gone_true or ""),
        "gone false": lambda row: str(row.gone_false or ""),
    }
    for column in cells:
        table.add_column(column, justify="left" if column in ("project", "code") else "right")

    def add(row: Row, style: str | None = None) -> None:
        table.add_row(*(cell(row) for cell in cells.values()), style=style)

    for report in reports:
        for row in report.rows.values():
            add(row)
        table.add_section()
    for row in totals_by_code(reports).values():
        add(row, "bold")
    add(overall(reports), "bold")
    console.print(table)
    if show == "none":
        return
    for report in reports:
        listed = report.unlabelled
        if show == "sample":
            listed = sample_unlabelled(listed, per_code, seed)
        if not listed:
            continue
        tree = cache.tree(report.project)
        console.print(
            f"\n[bold]{report.project.name}[/]: {len(report.unlabelled)} unlabelled"
            + (f", showing a seeded sample of {len(listed)}" if show == "sample" else "")
        )
        for finding in listed:
            console.print(
                f"  {finding.fingerprint[:12]} {finding.code} {finding.path}:{finding.line} "
                f"[{finding.variant}] {finding.message}",
                markup=False,
                highlight=False,
            )
            console.print(
                f"      | {source_line(tree, finding.path, finding.line)}",
                markup=False,
                highlight=False,
            )


def run_provenance(cache: Cache, tag: str, projects: Iterable[Project]) -> str:
    """Which integ-lint revision produced the projects' runs, and when: one line. Runs
    under one tag may come from different revisions (``run -p`` updates one project)."""
    meta = _run_meta(cache, tag).get("projects", {})
    dates: dict[str, list[str]] = defaultdict(list)
    names: dict[str, list[str]] = defaultdict(list)
    for project in projects:
        entry = meta.get(project.name, {}).get("defaults", {})
        revision = str(entry.get("revision", "?"))
        dates[revision].append(str(entry.get("date", "?")))
        names[revision].append(project.name)

    def when(revision: str) -> str:
        first, last = min(dates[revision]), max(dates[revision])
        return first if first == last else f"{first} to {last}"

    if len(dates) == 1:
        revision = next(iter(dates))
        return f"integ-lint {revision}, {when(revision)}"
    return "; ".join(
        f"integ-lint {revision}, {when(revision)} ({', '.join(names[revision])})"
        for revision in dates
    )


def _run_meta(cache: Cache, tag: str) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads((cache.runs(tag) / "meta.json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data


def report_json(reports: list[ProjectReport], cache: Cache, tag: str) -> dict[str, Any]:
    meta = _run_meta(cache, tag)
    return {
        "revision": meta.get("revision"),
        "date": meta.get("date"),
        "provenance": run_provenance(cache, tag, [r.project for r in reports]),
        "tag": tag,
        "projects": [
            {
                "name": r.project.name,
                "version": r.project.version,
                "rows": [row.as_dict() for row in r.rows.values()],
                "unlabelled": [
                    {
                        "fingerprint": f.fingerprint,
                        "code": f.code,
                        "path": f.path,
                        "line": f.line,
                        "variant": f.variant,
                        "message": f.message,
                        "code_line": source_line(cache.tree(r.project), f.path, f.line),
                    }
                    for f in r.unlabelled
                ],
                "gone": [
                    {
                        "fingerprint": g.fingerprint,
                        "code": g.code,
                        "path": g.path,
                        "verdict": g.verdict,
                    }
                    for g in r.gone
                ],
            }
            for r in reports
        ],
        "by_code": [row.as_dict() for row in totals_by_code(reports).values()],
        "overall": overall(reports).as_dict(),
    }


# -- diff ---------------------------------------------------------------------------------


@contextlib.contextmanager
def revision_cli(revision: str) -> Iterator[tuple[list[str], dict[str, str], str]]:
    """integ-lint as of ``revision``: a git worktree installed (no dependencies, no
    build isolation) into a temporary virtualenv whose ``.pth`` file borrows the
    running environment's site-packages for the dependencies. A ``.pth`` line adds a
    folder without running the ``.pth`` files inside it, so the running environment's
    editable install of integ-lint stays out of the way."""
    resolved = subprocess.run(
        ["git", "rev-parse", "--short", f"{revision}^{{commit}}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    if resolved.returncode != 0:
        raise EcosystemError(f"unknown git revision {revision!r}")
    short = resolved.stdout.strip()
    with tempfile.TemporaryDirectory(prefix="integ-lint-eco-") as tmp:
        worktree = Path(tmp) / "tree"
        venv = Path(tmp) / "venv"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "--quiet", str(worktree), short],
            cwd=REPO,
            check=True,
        )
        try:
            subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
            python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
            site = Path(
                subprocess.run(
                    [
                        str(python),
                        "-c",
                        "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout.strip()
            )
            borrowed = [p for p in sys.path if p.endswith("site-packages")]
            (site / "_integ_lint_ecosystem_deps.pth").write_text("\n".join(borrowed) + "\n")
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--no-deps",
                    "--no-build-isolation",
                    "--target",
                    str(site),
                    str(worktree),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                raise EcosystemError(
                    f"cannot install integ-lint {short}: {done.stderr.strip()[-300:]}"
                )
            yield [str(python), "-I", "-m", "integ_lint"], dict(os.environ), short
        finally:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(worktree)],
                cwd=REPO,
                check=False,
                capture_output=True,
            )


def _describe(finding: Found, labels: Labels, tree: Path) -> dict[str, Any]:
    label = labels.findings.get(finding.fingerprint)
    return {
        "fingerprint": finding.fingerprint,
        "code": finding.code,
        "path": finding.path,
        "line": finding.line,
        "message": finding.message,
        "verdict": label.verdict if label else None,
        "code_line": source_line(tree, finding.path, finding.line),
    }


def diff_findings(
    projects: list[Project], cache: Cache, base_tag: str, head_tag: str
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    result: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for project in projects:
        base = {f.fingerprint: f for f in findings_of(project, cache, base_tag)}
        head = {f.fingerprint: f for f in findings_of(project, cache, head_tag)}
        labels = load_labels(project.name)
        tree = cache.tree(project)

        result[project.name] = {
            "appeared": [
                _describe(head[fp], labels, tree) for fp in sorted(head.keys() - base.keys())
            ],
            "disappeared": [
                _describe(base[fp], labels, tree) for fp in sorted(base.keys() - head.keys())
            ],
        }
    return result


# -- CI slice -----------------------------------------------------------------------------


@dataclass
class SliceState:
    projects: list[str]
    gone_false: dict[str, list[str]]  # labelled-false fingerprints no longer reported
    # labelled-true findings whose loss was accepted on purpose (edited by hand, with a
    # comment saying why): the slice does not fail on them
    accepted_lost_true: dict[str, list[str]] = field(default_factory=dict)


def load_slice(path: Path = SLICE_FILE) -> SliceState:
    document = _read_toml(path)
    if not _strings(document.get("projects", [])):
        raise EcosystemError(f"{path}: projects: expected a list of project names")

    def by_project(key: str) -> dict[str, list[str]]:
        table = document.get(key, {})
        if not isinstance(table, dict) or not all(_strings(v) for v in table.values()):
            raise EcosystemError(f"{path}: [{key}]: expected project = [fingerprints]")
        return {k: list(v) for k, v in table.items()}

    return SliceState(
        list(document.get("projects", [])),
        by_project("gone-false"),
        by_project("accepted-lost-true"),
    )


def write_slice(state: SliceState, path: Path = SLICE_FILE) -> None:
    lines = [
        "# The CI slice (tests/test_ecosystem_slice.py): these projects are checked on every",
        "# run of the test suite. `gone-false` lists labelled-false findings that integ-lint",
        "# no longer reports: they must not come back. Updated by",
        "# `python benchmarks/ecosystem.py slice --update` (entries are only ever added).",
        "# `[accepted-lost-true]` (by hand, last, one comment per entry saying why) lists",
        "# labelled-true findings whose disappearance was a deliberate decision.",
        "",
        f"projects = {_toml_value(state.projects)}",
        "",
        "[gone-false]",
    ]
    for project in state.projects:
        fingerprints = sorted(set(state.gone_false.get(project, [])))
        lines.append(f"{_toml_value(project)} = [")
        lines += [f"    {_toml_value(fp)}," for fp in fingerprints]
        lines.append("]")
    # [accepted-lost-true] is written by hand, with reasons: carried over verbatim.
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    start = text.find("\n[accepted-lost-true]")  # the table header, not a comment's mention
    lines += ["", text[start + 1 :].rstrip("\n") if start >= 0 else "[accepted-lost-true]"]
    write_atomic(path, "\n".join(lines) + "\n")


@dataclass
class SliceOutcome:
    project: str
    lost_true: list[Label]  # labelled true, no longer reported
    back_false: list[Found]  # labelled false, gone once, reported again
    newly_gone_false: list[str]


def check_slice(
    project: Project, found: list[Found], labels: Labels, state: SliceState
) -> SliceOutcome:
    present = {f.fingerprint: f for f in found}
    accepted = set(state.accepted_lost_true.get(project.name, []))
    lost = [
        label
        for fp, label in labels.findings.items()
        if label.verdict == "true" and fp not in present and fp not in accepted
    ]
    gone_before = set(state.gone_false.get(project.name, []))
    back = [present[fp] for fp in sorted(gone_before & present.keys())]
    newly_gone = sorted(
        fp
        for fp, label in labels.findings.items()
        if label.verdict == "false" and fp not in present and fp not in gone_before
    )
    return SliceOutcome(project.name, lost, back, newly_gone)


def run_slice(
    cache: Cache,
    tag: str = "slice",
    update: bool = False,
    log: Any = print,
    command: list[str] | None = None,
    env: dict[str, str] | None = None,
    revision: str | None = None,
) -> list[SliceOutcome]:
    state = load_slice()
    projects = select_projects(load_projects(), state.projects)
    run_projects(projects, cache, tag, command=command, revision=revision, env=env, log=log)
    outcomes = []
    for project in projects:
        outcome = check_slice(
            project, findings_of(project, cache, tag), load_labels(project.name), state
        )
        outcomes.append(outcome)
        if update and outcome.newly_gone_false:
            state.gone_false.setdefault(project.name, []).extend(outcome.newly_gone_false)
    if update:
        write_slice(state)
    return outcomes


# -- command line -------------------------------------------------------------------------


def _cmd_fetch(args: argparse.Namespace) -> int:
    cache = cache_from(args.cache_dir)
    for project in select_projects(load_projects(), args.project):
        tree = fetch(project, cache)
        print(f"{project.key}: {tree}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    cache = cache_from(args.cache_dir)
    projects = select_projects(load_projects(), args.project)
    results = run_projects(
        projects, cache, args.tag, jobs=args.jobs, contracts=not args.no_contracts
    )
    failed = [r for r in results if r.error]
    print(f"runs written to {cache.runs(args.tag)}")
    return 1 if failed else 0


def _cmd_report(args: argparse.Namespace) -> int:
    if args.diff:  # `report --diff REV` is `diff REV`, as in ruff's ecosystem check
        args.base, args.head, args.jobs = args.diff, None, None
        return _cmd_diff(args)
    cache = cache_from(args.cache_dir)
    projects = []
    for project in select_projects(load_projects(), args.project):
        if (cache.runs(args.tag) / f"{project.name}.defaults.json").exists():
            projects.append(project)
            continue
        # Left out, saying why when its run failed or it was asked for by name.
        why = run_failure(cache, args.tag, project.name) or ("not run" if args.project else "")
        if why:
            print(f"ecosystem.py: {project.name} left out of the report: {why}", file=sys.stderr)
    if not projects:
        raise EcosystemError(f"no run under {cache.runs(args.tag)}: run `ecosystem.py run` first")
    reports = build_report(projects, cache, args.tag, codes=args.code or ())
    if args.json:
        print(json.dumps(report_json(reports, cache, args.tag), indent=2))
    elif args.markdown:
        print(run_provenance(cache, args.tag, projects) + "\n")
        print(markdown_table(reports))
    else:
        print_report(reports, cache, args.tag, args.unlabelled, args.per_code, args.seed)
    return 0


def _cmd_label(args: argparse.Namespace) -> int:
    projects = load_projects()
    project = find_project(projects, args.project)
    cache = cache_from(args.cache_dir)
    today = dt.date.today().isoformat()
    if args.target == "miss":
        if len(args.rest) != 4:
            raise EcosystemError("usage: label PROJECT miss CODE PATH LINE REASON")
        code, path, line, reason = args.rest
        if not line.isdigit():
            raise EcosystemError(f"LINE must be a number, got {line!r}")
        entry = {
            "code": code,
            "path": path,
            "line": int(line),
            "reason": reason,
            "version": project.version,
            "date": today,
        }
        written = append_entry(project.name, "miss", entry)
        print(f"{written}: miss {code} {path}:{line}")
        return 0
    if len(args.rest) != 2:
        raise EcosystemError("usage: label PROJECT FINGERPRINT VERDICT REASON")
    verdict, reason = args.rest
    if verdict not in VERDICTS:
        raise EcosystemError(f"VERDICT must be one of {', '.join(VERDICTS)}, got {verdict!r}")
    if not reason.strip():
        raise EcosystemError("REASON must say why, in one line")
    finding = resolve_fingerprint(findings_of(project, cache, args.tag), args.target)
    previous = load_labels(project.name).findings.get(finding.fingerprint)
    entry = {
        "fingerprint": finding.fingerprint,
        "code": finding.code,
        "path": finding.path,
        "line": finding.line,
        "verdict": verdict,
        "reason": " ".join(reason.split()),
        "code_line": source_line(cache.tree(project), finding.path, finding.line),
        "revision": _run_meta(cache, args.tag)
        .get("projects", {})
        .get(project.name, {})
        .get(finding.variant, {})
        .get("revision", "unknown"),
        "date": today,
    }
    written = append_entry(project.name, "finding", entry)
    again = f" (was {previous.verdict})" if previous else ""
    print(f"{written}: {finding.code} {finding.path}:{finding.line} {verdict}{again}")
    return 0


def _cmd_diff(args: argparse.Namespace) -> int:
    cache = cache_from(args.cache_dir)
    projects = select_projects(load_projects(), args.project)
    with revision_cli(args.base) as (command, env, short):
        base_tag = f"rev-{short}"
        print(f"running integ-lint {short} ...")
        run_projects(
            projects, cache, base_tag, command=command, revision=short, env=env, jobs=args.jobs
        )
    if args.head:
        with revision_cli(args.head) as (command, env, short):
            head_tag = f"rev-{short}"
            print(f"running integ-lint {short} ...")
            run_projects(
                projects, cache, head_tag, command=command, revision=short, env=env, jobs=args.jobs
            )
    else:
        head_tag = args.tag
        print(f"running the installed integ-lint ({tool_revision()}) ...")
        run_projects(projects, cache, head_tag, jobs=args.jobs)
    result = diff_findings(projects, cache, base_tag, head_tag)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for name, changes in result.items():
        print(f"\n{name}: +{len(changes['appeared'])} -{len(changes['disappeared'])}")
        for sign, key in (("+", "appeared"), ("-", "disappeared")):
            for item in changes[key]:
                verdict = item["verdict"] or "unlabelled"
                print(
                    f"  {sign} {item['code']} {item['path']}:{item['line']} [{verdict}] {item['message']}"
                )
                print(f"      | {item['code_line']}")
    return 0


def _cmd_slice(args: argparse.Namespace) -> int:
    cache = cache_from(args.cache_dir)
    if args.rev:
        # The committed code (what CI runs), not the working tree: lock in only what
        # a fresh clone will reproduce.
        with revision_cli(args.rev) as (command, env, short):
            outcomes = run_slice(
                cache, update=args.update, command=command, env=env, revision=short
            )
    else:
        outcomes = run_slice(cache, update=args.update)
    failed = False
    for outcome in outcomes:
        for label in outcome.lost_true:
            failed = True
            print(
                f"{outcome.project}: labelled-true finding disappeared: {label.code} {label.path}:{label.line} ({label.reason})"
            )
        for finding in outcome.back_false:
            failed = True
            print(
                f"{outcome.project}: labelled-false finding came back: {finding.code} {finding.path}:{finding.line}"
            )
        if outcome.newly_gone_false and not args.update:
            print(
                f"{outcome.project}: {len(outcome.newly_gone_false)} labelled-false finding(s) gone: run `slice --update` to lock that in"
            )
    print("slice: FAILED" if failed else "slice: ok")
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ecosystem.py",
        description="integ-lint's precision and recall on pinned real projects.",
    )
    parser.add_argument(
        "--cache-dir",
        help=f"downloads, unpacked trees and runs (default: ${CACHE_ENV} or {DEFAULT_CACHE})",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def projects_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("-p", "--project", action="append", help="only this project (repeatable)")

    def tag_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("--tag", default=DEFAULT_TAG, help="which run (default: %(default)s)")

    def scan_options(p: argparse.ArgumentParser) -> None:
        """The options of a command that runs integ-lint on the projects."""
        projects_option(p)
        tag_option(p)
        p.add_argument("-j", "--jobs", type=int, help="integ-lint --jobs")

    fetch_parser = sub.add_parser("fetch", help="download (sha256-checked) and unpack the projects")
    projects_option(fetch_parser)
    fetch_parser.set_defaults(handler=_cmd_fetch)

    run_parser = sub.add_parser(
        "run", help="run integ-lint (defaults, and contracts) on each project"
    )
    scan_options(run_parser)
    run_parser.add_argument("--no-contracts", action="store_true", help="skip the contracts runs")
    run_parser.set_defaults(handler=_cmd_run)

    report_parser = sub.add_parser("report", help="precision and recall per project and rule code")
    projects_option(report_parser)
    tag_option(report_parser)
    report_parser.add_argument("--json", action="store_true", help="print JSON")
    report_parser.add_argument("--markdown", action="store_true", help="print the README table")
    report_parser.add_argument(
        "--unlabelled",
        choices=("all", "sample", "none"),
        default="all",
        help="list every unlabelled finding, a seeded sample per code, or none",
    )
    report_parser.add_argument(
        "--per-code", type=int, default=10, help="sample size per code and project"
    )
    report_parser.add_argument("--seed", type=int, default=15, help="sample seed")
    report_parser.add_argument(
        "--code", action="append", help="only these rule codes or prefixes (repeatable: IL4)"
    )
    report_parser.add_argument(
        "--diff", metavar="REV", help="instead: findings that appeared/disappeared since REV"
    )
    report_parser.set_defaults(handler=_cmd_report)

    label_parser = sub.add_parser(
        "label",
        help="label a finding (PROJECT FINGERPRINT VERDICT REASON) or a miss (PROJECT miss CODE PATH LINE REASON)",
    )
    label_parser.add_argument("project")
    label_parser.add_argument("target", help="a fingerprint (or a unique prefix), or 'miss'")
    label_parser.add_argument("rest", nargs="+", help="VERDICT REASON, or CODE PATH LINE REASON")
    tag_option(label_parser)
    label_parser.set_defaults(handler=_cmd_label)

    diff_parser = sub.add_parser(
        "diff", help="findings that appear/disappear between two revisions"
    )
    diff_parser.add_argument("base", help="git revision of integ-lint to compare against")
    diff_parser.add_argument("--head", help="second revision (default: the installed integ-lint)")
    scan_options(diff_parser)
    diff_parser.add_argument("--json", action="store_true", help="print JSON")
    diff_parser.set_defaults(handler=_cmd_diff)

    slice_parser = sub.add_parser("slice", help="the CI slice: labelled findings must hold")
    slice_parser.add_argument(
        "--update", action="store_true", help="record labelled-false findings that are gone"
    )
    slice_parser.add_argument(
        "--rev",
        help="run integ-lint as of this git revision (e.g. HEAD) instead of the installed one",
    )
    slice_parser.set_defaults(handler=_cmd_slice)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result: int = args.handler(args)
    except EcosystemError as exc:
        print(f"ecosystem.py: error: {exc}", file=sys.stderr)
        return 2
    return result


if __name__ == "__main__":
    sys.exit(main())
