"""The migrations build exactly the schema the models describe, and can be undone and redone;
run on SQLite and PostgreSQL alike (``backend_url``)."""

from __future__ import annotations

import pprint
import warnings
from collections import Counter
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import bindparam, inspect, select, text
from sqlalchemy.exc import DBAPIError

from forum.core.db import make_engine
from forum.migrate import MIGRATION_ONLY_INDEXES, alembic_config, include_name
from forum.models import Base

GENESIS = "0" * 64


@pytest.fixture
def engine(backend_url):
    engine = make_engine(backend_url)
    yield engine
    engine.dispose()


def schema_diff(engine) -> list:
    """Differences between the models and the migrated database. The full-text search index is
    left out deliberately (forum.migrate.include_name): it is derived data built by its migration
    outside the ORM; tests/search/test_index.py checks it on both databases. So are the indexes
    on expressions (forum.migrate.MIGRATION_ONLY_INDEXES), which SQLAlchemy does not reflect on
    SQLite (it warns that it skips them)."""
    with engine.connect() as conn, warnings.catch_warnings():
        for name in MIGRATION_ONLY_INDEXES:
            warnings.filterwarnings("ignore", f"Skipped unsupported reflection of expression-based index {name}")
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": include_name})
        return compare_metadata(context, Base.metadata)


def test_migrated_schema_matches_the_models(engine):
    diff = schema_diff(engine)
    assert diff == [], "models and migrations differ:\n" + pprint.pformat(diff)


def test_downgrade_to_base_and_upgrade_again(backend_url, engine):
    cfg = alembic_config(backend_url)

    command.downgrade(cfg, "base")
    engine.dispose()  # no pooled connection may keep a view of the old schema
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}

    command.upgrade(cfg, "head")
    engine.dispose()
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    diff = schema_diff(engine)
    assert diff == [], "models and migrations differ after a round trip:\n" + pprint.pformat(diff)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id, seq, hash FROM trail_head")).all() == [(1, 0, GENESIS)]
    # The append-only triggers are back too.
    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO events (seq, at, actor, kind, subject, data, prev_hash, hash) "
                "VALUES (1, CURRENT_TIMESTAMP, 'system', 'k', 's', '{}', :g, :h)"
            ), {"g": GENESIS, "h": "1" * 64})
            conn.execute(text("DELETE FROM events"))


