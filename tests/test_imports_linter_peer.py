"""integ-lint and import-linter agree on which contracts hold and which imports break them.

import-linter (grimp) parses the source statically; it only needs the package to be
findable on ``sys.path``, which ``PYTHONPATH`` provides. Both tools read the same
contracts (integ-lint reads import-linter's own configuration directly). For each
contract the verdict (kept or broken) must be the same, and so must the *offending
imports* ``(importer, imported, line)``: the imports that enter the forbidden, higher
or independent module, i.e. the last import of every illegal chain import-linter
prints (and every import of a direct break).

One deliberate difference is measured rather than hidden: for indirect chains
import-linter prints a subset of the offending imports that depends on how grimp
breaks ties between equally short chains (it removes each chain it finds before
looking for the next, so a second import into the target from the same module may
never be printed, and which one is printed varies from run to run). integ-lint lists
every import into the target that completes an illegal chain. So the check is:
import-linter's offending imports are a subset of integ-lint's, and every one of
integ-lint's extra imports completes a chain that import-linter reports through
another import of the same module. See docs/rules/boundaries.md.

The real projects (``slow``) come from the ecosystem check's cache
(``$INTEG_LINT_ECOSYSTEM_CACHE``, default ``~/.cache/integ-lint-ecosystem``:
``dl/<archive>`` and ``src/<archive without extension>``; ``/work/eco`` is used when it
has them), are pinned by version and sha256, and are only read, never imported.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import textwrap
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from integ_lint import api
from integ_lint.config import load_config
from integ_lint.config.importlinter import find_importlinter_config
from integ_lint.config.settings import BoundarySettings
from integ_lint.engine import RunOptions, index_project
from integ_lint.facts.imports import ImportFacts
from integ_lint.model.boundaries import check_contract_result, contracts_of
from integ_lint.model.import_graph import ImportGraph, import_graph

pytest.importorskip("importlinter")

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "web_backend"
_LINE = re.compile(r"^(\S+)(?: -> (\S+))? \((l\.[^)]*)\)$")
_PAIR = re.compile(r"^(\S+) is not allowed to import (\S+):$")
_VERDICT = re.compile(r"^(.+) (KEPT|BROKEN)(?: \(\d+ ignored imports?\))?$")

Link = tuple[str, str, int]


@dataclass
class Verdicts:
    kept: dict[str, bool]  # contract name -> kept
    links: dict[str, set[Link]]  # contract name -> offending imports
    undeclared: dict[str, set[str]]  # contract name -> modules an exhaustive contract misses
    # contract name -> (source, target) module pairs with an offending import
    pairs: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    direct: dict[str, set[Link]] = field(default_factory=dict)  # the direct imports only


def _lint_imports_command() -> list[str]:
    executable = Path(sys.executable).parent / "lint-imports"
    return [str(executable)] if executable.exists() else [shutil.which("lint-imports") or ""]


def _numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"l\.(\d+)", text)]


def _block_links(block: list[str]) -> tuple[set[Link], bool]:
    """The offending imports of one printed chain (or route): every import of a
    direct break; the last import(s) of an indirect one (the route's tails); and
    whether the break is direct."""
    parsed: list[tuple[str, str | None, list[int]]] = []
    for raw in block:
        text = raw.strip().lstrip("-&").strip()
        match = _LINE.match(text)
        if match:
            parsed.append((match.group(1), match.group(2), _numbers(match.group(3))))
    arrows = [i for i, (_, right, _) in enumerate(parsed) if right is not None]
    if not arrows:
        return set(), False
    last = arrows[-1]
    last_importer, last_imported, last_lines = parsed[last]
    assert last_imported is not None
    links = {(last_importer, last_imported, n) for n in last_lines}
    for module, right, lines in parsed[last + 1 :]:  # "& other.target (l.3)"
        if right is None:
            links.update((last_importer, module, n) for n in lines)
    if len(arrows) == 1:  # direct: the heads import the same target
        for module, right, lines in parsed[:last]:
            if right is None:
                links.update((module, last_imported, n) for n in lines)
    return links, len(arrows) == 1


def parse_lint_imports(stdout: str) -> Verdicts:
    kept: dict[str, bool] = {}
    for line in stdout.split("Broken contracts", 1)[0].splitlines():
        verdict = _VERDICT.match(line.strip())
        if verdict:
            kept[verdict.group(1)] = verdict.group(2) == "KEPT"
    links: dict[str, set[Link]] = defaultdict(set)
    direct: dict[str, set[Link]] = defaultdict(set)
    pairs: dict[str, set[tuple[str, str]]] = defaultdict(set)
    undeclared: dict[str, set[str]] = defaultdict(set)
    text = stdout.split("Broken contracts", 1)[1] if "Broken contracts" in stdout else ""
    lines = text.splitlines()
    contract = ""
    block: list[str] = []
    in_undeclared = False

    def flush() -> None:
        found, is_direct = _block_links(block)
        links[contract].update(found)
        if is_direct:
            direct[contract].update(found)
        block.clear()

    for index, line in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if line.strip() and set(following.strip()) == {"-"} and not line.startswith(" "):
            if block:
                flush()
            contract, in_undeclared = line.strip(), False
            continue
        pair = _PAIR.match(line)
        if pair:
            pairs[contract].add((pair.group(1), pair.group(2)))
            continue
        if line.startswith("The following modules are not listed as layers"):
            in_undeclared = True
            continue
        if in_undeclared:
            if line.startswith("- "):
                undeclared[contract].add(line[2:].strip())
            elif line.strip():
                in_undeclared = False
            continue
        if line.startswith("- "):
            if block:
                flush()
            block.append(line)
        elif line.startswith(" ") and block:
            block.append(line)
        elif not line.strip() and block:
            flush()
    if block:
        flush()
    return Verdicts(kept, dict(links), dict(undeclared), dict(pairs), dict(direct))


def lint_imports(workdir: Path, pythonpath: Path, config: str | None = None) -> Verdicts:
    if config is not None:
        (workdir / ".importlinter").write_text(textwrap.dedent(config))
    result = subprocess.run(
        [*_lint_imports_command(), "--no-cache"],
        cwd=workdir,
        env={
            "PYTHONPATH": str(pythonpath),
            "PATH": "/usr/bin:/bin",
            "NO_COLOR": "1",
            "COLUMNS": "100000",  # rich wraps long chains at the terminal width
        },
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return parse_lint_imports(result.stdout)


@functools.lru_cache(maxsize=4)
def _graph_of(root: Path) -> ImportGraph:
    """The import graph of ``root``, indexed once per test session."""
    project, _notes = index_project([root], load_config([root]), [ImportFacts], jobs=0)
    return import_graph(project)


def integ_lint_verdicts(
    root: Path, importlinter: Path | None = None, *, every_chain: bool = False
) -> Verdicts:
    """integ-lint's contract engine on ``root`` (every file, tests included, as
    import-linter sees them; IL102 itself reports on library files only), with the
    contracts of the project or, given, of the import-linter file ``importlinter``."""
    config = load_config([root])
    if importlinter is not None:
        found = find_importlinter_config(importlinter.parent)
        assert found is not None and found.path == importlinter
        config.section(BoundarySettings).contracts = found.contract_tables()
    graph = _graph_of(root)
    verdicts = Verdicts({}, {}, {})
    for contract in contracts_of(config):
        result = check_contract_result(graph, contract, every_chain=every_chain)
        verdicts.kept[contract.name] = result.kept
        # acyclic_siblings: import-linter nominates imports to remove, integ-lint
        # reports each cycle where it closes; only the verdict is compared
        if result.violations and contract.type != "acyclic_siblings":
            verdicts.links[contract.name] = {
                (v.importer, v.imported, v.site.line) for v in result.violations
            }
            verdicts.direct[contract.name] = {
                (v.importer, v.imported, v.site.line) for v in result.violations if v.direct
            }
            if contract.type in ("forbidden", "layers", "independence"):
                verdicts.pairs[contract.name] = result.pairs
        if result.undeclared:
            verdicts.undeclared[contract.name] = {u.module for u in result.undeclared}
    return verdicts


def integ_lint_findings(root: Path) -> dict[str, set[Link]]:
    report = api.check([root], select=["IL102"], options=RunOptions(jobs=1))
    assert not report.notifications, [n.message for n in report.notifications]
    breaks: dict[str, set[Link]] = defaultdict(set)
    for finding in report.findings:
        if finding.code != "IL102":
            continue  # the project's extend-select may add other codes
        properties = finding.property_dict()
        breaks[properties["contract"]].add(
            (properties["importer"], properties["imported"], finding.line)
        )
    return dict(breaks)


def assert_agree(theirs: Verdicts, ours: Verdicts, every: Verdicts | None = None) -> None:
    """Same verdicts, same undeclared modules, same (source, target) pairs broken,
    same direct offending imports; the indirect ones exactly, or, when ``every``
    (integ-lint with every chain) is given, import-linter's among every offending
    import integ-lint knows of (grimp's choice between equally short chains is
    arbitrary)."""
    assert theirs.kept == ours.kept
    assert theirs.undeclared == ours.undeclared
    for name in theirs.kept:
        assert theirs.pairs.get(name, set()) == ours.pairs.get(name, set()), name
        assert theirs.direct.get(name, set()) == ours.direct.get(name, set()), name
        their_links = theirs.links.get(name, set())
        if every is None:
            assert their_links == ours.links.get(name, set()), name
        else:
            missing = their_links - every.links.get(name, set())
            assert not missing, (name, sorted(missing))


# -- small projects ------------------------------------------------------------------------


def _project(root: Path, files: dict[str, str], importlinter: str) -> Path:
    for relpath, code in files.items():
        target = root / "src" / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(code)
    (root / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "0"\n')
    (root / ".importlinter").write_text(textwrap.dedent(importlinter))
    return root


def test_fixture_contracts_agree(tmp_path: Path) -> None:
    config = """\
        [importlinter]
        root_package = app
        include_external_packages = True

        [importlinter:contract:readonly]
        name = dashboard is read-only
        type = forbidden
        source_modules =
            app.dashboard
        forbidden_modules =
            app.drive
            requests

        [importlinter:contract:layers]
        name = layers
        type = layers
        layers =
            app.dashboard
            app.content
            app.core
        """
    theirs = lint_imports(tmp_path, FIXTURE / "src", config)
    ours = integ_lint_findings(FIXTURE)
    assert {k: v for k, v in theirs.links.items() if v} == ours
    assert sum(len(v) for v in ours.values()) == 4


def test_every_contract_form_of_the_fixture_agrees() -> None:
    """fixtures/boundaries_contracts: every contract type, optional and sibling layers,
    exhaustive, a glob, an external package, ignore_imports, TYPE_CHECKING excluded."""
    fixture = FIXTURE.parent / "boundaries_contracts"
    with tempfile.TemporaryDirectory() as workdir:
        shutil.copy(fixture / ".importlinter", workdir)
        theirs = lint_imports(Path(workdir), fixture / "src")
    ours = integ_lint_verdicts(fixture)
    assert_agree(theirs, ours)
    assert not any(theirs.kept.values()) and len(theirs.kept) == 5


def test_indirect_chains_containers_independence_and_exhaustive_agree(tmp_path: Path) -> None:
    project = _project(
        tmp_path / "project",
        {
            "app/__init__.py": "",
            "app/web/__init__.py": "",
            "app/web/views.py": "from app.domain import model\n",
            "app/domain/__init__.py": "",
            "app/domain/model.py": "from app.helpers import util\n",
            "app/helpers/__init__.py": "",
            "app/helpers/util.py": "def f():\n    from app.web import views\nimport app.c\n",
            "app/infra/__init__.py": "",
            "app/infra/db.py": "from app.web.views import x\nfrom app.domain.model import y\n",
            "app/a/__init__.py": (
                "from app.b import x\nfrom typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    import app.b\n"
            ),
            "app/b/__init__.py": "from app.helpers import util\n",
            "app/c/__init__.py": "",
        },
        """\
        [importlinter]
        root_package = app

        [importlinter:contract:1]
        name = layered
        type = layers
        containers = app
        layers =
            web
            (api)
            domain
            infra
        exhaustive = true
        exhaustive_ignores =
            a
            b

        [importlinter:contract:2]
        name = independent
        type = independence
        modules =
            app.a
            app.b
            app.c
        """,
    )
    theirs = lint_imports(project, project / "src")
    ours = integ_lint_verdicts(project)
    assert_agree(theirs, ours)
    assert ours.undeclared["layered"] == {"app.c", "app.helpers"}
    assert ("app.helpers.util", "app.web.views", 2) in ours.links["layered"]
    assert ("app.helpers.util", "app.c", 3) in ours.links["independent"]


def test_siblings_chains_through_sources_protected_acyclic_agree(tmp_path: Path) -> None:
    project = _project(
        tmp_path / "project",
        {
            "app/__init__.py": "",
            "app/ui/__init__.py": "",
            "app/a/__init__.py": "from app.b import x\n",
            "app/b/__init__.py": "",
            "app/c/__init__.py": "from app.d import y\n",
            "app/d/__init__.py": "import app.ui\n",
            "app/s1/__init__.py": "import app.s2\n",
            "app/s2/__init__.py": "import app.m\n",
            "app/m/__init__.py": "import app.f\nfrom typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    import app.s1\n",
            "app/f/__init__.py": "",
            "app/p/__init__.py": "",
            "app/p/core.py": "",
            "app/q.py": "import app.p.core\n",
            "app/r.py": "import app.p.core\n",
        },
        """\
        [importlinter]
        root_package = app
        exclude_type_checking_imports = True

        [importlinter:contract:1]
        name = siblings
        type = layers
        containers = app
        layers =
            ui
            a | b
            c : d

        [importlinter:contract:2]
        name = forb
        type = forbidden
        source_modules =
            app.s1
            app.s2
        forbidden_modules =
            app.f

        [importlinter:contract:3]
        name = protect
        type = protected
        protected_modules = app.p
        allowed_importers = app.q

        [importlinter:contract:4]
        name = acyclic
        type = acyclic_siblings
        ancestors = app
        """,
    )
    theirs = lint_imports(project, project / "src")
    ours = integ_lint_verdicts(project)
    assert theirs.kept == ours.kept
    for name in ("siblings", "forb", "protect"):
        assert theirs.links.get(name, set()) == ours.links.get(name, set()), name
    # both chains (s1 -> s2 -> m -> f and s2 -> m -> f) end with one import: one finding
    assert ours.links["forb"] == {("app.m", "app.f", 1)}
    assert ours.links["protect"] == {("app.r", "app.p.core", 1)}
    # TYPE_CHECKING imports are excluded: no cycle m -> s1 -> s2 -> m
    assert ours.kept["acyclic"]


def test_acyclic_siblings_is_broken_by_a_real_cycle_only(tmp_path: Path) -> None:
    project = _project(
        tmp_path / "project",
        {
            "app/__init__.py": "import app.x\nimport app.y\n",
            "app/x/__init__.py": "import app\n",
            "app/y/__init__.py": "import app.z.inner\n",
            "app/z/__init__.py": "",
            "app/z/inner.py": "from app.y import thing\n",
        },
        """\
        [importlinter]
        root_package = app

        [importlinter:contract:1]
        name = acyclic
        type = acyclic_siblings
        ancestors = app
        """,
    )
    theirs = lint_imports(project, project / "src")
    ours = integ_lint_verdicts(project)
    assert theirs.kept == ours.kept == {"acyclic": False}
    found = integ_lint_findings(project)
    (link,) = found["acyclic"]
    assert link[:2] == ("app.z", "app.y")  # the cycle y <-> z, not the one through app


# -- real projects ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RealProject:
    name: str
    version: str
    filename: str
    sha256: str
    pythonpath: str  # relative to the tree: where the root packages are

    @property
    def key(self) -> str:
        return self.filename.removesuffix(".tar.gz")


REAL_PROJECTS = [
    RealProject(
        "kedro",
        "1.7.0",
        "kedro-1.7.0.tar.gz",
        "50b654c0f6ec79c465bc913c1680ea6ad35fff287160262dce7f9d4c1bdbd493",
        ".",
    ),
    RealProject(
        "sqlfluff",
        "4.5.0",
        "sqlfluff-4.5.0.tar.gz",
        "0b0d5b2cca03e7d138b8d899249fed5fa54083e407bbd161449c0b30f901b7b8",
        "src",
    ),
    RealProject(
        "napari",
        "0.9.2",
        "napari-0.9.2.tar.gz",
        "54e1db922d430094cc9208a1a1b1cd82c2b31bc28db3cb7b284d3b6ee6d6c983",
        "src",
    ),
    RealProject(
        "import-linter",
        "2.17",
        "import_linter-2.17.tar.gz",
        "74a4640c96b71965624d296508c3274655d3e4c2593c27b8330dd0570ebd6886",
        "src",
    ),
]


def _cache_roots() -> list[Path]:
    roots = []
    if os.environ.get("INTEG_LINT_ECOSYSTEM_CACHE"):
        roots.append(Path(os.environ["INTEG_LINT_ECOSYSTEM_CACHE"]).expanduser())
    roots += [Path("/work/eco"), Path("~/.cache/integ-lint-ecosystem").expanduser()]
    return roots


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def real_tree(project: RealProject) -> Path:
    """The unpacked, checksum-verified sdist of ``project`` (downloaded on a miss)."""
    for root in _cache_roots():
        tree = root / "src" / project.key
        if tree.is_dir():
            return tree
    for root in _cache_roots():
        archive = root / "dl" / project.filename
        if archive.is_file():
            break
    else:
        root = _cache_roots()[0]
        archive = root / "dl" / project.filename
        archive.parent.mkdir(parents=True, exist_ok=True)
        download = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-binary",
                ":all:",
                f"{project.name}=={project.version}",
                "-d",
                str(archive.parent),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if download.returncode != 0 or not archive.is_file():
            pytest.skip(f"{project.filename} is not cached and cannot be downloaded")
    assert _sha256(archive) == project.sha256, f"{archive}: checksum mismatch"
    sources = root / "src"
    sources.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=sources, prefix=f".{project.key}-"))
    with tarfile.open(archive) as tar:
        tar.extractall(staging, filter="data")
    target = sources / project.key
    if not target.exists():
        (staging / project.key).rename(target)
    shutil.rmtree(staging, ignore_errors=True)
    return target


@pytest.mark.slow
@pytest.mark.parametrize("project", REAL_PROJECTS, ids=lambda p: p.name)
def test_real_project_contracts_agree(project: RealProject) -> None:
    tree = real_tree(project)
    theirs = lint_imports(tree, tree / project.pythonpath)
    ours = integ_lint_verdicts(tree)
    assert theirs.kept, "import-linter checked no contract"
    assert_agree(theirs, ours)


def stressed_contracts(tree: Path) -> str:
    """The project's own contracts as an INI file, made to break: without their
    ``ignore_imports`` and with every layers contract upside down, so that both tools
    have real offending imports (direct and indirect) to agree on."""
    found = find_importlinter_config(tree)
    assert found is not None and found.error is None
    lines = ["[importlinter]"]
    for key, value in found.session.items():
        lines.append(f"{key} = {value}" if not isinstance(value, list) else key + " =")
        if isinstance(value, list):
            lines += [f"    {item}" for item in value]
    for index, contract in enumerate(found.contracts):
        lines += ["", f"[importlinter:contract:{index}]"]
        for key, value in contract.items():
            if key in ("id", "ignore_imports", "unmatched_ignore_imports_alerting"):
                continue
            if key == "layers" and isinstance(value, list):
                value = list(reversed(value))
            if key == "name":
                value = f"{value} (stressed)"
            if isinstance(value, list):
                lines.append(f"{key} =")
                lines += [f"    {item}" for item in value]
            else:
                lines.append(f"{key} = {value}")
    return "\n".join(lines) + "\n"


@pytest.mark.slow
@pytest.mark.parametrize("project", REAL_PROJECTS, ids=lambda p: p.name)
def test_real_project_broken_contracts_agree(project: RealProject, tmp_path: Path) -> None:
    tree = real_tree(project)
    config = tmp_path / ".importlinter"
    config.write_text(stressed_contracts(tree))
    theirs = lint_imports(tmp_path, tree / project.pythonpath)
    ours = integ_lint_verdicts(tree, config)
    every = integ_lint_verdicts(tree, config, every_chain=True)
    assert not all(theirs.kept.values()), "the stressed contracts should break"
    assert_agree(theirs, ours, every)
