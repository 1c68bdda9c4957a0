"""Sharding the per-file phase across machines (``check --shard I/N --facts-out FILE``)
and merging the shards into one report (``check --facts-in 'facts-*'``).

* **Selection.** Every shard run discovers the same files; :func:`select_shard` gives
  shard ``I`` of ``N`` a deterministic share, balanced by size (largest first, each to
  the least loaded shard). It depends only on the files' relative paths and sizes, so
  runners with different file-system orders agree.
* **Format.** A shard is plain JSON, never pickle: loading one from another runner (on
  a pull request, possibly written by untrusted code) must never execute anything.
  Line 1 is a header (format, version, integrity algorithm and digest), the rest the
  body. Values are rebuilt by :class:`TypedCodec` from the *declared* field types of a
  fixed whitelist of classes (:class:`~integ_lint.engine.analysis.FileResult`, the findings'
  classes and the dataclasses the selected fact collectors return): the file never
  names a class, and a value that does not fit its declared type is refused.
* **Integrity.** The digest is SHA-256 of the body (catches truncation and
  corruption) or, when ``INTEG_LINT_SHARD_KEY`` is set (a CI secret), an HMAC-SHA256
  under that key (catches tampering by anyone without the secret).
* **Validation.** A shard from another integ-lint, Python or LibCST version, another
  configuration (:func:`config_digest`), another checkout (files it does not hold, or
  holds but the merge does not scan, or whose content differs), a missing or duplicate
  shard, or a corrupt one is a :class:`ShardError`: one line naming the file, exit 2,
  never a partial report.
* **Merge.** The merge run discovers the files itself (so folder, layout and config
  notifications are its own), takes every file's result from the shards instead of
  analysing it, and runs the project phase, suppressions and baseline once: the report
  is the one a single run makes.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import glob
import hashlib
import heapq
import hmac
import itertools
import json
import os
import sys
import types
import typing
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from integ_lint import __version__
from integ_lint.config.loader import Config
from integ_lint.engine.discovery import SourceFile, relative_path
from integ_lint.engine.results import FileResult
from integ_lint.files.source import content_digest, max_file_bytes, read_regular_file
from integ_lint.findings.model import Finding, Notification
from integ_lint.findings.suppressions import SuppressionComment
from integ_lint.rule import FactCollector, FileRule

FORMAT_NAME = "integ-lint-shard"
FORMAT_VERSION = 1
KEY_ENV = "INTEG_LINT_SHARD_KEY"
# Each file costs this many bytes' worth of work besides its size (reading, parsing
# setup), so that many empty files do not all land on one shard.
FILE_OVERHEAD_BYTES = 512
# Settings that change neither what the per-file phase produces nor which files it
# covers: they may differ between the shard runs and the merge.
_MERGE_ONLY_KEYS = frozenset(
    {
        "jobs",
        "cache-dir",
        "cache-max-mb",
        "fail-on",
        "fail-on-incomplete",
        "baseline",
        "sarif-category",
    }
)


class ShardError(Exception):
    """A shard cannot be written or used: one line naming the file and why."""


# -- selection -----------------------------------------------------------------------
def parse_shard(text: str) -> tuple[int, int]:
    """``"I/N"`` as (I, N), 1 <= I <= N; ValueError with the reason otherwise."""
    index_text, slash, count_text = text.partition("/")
    if not slash or not index_text.strip().isdigit() or not count_text.strip().isdigit():
        raise ValueError(f"{text!r} is not I/N (for example 2/4)")
    index, count = int(index_text), int(count_text)
    if count < 1 or not 1 <= index <= count:
        raise ValueError(f"{text!r}: I must be between 1 and N, and N at least 1")
    return index, count


def _file_size(source_file: SourceFile) -> int:
    try:
        return os.stat(source_file.path).st_size
    except OSError:
        return 0  # the analysis reports it; it still belongs to exactly one shard


def shard_of(files: Sequence[SourceFile], count: int) -> dict[str, int]:
    """Every file's shard (1-based): largest first, each to the least loaded shard
    (ties: the lower shard), ordered by relative path among equal sizes."""
    weighted = sorted(
        ((_file_size(f) + FILE_OVERHEAD_BYTES, f.relpath) for f in files),
        key=lambda item: (-item[0], item[1]),
    )
    loads = [(0, index) for index in range(1, count + 1)]
    assignment: dict[str, int] = {}
    for weight, relpath in weighted:
        load, index = heapq.heappop(loads)
        assignment[relpath] = index
        heapq.heappush(loads, (load + weight, index))
    return assignment


def select_shard(files: Sequence[SourceFile], index: int, count: int) -> list[SourceFile]:
    """Shard ``index`` of ``count``'s files, in the order given."""
    assignment = shard_of(files, count)
    return [f for f in files if assignment[f.relpath] == index]


