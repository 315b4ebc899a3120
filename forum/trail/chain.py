"""The hash rule of docs/trail.md, with no dependency on the database or Flask.

hash = sha256( prev_hash + canonical_json({seq, at, actor, kind, subject, data}) ), lowercase hex,
where canonical JSON has sorted keys, separators "," and ":", and no ASCII escaping. This module is
what `forum trail verify --file` uses, so an export can be checked without the server.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.encoder import encode_basestring as _json_string  # what json.dumps uses for a str

GENESIS_HASH = "0" * 64
LINK_FIELDS = ("seq", "at", "actor", "kind", "subject", "data")


def canonical_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def format_at(moment: datetime) -> str:
    """UTC, ISO 8601 with microseconds and a trailing Z."""
    if moment.tzinfo is None:
        raise ValueError("event times must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def link_hash(prev_hash: str, seq: int, at: str, actor: str, kind: str, subject: str, data: object) -> str:
    body = canonical_json(
        {"seq": seq, "at": at, "actor": actor, "kind": kind, "subject": subject, "data": data}
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def link_body(seq: int, at: str, actor: str, kind: str, subject: str, data_json: str) -> str:
    """The canonical JSON of {seq, at, actor, kind, subject, data} spliced together from
    ``data_json``, the data's canonical JSON text as stored, without parsing it.

    It equals ``canonical_json`` of the parsed object whenever ``data_json`` is canonical (the
    keys of the link object are written in sorted order). Checking a stored hash against this
    body is sound: the string fields are JSON string tokens that cannot contain an unescaped
    quote, so a body with a matching SHA-256 can only be cut into these six fields one way,
    and ``data_json`` must be byte for byte the text that was hashed. A stored data text that
    is valid but not canonical fails the check, which is right: record() stores canonical text.
    """
    if type(seq) is not int:  # a bool or float would be written differently by json.dumps
        raise TypeError("seq must be an int")
    return (
        '{"actor":' + _json_string(actor) + ',"at":' + _json_string(at) + ',"data":' + data_json
        + ',"kind":' + _json_string(kind) + ',"seq":' + str(seq) + ',"subject":'
        + _json_string(subject) + "}"
    )


@dataclass
class CheckpointCheck:
    """Whether the chain still holds a recorded checkpoint: ``seq`` with ``hash``."""

    seq: int
    hash: str
    # "ok", "mismatch" (another hash at that seq), "missing" (the chain ends before that seq:
    # the newest events were cut off) or "unchecked" (the chain is broken before that seq).
    status: str = "unchecked"
    found_hash: str | None = None
    label: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def describe(self) -> str:
        if self.status == "ok":
            return f"the chain still holds seq {self.seq} with this hash"
        if self.status == "mismatch":
            return (f"seq {self.seq} now has hash {self.found_hash}, not the recorded one: "
                    "the chain was rewritten up to this point")
        if self.status == "missing":
            return (f"the chain ends before seq {self.seq}: events recorded before this "
                    "checkpoint are gone (the trail was cut short)")
        return "not checked: the chain is broken before this seq"


@dataclass
class Verification:
    count: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    first_bad_seq: int | None = None
    problem: str = ""
    checkpoints: list[CheckpointCheck] = field(default_factory=list)

    @property
    def chain_ok(self) -> bool:
        """Every link is intact (whatever the checkpoints say)."""
        return self.first_bad_seq is None

    @property
    def checkpoints_ok(self) -> bool:
        return all(check.ok for check in self.checkpoints)

    @property
    def ok(self) -> bool:
        return self.chain_ok and self.checkpoints_ok

    @property
    def failed_checkpoints(self) -> list[CheckpointCheck]:
        return [check for check in self.checkpoints if not check.ok]


@dataclass(frozen=True)
class UnreadableLink:
    """Stands in for a link that could not be read (a line of an export that is not JSON, a
    mapping with a field missing): verification stops there, naming ``seq`` when it is known,
    else the seq that was expected."""

    problem: str
    seq: int | None = None


def verify_links(links: Iterable[Mapping | UnreadableLink],
                 checkpoints: Iterable[CheckpointCheck] = ()) -> Verification:
    """Check a sequence of links (mappings with the six link fields plus prev_hash and hash).

    Stops at the first broken link and reports its seq and what is wrong with it; then tells
    for each checkpoint whether the chain still holds its seq with its hash.
    """
    return verify_stored(map(_row_of, links), checkpoints)


def _row_of(link: Mapping | UnreadableLink) -> tuple | UnreadableLink:
    """A link as a stored row, its data written as canonical JSON text."""
    if isinstance(link, UnreadableLink):
        return link
    seq = link.get("seq")
    known = seq if type(seq) is int else None
    missing = [f for f in (*LINK_FIELDS, "prev_hash", "hash") if f not in link]
    if missing:
        return UnreadableLink(f"missing field(s): {', '.join(missing)}", known)
    try:
        data_json = canonical_json(link["data"])
    except (TypeError, ValueError) as exc:
        return UnreadableLink(f"the data cannot be written as JSON ({exc})", known)
    return (seq, link["at"], link["actor"], link["kind"], link["subject"], data_json,
            link["prev_hash"], link["hash"])


def verify_stored(
    rows: Iterable[tuple | UnreadableLink], checkpoints: Iterable[CheckpointCheck] = (),
    at_text: Callable[[object], str] | None = None,
) -> Verification:
    """Check stored rows ``(seq, at, actor, kind, subject, data_json, prev_hash, hash)``, where
    ``data_json`` is the data's canonical JSON text as stored and ``at`` the ISO text of the
    hash rule (or a stored value that ``at_text`` turns into it). The body is spliced as in
    ``link_body``, not parsed and re-encoded: this loop is what verifying a million events
    costs, so it is written out flat.
    """
    result = Verification(checkpoints=[
        CheckpointCheck(c.seq, c.hash, label=c.label) for c in checkpoints
    ])
    pending: dict[int, list[CheckpointCheck]] = {}
    for check in result.checkpoints:
        pending.setdefault(check.seq, []).append(check)
    sha256, string = hashlib.sha256, _json_string
    expected_prev, expected_seq = GENESIS_HASH, 1
    for row in rows:
        if row.__class__ is UnreadableLink:
            bad_seq, problem = row.seq or expected_seq, row.problem
        else:
            seq, at, actor, kind, subject, data_json, prev_hash, digest = row
            if seq == expected_seq and seq.__class__ is int and prev_hash == expected_prev:
                try:
                    body = (
                        '{"actor":' + string(actor) + ',"at":' + string(at_text(at) if at_text else at)
                        + ',"data":' + data_json + ',"kind":' + string(kind) + ',"seq":' + str(seq)
                        + ',"subject":' + string(subject) + "}"
                    )
                except (TypeError, ValueError) as exc:  # a NULL or a wrong type where text belongs
                    problem = f"a field has no value or the wrong type ({exc})"
                else:
                    if sha256((prev_hash + body).encode("utf-8")).hexdigest() == digest:
                        if pending and seq in pending:
                            for check in pending.pop(seq):
                                check.found_hash = digest
                                check.status = "ok" if digest == check.hash else "mismatch"
                        expected_prev = digest
                        expected_seq += 1
                        continue
                    problem = "hash does not match the event's content (the event was altered)"
            elif seq != expected_seq or seq.__class__ is not int:
                problem = f"expected seq {expected_seq}, found {seq!r} (a gap or reordering)"
            else:
                problem = "prev_hash does not match the previous event's hash"
            bad_seq = seq if seq.__class__ is int else expected_seq
        result.first_bad_seq, result.problem = bad_seq, problem
        break
    result.count = expected_seq - 1
    if result.count:
        result.head_seq, result.head_hash = result.count, expected_prev
    for checks in pending.values():
        for check in checks:
            check.status = "unchecked" if result.first_bad_seq is not None else "missing"
    return result


def parse_checkpoint(text: str) -> CheckpointCheck:
    """``SEQ:HASH`` (as printed by `forum trail checkpoint`) as a checkpoint to check."""
    seq_text, sep, digest = text.strip().partition(":")
    digest = digest.strip().lower()
    if not sep or not seq_text.strip().isdigit() or int(seq_text) < 1:
        raise ValueError(f"{text!r} is not SEQ:HASH (a positive seq, a colon, a 64-digit hash)")
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError(f"{text!r}: the hash must be 64 hexadecimal digits")
    return CheckpointCheck(int(seq_text), digest, label="given")
