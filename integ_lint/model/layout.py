"""Source roots: the folders module names start from.

A module's name is its path relative to the innermost source root that holds it
(``src/pkg/core.py`` under the root ``src`` is ``pkg.core``). It never climbs above its
root, so a stray ``__init__.py`` above a root changes nothing, and never runs through
a folder whose name is not an identifier (``web-app/pkg/x.py`` is ``pkg.x``).

Where the roots come from, first match wins:

1. the ``source-roots`` key (validated: each must exist inside the project);
2. what the project tells its other tools: packaging metadata (setuptools
   ``package-dir`` / ``packages.find.where``, hatch, poetry, pdm, flit, maturin
   ``python-source``; ``setup.cfg`` and a literal ``package_dir`` in ``setup.py``),
   pytest's ``pythonpath``, mypy's ``mypy_path``, ruff's ``src``, import-linter's
   ``root_packages``;
3. ``src/`` when it is not a package;

and the project root always comes last, for the files outside every other root.
Unless roots are configured, a folder is added when the project's own absolute
imports only resolve from it (``from connectors.x import y`` inside
``src/connectors/`` when ``src/`` holds a stray ``__init__.py``; ``from helpers import
h`` in a ``tests/`` folder without one).

Nothing here imports or runs the analysed code: files are read as text.
"""

from __future__ import annotations

import configparser
import difflib
import os
import re
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from integ_lint.config.roots import SOURCE_ROOTS_KEY, configured_roots
from integ_lint.files.source import HEAD_BYTES
from integ_lint.files.toml_text import parse_toml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

# Imports of the project's own packages that resolve as external above this share
# (and at least MIN_MISSED of them) make the layout check speak up.
MISSED_SHARE = 0.3
MIN_MISSED = 5
# Files larger than this are not read for the import scan (generated tables).
SCAN_LIMIT_BYTES = 2_000_000

_IMPORT_LINE = re.compile(
    r"^[ \t]*(?:from[ \t]+([A-Za-z_][\w.]*)[ \t]+import\b|import[ \t]+([A-Za-z_][^\n#;]*))",
    re.MULTILINE,
)
_SETUP_PY_PACKAGE_DIR = re.compile(r"""package_dir\s*=\s*\{\s*(['"])\1\s*:\s*['"]([^'"]+)['"]""")
_SETUP_PY_FIND_WHERE = re.compile(
    r"""find(?:_namespace)?_packages\(\s*(?:where\s*=\s*)?['"]([^'"]+)['"]"""
)
_STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) | {"__future__"}


@dataclass(frozen=True)
class Layout:
    """The source roots of one project and how they were found."""

    root: Path
    # Absolute folders, innermost first, the project root last.
    source_roots: tuple[Path, ...]
    origin: str  # "source-roots", "setuptools package-dir", "src/ layout", "project root", ...
    warnings: tuple[str, ...] = ()

    def relative_roots(self) -> list[str]:
        return [relative(r, self.root) for r in self.source_roots]


def relative(path: Path, root: Path) -> str:
    rel = os.path.relpath(path, root).replace(os.sep, "/")
    return "." if rel == "." else rel


# -- what the project tells its other tools ------------------------------------------


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _get(data: Mapping[str, Any], *keys: str) -> Any:
    value: Any = data
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _read_toml(path: Path) -> dict[str, Any]:
    from integ_lint.files.source import (
        read_regular_file,  # a FIFO named pyproject.toml never blocks
    )

    try:
        return parse_toml(read_regular_file(path, SCAN_LIMIT_BYTES).decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}


def _read_ini(path: Path) -> configparser.ConfigParser | None:
    if not path.is_file():
        return None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, configparser.Error):
        return None
    return parser


