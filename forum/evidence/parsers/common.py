"""What every parser produces (ParsedRun), the one error they raise (ParseError), and the
helpers they share: counting rows into totals and tags, edge-case markers, safe JSON loading,
truncation of case text.

Counting conventions (described in docs/evidence.md):
- a *row* is one result record (a promptfoo result, an inspect sample-epoch, a JUnit testcase,
  an lm-eval sample line, a CSV line);
- status is one of passed / failed / errored / skipped;
- a row is counted once under each of its tags; a row without tags counts under ``(none)``;
- pass rate = passed / (passed + failed + errored): skipped rows do not count either way.

Edge-case markers (a row is an edge case when ANY of these holds; it counts once):
- a tag equal to ``edge-case`` (also ``edge_case``, ``edgecase``; case-insensitive);
- promptfoo ``metadata.difficulty == "edge"``;
- a ``category`` of ``edge-case`` (JUnit testcase property, CSV column).
"""

from __future__ import annotations

import codecs
import io
import json
import math
import operator
import re
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from typing import BinaryIO
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import accumulate, repeat

import zstandard

STATUSES = ("passed", "failed", "errored", "skipped")
NO_TAG = "(none)"
EDGE_TAGS = frozenset({"edge-case", "edge_case", "edgecase"})
MAX_FAILING_CASES = 20
MAX_CASE_TEXT = 2000  # characters kept of each input / expected / output / reason
MAX_TAGS = 200  # distinct tags kept in the breakdown; the rest are folded into "(other tags)"
MAX_JSON_DEPTH = 64


class ParseError(ValueError):
    """The file cannot be read as evidence. ``where`` names the line, key or member at fault."""

    status = 400

    def __init__(self, message: str, where: str | None = None):
        super().__init__(f"{message} ({where})" if where else message)
        self.message = message
        self.where = where


class UnknownFormat(ParseError):
    """The content is none of the supported formats (pages answer 400, the API 415)."""


class TooLarge(ParseError):
    status = 413


@dataclass(frozen=True)
class Limits:
    """Size limits: the upload itself, and what an archive may unpack to."""

    max_bytes: int = 20 * 1024 * 1024
    max_unpacked_bytes: int = 200 * 1024 * 1024


@dataclass
class ParsedRun:
    format: str
    suite: str = ""
    model_id: str = ""
    model_version: str = ""
    run_at: datetime | None = None
    passed: int = 0
    failed: int = 0
    errored: int = 0
    skipped: int = 0
    tags: dict[str, dict[str, int]] = field(default_factory=dict)
    edge_total: int = 0
    edge_passed: int = 0
    edge_skipped: int = 0
    metrics: dict[str, float | None] = field(default_factory=dict)
    failing_cases: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.errored + self.skipped

    @property
    def pass_rate(self) -> float | None:
        return rate(self.passed, self.passed + self.failed + self.errored)

    @property
    def edge_pass_rate(self) -> float | None:
        return rate(self.edge_passed, self.edge_total - self.edge_skipped)


