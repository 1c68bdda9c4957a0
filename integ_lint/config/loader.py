"""Loading ``[tool.integ-lint]``: find the file, validate every key, remember provenance."""

from __future__ import annotations

import dataclasses
import difflib
import sys
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from integ_lint.config.errors import ConfigError
from integ_lint.config.roots import LayoutError, configured_roots
from integ_lint.config.settings import BUILTIN_SECTIONS, GeneralSettings, Section
from integ_lint.files.toml_text import parse_toml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

SectionT = TypeVar("SectionT", bound=Section)


@dataclass
class Config:
    root: Path
    config_file: Path | None
    general: GeneralSettings
    sections: dict[str, Section]
    # Where each key's value came from: "default", a file path, or "command line".
    provenance: dict[str, str] = field(default_factory=dict)
    # "pkg.module:function" strings from the scanned project's [project.scripts].
    project_scripts: tuple[str, ...] = ()
    # The project's source roots (integ_lint.model.layout.Layout), computed once per run by
    # engine.project_layout; not part of the configuration's value.
    layout: Any = field(default=None, repr=False, compare=False)
    # Every SourceFile of the project (engine.project_files), kept for the run; never
    # sent to worker processes.
    files: Any = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["files"] = None
        return state

    def section(self, kind: type[SectionT]) -> SectionT:
        value = self.sections[kind.TABLE]
        assert isinstance(value, kind)
        return value

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            _toml_key(k): v for k, v in dataclasses.asdict(self.general).items()
        }
        for name, section in self.sections.items():
            data[name] = {_toml_key(k): v for k, v in dataclasses.asdict(section).items()}
        return data


def _toml_key(name: str) -> str:
    return name.replace("_", "-")


def _field_name(key: str) -> str:
    return key.replace("-", "_")


