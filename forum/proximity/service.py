"""Rules of technical proximity: reviewing an evidence run's failing cases, the snapshot of
reviews a decision keeps, and edge cases proposed by the forum (with their CSV export in the
evidence CSV format of forum/evidence/parsers/csv_table.py).

Services take the session and the acting user, add and flush, never commit; each change writes
one trail event. Bulk readers take many items at once and issue one query per table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from forum.auth.models import User
from forum.core import clock, spreadsheet
from forum.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from forum.core.policy import Action, allows
from forum.evidence.models import EvidenceRun
from forum.items.models import DecisionItem
from forum.items.service import can_view
from forum.proximity.models import ProposedCase, Review
from forum.trail.service import record

MAX_NOTE = 2000
MAX_DESCRIPTION = 300
MAX_EXAMPLE = 2000
MAX_OBSERVED = 20_000  # characters of an observed answer kept with a case
CLOSED_STATUSES = ("closed",)
#: The suite name a proposed-case file carries, so an upload of it never mixes with a real suite.
PROPOSED_SUITE = "Proposed edge cases"
CSV_HEADER = ("case_id", "passed", "category", "tags", "suite", "input", "expected", "output", "description",
              "proposed_by", "proposed_at")


# ------------------------------------------------------------------------------------ reviews
def can_review(actor: User | None) -> bool:
    """Executives review failing cases (docs/features.md): it is their habit on the record."""
    return allows(actor, Action.REVIEW_CASES)


def ordered_cases(run: EvidenceRun) -> list[dict]:
    """The run's stored failing cases, edge cases first, otherwise in the file's order; each
    with its 1-based ``number`` in that order."""
    cases = sorted(run.failing_cases or [], key=lambda c: not c.get("edge"))
    return [{**case, "number": n} for n, case in enumerate(cases, start=1)]


def record_review(session: Session, actor: User, run: EvidenceRun, item: DecisionItem, note: str = "") -> Review:
    """An executive marks the review of ``run``'s failing cases done: one row, one event
    ``evidence.reviewed``. A run without failing cases can be reviewed too ("nothing failed")."""
    if not can_review(actor):
        raise PermissionDenied("Only executives record reviews of failing cases.")
    if not can_view(actor, item) or run.item_id != item.id:
        raise NotFound(f"There is no evidence run {run.id}.")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ValidationError(f"The note has {len(note)} characters; at most {MAX_NOTE}.", "note")
    cases = run.failing_cases or []
    review = Review(run_id=run.id, item_id=item.id, reviewer_id=actor.id, cases_shown=len(cases),
                    note=note, reviewed_at=clock.now())
    session.add(review)
    session.flush()
    record(session, actor, "evidence.reviewed", item.subject, {
        "review": review.id, "run_id": run.id, "suite": run.suite,
        "cases_shown": len(cases), "edge_cases_shown": sum(1 for c in cases if c.get("edge")),
        "failing_total": run.failed + run.errored,
        "outcome": "nothing failed" if not cases else "failing cases reviewed",
        "note": note,
    })
    return review


def reviews_of_run(session: Session, run_id: int, limit: int = 50) -> list[Review]:
    return list(session.scalars(
        select(Review).where(Review.run_id == run_id).options(joinedload(Review.reviewer))
        .order_by(Review.id.desc()).limit(limit)
    ))


def latest_runs(session: Session, item_ids: Iterable[int], at: datetime | None = None) -> dict[int, list[EvidenceRun]]:
    """The latest run of each suite of each item (uploaded by ``at`` when given), by suite
    name: one query."""
    ids = sorted(set(item_ids))
    found: dict[int, list[EvidenceRun]] = {item_id: [] for item_id in ids}
    if not ids:
        return found
    latest = select(func.max(EvidenceRun.id)).where(EvidenceRun.item_id.in_(ids))
    if at is not None:
        latest = latest.where(EvidenceRun.uploaded_at <= at)
    latest = latest.group_by(EvidenceRun.item_id, EvidenceRun.suite).scalar_subquery()
    for run in session.scalars(select(EvidenceRun).where(EvidenceRun.id.in_(latest))
                               .order_by(EvidenceRun.suite, EvidenceRun.id)):
        found[run.item_id].append(run)
    return found


def reviewed(session: Session, item_ids: Iterable[int], before: datetime | None = None) -> dict[tuple[int, int], datetime]:
    """(reviewer id, run id) → when that reviewer last reviewed the run, for the runs of
    ``item_ids`` (reviews up to ``before`` when given): one query."""
    ids = sorted(set(item_ids))
    if not ids:
        return {}
    query = select(Review.reviewer_id, Review.run_id, func.max(Review.reviewed_at)).where(Review.item_id.in_(ids))
    if before is not None:
        query = query.where(Review.reviewed_at <= before)
    rows = session.execute(query.group_by(Review.reviewer_id, Review.run_id))
    return {(user_id, run_id): at for user_id, run_id, at in rows}


def _run_ref(run: EvidenceRun) -> dict:
    return {"id": run.id, "suite": run.suite, "failing": run.failed + run.errored,
            "cases": len(run.failing_cases or [])}


def decision_snapshot(session: Session, item: DecisionItem, deciders: Sequence[User], at: datetime) -> dict:
    """What each decider had reviewed when the decision was taken (two queries): the item's
    latest run per suite, and per decider every run of the item they had reviewed by ``at``
    and the latest runs they had not. Stored on the decision (JSON) as it was at that moment."""
    runs = latest_runs(session, [item.id], at)[item.id]
    seen = reviewed(session, [item.id], before=at)
    suites = {run.id: run.suite for run in runs}
    if seen:  # runs reviewed earlier than the latest ones need their suite names too
        older = {run_id for (_user, run_id) in seen} - set(suites)
        if older:
            suites.update(session.execute(
                select(EvidenceRun.id, EvidenceRun.suite).where(EvidenceRun.id.in_(older))).all())
    people = []
    for user in deciders:
        done = sorted(((run_id, when) for (user_id, run_id), when in seen.items() if user_id == user.id))
        people.append({
            "id": user.id, "email": user.email, "name": user.display_name,
            "reviewed": [{"run": run_id, "suite": suites.get(run_id, ""), "at": iso(when)} for run_id, when in done],
            "missing": [run.id for run in runs if (user.id, run.id) not in seen],
        })
    return {"at": iso(at), "latest_runs": [_run_ref(run) for run in runs], "deciders": people}


def snapshot_summary(snapshot: dict | None) -> dict[str, list[int]] | None:
    """For the decision's trail event: each decider's e-mail → the run ids reviewed before."""
    if snapshot is None:
        return None
    return {p["email"]: [r["run"] for r in p["reviewed"]] for p in snapshot["deciders"]}


def fully_reviewed(snapshot: dict | None) -> bool | None:
    """Every decider had reviewed the latest run of every suite; None when there was no evidence
    at decision time (or no snapshot)."""
    if not snapshot or not snapshot.get("latest_runs"):
        return None
    return all(not p["missing"] for p in snapshot["deciders"])


@dataclass
class BoardRow:
    user: User
    reviewed: list[datetime | None]  # per run of ``runs``, when this user last reviewed it

    @property
    def complete(self) -> bool:
        return all(at is not None for at in self.reviewed)


@dataclass
class Board:
    """Who among the possible deciders has reviewed which of an item's latest runs."""

    runs: list[EvidenceRun]
    rows: list[BoardRow]


