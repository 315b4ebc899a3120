"""Streaming JSON: a result file's per-case rows are read one at a time, never as one tree, so
that a large promptfoo or inspect_ai file costs a window of its text plus one row of memory.

``walk`` reads a JSON document in ONE pass. It steps through the top-level object (and the
objects on the way to the row arrays: promptfoo's ``results.results``, inspect's ``samples``)
key by key, decodes every other value whole with the json module's C scanner
(``JSONDecoder.raw_decode``, which says where a value ends), and hands each row array to a
counter as an iterator of rows decoded the same way. The header is whatever is left: small,
whatever the order of its keys — promptfoo writes its header (stats, config) AFTER the rows,
which is why rows are counted before the format is confirmed. Values are exactly what
``json.loads`` gives (NaN and Infinity tokens too). On malformed JSON ``NotStreamable`` is
raised and the caller reads the file whole with ``safe_json.load_json``, which says what is wrong
and where (line, column), as before.

(The json module decodes a 228 MB promptfoo file's rows in 1.3 s of CPU; ijson's C backend
took 1.8 s to build the same rows, and walking ijson's events in Python to separate the header
from the rows 2.7 s more: see docs/BENCHMARKS.md.) ``items`` (ijson) still streams the entries of
an inspect ``.eval`` log's summaries.json.

The ijson backend is its C extension (``yajl2_c``) when it is installed — ijson's wheels ship
it — and otherwise the best one ijson finds (cffi, ctypes, then pure Python: slower, same
results). yajl refuses the bare ``NaN`` / ``Infinity`` tokens and reports malformed JSON
differently from the json module: on any such refusal ``NotStreamable`` is raised and the
caller reads the member whole with ``safe_json.load_json`` instead.
"""

from __future__ import annotations

import codecs
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import BinaryIO

import ijson

from forum.evidence.parsers.result import ParseError


def _pick_backend():
    try:
        return ijson.get_backend("yajl2_c")
    except ImportError:  # no C extension on this platform: ijson's own choice (cffi, ctypes, python)
        return ijson


backend = _pick_backend()
_ERRORS = (ijson.JSONError, UnicodeDecodeError)


class NotStreamable(Exception):
    """ijson refused the bytes (NaN tokens, malformed JSON): read the file whole instead."""


def backend_name() -> str:
    return getattr(backend, "backend_name", None) or getattr(backend, "backend", "unknown")


_WHITESPACE = re.compile(r"[ \t\n\r]*")
_decode_value = json.JSONDecoder().raw_decode
_PIECE = 1 << 20


