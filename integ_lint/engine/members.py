"""Monorepo members: which project each given path belongs to, and running a view
over every member a run reaches, each with its own root, source roots and config.

A member is a folder below the run's project root that holds its own
``pyproject.toml`` (as in ruff's hierarchical configuration). ``check`` merges the
members' reports in :func:`integ_lint.engine.pipeline.run`; the ``imports`` and ``graph`` views
use :func:`each_project` here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from integ_lint.config.loader import Config, ConfigError, find_config_file, load_config
from integ_lint.engine.discovery import DiscoveryError

if TYPE_CHECKING:
    from integ_lint.engine.discovery import SourceFile

T = TypeVar("T")


def owning_project(path: Path) -> Path | None:
    """The folder of the nearest ``pyproject.toml`` at or above ``path`` (resolved)."""
    config_file = find_config_file([path])
    return config_file.parent.resolve() if config_file is not None else None


def split_by_member(
    paths: Sequence[Path], root: Path, exclude: Sequence[str] = ()
) -> tuple[list[Path], dict[Path, list[Path]]]:
    """The given paths of the project at ``root`` itself, and those inside a member
    below it (by the member's folder). A file pre-commit passes from another member is
    judged with that member's settings, not with those of the first file's project.
    A path (or member) the project's ``exclude`` leaves out stays with the project,
    which leaves it out, as it leaves out such a member when scanning a folder."""
    from integ_lint.files.globs import matches_any
    from integ_lint.files.paths import relative_path

    root = root.resolve()
    own: list[Path] = []
    members: dict[Path, list[Path]] = {}

    def left_out(owner: Path, path: Path) -> bool:
        return bool(exclude) and (
            matches_any(relative_path(owner, root), exclude)
            or matches_any(relative_path(path.resolve(), root), exclude)
        )

    for path in paths:
        owner = owning_project(path)
        if owner is None or owner == root or root not in owner.parents or left_out(owner, path):
            own.append(path)
        else:
            members.setdefault(owner, []).append(path)
    return own, members


def config_paths(paths: Sequence[Path]) -> list[Path]:
    """The paths to look the run's configuration up from: ``paths`` themselves when
    they all belong to one project; otherwise the folder holding them all, so that
    files of several monorepo members (pre-commit passes them together) are run from
    the project above them all, and each member is then split off with its own
    settings, instead of judging every file with the first file's config."""
    if len(paths) < 2:
        return list(paths)
    owners = {owning_project(p) for p in paths}
    if len(owners) < 2:
        return list(paths)
    absolute = [Path(os.path.abspath(p)) for p in paths]
    return [Path(os.path.commonpath([p if p.is_dir() else p.parent for p in absolute]))]


def member_prefix(member: Path, root: Path) -> str:
    """``member``'s folder relative to ``root`` (posix)."""
    return Path(os.path.relpath(member.resolve(), root.resolve())).as_posix()


def joined(prefix: str, path: str) -> str:
    """``path`` of a member seen from the run's root."""
    if not prefix:
        return path
    return prefix if path in ("", ".") else f"{prefix}/{path}"


def each_project(
    paths: Sequence[Path],
    config: Config,
    build: Callable[[list[Path], Config, list[Path]], T],
    notes: list[str],
) -> list[tuple[str, T]]:
    """``(prefix, build(paths, config, subprojects))`` for the config's project and for
    every member the paths reach (``prefix`` is the member's folder relative to the
    config's root, ``""`` for the project itself), members in path order.

    ``build`` appends to ``subprojects`` the members found while discovering whole
    folders; each is then built whole. A member given only through files or folders
    inside it is built over those, with the whole member behind them. A member whose
    configuration is invalid is skipped with a note.
    """
    from integ_lint.engine.registry import load_registry
    from integ_lint.engine.selection import select_rules

    general = config.general
    own, members = split_by_member(paths, config.root, general.excluded)
    results: list[tuple[str, T]] = []
    if own:
        subprojects: list[Path] = []
        results.append(("", build(own, config, subprojects)))
        for subproject in subprojects:
            members[subproject.resolve()] = [subproject]  # the whole member
    for member in sorted(members):
        prefix = member_prefix(member, config.root)
        try:
            registry = load_registry()
            member_config = load_config([member], None, extra_sections=registry.sections)
            select_rules(member_config, registry)  # its globs and tables, as for the top
        except ConfigError as exc:
            notes.append(f"{exc}; the project {prefix} was left out")
            continue
        for inner, result in each_project(members[member], member_config, build, notes):
            results.append((joined(prefix, inner), result))
    return results


def context_line(shown: int, context: int) -> str:
    """The line saying how many files a narrowed view is about and how many more were
    read for context (as ``check``'s summary says); empty when nothing was narrowed."""
    if not context:
        return ""
    files = "file" if shown == 1 else "files"
    return f"{shown} {files} shown, {context} more read for context."


@dataclass
class Member:
    """A monorepo member a run reaches: its folder from the run's root (``prefix``), its
    own configuration, the paths of the run inside it (the member itself when a folder
    above it was given) and the files those paths discover there."""

    prefix: str
    config: Config
    paths: list[Path]
    files: list[SourceFile]


def reached_members(
    paths: Sequence[Path], config: Config, subprojects: Sequence[Path], notes: list[str]
) -> list[Member]:
    """Every member below the config's project that ``paths`` reach, and theirs in turn,
    each with its own configuration: members holding one of ``paths`` (with those
    paths), and ``subprojects`` (found while discovering a folder above them; whole).
    A member whose configuration is invalid is left out with a note."""
    from integ_lint.engine.discovery import discover_files
    from integ_lint.engine.registry import load_registry
    from integ_lint.engine.selection import select_rules

    general = config.general
    _own, members = split_by_member(paths, config.root, general.excluded)
    for subproject in subprojects:
        members[subproject.resolve()] = [subproject]  # the whole member
    found: list[Member] = []
    for member in sorted(members):
        prefix = member_prefix(member, config.root)
        nested: list[Path] = []
        try:
            registry = load_registry()
            member_config = load_config([member], None, extra_sections=registry.sections)
            select_rules(member_config, registry)
            own_paths = split_by_member(
                members[member],
                member_config.root,
                member_config.general.excluded,
            )[0]
            files = discover_files(own_paths, member_config, nested) if own_paths else []
        except (ConfigError, DiscoveryError) as exc:
            notes.append(f"{exc}; the project {prefix} was left out")
            continue
        found.append(Member(prefix, member_config, list(members[member]), files))
        for inner in reached_members(members[member], member_config, nested, notes):
            found.append(replace(inner, prefix=joined(prefix, inner.prefix)))
    return found


def members_of(paths: Sequence[Path], config: Config, notes: list[str]) -> list[Member]:
    """The members a run of the config's project over ``paths`` reaches (see
    :func:`reached_members`), found by discovering the project's own paths."""
    from integ_lint.engine.discovery import discover_files

    general = config.general
    own = split_by_member(paths, config.root, general.excluded)[0]
    subprojects: list[Path] = []
    if own:
        try:
            discover_files(own, config, subprojects)
        except DiscoveryError as exc:
            notes.append(str(exc))
    return reached_members(paths, config, subprojects, notes)


def keys_set(config: Config) -> list[str]:
    """The keys whose value does not come from the defaults (dotted, ``gpu.x``)."""
    return sorted(key for key, source in config.provenance.items() if source != "default")
