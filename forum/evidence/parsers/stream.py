"""Streaming JSON with ijson: a result file's per-case rows are read one at a time, never as one
tree, so that a large promptfoo or inspect_ai file costs its bytes plus one row of memory.

Two passes over the bytes:
1. ``skeleton`` builds the document with the large per-case arrays (promptfoo's
   ``results.results``, inspect's ``samples``) left empty, so that detection and the header
   (suite, model, stats, scorers…) read a small tree whatever the order of its keys;
2. ``items`` then yields the rows of the array the detected format needs, one by one.

The backend is ijson's C extension (``yajl2_c``) when it is installed — ijson's wheels ship it —
and otherwise the best one ijson finds (cffi, ctypes, then pure Python: slower, same results).
yajl refuses the bare ``NaN`` / ``Infinity`` tokens that Python's json writes (lm-eval does) and
reports malformed JSON differently from the json module: on any such refusal ``NotStreamable``
is raised and the caller reads the file whole with ``common.load_json`` instead, which accepts
those tokens and says what is wrong and where (line, column) as before.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import ijson


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


def skeleton(data: bytes, arrays: frozenset[str]) -> tuple[object, set[str]]:
    """The JSON document in ``data`` with every array found at one of the ``arrays`` prefixes
    (ijson's dotted paths, e.g. ``results.results``) replaced by an empty list; also which of
    those prefixes held an array. The skipped rows are tokenised, not built."""
    builder = ijson.ObjectBuilder()
    found: set[str] = set()
    events = backend.parse(io.BytesIO(data), use_float=True)
    try:
        for prefix, event, value in events:
            if event == "start_array" and prefix in arrays:
                found.add(prefix)
                end = (prefix, "end_array", None)
                for skipped in events:
                    if skipped == end:
                        break
                builder.event("start_array", None)
                builder.event("end_array", None)
                continue
            builder.event(event, value)
    except _ERRORS as exc:
        raise NotStreamable(str(exc)) from exc
    if not hasattr(builder, "value"):
        raise NotStreamable("no JSON value")
    return builder.value, found


def items(data: bytes, prefix: str) -> Iterator:
    """The values at ``prefix`` (e.g. ``samples.item``), built one at a time."""
    try:
        yield from backend.items(io.BytesIO(data), prefix, use_float=True)
    except _ERRORS as exc:
        raise NotStreamable(str(exc)) from exc