def review_boards(session: Session, item_ids: Iterable[int], people: Sequence[User]) -> dict[int, Board]:
    """Boards for several items at once (two queries), for the decision form."""
    ids = sorted(set(item_ids))
    runs = latest_runs(session, ids)
    seen = reviewed(session, ids)
    return {
        item_id: Board(runs[item_id], [BoardRow(u, [seen.get((u.id, r.id)) for r in runs[item_id]]) for u in people])
        for item_id in ids
    }


# ----------------------------------------------------------------------------- proposed cases
@dataclass
class ProposalData:
    description: str
    example_input: str
    observed_output: str = ""  # what the model answered when someone tried it (a probe)


def can_propose(actor: User, item: DecisionItem) -> bool:
    return allows(actor, Action.TAKE_PART) and can_view(actor, item) and item.status not in CLOSED_STATUSES


def propose_case(session: Session, actor: User, item: DecisionItem, data: ProposalData) -> ProposedCase:
    """Staff and executives propose an edge case the evidence does not cover yet: one row, one
    event ``case.proposed``. Refused on a closed item and without a description or an input."""
    if not allows(actor, Action.TAKE_PART):
        raise PermissionDenied("Only staff and executives propose edge cases.")
    if not can_view(actor, item):
        raise NotFound(f"There is no item {item.id}.")
    if item.status in CLOSED_STATUSES:
        raise Conflict(f"The item is {item.status}: edge cases can no longer be proposed for it.", "status")
    description = " ".join((data.description or "").split())
    example = (data.example_input or "").strip()
    if not description:
        raise ValidationError("Describe the edge case in a sentence.", "description")
    if len(description) > MAX_DESCRIPTION:
        raise ValidationError(f"The description has {len(description)} characters; at most {MAX_DESCRIPTION}.",
                              "description")
    if not example:
        raise ValidationError("Give an example input the model should be tested with.", "example_input")
    if len(example) > MAX_EXAMPLE:
        raise ValidationError(f"The example input has {len(example)} characters; at most {MAX_EXAMPLE}.",
                              "example_input")
    observed = (data.observed_output or "")[:MAX_OBSERVED]
    case = ProposedCase(item_id=item.id, description=description, example_input=example,
                        observed_output=observed, proposed_by_id=actor.id, proposed_at=clock.now())
    session.add(case)
    session.flush()
    payload = {"case": case.id, "description": description, "example_input": example}
    if observed:
        payload["observed_output"] = observed
    record(session, actor, "case.proposed", item.subject, payload)
    return case


