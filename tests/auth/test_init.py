"""`forum init`: the first run of a real install, and the password policy on `forum users create`."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.auth import service as accounts
from forum.auth.models import OrgFunction, User
from forum.cli import main
from forum.core.db import make_engine
from forum.trail.models import Event

PASSWORD = "a long enough passphrase"


@pytest.fixture
def database_url(tmp_path):
    return f"sqlite:///{tmp_path / 'init.db'}"


@pytest.fixture
def cli(tmp_path, database_url):
    runner = CliRunner(env={
        "FORUM_DATABASE_URL": database_url,
        "FORUM_INSTANCE_PATH": str(tmp_path / "instance"),
        "FORUM_SECRET_KEY": "cli-test-secret",
        "ADMIN_PASSWORD": PASSWORD,
        "SHORT_PASSWORD": "too-short",
    })

    def run(*args: str, input: str | None = None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    return run


@pytest.fixture
def read(database_url):
    """Run ``fn(session)`` against the CLI's database and return its result."""
    def run(fn):
        engine = make_engine(database_url)
        try:
            with Session(engine) as session:
                return fn(session)
        finally:
            engine.dispose()

    return run


def init(cli, *extra: str, input: str | None = None):
    args = ["init", "--email", "Boss@Example.org", "--name", "Bea Boss", *extra]
    return cli(*args, input=input)


def test_init_migrates_and_creates_the_functions_and_the_first_admin(cli, read):
    result = init(cli, "--password-env", "ADMIN_PASSWORD")

    assert result.exit_code == 0, result.output
    assert "functions created: procurement, product, risk" in result.output
    assert "Administrator boss@example.org created" in result.output
    users = read(lambda s: [(u.email, u.role, u.display_name) for u in s.scalars(select(User))])
    assert users == [("boss@example.org", "admin", "Bea Boss")]
    assert read(lambda s: sorted(s.scalars(select(OrgFunction.key)))) == ["procurement", "product", "risk"]
    assert read(lambda s: accounts.authenticate(s, "boss@example.org", PASSWORD).role) == "admin"
    kinds = read(lambda s: [e.kind for e in s.scalars(select(Event).order_by(Event.seq))])
    assert kinds == ["function.created"] * 3 + ["user.created"]
    assert cli("trail", "verify").output.startswith("OK: 4 events checked")


def test_init_asks_for_the_password_twice_at_a_prompt(cli, read):
    result = init(cli, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "Password" in result.output and "Repeat for confirmation" in result.output
    assert read(lambda s: accounts.authenticate(s, "boss@example.org", PASSWORD).id) == 1


def test_init_refuses_a_password_against_the_policy_and_creates_no_one(cli, read):
    result = init(cli, "--password-env", "SHORT_PASSWORD")
    assert result.exit_code == 1
    assert "Not initialised: The password must have at least 12 characters" in result.output
    cli("db", "upgrade")
    assert read(lambda s: s.scalars(select(User)).all()) == []


def test_init_refuses_an_unset_password_variable(cli):
    result = init(cli, "--password-env", "NO_SUCH_VARIABLE")
    assert result.exit_code == 1
    assert "NO_SUCH_VARIABLE is empty or not set" in result.output


def test_init_refuses_a_database_that_has_users(cli, read):
    assert init(cli, "--password-env", "ADMIN_PASSWORD").exit_code == 0

    again = cli("init", "--email", "other@example.org", "--name", "Other", "--password-env", "ADMIN_PASSWORD")

    assert again.exit_code == 1
    assert "already has users" in again.output
    assert read(lambda s: len(s.scalars(select(User)).all())) == 1


def test_init_refuses_the_demo_database(cli, read):
    cli("db", "upgrade")
    cli("seed")
    users_before = read(lambda s: len(s.scalars(select(User)).all()))

    result = init(cli, "--password-env", "ADMIN_PASSWORD")

    assert result.exit_code == 1 and "already has users" in result.output
    assert read(lambda s: len(s.scalars(select(User)).all())) == users_before


def test_init_refuses_a_bad_email_and_leaves_the_database_empty(cli, read):
    result = cli("init", "--email", "not-an-address", "--name", "X", "--password-env", "ADMIN_PASSWORD")
    assert result.exit_code == 1
    assert "Enter a valid e-mail address." in result.output
    assert read(lambda s: (s.scalars(select(User)).all(), s.scalars(select(OrgFunction)).all())) == ([], [])


def test_users_create_enforces_the_password_policy(cli, read):
    init(cli, "--password-env", "ADMIN_PASSWORD")
    for password_env, message in (("SHORT_PASSWORD", "at least 12 characters"),):
        result = cli("users", "create", "--email", "ada@example.com", "--name", "Ada", "--role", "auditor",
                     "--password-env", password_env)
        assert result.exit_code == 1
        assert message in result.output
    common = cli("users", "create", "--email", "ada@example.com", "--name", "Ada", "--role", "auditor",
                 input="qwerty123456\nqwerty123456\n")
    assert common.exit_code == 1 and "commonly used passwords" in common.output
    assert read(lambda s: accounts.get_user_by_email(s, "ada@example.com")) is None

