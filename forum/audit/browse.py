"""The trail browser: events filtered by date, actor, kind, subject and text, a page at a time
(newest first, by keyset on seq), and one event with its neighbours and the local checks of its
link."""

from __future__ import annotations

import json
from dataclasses import astuple, dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask import get_template_attribute
from markupsafe import Markup
from sqlalchemy import and_, func, select, true
from sqlalchemy.orm import Session

from forum.audit.access import display_names, require_reader, visibility_conditions
from forum.auth.models import User
from forum.core.derived import cached, rendered
from forum.core.errors import NotFound, ValidationError
from forum.items import service as items
from forum.trail import chain
from forum.trail.models import Event


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


def filter_conditions(filters: TrailFilters) -> list:
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
    as a recursive query) so that it costs the same with a million events, reused until the trail
    moves."""
    def find() -> list[str]:
        kinds = select(func.min(Event.kind).label("kind")).cte("kinds", recursive=True)
        following = (
            select(Event.kind).where(Event.kind > kinds.c.kind).order_by(Event.kind).limit(1)
            .scalar_subquery()
        )
        kinds = kinds.union_all(select(following).where(kinds.c.kind.is_not(None)))
        return list(session.scalars(select(kinds.c.kind).where(kinds.c.kind.is_not(None))))

    return cached(session, ("trail kinds",), find)


@dataclass(frozen=True)
class TrailPage:
    seqs: list[int]  # the page's events, newest first (page_events reads them)
    newer: int | None  # pass as after= for the newer page
    older: int | None  # pass as before= for the older page
    per_page: int


def browse(
    session: Session, actor: User | None, filters: TrailFilters, *, before: int | None = None,
    after: int | None = None, per_page: int = 50,
) -> TrailPage:
    """One page of events, newest first, by keyset on seq (``before``/``after`` a seq): the
    10,000th page costs what the first does. One or two queries, for the page's seqs only: the
    events themselves are read by ``page_events`` when their rows are rendered. Kept until the
    trail moves for every reader who sees the same items (``visibility_facet``: drafts are
    their filer's)."""
    require_reader(actor)
    key = ("trail page", items.visibility_facet(actor), astuple(filters), before, after, per_page)
    return cached(session, key, lambda: _browse(session, actor, filters, before, after, per_page))


def _browse(session: Session, actor: User | None, filters: TrailFilters, before: int | None, after: int | None,
            per_page: int) -> TrailPage:
    conditions = [*filter_conditions(filters), *visibility_conditions(actor)]
    if after is not None:
        rows = list(session.scalars(
            select(Event.seq).where(*conditions, Event.seq > after).order_by(Event.seq).limit(per_page + 1)
        ))
        newer = rows[per_page - 1] if len(rows) > per_page else None
        rows = rows[:per_page][::-1]
        edge = rows[-1] if rows else after + 1
        older = edge if _exists(session, conditions, Event.seq < edge) else None
    else:
        query = select(Event.seq).where(*conditions)
        if before is not None:
            query = query.where(Event.seq < before)
        rows = list(session.scalars(query.order_by(Event.seq.desc()).limit(per_page + 1)))
        older = rows[per_page - 1] if len(rows) > per_page else None
        rows = rows[:per_page]
        newer = None
        if before is not None:  # without a cursor the page starts at the newest event
            edge = rows[0] if rows else before - 1
            newer = edge if _exists(session, conditions, Event.seq > edge) else None
    return TrailPage(seqs=rows, newer=newer, older=older, per_page=per_page)


def page_events(session: Session, seqs: list[int]) -> tuple[list[Event], dict[str, str]]:
    """The events ``seqs``, newest first, and the display names of their actors: two queries."""
    events = list(session.scalars(select(Event).where(Event.seq.in_(seqs)).order_by(Event.seq.desc()))) \
        if seqs else []
    return events, display_names(session, {e.actor for e in events})


def trail_rows(session: Session, seqs: list[int]) -> Markup:
    """The rows of the trail browser's events ``seqs`` (audit/_macros.html ``trail_rows``), kept
    rendered until the trail moves (forum.core.derived.rendered): an event never changes, and
    the names of the people in them change only by events of their own. The same for every
    reader of the trail: which events a reader may see decided ``seqs``."""
    if not seqs:
        return Markup("")

    def render() -> list[str]:
        return [get_template_attribute("audit/_macros.html", "trail_rows")(*page_events(session, seqs))]

    return rendered(session, ("trail rows", tuple(seqs)), render)[0]


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
    """One event with its neighbours (one query) and local checks of its link. An event of an
    item the viewer may not see (another person's draft) is not found; such a neighbour is not
    linked, though its hash is still used to check the event's link."""
    require_reader(actor)
    visible = visibility_conditions(actor)
    shown = and_(*visible) if visible else true()
    rows = {e.seq: (e, bool(ok)) for e, ok in session.execute(
        select(Event, shown.label("shown")).where(Event.seq.between(seq - 1, seq + 1))
    )}
    event, event_shown = rows.get(seq, (None, False))
    if event is None or not event_shown:
        raise NotFound(f"There is no event {seq} in the trail.")
    previous, previous_shown = rows.get(seq - 1, (None, False))
    following, following_shown = rows.get(seq + 1, (None, False))
    expected_prev = previous.hash if previous else chain.GENESIS_HASH
    data = json.loads(event.data_json)
    return EventView(
        event=event,
        actor_name=display_names(session, {event.actor}).get(event.actor, event.actor),
        pretty_data=json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False),
        prev=previous if previous_shown else None,
        next=following if following_shown else None,
        hash_ok=chain.link_hash(event.prev_hash, event.seq, chain.format_at(event.at), event.actor,
                                event.kind, event.subject, data) == event.hash,
        link_ok=event.prev_hash == expected_prev and (previous is not None or seq == 1),
    )
