"""`forum agenda expire`: lapsed approvals go back to the escalation queue."""

from __future__ import annotations

from datetime import timedelta

from click.testing import CliRunner
from flask.cli import ScriptInfo

from forum.cli import main
from forum.core import clock
from forum.trail import service as trail


def test_forum_agenda_expire_returns_lapsed_approvals(
        app, db_session, chair, filer, make_item, make_meeting, decide):
    lapsed = make_item(filer, status="escalated", title="Temporary exception", category="policy_exception")
    valid = make_item(filer, status="escalated", title="Still valid")
    start = clock.now()
    with clock.override(lambda: start - timedelta(days=40)):
        meeting = make_meeting(chair, status="in_session", items=[lapsed, valid])
        decide(chair, meeting, lapsed, "approved", expires_on=(start - timedelta(days=30)).date())
        decide(chair, meeting, valid, "approved_with_conditions", expires_on=(start + timedelta(days=30)).date())
    runner = CliRunner()
    # The command runs on the test app (whose engine the fixture disposes), not on a new one.
    info = ScriptInfo(create_app=lambda: app)
    result = runner.invoke(main, ["agenda", "expire"], obj=info, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert f"#{lapsed.id} Temporary exception: approval expired" in result.output
    assert "1 approval expired." in result.output
    db_session.expire_all()
    assert db_session.get(type(lapsed), lapsed.id).status == "escalated"
    assert db_session.get(type(valid), valid.id).status == "decided"
    assert trail.events_for(db_session, lapsed.subject)[-1].data["note"] == "approval expired"
    again = runner.invoke(main, ["agenda", "expire"], obj=info, catch_exceptions=False)
    assert "0 approvals expired." in again.output
