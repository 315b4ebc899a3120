"""`forum health …` commands (registered on the `forum` command in forum/cli.py)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from forum.core import db
from forum.health import tallies


@click.group("health")
def health_group() -> None:
    """The forum-health figures."""


@health_group.command("recount")
@click.option("--check", is_flag=True, help="Only compare the kept tallies with a count from the history; "
                                            "exit 1 when they differ.")
@with_appcontext
def recount_command(check: bool) -> None:
    """Count the health tallies (cycle times, escalations, habit figures, the age and freshness
    of current evidence) again from the history, under the write lock. The forum keeps them
    current as changes happen; run this after restoring a backup, after loading data in bulk
    outside the forum's services, or after changing the rubric or the evidence thresholds."""
    with db.session_scope(current_app) as session:
        if check:
            counted, cycles = tallies.count_history(session)
            kept, kept_cycles = tallies.stored(session)
            differ = sorted(key for key in set(kept) | {k for k, n in counted.items() if n}
                            if kept.get(key, 0) != counted.get(key, 0))
            moved = {tuple(c.values()) for c in cycles} ^ {tuple(c.values()) for c in kept_cycles}
            if not differ and not moved:
                click.echo("The health tallies match the history.")
                return
            for metric, period, key in differ[:50]:
                click.echo(f"{metric} {period or '-'} {key or '-'}: kept {kept.get((metric, period, key), 0)}, "
                           f"history {counted.get((metric, period, key), 0)}", err=True)
            if moved:
                click.echo(f"{len({row[0] for row in moved})} decided items' cycle times differ.", err=True)
            raise SystemExit(1)
        written = tallies.recount(session)
    click.echo(f"Health tallies counted from the history: {written} counts.")
