"""Verifying the trail (the whole chain and every recorded checkpoint), putting the result on the
record, reading the last result back; and recording checkpoints (auditors only)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forum.audit.access import display_names, head, require_auditor, require_reader
from forum.audit.models import Checkpoint
from forum.auth.models import User
from forum.core import clock
from forum.core.errors import ValidationError
from forum.trail import chain, signing
from forum.trail.models import Event
from forum.trail.service import actor_name, record, verify_database

MAX_NOTE = 500
VERIFIED = "trail.verified"
CHECKPOINT_RECORDED = "trail.checkpoint_recorded"
TRAIL_SUBJECT = "trail"


def checkpoint_checks(session: Session) -> list[chain.CheckpointCheck]:
    """Every recorded checkpoint, as checks for ``verify_database`` / ``verify_links``."""
    return [
        chain.CheckpointCheck(seq, digest, label=f"checkpoint {ident}")
        for ident, seq, digest in session.execute(
            select(Checkpoint.id, Checkpoint.seq, Checkpoint.hash).order_by(Checkpoint.seq, Checkpoint.id)
        )
    ]


def signed_checkpoints(session: Session) -> list[signing.SignedCheckpoint]:
    """The signed checkpoints in the database: those of the checkpoint rows, and those the
    chain's ``trail.checkpoint_recorded`` events carry (which an export carries too)."""
    signed = [
        signing.SignedCheckpoint(c.seq, c.hash, chain.format_at(c.created_at), c.key_id or "",
                                 c.signature, label=f"checkpoint {c.id}")
        for c in session.scalars(
            select(Checkpoint).where(Checkpoint.signature.is_not(None)).order_by(Checkpoint.seq, Checkpoint.id)
        )
    ]
    for seq, data_json in session.execute(
        select(Event.seq, Event.data_json).where(Event.kind == CHECKPOINT_RECORDED).order_by(Event.seq)
    ):
        found = signing.from_event_data(seq, _json_object(data_json))
        if found is not None:
            signed.append(found)
    return signed