# -- typed plain-data codec ----------------------------------------------------------
class CodecError(Exception):
    """A value does not fit its declared type (reading), or a type cannot be written."""


def _is_union(origin: Any) -> bool:
    return origin is typing.Union or origin is types.UnionType


@functools.cache
def _hints(kind: type) -> dict[str, Any]:
    return typing.get_type_hints(kind)


def _is_named_tuple(kind: Any) -> bool:
    """A tuple record with named fields (the call and manager facts,
    :mod:`integ_lint.facts.records`)."""
    return isinstance(kind, type) and issubclass(kind, tuple) and hasattr(kind, "_fields")


@functools.cache
def _fields(kind: type) -> tuple[tuple[str, Any], ...]:
    """A dataclass's or NamedTuple's fields and their declared types, computed once
    per class."""
    hints = _hints(kind)
    if _is_named_tuple(kind):
        names: tuple[str, ...] = getattr(kind, "_fields")  # noqa: B009 (not typed on type)
        return tuple((name, hints[name]) for name in names)
    return tuple((item.name, hints[item.name]) for item in dataclasses.fields(kind))


Coder = Callable[[Any], Any]


@dataclass(frozen=True)
class _Way:
    """How one way (writing or reading) codes each kind of hint, and its coders built
    so far."""

    plain: Coder
    scalar: Callable[[type], Coder]
    union: Callable[[list[Any], Any], Coder]  # members other than None, the hint
    container: Callable[[Any, Any, tuple[Any, ...]], Coder]  # hint, origin, arguments
    member: Callable[[type[enum.Enum]], Coder]
    instance: Callable[[type], Coder]
    built: dict[Any, Coder] = field(default_factory=dict)