def declared_roots(root: Path, files: Sequence[Path] = ()) -> list[tuple[str, str]]:
    """``(folder, tool)`` pairs: the source folders the project declares to its
    packaging and tools (relative to ``root``, not yet checked to exist)."""
    data = _read_toml(root / "pyproject.toml")
    tool = data.get("tool", {}) if isinstance(data.get("tool"), dict) else {}
    found: list[tuple[str, str]] = []

    def add(folders: Iterable[str], origin: str) -> None:
        found.extend((f, origin) for f in folders if f.strip())

    # setuptools
    package_dir = _get(tool, "setuptools", "package-dir")
    if isinstance(package_dir, dict) and isinstance(package_dir.get(""), str):
        add([package_dir[""]], "setuptools package-dir")
    add(_as_list(_get(tool, "setuptools", "packages", "find", "where")), "setuptools find")
    # hatch: packages = ["src/pkg"] means the root is src; sources = ["src"] or {"src" = ""}
    for table in (_get(tool, "hatch", "build", "targets", "wheel"), _get(tool, "hatch", "build")):
        if not isinstance(table, dict):
            continue
        for package in _as_list(table.get("packages")):
            parent = package.rstrip("/").rpartition("/")[0]
            if parent:
                add([parent], "hatch packages")
        sources = table.get("sources")
        if isinstance(sources, list):
            add(_as_list(sources), "hatch sources")
        elif isinstance(sources, dict):
            add([k for k, v in sources.items() if v == "" and isinstance(k, str)], "hatch sources")
    # poetry
    packages = _get(tool, "poetry", "packages")
    if isinstance(packages, list):
        add(
            [p["from"] for p in packages if isinstance(p, dict) and isinstance(p.get("from"), str)],
            "poetry packages",
        )
    # pdm
    for keys in (("pdm", "build", "package-dir"), ("pdm", "package-dir")):
        add(_as_list(_get(tool, *keys)), "pdm package-dir")
    # flit finds src/<module> by itself
    flit_name = _get(tool, "flit", "module", "name")
    if isinstance(flit_name, str) and (root / "src" / flit_name.split(".")[0]).exists():
        add(["src"], "flit")
    # maturin
    add(_as_list(_get(tool, "maturin", "python-source")), "maturin python-source")
    # pytest pythonpath (a list, or a space-separated string)
    pythonpath = _get(tool, "pytest", "ini_options", "pythonpath")
    if isinstance(pythonpath, str):
        pythonpath = pythonpath.split()
    add(_as_list(pythonpath), "pytest pythonpath")
    # mypy mypy_path ("src:stubs" or "src,stubs")
    mypy_path = _get(tool, "mypy", "mypy_path")
    if isinstance(mypy_path, str):
        add(_split_mypy_path(mypy_path), "mypy mypy_path")
    # ruff src
    add(_as_list(_get(tool, "ruff", "src")), "ruff src")
    # import-linter root packages: the folder holding them
    importlinter = _get(tool, "importlinter")
    if isinstance(importlinter, dict):
        names = [
            *_as_list(importlinter.get("root_packages")),
            *_as_list(importlinter.get("root_package")),
        ]
        add(_package_parents(root, names, files), "import-linter root_packages")
    # setup.cfg and setup.py
    setup_cfg = _read_ini(root / "setup.cfg")
    if setup_cfg is not None:
        raw = setup_cfg.get("options", "package_dir", fallback="")
        for line in raw.replace(";", "\n").splitlines():
            key, sep, value = line.partition("=")
            if sep and not key.strip() and value.strip():
                add([value.strip()], "setup.cfg package_dir")
        add(
            setup_cfg.get("options.packages.find", "where", fallback="").split(),
            "setup.cfg find",
        )
        if setup_cfg.has_section("tool:pytest"):
            add(
                setup_cfg.get("tool:pytest", "pythonpath", fallback="").split(), "pytest pythonpath"
            )
        if setup_cfg.has_section("mypy"):
            add(_split_mypy_path(setup_cfg.get("mypy", "mypy_path", fallback="")), "mypy mypy_path")
    for ini_name, section in (("pytest.ini", "pytest"), ("mypy.ini", "mypy")):
        parser = _read_ini(root / ini_name)
        if parser is not None and parser.has_section(section):
            key = "pythonpath" if section == "pytest" else "mypy_path"
            value = parser.get(section, key, fallback="")
            add(
                value.split() if section == "pytest" else _split_mypy_path(value),
                f"{section} {key}",
            )
    setup_py = root / "setup.py"
    if setup_py.is_file():
        try:
            text = setup_py.read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        add([m.group(2) for m in _SETUP_PY_PACKAGE_DIR.finditer(text)], "setup.py package_dir")
        add([m.group(1) for m in _SETUP_PY_FIND_WHERE.finditer(text)], "setup.py find_packages")
    return found


