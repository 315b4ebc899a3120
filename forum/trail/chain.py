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
    # the newest events were cut off), "unchecked" (the chain is broken before that seq) or
    # "left_out" (a filtered export does not hold that seq).
    status: str = "unchecked"
    found_hash: str | None = None
    label: str = ""

    @property
    def ok(self) -> bool:
        """Nothing contradicts it: the chain holds it, or (a filtered export) it was left out."""
        return self.status in ("ok", "left_out")

    def describe(self) -> str:
        if self.status == "ok":
            return f"the chain still holds seq {self.seq} with this hash"
        if self.status == "left_out":
            return f"not checked: seq {self.seq} is not in this filtered export"
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
    # The head the database's head row names, checked like a checkpoint: "missing" means the
    # chain ends before it (its newest events were cut off). None when there is no head row
    # (an export).
    head_row: CheckpointCheck | None = None
    # Signature checks of signed checkpoints (forum.trail.signing.SignatureCheck: anything with
    # ``ok``), the newest signed head the chain still holds, and the public key's id.
    signatures: list = field(default_factory=list)
    newest_signed: object | None = None
    public_key_id: str | None = None
    # A filtered export (``verify_partial``): the seqs left out, in (first, last) runs.
    partial: bool = False
    gaps: list[tuple[int, int]] = field(default_factory=list)
    links_checked: int = 0

    @property
    def chain_ok(self) -> bool:
        """Every link is intact (whatever the checkpoints say)."""
        return self.first_bad_seq is None

    @property
    def checkpoints_ok(self) -> bool:
        return all(check.ok for check in self.checkpoints)

    @property
    def head_row_ok(self) -> bool:
        return self.head_row is None or self.head_row.ok

    @property
    def signatures_ok(self) -> bool:
        return all(check.ok for check in self.signatures)

    @property
    def cut(self) -> bool:
        """The head row names a seq the chain no longer reaches."""
        return self.head_row is not None and self.head_row.status == "missing"

    def describe_head_row(self) -> str:
        row = self.head_row
        if row is None:
            return ""
        if row.status == "ok":
            return f"the chain ends at the head the head row names (seq {row.seq})"
        if row.status == "missing":
            return (f"the head row names seq {row.seq} (hash {row.hash}), but the chain ends at seq "
                    f"{self.head_seq}: the newest {row.seq - self.head_seq} event(s) were cut off")
        if row.status == "mismatch":
            return (f"the head row names seq {row.seq} with hash {row.hash}, but the chain has hash "
                    f"{row.found_hash} there: the chain was rewritten up to its end")
        return "the head row was not checked: the chain is broken before it"

    @property
    def ok(self) -> bool:
        return self.chain_ok and self.checkpoints_ok and self.head_row_ok and self.signatures_ok

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
    at_text: Callable[[object], str] | None = None, head_row: tuple[int, str] | None = None,
) -> Verification:
    """Check stored rows ``(seq, at, actor, kind, subject, data_json, prev_hash, hash)``, where
    ``data_json`` is the data's canonical JSON text as stored and ``at`` the ISO text of the
    hash rule (or a stored value that ``at_text`` turns into it). The body is spliced as in
    ``link_body``, not parsed and re-encoded: this loop is what verifying a million events
    costs, so it is written out flat.

    ``head_row`` is the (seq, hash) the database's head row names, read before the rows: the
    chain must still hold it, or its newest events were cut off (or rewritten).
    """
    result = Verification(checkpoints=[
        CheckpointCheck(c.seq, c.hash, label=c.label) for c in checkpoints
    ])
    pending: dict[int, list[CheckpointCheck]] = {}
    for check in result.checkpoints:
        pending.setdefault(check.seq, []).append(check)
    if head_row is not None:
        result.head_row = CheckpointCheck(head_row[0], head_row[1], label="head row")
        if head_row[0] > 0:
            pending.setdefault(head_row[0], []).append(result.head_row)
        else:  # an empty trail: the chain must be empty too, which the walk cannot contradict
            result.head_row.status, result.head_row.found_hash = "ok", head_row[1]
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


def verify_partial(links: Iterable[Mapping | UnreadableLink],
                   checkpoints: Iterable[CheckpointCheck] = ()) -> Verification:
    """Check a filtered export, which leaves events out: every event's hash against its own
    content and prev_hash, seqs rising, the link between each two events whose seqs follow
    each other (and seq 1's link to the genesis hash), and each checkpoint whose seq it holds.
    The seqs left out are reported as gaps: across a gap nothing can be checked, so this does
    not show that the chain is whole — only a full export does (``verify_links``)."""
    result = Verification(partial=True, checkpoints=[
        CheckpointCheck(c.seq, c.hash, label=c.label) for c in checkpoints
    ])
    pending: dict[int, list[CheckpointCheck]] = {}
    for check in result.checkpoints:
        pending.setdefault(check.seq, []).append(check)
    prev_seq, prev_hash = 0, GENESIS_HASH
    for link in links:
        row = _row_of(link)
        if row.__class__ is UnreadableLink:
            result.first_bad_seq, result.problem = row.seq or prev_seq + 1, row.problem
            break
        seq, at, actor, kind, subject, data_json, link_prev, digest = row
        if seq.__class__ is not int or seq <= prev_seq:
            result.first_bad_seq = seq if seq.__class__ is int else prev_seq + 1
            result.problem = f"expected a seq above {prev_seq}, found {seq!r} (out of order)"
            break
        try:
            body = link_body(seq, at, actor, kind, subject, data_json)
        except (TypeError, ValueError) as exc:
            result.first_bad_seq, result.problem = seq, f"a field has no value or the wrong type ({exc})"
            break
        if link_prev.__class__ is not str or digest.__class__ is not str or \
                hashlib.sha256((link_prev + body).encode("utf-8")).hexdigest() != digest:
            result.first_bad_seq = seq
            result.problem = "hash does not match the event's content (the event was altered)"
            break
        if seq == prev_seq + 1:
            if link_prev != prev_hash:
                result.first_bad_seq, result.problem = seq, "prev_hash does not match the previous event's hash"
                break
            result.links_checked += 1
        else:
            result.gaps.append((prev_seq + 1, seq - 1))
        for check in pending.pop(seq, ()):
            check.found_hash = digest
            check.status = "ok" if digest == check.hash else "mismatch"
        prev_seq, prev_hash = seq, digest
        result.count += 1
    if result.count:
        result.head_seq, result.head_hash = prev_seq, prev_hash
    for checks in pending.values():
        for check in checks:
            check.status = "unchecked" if result.first_bad_seq is not None else "left_out"
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
