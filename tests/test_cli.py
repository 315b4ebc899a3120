"""The `forum` command against a SQLite file named by FORUM_DATABASE_URL."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.orm import Session

from forum.auth import service as accounts
from forum.cli import main
from forum.core.db import make_engine

EMAIL = "ada@example.com"


@pytest.fixture
def database_file(tmp_path):
    return tmp_path / "cli.db"


@pytest.fixture
def cli(tmp_path, database_file):
    """Run `forum ARGS...` with the environment pointing at a scratch database."""
    runner = CliRunner(env={
        "FORUM_DATABASE_URL": f"sqlite:///{database_file}",
        "FORUM_INSTANCE_PATH": str(tmp_path / "instance"),
        "FORUM_SECRET_KEY": "cli-test-secret",
        "ADA_PASSWORD": "correct horse battery",
    })

    def run(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    return run


def create_function(database_file, key: str = "procurement") -> None:
    engine = make_engine(f"sqlite:///{database_file}")
    try:
        with Session(engine) as session:
            accounts.create_function(session, None, key, key.title())
            session.commit()
    finally:
        engine.dispose()


def create_ada(cli):
    return cli("users", "create", "--email", EMAIL, "--name", "Ada", "--role", "staff",
               "--function", "procurement", "--password-env", "ADA_PASSWORD")


@pytest.fixture
def populated(cli, database_file):
    """A migrated database with three events: function, user created, user deactivated."""
    assert cli("db", "upgrade").exit_code == 0
    create_function(database_file)
    assert create_ada(cli).exit_code == 0
    assert cli("users", "deactivate", EMAIL).exit_code == 0
    return cli


def test_db_upgrade_creates_the_schema(cli, database_file):
    result = cli("db", "upgrade")

    assert result.exit_code == 0, result.output
    assert "Database at head." in result.output
    assert database_file.exists()
    assert cli("trail", "verify").output.startswith("OK: 0 events checked")


def test_users_create_names_the_unknown_function_then_succeeds_once_it_exists(cli, database_file):
    cli("db", "upgrade")

    refused = create_ada(cli)

    assert refused.exit_code == 1
    assert "Not created: Unknown function 'procurement'." in refused.output

    create_function(database_file)
    created = create_ada(cli)

    assert created.exit_code == 0, created.output
    assert f"Created {EMAIL} (staff)." in created.output
    listed = cli("users", "list")
    assert EMAIL in listed.output and "active" in listed.output


def test_users_create_refuses_an_empty_password_variable(cli):
    cli("db", "upgrade")

    result = cli("users", "create", "--email", EMAIL, "--name", "Ada", "--role", "auditor",
                 "--password-env", "NO_SUCH_VARIABLE")

    assert result.exit_code == 1
    assert "NO_SUCH_VARIABLE is empty or not set" in result.output


def test_users_deactivate(cli, database_file):
    cli("db", "upgrade")
    create_function(database_file)
    create_ada(cli)

    result = cli("users", "deactivate", EMAIL)

    assert result.exit_code == 0, result.output
    assert f"Deactivated {EMAIL}." in result.output
    assert "deactivated" in cli("users", "list").output
    again = cli("users", "deactivate", EMAIL)
    assert again.exit_code == 1
    assert "already deactivated" in again.output


def test_trail_verify_checks_the_database(populated):
    result = populated("trail", "verify")

    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: 3 events checked; head seq 3")


def test_trail_export_then_verify_the_file(populated, tmp_path):
    export = tmp_path / "trail.jsonl"

    exported = populated("trail", "export", "--output", str(export))
    verified = populated("trail", "verify", "--file", str(export))

    assert exported.exit_code == 0, exported.output
    assert "Wrote 3 events" in exported.output
    kinds = [json.loads(line)["kind"] for line in export.read_text(encoding="utf-8").splitlines()]
    assert kinds == ["function.created", "user.created", "user.deactivated"]
    assert verified.exit_code == 0, verified.output
    assert verified.output.startswith("OK: 3 events checked")


def test_trail_verify_names_the_seq_of_a_tampered_export(populated, tmp_path):
    export = tmp_path / "trail.jsonl"
    populated("trail", "export", "--output", str(export))
    lines = export.read_text(encoding="utf-8").splitlines()
    link = json.loads(lines[1])
    assert link["seq"] == 2
    link["data"]["display_name"] = "Mallory"
    lines[1] = json.dumps(link, ensure_ascii=False)
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = populated("trail", "verify", "--file", str(export))

    assert result.exit_code == 1
    assert "BROKEN at seq 2" in result.output
    assert re.search(r"\b1 events? checked before the break", result.output)


def test_trail_verify_refuses_a_file_that_is_not_json_lines(cli, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text("this is not json\n", encoding="utf-8")

    result = cli("trail", "verify", "--file", str(bad))

    assert result.exit_code == 1
    assert "not a JSON line" in result.output


def test_register_recount_checks_the_kept_groups_and_counts_them_again(cli, database_file):
    assert cli("db", "upgrade").exit_code == 0
    assert cli("seed").exit_code == 0
    checked = cli("register", "recount", "--check")
    assert checked.exit_code == 0 and "match the items" in checked.output
    engine = make_engine(f"sqlite:///{database_file}")
    try:
        with engine.begin() as conn:  # a count gone wrong (items written around the forum's services)
            conn.execute(text("UPDATE register_groups SET items = items + 5 WHERE model_key = "
                              "(SELECT min(model_key) FROM register_groups)"))
    finally:
        engine.dispose()

    wrong = cli("register", "recount", "--check")

    assert wrong.exit_code == 1 and "kept: " in wrong.output and "counted: " in wrong.output
    counted = cli("register", "recount")
    assert counted.exit_code == 0 and "counted from the items" in counted.output
    assert cli("register", "recount", "--check").exit_code == 0
