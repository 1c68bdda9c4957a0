"""Finding the files to scan and naming their modules."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from integ_lint.config.loader import Config
from integ_lint.config.roles import role_paths
from integ_lint.files.globs import matches_any
from integ_lint.files.paths import relative_path
from integ_lint.files.source import HEAD_BYTES
from integ_lint.model.layout import Layout, infer_layout
from integ_lint.model.layout import module_name as layout_module_name

SKIPPED_DIR_NAMES = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        ".eggs",
        "site-packages",
        "build",
        "dist",
        "__pycache__",
        "node_modules",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".integ-lint-cache",
    }
)
SOURCE_SUFFIXES = (".py", ".pyi")


class DiscoveryError(Exception):
    """A path named on the command line does not exist."""


@dataclass(frozen=True)
class SourceFile:
    path: Path  # absolute
    relpath: str  # relative to the project root, forward slashes
    module: str  # dotted module name ("" when none can be derived)
    is_package_init: bool
    role: str = "library"  # see integ_lint.config.roles
    source_root: str = ""  # the source root the module name starts from, project-relative


def _git_visible_files(root: Path) -> set[str] | None:
    """Files git does not ignore under ``root`` (tracked or untracked), or None when
    ``root`` is not inside a git checkout."""
    from integ_lint.findings.changes import (
        run_git,  # git with the repository's configured commands off
    )

    try:
        result = run_git(
            ["ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", "."],
            root,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    names = result.stdout.decode("utf-8", "surrogateescape").split("\0")
    return {os.path.normpath(root / name) for name in names if name}


def _is_special_file(path: Path) -> bool:
    """A FIFO, socket or device named like a module: reading it could block forever.
    (Broken links and unreadable files are kept: the analysis reports them.)"""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def _is_virtualenv(directory: Path) -> bool:
    return (directory / "pyvenv.cfg").is_file()


def _unreadable_folder(directory: Path) -> str | None:
    """Why the files in ``directory`` cannot be listed or reached (mode 000, or
    readable but not searchable), or None."""
    try:
        with os.scandir(directory) as entries:
            next(entries, None)
        os.stat(os.path.join(directory, "."))  # needs search (x) permission
    except OSError as exc:
        return exc.strerror or type(exc).__name__
    return None


def discover(
    paths: Sequence[Path],
    root: Path,
    exclude: Sequence[str],
    respect_gitignore: bool = True,
    source_roots: Sequence[str] = (),
    role_patterns: Mapping[str, Sequence[str]] | None = None,
    layout: Layout | None = None,
    subprojects: list[Path] | None = None,
    unreadable: list[tuple[str, str]] | None = None,
    known: Mapping[Path, SourceFile] | None = None,
) -> list[SourceFile]:
    """Expand ``paths`` into the sorted list of Python files to scan.

    Module names start from the source roots of ``layout`` (see
    :mod:`integ_lint.model.layout`; inferred from the found files when not given).
    ``role_patterns`` (role -> globs, see :mod:`integ_lint.config.roles`) gives each file its
    role; without it every file is ``library``. Folders below the given ones that
    hold their own ``pyproject.toml`` are other projects: they are not scanned, and
    are appended to ``subprojects`` when given. Folders that cannot be read are
    skipped and appended to ``unreadable`` as (relative path, reason). Files in
    ``known`` (the project's files, named with the same ``layout`` and
    ``role_patterns``) are taken as they are: their heads are not read again."""
    root = root.resolve()
    found = collect_paths(paths, root, exclude, respect_gitignore, subprojects, unreadable)
    if layout is None:
        layout = infer_layout(root, found, source_roots)
    known = known or {}
    fresh = name_files([p for p in found if p not in known], root, layout, role_patterns)
    named = {f.path: f for f in fresh}
    return [known[p] if p in known else named[p] for p in found]


def discover_project(
    root: Path,
    exclude: Sequence[str],
    respect_gitignore: bool = True,
    source_roots: Sequence[str] = (),
    role_patterns: Mapping[str, Sequence[str]] | None = None,
) -> tuple[list[SourceFile], Layout]:
    """Every file of the project at ``root`` and the project's layout (its source
    roots, inferred from those files unless ``source_roots`` are given)."""
    root = root.resolve()
    found = collect_paths([root], root, exclude, respect_gitignore)
    heads: dict[Path, str] = {}
    layout = infer_layout(root, found, source_roots, heads=heads)
    files, warning = separate_shadowed(
        name_files(found, root, layout, role_patterns, heads), layout
    )
    if warning:
        layout = replace(layout, warnings=(*layout.warnings, warning))
    return files, layout


def separate_shadowed(files: Sequence[SourceFile], layout: Layout) -> tuple[list[SourceFile], str]:
    """``files`` with every module name held by one file only, and a warning naming
    the files renamed. Two files under different source roots can get one name (a
    copy of ``pkg/evaluation/`` at the root while ``pkg`` is a source root too): the
    file under the earlier root keeps it, as the first entry of ``sys.path`` wins (a
    library file before a test or example), and the one it shadows is named ``<its source root>:<module>``, a name no import
    reaches. One identity per file: the two are never merged into one module (nor
    their classes into one manager). The warning names library files only."""
    order = {relative_path(r, layout.root): i for i, r in enumerate(layout.source_roots)}

    def rank(file: SourceFile) -> tuple[bool, int]:
        # The project's library before its tests and examples (a root inferred from an
        # example's imports must not rename the project's own module).
        return file.role != "library", order.get(file.source_root, len(order))

    owners: dict[str, SourceFile] = {}
    for file in files:
        current = owners.get(file.module)
        if file.module and (current is None or rank(file) < rank(current)):
            owners[file.module] = file
    kept: list[SourceFile] = []
    shadowed: list[tuple[SourceFile, SourceFile]] = []
    for file in files:
        owner = owners.get(file.module)
        if owner is None or owner.source_root == file.source_root:
            kept.append(file)  # a .py beside its .pyi stub is one module
            continue
        shadowed.append((file, owner))
        kept.append(replace(file, module=f"{file.source_root}:{file.module}"))
    # Tests and examples often repeat a name (each example's manage.py): renamed, but
    # only a library file shadowed is worth a warning.
    shadowed = [(file, owner) for file, owner in shadowed if file.role == "library"]
    if not shadowed:
        return kept, ""
    file, owner = shadowed[0]
    more = f" and {len(shadowed) - 1} more" if len(shadowed) > 1 else ""
    warning = (
        f"{file.relpath}{more}: module name {file.module!r} is taken by {owner.relpath} "
        f"(source root {owner.source_root!r} comes first); named "
        f"{file.source_root + ':' + file.module!r}, which no import reaches. A stray copy? "
        "Exclude it, or set source-roots"
    )
    return kept, warning


def collect_paths(
    paths: Sequence[Path],
    root: Path,
    exclude: Sequence[str],
    respect_gitignore: bool = True,
    subprojects: list[Path] | None = None,
    unreadable: list[tuple[str, str]] | None = None,
) -> list[Path]:
    """The Python files under ``paths`` (sorted, absolute), with the excludes. A
    folder met on the way that holds a ``pyproject.toml`` is a sub-project (a monorepo
    member with its own root and settings): it is skipped and listed in
    ``subprojects``."""
    git_files = _git_visible_files(root) if respect_gitignore else None
    found: dict[str, Path] = {}
    for given in paths:
        if not given.exists() and not given.is_symlink():
            raise DiscoveryError(f"{given}: no such file or directory")
        absolute = Path(os.path.abspath(given))
        if absolute.is_file() or (absolute.is_symlink() and not absolute.is_dir()):
            relpath = relative_path(absolute, root)
            if not matches_any(relpath, exclude):
                found[str(absolute)] = absolute
            continue
        # A folder named on the command line that git ignores as a whole (a
        # vendored tree, an interpreter's library inside a dotfiles checkout) is
        # scanned as asked: .gitignore only prunes what lies inside a tracked tree.
        prefix = os.path.normpath(absolute) + os.sep
        visible = git_files
        if visible is not None and not any(name.startswith(prefix) for name in visible):
            visible = None

        def cannot_list(error: OSError) -> None:
            if unreadable is not None and error.filename is not None:
                where = relative_path(Path(os.fsdecode(error.filename)), root)
                unreadable.append((where, error.strerror or type(error).__name__))

        for directory, dirnames, filenames in os.walk(
            absolute, onerror=cannot_list, followlinks=False
        ):
            current = Path(directory)
            kept = []
            for name in sorted(dirnames):
                sub = current / name
                rel = relative_path(sub, root)
                if name in SKIPPED_DIR_NAMES or name.endswith(".egg-info"):
                    continue
                if matches_any(rel, exclude):
                    continue  # before touching it: an excluded folder may be unreadable
                problem = _unreadable_folder(sub)
                if problem is not None:
                    if unreadable is not None:
                        unreadable.append((rel, problem))
                    continue
                if _is_virtualenv(sub):
                    continue
                if (sub / "pyproject.toml").is_file() and sub != root:
                    if subprojects is not None and sub not in subprojects:
                        subprojects.append(sub)
                    continue
                kept.append(name)
            dirnames[:] = kept
            for name in sorted(filenames):
                if not name.endswith(SOURCE_SUFFIXES):
                    continue
                file_path = current / name
                rel = relative_path(file_path, root)
                if matches_any(rel, exclude):
                    continue
                if visible is not None and os.path.normpath(file_path) not in visible:
                    continue
                if _is_special_file(file_path):
                    continue
                found[str(file_path)] = file_path
    return [p for _, p in sorted(found.items())]


def name_files(
    found: Sequence[Path],
    root: Path,
    layout: Layout,
    role_patterns: Mapping[str, Sequence[str]] | None = None,
    heads: Mapping[Path, str] | None = None,
) -> list[SourceFile]:
    """``found`` as SourceFiles: module name and source root from ``layout``, role
    from ``role_patterns`` (and the files' first characters, from ``heads`` when the
    layout scan has read them already)."""
    files = []
    for p in found:
        relpath = relative_path(p, root)
        role = "library"
        if role_patterns is not None:
            from integ_lint.config.roles import classify

            head = heads[p] if heads is not None and p in heads else read_head(p)
            role = classify(relpath, role_patterns, head)
        module, base = layout_module_name(p, layout.source_roots)
        files.append(
            SourceFile(
                path=p,
                relpath=relpath,
                module=module,
                is_package_init=p.name in ("__init__.py", "__init__.pyi"),
                role=role,
                source_root=relative_path(base, root),
            )
        )
    return files


def read_head(path: Path, size: int = HEAD_BYTES) -> str:
    """The first bytes of ``path`` as text (for generated-code headers); "" when the
    file cannot be read (the analysis reports that)."""
    from integ_lint.files.source import read_regular_head  # a FIFO or device is never read

    try:
        data = read_regular_head(path, size)
    except OSError:
        return ""
    return data.decode("utf-8", "replace")


def module_name(path: Path, roots: Sequence[Path]) -> str:
    """The dotted module name of ``path`` under the innermost of ``roots`` holding it
    (see :func:`integ_lint.model.layout.module_name`)."""
    ordered = sorted((Path(os.path.abspath(r)) for r in roots), key=lambda r: -len(r.parts))
    return layout_module_name(path, ordered)[0]


def project_files(config: Config) -> list[SourceFile]:
    """Every file of the project (the config's root), named from the project's source
    roots; computes :func:`project_layout` on the way. Cached on the config."""
    if config.files is not None:
        cached: list[SourceFile] = config.files
        return cached
    general = config.general
    files, layout = discover_project(
        config.root,
        exclude=[*general.exclude, *general.extend_exclude],
        respect_gitignore=general.respect_gitignore,
        source_roots=general.source_roots,
        role_patterns=role_paths(general),
    )
    config.layout = layout
    config.files = files
    return files


def project_layout(config: Config) -> Layout:
    """The source roots of the config's project (integ_lint.model.layout), computed once."""
    if config.layout is None:
        project_files(config)
    layout: Layout = config.layout
    return layout


def discover_files(
    paths: Sequence[Path],
    config: Config,
    subprojects: list[Path] | None = None,
    unreadable: list[tuple[str, str]] | None = None,
) -> list[SourceFile]:
    """The files a run over ``paths`` scans, with the config's excludes; module names
    start from the whole project's source roots, whatever the paths. The project's
    files are named (and their roles classified) once: this reuses them."""
    general = config.general
    return discover(
        paths,
        config.root,
        exclude=[*general.exclude, *general.extend_exclude],
        respect_gitignore=general.respect_gitignore,
        role_patterns=role_paths(general),
        layout=project_layout(config),
        subprojects=subprojects,
        unreadable=unreadable,
        known={f.path: f for f in project_files(config)},
    )
