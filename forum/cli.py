"""The `forum` command: init, demo, db, seed, users, tokens, trail (plus Flask's run, shell and routes)."""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import click
from alembic import command as alembic_command
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import func, inspect, select
from werkzeug.serving import run_simple

from forum.agenda.cli import agenda_group
from forum.api.cli import tokens_group
from forum.app import create_app
from forum.audit import verify as audit
from forum.auth import passwords
from forum.auth import service as accounts
from forum.auth.models import ROLES, User
from forum.core import db
from forum.core.config import SettingsError, trusted_hosts
from forum.core.errors import DomainError
from forum.health import tallies
from forum.health.cli import health_group
from forum.migrate import alembic_config
from forum.notify.cli import notify_group, reminders_group
from forum.register.cli import register_group
from forum.search.cli import search_group
from forum.trail import chain, signing
from forum.trail import service as trail
from forum.weighing.cli import standing_group


def _create_app():
    try:
        return create_app()
    except SettingsError as error:  # a message for the operator, not a traceback
        raise click.ClickException(str(error)) from error


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=True,
             add_version_option=False, load_dotenv=False)
def main() -> None:
    """Decision Forum: AI decision items, evidence, executive agendas and the decision trail.

    Every command honours FORUM_DATABASE_URL (default: SQLite in the instance folder).
    """


main.add_command(tokens_group)
main.add_command(agenda_group)
main.add_command(health_group)
main.add_command(search_group)
main.add_command(standing_group)
main.add_command(notify_group)
main.add_command(reminders_group)
main.add_command(register_group)


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
    """Apply migrations up to REVISION (default: head); at head, count the health tallies from
    the history if they never were."""
    alembic_command.upgrade(alembic_config(_url()), revision)
    click.echo(f"Database at {revision}.")
    if revision == "head":
        with db.session_scope(current_app) as session:
            if tallies.ensure_counted(session):
                click.echo("Health tallies counted from the history.")


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


# ---------------------------------------------------------------------------------- first run
@main.command("init")
@click.option("--email", required=True, help="The first administrator's e-mail address.")
@click.option("--name", "display_name", required=True, help="The first administrator's display name.")
@click.option("--password-env", default=None, metavar="VAR",
              help="Read the password from this environment variable instead of prompting "
                   "(for automated installs).")
@with_appcontext
def init(email: str, display_name: str, password_env: str | None) -> None:
    """Set up a real install: migrate an empty database, create the default functions and the
    first administrator. Refuses a database that already has users (e.g. the demo)."""
    if not _database_is_new():
        _fail("The database already has users: `forum init` only sets up an empty database. "
              "Use the admin pages or `forum users create` to add accounts.")
    password = _password(password_env)
    try:
        passwords.check(password)
    except DomainError as error:
        _fail(f"Not initialised: {error.reason}")
    alembic_command.upgrade(alembic_config(_url()), "head")
    try:
        with db.session_scope(current_app) as session:
            if session.scalar(select(func.count()).select_from(User)):  # someone was faster
                raise DomainError("The database already has users.")
            created = []
            for key, label in accounts.DEFAULT_FUNCTIONS:
                if accounts.get_function(session, key) is None:
                    accounts.create_function(session, None, key, label)
                    created.append(key)
            admin = accounts.create_user(session, None, accounts.NewUser(
                email=email, display_name=display_name, role="admin", password=password))
            click.echo(f"Database at head; functions created: {', '.join(created) or 'none'}.")
            click.echo(f"Administrator {admin.email} created. Log in and add the other accounts "
                       "under Admin → Users.")
    except DomainError as error:
        _fail(f"Not initialised: {error.reason}")


def _password(password_env: str | None) -> str:
    """The password from the environment variable ``password_env``, else from a prompt."""
    if password_env:
        password = os.environ.get(password_env, "")
        if not password:
            _fail(f"The environment variable {password_env} is empty or not set.")
        return password
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


# ---------------------------------------------------------------------------------------- demo
@main.command("seed")
@click.option("--force", is_flag=True, help="Load the demo data even if the database has users.")
@click.option("--scale", "scale_items", type=click.IntRange(min=1), default=None, metavar="N",
              help="Generate a large data set for the load benchmark instead: the demo accounts, "
                   "N items with their history (written in bulk, with a valid trail), then the "
                   "demo data set. Needs a new, migrated database.")
