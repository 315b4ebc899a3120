"""Personal API tokens: creation within the user's role, hashing, revocation, trail events, CLI."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from forum.api import service
from forum.api.models import ApiToken
from forum.cli import main
from forum.core.errors import Conflict, PermissionDenied, ValidationError
from forum.trail.models import Event
from tests.api.conftest import counts


def _events(session, kind):
    session.expire_all()
    return list(session.scalars(select(Event).where(Event.kind == kind).order_by(Event.seq)))


def test_a_token_is_stored_only_as_a_hash_and_its_event_never_holds_it(db_session, staff):
    token, secret = service.create_token(db_session, staff, staff, service.NewToken("ci", ["items:read"]))
    db_session.commit()
    assert secret.startswith("dfk_") and len(secret) >= 40
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.hint == secret[:10]
    row = db_session.scalar(select(ApiToken).where(ApiToken.id == token.id))
    assert secret not in (row.token_hash, row.name, row.scopes)
    (event,) = _events(db_session, "token.created")
    assert event.actor == staff.email and event.subject == f"token:{token.id}"
    assert event.data == {"user": staff.email, "name": "ci", "scopes": ["items:read"]}
    assert secret not in event.data_json and secret[4:] not in event.data_json


def test_two_tokens_never_share_a_secret(db_session, staff):
    secrets = {service.create_token(db_session, staff, staff, service.NewToken(f"t{n}", ["items:read"]))[1]
               for n in range(5)}
    assert len(secrets) == 5


@pytest.mark.parametrize("role, function, allowed", [
    ("staff", "procurement", ["items:read", "items:write", "evidence:write", "systems:read", "systems:write"]),
    ("executive", "product", ["items:read", "items:write", "evidence:write", "trail:read", "systems:read",
                              "systems:write"]),
    ("auditor", None, ["items:read", "trail:read", "systems:read"]),
    ("admin", None, ["items:read", "systems:read"]),
])
def test_scopes_are_granted_only_within_the_users_role(db_session, make_user, role, function, allowed):
    user = make_user(role=role, function=function)
    assert service.grantable_scopes(user) == allowed
    for scope in service.SCOPES:
        before = counts(db_session)
        if scope in allowed:
            service.create_token(db_session, user, user, service.NewToken(scope, [scope]))
            db_session.commit()
        else:
            with pytest.raises(PermissionDenied, match=f"scope {scope} is not available"):
                service.create_token(db_session, user, user, service.NewToken(scope, [scope]))
            db_session.rollback()
            assert counts(db_session) == before


@pytest.mark.parametrize("name, scopes, field, message", [
    ("", ["items:read"], "name", "Give the token a name"),
    ("x" * 81, ["items:read"], "name", "the limit is 80"),
    ("a\x00b", ["items:read"], "name", "NUL"),
    ("ci", [], "scopes", "at least one scope"),
    ("ci", ["items:delete"], "scopes", "Unknown scope 'items:delete'"),
])
def test_bad_token_input_is_refused_and_nothing_is_written(db_session, staff, name, scopes, field, message):
    before = counts(db_session)
    with pytest.raises(ValidationError, match=message) as caught:
        service.create_token(db_session, staff, staff, service.NewToken(name, scopes))
    assert caught.value.field == field
    db_session.rollback()
    assert counts(db_session) == before
    assert db_session.scalar(select(ApiToken.id)) is None


def test_nobody_creates_tokens_for_someone_else_or_for_a_deactivated_user(db_session, staff, make_user):
    other = make_user()
    with pytest.raises(PermissionDenied, match="only create API tokens for yourself"):
        service.create_token(db_session, other, staff, service.NewToken("x", ["items:read"]))
    gone = make_user(active=False)
    with pytest.raises(PermissionDenied, match="deactivated"):
        service.create_token(db_session, None, gone, service.NewToken("x", ["items:read"]))


def test_active_tokens_per_user_are_capped(db_session, staff):
    for n in range(service.MAX_ACTIVE_TOKENS):
        service.create_token(db_session, staff, staff, service.NewToken(f"t{n}", ["items:read"]))
    with pytest.raises(Conflict, match="Revoke one"):
        service.create_token(db_session, staff, staff, service.NewToken("one more", ["items:read"]))
    first = service.tokens_of(db_session, staff)[-1]
    service.revoke_token(db_session, staff, first)
    service.create_token(db_session, staff, staff, service.NewToken("one more", ["items:read"]))


def test_revoking_writes_one_event_and_a_revoked_token_is_refused(db_session, staff, make_user):
    token, secret = service.create_token(db_session, staff, staff, service.NewToken("ci", ["items:read"]))
    assert service.resolve_token(db_session, secret).id == token.id
    with pytest.raises(PermissionDenied, match="only revoke your own"):
        service.revoke_token(db_session, make_user(), token)
    service.revoke_token(db_session, staff, token)
    db_session.commit()
    (event,) = _events(db_session, "token.revoked")
    assert event.actor == staff.email and event.data["revoked"] == {"before": False, "after": True}
    with pytest.raises(service.TokenRefused, match="revoked"):
        service.resolve_token(db_session, secret)
    with pytest.raises(Conflict, match="already revoked"):
        service.revoke_token(db_session, staff, token)
    assert len(_events(db_session, "token.revoked")) == 1


def test_an_administrator_may_revoke_anyones_token(db_session, staff, make_user):
    token, _ = service.create_token(db_session, staff, staff, service.NewToken("ci", ["items:read"]))
    admin = make_user(role="admin", function=None)
    service.revoke_token(db_session, admin, token)
    assert token.revoked_at is not None


@pytest.mark.parametrize("text, reason", [
    (None, "Send a personal API token"),
    ("", "Send a personal API token"),
    ("not-a-forum-token", "not a Decision Forum API token"),
    ("dfk_" + "x" * 300, "not a Decision Forum API token"),
    ("dfk_unknownunknownunknown", "not valid"),
])
def test_resolving_refuses_what_is_not_an_active_token(db_session, text, reason):
    with pytest.raises(service.TokenRefused, match=reason):
        service.resolve_token(db_session, text)


def test_cli_creates_prints_once_lists_and_revokes(app, db_session, staff):
    runner = app.test_cli_runner()  # the `forum` command on the test app (and its engine)
    env = {}
    created = runner.invoke(main, ["tokens", "create", "--user", staff.email, "--scope", "items:read",
                                   "--scope", "evidence:write", "--name", "model-eval"], env=env)
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[-1]
    assert secret.startswith("dfk_")
    db_session.expire_all()
    token = service.resolve_token(db_session, secret)
    assert token.name == "model-eval" and token.scope_list == ["items:read", "evidence:write"]
    (event,) = _events(db_session, "token.created")
    assert event.actor == "system"

    listed = runner.invoke(main, ["tokens", "list", "--user", staff.email], env=env)
    assert listed.exit_code == 0 and "model-eval" in listed.output and "active" in listed.output
    assert secret not in listed.output and token.hint in listed.output

    revoked = runner.invoke(main, ["tokens", "revoke", str(token.id)], env=env)
    assert revoked.exit_code == 0 and "Revoked token" in revoked.output
    again = runner.invoke(main, ["tokens", "revoke", str(token.id)], env=env)
    assert again.exit_code == 1 and "already revoked" in again.output


def test_cli_refuses_unknown_users_scopes_beyond_the_role_and_unknown_ids(app, staff):
    runner = app.test_cli_runner()
    env = {}
    nobody = runner.invoke(main, ["tokens", "create", "--user", "nobody@example.com", "--scope", "items:read"], env=env)
    assert nobody.exit_code == 1 and "No account for nobody@example.com" in nobody.output
    beyond = runner.invoke(main, ["tokens", "create", "--user", staff.email, "--scope", "trail:read"], env=env)
    assert beyond.exit_code == 1 and "trail:read is not available" in beyond.output
    unknown = runner.invoke(main, ["tokens", "revoke", "999"], env=env)
    assert unknown.exit_code == 1 and "no API token 999" in unknown.output


def test_the_demo_data_set_has_tokens_with_their_events(db_session):
    from forum_seed import demo as seed

    seed.load_demo(db_session)
    db_session.commit()
    tokens = db_session.scalars(select(ApiToken).order_by(ApiToken.id)).all()
    assert [t.name for t in tokens] == ["model-eval pipeline", "old laptop script", "quarterly trail export"]
    assert [t.active for t in tokens] == [True, False, True]
    assert len(_events(db_session, "token.created")) == 3 and len(_events(db_session, "token.revoked")) == 1
    seed.load_demo(db_session)  # loading again adds no duplicate tokens
    assert len(db_session.scalars(select(ApiToken)).all()) == 3
