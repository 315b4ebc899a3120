"""E-mail through the outbox to a REAL SMTP server (aiosmtpd on 127.0.0.1): what arrives, that a
failing server never breaks the change, retries with backoff, and the after-commit delivery."""

from __future__ import annotations

import email
from datetime import timedelta
from email import policy

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import select

from forum.cli import main
from forum.core import clock
from forum.items.models import DecisionItem
from forum.notify import mail, service
from forum.notify.models import Notification, OutboxMessage


@pytest.fixture
def app_config(app_config, smtp_server):
    return {**app_config, "SMTP_URL": smtp_server.url, "MAIL_SEND_AFTER_COMMIT": False,
            "BASE_URL": "https://forum.example", "MAIL_FROM": "Forum <forum@example.org>"}


def _escalate_through_the_page(client, login, user, item):
    login(user)
    response = client.post(f"/items/{item.id}/escalations",
                           data={"reason": "Strategic weight.", "version": str(item.version)})
    assert response.status_code == 302, response.get_data(as_text=True)


def _outbox(db_session):
    db_session.expire_all()
    return list(db_session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def _received(smtp_server):
    return [(env.rcpt_tos, email.message_from_bytes(env.content, policy=policy.default)) for env in smtp_server.handler.messages]


def test_a_change_queues_mail_and_delivery_sends_it_with_a_link(
        app, client, login, people, make_item, db_session, smtp_server):
    item = make_item(people["procurement"], status="open", title="Vendor X")
    _escalate_through_the_page(client, login, people["product"], item)
    queued = _outbox(db_session)
    assert queued and all(m.status == "pending" and m.attempts == 0 for m in queued)
    assert smtp_server.handler.messages == []  # nothing is sent inside the request

    report = mail.deliver_due(app)
    assert report.sent == len(queued) and report.retrying == 0
    received = {tuple(to): msg for to, msg in _received(smtp_server)}
    message = received[(people["procurement"].email,)]
    assert message["Subject"] == "Your function's position is asked on “Vendor X”"
    assert message["From"] == "Forum <forum@example.org>"
    body = message.get_content()
    assert f"https://forum.example/items/{item.id}" in body
    assert "Dee Product escalated to the executives “Vendor X”" in body
    assert all(m.status == "sent" and m.attempts == 1 and m.sent_at for m in _outbox(db_session))
    assert mail.deliver_due(app).sent == 0  # sent once only


def test_a_failing_smtp_server_never_breaks_the_change_and_the_send_is_retried(
        app, client, login, people, make_item, db_session, smtp_server):
    smtp_server.handler.refuse = True
    item = make_item(people["procurement"], status="open", title="Vendor Y")
    _escalate_through_the_page(client, login, people["product"], item)
    db_session.expire_all()
    assert db_session.get(DecisionItem, item.id).status == "escalated"  # committed

    now = clock.now()
    report = mail.deliver_due(app, now=now)
    assert report.sent == 0 and report.retrying >= 1
    waiting = _outbox(db_session)
    assert all(m.status == "pending" and m.attempts == 1 for m in waiting)
    assert all("451" in m.last_error for m in waiting)
    assert all(m.next_attempt_at == now + mail.backoff(1) for m in waiting)
    assert mail.deliver_due(app, now=now).sent == 0  # not due yet: nothing tried
    assert all(m.attempts == 1 for m in _outbox(db_session))

    smtp_server.handler.refuse = False
    report = mail.deliver_due(app, now=now + timedelta(minutes=2))
    assert report.sent == len(waiting)
    assert all(m.status == "sent" and m.attempts == 2 and m.last_error == "" for m in _outbox(db_session))
    assert people["procurement"].email in [to[0] for to, _m in _received(smtp_server)]


def test_an_unreachable_server_is_retried_then_given_up(app, people, db_session, smtp_server):
    app.config["SMTP_URL"] = "smtp://127.0.0.1:9?timeout=2"  # nothing listens on the discard port
    with app.app_context():
        service.notify(db_session, [people["risk"]], service.Message("item_state", "item:1", "T", "/items/1"))
        db_session.commit()
    moment = clock.now()
    for attempt in range(1, mail.MAX_ATTEMPTS + 1):
        report = mail.deliver_due(app, now=moment)
        moment += mail.backoff(attempt)
    [message] = _outbox(db_session)
    assert message.status == "failed" and message.attempts == mail.MAX_ATTEMPTS
    assert report.failed == 1
    assert mail.backoff(1) == timedelta(minutes=1) and mail.backoff(3) == timedelta(minutes=4)
    assert mail.backoff(20) == mail.BACKOFF_MAX


def test_after_commit_delivery_sends_without_the_command(
        app, client, login, people, make_item, db_session, smtp_server):
    app.config["MAIL_SEND_AFTER_COMMIT"] = True
    item = make_item(people["procurement"], status="open", title="Vendor Z")
    _escalate_through_the_page(client, login, people["product"], item)
    mail.wait_for_background_delivery()
    assert people["procurement"].email in [to[0] for to, _m in _received(smtp_server)]
    assert all(m.status == "sent" for m in _outbox(db_session))


def test_email_preferences_decide_what_is_queued(app, people, db_session):
    risk, risk2 = people["risk"], people["risk2"]
    with app.app_context():
        service.set_email_kinds(db_session, risk, ["action_due"])  # item_state off
        risk2.email_notifications = False
        db_session.commit()
        written = service.notify(db_session, [risk, risk2, people["product"]], service.Message(
            "item_state", "item:1", "T", "/items/1"))
        db_session.commit()
    assert len(written) == 3  # everyone gets it in the inbox
    queued = {db_session.get(Notification, m.notification_id).user_id for m in _outbox(db_session)}
    assert queued == {people["product"].id}


def test_without_smtp_nothing_is_queued(app, people, db_session):
    app.config["SMTP_URL"] = ""
    with app.app_context():
        service.notify(db_session, [people["risk"]], service.Message("item_state", "item:1", "T", "/items/1"))
        db_session.commit()
        assert mail.deliver_due(app).sent == 0
    assert _outbox(db_session) == []


def test_forum_notify_send_command(app, people, db_session, smtp_server):
    with app.app_context():
        service.notify(db_session, [people["risk"]], service.Message("item_state", "item:1", "T", "/items/1"))
        db_session.commit()
    result = CliRunner().invoke(main, ["notify", "send"], obj=ScriptInfo(create_app=lambda: app),
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "1 sent, 0 to retry later, 0 given up." in result.output
    assert [to for to, _m in _received(smtp_server)] == [[people["risk"].email]]


def test_smtp_url_parsing():
    s = mail.SmtpSettings.from_url("smtp://bot%40example.org:s3cret@mail.example:587?starttls=true")
    assert (s.host, s.port, s.username, s.password, s.starttls, s.tls) == (
        "mail.example", 587, "bot@example.org", "s3cret", True, False)
    assert mail.SmtpSettings.from_url("smtps://mail.example").port == 465
    with pytest.raises(ValueError):
        mail.SmtpSettings.from_url("http://mail.example")


def test_after_commit_delivery_waits_for_the_request_not_for_its_savepoint(app, db_session, monkeypatch):
    """A change made under db.attempt releases a savepoint before the request commits: delivery
    must start only at the real commit, when the queued mail can be read by another connection."""
    from forum.notify.service import OUTBOX_PENDING

    app.config.update(MAIL_SEND_AFTER_COMMIT=True, SMTP_URL="smtp://127.0.0.1:1")
    started = []
    monkeypatch.setattr(mail, "_deliver_in_background", lambda application: started.append(application))
    with db_session.begin_nested():
        db_session.info[OUTBOX_PENDING] = app
    mail.wait_for_background_delivery()
    assert started == [] and db_session.info[OUTBOX_PENDING] is app
    db_session.commit()
    mail.wait_for_background_delivery()
    assert started == [app] and OUTBOX_PENDING not in db_session.info
