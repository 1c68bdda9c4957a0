"""The per-file result cache.

One entry per analysed file holds its whole :class:`~integ_lint.analysis.FileResult`
(facts, per-file findings, notifications, suppression comments), pickled. The key is
the file's content digest, its project-relative path and module name, and a
*namespace* made of the tool version, the Python and LibCST versions, the selected
file rules and fact collectors (with a stamp of their source files), and the part of
the configuration that can change per-file results.

Layout under ``config.root / general.cache_dir`` (default ``.integ-lint-cache``)::

    .gitignore          "*": the folder never shows up in ``git status``
    CACHEDIR.TAG        marks the folder as a cache for backup tools (and for ``clean``)
    v1/ab/abcdef....    one entry per file: MAGIC + keyed BLAKE2 tag + pickle

Entries are written to a temporary file and renamed into place, so concurrent runs
never see half an entry; an entry that fails its tag, does not unpickle or is not a
``FileResult`` for that path is ignored and rewritten. The folder is kept under
``cache_max_mb`` by deleting the oldest entries after a run that wrote some.

Entries are authenticated with a per-user secret kept outside the project, so that a
cache folder planted in a repository (for example committed by force) is never
unpickled: a scanned project must not be able to run code in the linter.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import hmac
import json
import os
import pickle
import secrets
import sys
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path

from . import __version__
from .analysis import FileResult
from .atomic import write_atomic
from .config import Config
from .discovery import SourceFile
from .rule import FactCollector, FileRule

CACHE_FORMAT = 1
ENTRY_DIR = f"v{CACHE_FORMAT}"
MAGIC = b"ILC1"
TAG_SIZE = 32
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
KEY_FILE_ENV = "INTEG_LINT_CACHE_KEY_FILE"


class CacheError(Exception):
    """The cache folder cannot be used (one line naming the folder and why)."""


def cache_directory(config: Config) -> Path:
    """Where ``config``'s cache lives: ``cache-dir`` relative to the project root."""
    return (config.root / config.general.cache_dir).resolve()


def check_directory(directory: Path, root: Path) -> str | None:
    """Why ``directory`` must not be used as the cache folder, or None."""
    root = root.resolve()
    if directory == root or directory in root.parents:
        return f"{directory}: cache-dir must not be the project root or one of its parents"
    if directory.exists() and not directory.is_dir():
        return f"{directory}: cache-dir exists and is not a folder"
    return None


def _user_key_file() -> Path:
    override = os.environ.get(KEY_FILE_ENV)
    if override:
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "integ-lint" / "cache-key"