def find_config_file(paths: Sequence[Path]) -> Path | None:
    """The nearest ``pyproject.toml`` above the first scanned path: it makes the
    project (its folder is the root) and its ``[tool.integ-lint]`` table, if any, is
    the project's configuration. In a monorepo each member's ``pyproject.toml`` makes
    it a project of its own, with its own settings; a table higher up does not apply
    to it (``extend = "../pyproject.toml"`` inherits one explicitly)."""
    start = (paths[0] if paths else Path.cwd()).resolve()
    if start.is_file():
        start = start.parent
    for directory in (start, *start.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_config(
    paths: Sequence[Path],
    config_file: Path | None = None,
    overrides: dict[str, Any] | None = None,
    extra_sections: Iterable[type[Section]] = (),
) -> Config:
    """Resolve the configuration for a run over ``paths``.

    ``overrides`` are top-level keys given on the command line (kebab-case).
    """
    sections_types = {s.TABLE: s for s in (*BUILTIN_SECTIONS, *extra_sections)}
    explicit = config_file is not None
    if config_file is None:
        config_file = find_config_file(paths)
    raw: dict[str, Any] = {}
    inherited: dict[str, str] = {}  # key -> the extended file it came from
    project_scripts: tuple[str, ...] = ()
    if config_file is not None:
        document = _read_document(config_file, str(config_file), "config file")
        raw = _integ_lint_table(document, config_file)
        project_scripts = _project_scripts(document)
        raw, inherited = _resolve_extend(raw, config_file, [config_file.resolve()])
    elif explicit:
        raise ConfigError("--config: no file given")

    root = config_file.parent.resolve() if config_file is not None else _common_root(paths)
    source = str(config_file) if config_file is not None else "default"
    provenance: dict[str, str] = {}

    general_raw = {k: v for k, v in raw.items() if k not in sections_types}
    general = _build_section(GeneralSettings, general_raw, source, "", provenance, inherited)
    sections: dict[str, Section] = {}
    for name, kind in sections_types.items():
        table = raw.get(name, {})
        if not isinstance(table, dict):
            where = inherited.get(name, source)
            raise ConfigError(f"{where}: tool.integ-lint.{name}: expected a table")
        sections[name] = _build_section(kind, table, source, name, provenance, inherited)

    if overrides:
        for key, value in overrides.items():
            if value is None:
                continue
            attr = _field_name(key)
            if not hasattr(general, attr):
                raise ConfigError(f"command line: unknown option {key!r}")
            setattr(general, attr, value)
            provenance[key] = "command line"
    _check_general(general, source)
    if general.source_roots:
        where = provenance.get("source-roots", source)
        try:
            configured_roots(root, general.source_roots, where)
        except LayoutError as exc:
            raise ConfigError(str(exc)) from None
    from integ_lint.config.importlinter import adopt_importlinter_contracts

    # A team's import-linter contracts are checked as written when integ-lint has none.
    adopt_importlinter_contracts(sections, root, provenance)
    return Config(
        root=root,
        config_file=config_file,
        general=general,
        sections=sections,
        provenance=provenance,
        project_scripts=project_scripts,
    )


# A configuration file larger than this is not one (a log or a device named so).
_MAX_CONFIG_BYTES = 16 << 20


def _read_document(path: Path, label: str, what: str) -> dict[str, Any]:
    """The TOML document at ``path``; a :class:`ConfigError` starting with ``label``
    and naming ``what`` when it cannot be read (a FIFO or device is never opened for
    a blocking read) or is not TOML."""
    from integ_lint.files.source import read_regular_file

    try:
        text = read_regular_file(path, _MAX_CONFIG_BYTES).decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{label}: {what} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{label}: cannot read {what}: {exc}") from None
    try:
        return parse_toml(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{label}: invalid TOML in {what}: {exc}") from None


def _integ_lint_table(document: dict[str, Any], path: Path) -> dict[str, Any]:
    """The ``[tool.integ-lint]`` table of ``document`` (read from ``path``); a
    dedicated ``integ-lint.toml`` holds it at the top level."""
    if path.name == "pyproject.toml" or "tool" in document:
        tool = document.get("tool", {})
        table = tool.get("integ-lint", {}) if isinstance(tool, dict) else {}
    else:
        table = document
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.integ-lint] must be a table")
    return table


_MAX_EXTEND_DEPTH = 8


def _resolve_extend(
    raw: dict[str, Any], config_file: Path, chain: list[Path]
) -> tuple[dict[str, Any], dict[str, str]]:
    """``raw`` with the table of ``extend = "../pyproject.toml"`` underneath it, as in
    ruff: the extending file's keys win; option tables merge key by key. Returns the
    merged table and, for inherited keys, the file each came from."""
    target = raw.get("extend")
    if target is None:
        return raw, {}
    label = f"{config_file}: tool.integ-lint.extend"
    if not isinstance(target, str) or not target.strip() or "\0" in target:
        raise ConfigError(f"{label}: expected the path of a TOML file")
    try:
        base_file = (config_file.parent / target).resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symlink loop (Python < 3.13)
        raise ConfigError(f"{label}: cannot read {target!r}: {exc}") from None
    if base_file in chain:
        raise ConfigError(f"{label}: {target!r} extends itself (cycle)")
    if len(chain) >= _MAX_EXTEND_DEPTH:
        raise ConfigError(f"{label}: more than {_MAX_EXTEND_DEPTH} levels of extend")
    base = _integ_lint_table(_read_document(base_file, label, repr(target)), base_file)
    base, inherited = _resolve_extend(base, base_file, [*chain, base_file])
    merged: dict[str, Any] = dict(base)
    origin = {key: inherited.get(key, str(base_file)) for key in _flat_keys(base)}
    for key, value in raw.items():
        if key == "extend":
            continue
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
            for inner in value:
                origin.pop(f"{key}.{inner}", None)
        else:
            merged[key] = value
            origin.pop(key, None)
    return merged, origin


def _flat_keys(table: dict[str, Any]) -> list[str]:
    """Provenance keys of a table: ``key`` and ``section.key``."""
    keys: list[str] = []
    for key, value in table.items():
        if isinstance(value, dict):
            keys.extend(f"{key}.{inner}" for inner in value)
        keys.append(key)
    return keys


def _common_root(paths: Sequence[Path]) -> Path:
    """Without a pyproject.toml, the project is the folder holding every path; a
    package is not a project, so that folder is lifted out of any package it is in."""
    if not paths:
        return Path.cwd().resolve()
    resolved = [p.resolve() for p in paths]
    dirs = [p if p.is_dir() else p.parent for p in resolved]
    common = Path(*Path(dirs[0]).parts)
    for d in dirs[1:]:
        while common not in (d, *d.parents):
            common = common.parent
    while (common / "__init__.py").is_file() and common.parent != common:
        common = common.parent
    return common


def _project_scripts(document: dict[str, Any]) -> tuple[str, ...]:
    project = document.get("project", {})
    if not isinstance(project, dict):
        return ()
    found: list[str] = []
    for table in ("scripts", "gui-scripts"):
        entries = project.get(table, {})
        if isinstance(entries, dict):
            found.extend(str(v).split("[")[0].strip() for v in entries.values())
    return tuple(found)


def _build_section(
    kind: type[SectionT],
    table: dict[str, Any],
    source: str,
    table_name: str,
    provenance: dict[str, str],
    inherited: Mapping[str, str] = types.MappingProxyType({}),
) -> SectionT:
    """The section ``kind`` built from ``table`` of the file ``source``; a key in
    ``inherited`` came from the file it names (``extend``): errors and provenance
    name that file."""
    prefix = f"tool.integ-lint.{table_name}." if table_name else "tool.integ-lint."
    hints = typing.get_type_hints(kind)
    fields = {f.name: f for f in dataclasses.fields(kind)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        dotted = prefix[len("tool.integ-lint.") :] + key
        where = inherited.get(dotted, source)
        name = _field_name(key)
        if name not in fields or key != _toml_key(name):
            known = [_toml_key(n) for n in fields]
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{where}: {prefix}{key}: unknown key{hint}")
        problem = _type_problem(value, hints[name])
        if problem:
            raise ConfigError(f"{where}: {prefix}{key}: {problem}")
        values[name] = value
        provenance[dotted] = where
    for name in fields:
        provenance.setdefault(prefix[len("tool.integ-lint.") :] + _toml_key(name), "default")
    return kind(**values)


def _describe(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is None:
        return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(
            tp, getattr(tp, "__name__", str(tp))
        )
    args = typing.get_args(tp)
    if origin is list:
        return f"a list of {_plural(_describe(args[0]))}"
    if origin is dict:
        return f"a table of {_plural(_describe(args[1]))}"
    return str(tp)


def _plural(description: str) -> str:
    """``a string`` -> ``strings``; ``a list of strings`` -> ``lists of strings``."""
    noun = description.removeprefix("a ").removeprefix("an ")
    if noun == "true or false":
        return "true or false values"
    head, of, rest = noun.partition(" of ")
    return f"{head}s{of}{rest}" if of else f"{noun}s"


def _type_problem(value: Any, tp: Any) -> str | None:
    """Return why ``value`` does not fit the annotation ``tp`` (None when it fits)."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return None
    if origin in (typing.Union, types.UnionType):
        if any(_type_problem(value, arg) is None for arg in typing.get_args(tp)):
            return None
        return f"expected {' or '.join(_describe(a) for a in typing.get_args(tp))}"
    if origin is None:
        if tp is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return None
        if tp is int and isinstance(value, bool):
            return f"expected {_describe(tp)}, got {value!r}"
        if tp is str and isinstance(value, str) and "\0" in value:
            return f"contains a NUL byte: {value!r}"  # no path or name can hold one
        if isinstance(value, tp):
            return None
        return f"expected {_describe(tp)}, got {type(value).__name__} {value!r}"
    args = typing.get_args(tp)
    if origin is list:
        if not isinstance(value, list):
            return f"expected {_describe(tp)}, got {type(value).__name__}"
        for index, item in enumerate(value):
            problem = _type_problem(item, args[0])
            if problem:
                return f"item {index}: {problem}"
        return None
    if origin is dict:
        if not isinstance(value, dict):
            return f"expected {_describe(tp)}, got {type(value).__name__}"
        for k, item in value.items():
            if isinstance(k, str) and "\0" in k:
                return f"{k!r}: contains a NUL byte"
            problem = _type_problem(item, args[1])
            if problem:
                return f"{k!r}: {problem}"
        return None
    return None


def _check_general(general: GeneralSettings, source: str) -> None:
    from integ_lint.findings.model import Severity

    if general.fail_on not in ("error", "warning", "note"):
        raise ConfigError(
            f"{source}: tool.integ-lint.fail-on: expected error, warning or note, "
            f"got {general.fail_on!r}"
        )
    for code, level in general.severity.items():
        try:
            Severity.parse(level)
        except ValueError as exc:
            raise ConfigError(f"{source}: tool.integ-lint.severity.{code}: {exc}") from None
    if general.jobs < 0:
        raise ConfigError(f"{source}: tool.integ-lint.jobs: must be 0 (all CPUs) or more")
