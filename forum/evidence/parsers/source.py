"""The file being parsed, and the limits on its size."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO


@dataclass(frozen=True)
class Limits:
    """Size limits: the upload itself, and what an archive may unpack to."""

    max_bytes: int = 20 * 1024 * 1024
    max_unpacked_bytes: int = 200 * 1024 * 1024


PIECE = 1 << 20  # bytes read at a time from a file


class Source:
    """The file being parsed: bytes in memory, or a seekable binary file (an upload spooled to
    disk) that is read a piece at a time and never held whole — except by the formats that are
    small however many cases they hold (CSV, JUnit XML) and on the error paths that quote a
    line and column (malformed JSON is read whole by the json module, as before).

    Every read says where it starts (``seek`` + ``read``), so several readers may take turns."""

    def __init__(self, data: bytes | BinaryIO):
        if isinstance(data, bytes | bytearray | memoryview):
            self.data: bytes | None = bytes(data) if not isinstance(data, bytes) else data
            self.file = None
            self.size = len(self.data)
        else:
            self.data, self.file = None, data
            self.size = data.seek(0, io.SEEK_END)

    def read(self, offset: int, length: int | None = None) -> bytes:
        """``length`` bytes from ``offset`` (to the end when None)."""
        end = self.size if length is None else min(self.size, offset + length)
        if self.data is not None:
            return self.data[offset:end]
        self.file.seek(offset)
        return self.file.read(max(0, end - offset))

    def pieces(self, start: int = 0, size: int = PIECE) -> Iterator[bytes]:
        """The bytes from ``start`` on, ``size`` at a time (memoryview slices of in-memory data)."""
        if self.data is not None:
            view = memoryview(self.data)
            for offset in range(start, self.size, size):
                yield view[offset:offset + size]
            return
        for offset in range(start, self.size, size):
            yield self.read(offset, size)

    def open(self) -> BinaryIO:
        """A file object over the whole file, at its start (for zipfile and line reading)."""
        if self.data is not None:
            return io.BytesIO(self.data)
        self.file.seek(0)
        return self.file

    def first_non_space(self, start: int = 0) -> int | None:
        """The offset of the first byte from ``start`` on that is not white space, or None."""
        if self.data is not None:
            found = NOT_SPACE.search(self.data, start)
            return found.start() if found is not None else None
        offset = start
        for piece in self.pieces(start):
            found = NOT_SPACE.search(piece)
            if found is not None:
                return offset + found.start()
            offset += len(piece)
        return None

    def find(self, needle: bytes, start: int = 0) -> int:
        """The offset of the first ``needle`` (one byte) from ``start`` on, or -1."""
        if self.data is not None:
            return self.data.find(needle, start)
        offset = start
        for piece in self.pieces(start):
            at = piece.find(needle)
            if at >= 0:
                return offset + at
            offset += len(piece)
        return -1


NOT_SPACE = re.compile(rb"\S")