class TypedCodec:
    """Writes values as JSON and rebuilds them from their declared types.

    Supported: ``str``, ``int``, ``float``, ``bool``, ``None``, ``Literal``, enums,
    unions, ``tuple``/``list``/``frozenset``/``set``/``dict`` of supported types,
    ``Any`` (plain JSON data only: scalars, lists, tuples, string-keyed dicts), and the
    dataclasses in :attr:`allowed` (found by walking the root types' fields), written
    as arrays of their fields in declaration order. Reading constructs only those
    classes, chosen by the declared type, never by the data. Each type's encoder and
    decoder is built once (a shard holds hundreds of thousands of values).
    """

    def __init__(self, roots: Iterable[Any]) -> None:
        self.allowed: set[type] = set()
        self._writing = _Way(
            _encode_plain,
            self._scalar_encoder,
            self._union_encoder,
            self._container_encoder,
            self._member_encoder,
            self._instance_encoder,
        )
        self._reading = _Way(
            _decode_plain,
            self._scalar_decoder,
            self._union_decoder,
            self._container_decoder,
            self._member_decoder,
            self._instance_decoder,
        )
        for root in roots:
            self._admit(root)

    def _admit(self, hint: Any) -> None:
        origin = typing.get_origin(hint)
        if hint is Any or hint in (str, int, float, bool, type(None)):
            return
        if origin is typing.Literal:
            if not all(isinstance(a, (str, int, bool)) for a in typing.get_args(hint)):
                raise CodecError(f"unsupported type {hint!r}")
            return
        if origin is not None:
            for argument in typing.get_args(hint):
                if argument is not Ellipsis:
                    self._admit(argument)
            if origin in (tuple, list, frozenset, set, dict) or _is_union(origin):
                return
            raise CodecError(f"unsupported type {hint!r}")
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            return
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            if hint in self.allowed:
                return
            self.allowed.add(hint)
            for item in dataclasses.fields(hint):
                if not item.init:
                    raise CodecError(f"{hint.__qualname__}.{item.name} is not an init field")
            for _, declared in _fields(hint):
                self._admit(declared)
            return
        if _is_named_tuple(hint):
            if hint not in self.allowed:
                self.allowed.add(hint)
                for _, declared in _fields(hint):
                    self._admit(declared)
            return
        raise CodecError(f"unsupported type {hint!r}")

    def encode(self, value: Any, hint: Any) -> Any:
        return self._encoder(hint)(value)

    def decode(self, data: Any, hint: Any) -> Any:
        return self._decoder(hint)(data)

    def _encoder(self, hint: Any) -> Coder:
        # Called per value: the built coder without a further call.
        return self._writing.built.get(hint) or self._coder(hint, self._writing)

    def _decoder(self, hint: Any) -> Coder:
        # Called per value: the built coder without a further call.
        return self._reading.built.get(hint) or self._coder(hint, self._reading)

    def _coder(self, hint: Any, way: _Way) -> Coder:
        """``hint``'s coder one way, built once. The kinds of hint are told apart here
        for both ways; ``way`` codes each kind."""
        coder = way.built.get(hint)
        if coder is not None:
            return coder
        if hint is Any:
            coder = way.plain
        elif hint is type(None) or hint in (str, int, float, bool):
            coder = way.scalar(hint)
        elif typing.get_origin(hint) is typing.Literal:
            coder = _literal_coder(typing.get_args(hint))
        elif _is_union(typing.get_origin(hint)):
            arguments = typing.get_args(hint)
            choices = [a for a in arguments if a is not type(None)]
            one = self._coder(choices[0], way) if len(choices) == 1 else None
            coder = _none_or(one or way.union(choices, hint), len(choices) < len(arguments))
        elif typing.get_origin(hint) in (tuple, list, frozenset, set, dict):
            coder = way.container(hint, typing.get_origin(hint), typing.get_args(hint))
        elif isinstance(hint, type) and issubclass(hint, enum.Enum):
            coder = way.member(hint)
        elif hint in self.allowed:
            coder = way.instance(hint)
        else:
            raise CodecError(f"unsupported type {hint!r}")
        way.built[hint] = coder
        return coder

    # writing ------------------------------------------------------------------------
    @staticmethod
    def _scalar_encoder(kind: type) -> Coder:
        def scalar(value: Any) -> Any:
            if not _fits_scalar(value, kind):
                raise CodecError(f"expected {kind.__name__}, got {type(value).__name__}")
            return value

        return scalar

    def _union_encoder(self, choices: list[Any], hint: Any) -> Coder:
        def union(value: Any) -> Any:
            for position, choice in enumerate(choices):
                if _matches(value, choice):
                    return [position, self._encoder(choice)(value)]
            raise CodecError(f"{type(value).__name__} fits none of {hint!r}")

        return union

    @staticmethod
    def _member_encoder(kind: type[enum.Enum]) -> Coder:
        def member(value: Any) -> Any:
            if not isinstance(value, kind):
                raise CodecError(f"expected {kind.__name__}, got {type(value).__name__}")
            return value.value

        return member

    def _instance_encoder(self, cls: type) -> Coder:
        fields = _fields(cls)

        def instance(value: Any) -> Any:
            if type(value) is not cls:
                raise CodecError(f"expected {cls.__qualname__}, got {type(value).__name__}")
            return [self._encoder(t)(getattr(value, name)) for name, t in fields]

        return instance

    def _container_encoder(self, hint: Any, origin: Any, arguments: tuple[Any, ...]) -> Coder:
        if origin is dict:
            keys, values = self._encoder(arguments[0]), self._encoder(arguments[1])

            def mapping(value: Any) -> Any:
                if not isinstance(value, dict):
                    raise CodecError(f"expected a dict, got {type(value).__name__}")
                return [[keys(k), values(v)] for k, v in value.items()]

            return mapping
        if origin is tuple and not (len(arguments) == 2 and arguments[1] is Ellipsis):
            items = [self._encoder(a) for a in arguments]

            def fixed(value: Any) -> Any:
                if not isinstance(value, tuple) or len(value) != len(items):
                    raise CodecError(f"expected a tuple of {len(items)}, got {value!r:.60}")
                return [encode(item) for encode, item in zip(items, value)]

            return fixed
        kinds: dict[Any, type | tuple[type, ...]] = {
            tuple: tuple,
            list: list,
            frozenset: (set, frozenset),
            set: (set, frozenset),
        }
        expected = kinds[origin]
        each = self._encoder(arguments[0])
        unordered = origin in (frozenset, set)

        def sequence(value: Any) -> Any:
            if not isinstance(value, expected):
                raise CodecError(f"expected a {origin.__name__}, got {type(value).__name__}")
            encoded = [each(item) for item in typing.cast(Iterable[Any], value)]
            if unordered:
                # Sorted, so that a shard's bytes do not depend on hash order.
                encoded.sort(key=lambda item: json.dumps(item, sort_keys=True))
            return encoded

        return sequence

    # reading ------------------------------------------------------------------------
    @staticmethod
    def _scalar_decoder(kind: type) -> Coder:
        if kind is float:

            def real(data: Any) -> Any:
                if type(data) is float:
                    return data
                if type(data) is int:
                    return float(data)
                raise CodecError(f"expected float, got {_json_type(data)}")

            return real

        def scalar(data: Any) -> Any:
            if type(data) is not kind:
                raise CodecError(f"expected {kind.__name__}, got {_json_type(data)}")
            return data

        return scalar

    def _union_decoder(self, choices: list[Any], hint: Any) -> Coder:
        def union(data: Any) -> Any:
            if type(data) is not list or len(data) != 2 or type(data[0]) is not int:
                raise CodecError(f"expected a tagged union, got {_json_type(data)}")
            if not 0 <= data[0] < len(choices):
                raise CodecError("union tag out of range")
            return self._decoder(choices[data[0]])(data[1])

        return union

    @staticmethod
    def _member_decoder(kind: type[enum.Enum]) -> Coder:
        def member(data: Any) -> Any:
            try:
                return kind(data)
            except (ValueError, TypeError):
                raise CodecError(f"{data!r:.60} is not a {kind.__name__}") from None

        return member

    def _instance_decoder(self, cls: type) -> Coder:
        fields = _fields(cls)

        def instance(data: Any) -> Any:
            if type(data) is not list or len(data) != len(fields):
                raise CodecError(
                    f"expected the {len(fields)} fields of {cls.__qualname__}, "
                    f"got {_json_type(data)}"
                )
            return cls(**{name: self._decoder(t)(item) for (name, t), item in zip(fields, data)})

        return instance

    def _container_decoder(self, hint: Any, origin: Any, arguments: tuple[Any, ...]) -> Coder:
        def items(data: Any) -> list[Any]:
            if type(data) is not list:
                raise CodecError(f"expected an array, got {_json_type(data)}")
            return data

        if origin is dict:
            keys, values = self._decoder(arguments[0]), self._decoder(arguments[1])

            def pair(data: Any) -> tuple[Any, Any]:
                if type(data) is not list or len(data) != 2:
                    raise CodecError("expected [key, value] pairs")
                return keys(data[0]), values(data[1])

            return lambda data: dict(pair(item) for item in items(data))
        if origin is tuple and not (len(arguments) == 2 and arguments[1] is Ellipsis):
            each = [self._decoder(a) for a in arguments]

            def fixed(data: Any) -> Any:
                if len(items(data)) != len(each):
                    raise CodecError(f"expected {len(each)} items, got {len(data)}")
                return tuple([decode(item) for decode, item in zip(each, data)])

            return fixed
        one = self._decoder(arguments[0])
        build: Callable[[list[Any]], Any] = origin  # tuple, list, frozenset or set
        return lambda data: build([one(item) for item in items(data)])