def test_the_standing_migration_fills_the_columns_of_existing_items(backend_url, engine, tmp_path):
    """Revision 9d2c4e7a1b05 adds the items' standing (forum.weighing.standing) to a database that
    already holds items: plain ADD COLUMN (a SQLite batch copy of the table would trip over the
    foreign keys pointing at it), then every item's standing computed from its rows."""
    from forum.app import create_app
    from forum.core import db
    from forum.weighing import standing
    from forum_seed import demo as seed

    # The demo loaded through the app's sessions, which keep the standing current as it loads.
    app = create_app({"DATABASE_URL": backend_url, "SECRET_KEY": "test", "INSTANCE_PATH": str(tmp_path)})
    with app.app_context(), db.session_scope(app) as session:
        seed.load_demo(session)
    db.get_engine(app).dispose()
    with engine.connect() as conn:
        expected = standing.stored(conn, conn.execute(text("SELECT id FROM decision_items")).scalars())
    assert any(v["weight_max"] is not None for v in expected.values())
    assert any(v["evidence_fail"] for v in expected.values())
    assert any(v["objection"] for v in expected.values())
    assert len({v["queue_order"] for v in expected.values()}) > 2  # several tiers, with and without a date
    # Back to the schema before the revision, with the items still there …
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_decision_items_weight_max"))
        conn.execute(text("DROP INDEX ix_decision_items_standing"))  # a later revision's, on these columns
        conn.execute(text("DROP INDEX ix_decision_items_evidence_stale_at"))  # likewise
        conn.execute(text("DROP TABLE health_item_parts"))  # later revisions' tables and indexes (made again below)
        for index in ("ix_weight_ratings_rater_item", "ix_positions_author_item", "ix_comments_author_item",
                      "ix_decision_items_filer_id", "ix_decision_items_filer_created"):
            conn.execute(text(f"DROP INDEX {index}"))
        conn.execute(text("DROP TABLE health_cycles"))
        conn.execute(text("DROP TABLE health_tallies"))
        conn.execute(text("DROP INDEX ix_decision_items_queue"))
        conn.execute(text("DROP INDEX ix_decision_items_escalation_queue"))
        conn.execute(text("ALTER TABLE decision_items DROP COLUMN queue_order"))  # a later standing column
        conn.execute(text("ALTER TABLE decision_items DROP COLUMN carried_forward"))
        conn.execute(text("ALTER TABLE trail_head DROP COLUMN items_seq"))
        conn.execute(text("ALTER TABLE trail_head DROP COLUMN shared_seq"))
        conn.execute(text("ALTER TABLE ai_systems DROP COLUMN changed_seq"))
        conn.execute(text("DROP INDEX ix_decision_items_to_group"))
        conn.execute(text("DROP TABLE register_groups"))
        conn.execute(text("DROP INDEX ix_evidence_runs_item_version"))
        conn.execute(text("DROP INDEX ix_decision_items_system_newest"))
        conn.execute(text("CREATE INDEX ix_decision_items_system_id ON decision_items (system_id)"))
        conn.execute(text("DROP INDEX ix_decision_actions_owner_open_due"))
        conn.execute(text("CREATE INDEX ix_decision_actions_owner_open ON decision_actions (owner_id, done)"))
        conn.execute(text("DROP INDEX ix_system_versions_system_recorded"))  # and its index before it
        conn.execute(text("CREATE INDEX ix_system_versions_system_id ON system_versions (system_id)"))
        for column in ("weight_max", "weight_min", "objection", "evidence_fail", "evidence_drift",
                       "evidence_stale_at"):  # the columns this revision adds
            conn.execute(text(f"ALTER TABLE decision_items DROP COLUMN {column}"))
        conn.execute(text("UPDATE alembic_version SET version_num = '15811decc013'"))
    engine.dispose()
    # … and forward again through that revision (the later ones are already applied but the one
    # that indexes the standing columns).
    cfg = alembic_config(backend_url)
    command.upgrade(cfg, "9d2c4e7a1b05")
    command.stamp(cfg, "c7d8e9f0a1b2")  # every later revision is applied but the standing index
    command.upgrade(cfg, "head")
    engine.dispose()
    with engine.connect() as conn:
        assert standing.stored(conn, expected) == expected
    assert schema_diff(engine) == []


def test_the_carried_forward_migration_marks_items_from_their_history(backend_url, engine, tmp_path):
    """Revision d4e5f6a7b8c9 marks the items whose last decision sent them back, from the agenda's
    history: the same items the lifecycle marks as it goes (forum.items.service.CARRIES)."""
    from forum.app import create_app
    from forum.core import db
    from forum_seed import demo as seed

    app = create_app({"DATABASE_URL": backend_url, "SECRET_KEY": "test", "INSTANCE_PATH": str(tmp_path)})
    with app.app_context(), db.session_scope(app) as session:
        seed.load_demo(session)
    db.get_engine(app).dispose()
    query = text("SELECT id FROM decision_items WHERE carried_forward ORDER BY id")
    with engine.connect() as conn:
        marked = conn.execute(query).scalars().all()
        deferred = conn.execute(text(
            "SELECT DISTINCT e.item_id FROM agenda_entries e JOIN decisions d ON d.entry_id = e.id "
            "WHERE d.outcome IN ('deferred', 'more_evidence_needed')")).scalars().all()
    assert marked and set(marked) <= set(deferred)  # the demo sends an item back

    cfg = alembic_config(backend_url)
    command.downgrade(cfg, "c3d4e5f6a7b8")
    command.upgrade(cfg, "head")
    engine.dispose()
    with engine.connect() as conn:
        assert conn.execute(query).scalars().all() == marked


def test_the_register_groups_migration_counts_the_items_still_to_group(backend_url, engine, tmp_path):
    """Revision a3b4c5d6e7f8 fills the register's groups from the items already there: the same
    counts the forum keeps as items change (the demo loaded through the app's sessions)."""
    from forum.app import create_app
    from forum.core import db
    from forum_seed import demo as seed

    app = create_app({"DATABASE_URL": backend_url, "SECRET_KEY": "test", "INSTANCE_PATH": str(tmp_path)})
    with app.app_context(), db.session_scope(app) as session:
        seed.load_demo(session)
    db.get_engine(app).dispose()
    query = text("SELECT vendor_key, model_key, items, decided FROM register_groups WHERE items > 0 "
                 "ORDER BY model_key, vendor_key")
    with engine.connect() as conn:
        kept = [tuple(row) for row in conn.execute(query)]
    assert kept  # the demo has items outside the register

    cfg = alembic_config(backend_url)
    command.downgrade(cfg, "f2a3b4c5d6e7")
    with engine.connect() as conn:
        assert "register_groups" not in inspect(conn).get_table_names()
    command.upgrade(cfg, "head")
    engine.dispose()
    with engine.connect() as conn:
        assert [tuple(row) for row in conn.execute(query)] == kept


