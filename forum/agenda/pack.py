"""Extension points of the agenda for other areas.

Pre-read pack sections
    The pre-read pack shows, for every agenda entry, the item's summary and facts, then one
    section per registered builder: ``register_pack_section(key, template, build)``. ``build``
    receives the session and ALL the pack's items at once and returns ``{item_id: context}``; it
    must issue a bounded number of queries whatever the number of items (one ``IN`` query per
    table, never one per item). The pack template includes ``template`` once per item that has
    a context, with the context available as ``p`` and the item as ``item``. The forum area
    registers tier, ratings and positions; the evidence area gates and the latest run per suite.

Decision register filters
    ``register_decision_filter(RegisterFilter(...))`` adds a select to the decision register (for
    example the item's tier): its choices, and the SQL condition on ``DecisionItem`` that a chosen
    value stands for. An optional ``column`` builds one label per item id (bulk) to show in the
    register's rows.

Areas register when their module is imported (create_app imports every blueprint).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from forum.items.models import DecisionItem
from forum.trail.models import Event

PackBuild = Callable[[Session, list[DecisionItem]], dict[int, dict]]


@dataclass(frozen=True)
class PackSection:
    key: str
    template: str
    build: PackBuild
    order: int = 100


_SECTIONS: dict[str, PackSection] = {}


def register_pack_section(key: str, template: str, build: PackBuild, order: int = 100) -> PackSection:
    section = PackSection(key, template, build, order)
    _SECTIONS[key] = section
    return section


def build_sections(session: Session, items: list[DecisionItem]) -> list[tuple[PackSection, dict[int, dict]]]:
    if not items:
        return []
    return [
        (section, section.build(session, items))
        for section in sorted(_SECTIONS.values(), key=lambda s: (s.order, s.key))
    ]


@dataclass(frozen=True)
class RegisterFilter:
    key: str  # the query-string parameter
    label: str
    choices: Callable[[Session], list[tuple[str, str]]]
    condition: Callable[[str], ColumnElement[bool]]
    column: Callable[[Session, list[int]], dict[int, str]] | None = None


_FILTERS: dict[str, RegisterFilter] = {}


def register_decision_filter(spec: RegisterFilter) -> RegisterFilter:
    _FILTERS[spec.key] = spec
    return spec


def decision_filters() -> list[RegisterFilter]:
    return sorted(_FILTERS.values(), key=lambda f: f.key)


# ------------------------------------------------------------------ the agenda's own section
def _escalation_reasons(session: Session, items: list[DecisionItem]) -> dict[int, dict]:
    """Why each item came to the executives, from the trail's escalations and returns to the
    queue (one query). The forum area's escalation records may replace this section."""
    subjects = {item.subject: item.id for item in items}
    events = session.scalars(
        select(Event).where(Event.subject.in_(subjects), Event.kind == "item.status_changed")
        # Per item in trail order; by (subject, kind, seq) so that the (subject, kind) index
        # serves it — ordered by seq alone SQLite walked the kind index through every event of
        # the kind (158 ms at 1.1 M events, 0.1 ms like this).
        .order_by(Event.subject, Event.kind, Event.seq)
    )
    reasons: dict[int, dict] = {}
    for event in events:
        data = event.data
        if data.get("to") != "escalated":
            continue
        entry = reasons.setdefault(subjects[event.subject], {"reasons": []})
        entry["reasons"].append({"at": event.at, "actor": event.actor, "action": data.get("action"),
                                 "note": data.get("note", "")})
    return reasons


register_pack_section("escalation", "agenda/pack_escalation.html", _escalation_reasons, order=10)
