"""`forum agenda …` commands (registered on the `forum` command in forum/cli.py)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from forum.agenda.decisions import expire_approvals
from forum.core import db


@click.group("agenda")
def agenda_group() -> None:
    """The executive agenda."""


@agenda_group.command("expire")
@with_appcontext
def expire_command() -> None:
    """Return items whose time-limited approval has lapsed to the escalation queue
    ("approval expired"). Run it daily, e.g. from cron."""
    with db.session_scope(current_app) as session:
        returned = expire_approvals(session)
        for item in returned:
            click.echo(f"#{item.id} {item.title}: approval expired, back in the escalation queue")
    click.echo(f"{len(returned)} approval{'' if len(returned) == 1 else 's'} expired.")