def _split_mypy_path(value: str) -> list[str]:
    parts = re.split(r"[,:]", value)
    return [p.strip().replace("$MYPY_CONFIG_FILE_DIR/", "") for p in parts if p.strip()]


def _under_prefix(root: Path) -> str:
    """What the text of a path strictly below ``root`` starts with (a string test is
    what ``root in folder.parents`` decides, without building every parent)."""
    text = str(root)
    return text if text.endswith(os.sep) else text + os.sep


def _package_parents(root: Path, names: Sequence[str], files: Sequence[Path]) -> list[str]:
    """The folders holding the top-level packages ``names``: for each, the parent of
    the shallowest folder so named, with an ``__init__.py``, above one of ``files``
    (the first file's on a tie)."""
    parents: list[str] = []
    under = _under_prefix(root)
    # Each file's folders below the root, as their names (text: no pathlib per file).
    folders_of = [
        text[len(under) :].split(os.sep)[:-1] for text in map(str, files) if text.startswith(under)
    ]
    is_package: dict[str, bool] = {}
    for name in names:
        top = name.split(".")[0]
        best: list[str] | None = None
        for parts in folders_of:
            for depth in range(len(parts) - 1, -1, -1):  # the deepest folder first
                if parts[depth] != top or (best is not None and depth >= len(best) - 1):
                    continue
                folder = under + os.sep.join(parts[: depth + 1])
                if folder not in is_package:
                    is_package[folder] = os.path.isfile(os.path.join(folder, "__init__.py"))
                if is_package[folder]:
                    best = parts[: depth + 1]
        if best is not None and len(best) > 1:
            parents.append(relative(Path(under + os.sep.join(best[:-1])), root))
    return parents


# -- inference ------------------------------------------------------------------------


def _usable_declared(root: Path, declared: Sequence[tuple[str, str]]) -> tuple[list[Path], str]:
    roots: list[Path] = []
    origins: list[str] = []
    for folder, origin in declared:
        candidate = Path(os.path.normpath(root / folder))
        if candidate == root:
            continue  # the project root is always a root
        if root not in candidate.parents or not candidate.is_dir():
            continue  # another tool's stale or foreign setting: not ours to reject
        if (candidate / "__init__.py").is_file():
            continue  # a package, not a folder of packages (ruff src = ["tests"])
        if candidate not in roots:
            roots.append(candidate)
        if origin not in origins:
            origins.append(origin)
    return roots, ", ".join(origins)


def scan_file(path: Path) -> tuple[set[str], str]:
    """The absolute imports of the file at ``path`` and its first characters (for
    generated-code headers), from one read."""
    from integ_lint.files.source import read_regular_file  # never a FIFO or device, never too much

    try:
        data = read_regular_file(path, SCAN_LIMIT_BYTES)
    except OSError:  # also too large, or not a regular file
        return set(), ""
    text = data.decode("utf-8", "replace")
    return _imports_in(text), text[:HEAD_BYTES]


def _imports_in(text: str) -> set[str]:
    """The names of every import line of ``text``: as ``_IMPORT_LINE.finditer``, but
    the pattern is tried only at the start of the lines that hold ``import`` (a match
    lies within one line and holds the word; trying every position of every file cost
    Django 0.3 s before its pool could start)."""
    modules: set[str] = set()
    find = text.find
    at = find("import")
    while at != -1:
        line_start = text.rfind("\n", 0, at) + 1
        match = _IMPORT_LINE.match(text, line_start)  # ^ holds after a newline
        line_end = find("\n", at)
        if line_end == -1:
            line_end = len(text)
        at = find("import", line_end)
        if match is not None:
            add_imported(match, modules)
    return modules


def add_imported(match: re.Match[str], modules: set[str]) -> None:
    """Add the module names one ``_IMPORT_LINE`` match imports to ``modules``."""
    if match.group(1):
        modules.add(match.group(1).rstrip("."))
        return
    for item in match.group(2).split(","):
        name = item.strip().split(" ")[0].strip("()\\")
        if name and name.split(".")[0].isidentifier():
            modules.add(name)


