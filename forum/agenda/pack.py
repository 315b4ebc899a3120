"""What the agenda's pages show from the areas below it.

Pre-read pack sections
    The pre-read pack shows, for every agenda entry, the item's summary and facts, then one
    section per entry of ``SECTIONS``: ``PackSection(key, template, build)``. ``build`` receives
    the session and ALL the pack's items at once and returns ``{item_id: context}``; it must issue
    a bounded number of queries whatever the number of items (one ``IN`` query per table, never
    one per item). The pack template includes ``template`` once per item that has a context, with
    the context available as ``p`` and the item as ``item``. The weighing area gives tier, ratings
    and positions; the evidence area gates and the latest run per suite; technical proximity the
    reviews and proposed edge cases.

Decision register filters
    ``FILTERS`` adds selects to the decision register (for example the item's tier): its choices,
    and the SQL condition on ``DecisionItem`` that a chosen value stands for. An optional
    ``column`` builds one label per item id (bulk) to show in the register's rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from forum.auth.models import User
from forum.evidence import pack as evidence_pack
from forum.items.models import DecisionItem
from forum.proximity import pack as proximity_pack
from forum.trail.models import Event
from forum.weighing import pack as weighing_pack
from forum.weighing.queries import tier_condition

PackBuild = Callable[[Session, list[DecisionItem]], dict[int, dict]]


@dataclass(frozen=True)
class PackSection:
    key: str
    template: str
    build: PackBuild


def build_sections(session: Session, items: list[DecisionItem]) -> list[tuple[PackSection, dict[int, dict]]]:
    if not items:
        return []
    return [(section, section.build(session, items)) for section in SECTIONS]


@dataclass(frozen=True)
class RegisterFilter:
    key: str  # the query-string parameter
    label: str
    choices: Callable[[Session], list[tuple[str, str]]]
    condition: Callable[[str], ColumnElement[bool]]
    column: Callable[[Session, list[int]], dict[int, str]] | None = None


def decision_filters() -> list[RegisterFilter]:
    return sorted(FILTERS, key=lambda f: f.key)


# ------------------------------------------------------------------ the agenda's own section
def _escalation_reasons(session: Session, items: list[DecisionItem]) -> dict[int, dict]:
    """Why each item came to the executives, from the trail's escalations and returns to the
    queue, with who moved it by name (two queries)."""
    subjects = {item.subject: item.id for item in items}
    events = session.scalars(
        select(Event).where(Event.subject.in_(subjects), Event.kind == "item.status_changed")
        # Per item in trail order; by (subject, kind, seq) so that the (subject, kind) index
        # serves it — ordered by seq alone SQLite walked the kind index through every event of
        # the kind (158 ms at 1.1 M events, 0.1 ms like this).
        .order_by(Event.subject, Event.kind, Event.seq)
    )
    escalations = [event for event in events if event.data.get("to") == "escalated"]
    people = dict(session.execute(select(User.email, User.display_name).where(
        User.email.in_({event.actor for event in escalations}))).all()) if escalations else {}
    reasons: dict[int, dict] = {}
    for event in escalations:
        entry = reasons.setdefault(subjects[event.subject], {"reasons": []})
        entry["reasons"].append({"at": event.at, "actor": event.actor, "action": _how_it_came(event.data),
                                 "actor_name": people.get(event.actor, event.actor),
                                 "note": event.data.get("note", "")})
    return reasons


def _how_it_came(data: dict) -> str:
    """How a move to the queue reads: "escalate" needs no word; a return says what it was."""
    return {"escalate": "escalate", "defer": "deferred at a meeting", "unschedule": "taken off an agenda",
            "revalidate": "sent back for revalidation"}.get(data.get("action"), data.get("action") or "")



#: The pack's sections, in the order they appear under each item.
SECTIONS = (
    PackSection("escalation", "agenda/pack_escalation.html", _escalation_reasons),
    PackSection("forum", "forum/pack_section.html", weighing_pack.build),
    PackSection("evidence", "evidence/pack_section.html", evidence_pack.build),
    PackSection("proximity", "proximity/pack_section.html", proximity_pack.build),
)

#: The decision register's extra filters.
FILTERS = (
    RegisterFilter(key="tier", label="Tier", choices=weighing_pack.tier_choices,
                   condition=tier_condition, column=weighing_pack.tier_labels),
)
