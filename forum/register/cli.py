"""`forum register …` commands (registered on the `forum` command in forum/cli.py)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from forum.core import db
from forum.register import grouping


@click.group("register")
def register_group() -> None:
    """The register of AI systems."""


@register_group.command("recount")
@click.option("--check", is_flag=True, help="Only compare the kept counts with a count from the items; "
                                            "exit 1 when they differ.")
@with_appcontext
def recount_command(check: bool) -> None:
    """Count the groups of items still to bring into the register (the grouping page's) again
    from the items, under the write lock. The forum keeps them current as items change; run this
    after restoring a backup or after writing items around the forum's services."""
    with db.session_scope(current_app) as session:
        if check:
            kept, counted = grouping.kept(session), grouping.counted(session)
            if kept == counted:
                click.echo(f"The register's groups match the items ({len(kept)} groups).")
                return
            for row in sorted(set(kept) ^ set(counted))[:50]:
                click.echo(f"{'kept' if row in kept else 'counted'}: {row[0] or '-'} / {row[1]}: "
                           f"{row[2]} items, {row[3]} decided", err=True)
            raise SystemExit(1)
        groups = grouping.recount(session)
    click.echo(f"The register's groups counted from the items: {groups} groups.")
