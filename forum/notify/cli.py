"""`forum notify send` and `forum reminders run` (registered on the `forum` command)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from forum.core import db
from forum.notify import mail, reminders


@click.group("notify")
def notify_group() -> None:
    """Notifications: e-mail delivery."""


@notify_group.command("send")
@with_appcontext
def send_command() -> None:
    """Send the e-mail that is due from the outbox, retrying failed sends with backoff.
    Run it every few minutes from cron when FORUM_SMTP_URL is set."""
    if not current_app.config.get("SMTP_URL"):
        click.echo("FORUM_SMTP_URL is not set: notifications stay in-app, nothing to send.")
        return
    report = mail.deliver_due(current_app)
    click.echo(f"{report.sent} sent, {report.retrying} to retry later, {report.failed} given up.")


@click.group("reminders")
def reminders_group() -> None:
    """Reminders of due and overdue actions, and of positions missing before meetings."""


@reminders_group.command("run")
@with_appcontext
def run_command() -> None:
    """Send the reminders that are due and were not sent before (meant for cron; running it
    twice sends nothing twice)."""
    with db.session_scope(current_app) as session:
        report = reminders.run(session)
    for line in report.lines:
        click.echo(line)
    click.echo(f"{report.total} reminder{'' if report.total == 1 else 's'} sent: "
               f"{report.due_soon} due soon, {report.overdue} overdue, "
               f"{report.positions_missing} positions missing.")
    mail.wait_for_background_delivery()
