"""The hash rule of DESIGN.md section 6, with no dependency on the database or Flask.

hash = sha256( prev_hash + canonical_json({seq, at, actor, kind, subject, data}) ), lowercase hex,
where canonical JSON has sorted keys, separators "," and ":", and no ASCII escaping. This module is
what `forum trail verify --file` uses, so an export can be checked without the server.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

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


@dataclass
class Verification:
    count: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    first_bad_seq: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None


def verify_links(links: Iterable[Mapping]) -> Verification:
    """Check a sequence of links (mappings with the six link fields plus prev_hash and hash).

    Stops at the first broken link and reports its seq and what is wrong with it.
    """
    result = Verification()
    expected_prev = GENESIS_HASH
    expected_seq = 1
    for link in links:
        seq = link.get("seq")
        bad_seq = seq if isinstance(seq, int) else expected_seq

        def fail(problem: str) -> Verification:
            result.first_bad_seq = bad_seq
            result.problem = problem
            return result

        missing = [f for f in (*LINK_FIELDS, "prev_hash", "hash") if f not in link]
        if missing:
            return fail(f"missing field(s): {', '.join(missing)}")
        if seq != expected_seq:
            return fail(f"expected seq {expected_seq}, found {seq!r} (a gap or reordering)")
        if link["prev_hash"] != expected_prev:
            return fail("prev_hash does not match the previous event's hash")
        recomputed = link_hash(
            link["prev_hash"], seq, link["at"], link["actor"], link["kind"], link["subject"], link["data"]
        )
        if recomputed != link["hash"]:
            return fail("hash does not match the event's content (the event was altered)")
        result.count += 1
        result.head_seq = seq
        result.head_hash = link["hash"]
        expected_prev = link["hash"]
        expected_seq += 1
    return result
