"""Exporting the trail (whole or filtered) as JSON Lines or CSV, streamed in keyset batches up to
the head as it was when the export began."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forum.audit.access import head, require_reader, visibility_conditions
from forum.audit.browse import TrailFilters, filter_conditions
from forum.auth.models import User
from forum.core import spreadsheet
from forum.trail import chain
from forum.trail.models import Event
from forum.trail.service import as_link, jsonl_line

EXPORT_FIELDS = ("seq", "at", "actor", "kind", "subject", "data", "prev_hash", "hash")


@dataclass
class ExportRange:
    first_seq: int | None
    last_seq: int | None
    head_seq: int
    head_hash: str
    filtered: bool
    # The viewer may not see every item: the events of other people's drafts are left out.
    drafts_left_out: bool = False
    filters: dict | None = None

    def header(self) -> dict:
        """The first line of a filtered JSON Lines export: it says the export leaves events out,
        so `forum trail verify --file` checks what it can instead of reporting gaps as breaks."""
        left_out = []
        if self.filters:
            left_out.append("events that do not match the filters")
        if self.drafts_left_out:
            left_out.append("events of draft items the exporter may not see")
        return {"trail_export": {
            "filtered": True, "left_out": left_out, "filters": self.filters or {},
            "first_seq": self.first_seq, "last_seq": self.last_seq,
            "head_seq": self.head_seq, "head_hash": self.head_hash,
        }}

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
    hidden = visibility_conditions(actor)
    if not filters.active and not hidden:
        first, last = (1, head_seq) if head_seq else (None, None)
    else:
        first, last = session.execute(
            select(func.min(Event.seq), func.max(Event.seq))
            .where(*filter_conditions(filters), *hidden, Event.seq <= head_seq)
        ).one()
    shown_filters = {k: str(v) for k, v in vars(filters).items() if v} if filters.active else None
    return ExportRange(first, last, head_seq, head_hash, filters.active or bool(hidden),
                       drafts_left_out=bool(hidden), filters=shown_filters)


_EXPORT_COLUMNS = (
    Event.seq, Event.at, Event.actor, Event.kind, Event.subject,
    Event.data_json.label("data_json"), Event.prev_hash, Event.hash,
)


def export_batches(session: Session, actor: User | None, filters: TrailFilters, span: ExportRange,
                   batch: int = 2000) -> Iterator[list]:
    """The range's events in seq order, as plain rows in keyset batches (memory stays flat),
    without the events of items ``actor`` may not see."""
    if span.first_seq is None:
        return
    conditions = [*filter_conditions(filters), *visibility_conditions(actor)]
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


def jsonl_chunks(batches: Iterator[list], span: ExportRange | None = None) -> Iterator[str]:
    """JSON Lines, one event per line with every field of the hash rule (what `forum trail
    export` writes), one chunk per batch. A filtered export starts with a header line
    (``ExportRange.header``); the whole chain has none."""
    if span is not None and span.filtered:
        yield chain.canonical_json(span.header()) + "\n"
    for rows in batches:
        yield "".join(map(jsonl_line, rows))


def csv_chunks(batches: Iterator[list]) -> Iterator[str]:
    """CSV with a header; ``data`` is the canonical JSON text in one column. For reading in a
    spreadsheet: cells that look like formulas are quoted, so check the JSON Lines export."""

    def rows(batch):
        for row in batch:
            link = as_link(row)
            link["data"] = chain.canonical_json(link["data"])
            yield [link[name] for name in EXPORT_FIELDS]

    return spreadsheet.chunks(EXPORT_FIELDS, (rows(batch) for batch in batches))
