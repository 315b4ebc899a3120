"""JSON read safely: refused when nested too deeply or not UTF-8 (checked a slice at a time, at C
speed, before any parser builds a tree), then loaded with errors that name the line and column;
JSON Lines one object at a time."""

from __future__ import annotations

import codecs
import io
import json
import operator
import re
from collections.abc import Iterable, Iterator
from itertools import accumulate, repeat
from typing import BinaryIO

from forum.evidence.parsers.result import ParseError

MAX_JSON_DEPTH = 64

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
