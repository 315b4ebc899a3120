"""`forum standing …` commands (registered on the `forum` command in forum/cli.py)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from forum.core import db
from forum.weighing import standing


@click.group("standing")
def standing_group() -> None:
    """The items' standing columns (tier, divergence, objection, evidence gates) that the
    escalation queue and the filters read."""


@standing_group.command("rebuild")
@with_appcontext
def rebuild_command() -> None:
    """Recompute every item's standing from its ratings, positions and evidence runs, in one
    transaction. It is kept current on every change; run this after restoring a backup, after
    writing rows around the application, or after changing forum/items/rubric.json or
    forum/evidence/thresholds.json (the tiers and gate thresholds it depends on)."""
    with db.session_scope(current_app) as session:
        items, corrected = standing.rebuild(session.connection())
    click.echo(f"Standing rebuilt for {items} items; {corrected} were out of date.")
    if corrected:  # the kept counts of open items were counted from the old values
        click.echo("Run `forum health recount` to count the kept tallies from the corrected standing.")
