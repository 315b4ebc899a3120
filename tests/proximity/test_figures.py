"""The habit figures on a hand-built data set whose answers are worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from forum.agenda.decisions import AmendmentData, amend_decision, get_decision
from forum.agenda.models import Decision
from forum.core import clock
from forum.health import tallies
from forum.health.proximity import habit_figures
from forum.health.tallies import quarter_of
from forum.proximity import service
from tests.proximity.conftest import MIXED

SUMMER = datetime(2026, 8, 10, 9, 0, tzinfo=UTC)  # 2026 Q3
AUTUMN = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # 2026 Q4


def test_quarters_are_calendar_quarters_of_the_utc_time():
    assert [quarter_of(datetime(2026, m, 1, tzinfo=UTC)) for m in (1, 3, 4, 6, 7, 9, 10, 12)] == \
        ["2026 Q1", "2026 Q1", "2026 Q2", "2026 Q2", "2026 Q3", "2026 Q3", "2026 Q4", "2026 Q4"]


def test_figures_per_quarter_and_per_executive_on_a_hand_built_set(
        db_session, make_user, filer, make_item, make_meeting, attach, decide):
    ann = make_user(role="executive", function="product", name="Ann Exec")
    bob = make_user(role="executive", function="risk", name="Bob Exec")
    make_user(role="executive", function="procurement", name="Cid Exec")  # idle
    gone = make_user(role="executive", function="procurement", name="Dee Exec", active=False)

    def at(moment, fn):
        with clock.override(lambda: moment):
            return fn()

    # 2026 Q3: d1 (both deciders reviewed), d2 (Bob did not), d3 (no evidence), d5 (legacy row).
    def summer():
        items = [make_item(filer, status="escalated", title=f"Summer {n}") for n in range(1, 6)]
        runs = {n: attach(items[n - 1], filer, MIXED) for n in (1, 2)}
        service.record_review(db_session, ann, runs[1], items[0])
        service.record_review(db_session, ann, runs[1], items[0], "a second look")
        service.record_review(db_session, bob, runs[1], items[0])
        service.record_review(db_session, ann, runs[2], items[1])
        service.propose_case(db_session, ann, items[0], service.ProposalData("Two currencies", "20 EUR + 5 USD"))
        service.propose_case(db_session, filer, items[0], service.ProposalData("Typos", "refnud plz"))
        db_session.commit()
        meeting = make_meeting(ann, status="in_session", items=items, starts_in=timedelta(hours=1))
        decisions = [decide(ann, meeting, item, "approved", deciders=[ann, bob]) for item in items[:3]]
        legacy = decide(ann, meeting, items[4], "approved", deciders=[ann])
        db_session.execute(update(Decision).where(Decision.id == legacy.id).values(review_snapshot=None))
        # an amendment is a correction, not another decision
        amend_decision(db_session, ann, get_decision(db_session, decisions[0].id),
                       AmendmentData("approved", "Corrected rationale.", "", None, "typo"))
        db_session.commit()

    # 2026 Q4: d4 (Ann alone, reviewed the latest run of both suites; an older run of one suite too).
    def autumn():
        item = make_item(filer, status="escalated", title="Autumn")
        first = attach(item, filer, MIXED)
        service.record_review(db_session, ann, first, item)
        latest, billing = attach(item, filer, MIXED), attach(item, filer, MIXED, suite="billing")
        service.record_review(db_session, ann, latest, item)
        service.record_review(db_session, ann, billing, item)
        service.propose_case(db_session, ann, item, service.ProposalData("Sarcasm", "Great, another delay."))
        db_session.commit()
        meeting = make_meeting(ann, status="in_session", items=[item], starts_in=timedelta(hours=1))
        decide(ann, meeting, item, "approved", deciders=[ann])

    at(SUMMER, summer)
    at(AUTUMN, autumn)
    # The tallies kept as the history was made counted d5 with its snapshot; the snapshot was
    # then removed by hand (as an older forum left it), so count the tallies from the history.
    kept = habit_figures(db_session)
    assert kept.without_snapshot == 0 and kept.quarters[0].decisions == 4
    tallies.recount(db_session)
    figures = habit_figures(db_session)

    assert [(q.label, q.decisions, q.with_evidence, q.without_evidence, q.fully_reviewed, q.share)
            for q in figures.quarters] == [("2026 Q3", 3, 2, 1, 1, 0.5), ("2026 Q4", 1, 1, 0, 1, 1.0)]
    assert figures.without_snapshot == 1
    rows = {e.user.display_name: (e.reviews, e.runs_reviewed, e.cases_proposed, e.decided_with_evidence,
                                  e.decided_after_review) for e in figures.executives}
    assert rows == {
        "Ann Exec": (6, 5, 2, 3, 3),
        "Bob Exec": (1, 1, 0, 2, 1),
        "Cid Exec": (0, 0, 0, 0, 0),  # active executives are listed even with nothing to show
    }
    assert gone.display_name not in rows  # deactivated, and nothing on the record


def test_no_decisions_no_quarters(db_session, make_user):
    make_user(role="executive")
    figures = habit_figures(db_session)
    assert figures.quarters == [] and figures.without_snapshot == 0
    assert [(e.reviews, e.cases_proposed) for e in figures.executives] == [(0, 0)]
