"""The habit in figures, for the forum-health page (and /proximity until that page exists).

Per quarter (of the decision's recording time, UTC): of the decisions taken on items that had
evidence at the time, the share where EVERY decider had reviewed the latest run of every suite
of the item (the snapshot the decision kept). Decisions on items without evidence are counted
apart and left out of the share, and so are decisions recorded before reviews existed (no
snapshot); amendments are not decisions of their own.

Per executive: reviews recorded, distinct runs reviewed, edge cases proposed, hands-on probes
saved (forum.probes), decisions taken as a decider on items with evidence, and how many of those
after reviewing all the latest runs. Per quarter too: the hands-on probes saved in it.

Read from the tallies kept current as changes happen (forum.health.tallies, which says what
each one counts): two queries whatever the number of decisions, reviews, probes and people.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.auth.models import User
from forum.core.policy import Action
from forum.health import tallies


@dataclass
class Quarter:
    label: str  # "2026 Q4"
    decisions: int = 0  # with a snapshot
    with_evidence: int = 0
    fully_reviewed: int = 0
    probes: int = 0  # hands-on probes saved in the quarter, by anyone

    @property
    def without_evidence(self) -> int:
        return self.decisions - self.with_evidence

    @property
    def share(self) -> float | None:
        return self.fully_reviewed / self.with_evidence if self.with_evidence else None


@dataclass(frozen=True)
class Person:
    """Who an executive's figures belong to: plain values, so the figures can be kept between
    requests (the health page's cache) without holding a database row."""

    id: int
    display_name: str
    email: str
    active: bool


@dataclass(frozen=True)
class ExecutiveFigures:
    user: Person
    reviews: int = 0
    runs_reviewed: int = 0
    cases_proposed: int = 0
    probes: int = 0  # hands-on probes saved
    decided_with_evidence: int = 0
    decided_after_review: int = 0


@dataclass
class Figures:
    quarters: list[Quarter] = field(default_factory=list)  # oldest first
    executives: list[ExecutiveFigures] = field(default_factory=list)
    without_snapshot: int = 0  # decisions recorded before reviews existed


def habit_figures(session: Session) -> Figures:
    """The figures from the tallies (forum.health.tallies): a row per quarter and per person
    with something on the record, whatever the number of decisions, reviews and probes."""
    figures = Figures()
    counts = tallies.read(session, PERSON_METRICS + (tallies.DECISIONS, tallies.PROBES, tallies.WITHOUT_SNAPSHOT))
    quarters: dict[str, Quarter] = {}
    per_person: dict[int, Counter] = {}
    for (metric, period, key), n in counts.items():
        if metric == tallies.WITHOUT_SNAPSHOT:
            figures.without_snapshot += n
        elif metric in (tallies.DECISIONS, tallies.PROBES):
            quarter = quarters.setdefault(period, Quarter(period))
            field_name = "probes" if metric == tallies.PROBES else QUARTER_FIELDS[key]
            setattr(quarter, field_name, getattr(quarter, field_name) + n)
        else:
            user_id, _, detail = key.partition(":")
            per_person.setdefault(int(user_id), Counter())[(metric, detail)] += n
    figures.quarters = sorted(quarters.values(), key=lambda q: q.label)
    people = session.scalars(
        select(User).where(User.holding(Action.MANAGE_AGENDA) & (User.active.is_(True) | User.id.in_(list(per_person) or [0])))
        .order_by(User.display_name, User.id)
    )
    for user in people:
        mine = per_person.get(user.id, Counter())
        figures.executives.append(ExecutiveFigures(
            user=Person(user.id, user.display_name, user.email, user.active),
            reviews=mine[(tallies.REVIEWS, "")], runs_reviewed=mine[(tallies.RUNS_REVIEWED, "")],
            cases_proposed=mine[(tallies.CASES, "")], probes=mine[(tallies.PROBES_BY, "")],
            decided_with_evidence=mine[(tallies.AS_DECIDER, "with_evidence")],
            decided_after_review=mine[(tallies.AS_DECIDER, "after_review")],
        ))
    return figures


#: The tallies kept per person, and the Quarter field each decision tally adds to.
PERSON_METRICS = (tallies.REVIEWS, tallies.RUNS_REVIEWED, tallies.CASES, tallies.PROBES_BY, tallies.AS_DECIDER)
QUARTER_FIELDS = {"all": "decisions", "with_evidence": "with_evidence", "fully_reviewed": "fully_reviewed"}
