"""Config files (YAML, TOML, JSON) and the schema each one feeds (IL304-IL306).

Config files are not Python: they are not discovered with the source files. A file is
read only when something says which schema it feeds:

1. **the code**, in plain shapes recorded by the per-file facts
   (:class:`integ_lint.facts.schemas.ConfigLoad`): ``AppConfig(**yaml.safe_load(open(
   "config/default.yaml")))``, ``AppConfig.model_validate(data)`` / ``parse_obj`` /
   ``from_dict`` of data loaded from a literal path, ``AppConfig.parse_file(path)``,
   ``OmegaConf.merge(OmegaConf.structured(AppConfig), OmegaConf.load(path))``;
2. **the configuration**: ``[tool.integ-lint.config-schema] files =
   { "config/*.yaml" = "pkg.config_schema:AppConfig" }`` (globs relative to the
   project root).

A file loaded alone into the schema (the first shapes, or a configured file listed in
``complete-files``) is *complete*: every required field must be set in it. A file merged
with something else (OmegaConf.merge, a dict updated before validation, configured
override files) is *partial*.

Each file is read once per run (however many schemas it feeds, with
:func:`integ_lint.files.source.read_regular_file`: never a FIFO or device, never more than
``MAX_BYTES``) and parsed once per content per process (the parse is keyed by its
SHA-256): the few small files a project references are read again on every run, which
costs less than a cache lookup would, while the Python files keep the per-file cache. A
file that cannot be read or parsed becomes one notification naming the file and line,
never a crash or a hang.
Every key keeps its line and column: YAML from PyYAML's node marks, JSON from the same
YAML composer (JSON is YAML), TOML from a scan of its table headers and ``key =`` lines.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from integ_lint.config.loader import ConfigError
from integ_lint.config.settings import ConfigSchemaSettings
from integ_lint.facts.schemas import ConfigLoad
from integ_lint.files.globs import matches_any
from integ_lint.files.source import (
    FileTooLargeError,
    NotRegularFileError,
    glob_paths,
    names_a_file,
    read_regular_file,
)
from integ_lint.findings.model import Notification, NotificationKind, Span
from integ_lint.model.project import ProjectIndex
from integ_lint.model.schema_index import Schema, schema_index

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

KEY = "config-files"
MAX_BYTES = 2_000_000  # a "config" file larger than this is data, not configuration
MAX_NESTING = 50  # sections deeper than this are not checked against a schema
MAX_KEYS = 200_000  # more keys than a 2 MB file can spell out: aliases expanding


@dataclass(frozen=True)
class ConfigKey:
    """A key of a config file with its position and value (``children`` when the value
    is a mapping)."""

    name: str
    line: int
    col: int
    value: Any
    children: tuple[ConfigKey, ...] | None = None

    @property
    def span(self) -> Span:
        return Span(self.line, self.col, self.line, self.col + len(self.name))


@dataclass(frozen=True)
class ParsedConfig:
    keys: tuple[ConfigKey, ...] = ()
    error: str = ""
    error_line: int = 0
    is_mapping: bool = True


@dataclass
class Feed:
    """A config file and the schema it feeds."""

    relpath: str
    schema: Schema
    complete: bool
    source: str  # "path/to/loader.py:12" or "[tool.integ-lint.config-schema] files"
    parsed: ParsedConfig = field(default_factory=ParsedConfig)


_PARSED: dict[tuple[str, str], ParsedConfig] = {}


def parse_config_text(text: str, suffix: str) -> ParsedConfig:
    """The keys of a YAML / TOML / JSON document, with positions; memoised by content."""
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    cached = _PARSED.get((digest, suffix))
    if cached is None:
        cached = _parse(text, suffix)
        if len(_PARSED) > 512:
            _PARSED.clear()
        _PARSED[(digest, suffix)] = cached
    return cached


def _parse(text: str, suffix: str) -> ParsedConfig:
    suffix = suffix.lower()
    try:
        if suffix == ".toml":
            data: Any = tomllib.loads(text)
            positions = _toml_positions(text)
        elif suffix == ".json":
            data = json.loads(text)
            positions = _yaml_positions(text)
        else:
            data, positions = _load_yaml(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        return ParsedConfig(error=str(exc), error_line=int(match.group(1)) if match else 1)
    except json.JSONDecodeError as exc:
        return ParsedConfig(error=exc.msg, error_line=exc.lineno)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        return ParsedConfig(error=str(problem), error_line=mark.line + 1 if mark else 1)
    except (ValueError, RecursionError) as exc:
        return ParsedConfig(error=str(exc), error_line=1)
    if data is None:
        return ParsedConfig()
    if not isinstance(data, dict):
        return ParsedConfig(is_mapping=False)
    try:
        return ParsedConfig(keys=_keys(data, positions, (), itertools.count()))
    except _TooManyKeys as exc:
        return ParsedConfig(error=str(exc), error_line=1)


class _TooManyKeys(Exception):
    def __init__(self) -> None:
        super().__init__(f"more than {MAX_KEYS} keys (YAML aliases expanding?)")


def _keys(
    data: dict[Any, Any],
    positions: dict[tuple[str, ...], tuple[int, int]],
    path: tuple[str, ...],
    counter: Iterator[int],
) -> tuple[ConfigKey, ...]:
    """The keys of ``data``, at most :data:`MAX_KEYS` in all: YAML aliases share one
    mapping between many keys (a few lines can expand to billions of keys)."""
    if len(path) > MAX_NESTING:
        return ()  # no schema nests this deep (a TOML header [a.a.a...] can, cheaply)
    out = []
    for name, value in data.items():
        if next(counter) >= MAX_KEYS:
            raise _TooManyKeys
        key = str(name)
        line, col = positions.get((*path, key), positions.get(path, (1, 1)))
        children = (
            _keys(value, positions, (*path, key), counter) if isinstance(value, dict) else None
        )
        out.append(ConfigKey(key, line, col, None if children is not None else value, children))
    return tuple(out)


def _load_yaml(text: str) -> tuple[Any, dict[tuple[str, ...], tuple[int, int]]]:
    """The data of a YAML document and its key positions, from one parse (what
    ``yaml.safe_load`` does, keeping the node tree it builds the data from)."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        # positions first: constructing flattens merge keys (<<) into the nodes
        positions = _node_positions(root)
        data = loader.construct_document(root) if root is not None else None
    finally:
        loader.dispose()
    return data, positions


