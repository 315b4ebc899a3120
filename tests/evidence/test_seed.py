"""The demo data set carries evidence through attach_evidence: passing, demo-only, regressed and
stale runs, each with its trail event, and the trail still verifies."""

from sqlalchemy import func, select

from forum.evidence import service
from forum.evidence.models import EvidenceRun
from forum.items.models import DecisionItem
from forum.trail import service as trail
from forum.trail.models import Event
from forum_seed import demo as seed


def test_demo_evidence_shows_every_gate_outcome(db_session):
    seed.load_demo(db_session)
    db_session.commit()
    runs = db_session.scalars(select(EvidenceRun)).all()
    assert len(runs) >= 8
    assert db_session.scalar(select(func.count()).select_from(Event).where(Event.kind == "evidence.attached")) == len(runs)
    items = {i.id: i for i in db_session.scalars(select(DecisionItem))}
    outcomes = set()
    for run in runs:
        status = {g.key: g.status for g in service.recheck(run, items[run.item_id], None)}
        if all(s in ("pass", "not_applicable") for s in status.values()):
            outcomes.add("passing")
        if status["coverage"] == "warn":
            outcomes.add("demo-only")
        if status["regression"] == "fail":
            outcomes.add("regressed")
        if status["freshness"] == "fail":
            outcomes.add("stale")
    assert outcomes == {"passing", "demo-only", "regressed", "stale"}
    assert {r.format for r in runs} >= {"csv", "junit", "promptfoo", "inspect-eval"}
    assert trail.verify_database(db_session).ok