def _fits_scalar(value: Any, kind: type) -> bool:
    if kind is bool:
        return isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is float:
        return isinstance(value, float)
    return isinstance(value, kind)


def _same_literal(value: Any, allowed: Any) -> bool:
    return type(value) is type(allowed) and value == allowed


def _literal_coder(arguments: tuple[Any, ...]) -> Coder:
    """A ``Literal``'s values are stored as they are: both ways, only checked."""

    def literal(value: Any) -> Any:
        if not any(_same_literal(value, a) for a in arguments):
            raise CodecError(f"{value!r:.60} is not one of {arguments}")
        return value

    return literal


def _none_or(coder: Coder, optional: bool) -> Coder:
    """``coder``, passing None through as it is where the union allows it."""
    if not optional:
        return coder
    return lambda value: None if value is None else coder(value)


def _matches(value: Any, hint: Any) -> bool:
    """Whether ``value`` is of ``hint``'s outer type (for choosing a union member)."""
    if hint is Any:
        return True
    if hint in (str, int, float, bool):
        return _fits_scalar(value, hint)
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        return any(_same_literal(value, a) for a in typing.get_args(hint))
    if origin in (frozenset, set):
        return isinstance(value, (set, frozenset))
    if origin is not None and not _is_union(origin):
        return isinstance(value, origin)
    if isinstance(hint, type):
        return type(value) is hint or (issubclass(hint, enum.Enum) and isinstance(value, hint))
    return False


def _json_type(data: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", type(None): "null"}.get(
        type(data), type(data).__name__
    )


