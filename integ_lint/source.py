"""Reading a source file: bytes -> text per PEP 263, with clear errors for bad input."""

from __future__ import annotations

import codecs
import hashlib
import re
from dataclasses import dataclass

_COOKIE = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
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