def test_the_search_rowids_migration_gives_each_kind_a_range_of_its_own(backend_url, engine, tmp_path):
    """Revision b4c5d6e7f8a9 moves the SQLite index's rows from mixed rowids (ref_id * 4 + kind
    code) into a range per kind, and back on downgrade; the rows and what a search finds stay."""
    from forum.app import create_app
    from forum.auth.models import User
    from forum.core import db
    from forum.search import service as search
    from forum.search.backends import KIND_CODES, sqlite_rowid
    from forum_seed import demo as seed

    app = create_app({"DATABASE_URL": backend_url, "SECRET_KEY": "test", "INSTANCE_PATH": str(tmp_path)})

    def found() -> list:
        """What the executive's search for "vendor" finds, in order."""
        with app.app_context(), db.session_scope(app) as session:
            viewer = session.scalar(select(User).where(User.role == "executive").order_by(User.id).limit(1))
            hits = search.search(session, viewer, search.SearchRequest(q="vendor")).hits
        db.get_engine(app).dispose()
        return [(hit.kind, hit.ref_id) for hit in hits]

    with app.app_context(), db.session_scope(app) as session:
        seed.load_demo(session)
    before = found()
    assert before
    sqlite = engine.dialect.name == "sqlite"
    rows = text("SELECT rowid, kind, ref_id FROM search_index" if sqlite else "SELECT 0, kind, ref_id FROM search_index")
    with engine.connect() as conn:
        indexed = conn.execute(rows).all()
    if sqlite:
        assert all(rowid == sqlite_rowid(kind, ref) for rowid, kind, ref in indexed)

    cfg = alembic_config(backend_url)
    command.downgrade(cfg, "a3b4c5d6e7f8")
    with engine.connect() as conn:
        old = conn.execute(rows).all()
    if sqlite:
        assert sorted(old) == sorted((ref * 4 + KIND_CODES[kind], kind, ref) for _, kind, ref in indexed)
    command.upgrade(cfg, "head")
    engine.dispose()
    with engine.connect() as conn:
        assert sorted(conn.execute(rows).all()) == sorted(indexed)
    assert found() == before


def test_the_revalidation_by_system_migration_counts_as_the_forum_keeps(backend_url, engine, tmp_path):
    """Revision c5d6e7f8a9b0 fills the decided items' revalidation counts per AI system (their
    parts and the tallies) as the forum keeps them as items change; going back, it takes them
    out and sums the queue's and the revalidation's counts by day again from the items' parts
    (the earlier code reads them unfolded)."""
    from forum.app import create_app
    from forum.core import db
    from forum.health import tallies
    from forum.items.models import DecisionItem
    from forum.systems.models import AISystem
    from forum_seed import demo as seed

    app = create_app({"DATABASE_URL": backend_url, "SECRET_KEY": "test", "INSTANCE_PATH": str(tmp_path)})
    with app.app_context(), db.session_scope(app) as session:
        seed.load_demo(session)
    with app.app_context(), db.session_scope(app) as session:  # the decided items brought into the register
        systems = session.scalars(select(AISystem.id).order_by(AISystem.id)).all()
        for item, system_id in zip(session.scalars(select(DecisionItem).where(
                DecisionItem.status.in_(("decided", "closed"))).order_by(DecisionItem.id)), systems, strict=False):
            item.system_id = system_id
    db.get_engine(app).dispose()
    metric = tallies.REVALIDATION_BY_SYSTEM
    parts = text('SELECT item_id, period, "key", n FROM health_item_parts WHERE metric = :m ORDER BY item_id')
    counts = text('SELECT metric, period, "key", n FROM health_tallies WHERE metric IN :m ORDER BY 1, 2, 3')
    summed = text('SELECT metric, period, "key", sum(n) FROM health_item_parts WHERE metric IN :m '
                  'GROUP BY metric, period, "key" ORDER BY 1, 2, 3')
    counts, summed = (q.bindparams(bindparam("m", expanding=True)) for q in (counts, summed))

    def folded_counts(conn) -> Counter:
        """The counts per system as the forum reads them today (the days gone by folded)."""
        return tallies.folded(Counter({(m, p, k): n for m, p, k, n in conn.execute(counts, {"m": [metric]})}),
                              datetime.now(UTC).date())

    with engine.connect() as conn:
        kept_parts = conn.execute(parts, {"m": metric}).all()
        kept_counts = folded_counts(conn)
    assert any(period for _item, period, _key, _n in kept_parts)  # an item going stale on a day

    cfg = alembic_config(backend_url)
    command.downgrade(cfg, "b4c5d6e7f8a9")
    with engine.connect() as conn:
        assert not conn.execute(parts, {"m": metric}).all()
        assert not conn.execute(counts, {"m": [metric, tallies.FOLDED[0]]}).all()
        by_day = ["queue", "revalidation"]
        assert conn.execute(counts, {"m": by_day}).all() == conn.execute(summed, {"m": by_day}).all()
    command.upgrade(cfg, "head")
    engine.dispose()
    with engine.connect() as conn:
        assert conn.execute(parts, {"m": metric}).all() == kept_parts
        assert folded_counts(conn) == kept_counts