def _json_object(text: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError:
        return {}  # the chain walk reports the altered event
    return value if isinstance(value, dict) else {}


def verify(session: Session, actor: User | None, extra: list[chain.CheckpointCheck] = (),
           public_key: signing.Ed25519PublicKey | None = None) -> chain.Verification:
    """Check the whole chain, the head row, every recorded checkpoint (plus ``extra`` ones) and
    the signature of every signed checkpoint against ``public_key``; read-only."""
    require_reader(actor)
    return signing.verify_with_signatures(
        public_key, signed_checkpoints(session), lambda checks: verify_database(session, checks),
        [*checkpoint_checks(session), *extra],
    )


def run_verification(session: Session, actor: User,
                     public_key: signing.Ed25519PublicKey | None = None) -> chain.Verification:
    """Verify (as ``verify``) and put the result on the record as a ``trail.verified`` event,
    which the verify page shows. The result describes the chain up to the event before it."""
    result = verify(session, actor, public_key=public_key)
    record_verification(session, actor, result)
    return result


def record_verification(session: Session, actor: User, result: chain.Verification) -> None:
    """Put a verification's result on the record as a ``trail.verified`` event."""
    record(session, actor, VERIFIED, TRAIL_SUBJECT, _verification_data(result))


def _verification_data(result: chain.Verification) -> dict:
    newest = result.newest_signed
    return {
        "ok": result.ok,
        "count": result.count,
        "head_seq": result.head_seq,
        "head_hash": result.head_hash,
        "first_bad_seq": result.first_bad_seq,
        "problem": result.problem,
        "checkpoints": [
            {"seq": c.seq, "hash": c.hash, "status": c.status, "label": c.label}
            for c in result.checkpoints
        ],
        "head_row": None if result.head_row is None else {
            "seq": result.head_row.seq, "hash": result.head_row.hash, "status": result.head_row.status,
            "problem": "" if result.head_row_ok else result.describe_head_row(),
        },
        "signatures": {
            "public_key": result.public_key_id,
            "count": len(result.signatures),
            "invalid": [{"label": s.checkpoint.label, "seq": s.checkpoint.seq}
                        for s in result.signatures if not s.ok],
            "newest_signed": None if newest is None else {
                "seq": newest.seq, "hash": newest.hash, "at": newest.at, "key_id": newest.key_id,
            },
        },
    }


@dataclass
class PastVerification:
    seq: int
    at: datetime
    actor: str
    actor_name: str
    ok: bool
    count: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None
    problem: str
    checkpoints: list[chain.CheckpointCheck]
    head_row_problem: str = ""
    signatures: dict | None = None

    @property
    def failed_checkpoints(self) -> list[chain.CheckpointCheck]:
        return [c for c in self.checkpoints if not c.ok]


def last_verification(session: Session) -> PastVerification | None:
    """The latest ``trail.verified`` event, read back (two queries)."""
    event = session.scalar(
        select(Event).where(Event.kind == VERIFIED).order_by(Event.seq.desc()).limit(1)
    )
    if event is None:
        return None
    data = event.data
    return PastVerification(
        seq=event.seq, at=event.at, actor=event.actor,
        actor_name=display_names(session, {event.actor}).get(event.actor, event.actor),
        ok=bool(data.get("ok")), count=data.get("count", 0), head_seq=data.get("head_seq", 0),
        head_hash=data.get("head_hash", ""), first_bad_seq=data.get("first_bad_seq"),
        problem=data.get("problem", ""),
        checkpoints=[
            chain.CheckpointCheck(c.get("seq", 0), c.get("hash", ""), c.get("status", ""),
                                  label=c.get("label", ""))
            for c in data.get("checkpoints", [])
        ],
        head_row_problem=(data.get("head_row") or {}).get("problem", ""),
        signatures=data.get("signatures"),
    )


def record_checkpoint(session: Session, actor: User | None, note: str = "",
                      signing_key: signing.Ed25519PrivateKey | None = None) -> Checkpoint:
    """Write down the current head as a checkpoint, and append a ``trail.checkpoint_recorded``
    event saying so. The head is read BEFORE that event is appended: the checkpoint names the
    last event before its own (recording it cannot change what it vouches for).

    With ``signing_key`` (the CLI's, from outside the database) the checkpoint is signed
    (forum.trail.signing), and its event carries the signature, so an export carries it too."""
    require_auditor(actor)
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ValidationError(f"The note is {len(note)} characters long; the limit is {MAX_NOTE}.", "note")
    seq, digest = head(session)
    if seq == 0:
        raise ValidationError("The trail is empty: there is no head to record yet.")
    created = clock.now()
    checkpoint = Checkpoint(seq=seq, hash=digest, created_at=created, created_by=actor_name(actor), note=note)
    data = {"seq": seq, "hash": digest, "note": note}
    if signing_key is not None:
        signed = signing.sign(signing_key, seq, digest, chain.format_at(created))
        checkpoint.signature, checkpoint.key_id = signed.signature, signed.key_id
        data |= {"at": signed.at, "key_id": signed.key_id, "signature": signed.signature}
    session.add(checkpoint)
    session.flush()
    record(session, actor, CHECKPOINT_RECORDED, TRAIL_SUBJECT, {"checkpoint": checkpoint.id, **data})
    return checkpoint


def recent_checkpoints(session: Session, limit: int = 20) -> tuple[list[Checkpoint], int]:
    """The newest checkpoints and how many there are in all (two queries)."""
    rows = list(session.scalars(
        select(Checkpoint).order_by(Checkpoint.seq.desc(), Checkpoint.id.desc()).limit(limit)
    ))
    total = session.scalar(select(func.count()).select_from(Checkpoint)) or 0
    return rows, total
