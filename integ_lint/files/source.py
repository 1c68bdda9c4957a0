"""Reading a source file: bytes -> text per PEP 263, with clear errors for bad input."""

from __future__ import annotations

import bisect
import codecs
import contextlib
import errno
import hashlib
import os
import re
import stat
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
# Python's tokenizer ends a line at "\r\n", "\r" or "\n" and nowhere else: form
# feeds, "\x0b", "\x1c"-"\x1e", "\x85", U+2028 and U+2029 (where str.splitlines()
# also breaks) are ordinary characters inside a line.
_LINE_END = re.compile(r"\r\n?|\n")
_BLANK_OR_COMMENT = re.compile(rb"^[ \t\f]*(?:[#\r\n]|$)")


class SourceError(Exception):
    """The file cannot be turned into text; ``line`` is set where it is known."""

    def __init__(self, message: str, line: int | None = None, col: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.col = col


@dataclass(frozen=True)
class SourceText:
    text: str
    encoding: str
    has_bom: bool
    digest: str  # sha256 of the raw bytes

    def encode(self, text: str) -> bytes:
        """Encode ``text`` the way the original file was encoded (for writing fixes)."""
        data = text.encode(self.encoding)
        return codecs.BOM_UTF8 + data if self.has_bom else data


def line_starts(text: str) -> list[int]:
    """The offset in ``text`` where each line starts, lines counted as Python's
    tokenizer (and so every reported position) counts them."""
    return [0, *(match.end() for match in _LINE_END.finditer(text))]


def split_lines(text: str) -> list[str]:
    """``text`` split into lines (line ends kept) exactly where the tokenizer splits."""
    starts = line_starts(text)
    ends = [*starts[1:], len(text)]
    lines = [text[start:end] for start, end in zip(starts, ends)]
    return lines if lines[-1] else lines[:-1]


def position_to_offset(starts: list[int], line: int, col: int) -> int:
    """The offset of 1-based ``line`` / ``col`` given :func:`line_starts`."""
    if line > len(starts):  # the position just past a final line end
        return starts[-1] + col - 1
    return starts[line - 1] + col - 1


def offset_to_position(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of ``offset`` (the inverse of
    :func:`position_to_offset`)."""
    starts = line_starts(text)
    index = bisect.bisect_right(starts, offset) - 1
    return index + 1, offset - starts[index] + 1


class NotRegularFileError(OSError):
    """The path is a FIFO, device, socket or folder: reading it could block forever or
    never end, so it is not read."""


class FileTooLargeError(OSError):
    """The file is larger than the configured limit (``max-file-size-kb``)."""


# CPython's tokenizer refuses brackets nested deeper than this (MAXLEVEL); LibCST's
# native parser has no such check and overflows its stack (a segfault) at about 1,300.
MAX_BRACKET_DEPTH = 200
_BRACKET = re.compile(r"[\[\](){}]")


def bracket_depth_problem(text: str) -> tuple[str, int, int] | None:
    """Why ``text`` nests brackets deeper than Python allows (message, line, column
    of the first bracket too deep), or None. Cheap on ordinary files: an upper bound
    (every bracket counted, in strings and comments too) rules most files out
    without tokenizing; only the rest are tokenized (iteratively: no recursion)."""
    depth = deepest = 0
    for match in _BRACKET.finditer(text):
        if match.group() in "([{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_BRACKET_DEPTH:
                    break
        elif depth:
            depth -= 1
    if deepest <= MAX_BRACKET_DEPTH:
        return None
    import io
    import tokenize

    depth = 0
    message = f"brackets nested more than {MAX_BRACKET_DEPTH} deep (Python's limit)"
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type != tokenize.OP:
                continue
            if token.string in "([{":
                depth += 1
                if depth > MAX_BRACKET_DEPTH:
                    return message, token.start[0], token.start[1] + 1
            elif token.string in ")]}" and depth:
                depth -= 1
    except (tokenize.TokenError, SyntaxError) as exc:
        # Python 3.12+ tokenizes in C and refuses the nesting itself.
        if "nested" in str(exc) or "parenthes" in str(exc):
            return message, 1, 1
        return None  # another syntax error: the parser reports it
    return None


def max_file_bytes(config: Any) -> int | None:
    """The configured read limit (``max-file-size-kb``) in bytes; None: no limit."""
    limit = getattr(config.general, "max_file_size_kb", 0)
    return limit * 1024 if limit and limit > 0 else None


_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def read_regular_file(
    path: str | os.PathLike[str], max_bytes: int | None = None, follow_symlinks: bool = True
) -> bytes:
    """The bytes of ``path`` when it is a regular file of at most ``max_bytes``.

    Opened with ``O_NONBLOCK`` (a FIFO, even one swapped in after discovery, does not
    block the open) and checked with ``fstat`` on the opened descriptor (what is read
    is what was checked): anything but a regular file raises
    :class:`NotRegularFileError`, a larger file :class:`FileTooLargeError`; reading
    stops at the limit even when the file grows meanwhile. ``follow_symlinks=False``
    refuses a symlink (``O_NOFOLLOW``)."""
    flags = _READ_FLAGS
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        _note_read(path, None)
        raise
    try:
        info = os.fstat(fd)
        _note_read(path, info)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFileError(errno.EINVAL, "not a regular file", os.fspath(path))
        if max_bytes is not None and info.st_size > max_bytes:
            raise FileTooLargeError(
                errno.EFBIG, f"file is larger than {max_bytes} bytes", os.fspath(path)
            )
        limit = max_bytes if max_bytes is not None else -1
        chunks = []
        size = 0
        while True:
            want = 1 << 20 if limit < 0 else min(1 << 20, limit + 1 - size)
            chunk = os.read(fd, want)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if 0 <= limit < size:
                raise FileTooLargeError(
                    errno.EFBIG, f"file is larger than {max_bytes} bytes", os.fspath(path)
                )
        return b"".join(chunks)
    finally:
        os.close(fd)


# What the project phase read from disk (integ_lint.engine.cache.ProjectMemo): while a
# recording is active, every read_regular_file and glob_paths call is noted, so that a
# memoised project phase is reused only while those files and listings are unchanged.
_local = threading.local()  # .recording: list[ReadRecord] | None, per thread
# (kind, path or (base, pattern), signature): kind "file" with the (mtime_ns, size,
# inode, mode) of what was opened (None: it could not be opened), or "glob" with the
# sorted (name, is_dir) pairs the pattern matched.
ReadRecord = tuple[str, Any, Any]


def file_signature(info: os.stat_result) -> tuple[int, int, int, int]:
    """What git's index compares to decide that a file is unchanged without reading it."""
    return (info.st_mtime_ns, info.st_size, info.st_ino, info.st_mode)


def _recording() -> list[ReadRecord] | None:
    records: list[ReadRecord] | None = getattr(_local, "recording", None)
    return records


def _note_read(path: str | os.PathLike[str], info: os.stat_result | None) -> None:
    records = _recording()
    if records is not None:
        signature = file_signature(info) if info is not None else None
        records.append(("file", os.path.abspath(path), signature))


@contextlib.contextmanager
def recording_reads() -> Iterator[list[ReadRecord]]:
    """Note every file read (and glob listing) made inside the block (this thread)."""
    previous = _recording()
    records: list[ReadRecord] = []
    _local.recording = records
    try:
        yield records
    finally:
        _local.recording = previous


def _glob_signature(base: Path, pattern: str) -> list[tuple[str, bool]]:
    return sorted((os.fspath(p), p.is_dir()) for p in base.glob(pattern))


def names_a_file(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names anything but a folder (following symlinks), noted while a
    recording is active: a probe that found nothing is noted too, so that a file which
    appears there later is seen."""
    try:
        info = os.stat(path)
    except OSError:
        _note_read(path, None)
        return False
    _note_read(path, info)
    return not stat.S_ISDIR(info.st_mode)


def glob_paths(base: Path, pattern: str) -> list[Path]:
    """``sorted(base.glob(pattern))``, noted while a recording is active."""
    found = sorted(base.glob(pattern))
    records = _recording()
    if records is not None:
        listing = sorted((os.fspath(p), p.is_dir()) for p in found)
        records.append(("glob", (os.fspath(base), pattern), listing))
    return found


def reads_unchanged(records: Sequence[ReadRecord]) -> bool:
    """Whether every file and listing in ``records`` is as it was when recorded."""
    for kind, where, signature in records:
        if kind == "file":
            try:
                info = os.stat(where)
            except OSError:
                if signature is not None:
                    return False
                continue
            if signature is None or file_signature(info) != tuple(signature):
                return False
        elif kind == "glob":
            base, pattern = where
            if _glob_signature(Path(base), pattern) != [tuple(item) for item in signature]:
                return False
        else:
            return False
    return True


def open_regular(
    path: str | os.PathLike[str], follow_symlinks: bool = True
) -> tuple[int, os.stat_result]:
    """A descriptor open for reading on ``path`` and its ``fstat``, when it is a
    regular file (opened and checked like :func:`read_regular_file`, which also notes
    the read for the project memo): anything else raises :class:`NotRegularFileError`.
    The caller closes the descriptor."""
    flags = _READ_FLAGS if follow_symlinks else _READ_FLAGS | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotRegularFileError(errno.EINVAL, "not a regular file", os.fspath(path))
    except BaseException:
        os.close(fd)
        raise
    return fd, info


def read_regular_head(path: str | os.PathLike[str], size: int) -> bytes:
    """The first ``size`` bytes of ``path`` when it is a regular file (opened and
    checked like :func:`read_regular_file`)."""
    fd, _ = open_regular(path)
    try:
        return os.read(fd, size)
    finally:
        os.close(fd)


def content_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def detect_encoding(data: bytes) -> tuple[str, bool]:
    """Return (encoding, has_bom) following PEP 263: a BOM or a coding cookie on one of
    the first two lines; UTF-8 otherwise."""
    has_bom = data.startswith(codecs.BOM_UTF8)
    if has_bom:
        data = data[len(codecs.BOM_UTF8) :]
    lines = data.split(b"\n", 2)
    for index, line in enumerate(lines[:2]):
        match = _COOKIE.match(line)
        if match:
            name = match.group(1).decode("ascii", "replace")
            try:
                encoding = codecs.lookup(name).name
            except LookupError:
                raise SourceError(
                    f"unknown encoding {name!r} in coding cookie", index + 1
                ) from None
            if has_bom and encoding != "utf-8":
                raise SourceError(f"UTF-8 BOM contradicts coding cookie {name!r}", index + 1)
            return encoding, has_bom
        # The cookie may only be on line 2 when line 1 is blank or a comment.
        if not _BLANK_OR_COMMENT.match(line):
            break
    return "utf-8", has_bom


def decode_source(data: bytes) -> SourceText:
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise SourceError("file contains NUL bytes (binary file?)", line)
    encoding, has_bom = detect_encoding(data)
    body = data[len(codecs.BOM_UTF8) :] if has_bom else data
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as exc:
        line = body[: exc.start].count(b"\n") + 1
        col = exc.start - (body.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SourceError(
            f"cannot decode as {encoding}: {exc.reason} (byte 0x{body[exc.start]:02x})", line, col
        ) from None
    return SourceText(text=text, encoding=encoding, has_bom=has_bom, digest=content_digest(data))


HEAD_BYTES = 2048