class _Tree:
    """What the project's Python files say about folders, without touching the disk:
    which names each folder makes importable, which files exist. Folders and files
    are the text of absolute, normalised paths (no pathlib object per file and
    folder: the layout is inferred on every run that changes a file)."""

    def __init__(self, root: Path, files: Iterable[Path]) -> None:
        self.files: set[str] = set()
        self.names: dict[str, set[str]] = {}
        under = _under_prefix(root)
        climbed: set[str] = set()  # folders whose names were given to their parents
        for file in map(str, files):
            self.files.add(file)
            folder, _, name = file.rpartition(os.sep)
            folder = folder or os.sep
            stem = name.rsplit(".", 1)[0]
            if stem.isidentifier() and stem != "__init__":
                self.names.setdefault(folder, set()).add(stem)
            # Up to the root, but only once past any folder: its parents are done.
            while folder not in climbed and folder.startswith(under):  # below the root
                climbed.add(folder)
                parent, _, name = folder.rpartition(os.sep)
                parent = parent or os.sep
                if name.isidentifier():
                    self.names.setdefault(parent, set()).add(name)
                folder = parent

    def is_package(self, folder: str) -> bool:
        return folder + os.sep + "__init__.py" in self.files

    def names_at(self, folder: str) -> set[str]:
        """Top-level module names importable from ``folder`` on ``sys.path``."""
        return self.names.get(folder, set())

    def provides(self, folder: str, name: str) -> bool:
        target = os.path.join(folder, name)
        return self.is_package(target) or target + ".py" in self.files

    def resolves_under(self, folder: str, dotted: str) -> bool:
        parts = dotted.split(".")
        if any(not part or os.sep in part or (os.altsep and os.altsep in part) for part in parts):
            # Not a plain dotted name (from a line that is not Python): as pathlib sees it.
            target = Path(folder).joinpath(*parts)
            return self.is_package(str(target)) or str(target.with_suffix(".py")) in self.files
        text = os.path.join(folder, *parts)
        return self.is_package(text) or text + ".py" in self.files


def infer_layout(
    root: Path,
    files: Sequence[Path],
    configured: Sequence[str] = (),
    where: str = "command line",
    heads: dict[Path, str] | None = None,
) -> Layout:
    """The source roots of the project at ``root`` whose Python files are ``files``
    (each read once; their first characters go to ``heads`` when given)."""
    root = Path(os.path.abspath(root))
    roots, origin = starting_roots(root, files, configured, where)
    imports: dict[Path, set[str]] = {}
    for file in files:
        imports[file], head = scan_file(file)
        if heads is not None:
            heads[file] = head
    return finish_layout(root, files, roots, origin, imports, bool(configured))


def starting_roots(
    root: Path, files: Sequence[Path], configured: Sequence[str] = (), where: str = "command line"
) -> tuple[list[Path], str]:
    """The source roots before the project's imports are read, and where they come
    from: the configured ones, else the declared ones, else ``src/``; the project root
    always last. Reads the project's tool configs only, never
    its Python files, so a memo of :func:`finish_layout` can be checked against it."""
    if configured:
        roots = configured_roots(root, configured, where)
        origin = SOURCE_ROOTS_KEY
    else:
        roots, origin = _usable_declared(root, declared_roots(root, files))
        src = root / "src"
        if not roots and src.is_dir() and not (src / "__init__.py").is_file():
            roots, origin = [src], "src/ layout"
    if root not in roots:
        roots.append(root)
    if not origin:
        origin = "project root"
    return roots, origin


