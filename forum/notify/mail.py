"""E-mail delivery from the outbox, after the change has committed.

A change writes its notifications and their outbox rows in its own transaction; nothing here
runs inside it. Delivery happens
- right after the commit, in a background thread (when FORUM_MAIL_SEND_AFTER_COMMIT is on), so
  the request never waits for the SMTP server, and
- from ``forum notify send`` (cron), which sends whatever is due, including retries.
A failed send is logged, counted in ``attempts`` and tried again later with exponential backoff;
after MAX_ATTEMPTS the message is marked failed. Each message is settled in its own short
transaction; on PostgreSQL rows are claimed with SKIP LOCKED so two senders never send one twice.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.auth.models import User
from forum.core import clock
from forum.notify.models import Notification, OutboxMessage
from forum.notify.service import OUTBOX_PENDING

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=6)
BATCH = 100


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    username: str = ""
    password: str = ""
    starttls: bool = False
    tls: bool = False
    timeout: float = 10.0

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        """``smtp://[user:password@]host[:port][?starttls=true]`` or ``smtps://…``."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"FORUM_SMTP_URL must look like smtp://host:port, not {url!r}")
        query = parse_qs(parts.query)
        tls = parts.scheme == "smtps"
        starttls = query.get("starttls", ["false"])[0].lower() in ("1", "true", "yes", "on")
        return cls(
            host=parts.hostname, port=parts.port or (465 if tls else 25),
            username=unquote(parts.username or ""), password=unquote(parts.password or ""),
            starttls=starttls, tls=tls,
            timeout=float(query.get("timeout", ["10"])[0]),
        )


def backoff(attempts: int) -> timedelta:
    """Wait before the next try after ``attempts`` failed ones: 1, 2, 4 … minutes, at most 6 h."""
    return min(BACKOFF_FIRST * (2 ** max(0, attempts - 1)), BACKOFF_MAX)


def compose(notification: Notification, to: User, sender: str, base_url: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to.email
    message["Subject"] = notification.title
    link = base_url.rstrip("/") + notification.link
    message.set_content(
        f"Hello {to.display_name},\n\n{notification.body}\n\nOpen it: {link}\n\n"
        f"Your inbox: {base_url.rstrip('/')}/inbox\n"
        f"Choose what you get by e-mail: {base_url.rstrip('/')}/settings\n"
    )
    return message


def send(settings: SmtpSettings, message: EmailMessage) -> None:
    if settings.tls:
        client = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                  context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    with client:
        if settings.starttls:
            client.starttls(context=ssl.create_default_context())
        if settings.username:
            client.login(settings.username, settings.password)
        client.send_message(message)


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def deliver_due(app: Flask, now: datetime | None = None, limit: int = BATCH) -> DeliveryReport:
    """Send every pending message whose time has come; each settled in its own transaction."""
    report = DeliveryReport()
    url = app.config.get("SMTP_URL") or ""
    if not url:
        return report
    settings = SmtpSettings.from_url(url)
    sender, base_url = app.config["MAIL_FROM"], app.config["BASE_URL"]
    factory = app.extensions["forum.sessionmaker"]
    done: set[int] = set()
    while len(done) < limit:
        with factory() as session:
            conditions = [OutboxMessage.status == "pending",
                          OutboxMessage.next_attempt_at <= (now or clock.now())]
            if done:  # a message that failed in this run waits for the next one
                conditions.append(OutboxMessage.id.not_in(done))
            claim = (
                select(OutboxMessage, Notification, User)
                .join(Notification, OutboxMessage.notification_id == Notification.id)
                .join(User, Notification.user_id == User.id)
                .where(*conditions)
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
                .limit(1)
            )
            if session.get_bind().dialect.name == "postgresql":
                claim = claim.with_for_update(skip_locked=True, of=OutboxMessage)
            row = session.execute(claim).first()
            if row is None:
                break
            outbox, notification, user = row
            done.add(outbox.id)
            _attempt(session, outbox, notification, user, settings, sender, base_url, now, report)
            session.commit()
    return report


def _attempt(session: Session, outbox: OutboxMessage, notification: Notification, user: User,
             settings: SmtpSettings, sender: str, base_url: str, now: datetime | None,
             report: DeliveryReport) -> None:
    outbox.attempts += 1
    if not user.active:
        outbox.status, outbox.last_error = "failed", "the account is deactivated"
        report.failed += 1
        return
    try:
        send(settings, compose(notification, user, sender, base_url))
    except (OSError, smtplib.SMTPException) as error:  # refused, timed out, unreachable …
        outbox.last_error = f"{type(error).__name__}: {error}"[:2000]
        if outbox.attempts >= MAX_ATTEMPTS:
            outbox.status = "failed"
            report.failed += 1
            log.error("e-mail %s to %s failed for good after %d attempts: %s",
                      outbox.id, user.email, outbox.attempts, outbox.last_error)
        else:
            outbox.next_attempt_at = (now or clock.now()) + backoff(outbox.attempts)
            report.retrying += 1
            log.warning("e-mail %s to %s failed (attempt %d), retrying at %s: %s", outbox.id,
                        user.email, outbox.attempts, outbox.next_attempt_at, outbox.last_error)
        return
    outbox.status, outbox.sent_at, outbox.last_error = "sent", clock.now(), ""
    report.sent += 1


# ----------------------------------------------------------------- after-commit delivery
_workers: list[threading.Thread] = []
_workers_lock = threading.Lock()


def _deliver_in_background(app: Flask) -> None:
    try:
        deliver_due(app)
    except Exception:  # never let delivery trouble surface anywhere but the log
        log.exception("background e-mail delivery failed; `forum notify send` will retry")


def after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint (db.attempt) was released: the request's transaction has not committed yet
    app = session.info.pop(OUTBOX_PENDING, None)
    if app is None or not app.config.get("MAIL_SEND_AFTER_COMMIT") or not app.config.get("SMTP_URL"):
        return
    worker = threading.Thread(target=_deliver_in_background, args=(app,), name="forum-mail",
                              daemon=True)
    with _workers_lock:
        _workers[:] = [w for w in _workers if w.is_alive()]
        _workers.append(worker)
    worker.start()


def after_rollback(session: Session) -> None:
    if not session.in_nested_transaction():  # mail queued before a refused savepoint still stands
        session.info.pop(OUTBOX_PENDING, None)


def wait_for_background_delivery(timeout: float = 30.0) -> None:
    """Join the delivery threads started so far (tests, and a clean shutdown of a CLI run)."""
    with _workers_lock:
        workers = list(_workers)
    for worker in workers:
        worker.join(timeout)
