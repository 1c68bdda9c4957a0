"""Finding the files to scan and naming their modules."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from integ_lint.config.loader import Config
from integ_lint.config.roles import role_classifier, role_paths
from integ_lint.files.globs import glob_matcher, matches_any
from integ_lint.files.paths import RelativeNamer, relative_path
from integ_lint.files.source import HEAD_BYTES
from integ_lint.model.layout import (
    Layout,
    ModuleNamer,
    finish_layout,
    infer_layout,
    starting_roots,
)
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
    # Text, not a pathlib object per file git lists (every file of the checkout).
    base = str(root)
    join, normalise = os.path.join, os.path.normpath
    return {normalise(join(base, name)) for name in names if name}


def _is_special_file(path: str | Path) -> bool:
    """A FIFO, socket or device named like a module: reading it could block forever.
    (Broken links and unreadable files are kept: the analysis reports them.)"""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


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
    memo_directory: Path | None = None,
    subprojects: list[Path] | None = None,
    unreadable: list[tuple[str, str]] | None = None,
) -> tuple[list[SourceFile], Layout]:
    """Every file of the project at ``root`` and the project's layout (its source
    roots, inferred from those files unless ``source_roots`` are given).

    With ``memo_directory`` (the cache folder), what the files said last time is
    reused for every file whose ``stat`` is unchanged, and the layout for the same
    files and imports (:mod:`integ_lint.engine.layout_memo`). ``subprojects`` and
    ``unreadable``: as for :func:`discover`."""
    from integ_lint.engine.layout_memo import DiscoveryMemo, hold_until_claimed, memo_path

    root = root.resolve()
    found = collect_paths([root], root, exclude, respect_gitignore, subprojects, unreadable)
    relative = RelativeNamer(root)
    relpaths = [relative(str(p)) for p in found]
    # The roots from configs first: their errors, as when the files are read.
    starting, origin = starting_roots(root, found, source_roots, "command line")
    memo = DiscoveryMemo(
        memo_path(memo_directory, root) if memo_directory is not None else None,
        root,
        cache_directory=memo_directory,
    )
    # Lists in the order of ``found``: no pathlib hashing per file.
    scans = [memo.scan(path, relpath) for path, relpath in zip(found, relpaths)]
    configured = bool(source_roots)
    key = memo.layout_key(found, starting, origin, configured, [names for names, _ in scans])
    layout = memo.layout(key, root)
    if layout is None:
        imports = {path: names for path, (names, _) in zip(found, scans)}
        layout = finish_layout(root, found, starting, origin, imports, configured)
        memo.remember_layout(key, layout)
    memo.save()
    hold_until_claimed(memo)
    files, warning = separate_shadowed(
        name_files(
            found,
            root,
            layout,
            role_patterns,
            generated=[flag for _, flag in scans],
            relpaths=relpaths,
        ),
        layout,
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
    # None without excludes: no relative path is made per file and folder for them.
    excluded = glob_matcher(tuple(exclude)) if exclude else None
    relative = RelativeNamer(root)
    root_text = os.path.abspath(root)
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

        # Plain strings and os.scandir's entries (no pathlib objects, no stat of a
        # regular file): this runs over every folder and file of the project. Each
        # folder is listed once: the listing that proves it readable is walked.
        top = str(absolute)
        try:
            top_entries = _listing(top)
        except OSError as error:
            cannot_list(error)
            continue
        # (folder, its listing) still to walk
        pending: list[tuple[str, list[os.DirEntry[str]]]] = [(top, top_entries)]
        while pending:
            folder, listed = pending.pop()
            folders, files = _split(listed)
            kept: list[tuple[str, list[os.DirEntry[str]]]] = []
            for entry in sorted(folders, key=_name):
                name = entry.name
                if name in SKIPPED_DIR_NAMES or name.endswith(".egg-info"):
                    continue
                sub = entry.path
                if excluded is not None and excluded(relative(sub)):
                    continue  # before touching it: an excluded folder may be unreadable
                try:
                    listing = _listing(sub)
                    os.stat(os.path.join(sub, "."))  # needs search (x) permission
                except OSError as error:
                    if unreadable is not None:
                        why = error.strerror or type(error).__name__
                        unreadable.append((relative(sub), why))
                    continue
                names = {item.name: item for item in listing}
                if _is_file(names.get("pyvenv.cfg")):
                    continue  # a virtualenv
                if _is_file(names.get("pyproject.toml")) and sub != root_text:
                    if subprojects is not None and Path(sub) not in subprojects:
                        subprojects.append(Path(sub))
                    continue
                if not _is_link(entry):  # os.walk never enters a symlinked folder
                    kept.append((sub, listing))
            pending.extend(reversed(kept))  # depth first, in name order, as os.walk
            folder_path: Path | None = None  # made once per folder holding a module
            for entry in files:  # in any order: ``found`` is sorted at the end
                if not entry.name.endswith(SOURCE_SUFFIXES):
                    continue
                file_path = entry.path
                if excluded is not None and excluded(relative(file_path)):
                    continue
                if visible is not None and os.path.normpath(file_path) not in visible:
                    continue
                if not _is_regular_entry(entry) and _is_special_file(file_path):
                    continue
                if folder_path is None:
                    folder_path = Path(folder)
                # The name alone is parsed: the path's text is the entry's.
                found[file_path] = folder_path / entry.name
    return [p for _, p in sorted(found.items())]


def _listing(folder: str) -> list[os.DirEntry[str]]:
    with os.scandir(folder) as entries:
        return list(entries)


def _name(entry: os.DirEntry[str]) -> str:
    return entry.name


def _split(
    entries: list[os.DirEntry[str]],
) -> tuple[list[os.DirEntry[str]], list[os.DirEntry[str]]]:
    """The folders (symlinks to folders included, as ``os.walk`` lists them) and the
    other entries of a listing."""
    folders: list[os.DirEntry[str]] = []
    files: list[os.DirEntry[str]] = []
    for entry in entries:
        try:
            is_dir = entry.is_dir()
        except OSError:
            is_dir = False
        (folders if is_dir else files).append(entry)
    return folders, files


def _is_file(entry: os.DirEntry[str] | None) -> bool:
    """``os.path.isfile`` for an entry of a listing (None: no such name)."""
    if entry is None:
        return False
    try:
        return entry.is_file()
    except OSError:
        return False


def _is_regular_entry(entry: os.DirEntry[str]) -> bool:
    """Whether ``entry`` is a regular file itself (not a link), from the listing's
    file type when the file system gives one (no ``stat``)."""
    try:
        return entry.is_file(follow_symlinks=False)
    except OSError:
        return False


def _is_link(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_symlink()
    except OSError:
        return False


def name_files(
    found: Sequence[Path],
    root: Path,
    layout: Layout,
    role_patterns: Mapping[str, Sequence[str]] | None = None,
    generated: Sequence[bool] | None = None,
    relpaths: Sequence[str] | None = None,
) -> list[SourceFile]:
    """``found`` as SourceFiles: module name and source root from ``layout``, role
    from ``role_patterns`` and the files' generated-code headers (``generated``, one
    flag per file of ``found`` when the layout scan has read them already; else their
    heads are read when the globs do not decide). ``relpaths``: those of ``found``,
    when known."""
    if not found:
        return []
    relative = RelativeNamer(root)
    namer = ModuleNamer(layout.source_roots)
    role_of = role_classifier(role_patterns) if role_patterns is not None else None
    if relpaths is None:
        relpaths = [relative(str(p)) for p in found]
    source_roots: dict[str, str] = {}
    files = []
    for index, (p, relpath) in enumerate(zip(found, relpaths)):
        text = str(p)
        role = "library"
        if role_of is not None:
            if generated is not None:
                role = role_of(relpath, partial(generated.__getitem__, index))
            else:
                role = role_of(relpath, partial(_has_generated_header, p))
        module, base = namer(text)
        if base not in source_roots:
            source_roots[base] = relative(base)
        files.append(
            SourceFile(
                path=p,
                relpath=relpath,
                module=module,
                is_package_init=text.rpartition(os.sep)[2] in ("__init__.py", "__init__.pyi"),
                role=role,
                source_root=source_roots[base],
            )
        )
    return files


def _has_generated_header(path: Path) -> bool:
    from integ_lint.config.roles import has_generated_header

    head = read_head(path)
    return bool(head) and has_generated_header(head)


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


@dataclass
class _Walked:
    """What the project's walk met besides files (see :func:`discover`)."""

    subprojects: list[Path] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)


