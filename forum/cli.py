"""The `forum` command: demo, db, seed, users, trail (plus Flask's run, shell and routes)."""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path

import click
from alembic import command as alembic_command
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from werkzeug.serving import run_simple
from sqlalchemy import func, inspect, select

from forum import create_app, db, seed
from forum.agenda.cli import agenda_group
from forum.auth import service as accounts
from forum.auth.models import ROLES, User
from forum.errors import DomainError
from forum.migrate import alembic_config
from forum.trail import chain
from forum.trail import service as trail

def _create_app():
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True,
             add_version_option=False, load_dotenv=False)
def main() -> None:
    """Decision Forum: AI decision items, evidence, executive agendas and the decision trail.

    Every command honours FORUM_DATABASE_URL (default: SQLite in the instance folder).
    """


main.add_command(agenda_group)


def _fail(message: str, code: int = 1):
    click.secho(message, fg="red", err=True)
    sys.exit(code)


def _url() -> str:
    return current_app.config["DATABASE_URL"]


# ----------------------------------------------------------------------------------- database
@main.group("db")
def db_group() -> None:
    """Schema migrations (Alembic)."""


@db_group.command("upgrade")
@click.argument("revision", default="head")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: head)."""
    alembic_command.upgrade(alembic_config(_url()), revision)
    click.echo(f"Database at {revision}.")


@db_group.command("downgrade")
@click.argument("revision")
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (e.g. -1 or base)."""
    alembic_command.downgrade(alembic_config(_url()), revision)


@db_group.command("current")
@with_appcontext
def db_current() -> None:
    """Show the revision the database is at."""
    alembic_command.current(alembic_config(_url()), verbose=False)


@db_group.command("history")
@with_appcontext
def db_history() -> None:
    """List the migrations."""
    alembic_command.history(alembic_config(_url()))


@db_group.command("revision")
@click.option("-m", "--message", required=True, help="What the schema change does.")
@click.option("--autogenerate/--empty", default=True, help="Compare the models with the database.")
@with_appcontext
def db_revision(message: str, autogenerate: bool) -> None:
    """Write a new migration (review it by eye before committing)."""
    alembic_command.revision(alembic_config(_url()), message=message, autogenerate=autogenerate)


def _database_is_new() -> bool:
    with db.session_scope(current_app) as session:
        if not inspect(session.get_bind()).has_table("users"):
            return True
        return not session.scalar(select(func.count()).select_from(User))


# ---------------------------------------------------------------------------------------- demo
@main.command("seed")
@click.option("--force", is_flag=True, help="Load the demo data even if the database has users.")
@with_appcontext
def seed_command(force: bool) -> None:
    """Load the demo data set from seed/ through the forum's own services."""
    if not _database_is_new() and not force:
        _fail("The database already has users; the demo data is only loaded into a new database "
              "(use --force to load it anyway).")
    with db.session_scope(current_app) as session:
        summary = seed.load_demo(session)
    click.echo(f"Demo data loaded: {summary}.")


@main.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@with_appcontext
def demo(host: str, port: int) -> None:
    """Migrate, load the demo data when the database is new, print the logins and serve."""
    alembic_command.upgrade(alembic_config(_url()), "head")
    if _database_is_new():
        with db.session_scope(current_app) as session:
            summary = seed.load_demo(session)
        click.echo(f"New database: demo data loaded ({summary}).")
    click.echo("")
    click.echo(f"Decision Forum (demo) on http://{host}:{port}/  — database: {_safe_url(_url())}")
    click.echo(f"Demo logins (password for all: {seed.DEMO_PASSWORD}):")
    for email, role in seed.DEMO_LOGINS:
        click.echo(f"  {email:<28} {role}")
    click.echo("The demo password is for this demo only; never use it on a real install.\n")
    # Flask ignores app.run() inside its CLI, so serve with Werkzeug directly (threaded, no debugger).
    run_simple(host, port, current_app._get_current_object(), threaded=True, use_reloader=False,
               use_debugger=False)


def _safe_url(url: str) -> str:
    """The URL without a password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


# --------------------------------------------------------------------------------------- users
@main.group("users")
def users_group() -> None:
    """Accounts."""


@users_group.command("create")
@click.option("--email", required=True)
@click.option("--name", "display_name", required=True, help="Display name.")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--function", "function_key", default=None, help="Function key (e.g. procurement).")
@click.option("--password-env", default=None, metavar="VAR",
              help="Read the password from this environment variable instead of prompting.")
@with_appcontext
def users_create(email, display_name, role, function_key, password_env) -> None:
    """Create an account (the password is asked for at a prompt)."""
    if password_env:
        password = os.environ.get(password_env, "")
        if not password:
            _fail(f"The environment variable {password_env} is empty or not set.")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with db.session_scope(current_app) as session:
            user = accounts.create_user(
                session, None,
                accounts.NewUser(email=email, display_name=display_name, role=role,
                                 password=password, function=function_key),
            )
            click.echo(f"Created {user.email} ({user.role}).")
    except DomainError as error:
        _fail(f"Not created: {error.reason}")


@users_group.command("deactivate")
@click.argument("email")
@with_appcontext
def users_deactivate(email: str) -> None:
    """Deactivate an account: it can no longer log in and is kept for the trail."""
    try:
        with db.session_scope(current_app) as session:
            user = accounts.deactivate_user(session, None, email)
            click.echo(f"Deactivated {user.email}.")
    except DomainError as error:
        _fail(f"Not deactivated: {error.reason}")


@users_group.command("list")
@with_appcontext
def users_list() -> None:
    """List the accounts."""
    with db.session_scope(current_app) as session:
        for user in session.scalars(select(User).order_by(User.email)):
            state = "active" if user.active else "deactivated"
            click.echo(f"{user.email:<32} {user.role:<10} {user.function_key or '-':<14} {state}")


# --------------------------------------------------------------------------------------- trail
@main.group("trail")
def trail_group() -> None:
    """The decision trail: verify and export."""


@trail_group.command("verify")
@click.option("--file", "path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Check a JSON Lines export on its own, without the database.")
def trail_verify(path: Path | None) -> None:
    """Check the hash chain; exit 1 naming the first bad seq if a link is broken."""
    if path is not None:
        result = _verify_file(path)
    else:
        app = create_app()
        with app.app_context(), db.session_scope(app) as session:
            result = trail.verify_database(session)
    if result.ok:
        click.echo(f"OK: {result.count} events checked; head seq {result.head_seq}, "
                   f"head hash {result.head_hash}")
        return
    click.echo(f"{result.count} events checked before the break.")
    _fail(f"BROKEN at seq {result.first_bad_seq}: {result.problem}")


def _verify_file(path: Path) -> chain.Verification:
    import json

    def links():
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    value = json.loads(line)
                except ValueError as exc:
                    _fail(f"{path}:{number}: not a JSON line ({exc})")
                if not isinstance(value, dict):
                    _fail(f"{path}:{number}: a line must hold one JSON object")
                yield value

    try:
        return chain.verify_links(links())
    except OSError as exc:
        _fail(f"Cannot read {path}: {exc}")


@trail_group.command("export")
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")
@with_appcontext
def trail_export(fmt: str, output: Path | None) -> None:
    """Write the whole chain, one event per line, with every field of the hash rule."""
    with db.session_scope(current_app) as session:
        if output is None:
            count = trail.export_jsonl(session, sys.stdout)
        else:
            with output.open("w", encoding="utf-8") as handle:
                count = trail.export_jsonl(session, handle)
            click.echo(f"Wrote {count} events to {output}.", err=True)
