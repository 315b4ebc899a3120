"""`forum tokens …`: personal API tokens from the command line (for administrators)."""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from forum.api import service
from forum.auth import service as accounts
from forum.core import db
from forum.core.errors import DomainError


def _fail(message: str):
    click.secho(message, fg="red", err=True)
    sys.exit(1)


@click.group("tokens")
def tokens_group() -> None:
    """Personal API tokens: create (printed once), revoke, list."""


@tokens_group.command("create")
@click.option("--user", "email", required=True, help="The e-mail of the token's owner.")
@click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice(list(service.SCOPES)),
              help="A scope to grant; repeat for several.")
@click.option("--name", default="command line", show_default=True, help="What will use the token.")
@with_appcontext
def tokens_create(email: str, scopes: tuple[str, ...], name: str) -> None:
    """Create a token for a user and print it. It is shown only this once."""
    try:
        with db.session_scope(current_app) as session:
            owner = accounts.get_user_by_email(session, email)
            if owner is None:
                raise DomainError(f"No account for {accounts.normalise_email(email)}.", "user")
            token, secret = service.create_token(session, None, owner, service.NewToken(name, list(scopes)))
            click.echo(f"Created token {token.id} {token.name!r} for {owner.email} "
                       f"({', '.join(token.scope_list)}). It is shown only this once:", err=True)
            click.echo(secret)
    except DomainError as error:
        _fail(f"Not created: {error.reason}")


@tokens_group.command("revoke")
@click.argument("token_id", type=int)
@with_appcontext
def tokens_revoke(token_id: int) -> None:
    """Revoke the token with this id (see `forum tokens list`)."""
    try:
        with db.session_scope(current_app) as session:
            token = service.revoke_token(session, None, service.get_token(session, token_id))
            click.echo(f"Revoked token {token.id} {token.name!r} of {token.user.email}.")
    except DomainError as error:
        _fail(f"Not revoked: {error.reason}")


@tokens_group.command("list")
@click.option("--user", "email", required=True, help="The e-mail of the tokens' owner.")
@with_appcontext
def tokens_list(email: str) -> None:
    """List a user's tokens (never the secrets)."""
    with db.session_scope(current_app) as session:
        owner = accounts.get_user_by_email(session, email)
        if owner is None:
            _fail(f"No account for {accounts.normalise_email(email)}.")
        for token in service.tokens_of(session, owner):
            state = "active" if token.active else f"revoked {token.revoked_at:%Y-%m-%d}"
            used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
            click.echo(f"{token.id:>5}  {token.hint}…  {token.name:<24}  {' '.join(token.scope_list):<44}  "
                       f"last used {used:<16}  {state}")
