"""Reading the trail for auditors, verifying it, and recording checkpoints.

Who: executives and auditors read, export and verify the trail (docs/architecture.md); only
auditors record checkpoints. ``actor=None`` is the system (the CLI run by an operator).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from difflib import SequenceMatcher

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forum.audit.models import Checkpoint
from forum.auth.models import User
from forum.core.errors import NotFound, PermissionDenied, ValidationError
from forum.items import history
from forum.trail import chain
from forum.trail.models import Event
from forum.trail.service import (
    actor_name, as_link, events_for, jsonl_line, record, verify_database,
)

MAX_NOTE = 500
VERIFIED = "trail.verified"
CHECKPOINT_RECORDED = "trail.checkpoint_recorded"
TRAIL_SUBJECT = "trail"
EXPORT_FIELDS = ("seq", "at", "actor", "kind", "subject", "data", "prev_hash", "hash")


# ------------------------------------------------------------------------------ permissions
def can_read_trail(actor: User | None) -> bool:
    return actor is None or actor.can_read_trail


def require_reader(actor: User | None) -> None:
    if not can_read_trail(actor):
        raise PermissionDenied("Only executives and auditors read, export and verify the trail.")


def require_auditor(actor: User | None) -> None:
    if actor is not None and not (actor.active and actor.role == "auditor"):
        raise PermissionDenied("Only auditors record checkpoints.")


# ------------------------------------------------------------------------------------ reading
def head(session: Session) -> tuple[int, str]:
    """The last event's seq and hash, read from the events (not the head row): (0, genesis)
    when the trail is empty."""
    row = session.execute(select(Event.seq, Event.hash).order_by(Event.seq.desc()).limit(1)).first()
    return (row.seq, row.hash) if row else (0, chain.GENESIS_HASH)


def display_names(session: Session, emails) -> dict[str, str]:
    """{email: display name} for the actors among ``emails`` that are accounts (one query)."""
    emails = {e for e in emails if e and e != "system"}
    if not emails:
        return {}
    return dict(session.execute(
        select(User.email, User.display_name).where(User.email.in_(emails))
    ).all())


@dataclass
class TrailFilters:
    date_from: date | None = None
    date_to: date | None = None
    actor: str = ""
    kind: str = ""
    subject: str = ""
    text: str = ""

    def __post_init__(self):
        self.actor = (self.actor or "").strip().lower()
        self.kind = (self.kind or "").strip()
        self.subject = (self.subject or "").strip()
        self.text = (self.text or "").strip()
        if self.date_from and self.date_to and self.date_to < self.date_from:
            raise ValidationError("The 'to' date lies before the 'from' date.", "date_to")

    @property
    def active(self) -> bool:
        return any((self.date_from, self.date_to, self.actor, self.kind, self.subject, self.text))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _conditions(filters: TrailFilters) -> list:
    conditions = []
    if filters.date_from:
        conditions.append(Event.at >= _day_start(filters.date_from))
    if filters.date_to:  # the whole 'to' day is included
        conditions.append(Event.at < _day_start(filters.date_to + timedelta(days=1)))
    if filters.actor:
        conditions.append(Event.actor == filters.actor)
    if filters.kind:
        conditions.append(Event.kind == filters.kind)
    if filters.subject:
        conditions.append(Event.subject == filters.subject)
    if filters.text:
        # A scan of the data column; fine for now (a full-text index would replace it).
        conditions.append(Event.data_json.ilike(f"%{_escape_like(filters.text)}%", escape="\\"))
    return conditions


def distinct_kinds(session: Session) -> list[str]:
    """The kinds present in the trail, sorted. A loose index scan (one index probe per kind,
    as a recursive query) so that it costs the same with a million events."""
    kinds = select(func.min(Event.kind).label("kind")).cte("kinds", recursive=True)
    following = (
        select(Event.kind).where(Event.kind > kinds.c.kind).order_by(Event.kind).limit(1)
        .scalar_subquery()
    )
    kinds = kinds.union_all(select(following).where(kinds.c.kind.is_not(None)))
    return list(session.scalars(select(kinds.c.kind).where(kinds.c.kind.is_not(None))))


@dataclass
class TrailPage:
    events: list[Event]
    names: dict[str, str]
    newer: int | None  # pass as after= for the newer page
    older: int | None  # pass as before= for the older page
    per_page: int


def browse(
    session: Session, actor: User | None, filters: TrailFilters, *, before: int | None = None,
    after: int | None = None, per_page: int = 50,
) -> TrailPage:
    """One page of events, newest first, by keyset on seq (``before``/``after`` a seq): the
    10,000th page costs what the first does. Three queries."""
    require_reader(actor)
    conditions = _conditions(filters)
    if after is not None:
        rows = list(session.scalars(
            select(Event).where(*conditions, Event.seq > after).order_by(Event.seq).limit(per_page + 1)
        ))
        newer = rows[per_page - 1].seq if len(rows) > per_page else None
        rows = rows[:per_page][::-1]
        edge = rows[-1].seq if rows else after + 1
        older = edge if _exists(session, conditions, Event.seq < edge) else None
    else:
        query = select(Event).where(*conditions)
        if before is not None:
            query = query.where(Event.seq < before)
        rows = list(session.scalars(query.order_by(Event.seq.desc()).limit(per_page + 1)))
        older = rows[per_page - 1].seq if len(rows) > per_page else None
        rows = rows[:per_page]
        newer = None
        if before is not None:  # without a cursor the page starts at the newest event
            edge = rows[0].seq if rows else before - 1
            newer = edge if _exists(session, conditions, Event.seq > edge) else None
    return TrailPage(
        events=rows, names=display_names(session, {e.actor for e in rows}),
        newer=newer, older=older, per_page=per_page,
    )


def _exists(session: Session, conditions: list, extra) -> bool:
    return session.scalar(select(Event.seq).where(*conditions, extra).limit(1)) is not None


@dataclass
class EventView:
    event: Event
    actor_name: str
    pretty_data: str
    prev: Event | None
    next: Event | None
    hash_ok: bool  # the event's hash recomputes from its fields
    link_ok: bool  # its prev_hash is the previous event's hash

    @property
    def at_text(self) -> str:
        """The time as the hash rule writes it."""
        return chain.format_at(self.event.at)

    @property
    def item_id(self) -> int | None:
        kind, _, ident = self.event.subject.partition(":")
        return int(ident) if kind == "item" and ident.isdigit() else None


def event_view(session: Session, actor: User | None, seq: int) -> EventView:
    """One event with its neighbours (one query) and local checks of its link."""
    require_reader(actor)
    rows = {e.seq: e for e in session.scalars(
        select(Event).where(Event.seq.between(seq - 1, seq + 1))
    )}
    event = rows.get(seq)
    if event is None:
        raise NotFound(f"There is no event {seq} in the trail.")
    previous = rows.get(seq - 1)
    expected_prev = previous.hash if previous else chain.GENESIS_HASH
    data = json.loads(event.data_json)
    return EventView(
        event=event,
        actor_name=display_names(session, {event.actor}).get(event.actor, event.actor),
        pretty_data=json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False),
        prev=previous,
        next=rows.get(seq + 1),
        hash_ok=chain.link_hash(event.prev_hash, event.seq, chain.format_at(event.at), event.actor,
                                event.kind, event.subject, data) == event.hash,
        link_ok=event.prev_hash == expected_prev and (previous is not None or seq == 1),
    )


def count_for_subject(session: Session, subject: str) -> int:
    return session.scalar(select(func.count()).select_from(Event).where(Event.subject == subject)) or 0


# ------------------------------------------------------------------------------------- export
@dataclass
class ExportRange:
    first_seq: int | None
    last_seq: int | None
    head_seq: int
    head_hash: str
    filtered: bool

    def filename(self, extension: str) -> str:
        """E.g. trail_seq1-8123_head-3fa2c1d4.jsonl: the range and the head it was cut from."""
        scope = "trail_filtered" if self.filtered else "trail"
        span = f"seq{self.first_seq}-{self.last_seq}" if self.first_seq else "empty"
        return f"{scope}_{span}_head-{self.head_hash[:8]}.{extension}"


def export_range(session: Session, actor: User | None, filters: TrailFilters) -> ExportRange:
    """What an export will hold: the matching events up to the head as it is now (two queries).
    Events are append-only, so the range cannot change while it streams."""
    require_reader(actor)
    head_seq, head_hash = head(session)
    if not filters.active:
        first, last = (1, head_seq) if head_seq else (None, None)
    else:
        first, last = session.execute(
            select(func.min(Event.seq), func.max(Event.seq))
            .where(*_conditions(filters), Event.seq <= head_seq)
        ).one()
    return ExportRange(first, last, head_seq, head_hash, filters.active)


_EXPORT_COLUMNS = (
    Event.seq, Event.at, Event.actor, Event.kind, Event.subject,
    Event.data_json.label("data_json"), Event.prev_hash, Event.hash,
)


def export_batches(session: Session, filters: TrailFilters, span: ExportRange,
                   batch: int = 2000) -> Iterator[list]:
    """The range's events in seq order, as plain rows in keyset batches (memory stays flat)."""
    if span.first_seq is None:
        return
    conditions = _conditions(filters)
    last = span.first_seq - 1
    while True:
        rows = session.execute(
            select(*_EXPORT_COLUMNS)
            .where(*conditions, Event.seq > last, Event.seq <= span.last_seq)
            .order_by(Event.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield rows
        last = rows[-1].seq


def jsonl_chunks(batches: Iterator[list]) -> Iterator[str]:
    """JSON Lines, one event per line with every field of the hash rule (what `forum trail
    export` writes), one chunk per batch."""
    for rows in batches:
        yield "".join(map(jsonl_line, rows))


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value) -> str | int:
    """Spreadsheets run a cell that starts with = + - @ as a formula: quote it to keep it text."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def csv_chunks(batches: Iterator[list]) -> Iterator[str]:
    """CSV with a header; ``data`` is the canonical JSON text in one column. For reading in a
    spreadsheet: cells that look like formulas are quoted, so check the JSON Lines export."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_FIELDS)
    for rows in batches:
        for row in rows:
            link = as_link(row)
            link["data"] = chain.canonical_json(link["data"])
            writer.writerow([_csv_cell(link[name]) for name in EXPORT_FIELDS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


# ------------------------------------------------------------------------ item timelines
@dataclass
class DiffPart:
    op: str  # "equal", "delete", "insert", or "skip" (unchanged lines left out)
    text: str


@dataclass
class TextDiff:
    mode: str  # "words" (one-line texts) or "lines"
    parts: list[DiffPart]


@dataclass
class TimelineChange:
    label: str
    before: str
    after: str
    diff: TextDiff | None = None


@dataclass
class TimelineEntry:
    seq: int
    at: datetime
    actor: str
    actor_name: str
    kind: str
    label: str
    note: str = ""
    changes: list[TimelineChange] = field(default_factory=list)
    facts: list[tuple[str, str, bool]] = field(default_factory=list)  # (label, value, long text)
    hash: str = ""


def timeline(session: Session, actor: User | None, item) -> list[TimelineEntry]:
    """Every event of the item, oldest first, rendered for people (two queries)."""
    require_reader(actor)
    events = events_for(session, item.subject)
    names = display_names(session, {e.actor for e in events})
    entries = []
    for event in events:
        data = event.data
        label, described, note = history.summarise(event.kind, data)
        pairs = _before_after_pairs(data)
        changes = []
        for change in described:
            raw = pairs.pop(change.label, None)
            # Diff the stored text only where the describer shows it as it is (not a label).
            shown_raw = raw is not None and change.before in (raw[0], "—") and change.after in (raw[1], "—")
            diff = _diff_if_text(*raw) if shown_raw else None
            changes.append(TimelineChange(change.label, change.before, change.after, diff))
        for key, (before, after) in pairs.items():
            changes.append(TimelineChange(key, _plain(before), _plain(after), _diff_if_text(before, after)))
        entries.append(TimelineEntry(
            seq=event.seq, at=event.at, actor=event.actor,
            actor_name=names.get(event.actor, event.actor), kind=event.kind, label=label,
            note=note, changes=changes, facts=_facts(data), hash=event.hash,
        ))
    return entries


def _label(key: str) -> str:
    return history.FIELD_LABELS.get(key, key.replace("_", " ").capitalize())


def _before_after_pairs(data: dict) -> dict[str, tuple]:
    """{label: (before, after)} for the {field: {before, after}} entries of an event's data
    (at the top level or under "changes")."""
    pairs = {}
    for source in (data, data.get("changes")):
        if not isinstance(source, dict):
            continue
        for key, value in source.items():
            if isinstance(value, dict) and "before" in value and "after" in value:
                pairs[_label(key)] = (value["before"], value["after"])
    return pairs


def _diff_if_text(before, after) -> TextDiff | None:
    """A diff for texts of several words or lines; short values read better as before → after."""
    if not (isinstance(before, str) and isinstance(after, str)):
        return None
    if len(before.split()) < 2 and len(after.split()) < 2:
        return None
    return text_diff(before, after)


def _plain(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        return value
    return chain.canonical_json(value)


# Keys of event data shown as facts on the timeline, in this order: the evidence file's hash,
# a decision's outcome and rationale, and the like (other areas' events).
FACT_KEYS = (
    ("outcome", "Outcome", False),
    ("rationale", "Rationale", True),
    ("conditions", "Conditions", True),
    ("filename", "File", False),
    ("sha256", "File SHA-256", False),
    ("size", "Size (bytes)", False),
    ("reason", "Reason", True),
)


def _facts(data: dict) -> list[tuple[str, str, bool]]:
    facts = []
    for key, label, long in FACT_KEYS:
        value = data.get(key)
        if value not in (None, "", [], {}):
            facts.append((label, value if isinstance(value, str) else chain.canonical_json(value), long))
    return facts


def text_diff(before: str, after: str, context: int = 2) -> TextDiff:
    """A word diff for one-line texts, a line diff (with ``context`` unchanged lines around each
    change) for longer ones. Plain text parts: the template escapes them."""
    if "\n" not in before and "\n" not in after:
        a, b = _words(before), _words(after)
        parts = []
        for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
            if op in ("delete", "replace"):
                _add(parts, "delete", "".join(a[i1:i2]))
            if op in ("insert", "replace"):
                _add(parts, "insert", "".join(b[j1:j2]))
            if op == "equal":
                _add(parts, "equal", "".join(a[i1:i2]))
        return TextDiff("words", parts)
    a, b = before.splitlines(), after.splitlines()
    parts = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            same = a[i1:i2]
            if len(same) > 2 * context + 1:
                head_lines = same[:context] if i1 > 0 else []
                tail_lines = same[-context:] if i2 < len(a) else []
                parts += [DiffPart("equal", line) for line in head_lines]
                skipped = len(same) - len(head_lines) - len(tail_lines)
                parts.append(DiffPart("skip", f"{skipped} unchanged line{'s' if skipped != 1 else ''}"))
                parts += [DiffPart("equal", line) for line in tail_lines]
            else:
                parts += [DiffPart("equal", line) for line in same]
            continue
        parts += [DiffPart("delete", line) for line in a[i1:i2]]
        parts += [DiffPart("insert", line) for line in b[j1:j2]]
    return TextDiff("lines", parts)


def _words(text: str) -> list[str]:
    return re.findall(r"\s+|\S+", text)


def _add(parts: list[DiffPart], op: str, text: str) -> None:
    if not text:
        return
    if parts and parts[-1].op == op:
        parts[-1].text += text
    else:
        parts.append(DiffPart(op, text))


# ---------------------------------------------------------------- verification, checkpoints
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
