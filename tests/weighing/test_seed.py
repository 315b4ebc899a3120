"""The demo shows the forum: divergent, objected and strategic items, escalations with records,
and items nobody has weighed yet; all through the services, so the trail verifies."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from forum.core.config import load_settings
from forum.items.models import DecisionItem
from forum.trail import service as trail
from forum.trail.models import Event
from forum.weighing import queue, rules, weigh
from forum.weighing.models import Comment, Escalation
from forum_seed import demo as seed
from forum_seed import demo_weighing as demo


@pytest.fixture
def seeded(db_session):
    seed.load_demo(db_session)
    db_session.commit()
    return db_session


def test_the_demo_shows_divergent_objected_strategic_and_unweighed_items(seeded):
    open_items = seeded.scalars(select(DecisionItem).where(DecisionItem.status != "draft")).all()
    weighings = weigh.weigh(seeded, open_items, rules.ForumSettings())
    held = {rule for w in weighings.values() for rule in (r.rule for r in w.reasons)}
    assert {"strategic", "objection", "divergence", "exposure"} <= held
    recommended = [w for w in weighings.values() if w.recommended]
    for rule in ("strategic", "objection", "divergence"):
        assert any(rule in [r.rule for r in w.reasons] for w in recommended), rule
    assert any(w.tier is None for w in weighings.values())
    assert any(w.tier and not w.reasons for w in weighings.values())  # weighed, nothing to escalate
    page = queue.escalation_queue(seeded, queue.QueueFilters(), rules.ForumSettings(), per_page=100)
    assert {e.item.status for e in page.items} == {"open", "escalated"}
    assert page.items[0].weighing.tier.key == "strategic"


def test_every_demo_escalation_has_its_record_and_one_event(seeded):
    events = seeded.scalars(select(Event).where(Event.kind == "item.status_changed")).all()
    escalate_events = [e for e in events if e.data["action"] == "escalate"]
    escalations = seeded.scalars(select(Escalation).order_by(Escalation.escalated_at)).all()
    assert len(escalations) == len(escalate_events) > 5
    assert [e.reason for e in escalations] == [e.data["note"] for e in escalate_events]
    assert all(e.actor_id for e in escalations)


def test_the_demo_forum_activity_is_in_the_trail_and_the_chain_verifies(seeded):
    kinds = set(seeded.scalars(select(Event.kind)))
    assert {"weight.rated", "position.taken", "comment.added", "comment.edited"} <= kinds
    assert seeded.scalars(select(Comment).where(Comment.edited_at.is_not(None))).first() is not None
    assert trail.verify_database(seeded).ok
    times = list(seeded.scalars(select(Event.at).order_by(Event.seq)))
    assert times == sorted(times)


def test_the_forum_demo_file_is_checked(tmp_path, db_session):
    path = tmp_path / "forum.json"
    path.write_text(json.dumps({"items": [{"item": "x", "steps": [{"days_ago": 3, "by": "a@b.c"}]}]}))
    with pytest.raises(demo.ForumDemoError, match="exactly one of rate, position, comment, edit_comment"):
        demo.demo_steps(db_session, {}, path)
    path.write_text("[]")
    with pytest.raises(demo.ForumDemoError, match="Cannot read"):
        demo.demo_steps(db_session, {}, path)


def test_forum_settings_come_from_the_environment():
    settings = load_settings(environ={
        "FORUM_REQUIRED_FUNCTIONS": "risk,legal", "FORUM_ESCALATION_EXPOSURE_THRESHOLD": "1000",
    })
    forum_settings = rules.ForumSettings.from_config(settings)
    assert forum_settings == rules.ForumSettings(("risk", "legal"), 1000)
    assert rules.ForumSettings.from_config(load_settings(environ={})) == rules.ForumSettings()