def _encode_plain(value: Any) -> Any:
    """Plain data under ``Any``: scalars as they are; lists, tuples and string-keyed
    dicts tagged so that they come back as the same types."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, tuple):
        return {"t": [_encode_plain(item) for item in value]}
    if isinstance(value, list):
        return {"l": [_encode_plain(item) for item in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"d": {k: _encode_plain(v) for k, v in value.items()}}
    raise CodecError(f"{type(value).__name__} is not plain data")


def _decode_plain(data: Any) -> Any:
    if data is None or isinstance(data, (str, bool, int, float)):
        return data
    if isinstance(data, dict) and len(data) == 1:
        tag, inner = next(iter(data.items()))
        if tag in ("t", "l") and isinstance(inner, list):
            items = [_decode_plain(item) for item in inner]
            return tuple(items) if tag == "t" else items
        if tag == "d" and isinstance(inner, dict):
            return {k: _decode_plain(v) for k, v in inner.items()}
    raise CodecError(f"not tagged plain data: {_json_type(data)}")


def fact_types(collectors: Iterable[type[FactCollector]]) -> dict[str, Any]:
    """Each collector's KEY and the declared type of its facts (``collect()``'s
    return annotation; ``Any``, read as plain data, when it has none)."""
    types_by_key: dict[str, Any] = {}
    for collector in collectors:
        try:
            hint = typing.get_type_hints(collector.collect).get("return", Any)
        except Exception as exc:
            raise ShardError(
                f"fact collector {collector.__qualname__}: cannot read the type of its "
                f"facts ({type(exc).__name__}: {exc})"
            ) from None
        types_by_key[collector.KEY] = hint
    return types_by_key


class ResultCodec:
    """:class:`FileResult` values to and from JSON, facts typed by their collector."""

    def __init__(self, collectors: Iterable[type[FactCollector]]) -> None:
        self.fact_types = fact_types(collectors)
        try:
            self.codec = TypedCodec(
                [Finding, Notification, SuppressionComment, *self.fact_types.values()]
            )
        except CodecError as exc:
            raise ShardError(f"the selected fact collectors cannot be sharded: {exc}") from None

    def encode(self, result: FileResult) -> dict[str, Any]:
        facts = {}
        for key, value in result.facts.items():
            hint = self.fact_types.get(key)
            if hint is None:
                raise ShardError(f"{result.relpath}: facts {key!r} from no selected collector")
            try:
                facts[key] = self.codec.encode(value, hint)
            except CodecError as exc:
                raise ShardError(
                    f"{result.relpath}: the {key!r} facts cannot be written to a shard: {exc}"
                ) from None
        codec = self.codec
        return {
            "relpath": result.relpath,
            "module": result.module,
            "is_package_init": result.is_package_init,
            "digest": result.digest,
            "line_count": result.line_count,
            "parsed": result.parsed,
            "facts": facts,
            "findings": codec.encode(result.findings, list[Finding]),
            "notifications": codec.encode(result.notifications, list[Notification]),
            "suppressions": codec.encode(result.suppressions, list[SuppressionComment]),
        }

    def decode(self, data: Any) -> FileResult:
        expected = {
            "relpath",
            "module",
            "is_package_init",
            "digest",
            "line_count",
            "parsed",
            "facts",
            "findings",
            "notifications",
            "suppressions",
        }
        if not isinstance(data, dict) or set(data) != expected:
            raise CodecError("a file result does not have the expected fields")
        codec = self.codec
        facts_data = data["facts"]
        if not isinstance(facts_data, dict):
            raise CodecError("facts: expected an object")
        facts = {}
        for key, value in facts_data.items():
            hint = self.fact_types.get(key)
            if hint is None:
                raise CodecError(f"facts {key!r} from no selected collector")
            facts[key] = codec.decode(value, hint)
        return FileResult(
            relpath=codec.decode(data["relpath"], str),
            module=codec.decode(data["module"], str),
            is_package_init=codec.decode(data["is_package_init"], bool),
            digest=codec.decode(data["digest"], str),
            line_count=codec.decode(data["line_count"], int),
            parsed=codec.decode(data["parsed"], bool),
            facts=facts,
            findings=codec.decode(data["findings"], list[Finding]),
            notifications=codec.decode(data["notifications"], list[Notification]),
            suppressions=codec.decode(data["suppressions"], list[SuppressionComment]),
        )


# -- what a shard must agree on ------------------------------------------------------
def _libcst_version() -> str:
    import libcst

    return str(
        getattr(libcst, "LIBCST_VERSION", None)
        or getattr(getattr(libcst, "_version", None), "__version__", "?")
    )


@functools.cache
def code_digest() -> str:
    """A digest of integ-lint's own code and its rule pack, by content: two builds
    with one version number (a development checkout) still differ here."""
    import importlib

    rules = importlib.import_module("integ_lint.rules")  # the pack: rules/ in a checkout
    digest = hashlib.sha256()
    for package in sorted({Path(__file__).parent, Path(str(rules.__file__)).parent}):
        for path in sorted(package.rglob("*.py")):
            digest.update(path.relative_to(package).as_posix().encode("utf-8", "replace"))
            digest.update(b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def environment() -> dict[str, str]:
    """The versions whose parse and rule results a shard depends on."""
    return {
        "integ-lint": __version__,
        "integ-lint-code": code_digest(),
        "python": f"{sys.version_info[0]}.{sys.version_info[1]}",
        "libcst": _libcst_version(),
    }


def config_digest(
    config: Config,
    file_rules: Sequence[type[FileRule]],
    collectors: Sequence[type[FactCollector]],
) -> str:
    """A digest of ``config`` (every setting but the merge-only ones) and the rules
    and collectors selected: shards and the merge must agree on it."""
    data = {k: v for k, v in config.as_dict().items() if k not in _MERGE_ONLY_KEYS}
    data["project-scripts"] = list(config.project_scripts)
    data["file-rules"] = sorted(r.code for r in file_rules)
    data["collectors"] = sorted(c.KEY for c in collectors)
    text = json.dumps(data, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


AnalyzeFiles = Callable[..., list[FileResult]]


@dataclass
class _ProjectPart:
    """One project's share of a shard (the top project is ``"."``; monorepo members
    their path from it)."""

    config: str  # config_digest
    collectors: list[type[FactCollector]] = field(default_factory=list)
    results: list[FileResult] = field(default_factory=list)


class _Session:
    """Keys each project of a run by its path from the first (top) project's root."""

    def __init__(self) -> None:
        self.base_root: Path | None = None

    def project_key(self, config: Config) -> str:
        if self.base_root is None:
            self.base_root = config.root
        return relative_path(config.root, self.base_root)