@click.option("--batch", type=click.IntRange(min=1), default=500, show_default=True,
              help="With --scale: items per transaction.")
@click.option("--no-demo", is_flag=True, help="With --scale: leave out the demo data set.")
@with_appcontext
def seed_command(force: bool, scale_items: int | None, batch: int, no_demo: bool) -> None:
    """Load the demo data set from seed/ through the forum's own services."""
    if scale_items is not None:
        from forum_seed import scale  # the benchmark generator lives outside the app

        if not _database_is_new():
            _fail("The database already has users; `forum seed --scale` only fills a new, "
                  "migrated database.")
        report = scale.load_scale(
            current_app.extensions["forum.sessionmaker"], scale_items, batch=batch,
            demo=not no_demo, progress=lambda line: click.echo(f"  {line}", err=True),
        )
        click.echo(f"Scale data set loaded: {report.describe()}.")
        return
    from forum_seed import demo as seed  # the demo generators live outside the app

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
    from forum_seed import demo as seed  # the demo generators live outside the app

    alembic_command.upgrade(alembic_config(_url()), "head")
    if _database_is_new():
        with db.session_scope(current_app) as session:
            summary = seed.load_demo(session)
        click.echo(f"New database: demo data loaded ({summary}).")
    click.echo("")
    app = current_app._get_current_object()
    if not os.environ.get("FORUM_BASE_URL"):  # links name the address the demo is served at
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        app.config["BASE_URL"] = f"http://{shown}:{port}"
        if not os.environ.get("FORUM_TRUSTED_HOSTS"):
            # Listening on every interface: people may use any of the machine's names.
            app.config["TRUSTED_HOSTS"] = (None if shown != host
                                           else trusted_hosts(app.config | {"TRUSTED_HOSTS": ""}))
    click.echo(f"Decision Forum (demo) on {app.config['BASE_URL']}/  — database: {_safe_url(_url())}")
    click.echo(f"Demo logins (password for all: {seed.DEMO_PASSWORD}):")
    for email, role in seed.DEMO_LOGINS:
        click.echo(f"  {email:<28} {role}")
    click.echo("The demo password is for this demo only; never use it on a real install.\n")
    # Flask ignores app.run() inside its CLI, so serve with Werkzeug directly (threaded, no debugger).
    run_simple(host, port, app, threaded=True, use_reloader=False,
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
    """Create an account (the password is asked for at a prompt; the password policy applies)."""
    password = _password(password_env)
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
@contextlib.contextmanager
def _trail_session():
    """A session of the current app for one trail command; afterwards the engine's connections
    are closed, not left to the garbage collector (the process may go on, as under tests)."""
    try:
        with db.session_scope(current_app) as session:
            yield session
    finally:
        db.get_engine().dispose()


@main.group("trail")
def trail_group() -> None:
    """The decision trail: verify, checkpoint and export."""


def _checkpoint_option(value: tuple[str, ...]) -> list[chain.CheckpointCheck]:
    try:
        return [chain.parse_checkpoint(text) for text in value]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--checkpoint") from exc


def _public_key(option: str | None):
    """The public key of --public-key (a file), else of FORUM_TRAIL_PUBLIC_KEY(_FILE)."""
    try:
        if option:
            return signing.public_key_from({signing.PUBLIC_KEY_VARIABLE + "_FILE": option})
        return signing.public_key_from(os.environ)
    except signing.KeyProblem as exc:
        raise click.BadParameter(str(exc), param_hint="--public-key / FORUM_TRAIL_PUBLIC_KEY") from exc


@trail_group.command("verify")
@click.option("--file", "path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Check a JSON Lines export on its own, without the database.")
@click.option("--checkpoint", "checkpoints", multiple=True, metavar="SEQ:HASH",
              help="Also check that the chain holds this head (as printed by `forum trail "
                   "checkpoint`); repeatable. From the database, every recorded checkpoint is "
                   "checked as well.")
@click.option("--public-key", "public_key_path", default=None, metavar="FILE",
              help="The Ed25519 public key (PEM or base64) that signed checkpoints must verify "
                   "with; default: FORUM_TRAIL_PUBLIC_KEY or FORUM_TRAIL_PUBLIC_KEY_FILE.")
def trail_verify(path: Path | None, checkpoints: tuple[str, ...], public_key_path: str | None) -> None:
    """Check the hash chain; exit 1 naming the first bad seq if a link is broken, the cut if
    the chain ends before the head row, the checkpoints the chain no longer holds, or a signed
    checkpoint whose signature does not verify. Read-only."""
    given = _checkpoint_option(checkpoints)
    public_key = _public_key(public_key_path)
    if path is not None:
        result = _verify_file(path, given, public_key)
    else:
        with create_app().app_context(), _trail_session() as session:
            result = audit.verify(session, None, given, public_key=public_key)
    _report(result)


def _report(result: chain.Verification) -> None:
    if result.partial:
        left_out = sum(last - first + 1 for first, last in result.gaps)
        click.echo(f"FILTERED EXPORT: {result.count} events, up to seq {result.head_seq}; "
                   f"{left_out} event(s) left out in {len(result.gaps)} gap(s).")
        if result.chain_ok:
            click.echo(f"{'PARTIAL OK' if result.ok else 'PARTIAL LINKS OK'}: every event's hash matches its "
                       f"content; {result.links_checked} link(s) between neighbouring events checked. Across "
                       "a gap nothing can be checked: this does not show that the chain is whole (only the "
                       "auditor's full export does).")
    elif result.chain_ok:
        click.echo(f"{'OK' if result.ok else 'LINKS OK'}: {result.count} events checked; "
                   f"head seq {result.head_seq}, head hash {result.head_hash}")
    if not result.chain_ok:
        click.echo(f"{result.count} events checked before the break.")
    if result.head_row is not None and result.chain_ok:
        click.echo(f"head row: {'ok' if result.head_row_ok else result.head_row.status.upper()} — "
                   f"{result.describe_head_row()}")
    for check in result.checkpoints:
        state = "ok" if check.status == "ok" else check.status.upper()
        click.echo(f"checkpoint {check.seq}:{check.hash} ({check.label}): {state} — {check.describe()}")
    for check in result.signatures:
        c = check.checkpoint
        click.echo(f"signature of {c.label} (seq {c.seq}, {c.at}): {check.status.upper() if not check.ok else check.status}"
                   f" — {check.describe()}")
    if result.signatures and result.public_key_id is None:
        click.echo(f"{len(result.signatures)} signed checkpoint(s) not checked: give the public key "
                   "(--public-key or FORUM_TRAIL_PUBLIC_KEY).")
    elif result.public_key_id is not None:
        newest = result.newest_signed
        if newest is None:
            click.echo(f"newest signed head held: none (public key {result.public_key_id})")
        else:
            click.echo(f"newest signed head held: seq {newest.seq}, hash {newest.hash}, signed at {newest.at} "
                       f"(key {newest.key_id})")
    if not result.chain_ok:
        _fail(f"BROKEN at seq {result.first_bad_seq}: {result.problem}")
    if not result.head_row_ok:
        _fail(f"{'CUT' if result.cut else 'HEAD ROW MISMATCH'}: {result.describe_head_row()}")
    if not result.signatures_ok:
        bad = [s for s in result.signatures if not s.ok]
        _fail(f"SIGNATURE FAILED: {len(bad)} of {len(result.signatures)} signed checkpoints do not verify "
              f"with the public key {result.public_key_id}.")
    if not result.ok:
        _fail(f"CHECKPOINT FAILED: {len(result.failed_checkpoints)} of {len(result.checkpoints)} "
              "checkpoints are no longer in the chain.")


def _verify_file(path: Path, checkpoints: list[chain.CheckpointCheck], public_key) -> chain.Verification:
    import json

    def lines():
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield number, line

    def links(header: dict | None):
        for number, line in lines():
            try:
                value = json.loads(line)
            except ValueError as exc:
                value = chain.UnreadableLink(f"line {number} is not a JSON line ({exc})")
            if header is not None and number == header["line"]:
                continue
            if not isinstance(value, dict | chain.UnreadableLink):
                value = chain.UnreadableLink(f"line {number} does not hold one JSON object")
            yield value

    def first_pass() -> tuple[dict | None, list[signing.SignedCheckpoint]]:
        """The filtered export's header line, if any, and the signed checkpoints the export
        carries (their events name an earlier seq, so they are gathered before the walk)."""
        header, signed = None, []
        for index, (number, line) in enumerate(lines()):
            if index == 0 and '"trail_export"' in line:
                value = _json_or_none(line)
                if isinstance(value, dict) and isinstance(value.get("trail_export"), dict) and "seq" not in value:
                    header = {"line": number, **value["trail_export"]}
                    continue
            if audit.CHECKPOINT_RECORDED in line:
                value = _json_or_none(line)
                if isinstance(value, dict) and value.get("kind") == audit.CHECKPOINT_RECORDED \
                        and isinstance(value.get("data"), dict):
                    found = signing.from_event_data(value.get("seq"), value["data"])
                    if found is not None:
                        signed.append(found)
        return header, signed

    try:
        header, signed = first_pass()
        walk = chain.verify_partial if header is not None and header.get("filtered") else chain.verify_links
        return signing.verify_with_signatures(public_key, signed, lambda checks: walk(links(header), checks),
                                              checkpoints)
    except OSError as exc:
        _fail(f"Cannot read {path}: {exc}")
    except UnicodeDecodeError as exc:
        _fail(f"{path} is not UTF-8 text: {exc}")


def _json_or_none(line: str):
    import json

    try:
        return json.loads(line)
    except ValueError:
        return None


@trail_group.command("checkpoint")
@click.option("--note", default="", help="Where you will publish it, or why.")
@click.option("--require-signature", is_flag=True,
              help="Fail unless a signing key is configured (for the scheduled job).")
@with_appcontext
def trail_checkpoint(note: str, require_signature: bool) -> None:
    """Record the current head (seq and hash) as a checkpoint, and print it as SEQ:HASH.

    With FORUM_TRAIL_SIGNING_KEY or FORUM_TRAIL_SIGNING_KEY_FILE set (an Ed25519 key, PEM or
    base64), the checkpoint is signed; verification checks the signature against
    FORUM_TRAIL_PUBLIC_KEY. Suited to a scheduled job: no prompt, exit 1 on any failure.

    Keep the printed line outside the forum (an audit log, a ticket, an e-mail): `forum trail
    verify --checkpoint SEQ:HASH` then shows whether the chain still holds it. Recording appends
    a trail.checkpoint_recorded event after the head it names."""
    try:
        key = signing.signing_key_from(os.environ)
    except signing.KeyProblem as exc:
        _fail(f"No checkpoint recorded: {exc}")
    if key is None and require_signature:
        _fail("No checkpoint recorded: no signing key (set FORUM_TRAIL_SIGNING_KEY_FILE or "
              "FORUM_TRAIL_SIGNING_KEY).")
    try:
        with _trail_session() as session:
            checkpoint = audit.record_checkpoint(session, None, note, signing_key=key)
            signed = f", signed by key {checkpoint.key_id}" if checkpoint.signature else ", unsigned"
            click.echo(f"Checkpoint {checkpoint.id}: head seq {checkpoint.seq}, hash {checkpoint.hash}{signed}")
            click.echo(checkpoint.token)
    except DomainError as error:
        _fail(f"No checkpoint recorded: {error.reason}")


@trail_group.command("keygen")
@click.option("--private-key", "private_path", required=True,
              type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the new signing key (PEM); it must not exist yet.")
@click.option("--public-key", "public_path", default=None,
              type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the public key (PEM); default: standard output only.")
def trail_keygen(private_path: Path, public_path: Path | None) -> None:
    """Make an Ed25519 key pair for signed checkpoints. The private key file is created readable
    by its owner only; keep it off the database server's disks and backups."""
    private_pem, public_pem = signing.new_key_pair()
    try:
        descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        _fail(f"Cannot create {private_path}: {exc}")
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(private_pem)
    if public_path is not None:
        try:
            public_path.write_text(public_pem, encoding="ascii")
        except OSError as exc:
            _fail(f"Cannot write {public_path}: {exc}")
    key = signing.load_public_key(public_pem)
    click.echo(f"Signing key written to {private_path} (key id {signing.key_id(key)}).", err=True)
    click.echo(public_pem, nl=False)


@trail_group.command("export")
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl", show_default=True)
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")
@with_appcontext
def trail_export(fmt: str, output: Path | None) -> None:
    """Write the whole chain, one event per line, with every field of the hash rule."""
    with _trail_session() as session:
        if output is None:
            count = trail.export_jsonl(session, sys.stdout)
        else:
            with output.open("w", encoding="utf-8") as handle:
                count = trail.export_jsonl(session, handle)
            click.echo(f"Wrote {count} events to {output}.", err=True)