@lru_cache(maxsize=4)
def _secret(key_file: str) -> bytes:
    """This user's secret for authenticating cache entries, created on first use.

    When it cannot be stored, a secret for this process only is used: the cache
    still works within the run but entries from other runs fail their tag."""
    path = Path(key_file)
    with contextlib.suppress(OSError):
        data = path.read_bytes()
        if len(data) >= 32:
            return data[:64]
    fresh = secrets.token_bytes(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(fresh)
        return fresh
    except FileExistsError:  # another process won the race: use its key
        with contextlib.suppress(OSError):
            data = path.read_bytes()
            if len(data) >= 32:
                return data[:64]
        return fresh
    except OSError:
        return fresh


def _stamp_tree(directory: Path, digest: hashlib._Hash) -> None:
    """Feed the names, sizes and modification times of the ``.py`` files under
    ``directory`` into ``digest`` (cheap, and catches edits to rules in a checkout)."""
    entries = []
    for path in directory.rglob("*.py"):
        with contextlib.suppress(OSError):
            stat = path.stat()
            entries.append(f"{path.relative_to(directory)}:{stat.st_size}:{stat.st_mtime_ns}")
    digest.update(f"{directory}\n".encode())
    digest.update("\n".join(sorted(entries)).encode("utf-8", "surrogateescape"))


def _code_stamp(modules: Sequence[str]) -> str:
    digest = hashlib.sha256()
    directories = {Path(__file__).resolve().parent}
    for name in modules:
        module = sys.modules.get(name)
        file = getattr(module, "__file__", None)
        if file:
            directories.add(Path(file).resolve().parent)
    for directory in sorted(directories):
        _stamp_tree(directory, digest)
    return digest.hexdigest()


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
    file_rules: Sequence[type[FileRule]],
    collectors: Sequence[type[FactCollector]],
) -> str:
    """What, besides a file's own content and name, its cached result depends on."""
    import libcst

    libcst_version = getattr(libcst, "LIBCST_VERSION", None) or getattr(
        getattr(libcst, "_version", None), "__version__", "?"
    )
    rules = sorted(f"{r.code}:{r.__module__}.{r.__qualname__}" for r in file_rules)
    facts = sorted(f"{c.KEY}:{c.__module__}.{c.__qualname__}" for c in collectors)
    modules = sorted({r.__module__ for r in file_rules} | {c.__module__ for c in collectors})
    parts = [
        f"format={CACHE_FORMAT}",
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
        self.secret = secret if secret is not None else _secret(str(_user_key_file()))
        self.stats = CacheStats()
        self._ready = False
        self.disabled_reason: str | None = None

    @classmethod
    def for_run(
        cls,
        config: Config,
        file_rules: Sequence[type[FileRule]],
        collectors: Sequence[type[FactCollector]],
    ) -> FileCache:
        """The cache of ``config``'s project; raises :class:`CacheError` when its
        folder is unusable."""
        directory = cache_directory(config)
        problem = check_directory(directory, config.root)
        if problem:
            raise CacheError(problem)
        max_mb = config.general.cache_max_mb
        return cls(directory, namespace(config, file_rules, collectors), max(0, max_mb) << 20)

    # -- keys --------------------------------------------------------------------
    def key(self, source_file: SourceFile, digest: str) -> str:
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

    def entry_path(self, key: str) -> Path:
        return self.directory / ENTRY_DIR / key[:2] / key

    def _tag(self, payload: bytes) -> bytes:
        return hmac.new(self.secret, payload, hashlib.blake2b).digest()[:TAG_SIZE]

    # -- reading -----------------------------------------------------------------
    def get(self, source_file: SourceFile, digest: str) -> FileResult | None:
        """The cached result for this content of ``source_file``, or None."""
        path = self.entry_path(self.key(source_file, digest))
        try:
            data = path.read_bytes()
        except OSError:
            self.stats.misses += 1
            return None
        result = self._decode(data, source_file, digest)
        if result is None:
            self.stats.corrupt += 1
            self.stats.misses += 1
            with contextlib.suppress(OSError):
                path.unlink()
            return None
        self.stats.hits += 1
        return result

    def _decode(self, data: bytes, source_file: SourceFile, digest: str) -> FileResult | None:
        header = len(MAGIC) + TAG_SIZE
        if len(data) < header or not data.startswith(MAGIC):
            return None
        tag, payload = data[len(MAGIC) : header], data[header:]
        if not hmac.compare_digest(tag, self._tag(payload)):
            return None
        try:
            result = pickle.loads(payload)
        except Exception:
            return None
        if (
            not isinstance(result, FileResult)
            or result.relpath != source_file.relpath
            or result.digest != digest
        ):
            return None
        return result

    # -- writing -----------------------------------------------------------------
    def _prepare(self) -> None:
        if self._ready:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        gitignore = self.directory / ".gitignore"
        if not gitignore.exists():
            write_atomic(gitignore, "# Created by integ-lint.\n*\n", durable=False)
        tag = self.directory / "CACHEDIR.TAG"
        if not tag.exists():
            write_atomic(tag, CACHEDIR_TAG, durable=False)
        self._ready = True

    def put(self, source_file: SourceFile, result: FileResult) -> bool:
        """Store ``result``; False (and the cache disabled) when the folder is not
        writable. Results of unreadable files are not stored."""
        if self.disabled_reason is not None or not result.digest or self.max_bytes <= 0:
            return False
        try:
            payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            return False  # facts that do not pickle: analyse the file again next time
        data = MAGIC + self._tag(payload) + payload
        path = self.entry_path(self.key(source_file, result.digest))
        try:
            self._prepare()
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(path, data, durable=False)
        except OSError as exc:
            self.disabled_reason = (
                f"{self.directory}: cannot write the cache: {exc.strerror or exc}"
            )
            return False
        self.stats.written += 1
        return True

    # -- size bound --------------------------------------------------------------
    def _entries(self) -> Iterator[os.DirEntry[str]]:
        root = self.directory / ENTRY_DIR
        with contextlib.suppress(OSError), os.scandir(root) as shards:
            for shard in shards:
                if not shard.is_dir(follow_symlinks=False):
                    continue
                with contextlib.suppress(OSError), os.scandir(shard.path) as entries:
                    yield from (e for e in entries if e.is_file(follow_symlinks=False))

    def size(self) -> int:
        total = 0
        for entry in self._entries():
            with contextlib.suppress(OSError):
                total += entry.stat(follow_symlinks=False).st_size
        return total

    def prune(self) -> int:
        """Delete the oldest entries while the folder is over its size bound; return
        how many were deleted. Safe against concurrent runs deleting the same files."""
        sized: list[tuple[float, int, str]] = []
        total = 0
        for entry in self._entries():
            try:
                stat = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            sized.append((stat.st_mtime, stat.st_size, entry.path))
            total += stat.st_size
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


def clean(directory: Path, root: Path) -> int:
    """Delete the cache folder ``directory``; return how many entries it held.

    Refuses (:class:`CacheError`) a folder that integ-lint did not create, so that a
    mistyped ``cache-dir`` never deletes anything else."""
    problem = check_directory(directory, root)
    if problem:
        raise CacheError(problem)
    if not directory.exists():
        return 0
    if not (directory / "CACHEDIR.TAG").is_file() and any(directory.iterdir()):
        raise CacheError(
            f"{directory}: not an integ-lint cache folder (no CACHEDIR.TAG); not deleting it"
        )
    import shutil

    count = sum(1 for _ in FileCache(directory, "", 0, secret=b"-" * 32)._entries())
    shutil.rmtree(directory, ignore_errors=True)
    if directory.exists():
        raise CacheError(f"{directory}: could not delete the cache folder completely")
    return count