def rate(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator > 0 else None


class Tally:
    """Counts rows as a parser walks them; keeps the first failing cases."""

    def __init__(self):
        self.counts = dict.fromkeys(STATUSES, 0)
        self.tags: dict[str, dict[str, int]] = {}
        self.edge = dict.fromkeys(STATUSES, 0)
        self.failing: list[dict] = []

    def add(self, status: str, tags: Iterable[str] = (), edge: bool = False, case=None) -> None:
        """Count one row. ``case`` is a dict or a zero-argument callable returning one, called
        only while fewer than MAX_FAILING_CASES failing cases are kept."""
        self.counts[status] += 1
        seen = False
        for tag in tags:
            seen = True
            bucket = self.tags.get(tag)
            if bucket is None:
                bucket = self.tags[tag] = dict.fromkeys(STATUSES, 0)
            bucket[status] += 1
        if not seen:
            bucket = self.tags.get(NO_TAG)
            if bucket is None:
                bucket = self.tags[NO_TAG] = dict.fromkeys(STATUSES, 0)
            bucket[status] += 1
        if edge:
            self.edge[status] += 1
        if status in ("failed", "errored") and case is not None and len(self.failing) < MAX_FAILING_CASES:
            details = case() if callable(case) else case
            self.failing.append(failing_case(status=status, tags=list(tags), edge=edge, **details))

    def into(self, run: ParsedRun) -> ParsedRun:
        run.passed, run.failed = self.counts["passed"], self.counts["failed"]
        run.errored, run.skipped = self.counts["errored"], self.counts["skipped"]
        run.tags = _fold_tags(self.tags)
        run.edge_total = sum(self.edge.values())
        run.edge_passed = self.edge["passed"]
        run.edge_skipped = self.edge["skipped"]
        run.failing_cases = self.failing
        return run


def _fold_tags(tags: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    if len(tags) <= MAX_TAGS:
        return dict(sorted(tags.items()))
    ranked = sorted(tags.items(), key=lambda kv: -sum(kv[1].values()))
    kept = dict(ranked[:MAX_TAGS - 1])
    other = dict.fromkeys(STATUSES, 0)
    for _tag, counts in ranked[MAX_TAGS - 1:]:
        for status in STATUSES:
            other[status] += counts[status]
    kept["(other tags)"] = other
    return dict(sorted(kept.items()))


def is_edge_tag(tag: str) -> bool:
    return tag.strip().lower() in EDGE_TAGS


def clean_tags(raw) -> list[str]:
    """Tags from a list (or a single string) of tag names, trimmed, without empties/duplicates."""
    if raw is None:
        return []
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list | tuple):
        return []
    out: list[str] = []
    for tag in raw:
        if isinstance(tag, str | int | float) and not isinstance(tag, bool):
            text = str(tag).strip()[:80]
            if text and text not in out:
                out.append(text)
    return out


def truncate(value, limit: int = MAX_CASE_TEXT) -> str:
    """Any value as text of at most ``limit`` characters (JSON for structures)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        try:
            value = json.dumps(value, ensure_ascii=False, default=str)
        except (ValueError, RecursionError):
            value = "(a value that cannot be shown)"
    if len(value) > limit:
        return value[:limit] + "…"
    return value


def failing_case(status: str, tags: list[str], edge: bool, id="", input=None, expected=None,
                 output=None, reason=None) -> dict:
    return {
        "id": truncate(id, 200), "status": status, "tags": tags[:20], "edge": edge,
        "input": truncate(input), "expected": truncate(expected), "output": truncate(output),
        "reason": truncate(reason),
    }


def finite(value) -> float | None:
    """A metric value as a finite float, or None (NaN, infinities, strings such as "N/A")."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def count(value, where: str, required: bool = True) -> int | None:
    """A count from the file: a whole number ≥ 0; NaN, negatives and non-numbers are refused."""
    if value is None and not required:
        return None
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        value = int(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParseError(f"{value!r} is not a count (a whole number of 0 or more)", where)
    if value < 0:
        raise ParseError(f"the count {value} is negative", where)
    return value


def parse_time(value) -> datetime | None:
    """An ISO 8601 string or a Unix timestamp as an aware UTC datetime; None when absent or
    unreadable (the run time is informative: a bad one is not worth refusing the file)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        if isinstance(value, int | float):
            if not math.isfinite(value):
                return None
            return datetime.fromtimestamp(value, UTC)
        text = str(value).strip()
        if not text:
            return None
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        parsed = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def text_of(value, limit: int = 200) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value).strip()[:limit]


# --------------------------------------------------------------------------- the file itself
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
            found = _NOT_SPACE.search(self.data, start)
            return found.start() if found is not None else None
        offset = start
        for piece in self.pieces(start):
            found = _NOT_SPACE.search(piece)
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


_NOT_SPACE = re.compile(rb"\S")


# --------------------------------------------------------------------------- JSON loading
_STRING = re.compile(rb'"[^"]*"')
_KEEP = bytes(b for b in range(256) if b not in b'"[]{}')
_DEPTH_STEP = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")
_ONE_KIND = bytes.maketrans(b"{}", b"[]")


def check_depth(data, where: str = "", limit: int = MAX_JSON_DEPTH, start: int = 0,
                utf8_errors: list[int] | None = None) -> None:
    """Refuse JSON nested deeper than ``limit`` (brackets inside strings do not count); ``data``
    is the JSON itself, a Source holding it from ``start`` on, or a zip Member.

    With ``utf8_errors`` (a list), the text is also checked to be UTF-8 in the same pass over
    the file: the offset of the first byte that is not is appended to the list and the depth is
    not judged (the caller refuses the file as not UTF-8 first).

    Runs at C speed and in little memory: escape sequences are dropped (a slice of the file
    at a time), everything but quotes and brackets deleted, what remains of the
    strings removed, then empty bracket pairs removed pass after pass; what is left after
    ``limit`` passes is measured with itertools.accumulate.
    """
    slices = _slices(data, start)
    if utf8_errors is not None:
        slices = _utf8_checked(slices, utf8_errors)
    reduced = b"".join(_structure(chunk) for chunk in _whole_escapes(slices))
    if utf8_errors:
        return
    # Strings are now quotes around bracket characters, nearly always nothing: drop empty pairs
    # first (removing a closing quote with the next opening one merges two strings, harmlessly),
    # then the few strings that hold brackets.
    reduced = reduced.replace(b'""', b"")
    if b'"' in reduced:
        reduced = _STRING.sub(b"", reduced)
    # Each pass removes the innermost (empty) pairs: a well-formed document of depth d is gone
    # after d passes, each a C-speed replace over an ever shorter string.
    brackets = reduced.translate(_ONE_KIND)
    passes = 0
    while brackets and passes < limit:
        shorter = brackets.replace(b"[]", b"")
        if len(shorter) == len(brackets):
            break  # unbalanced brackets: measured below
        brackets, passes = shorter, passes + 1
    if not brackets:
        return
    steps = brackets.translate(_DEPTH_STEP)
    deepest = passes + max(accumulate(map(operator.sub, steps, repeat(1))))
    if deepest > limit:
        line = _line_of_depth(_slices(data, start), limit)
        place = f"{where}line {line}" if line else where.rstrip(", ") or None
        raise ParseError(f"the JSON is nested more than {limit} levels deep", place)


_DEPTH_CHUNK = 8 << 20


def _slices(data, start: int = 0) -> Iterator:
    """The JSON a slice of about _DEPTH_CHUNK bytes at a time (memory stays at one slice):
    ``data`` is bytes, or a Source or zip Member (anything with ``pieces``)."""
    if hasattr(data, "pieces"):
        yield from data.pieces(start, _DEPTH_CHUNK)
        return
    view = memoryview(data)
    for offset in range(0, len(data), _DEPTH_CHUNK):
        yield view[offset:offset + _DEPTH_CHUNK]


def utf8_error(pieces: Iterable) -> int | None:
    """Offset of the first byte that is not UTF-8, checked a piece at a time (no copy of the file)."""
    found: list[int] = []
    for _piece in _utf8_checked(pieces, found):
        pass
    return found[0] if found else None


def _utf8_checked(pieces: Iterable, errors: list[int]) -> Iterator:
    """The pieces, passed on while they are UTF-8; on the first byte that is not, its offset is
    appended to ``errors`` and the pieces end."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    for piece in pieces:
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(piece)
        except UnicodeDecodeError as exc:
            errors.append(offset - pending + exc.start)
            return
        offset += len(piece)
        yield piece
    pending = len(decoder.getstate()[0])
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        errors.append(offset - pending + exc.start)


def _whole_escapes(slices: Iterable) -> Iterator:
    """The slices again, none ending in a backslash (those move to the next slice), so that no
    escape sequence is split and each slice can be reduced alone."""
    carry = b""
    for piece in slices:
        if carry:
            piece = carry + bytes(piece)
        cut = len(piece)
        while cut and piece[cut - 1] == 0x5C:
            cut -= 1
        carry = bytes(piece[cut:])
        yield piece[:cut]
    if carry:
        yield carry


_ESCAPE = re.compile(rb"\\.", re.DOTALL)


def _structure(chunk) -> bytes:
    """Quotes and brackets of ``chunk``, escape sequences (``\\"``, ``\\\\``, ``\\n``…) dropped first."""
    # One regular-expression pass over the escapes is twice as fast as two bytes.replace passes
    # (which scan the whole slice even when nothing matches). Dropping adjacent quotes here
    # already (see check_depth) keeps the joined result small.
    return _ESCAPE.sub(b"", chunk).translate(None, _KEEP).replace(b'""', b"")


def _line_of_depth(slices: Iterable, limit: int) -> int | None:
    depth, line, in_string, escape = 0, 1, False, False
    for piece in slices:
        for byte in bytes(piece):
            if in_string:
                if escape:
                    escape = False
                elif byte == 0x5C:
                    escape = True
                elif byte == 0x22:
                    in_string = False
            elif byte == 0x22:
                in_string = True
            elif byte in (0x5B, 0x7B):
                depth += 1
                if depth > limit:
                    return line
            elif byte in (0x5D, 0x7D):
                depth -= 1
            if byte == 0x0A:
                line += 1
    return None


def load_json(data: bytes | str, where: str = "", first_line: int = 1, depth_checked: bool = False):
    """Parse a JSON document (after the depth check). NaN and Infinity tokens are accepted,
    as Python writes them; parsers treat them as missing values or refuse them as counts.
    ``first_line`` is the line number of the document's first line in the file (JSON Lines)."""
    if not depth_checked:
        check_depth(data.encode("utf-8") if isinstance(data, str) else data, where)
    try:
        return json.loads(data)
    except json.JSONDecodeError as exc:
        raise ParseError(f"malformed JSON: {exc.msg}",
                         f"{where}line {exc.lineno + first_line - 1}, column {exc.colno}") from exc
    except RecursionError as exc:  # pragma: no cover - check_depth stops this first
        raise ParseError("the JSON is nested too deeply", where.rstrip(", ") or None) from exc
    except UnicodeDecodeError as exc:
        raise ParseError("the file is not UTF-8 text", f"{where}byte {exc.start}") from exc


def dig(obj, *keys):
    """obj[k1][k2]… or None when any step is missing or not a mapping."""
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def json_lines(body: bytes | BinaryIO, where: str = "") -> Iterator[tuple[int, dict]]:
    """The objects of a JSON Lines file (its bytes, or a binary file at its first line) with
    their line numbers, one at a time."""
    lines = io.BytesIO(body) if isinstance(body, bytes) else body
    for number, line in enumerate(lines, start=1):
        line = line.rstrip(b"\r\n")
        if not line.strip():
            continue
        row = load_json(line, where, first_line=number, depth_checked=True)
        if not isinstance(row, dict):
            raise ParseError("each line of a JSON Lines file must be a JSON object", f"{where}line {number}")
        yield number, row


# --------------------------------------------------------------------------- zip members
ZIP_STORED, ZIP_DEFLATED, ZIP_ZSTANDARD = 0, 8, 93


def zip_members(data: bytes | Source) -> dict[str, zipfile.ZipInfo]:
    """The members of a zip archive by name (read from its directory, nothing unpacked)."""
    try:
        archive = zipfile.ZipFile(data.open() if isinstance(data, Source) else io.BytesIO(data))
        return {info.filename: info for info in archive.infolist() if not info.is_dir()}
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
            found = _NOT_SPACE.search(piece)
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