def project_files(
    config: Config, use_cache: bool = False, walked: _Walked | None = None
) -> list[SourceFile]:
    """Every file of the project (the config's root), named from the project's source
    roots; computes :func:`project_layout` on the way. Cached on the config.
    ``use_cache``: reuse what the project's files said last time, kept in the cache
    folder when a run has created it (:mod:`integ_lint.engine.layout_memo`).
    ``walked`` receives the sub-projects and unreadable folders met on the way."""
    if config.files is not None:
        cached: list[SourceFile] = config.files
        return cached
    general = config.general
    files, layout = discover_project(
        config.root,
        exclude=general.excluded,
        respect_gitignore=general.respect_gitignore,
        source_roots=general.source_roots,
        role_patterns=role_paths(general),
        memo_directory=(
            Path(os.path.abspath(config.root / general.cache_dir)) if use_cache else None
        ),
        subprojects=walked.subprojects if walked is not None else None,
        unreadable=walked.unreadable if walked is not None else None,
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
    use_cache: bool = False,
) -> list[SourceFile]:
    """The files a run over ``paths`` scans, with the config's excludes; module names
    start from the whole project's source roots, whatever the paths. The project's
    files are named (and their roles classified) once: this reuses them.
    ``use_cache``: see :func:`project_files`."""
    if config.files is None and [os.path.abspath(p) for p in paths] == [str(config.root.resolve())]:
        # The whole project, not named yet: its walk is the run's (one walk, not two).
        walked = _Walked()
        project = project_files(config, use_cache, walked)
        for sub in walked.subprojects:
            if subprojects is not None and sub not in subprojects:
                subprojects.append(sub)
        if unreadable is not None:
            unreadable.extend(walked.unreadable)
        return list(project)
    project = project_files(config, use_cache)
    general = config.general
    return discover(
        paths,
        config.root,
        exclude=general.excluded,
        respect_gitignore=general.respect_gitignore,
        role_patterns=role_paths(general),
        layout=project_layout(config),
        subprojects=subprojects,
        unreadable=unreadable,
        known={f.path: f for f in project},
    )