def finish_layout(
    root: Path,
    files: Sequence[Path],
    roots: list[Path],
    origin: str,
    imports: Mapping[Path, set[str]],
    configured: bool,
) -> Layout:
    """The layout from :func:`starting_roots`' ``roots`` and ``origin``: the folders
    the project's own ``imports`` (each file's absolute imports, see :func:`scan_file`)
    resolve from are added unless the roots were ``configured``, and the layout check
    speaks up. A function of its arguments only: it touches no file."""
    tree = _Tree(root, files)
    roots = list(roots)
    first_parts = {f: {m.split(".")[0] for m in names} for f, names in imports.items()}
    added: list[Path] = []
    if not configured:
        added = _roots_from_imports(roots, first_parts, tree)
        roots.extend(added)
    if added:
        origin += f"; {', '.join(relative(a, root) for a in added)} from the project's imports"
    ordered = tuple(sorted(set(roots), key=lambda p: (-len(p.parts), str(p))))
    layout = Layout(root, ordered, origin)
    warning = _layout_check(layout, imports, tree)
    if warning:
        layout = Layout(root, ordered, origin, (warning,))
    return layout


def _roots_from_imports(
    roots: list[Path], heads: Mapping[Path, set[str]], tree: _Tree
) -> list[Path]:
    """Folders from which some file's own absolute imports resolve, where they resolve
    from no current root."""
    texts = [str(r) for r in roots]
    resolvable: set[str] = set()
    for candidate in texts:
        resolvable |= tree.names_at(candidate)
    every_head: set[str] = set().union(*heads.values()) if heads else set()
    added: list[Path] = []
    by_text = {str(file): names for file, names in heads.items()}
    # In pathlib's order (by parts), not by text: "a/b.py" before "a.b/c.py".
    innermost: list[tuple[str, str]] = []  # (root, what a path below it starts with)
    for file in sorted(by_text, key=lambda text: text.split(os.sep)):
        for head in sorted(by_text[file] - resolvable - _STDLIB):
            if len(innermost) != len(texts):  # a root was added
                ordered = sorted(texts, key=lambda t: -len(Path(t).parts))
                innermost = [(t, _under_prefix(Path(t))) for t in ordered]
            base = next((t for t, prefix in innermost if file.startswith(prefix)), None)
            if base is None:
                continue
            folder = file
            while True:
                parent = os.path.dirname(folder)
                if parent == folder:
                    break  # above the file system's root: base is always met before
                folder = parent
                if folder == base:
                    break
                if not tree.provides(folder, head):
                    continue
                # A package becomes a root only when nothing imports it by its own
                # name (a stray src/__init__.py), never a real package whose module
                # happens to share a name with a third-party one.
                if tree.is_package(folder) and (
                    os.path.dirname(folder) != base or os.path.basename(folder) in every_head
                ):
                    break
                if folder not in texts:
                    texts.append(folder)
                    roots.append(Path(folder))
                    added.append(Path(folder))
                    resolvable |= tree.names_at(folder)
                break
    return added


def _package_folders(tree: _Tree) -> dict[str, set[str]]:
    """Every package folder in the tree: name -> the folders holding one so named."""
    found: dict[str, set[str]] = {}
    for file in tree.files:
        folder, _, name = file.rpartition(os.sep)
        if name != "__init__.py":
            continue
        parent, _, folder_name = folder.rpartition(os.sep)
        if folder_name.isidentifier():
            found.setdefault(folder_name, set()).add(parent or os.sep)
    return found


def _layout_check(layout: Layout, imports: Mapping[Path, set[str]], tree: _Tree) -> str | None:
    """One warning when many imports of the project's own modules resolve from no
    source root. An import is the project's own when its dotted name (two parts at
    least, so that a third-party name never counts by coincidence) is a module of a
    package folder found in the tree."""
    packages = _package_folders(tree)
    resolvable: set[str] = set()
    for candidate in layout.source_roots:
        resolvable |= tree.names_at(str(candidate))
    own = 0
    missed = Counter[tuple[str, str]]()
    # What each dotted name says, worked out once: the same names recur in many files.
    seen: dict[str, tuple[str, str] | None] = {}
    for names in imports.values():
        for dotted in sorted(names):  # in a stable order: ties below go to the first
            if dotted in seen:
                found = seen[dotted]
            else:
                found = seen[dotted] = _own_module(dotted, packages, tree)
            if found is None:
                continue
            own += 1
            if found[0] not in resolvable:
                missed[found] += 1
    total_missed = sum(missed.values())
    if total_missed < MIN_MISSED or total_missed <= MISSED_SHARE * own:
        return None
    (name, folder), _ = missed.most_common(1)[0]
    suggestion = relative(Path(folder), layout.root)
    return (
        f"{total_missed} of {own} imports of the project's own modules (such as {name!r}) "
        f"resolve outside it; module names start from "
        f"{', '.join(layout.relative_roots())}: set {SOURCE_ROOTS_KEY} = "
        f'["{suggestion}"] under [tool.integ-lint]'
    )