def _yaml_positions(text: str) -> dict[tuple[str, ...], tuple[int, int]]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return {}  # JSON that PyYAML does not read: keys fall back to line 1
    return _node_positions(root)


def _node_positions(root: yaml.Node | None) -> dict[tuple[str, ...], tuple[int, int]]:
    positions: dict[tuple[str, ...], tuple[int, int]] = {}
    walked: set[int] = set()

    def walk(node: yaml.Node, path: tuple[str, ...], depth: int) -> None:
        if depth > MAX_NESTING or not isinstance(node, yaml.MappingNode):
            return
        if id(node) in walked:
            return  # an alias: its keys are placed at the alias (the key naming it)
        walked.add(id(node))
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key_path = (*path, str(key_node.value))
            mark = key_node.start_mark
            positions.setdefault(key_path, (mark.line + 1, mark.column + 1))
            walk(value_node, key_path, depth + 1)

    if root is not None:
        walk(root, (), 0)
    return positions


# Greedy and bracket-free inside (a lazy ``[^\]]+?\s*\]`` backtracks cubically on a
# long "[    ..." line in a multi-line string); _toml_parts ignores the spaces.
_TOML_HEADER = re.compile(r"^\s*\[\[?([^\]]+)\]\]?\s*(#.*)?$")
_TOML_KEY = re.compile(
    r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)


