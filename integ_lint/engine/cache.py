"""The per-file result cache.

One entry per analysed file holds its whole :class:`~integ_lint.engine.analysis.FileResult`
(facts, per-file findings, notifications, suppression comments), pickled; the facts are
pickled apart, one pickle per fact key, so that a run unpickles only the keys its
project rules read (:class:`integ_lint.model.project.FactColumns`). The key is
the file's content digest, its project-relative path and module name, and a
*namespace* made of the tool version, the Python and LibCST versions, the selected
file rules and fact collectors (with a stamp of their source files), and the part of
the configuration that can change per-file results.

Layout under ``config.root / general.cache_dir`` (default ``.integ-lint-cache``)::

    .gitignore          "*": the folder never shows up in ``git status``
    CACHEDIR.TAG        marks the folder as a cache for backup tools; its last line
                        holds the folder's random id and a proof (HMAC of the id under
                        the user's key): the folder is integ-lint's, this user's
    v1/ab/abcdef....    one entry per file: MAGIC, keyed BLAKE2 tag, the result's
                        length, the facts' tag, the result's pickle, then the facts
                        (see :meth:`FileCache._seal`)

The cache writes into, prunes and deletes only a folder it created itself (or found
empty) and tagged: an existing folder without a valid tag (a source folder, ``/etc``,
a folder committed to the repository) is refused with one line, a symlink anywhere
from the project root to the cache folder is never followed, and ``clean`` deletes
only entries and files integ-lint names and writes, leaving anything else in place.

Entries are written to a temporary file and renamed into place, so concurrent runs
never see half an entry; an entry that fails its tag, does not unpickle or is not a
``FileResult`` for that path is ignored and rewritten. The folder is kept under
``cache_max_mb`` by deleting the oldest entries after a run that wrote some.

Entries are authenticated with a per-user secret kept outside the project, so that a
cache folder planted in a repository (for example committed by force) is never
unpickled: a scanned project must not be able to run code in the linter. The facts,
most of an entry's bytes, carry a tag of their own (bound into the result's tag) that
is checked when they are first read: a run whose project phase is memoised reads the
results alone and never pays for authenticating the facts.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import hmac
import json
import os
import pickle
import re
import secrets
import stat
import struct
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from integ_lint import __version__
from integ_lint.config.loader import Config
from integ_lint.engine.discovery import SourceFile
from integ_lint.engine.installed import installed
from integ_lint.engine.manifest import CollectorRef, RuleRef, module_file
from integ_lint.engine.results import FileResult
from integ_lint.engine.user_files import KEY_FILE_ENV, user_key_file
from integ_lint.facts.records import RECORDS_FORMAT
from integ_lint.files.atomic import (
    STALE_TEMP_SECONDS,
    TEMP_NAME,
    replace_with_new_file,
    write_atomic,
)
from integ_lint.files.source import (
    ReadRecord,
    content_digest,
    open_regular,
    read_regular_file,
    reads_unchanged,
)
from integ_lint.findings.model import Finding, Notification
from integ_lint.model.project import FrameTrace

CACHE_FORMAT = 1
ENTRY_DIR = f"v{CACHE_FORMAT}"
# 4: the result (without facts) and the facts authenticated apart, the facts' tag
# bound into the result's; 3: one tag over (result, {key: pickled {key: value}}); 2 held
# one pickle of all facts. Entries of another layout live under other keys (the
# namespace names MAGIC) and fail the MAGIC check anyway.
MAGIC = b"ILC4"
TAG_SIZE = 32
# After MAGIC: the tag of what follows up to the end of the result's pickle, the
# length of that pickle, the facts' tag.
_HEADER = struct.Struct(f">{TAG_SIZE}sQ{TAG_SIZE}s")
_BODY_START = len(MAGIC) + TAG_SIZE
_RESULT_START = len(MAGIC) + _HEADER.size
CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by integ-lint.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)
# Settings that cannot change what the per-file phase produces for a file.
_IRRELEVANT_GENERAL_KEYS = frozenset(
    {
        "fail-on",
        "baseline",
        "sarif-category",
        "cache-dir",
        "cache-max-mb",
        "jobs",
        "exclude",
        "extend-exclude",
        "respect-gitignore",
        "select",
        "ignore",
        "extend-select",
        "extend-ignore",
        "severity",
        "per-file-ignores",
    }
)
# After a prune the folder holds at most this share of the size bound, so that a
# run that adds a few entries does not prune again at once.
_PRUNE_TARGET = 0.8
GITIGNORE = "# Created by integ-lint.\n*\n"
_ID_PREFIX = "# integ-lint-id: "
_ENTRY_NAME = re.compile(r"^[0-9a-f]{64}$")
_SHARD_NAME = re.compile(r"^[0-9a-f]{2}$")
_TAG_LIMIT = 4096
# The content digests of the files read, by path, under their stat signature (see
# FileCache.digest_of): one entry of the folder, named by this text's digest.
_DIGESTS_NAME = "integ-lint content digests 1"
_DIGESTS_LIMIT = 64 << 20
# What the last prune learnt of each shard's size (see FileCache.prune): one entry.
_SHARD_SIZES_NAME = "integ-lint shard sizes 1"
# A file modified (or its inode changed) this recently may change again within the
# file system's timestamp granularity without its signature changing: its digest is
# not remembered (git's "racily clean" entries).
RACY_NS = 2_000_000_000


def _signature(info: os.stat_result) -> list[int]:
    """What says a file is unchanged without reading it: git's index compares these
    (the change time too: no tool sets it back)."""
    return [
        info.st_mtime_ns,
        info.st_ctime_ns,
        info.st_size,
        info.st_ino,
        info.st_dev,
        info.st_mode,
    ]


class CacheError(Exception):
    """The cache folder cannot be used (one line naming the folder and why)."""


def cache_directory(config: Config) -> Path:
    """Where ``config``'s cache lives: ``cache-dir`` relative to the project root.
    Symlinks are not resolved: :func:`check_directory` refuses them."""
    return Path(os.path.abspath(config.root / config.general.cache_dir))


def check_directory(directory: Path, root: Path) -> str | None:
    """Why ``directory`` must not be used as the cache folder, or None (whether the
    folder is integ-lint's is :func:`ownership_problem`'s question)."""
    root = Path(os.path.abspath(root))
    real_root = root.resolve()
    if (
        directory in (root, real_root)
        or directory in root.parents
        or directory in (real_root.parents)
    ):
        return f"{directory}: cache-dir must not be the project root or one of its parents"
    # A symlink inside the project (committed to the repository) could point the
    # cache anywhere: none is followed between the root and the cache folder.
    if directory.is_relative_to(root):
        current = root
        for part in directory.relative_to(root).parts:
            current = current / part
            try:
                info = os.lstat(current)
            except FileNotFoundError:
                break
            except OSError as exc:
                return f"{current}: cannot use the cache folder: {exc.strerror or exc}"
            if stat.S_ISLNK(info.st_mode):
                return f"{current}: is a symbolic link; integ-lint never follows one to its cache"
            if not stat.S_ISDIR(info.st_mode):
                return f"{current}: cache-dir exists and is not a folder"
    else:
        try:
            info = os.lstat(directory)
        except OSError:
            return None
        if stat.S_ISLNK(info.st_mode):
            return f"{directory}: is a symbolic link; integ-lint never follows one to its cache"
        if not stat.S_ISDIR(info.st_mode):
            return f"{directory}: cache-dir exists and is not a folder"
    return None


def _proof(secret: bytes, folder_id: str) -> str:
    message = b"integ-lint cache folder\0" + folder_id.encode("ascii")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:32]


def tag_text(secret: bytes) -> str:
    """A fresh CACHEDIR.TAG: the standard signature, then a random id and its proof."""
    folder_id = secrets.token_hex(16)
    return f"{CACHEDIR_TAG}{_ID_PREFIX}{folder_id} {_proof(secret, folder_id)}\n"


def _is_our_tag(text: str, secret: bytes) -> bool:
    if not text.startswith(CACHEDIR_TAG):
        return False
    for line in text.splitlines():
        if line.startswith(_ID_PREFIX):
            parts = line[len(_ID_PREFIX) :].split()
            if len(parts) == 2 and hmac.compare_digest(parts[1], _proof(secret, parts[0])):
                return True
    return False


def _read_small(path: Path) -> str | None:
    try:
        return read_regular_file(path, _TAG_LIMIT, follow_symlinks=False).decode("utf-8")
    except (OSError, UnicodeError):
        return None


def _legacy_layout(directory: Path, names: list[str]) -> bool:
    """A folder written by integ-lint before folders had an id: only its own three
    names, the old tag exactly, nothing a symlink."""
    if not set(names) <= {".gitignore", "CACHEDIR.TAG", ENTRY_DIR} or "CACHEDIR.TAG" not in names:
        return False
    if _read_small(directory / "CACHEDIR.TAG") != CACHEDIR_TAG:
        return False
    if ".gitignore" in names and _read_small(directory / ".gitignore") != GITIGNORE:
        return False
    return ENTRY_DIR not in names or stat.S_ISDIR(os.lstat(directory / ENTRY_DIR).st_mode)


def ownership(directory: Path, secret: bytes) -> str:
    """``"absent"``, ``"ours"`` (tagged with an id this user's key proves),
    ``"empty"``, ``"legacy"`` (see :func:`_legacy_layout`) or ``"foreign"``."""
    try:
        info = os.lstat(directory)
    except FileNotFoundError:
        return "absent"
    if not stat.S_ISDIR(info.st_mode):
        return "foreign"
    text = _read_small(directory / "CACHEDIR.TAG")
    if text is not None and _is_our_tag(text, secret):
        return "ours"
    names = os.listdir(directory)
    if not names:
        return "empty"
    if all(TEMP_NAME.match(name) for name in names):
        return "empty"  # another run is tagging it right now; claiming is idempotent
    with contextlib.suppress(OSError):
        if _legacy_layout(directory, names):
            return "legacy"
    return "foreign"


def foreign_folder_message(directory: Path) -> str:
    return (
        f"{directory}: exists and was not created by integ-lint (no CACHEDIR.TAG with "
        "this user's id); not using it as the cache: choose another cache-dir"
    )


def claim(directory: Path, secret: bytes) -> None:
    """Make ``directory`` integ-lint's cache folder: create it (or take an empty one)
    and tag it; accept one already ours; raise :class:`CacheError` otherwise."""
    state = ownership(directory, secret)
    if state == "ours":
        return
    if state == "foreign":
        raise CacheError(foreign_folder_message(directory))
    if state == "absent":
        directory.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.mkdir(directory)
        if stat.S_ISLNK(os.lstat(directory).st_mode):
            raise CacheError(f"{directory}: is a symbolic link; integ-lint never follows one")
    tag = directory / "CACHEDIR.TAG"
    if state == "legacy":
        write_atomic(tag, tag_text(secret), durable=False, follow_links=False)
    else:
        # os.link publishes the complete tag or fails if another run got there
        # first; either way the folder then holds one valid tag.
        temp = directory / f".CACHEDIR.TAG.integ-lint-{os.getpid()}-{secrets.token_hex(4)}.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(tag_text(secret))
            with contextlib.suppress(FileExistsError):
                os.link(temp, tag)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temp)
    if ownership(directory, secret) != "ours":
        raise CacheError(foreign_folder_message(directory))
    gitignore = directory / ".gitignore"
    if not os.path.lexists(gitignore):
        write_atomic(gitignore, GITIGNORE, durable=False, sweep_stale=False, follow_links=False)


def _secret(key_file: str) -> bytes:
    """This user's secret for authenticating cache entries (and cache folders)."""
    return _load_secret(key_file)[0]


@lru_cache(maxsize=4)
def _load_secret(key_file: str) -> tuple[bytes, str | None]:
    """This user's secret, created on first use, and why it could not be stored (or
    None). A secret that cannot be stored lives for this process only: entries and
    folders tagged with it would look foreign to every later run."""
    path = Path(key_file)

    def stored() -> bytes | None:
        with contextlib.suppress(OSError):
            data = read_regular_file(path, 4096)
            if len(data) >= 32:
                return data[:64]
        return None

    existing = stored()
    if existing is not None:
        return existing, None
    fresh = secrets.token_bytes(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(fresh)
        return fresh, None
    except FileExistsError:  # another process won the race: use its key
        existing = stored()
        return (existing, None) if existing is not None else (fresh, "unreadable key file")
    except OSError as exc:
        return fresh, exc.strerror or str(exc)


def _stamp_tree(directory: Path, digest: hashlib._Hash) -> None:
    """Feed the names, sizes and modification times of the ``.py`` files under
    ``directory`` into ``digest`` (cheap, and catches edits to rules in a checkout)."""
    digest.update(f"{directory}\n".encode())
    digest.update(_tree_listing(str(directory)).encode("utf-8", "surrogateescape"))


@lru_cache(maxsize=16)
def _tree_listing(directory: str) -> str:
    """The ``.py`` files under ``directory`` with their sizes and modification times,
    one per line, sorted; listed once per run (see :func:`new_run`): the namespaces of
    a run and its project memo's key all stamp the integ_lint package."""
    entries = []
    for folder, _, names in os.walk(directory):
        # relpath once per folder, not per file (its normalising is most of the walk)
        inside = os.path.relpath(folder, directory)
        prefix = "" if inside == os.curdir else inside + os.sep
        for name in names:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                with contextlib.suppress(OSError):
                    info = os.stat(path)
                    entries.append(f"{prefix}{name}:{info.st_size}:{info.st_mtime_ns}")
    return "\n".join(sorted(entries))


def _code_stamp(modules: Sequence[str]) -> str:
    return _code_stamp_of(tuple(sorted(set(modules))))


@lru_cache(maxsize=8)
def _code_stamp_of(modules: tuple[str, ...]) -> str:
    """Once per run and set of modules: a run asks for it four times (each cache
    namespace and the project memo's key); :func:`new_run` forgets it, so that a
    long-lived process (``--watch``, the API) stamps the code again for each run."""
    digest = hashlib.sha256()
    # The whole integ_lint package (this file is in integ_lint/engine/), not only the
    # engine: facts, roles and the file context shape a cached result too.
    directories = {Path(__file__).resolve().parent.parent}
    for name in modules:
        file = module_file(name)  # not imported: a rule the manifest names
        if file:
            directories.add(Path(file).resolve().parent)
    for directory in sorted(directories):
        _stamp_tree(directory, digest)
    return digest.hexdigest()


def new_run() -> None:
    """Forget what was computed once per run (the code stamp): a new run starts."""
    _code_stamp_of.cache_clear()
    _tree_listing.cache_clear()


def config_digest(config: Config) -> str:
    """A digest of the configuration that can change per-file results."""
    data = config.as_dict()
    relevant = {
        key: value
        for key, value in data.items()
        if key in config.sections or key not in _IRRELEVANT_GENERAL_KEYS
    }
    relevant["project-scripts"] = list(config.project_scripts)
    text = json.dumps(relevant, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


def namespace(
    config: Config,
    file_rules: Sequence[RuleRef],
    collectors: Sequence[CollectorRef],
) -> str:
    """What, besides a file's own content and name, its cached result depends on."""
    libcst_version = _libcst_version()
    rules = sorted(f"{r.code}:{r.__module__}.{r.__qualname__}" for r in file_rules)
    facts = sorted(f"{c.KEY}:{c.__module__}.{c.__qualname__}" for c in collectors)
    modules = sorted({r.__module__ for r in file_rules} | {c.__module__ for c in collectors})
    parts = [
        f"format={CACHE_FORMAT}",
        # The entry's layout: entries of another one live under other keys.
        f"entry={MAGIC.decode()}",
        # The layout of the fact records' fields: entries pickled with another are not read.
        f"records={RECORDS_FORMAT}",
        # Where the pickled classes live: entries written before they moved (the
        # reorganisation into packages, or any later move) get another key, and one
        # read anyway does not unpickle and is ignored.
        f"result={FileResult.__module__}.{FileResult.__qualname__}",
        f"integ-lint={__version__}",
        f"python={sys.version_info[:3]}",
        f"libcst={libcst_version}",
        f"rules={rules}",
        f"facts={facts}",
        f"code={_code_stamp(modules)}",
        f"config={config_digest(config)}",
        # Results that also depend on the date (allowlist entries that expire).
        f"salt={sorted((n, s.cache_salt()) for n, s in config.sections.items())}",
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _libcst_version() -> str:
    """LibCST's version, from its metadata (importing LibCST costs a warm run ~0.2 s),
    as last read while the installed distributions were as they are now."""
    version: str = installed()["libcst"]
    return version


# One file's facts still pickled: key -> the pickle of ``{key: value}``.
PickledFacts = Mapping[str, bytes]


class CorruptEntry(ValueError):
    """An entry's facts failed their tag (and could not be analysed again)."""


class SealedFacts(Mapping[str, bytes]):
    """One entry's facts, pickled per key, authenticated on first use: their tag is
    checked when a key is first read (never before: a memoised run reads none). Facts
    that fail it are never unpickled: they come from ``again`` (the file analysed
    again), or raise :class:`CorruptEntry`."""

    def __init__(
        self,
        offsets: dict[str, tuple[int, int]],
        tag: bytes,
        blob: memoryview,
        authentic: Callable[[bytes, memoryview], bool],
        again: Callable[[], PickledFacts] | None = None,
        rest: Callable[[], bytes | None] | None = None,
    ) -> None:
        self._offsets = offsets
        self._tag = tag
        self._blob = blob  # the facts, or their start when ``rest`` reads the others
        self._rest = rest
        self._authentic = authentic
        self._again = again
        self._opened: PickledFacts | None = None

    def authentic(self) -> bool:
        """Whether the facts pass their tag (checked once)."""
        if self._opened is None:
            blob = self._blob
            if self._rest is not None:
                rest = self._rest()
                if rest is None:
                    return False  # the entry is gone or was replaced since
                blob = memoryview(bytes(blob) + rest)
            if self._authentic(self._tag, blob) and self._spans_fit(len(blob)):
                self._opened = {
                    key: bytes(blob[start : start + length])
                    for key, (start, length) in self._offsets.items()
                }
                self._blob = memoryview(b"")
                self._rest = None
            else:
                return False
        return True

    def _spans_fit(self, size: int) -> bool:
        return all(
            isinstance(key, str)
            and isinstance(span, tuple)
            and len(span) == 2
            and isinstance(span[0], int)
            and isinstance(span[1], int)
            and span[0] >= 0
            and span[0] + span[1] <= size
            for key, span in self._offsets.items()
        )

    def _facts(self) -> PickledFacts:
        if self._opened is None and not self.authentic():
            if self._again is None:
                raise CorruptEntry("cached facts failed their authentication")
            self._opened = self._again()
            self._blob = memoryview(b"")
        assert self._opened is not None
        return self._opened

    def __getitem__(self, key: str) -> bytes:
        return self._facts()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._facts())

    def __len__(self) -> int:
        return len(self._facts())


def load_facts(pickled: bytes) -> dict[str, Any]:
    """Facts of an entry that :meth:`FileCache.get_deferred` returned pickled
    (authenticated with its entry): one key's pickle, ``{key: value}``."""
    facts = pickle.loads(pickled)
    if not isinstance(facts, dict):
        raise TypeError("cached facts are not a dict")
    return facts


def load_all_facts(pickled: PickledFacts) -> dict[str, Any]:
    """Every key of one file's pickled facts, unpickled."""
    facts: dict[str, Any] = {}
    for key, blob in pickled.items():
        facts[key] = load_facts(blob)[key]
    return facts


def pickle_facts(facts: dict[str, Any]) -> dict[str, bytes]:
    """One pickle per key (see :data:`PickledFacts`)."""
    return {
        key: pickle.dumps({key: value}, protocol=pickle.HIGHEST_PROTOCOL)
        for key, value in facts.items()
    }


# A memo is compared file by file only for this many files whose content changed
# since it was stored; more, and the phase runs (comparing facts costs unpickling).
MEMO_COMPARED_FILES = 64


@dataclasses.dataclass
class RuleOutcome:
    """One project rule's part of the memo: what it read and raised while it ran
    (:class:`~integ_lint.model.project.FrameTrace`), its findings, and its internal
    error (None when it ran through)."""

    rule: str  # code:module.qualname, checked against the run's rules in order
    trace: FrameTrace
    findings: list[Finding]
    error: Notification | None = None


@dataclasses.dataclass
class ProjectMemo:
    """The outcome of a run's project phase (project rules over the joined facts),
    rule by rule, stored so that a later run reruns only the rules whose inputs
    changed: ``key`` digests everything the phase reads from memory except the files'
    facts (see :func:`project_memo_key`), ``files`` each file's content digest then (a
    file whose content changed since is compared by its facts, key by key, for the
    keys each rule read: an edit that leaves them equal keeps a rule's outcome, one
    that only moves their lines moves it, see :mod:`integ_lint.engine.memo_remap` and
    :mod:`integ_lint.engine.phase_memo`), ``reads`` what the phase read from disk
    (config files, globs), checked by ``stat``; ``derived`` the trace of each derived
    structure's build (key -> (its builder's name, trace)); ``summaries`` the derived
    structures' summaries kept in entries of their own (key -> :class:`KeptRef`, see
    :mod:`integ_lint.engine.phase_memo`)."""

    key: str
    reads: list[ReadRecord]
    rules: list[RuleOutcome]
    derived: dict[str, tuple[str, FrameTrace]]
    files: dict[str, str] = dataclasses.field(default_factory=dict)
    summaries: dict[str, KeptRef] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class KeptRef:
    """Where a derived structure's kept summary is (:meth:`FileCache.get_pickled`
    under ``entry``, holding ``(token, summary)``), the fact keys it judges and the
    frames it vouches for (read without loading it)."""

    entry: str
    token: str
    fact_keys: frozenset[str]
    readers: frozenset[str]


def project_memo_key(
    config: Config,
    project_rules: Sequence[RuleRef],
    collectors: Sequence[CollectorRef],
    results: Sequence[FileResult],
    roles: dict[str, str],
) -> str:
    """A digest of the project phase's inputs but the files' facts: the tool and rule
    code, the whole configuration (with the config file's bytes: rules cite its
    lines), the facts' namespace, the project's layout, and each file's name, module
    and role, but not the paths a run reports on: the memoised phase runs its rules
    on every file and the engine keeps the findings on the reported paths, so a
    pre-commit run reuses a full run's memo. The facts themselves are
    :attr:`ProjectMemo.files`' business: the
    phase sees a file only through its :class:`~integ_lint.model.project.FileFacts`
    (never its line count or its text)."""
    digest = hashlib.sha256()
    rules = sorted(f"{r.code}:{r.__module__}.{r.__qualname__}" for r in project_rules)
    modules = sorted({r.__module__ for r in project_rules} | {c.__module__ for c in collectors})
    config_bytes = b""
    if config.config_file is not None:
        with contextlib.suppress(OSError):
            config_bytes = read_regular_file(config.config_file, 16 << 20)
    header = [
        # 5: derived structures' summaries (ProjectMemo.summaries); 4: not keyed by the
        # reported paths (the memoised phase runs its rules on every file); 3: rule by
        # rule (ProjectMemo.rules); 2: keyed without the files' contents
        # (ProjectMemo.files). A memo of another format lives under another key.
        "project-memo-5",
        namespace(config, [], collectors),
        f"rules={rules}",
        f"code={_code_stamp(modules)}",
        json.dumps(config.as_dict(), sort_keys=True, default=repr),
        json.dumps(config.provenance, sort_keys=True, default=repr),
        f"config-file={config.config_file}:{hashlib.sha256(config_bytes).hexdigest()}",
        f"root={config.root}",
        f"scripts={sorted(config.project_scripts)}",
        f"layout={config.layout!r}",
    ]
    digest.update("\n".join(header).encode("utf-8", "surrogateescape"))
    for result in results:
        line = "\0".join(
            (
                result.relpath,
                result.module,
                "1" if result.is_package_init else "0",
                "1" if result.parsed else "0",
                roles.get(result.relpath, ""),
            )
        )
        digest.update(b"\n" + line.encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


@dataclasses.dataclass(frozen=True)
class _Named:
    """What names a file's entry besides its content (a :class:`SourceFile`'s part
    that :meth:`FileCache.key` reads), for a file known from its result alone."""

    relpath: str
    module: str
    is_package_init: bool


@dataclasses.dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    corrupt: int = 0
    written: int = 0
    pruned: int = 0


class FileCache:
    """Reads and writes per-file results under one folder for one namespace."""

    def __init__(
        self,
        directory: Path,
        namespace: str,
        max_bytes: int,
        secret: bytes | None = None,
    ) -> None:
        self.directory = directory
        self.namespace = namespace
        self.max_bytes = max_bytes
        self.secret = secret if secret is not None else _secret(str(user_key_file()))
        self._keyed: tuple[bytes, hmac.HMAC] | None = None  # see _tag
        self.stats = CacheStats()
        self._ready = False
        self._shards: set[str] = set()
        self._entry_root = os.path.join(directory, ENTRY_DIR)
        self.disabled_reason: str | None = None
        # What analyses a file again when its cached facts fail their tag (for_run).
        self._again: tuple[Config, Sequence[CollectorRef]] | None = None
        # path -> [*signature, digest] (None: not loaded yet), and whether it changed.
        self._digests: dict[str, list[Any]] | None = None
        self._digests_changed = False
        self._digests_used: set[str] = set()  # the paths this run asked for

    @classmethod
    def for_run(
        cls,
        config: Config,
        file_rules: Sequence[RuleRef],
        collectors: Sequence[CollectorRef],
    ) -> FileCache:
        """The cache of ``config``'s project; raises :class:`CacheError` when its
        folder is unusable."""
        directory = cache_directory(config)
        problem = check_directory(directory, config.root)
        if problem:
            raise CacheError(problem)
        key_file = str(user_key_file())
        secret, unstored = _load_secret(key_file)
        if unstored is not None:
            raise CacheError(
                f"{key_file}: cannot store the cache key ({unstored}); set XDG_CACHE_HOME "
                f"or {KEY_FILE_ENV} to a writable place"
            )
        max_mb = config.general.cache_max_mb
        cache = cls(
            directory,
            namespace(config, file_rules, collectors),
            max(0, max_mb) << 20,
            secret=secret,
        )
        if ownership(directory, cache.secret) == "foreign":
            raise CacheError(foreign_folder_message(directory))
        cache._again = (config, collectors)
        return cache

    # -- keys --------------------------------------------------------------------
    def key(self, source_file: SourceFile | _Named, digest: str) -> str:
        text = "\0".join(
            (
                self.namespace,
                source_file.relpath,
                source_file.module,
                "1" if source_file.is_package_init else "0",
                digest,
            )
        )
        return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()

    def stored_facts(self, result: FileResult, digest: str) -> PickledFacts | None:
        """The pickled facts of the entry for ``result``'s file with content ``digest``
        (authenticated, not unpickled), or None when there is none."""
        named = _Named(result.relpath, result.module, result.is_package_init)
        found = self.get_deferred(named, digest)
        if found is None or found[1] is None:
            return None
        facts = found[1]
        if isinstance(facts, SealedFacts) and not facts.authentic():
            self._drop(self.entry_path(self.key(named, digest)))
            return None
        return facts

    def entry_path(self, key: str) -> Path:
        return self.directory / ENTRY_DIR / key[:2] / key

    def _tag(self, payload: bytes | memoryview) -> bytes:
        # The HMAC keyed once (its padded key hashed) and copied per tag: a warm run
        # tags every entry it reads (napari: 850, 6.5 -> 4 us each).
        keyed = self._keyed
        if keyed is None or keyed[0] is not self.secret:
            keyed = self._keyed = (self.secret, hmac.new(self.secret, digestmod=hashlib.blake2b))
        tagger = keyed[1].copy()
        tagger.update(payload)
        return tagger.digest()[:TAG_SIZE]

    def _authentic(self, tag: bytes, payload: memoryview) -> bool:
        return hmac.compare_digest(tag, self._tag(payload))

    def _seal(self, result: bytes, facts: bytes = b"") -> bytes:
        """An entry: ``MAGIC``, the tag of the rest up to the end of ``result``, the
        length of ``result``, the tag of ``facts``, ``result`` (a pickle), ``facts``."""
        body = struct.pack(">Q", len(result)) + self._tag(facts) + result
        return MAGIC + self._tag(body) + body + facts

    def _open(self, data: bytes) -> tuple[memoryview, bytes, memoryview] | None:
        """An entry this user's key wrote: its result's pickle (authenticated), the
        facts' tag and the facts (not yet authenticated: :class:`SealedFacts`), or None:
        anything else is never unpickled."""
        if len(data) < _RESULT_START or not data.startswith(MAGIC):
            return None
        tag, length, facts_tag = _HEADER.unpack_from(data, len(MAGIC))
        end = _RESULT_START + length
        if end > len(data):
            return None
        view = memoryview(data)
        if not self._authentic(tag, view[_BODY_START:end]):
            return None
        return view[_RESULT_START:end], facts_tag, view[end:]

    def _payload(self, data: bytes) -> memoryview | None:
        """The pickle of an entry holding one pickle and no facts (the project memo)."""
        opened = self._open(data)
        if opened is None or len(opened[2]) or not self._authentic(opened[1], opened[2]):
            return None
        return opened[0]

    def _drop(self, path: str | Path) -> None:
        """Delete a corrupt entry (the next run writes it again)."""
        self.stats.corrupt += 1
        with contextlib.suppress(OSError):
            os.unlink(path)

    # -- reading -----------------------------------------------------------------
    def get(self, source_file: SourceFile, digest: str) -> FileResult | None:
        """The cached result for this content of ``source_file``, or None."""
        found = self.get_deferred(source_file, digest, defer_facts=False)
        return found[0] if found is not None else None

    def get_deferred(
        self, source_file: SourceFile | _Named, digest: str, defer_facts: bool = True
    ) -> tuple[FileResult, PickledFacts | None] | None:
        """The cached result and, with ``defer_facts``, its facts still pickled (the
        result's ``facts`` empty until :func:`load_facts`): a run whose project phase
        is memoised never pays for unpickling them. The pickled facts are read (for a
        large entry), authenticated and unpickled only when first used
        (:class:`SealedFacts`)."""
        key = self.key(source_file, digest)
        path = f"{self._entry_root}/{key[:2]}/{key}"  # entry_path, without pathlib's cost
        try:
            data, rest = _read_entry(path, whole=not defer_facts)
        except OSError:
            self.stats.misses += 1
            return None
        found = self._decode(data, source_file, digest, defer_facts, rest)
        if found is None:
            self.stats.misses += 1
            self._drop(path)
            return None
        self.stats.hits += 1
        return found

    def _decode(
        self,
        data: bytes,
        source_file: SourceFile | _Named,
        digest: str,
        defer_facts: bool = False,
        rest: Callable[[], bytes | None] | None = None,
    ) -> tuple[FileResult, PickledFacts | None] | None:
        opened = self._open(data)
        if opened is None:
            return None
        payload, facts_tag, blob = opened
        try:
            result, offsets = pickle.loads(payload)
            if not isinstance(offsets, dict):
                return None  # its spans are checked with the facts (SealedFacts)
        except Exception:
            return None
        if (
            not isinstance(result, FileResult)
            or result.relpath != source_file.relpath
            or result.digest != digest
        ):
            return None
        again = None
        if defer_facts and self._again is not None and isinstance(source_file, SourceFile):
            again = self._facts_again(source_file, digest)
        facts = SealedFacts(offsets, facts_tag, blob, self._authentic, again, rest)
        if not defer_facts:
            if not facts.authentic():
                return None
            try:
                result.facts = load_all_facts(facts)
            except Exception:
                return None
            return result, None
        return result, facts

    def _facts_again(self, source_file: SourceFile, digest: str) -> Callable[[], PickledFacts]:
        """The facts of ``source_file``, analysed again, for an entry whose facts fail
        their tag (the entry is deleted: the next run writes it again)."""
        assert self._again is not None
        config, collectors = self._again

        def again() -> PickledFacts:
            from integ_lint.engine.analysis import analyze_file
            from integ_lint.engine.manifest import loaded_rules

            self._drop(self.entry_path(self.key(source_file, digest)))
            return pickle_facts(
                analyze_file(source_file, config, [], loaded_rules(collectors)).facts
            )

        return again

    # -- content digests ---------------------------------------------------------
    def digest_of(self, path: Path, max_bytes: int | None) -> tuple[int, str] | None:
        """The size and content digest of the file at ``path`` (None: it cannot be
        read, or is larger than ``max_bytes``): remembered from an earlier run while
        its stat signature is unchanged, as git's index does, else read and hashed."""
        if self._digests is None:
            self._digests = self._load_digests()
        name = os.fspath(path)
        self._digests_used.add(name)
        try:
            before: os.stat_result | None = os.stat(name)
        except OSError:
            before = None
        if before is not None:
            known = self._digests.get(name)
            signature = _signature(before)
            if known is not None and known[:-1] == signature:
                return before.st_size, known[-1]
        try:
            data = read_regular_file(path, max_bytes)
        except OSError:
            return None
        digest = content_digest(data)
        if (
            before is not None
            and time.time_ns() - max(before.st_mtime_ns, before.st_ctime_ns) > RACY_NS
        ):
            with contextlib.suppress(OSError):
                # Unchanged while it was read: the digest is this signature's.
                if _signature(os.stat(name)) == signature and len(data) == before.st_size:
                    self._digests[name] = [*signature, digest]
                    self._digests_changed = True
        return len(data), digest

    def _digests_path(self) -> Path:
        return self.entry_path(hashlib.sha256(_DIGESTS_NAME.encode()).hexdigest())

    def _load_digests(self) -> dict[str, list[Any]]:
        """The remembered digests (authenticated like an entry; plain JSON inside)."""
        try:
            data = read_regular_file(self._digests_path(), _DIGESTS_LIMIT, follow_symlinks=False)
        except OSError:
            return {}
        payload = self._payload(data)
        if payload is None:
            return {}
        try:
            files = json.loads(bytes(payload))
        except ValueError:
            return {}
        if not isinstance(files, dict):
            return {}
        return {
            name: entry
            for name, entry in files.items()
            if isinstance(entry, list)
            and len(entry) == 7
            and all(isinstance(number, int) for number in entry[:6])
            and isinstance(entry[6], str)
        }

    def save_digests(self) -> None:
        """Store the digests learnt by :meth:`digest_of` (atomically), when some were."""
        if not self._digests_changed or self._digests is None:
            return
        if self.disabled_reason is not None or self.max_bytes <= 0:
            return
        # Merged with what another run stored meanwhile (the context files of a
        # pre-commit run go through another cache of the same folder).
        stored = self._load_digests()
        stored.update(self._digests)
        payload = json.dumps(stored, separators=(",", ":")).encode("utf-8", "surrogateescape")
        if len(payload) > _DIGESTS_LIMIT // 2:
            # Files long deleted or renamed pile up: this run's files alone.
            current = {name: stored[name] for name in self._digests_used if name in stored}
            payload = json.dumps(current, separators=(",", ":")).encode("utf-8", "surrogateescape")
        if len(payload) > _DIGESTS_LIMIT:
            return
        path = self._digests_path()
        with contextlib.suppress(CacheError, OSError):
            self._prepare()
            self._real_directory(path.parent)
            write_atomic(
                path, self._seal(payload), durable=False, sweep_stale=False, follow_links=False
            )
            self._digests_changed = False

    # -- the project phase's memo -------------------------------------------------
    def get_memo(self, key: str) -> ProjectMemo | None:
        """The project phase's stored outcome under ``key``, when every file and
        listing it read is unchanged (see :func:`integ_lint.files.source.reads_unchanged`)."""
        memo = self.get_pickled(key)
        if (
            not isinstance(memo, ProjectMemo)
            or memo.key != key
            or not isinstance(getattr(memo, "files", None), dict)
            or not isinstance(getattr(memo, "rules", None), list)
            or not isinstance(getattr(memo, "derived", None), dict)
            or not isinstance(getattr(memo, "summaries", None), dict)
        ):
            return None
        if not reads_unchanged(memo.reads):
            return None
        return memo

    def get_pickled(self, key: str) -> object | None:
        """What :meth:`put_pickled` stored under ``key`` (authenticated), or None."""
        path = self.entry_path(key)
        try:
            data = read_regular_file(path, follow_symlinks=False)
        except OSError:
            return None
        payload = self._payload(data)
        if payload is None:
            return None
        try:
            return pickle.loads(payload)
        except Exception:
            return None

    def put_memo(self, memo: ProjectMemo) -> bool:
        """Store ``memo`` (atomically, authenticated like a file's entry)."""
        return self.put_pickled(memo.key, memo)

    def put_pickled(self, key: str, value: object) -> bool:
        """Store ``value`` pickled under ``key`` (a hex digest; atomically,
        authenticated like a file's entry)."""
        if self.disabled_reason is not None or self.max_bytes <= 0:
            return False
        try:
            payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            return False
        path = self.entry_path(key)
        try:
            self._prepare()
            self._real_directory(path.parent)
            write_atomic(
                path,
                self._seal(payload),
                durable=False,
                sweep_stale=False,
                follow_links=False,
            )
        except (CacheError, OSError):
            return False
        return True

    # -- writing -----------------------------------------------------------------
    def _prepare(self) -> None:
        if self._ready:
            return
        claim(self.directory, self.secret)
        self._real_directory(self.directory / ENTRY_DIR)
        self._ready = True

    def _real_directory(self, path: Path) -> None:
        """Create ``path`` (one level) or check it is a folder and not a symlink."""
        with contextlib.suppress(FileExistsError):
            os.mkdir(path)
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            raise CacheError(f"{path}: not a folder (a symlink?); the cache does not follow it")

    def put(
        self, source_file: SourceFile, result: FileResult, pickled: PickledFacts | None = None
    ) -> bool:
        """Store ``result``, its facts as ``pickled`` when given (:func:`pickle_facts` of
        them: a worker pickles them once, for the entry and for the parent); False (and
        the cache disabled) when the folder is not writable. Results of unreadable files
        are not stored."""
        if self.disabled_reason is not None or not result.digest or self.max_bytes <= 0:
            return False
        try:
            # The facts pickled apart, per key: a run unpickles only the keys it reads.
            facts = pickled if pickled is not None else pickle_facts(result.facts)
            offsets: dict[str, tuple[int, int]] = {}
            start = 0
            for key, blob in facts.items():
                offsets[key] = (start, len(blob))
                start += len(blob)
            light = dataclasses.replace(result, facts={})
            payload = pickle.dumps((light, offsets), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            return False  # facts that do not pickle: analyse the file again next time
        data = self._seal(payload, b"".join(facts.values()))
        key = self.key(source_file, result.digest)
        shard = os.path.join(self._entry_root, key[:2])
        try:
            self._prepare()
            if key[:2] not in self._shards:
                self._real_directory(Path(shard))
                self._shards.add(key[:2])
            write_entry(os.path.join(shard, key), data)
        except CacheError as exc:
            self.disabled_reason = str(exc)
            return False
        except OSError as exc:
            self.disabled_reason = (
                f"{self.directory}: cannot write the cache: {exc.strerror or exc}"
            )
            return False
        self.stats.written += 1
        return True

    # -- size bound --------------------------------------------------------------
    def _entries(self, temporary: bool = True) -> Iterator[os.DirEntry[str]]:
        """The entry files (and, with ``temporary``, entry temp files) integ-lint
        wrote: regular files with its names, in its shard folders; symlinks and
        anything else are left alone."""
        yield from _own_entries(self.directory, temporary)

    def size(self) -> int:
        total = 0
        for entry in self._entries():
            with contextlib.suppress(OSError):
                total += entry.stat(follow_symlinks=False).st_size
        return total

    def prune(self) -> int:
        """Delete the oldest entries while the folder is over its size bound; return
        how many were deleted. Safe against concurrent runs deleting the same files.

        The folder's size comes from the shards changed since the last prune (their
        ``mtime``: an entry written, renamed into place or deleted changes it) and the
        remembered sizes of the others, as git's index trusts an unchanged ``stat``: a
        run that wrote one entry reads one shard, not every entry (napari, 6900
        entries: 50 ms of a one-file run's 0.55 s). A shard changed in the last 2 s or
        holding a temporary file is not remembered; over the bound, every entry is
        read to find the oldest."""
        known = self._shard_sizes()
        remembered: dict[str, tuple[int, int]] = {}
        total = 0
        scanned_ns = time.time_ns()
        for shard in _own_shards(self.directory):
            try:
                mtime_ns = shard.stat(follow_symlinks=False).st_mtime_ns
            except OSError:
                continue
            kept = known.get(shard.name)
            if kept is not None and kept[0] == mtime_ns:
                remembered[shard.name] = kept
                total += kept[1]
                continue
            size, settled = _shard_size(shard.path)
            total += size
            if settled and scanned_ns - mtime_ns > RACY_NS:
                remembered[shard.name] = (mtime_ns, size)
        if total <= self.max_bytes:
            if remembered != known:
                self.put_pickled(self._shard_sizes_key(), remembered)
            return 0
        return self._prune_oldest()

    def _shard_sizes_key(self) -> str:
        return hashlib.sha256(_SHARD_SIZES_NAME.encode()).hexdigest()

    def _shard_sizes(self) -> dict[str, tuple[int, int]]:
        """What the last prune learnt: per shard, its ``mtime_ns`` and the size of its
        entries then."""
        stored = self.get_pickled(self._shard_sizes_key())
        if not isinstance(stored, dict):
            return {}
        return {
            name: value
            for name, value in stored.items()
            if isinstance(name, str)
            and isinstance(value, tuple)
            and len(value) == 2
            and all(type(number) is int for number in value)
        }

    def _prune_oldest(self) -> int:
        sized: list[tuple[float, int, str]] = []
        total = 0
        now = time.time()
        for entry in self._entries():
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if TEMP_NAME.match(entry.name):
                # Another run may be about to rename it into place; one left by a
                # killed run is removed once it is clearly stale.
                if now - info.st_mtime > STALE_TEMP_SECONDS:
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)
                continue
            sized.append((info.st_mtime, info.st_size, entry.path))
            total += info.st_size
        if total <= self.max_bytes:
            return 0
        target = int(self.max_bytes * _PRUNE_TARGET)
        removed = 0
        for _, size, path in sorted(sized):
            if total <= target:
                break
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
                removed += 1
            total -= size
        self.stats.pruned += removed
        return removed


def _own_shards(directory: Path) -> Iterator[os.DirEntry[str]]:
    """The shard folders of the entries (never a symlink)."""
    root = directory / ENTRY_DIR
    try:
        if not stat.S_ISDIR(os.lstat(root).st_mode):
            return
    except OSError:
        return
    with contextlib.suppress(OSError), os.scandir(root) as shards:
        for shard in shards:
            if _SHARD_NAME.match(shard.name) and shard.is_dir(follow_symlinks=False):
                yield shard


def _shard_size(folder: str) -> tuple[int, bool]:
    """The size of the entries in shard ``folder``, and whether it holds no
    temporary file (a stale one is deleted by a prune that reads every entry)."""
    size = 0
    settled = True
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if TEMP_NAME.match(entry.name):
                settled = False
            elif _ENTRY_NAME.match(entry.name):
                with contextlib.suppress(OSError):
                    info = entry.stat(follow_symlinks=False)
                    if stat.S_ISREG(info.st_mode):
                        size += info.st_size
    return size, settled


def _own_entries(directory: Path, temporary: bool = True) -> Iterator[os.DirEntry[str]]:
    root = directory / ENTRY_DIR
    try:
        if not stat.S_ISDIR(os.lstat(root).st_mode):
            return  # a symlink (or a file) named v1: not ours, never followed
    except OSError:
        return
    with contextlib.suppress(OSError), os.scandir(root) as shards:
        for shard in shards:
            if not _SHARD_NAME.match(shard.name) or not shard.is_dir(follow_symlinks=False):
                continue
            with contextlib.suppress(OSError), os.scandir(shard.path) as entries:
                for entry in entries:
                    own = _ENTRY_NAME.match(entry.name) or (
                        temporary and TEMP_NAME.match(entry.name)
                    )
                    if own and entry.is_file(follow_symlinks=False):
                        yield entry


def write_entry(path: str, data: bytes) -> None:
    """Write one file's entry at ``path`` (in a shard folder the cache made and
    checked): :func:`~integ_lint.files.atomic.replace_with_new_file` alone, without
    ``write_atomic``'s steps for a file of the user's (its old mode and owner kept, the
    umask read from ``/proc`` per file, an ``fsync``), which a cold run paid for every
    entry."""
    replace_with_new_file(path, data)


# An entry's first read: its header and result (about 700 bytes on Django), and the
# facts of a small one. The facts of a larger one are read when first used: a run
# whose project phase is memoised reads none (Django: 54 MB of entries, 2 MB of results).
_ENTRY_HEAD = 4096


def _read_entry(path: str, whole: bool) -> tuple[bytes, Callable[[], bytes | None] | None]:
    """The bytes of the entry at ``path`` up to the end of its result (all of them
    with ``whole``) and, when some are left, what reads the rest later (None when the
    entry was replaced or deleted meanwhile). Never through a symlink, never a FIFO or
    device planted as an entry (:func:`~integ_lint.files.source.open_regular`)."""
    fd, info = open_regular(path, follow_symlinks=False)
    try:
        size = info.st_size
        want = size if whole else min(size, _ENTRY_HEAD)
        data = _read_from(fd, 0, want)
        if not whole and len(data) >= _RESULT_START and data.startswith(MAGIC):
            end = _RESULT_START + _HEADER.unpack_from(data, len(MAGIC))[1]
            if len(data) < end <= size:
                data += _read_from(fd, len(data), end - len(data))
    finally:
        os.close(fd)
    if len(data) >= size:
        return data, None
    signature = (info.st_ino, info.st_dev, size, info.st_mtime_ns)

    def rest() -> bytes | None:
        try:
            fd, now = open_regular(path, follow_symlinks=False)
        except OSError:
            return None
        try:
            if (now.st_ino, now.st_dev, now.st_size, now.st_mtime_ns) != signature:
                return None
            more = _read_from(fd, len(data), size - len(data))
        except OSError:
            return None
        finally:
            os.close(fd)
        return more if len(more) == size - len(data) else None

    return data, rest


def _read_from(fd: int, offset: int, count: int) -> bytes:
    """Up to ``count`` bytes of ``fd`` from ``offset`` (fewer at its end)."""
    chunks = []
    while count > 0:
        chunk = os.pread(fd, count, offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
        count -= len(chunk)
    return b"".join(chunks)


@dataclasses.dataclass
class CleanOutcome:
    entries: int = 0  # cache entries deleted
    left: list[str] = dataclasses.field(default_factory=list)  # names not integ-lint's


def clean(directory: Path, root: Path, secret: bytes | None = None) -> CleanOutcome:
    """Delete integ-lint's files from the cache folder ``directory``, and the folder
    when nothing else is left in it.

    Refuses (:class:`CacheError`) a folder that integ-lint did not create and tag, a
    symlink, and the project root, so that a mistyped or hostile ``cache-dir`` never
    deletes anything else. Inside its folder it deletes only the entries, shard
    folders, tag, ``.gitignore`` and temporary files it writes; anything else stays
    (listed in :attr:`CleanOutcome.left`)."""
    problem = check_directory(directory, root)
    if problem:
        raise CacheError(problem)
    secret = secret if secret is not None else _secret(str(user_key_file()))
    state = ownership(directory, secret)
    if state in ("absent", "empty"):
        return CleanOutcome()  # an empty folder may be the user's: left alone
    if state == "foreign":
        raise CacheError(
            f"{directory}: not an integ-lint cache folder (no CACHEDIR.TAG with this "
            "user's id); not deleting it"
        )
    outcome = CleanOutcome()
    for entry in list(_own_entries(directory)):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(entry.path)
            if _ENTRY_NAME.match(entry.name):
                outcome.entries += 1
    entry_root = directory / ENTRY_DIR
    with contextlib.suppress(OSError):
        if stat.S_ISDIR(os.lstat(entry_root).st_mode):
            for shard in os.listdir(entry_root):
                if _SHARD_NAME.match(shard):
                    with contextlib.suppress(OSError):
                        os.rmdir(entry_root / shard)  # only when empty
            os.rmdir(entry_root)
    for name in (".gitignore", "CACHEDIR.TAG"):
        path = directory / name
        text = _read_small(path)
        if text is None:
            continue
        if (name == ".gitignore" and text == GITIGNORE) or name == "CACHEDIR.TAG":
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
    with contextlib.suppress(OSError), os.scandir(directory) as leftovers:
        for item in leftovers:
            if TEMP_NAME.match(item.name) and item.is_file(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    os.unlink(item.path)
    with contextlib.suppress(OSError):
        os.rmdir(directory)  # only when empty
    if os.path.lexists(directory):
        outcome.left = sorted(_remaining(directory))
    return outcome


def _remaining(directory: Path) -> Iterator[str]:
    for current, dirnames, filenames in os.walk(directory, followlinks=False):
        for name in [*filenames, *(d for d in dirnames if os.path.islink(Path(current, d)))]:
            yield os.path.relpath(Path(current, name), directory)