def _own_module(
    dotted: str, packages: Mapping[str, set[str]], tree: _Tree
) -> tuple[str, str] | None:
    """For an import of ``dotted`` that names a module of the project's own package
    folders (see :func:`_layout_check`): its first part and the outermost folder it
    resolves under (the first such in text order). None for any other import."""
    head = dotted.split(".")[0]
    if "." not in dotted or head in _STDLIB or head not in packages:
        return None
    holders = sorted(f for f in packages[head] if tree.resolves_under(f, dotted))
    if not holders:
        return None
    return head, min(holders, key=lambda p: len(Path(p).parts))


# -- module names ---------------------------------------------------------------------


def module_name(path: Path, roots: Sequence[Path]) -> tuple[str, Path]:
    """The dotted module name of ``path`` and the root it starts from.

    Relative to the innermost of ``roots`` holding it; a file outside every root is
    named from its nearest folder that is not a package. The name starts after the
    last folder whose name is not an identifier.
    """
    name, base = ModuleNamer(roots)(os.path.abspath(path))
    return name, Path(base)


class ModuleNamer:
    """:func:`module_name` for many files under the same ``roots``, on the text of
    absolute, normalised paths (discovery names every file of a project)."""

    def __init__(self, roots: Sequence[Path]) -> None:
        self.roots = [(str(r), _under_prefix(r)) for r in roots]
        # folder -> the dotted name of its modules before their own ("" or "a.b."),
        # and their base folder: worked out once per folder, not per file.
        self._folders: dict[str, tuple[str, str]] = {}

    def __call__(self, path: str) -> tuple[str, str]:
        """The module name of the file at ``path`` and the text of its base folder."""
        folder, _, file_name = path.rpartition(os.sep)
        known = self._folders.get(folder)
        if known is None:
            # A stand-in file whose name is kept as it is: everything else of its
            # name comes from the folder alone.
            dotted, base = self._name(folder + os.sep + "_.py")
            known = self._folders[folder] = (dotted[:-1], base)
        prefix, base = known
        stem = file_name.rsplit(".", 1)[0]
        if stem == "__init__":
            return prefix[:-1], base
        return prefix + (stem if stem.isidentifier() else _identifier(stem)), base

    def _name(self, path: str) -> tuple[str, str]:
        found = next(
            ((text, prefix) for text, prefix in self.roots if path.startswith(prefix)), None
        )
        if found is None:
            folder = Path(path).parent
            while (
                (folder / "__init__.py").exists()
                and folder.parent != folder
                and folder.name.isidentifier()
            ):
                folder = folder.parent
            found = str(folder), _under_prefix(folder)
        base, prefix = found
        rest = path[len(prefix) :]
        parts = rest.split(os.sep)
        stem = parts[-1].rsplit(".", 1)[0]
        folders = parts[:-1]
        cut = max((i + 1 for i, part in enumerate(folders) if not part.isidentifier()), default=0)
        folders = folders[cut:]
        if stem == "__init__":
            name_parts = folders
        else:
            name_parts = [*folders, stem if stem.isidentifier() else _identifier(stem)]
        if cut:
            base = os.path.join(base, *parts[:cut])
        return ".".join(name_parts), base


def _identifier(stem: str) -> str:
    """A file that cannot be imported by name (``run-all.py``) still gets a stable,
    readable pseudo-name."""
    return re.sub(r"\W", "_", stem) or "_"


# -- configured module names ------------------------------------------------------------


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'pkg.core'?)`` or "". The cutoff is low because dotted names
    share prefixes: ``pkg.nope`` still points at ``pkg``."""
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def missing_module_message(name: str, modules: Iterable[str], what: str = "Module") -> str:
    """import-linter's wording: ``Module 'pkg.cor' does not exist (did you mean
    'pkg.core'?)``."""
    return f"{what} {name!r} does not exist{did_you_mean(name, modules)}"