def proposed_cases(session: Session, item_ids: Iterable[int]) -> dict[int, list[ProposedCase]]:
    """Each item's proposed cases, newest first, with their proposers (one query)."""
    ids = sorted(set(item_ids))
    found: dict[int, list[ProposedCase]] = {item_id: [] for item_id in ids}
    if ids:
        for case in session.scalars(
            select(ProposedCase).where(ProposedCase.item_id.in_(ids))
            .options(joinedload(ProposedCase.proposed_by)).order_by(ProposedCase.id.desc())
        ):
            found[case.item_id].append(case)
    return found


def newest_proposed(session: Session, item_ids: Iterable[int], limit: int) -> tuple[dict[int, list[ProposedCase]], dict[int, int]]:
    """Each item's ``limit`` newest proposed cases with their proposers, and how many each item
    has in all: one query (the count is a window over each item's cases)."""
    ids = sorted(set(item_ids))
    found: dict[int, list[ProposedCase]] = {item_id: [] for item_id in ids}
    counts = dict.fromkeys(ids, 0)
    if not ids:
        return found, counts
    ranked = select(
        ProposedCase.id,
        func.row_number().over(partition_by=ProposedCase.item_id, order_by=ProposedCase.id.desc()).label("n"),
        func.count().over(partition_by=ProposedCase.item_id).label("total"),
    ).where(ProposedCase.item_id.in_(ids)).subquery()
    for case, total in session.execute(
        select(ProposedCase, ranked.c.total).join(ranked, ranked.c.id == ProposedCase.id)
        .where(ranked.c.n <= limit).options(joinedload(ProposedCase.proposed_by))
        .order_by(ProposedCase.id.desc())
    ):
        found[case.item_id].append(case)
        counts[case.item_id] = total
    return found, counts


def export_csv(cases: Sequence[ProposedCase]) -> str:
    """The proposed cases as a CSV in the forum's own evidence format: every case is an edge
    case (category ``edge-case``) not run yet (``passed`` = ``skipped``), so the file uploads
    as evidence as it is, and the test team fills in ``passed`` (and ``expected``) once
    their suite runs the cases; ``output`` is what the model answered when someone tried it
    hands-on (empty otherwise). Oldest first; header only when there are none."""
    return spreadsheet.rows_text(CSV_HEADER, ([
        case.case_id, "skipped", "edge-case", "edge-case;proposed", PROPOSED_SUITE, case.example_input, "",
        case.observed_output, case.description, case.proposed_by.email, iso(case.proposed_at),
    ] for case in sorted(cases, key=lambda c: c.id)))


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")