# -- writing -------------------------------------------------------------------------
class ShardWriter(_Session):
    """Runs shard ``index`` of ``count``'s files through the per-file phase and keeps
    their results for :meth:`write`; the engine stops before the project phase."""

    writing = True

    def __init__(self, index: int, count: int) -> None:
        super().__init__()
        self.index = index
        self.count = count
        self.parts: dict[str, _ProjectPart] = {}

    def analyzer(self, config: Config, analyze: AnalyzeFiles) -> AnalyzeFiles:
        key = self.project_key(config)

        def analyze_shard(
            files: Sequence[SourceFile],
            config: Config,
            file_rules: Sequence[type[FileRule]],
            collectors: Sequence[type[FactCollector]],
            **options: Any,
        ) -> list[FileResult]:
            part = self.parts.get(key)
            if part is None:
                # The first call is the one with the file rules (engine._run_project).
                part = _ProjectPart(config_digest(config, file_rules, collectors))
                self.parts[key] = part
            for collector in collectors:
                if collector not in part.collectors:
                    part.collectors.append(collector)
            mine = select_shard(files, self.index, self.count)
            results = analyze(mine, config, file_rules, collectors, **options)
            part.results.extend(results)
            return results

        return analyze_shard

    def payload(self) -> bytes:
        """The shard file's bytes: header line, then the JSON body."""
        projects = []
        for key, part in sorted(self.parts.items()):
            codec = ResultCodec(part.collectors)
            projects.append(
                {
                    "project": key,
                    "config": part.config,
                    "facts": sorted(c.KEY for c in part.collectors),
                    "results": [codec.encode(r) for r in part.results],
                }
            )
        body = {
            "environment": environment(),
            "shard": [self.index, self.count],
            "projects": projects,
        }
        data = json.dumps(body, sort_keys=True, separators=(",", ":")).encode("ascii")
        algorithm, digest = _integrity(data)
        header = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "integrity": algorithm,
            "digest": digest,
        }
        return json.dumps(header, sort_keys=True).encode("ascii") + b"\n" + data

    def write(self, path: Path) -> int:
        """Write the shard atomically; return how many files it holds."""
        from integ_lint.files.atomic import write_atomic

        data = self.payload()
        try:
            write_atomic(path, data)
        except OSError as exc:
            raise ShardError(f"{path}: cannot write the shard: {exc.strerror or exc}") from None
        return sum(len(part.results) for part in self.parts.values())


def _secret() -> bytes | None:
    key = os.environ.get(KEY_ENV, "")
    return key.encode("utf-8") if key else None


def _integrity(data: bytes) -> tuple[str, str]:
    secret = _secret()
    if secret is not None:
        return "hmac-sha256", hmac.new(secret, data, hashlib.sha256).hexdigest()
    return "sha256", hashlib.sha256(data).hexdigest()


# -- reading -------------------------------------------------------------------------
@dataclass
class Shard:
    path: str
    index: int
    count: int
    environment: dict[str, str]
    projects: dict[str, dict[str, Any]]  # key -> {"config", "facts", "results" (raw)}


