"""`forum search …` commands (registered on the `forum` command in forum/cli.py)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from forum.core import db
from forum.search import index


@click.group("search")
def search_group() -> None:
    """The full-text search index."""


@search_group.command("reindex")
@with_appcontext
def reindex_command() -> None:
    """Rebuild the search index from the items, comments, decisions and evidence runs, in one
    transaction (searches keep seeing the old index until it commits). The index is kept current
    on every change; rebuild it after restoring a backup or changing what is indexed."""
    with db.session_scope(current_app) as session:
        counts = index.rebuild(session)
    click.echo("Search index rebuilt: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()) + ".")