def test_the_open_actions_migration_counts_as_the_forum_keeps(backend_url, engine, tmp_path):
    """Revision e7f8a9b0c1d2 fills the open actions' counts (per owner, and by the day due: the
    items' parts and the tallies) as the forum keeps them as actions change."""
    from forum.app import create_app
    from forum.core import db
    from forum.health import tallies
    from forum_seed import demo as seed

    app = create_app({"DATABASE_URL": backend_url, "SECRET_KEY": "test", "INSTANCE_PATH": str(tmp_path)})
    with app.app_context(), db.session_scope(app) as session:
        seed.load_demo(session)
    db.get_engine(app).dispose()
    metrics = {"m": [tallies.OPEN_ACTIONS, tallies.ACTIONS_DUE]}
    parts = text('SELECT item_id, metric, period, "key", n FROM health_item_parts WHERE metric IN :m '
                 "ORDER BY 1, 2, 3, 4").bindparams(bindparam("m", expanding=True))
    counts = text('SELECT metric, period, "key", n FROM health_tallies WHERE metric IN :m').bindparams(
        bindparam("m", expanding=True))

    def folded_counts(conn) -> Counter:
        """The counts as the forum reads them today (the days gone by folded)."""
        return tallies.folded(Counter({(m, p, k): n for m, p, k, n in conn.execute(counts, metrics)}),
                              datetime.now(UTC).date())

    with engine.connect() as conn:
        kept_parts = conn.execute(parts, metrics).all()
        kept_counts = folded_counts(conn)
    assert {metric for _item, metric, _period, _key, _n in kept_parts} == set(metrics["m"])  # the demo has some

    cfg = alembic_config(backend_url)
    command.downgrade(cfg, "d6e7f8a9b0c1")
    with engine.connect() as conn:
        assert not conn.execute(parts, metrics).all() and not conn.execute(counts, metrics).all()
    command.upgrade(cfg, "head")
    engine.dispose()
    with engine.connect() as conn:
        assert conn.execute(parts, metrics).all() == kept_parts
        assert folded_counts(conn) == kept_counts


def test_the_system_page_indexes_get_statistics_where_the_database_keeps_them(tmp_path):
    """Revision d6e7f8a9b0c1 on a SQLite database that holds table statistics (ANALYZE was run)
    adds the new indexes' statistics (without them SQLite misjudged the first one), and adds
    none to a database that holds none."""
    from forum.app import create_app
    from forum.core import db
    from forum.migrate import upgrade
    from forum_seed import demo as seed

    new = {"ix_decision_items_system_newest", "ix_evidence_runs_item_version"}
    for analyzed in (True, False):
        url = f"sqlite:///{tmp_path / f'stats-{analyzed}.db'}"
        upgrade(url)
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test", "INSTANCE_PATH": str(tmp_path)})
        with app.app_context(), db.session_scope(app) as session:
            seed.load_demo(session)
        db.get_engine(app).dispose()
        command.downgrade(alembic_config(url), "c5d6e7f8a9b0")
        engine = make_engine(url)
        if analyzed:
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
        engine.dispose()
        upgrade(url)
        engine = make_engine(url)
        with engine.connect() as conn:
            kept = conn.execute(text("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")).all()
            stats = set(conn.execute(text("SELECT idx FROM sqlite_stat1")).scalars()) if kept else set()
        engine.dispose()
        assert (new <= stats) if analyzed else not kept