def read_shard(path: str) -> Shard:
    """Read and check one shard file's integrity and shape (not yet its results)."""
    try:
        with open(path, "rb") as stream:
            data = stream.read()
    except OSError as exc:
        raise ShardError(f"{path}: cannot read the shard: {exc.strerror or exc}") from None
    head, newline, body = data.partition(b"\n")
    try:
        header = json.loads(head)
    except (ValueError, RecursionError):
        header = None
    if not newline or not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise ShardError(f"{path}: not an integ-lint shard (written by --facts-out)")
    if header.get("version") != FORMAT_VERSION:
        raise ShardError(
            f"{path}: shard format version {header.get('version')!r}; this integ-lint "
            f"({__version__}) reads version {FORMAT_VERSION}"
        )
    algorithm, digest = header.get("integrity"), header.get("digest")
    secret = _secret()
    if algorithm == "hmac-sha256":
        if secret is None:
            raise ShardError(
                f"{path}: the shard is signed with a key, but {KEY_ENV} is not set for this run"
            )
        expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    elif algorithm == "sha256":
        if secret is not None:
            raise ShardError(
                f"{path}: the shard is not signed, but {KEY_ENV} is set: it was not "
                "written by a run that had the key"
            )
        expected = hashlib.sha256(body).hexdigest()
    else:
        raise ShardError(f"{path}: unknown integrity algorithm {algorithm!r}")
    # compare_digest raises on non-ASCII text: such a digest is simply wrong.
    if (
        not isinstance(digest, str)
        or not digest.isascii()
        or not hmac.compare_digest(digest, expected)
    ):
        raise ShardError(
            f"{path}: the shard is corrupt or was modified (its digest does not match)"
        )
    try:
        content = json.loads(body)
    except (ValueError, RecursionError):
        raise ShardError(f"{path}: the shard is corrupt (its body is not JSON)") from None
    try:
        environment_data = content["environment"]
        index, count = content["shard"]
        projects = {p["project"]: p for p in content["projects"]}
        valid = (
            isinstance(environment_data, dict)
            and _fits_scalar(index, int)
            and _fits_scalar(count, int)
            and 1 <= index <= count
            and all(
                isinstance(p, dict)
                and isinstance(p.get("config"), str)
                and isinstance(p.get("results"), list)
                and isinstance(p.get("facts"), list)
                for p in projects.values()
            )
        )
    except (KeyError, TypeError, ValueError):
        valid = False
    if not valid:
        raise ShardError(f"{path}: the shard is corrupt (unexpected structure)")
    here = environment()
    for name, value in here.items():
        if name == "integ-lint-code" and environment_data.get(name) != value:
            raise ShardError(
                f"{path}: written by another build of integ-lint {__version__} (its code "
                "differs from this run's; every shard and the merge must install one revision)"
            )
        if environment_data.get(name) != value:
            raise ShardError(
                f"{path}: written with {name} {environment_data.get(name)}; this run uses "
                f"{name} {value} (every shard and the merge must run the same versions)"
            )
    return Shard(path, index, count, environment_data, projects)


def expand_patterns(patterns: Sequence[str]) -> list[str]:
    """The shard files ``patterns`` name (globs, quoted so that integ-lint expands
    them), each once, sorted. A pattern that names nothing is an error."""
    paths: dict[str, str] = {}
    for pattern in patterns:
        if glob.has_magic(pattern):
            matched = sorted(glob.glob(pattern))
            if not matched:
                raise ShardError(f"{pattern}: matches no shard file")
        else:
            if not os.path.exists(pattern):
                raise ShardError(f"{pattern}: no such shard file")
            matched = [pattern]
        for path in matched:
            paths.setdefault(os.path.realpath(path), path)
    return sorted(paths.values())


class ShardReader(_Session):
    """Supplies every file's result from the shards instead of analysing it."""

    writing = False

    def __init__(self, shards: Sequence[Shard]) -> None:
        super().__init__()
        self.shards = list(shards)
        self.used: set[tuple[str, str]] = set()  # (project, relpath)
        self.results: dict[tuple[str, str], tuple[FileResult, Shard]] = {}
        self.decoded: set[str] = set()  # projects whose results are decoded

    @classmethod
    def load(cls, patterns: Sequence[str]) -> ShardReader:
        """Read the shards ``patterns`` name; they must be shards 1..N of one N,
        each exactly once."""
        shards = [read_shard(path) for path in expand_patterns(patterns)]
        if not shards:
            raise ShardError("--facts-in: no shard file given")
        first = shards[0]
        seen: dict[int, Shard] = {}
        for shard in shards:
            if shard.count != first.count:
                raise ShardError(
                    f"{shard.path}: shard {shard.index}/{shard.count}, but {first.path} is "
                    f"{first.index}/{first.count} (every shard must come from one --shard I/N)"
                )
            if shard.index in seen:
                raise ShardError(
                    f"{shard.path}: shard {shard.index}/{shard.count} is also "
                    f"{seen[shard.index].path} (a duplicate)"
                )
            seen[shard.index] = shard
        # Indices are distinct and in 1..N, so fewer shards than N means some are
        # missing; name only the first few (N comes from the file and may be huge).
        missing_count = first.count - len(seen)
        if missing_count:
            shown = itertools.islice((i for i in itertools.count(1) if i not in seen), 5)
            names = ", ".join(f"{i}/{first.count}" for i in shown)
            if missing_count > 5:
                names += f" and {missing_count - 5} more"
            raise ShardError(
                f"{patterns[0] if len(patterns) == 1 else ' '.join(patterns)}: "
                f"missing shard{'s' if missing_count > 1 else ''} {names}: the report would "
                "be partial"
            )
        return cls(sorted(shards, key=lambda s: s.index))

    def _decode_project(
        self,
        key: str,
        digest: str,
        collectors: Sequence[type[FactCollector]],
    ) -> None:
        codec = ResultCodec(collectors)
        keys = sorted(c.KEY for c in collectors)
        for shard in self.shards:
            part = shard.projects.get(key)
            where = "the project" if key == "." else f"project {key}"
            if part is None:
                raise ShardError(
                    f"{shard.path}: holds no results for {where} (written from another "
                    "checkout or other paths?)"
                )
            if part["config"] != digest or part["facts"] != keys:
                raise ShardError(
                    f"{shard.path}: written with another configuration of {where} (rules "
                    "or settings differ from this run's)"
                )
            for position, raw in enumerate(part["results"]):
                try:
                    result = codec.decode(raw)
                except (CodecError, TypeError, ValueError, RecursionError) as exc:
                    raise ShardError(
                        f"{shard.path}: the shard is corrupt (result {position + 1} of {where}: "
                        f"{exc})"
                    ) from None
                previous = self.results.get((key, result.relpath))
                if previous is not None:
                    raise ShardError(
                        f"{shard.path}: {result.relpath} is also in {previous[1].path}"
                    )
                self.results[(key, result.relpath)] = (result, shard)
        self.decoded.add(key)

    def analyzer(self, config: Config, analyze: AnalyzeFiles) -> AnalyzeFiles:
        key = self.project_key(config)

        def from_shards(
            files: Sequence[SourceFile],
            config: Config,
            file_rules: Sequence[type[FileRule]],
            collectors: Sequence[type[FactCollector]],
            **options: Any,
        ) -> list[FileResult]:
            if key not in self.decoded:
                self._decode_project(key, config_digest(config, file_rules, collectors), collectors)
            results = []
            for source_file in files:
                entry = self.results.get((key, source_file.relpath))
                if entry is None:
                    raise ShardError(
                        f"{source_file.relpath}: in no shard (the shards were written "
                        "from other files: run them and the merge on one checkout, with "
                        "the same paths)"
                    )
                result, shard = entry
                _check_same_file(result, source_file, shard, config)
                self.used.add((key, source_file.relpath))
                results.append(result)
            progress = options.get("progress")
            if progress is not None and files:
                progress(len(files), len(files))
            return results

        return from_shards

    def check_all_used(self) -> None:
        """Every result in the shards was part of this run (else they came from
        another checkout or other paths)."""
        for (key, relpath), (_, shard) in sorted(self.results.items()):
            if (key, relpath) not in self.used:
                raise ShardError(
                    f"{shard.path}: holds {relpath}, which this run does not scan (written "
                    "from another checkout or other paths?)"
                )
        for shard in self.shards:
            for key in shard.projects:
                if key not in self.decoded:
                    raise ShardError(
                        f"{shard.path}: holds project {key}, which this run does not scan"
                    )


