"""Verifying the trail (the whole chain and every recorded checkpoint), putting the result on the
record, reading the last result back; and recording checkpoints (auditors only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forum.audit.access import display_names, head, require_auditor, require_reader
from forum.audit.models import Checkpoint
from forum.auth.models import User
from forum.core.errors import ValidationError
from forum.trail import chain
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


def verify(session: Session, actor: User | None, extra: list[chain.CheckpointCheck] = ()) -> chain.Verification:
    """Check the whole chain and every recorded checkpoint (plus ``extra`` ones); read-only."""
    require_reader(actor)
    return verify_database(session, [*checkpoint_checks(session), *extra])


def run_verification(session: Session, actor: User) -> chain.Verification:
    """Verify (as ``verify``) and put the result on the record as a ``trail.verified`` event,
    which the verify page shows. The result describes the chain up to the event before it."""
    result = verify(session, actor)
    record(session, actor, VERIFIED, TRAIL_SUBJECT, _verification_data(result))
    return result


def _verification_data(result: chain.Verification) -> dict:
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
    )


def record_checkpoint(session: Session, actor: User | None, note: str = "") -> Checkpoint:
    """Write down the current head as a checkpoint, and append a ``trail.checkpoint_recorded``
    event saying so. The head is read BEFORE that event is appended: the checkpoint names the
    last event before its own (recording it cannot change what it vouches for)."""
    require_auditor(actor)
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ValidationError(f"The note is {len(note)} characters long; the limit is {MAX_NOTE}.", "note")
    seq, digest = head(session)
    if seq == 0:
        raise ValidationError("The trail is empty: there is no head to record yet.")
    checkpoint = Checkpoint(seq=seq, hash=digest, created_by=actor_name(actor), note=note)
    session.add(checkpoint)
    session.flush()
    record(session, actor, CHECKPOINT_RECORDED, TRAIL_SUBJECT,
           {"checkpoint": checkpoint.id, "seq": seq, "hash": digest, "note": note})
    return checkpoint


def recent_checkpoints(session: Session, limit: int = 20) -> tuple[list[Checkpoint], int]:
    """The newest checkpoints and how many there are in all (two queries)."""
    rows = list(session.scalars(
        select(Checkpoint).order_by(Checkpoint.seq.desc(), Checkpoint.id.desc()).limit(limit)
    ))
    total = session.scalar(select(func.count()).select_from(Checkpoint)) or 0
    return rows, total
