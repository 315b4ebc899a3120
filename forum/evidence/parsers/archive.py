"""Zip archives (inspect_ai ``.eval`` logs, lm-eval bundles): the member list from the directory,
and members unpacked by hand (stored, deflate or zstandard) a piece at a time, the total unpacked
size capped by Limits.max_unpacked_bytes."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Iterator
from typing import BinaryIO

import zstandard

from forum.evidence.parsers.result import ParseError, TooLarge
from forum.evidence.parsers.safe_json import load_json
from forum.evidence.parsers.source import NOT_SPACE, PIECE, Limits, Source

ZIP_STORED, ZIP_DEFLATED, ZIP_ZSTANDARD = 0, 8, 93


def zip_members(data: bytes | Source) -> dict[str, zipfile.ZipInfo]:
    """The members of a zip archive by name (read from its directory, nothing unpacked)."""
    try:
        archive = zipfile.ZipFile(data.open() if isinstance(data, Source) else io.BytesIO(data))
        # An entry without a name is nothing a tool wrote: left out (is_dir() cannot read it).
        return {info.filename: info for info in archive.infolist() if info.filename and not info.is_dir()}
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise ParseError(f"the file is not a readable zip archive: {exc}") from exc


class MemberReader:
    """Reads zip members by hand (zipfile has no method 93), capping the total unpacked size."""

    def __init__(self, data: bytes | Source, limits: Limits):
        self.source = data if isinstance(data, Source) else Source(data)
        self.left = limits.max_unpacked_bytes
        self.limit = limits.max_unpacked_bytes

    def json(self, info: zipfile.ZipInfo):
        return load_json(self.read(info), f"zip member {info.filename}, ")

    def read(self, info: zipfile.ZipInfo) -> bytes:
        """The member, unpacked whole (counted against the cap)."""
        out = b"".join(self.pieces(info))
        self.left -= len(out)
        return out

    def member(self, info: zipfile.ZipInfo) -> Member:
        """The member as something to read a piece at a time, as often as needed (each read
        unpacks it again); counted against the cap once, by ``charge``."""
        return Member(self, info)

    def pieces(self, info: zipfile.ZipInfo, size: int = PIECE, left: int | None = None) -> Iterator[bytes]:
        """The member unpacked ``size`` bytes at a time; TooLarge once it passes ``left`` (what
        is left of the cap by default). Nothing is counted here: see read and Member."""
        left = self.left if left is None else left
        where = f"zip member {info.filename}"
        raw = self._packed(info, where)
        made = 0
        try:
            if info.compress_type == ZIP_STORED:
                parts = (raw[at:at + size] for at in range(0, len(raw), size))
            elif info.compress_type == ZIP_DEFLATED:
                parts = _inflated(raw, size)
            elif info.compress_type == ZIP_ZSTANDARD:
                parts = _unzstd(raw, size)
            else:
                raise ParseError(f"unsupported zip compression method {info.compress_type}", where)
            for part in parts:
                made += len(part)
                if made > left:
                    raise TooLarge(
                        f"the archive unpacks to more than the {self.limit // (1024 * 1024)} MB allowed", where
                    )
                yield part
        except (zlib.error, zstandard.ZstdError) as exc:
            raise ParseError(f"the member cannot be decompressed: {exc}", where) from exc

    def _packed(self, info: zipfile.ZipInfo, where: str) -> bytes:
        if info.flag_bits & 0x1:
            raise ParseError("the archive member is encrypted", where)
        offset = info.header_offset
        head = self.source.read(offset, 30)
        if len(head) < 30 or head[:4] != b"PK\x03\x04":
            raise ParseError("the zip archive is damaged (bad local header)", where)
        name_len, extra_len = struct.unpack("<HH", head[26:30])
        start = offset + 30 + name_len + extra_len
        raw = self.source.read(start, info.compress_size)
        if len(raw) != info.compress_size:
            raise ParseError("the zip archive is truncated", where)
        return raw


class Member:
    """One zip member, unpacked a piece at a time whenever it is read (see MemberReader.member)."""

    def __init__(self, reader: MemberReader, info: zipfile.ZipInfo):
        self.reader, self.info = reader, info
        self.left = reader.left  # every read is held to what was left before the first
        self.size = 0

    def pieces(self, start: int = 0, size: int = PIECE) -> Iterator[bytes]:
        """The unpacked bytes (from the start: ``start`` is always 0)."""
        made = 0
        for piece in self.reader.pieces(self.info, size, self.left):
            made += len(piece)
            yield piece
        self.size = made

    def charge(self) -> None:
        """Count the member against the archive's cap, once it has been read through."""
        self.reader.left -= self.size

    def first_byte(self) -> bytes:
        for piece in self.pieces():
            found = NOT_SPACE.search(piece)
            if found is not None:
                return piece[found.start():found.start() + 1]
        return b""

    def read(self) -> bytes:
        return b"".join(self.pieces())

    def file(self) -> BinaryIO:
        return io.BufferedReader(_PiecesFile(self.pieces()), PIECE)


class _PiecesFile(io.RawIOBase):
    """A read-only file over an iterator of byte pieces."""

    def __init__(self, pieces: Iterator[bytes]):
        super().__init__()
        self.pieces, self.rest = pieces, b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self.rest:
            self.rest = next(self.pieces, None)
            if self.rest is None:
                self.rest = b""
                return 0
        size = min(len(buffer), len(self.rest))
        buffer[:size] = self.rest[:size]
        self.rest = self.rest[size:]
        return size


def _inflated(raw: bytes, size: int) -> Iterator[bytes]:
    inflater = zlib.decompressobj(-15)
    data = raw
    while data:
        part = inflater.decompress(data, size)
        data = inflater.unconsumed_tail
        if part:
            yield part
        elif not data:
            break
    rest = inflater.flush()
    if rest:
        yield rest


def _unzstd(raw: bytes, size: int) -> Iterator[bytes]:
    with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw)) as stream:
        while part := stream.read(size):
            yield part