def _check_same_file(
    result: FileResult, source_file: SourceFile, shard: Shard, config: Config
) -> None:
    """The shard's result is for this very file: same module name and content."""
    if result.module != source_file.module or result.is_package_init != (
        source_file.is_package_init
    ):
        raise ShardError(
            f"{shard.path}: {source_file.relpath} is module {result.module!r} there and "
            f"{source_file.module!r} here (another layout or checkout?)"
        )
    if not result.digest:
        return  # the file could not be read there: its notification says why
    try:
        data = read_regular_file(source_file.path, max_file_bytes(config))
    except OSError:
        return  # unreadable here now: the shard's account of it stands
    if content_digest(data) != result.digest:
        raise ShardError(
            f"{shard.path}: {source_file.relpath} differs from the file the shard analysed "
            "(written from another commit?)"
        )


# -- the command line ----------------------------------------------------------------
def start_shards(
    shard: str | None,
    facts_out: Path | None,
    facts_in: Sequence[str],
    rewrites: bool,
    watch: bool,
) -> ShardWriter | ShardReader | None:
    """The session ``check --shard/--facts-out/--facts-in`` asks for (None: a plain
    run); ``rewrites``: --fix, --diff or --add-ignore was given too."""
    if shard is None and facts_out is None and not facts_in:
        return None
    if watch:
        raise ShardError("--watch does not combine with --shard, --facts-out or --facts-in")
    if facts_in and (shard is not None or facts_out is not None):
        raise ShardError("--facts-in merges shards: it does not combine with --shard/--facts-out")
    if facts_in:
        return ShardReader.load(facts_in)
    if shard is None or facts_out is None:
        raise ShardError("--shard I/N and --facts-out FILE go together")
    if rewrites:
        raise ShardError(
            "--shard writes results, not a report: it does not combine with --fix, "
            "--diff or --add-ignore (give those to the merge)"
        )
    try:
        index, count = parse_shard(shard)
    except ValueError as exc:
        raise ShardError(f"--shard: {exc}") from None
    return ShardWriter(index, count)


def finish_shards(session: ShardWriter | ShardReader | None, facts_out: Path | None) -> str | None:
    """After the run: write the shard (returns the line to print) or check that the
    merge used every shard's every result (returns None)."""
    if session is None:
        return None
    if isinstance(session, ShardReader):
        session.check_all_used()
        return None
    assert facts_out is not None
    held = session.write(facts_out)
    return (
        f"Shard {session.index}/{session.count}: {held} file{'s' if held != 1 else ''} "
        f"analysed; results written to {facts_out}."
    )