class _Text:
    """The decoded text of a JSON file, a window at a time: values are decoded by the json
    module's C scanner straight from the window (``raw_decode``, which also says where each one
    ends), and the window slides on as the walk goes, so memory stays at about one window."""

    def __init__(self, pieces: Iterator[bytes]):
        self.pieces = pieces
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.buf, self.pos, self.eof = "", 0, False

    def more(self, at_least: int = _PIECE) -> None:
        """Slide the window: drop what was read, append at least ``at_least`` more characters."""
        added = [self.buf[self.pos:]]
        size = 0
        while size < at_least and not self.eof:
            piece = next(self.pieces, None)
            text = self.decoder.decode(piece or b"", final=piece is None)
            self.eof = piece is None
            added.append(text)
            size += len(text)
        self.buf, self.pos = "".join(added), 0

    def peek(self) -> str:
        """The next character that is not white space ("" at the end), not consumed."""
        while True:
            self.pos = _WHITESPACE.match(self.buf, self.pos).end()
            if self.pos < len(self.buf) or self.eof:
                return self.buf[self.pos:self.pos + 1]
            self.more()

    def take(self, allowed: str) -> str:
        char = self.peek()
        if not char or char not in allowed:
            raise NotStreamable(f"expected one of {allowed!r}")
        self.pos += 1
        return char

    def value(self):
        """The next JSON value, decoded whole (a row, or a header key's value)."""
        self.peek()
        wanted = _PIECE
        while True:
            try:
                value, end = _decode_value(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self.eof:
                    raise NotStreamable(str(exc)) from exc
            except RecursionError as exc:  # check_depth refuses such files before
                raise NotStreamable("nested too deeply") from exc
            else:
                # A value that reaches the window's end may go on (a number cut in two).
                if end < len(self.buf) or self.eof:
                    self.pos = end
                    return value
            # Cut by the window: read on (doubling, so a large value is not rescanned often).
            self.more(wanted)
            wanted *= 2

    def items(self) -> Iterator:
        self.take("[")
        if self.peek() == "]":
            self.pos += 1
            return
        while True:
            yield self.value()
            if self.take(",]") == "]":
                return


RowsHandler = Callable[[tuple[str, ...], Iterator, dict], object]


def walk(pieces: Iterable[bytes], arrays: frozenset[tuple[str, ...]], handle: RowsHandler) -> tuple[object, dict]:
    """One pass over a JSON document given as pieces of its bytes (UTF-8, no BOM).

    Returns the document with every array found at one of the key paths ``arrays`` (e.g.
    ``("results", "results")``) left empty, and for each such path what ``handle(path, rows,
    root)`` returned: ``rows`` yields that array's values one at a time and ``root`` is the
    top-level object as read so far (the keys that come before the array). The handler need not
    consume every row; the rest are read past. A ParseError the handler raises is returned in its
    place, not raised: the caller raises it once the whole document has been read and its format
    known, so that a file which is also malformed further on is still reported as malformed
    (NotStreamable), and rows are only judged by the format they turn out to be.

    NotStreamable: not a JSON object, or malformed — the caller reads it whole with the json module,
    which says what is wrong and where. Values are decoded exactly as ``json.loads`` decodes them
    (NaN and Infinity tokens included)."""
    text = _Text(iter(pieces))
    if text.peek() != "{":
        raise NotStreamable("not a JSON object")
    prefixes = frozenset(path[:n] for path in arrays for n in range(1, len(path)))
    handled: dict = {}
    root: dict = {}

    def read_object(path: tuple[str, ...], into: dict) -> dict:
        text.take("{")
        if text.peek() == "}":
            text.pos += 1
            return into
        while True:
            if text.peek() != '"':
                raise NotStreamable("expected a key")
            key = text.value()
            text.take(":")
            here = path + (key,)
            char = text.peek()
            if here in arrays and char == "[":
                into[key] = []
                rows = text.items()
                try:
                    handled[here] = handle(here, rows, root)
                except ParseError as error:
                    handled[here] = error
                for _rest in rows:
                    pass
            elif here in prefixes and char == "{":
                into[key] = read_object(here, {})
            else:
                into[key] = text.value()
            if text.take(",}") == "}":
                return into

    read_object((), root)
    if text.peek():
        raise NotStreamable("extra data after the document")
    return root, handled


_BLANK = " \t\n\r\x0b\x0c"  # what bytes.strip() strips: a line of only these is skipped


def json_lines(pieces: Iterable[bytes]) -> Iterator[tuple[int, dict]]:
    """The objects of a JSON Lines file with their line numbers, as ``safe_json.json_lines`` reads
    them but faster: a piece of the file is decoded at a time and each line scanned by the C
    scanner straight from the decoded text. On anything it does not expect (a line that is not
    one JSON object, bad UTF-8) it raises NotStreamable: the caller starts again with
    ``safe_json.json_lines``, which says what is wrong and where."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    number, rest = 0, ""
    pieces = iter(pieces)
    while True:
        piece = next(pieces, None)
        try:
            text = rest + decoder.decode(piece or b"", final=piece is None)
        except UnicodeDecodeError as exc:
            raise NotStreamable(str(exc)) from exc
        lines = text.split("\n")
        rest = lines.pop() if piece is not None else ""
        for line in lines:
            number += 1
            if not line.strip(_BLANK):
                continue
            try:
                row, end = _decode_value(line, _WHITESPACE.match(line).end())
            except (json.JSONDecodeError, RecursionError) as exc:
                raise NotStreamable(str(exc)) from exc
            if _WHITESPACE.match(line, end).end() != len(line) or not isinstance(row, dict):
                raise NotStreamable(f"line {number}")
            yield number, row
        if piece is None:
            return


def items(data: bytes | BinaryIO, prefix: str) -> Iterator:
    """The values at ``prefix`` (e.g. ``item``) of the JSON in ``data`` (bytes or a binary
    file), built one at a time."""
    try:
        yield from backend.items(io.BytesIO(data) if isinstance(data, bytes) else data, prefix, use_float=True)
    except _ERRORS as exc:
        raise NotStreamable(str(exc)) from exc
