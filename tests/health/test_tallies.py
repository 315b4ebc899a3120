"""The tallies kept as changes happen (forum.health.tallies) against a count from the history:
the demo's whole history, the command that checks and counts again, and a database migrated with
a history."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select, text, update

from forum.cli import main
from forum.core.db import make_engine
from forum.health import tallies
from forum.health.models import HealthCycle, HealthTally
from forum_seed import demo as seed


def test_the_tallies_kept_while_the_demo_loads_match_a_count_from_its_history(db_session):
    assert tallies.is_counted(db_session)  # a new database is counted (nothing to count)
    seed.load_demo(db_session)  # through the forum's services: every change tallied as it happens
    db_session.commit()
    kept = tallies.stored(db_session)
    counts, cycles = kept
    metrics = {metric for metric, _period, _key in counts}
    # the demo's history moves every kind of tally
    assert {tallies.ESCALATIONS, tallies.CYCLE, tallies.DECISIONS, tallies.AS_DECIDER, tallies.REVIEWS,
            tallies.RUNS_REVIEWED, tallies.CASES, tallies.AGE, tallies.FRESHNESS} <= metrics, metrics
    assert cycles and sum(n for (m, _p, _k), n in counts.items() if m == tallies.CYCLE) == len(cycles)

    counted = tallies.recount(db_session)
    db_session.commit()

    assert tallies.stored(db_session) == kept
    assert counted == len(counts)


@pytest.fixture
def cli(tmp_path):
    database = tmp_path / "health.db"
    runner = CliRunner(env={
        "FORUM_DATABASE_URL": f"sqlite:///{database}",
        "FORUM_INSTANCE_PATH": str(tmp_path / "instance"),
        "FORUM_SECRET_KEY": "cli-test-secret",
    })

    def run(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    run.engine = make_engine(f"sqlite:///{database}")
    yield run
    run.engine.dispose()


def test_recount_checks_the_kept_tallies_and_counts_them_again(cli):
    assert cli("db", "upgrade").exit_code == 0
    assert cli("seed").exit_code == 0
    checked = cli("health", "recount", "--check")
    assert checked.exit_code == 0 and "match the history" in checked.output
    with cli.engine.begin() as conn:  # a tally gone wrong (a bulk import outside the services)
        conn.execute(update(HealthTally).where(HealthTally.metric == tallies.ESCALATIONS).values(n=HealthTally.n + 5))
        conn.execute(delete(HealthCycle).where(HealthCycle.item_id == select(HealthCycle.item_id).limit(1).scalar_subquery()))

    wrong = cli("health", "recount", "--check")

    assert wrong.exit_code == 1
    assert "escalations " in wrong.output and "history" in wrong.output
    assert "1 decided items' cycle times differ" in wrong.output
    counted = cli("health", "recount")
    assert counted.exit_code == 0 and "counted from the history" in counted.output
    assert cli("health", "recount", "--check").exit_code == 0


def test_a_database_upgraded_with_a_history_is_counted_once(cli):
    """The migration marks a database without events counted; one with a history is counted by
    `forum db upgrade` (and, failing that, by the health page's first read)."""
    assert cli("db", "upgrade").exit_code == 0
    with cli.engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM health_tallies WHERE metric = 'counted'")).scalar() == 1
    assert cli("seed").exit_code == 0
    # back to before the tallies, with the demo's history in the database
    assert cli("db", "downgrade", "d8e9f0a1b2c3").exit_code == 0

    upgraded = cli("db", "upgrade")

    assert upgraded.exit_code == 0 and "Health tallies counted from the history." in upgraded.output
    assert cli("health", "recount", "--check").exit_code == 0
    again = cli("db", "upgrade")
    assert "counted" not in again.output  # once


def test_the_health_page_counts_tallies_that_never_were(app, client, login, make_user, db_session):
    seed.load_demo(db_session)
    db_session.commit()
    kept = tallies.stored(db_session)
    db_session.execute(delete(HealthCycle))
    db_session.execute(delete(HealthTally))  # the mark too: never counted
    db_session.commit()
    login(make_user(role="staff"))

    page = client.get("/health")

    assert page.status_code == 200
    db_session.expire_all()
    assert tallies.is_counted(db_session)
    assert tallies.stored(db_session) == kept
