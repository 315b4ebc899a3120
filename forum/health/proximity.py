"""The habit in figures, for the forum-health page (and /proximity until that page exists).

Per quarter (of the decision's recording time, UTC): of the decisions taken on items that had
evidence at the time, the share where EVERY decider had reviewed the latest run of every suite
of the item (the snapshot the decision kept). Decisions on items without evidence are counted
apart and left out of the share, and so are decisions recorded before reviews existed (no
snapshot); amendments are not decisions of their own.

Per executive: reviews recorded, distinct runs reviewed, edge cases proposed, hands-on probes
saved (forum.probes), decisions taken as a decider on items with evidence, and how many of those
after reviewing all the latest runs. Per quarter too: the hands-on probes saved in it.

Six queries whatever the number of decisions, reviews, probes and people.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session

from forum.agenda.models import Decision
from forum.auth.models import User
from forum.core.policy import Action
from forum.probes.models import Probe
from forum.proximity.models import ProposedCase, Review


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


def quarter_of(at: datetime) -> str:
    return f"{at.year} Q{(at.month - 1) // 3 + 1}"


def habit_figures(session: Session) -> Figures:
    figures = Figures()
    quarters: dict[str, Quarter] = {}
    as_decider: dict[int, list[bool]] = {}
    for recorded_at, snapshot in session.execute(
        select(Decision.recorded_at, Decision.review_snapshot).where(Decision.revision == 1)
        .order_by(Decision.recorded_at)
    ):
        if snapshot is None:
            figures.without_snapshot += 1
            continue
        label = quarter_of(recorded_at)
        quarter = quarters.setdefault(label, Quarter(label))
        quarter.decisions += 1
        if not snapshot.get("latest_runs"):
            continue
        quarter.with_evidence += 1
        complete = [not person["missing"] for person in snapshot["deciders"]]
        if all(complete):
            quarter.fully_reviewed += 1
        for person, done in zip(snapshot["deciders"], complete, strict=True):
            as_decider.setdefault(person["id"], []).append(done)
    year, month = extract("year", Probe.saved_at), extract("month", Probe.saved_at)
    for y, m, n in session.execute(select(year, month, func.count()).where(Probe.saved_at.is_not(None))
                                   .group_by(year, month)):
        label = f"{int(y)} Q{(int(m) - 1) // 3 + 1}"
        quarters.setdefault(label, Quarter(label)).probes += n
    figures.quarters = sorted(quarters.values(), key=lambda q: q.label)

    reviews = {user_id: (n, runs) for user_id, n, runs in session.execute(
        select(Review.reviewer_id, func.count(), func.count(func.distinct(Review.run_id)))
        .group_by(Review.reviewer_id))}
    proposed = dict(session.execute(
        select(ProposedCase.proposed_by_id, func.count()).group_by(ProposedCase.proposed_by_id)).all())
    probed = dict(session.execute(
        select(Probe.run_by_id, func.count()).where(Probe.saved_at.is_not(None)).group_by(Probe.run_by_id)).all())
    wanted = set(reviews) | set(proposed) | set(as_decider) | set(probed)
    people = session.scalars(
        select(User).where(User.holding(Action.MANAGE_AGENDA) & (User.active.is_(True) | User.id.in_(wanted or [0])))
        .order_by(User.display_name, User.id)
    )
    for user in people:
        n, runs = reviews.get(user.id, (0, 0))
        decided = as_decider.get(user.id, [])
        figures.executives.append(ExecutiveFigures(
            user=Person(user.id, user.display_name, user.email, user.active), reviews=n, runs_reviewed=runs, cases_proposed=proposed.get(user.id, 0),
            probes=probed.get(user.id, 0),
            decided_with_evidence=len(decided), decided_after_review=sum(decided),
        ))
    return figures
