"""The demo shows the habit: a decision taken after reviewing the failing cases, one where a
decider had not, decisions without evidence, later reviews and proposed edge cases."""

from sqlalchemy import func, select

from forum.agenda.models import Decision
from forum.proximity import service
from forum.proximity.models import ProposedCase, Review
from forum.trail import service as trail
from forum_seed import demo as seed


def test_the_demo_has_reviewed_and_unreviewed_decisions_reviews_and_proposals(db_session):
    seed.load_demo(db_session)
    db_session.commit()
    snapshots = list(db_session.scalars(select(Decision.review_snapshot).where(Decision.revision == 1)))
    verdicts = [service.fully_reviewed(s) for s in snapshots]
    assert True in verdicts and False in verdicts and None in verdicts
    not_fully = [s for s, v in zip(snapshots, verdicts, strict=True) if v is False]
    # one decision where one decider had reviewed and another had not
    assert any({bool(p["reviewed"]) for p in s["deciders"]} == {True, False} for s in not_fully)
    assert db_session.scalar(select(func.count()).select_from(Review)) >= 4
    assert db_session.scalar(select(func.count()).select_from(ProposedCase)) >= 3
    assert trail.verify_database(db_session).ok