def _toml_parts(dotted: str) -> tuple[str, ...]:
    parts = re.findall(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""", dotted)
    return tuple(p[1:-1] if p[:1] in "\"'" else p for p in parts)


def _toml_positions(text: str) -> dict[tuple[str, ...], tuple[int, int]]:
    """Line and column of each table header and ``key =`` line (multi-line strings and
    arrays are skipped over only approximately: a key is taken where a line starts
    with ``name =``)."""
    positions: dict[tuple[str, ...], tuple[int, int]] = {}
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _TOML_HEADER.match(line)
        if header:
            table = _toml_parts(header.group(1))
            for cut in range(1, len(table) + 1):
                positions.setdefault(table[:cut], (number, line.index("[") + 2))
            continue
        key = _TOML_KEY.match(line)
        if key:
            parts = _toml_parts(key.group(1))
            col = len(line) - len(line.lstrip()) + 1
            for cut in range(1, len(parts) + 1):
                positions.setdefault((*table, *parts[:cut]), (number, col))
    return positions


# --- which file feeds which schema ------------------------------------------------------


class ConfigFileIndex:
    """Every config file a schema is known to read, parsed, with its schema."""

    def __init__(self, project: ProjectIndex) -> None:
        self.project = project
        self.index = schema_index(project)
        self.settings = project.config.section(ConfigSchemaSettings)
        self.root = Path(project.config.root)
        self.feeds: list[Feed] = []
        self._parsed: dict[str, ParsedConfig | None] = {}
        seen: set[tuple[str, str]] = set()
        for feed in [*self._from_code(), *self._from_config()]:
            if (feed.relpath, feed.schema.qualname) in seen:
                continue
            seen.add((feed.relpath, feed.schema.qualname))
            parsed = self._read(feed.relpath)
            if parsed is not None:
                feed.parsed = parsed
                self.feeds.append(feed)

    def _from_code(self) -> list[Feed]:
        feeds = []
        for path, load in self.index.loads:
            schema = self._schema_of_load(load)
            if schema is None:
                continue
            relpath = self._locate(path, load)
            if relpath is None:
                continue
            source = f"{path}:{load.span.start_line}"
            feeds.append(Feed(relpath, schema, load.complete, source))
        return feeds

    def _schema_of_load(self, load: ConfigLoad) -> Schema | None:
        qualname = self.index.class_of(load.schema)
        return self.index.schemas.get(qualname) if qualname else None

    def _locate(self, python_path: str, load: ConfigLoad) -> str | None:
        """The project-relative path of the file a load names, if it exists: relative
        to the module (``__file__``) or to the project root, else to the module's
        folder and its parents."""
        folder = Path(python_path).parent
        bases = [folder, *folder.parents] if load.relative_to_file else [Path("."), folder]
        for base in bases:
            relpath = os.path.normpath(base / load.path).replace(os.sep, "/")
            if relpath.startswith("..") or os.path.isabs(relpath):
                continue
            if _names_a_file(self.root / relpath):
                return relpath
        return None

    def _from_config(self) -> list[Feed]:
        feeds = []
        source = "[tool.integ-lint.config-schema] files"
        for pattern, target in sorted(self.settings.files.items()):
            module, _, name = target.partition(":")
            qualname = self.index.class_of_name(f"{module}.{name}")
            schema = self.index.schemas.get(qualname) if qualname else None
            if schema is None:
                where = self.project.config.config_file or "configuration"
                raise ConfigError(
                    f"{where}: [tool.integ-lint.config-schema] files: {target!r} is not a "
                    "schema class of the project (a dataclass, pydantic model, attrs "
                    "class, TypedDict or NamedTuple)"
                )
            for path in glob_paths(self.root, pattern):  # noted for the memo
                if not _names_a_file(path):
                    continue
                relpath = path.relative_to(self.root).as_posix()
                complete = matches_any(relpath, self.settings.complete_files)
                feeds.append(Feed(relpath, schema, complete, source))
        return feeds

    def _read(self, relpath: str) -> ParsedConfig | None:
        """The parsed file, read once per run however many schemas it feeds; None (and
        one notification) when it cannot be read or parsed."""
        if relpath not in self._parsed:
            self._parsed[relpath] = self._read_once(relpath)
        return self._parsed[relpath]

    def _read_once(self, relpath: str) -> ParsedConfig | None:
        path = self.root / relpath
        try:
            # non-blocking, fstat-checked and size-capped: a FIFO, /dev/zero or a huge
            # file never hangs or exhausts the scan
            text = read_regular_file(path, MAX_BYTES).decode("utf-8-sig")
        except FileTooLargeError:
            reason = f"config file is larger than {MAX_BYTES // 1_000_000} MB: not read"
            self._note(NotificationKind.READ_ERROR, relpath, 1, reason)
            return None
        except NotRegularFileError:
            reason = "config file is not a regular file (a FIFO, device or socket?): not read"
            self._note(NotificationKind.READ_ERROR, relpath, 1, reason)
            return None
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            self._note(
                NotificationKind.READ_ERROR, relpath, 1, f"cannot read config file: {reason}"
            )
            return None
        except UnicodeDecodeError as exc:
            line = exc.object[: exc.start].count(b"\n") + 1
            reason = f"config file is not UTF-8: {exc.reason} (byte 0x{exc.object[exc.start]:02x})"
            self._note(NotificationKind.READ_ERROR, relpath, line, reason)
            return None
        parsed = parse_config_text(text, path.suffix)
        if parsed.error:
            self._note(
                NotificationKind.PARSE_ERROR,
                relpath,
                parsed.error_line,
                f"config file does not parse: {parsed.error}",
            )
            return None
        return parsed

    def _note(self, kind: NotificationKind, relpath: str, line: int, message: str) -> None:
        note = Notification(kind=kind, message=message, path=relpath, line=line)
        self.project.notifications.append(note)


def _names_a_file(path: Path) -> bool:
    """Whether ``path`` is a file to read: anything but a folder (a FIFO or a symlink to
    a device is found, so that reading it is refused with a notification); the probe is
    noted for the project memo."""
    return names_a_file(path)


def build_config_file_index(project: ProjectIndex) -> ConfigFileIndex:
    return ConfigFileIndex(project)


def config_file_index(project: ProjectIndex) -> ConfigFileIndex:
    return project.derived(KEY, build_config_file_index)


__all__ = [
    "ConfigFileIndex",
    "ConfigKey",
    "Feed",
    "ParsedConfig",
    "config_file_index",
    "parse_config_text",
]
