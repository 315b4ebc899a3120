"""The index on both databases in every run (``backend_url``: SQLite and PostgreSQL): built and
filled by the migration, rebuilt by `forum search reindex`, ranked alike, kept in step with each
change's transaction, and proof against query syntax."""

from __future__ import annotations

import pytest
from alembic import command
from click.testing import CliRunner
from flask.cli import ScriptInfo
from sqlalchemy import text

from forum.app import create_app
from forum.auth import service as accounts
from forum.cli import main
from forum.core import db
from forum.evidence import service as evidence
from forum.items import service as items
from forum.migrate import alembic_config
from forum.search import service
from forum.weighing import comments
from tests.conftest import PASSWORD
from tests.evidence.conftest import csv_bytes
from tests.search.test_service import HOSTILE

BEFORE_SEARCH = "7fb043ae3598"  # the revision before the search index


@pytest.fixture
def backend_app(backend_url, tmp_path):
    application = create_app({
        "DATABASE_URL": backend_url, "SECRET_KEY": "test", "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"), "WTF_CSRF_ENABLED": False,
    })
    yield application
    db.get_engine(application).dispose()


@pytest.fixture
def world(backend_app):
    """Two staff users, an open item with a comment and an evidence run, and a draft."""
    factory = backend_app.extensions["forum.sessionmaker"]
    with factory() as session:
        for key in ("procurement", "risk"):
            accounts.create_function(session, None, key, key.title())
        filer, reader = (
            accounts.create_user(session, None, accounts.NewUser(
                email=f"{name}@example.com", display_name=name.title(), role="staff",
                password=PASSWORD, function=function))
            for name, function in (("filer", "procurement"), ("reader", "risk"))
        )
        body_only = items.create_item(session, filer, items.ItemData(
            title="Assistant renewal", category="vendor_selection", function="procurement",
            summary="The chatbot contract ends in March."))
        titled = items.create_item(session, filer, items.ItemData(
            title="Chatbot shortlist", category="vendor_selection", function="procurement",
            summary="Three vendors answered."))
        for item in (body_only, titled):
            items.transition(session, filer, item, "submit")
        note = comments.add_comment(session, reader, titled, "Chatbot chatbot chatbot latency.")
        run = evidence.attach_evidence(session, filer, titled, "r.csv", csv_bytes(3, 1, suite="chatbot-eval"))
        draft = items.create_item(session, filer, items.ItemData(
            title="Chatbot draft", category="vendor_selection", function="procurement"))
        session.commit()
        return {"filer": filer.id, "reader": reader.id, "body_only": body_only.id,
                "titled": titled.id, "note": note.id, "run": run.id, "draft": draft.id}


def _found(app, user_id, q, **filters):
    with app.extensions["forum.sessionmaker"]() as session:
        viewer = session.get(accounts.User, user_id)
        results = service.search(session, viewer, service.SearchRequest(q=q, **filters))
        return [(hit.kind, hit.ref_id) for hit in results.hits]


def test_ranking_and_permissions_are_the_same_on_both_databases(backend_app, world):
    hits = _found(backend_app, world["reader"], "chatbot")
    assert ("item", world["draft"]) not in hits
    # title hits first: the item's title and the run's suite ("chatbot-eval")
    assert set(hits[:2]) == {("item", world["titled"]), ("evidence", world["run"])}
    assert set(hits) == {("item", world["titled"]), ("item", world["body_only"]),
                         ("comment", world["note"]), ("evidence", world["run"])}
    # the comment repeats the word three times: it ranks above the one mention in a summary
    assert hits.index(("comment", world["note"])) < hits.index(("item", world["body_only"]))
    assert ("item", world["draft"]) in _found(backend_app, world["filer"], "chatbot")


def test_hostile_queries_on_both_databases(backend_app, world):
    for q in HOSTILE:
        _found(backend_app, world["reader"], q)  # no exception
    assert _found(backend_app, world["reader"], 'zzz" OR ""="') == []  # words, not syntax
    assert _found(backend_app, world["reader"], "(shortlist)") == [("item", world["titled"])]


def test_index_follows_the_transaction_on_both_databases(backend_app, world):
    factory = backend_app.extensions["forum.sessionmaker"]
    with factory() as session:
        filer = session.get(accounts.User, world["filer"])
        item = items.get_item(session, filer, world["titled"])
        items.update_item(session, filer, item, items.ItemData(
            title="Voicebot shortlist", category=item.category, function=item.function_key,
            summary=item.summary), item.version)
        found = service.search(session, filer, service.SearchRequest(q="voicebot"))
        assert [(h.kind, h.ref_id) for h in found.hits] == [("item", world["titled"])]
        session.rollback()
    assert _found(backend_app, world["reader"], "voicebot") == []
    assert ("item", world["titled"]) in _found(backend_app, world["reader"], "shortlist")


def _index_rows(app) -> int:
    with db.get_engine(app).connect() as conn:
        return conn.execute(text("SELECT count(*) FROM search_index")).scalar_one()


def test_the_migration_fills_the_index_from_existing_rows(backend_app, backend_url, world):
    indexed = _index_rows(backend_app)
    assert indexed == 5  # 3 items (one a draft), 1 comment, 1 run
    db.get_engine(backend_app).dispose()
    cfg = alembic_config(backend_url)
    command.downgrade(cfg, BEFORE_SEARCH)
    command.upgrade(cfg, "head")
    assert _index_rows(backend_app) == indexed
    hits = _found(backend_app, world["reader"], "chatbot")
    assert set(hits[:2]) == {("item", world["titled"]), ("evidence", world["run"])} and len(hits) == 4


def test_forum_search_reindex_rebuilds_the_index(backend_app, world):
    with db.get_engine(backend_app).begin() as conn:
        conn.execute(text("DELETE FROM search_index"))
    assert _found(backend_app, world["reader"], "chatbot") == []
    runner = CliRunner()
    result = runner.invoke(main, ["search", "reindex"], obj=ScriptInfo(create_app=lambda: backend_app),
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Search index rebuilt: 3 item, 1 comment, 0 decision, 1 evidence." in result.output
    assert len(_found(backend_app, world["reader"], "chatbot")) == 4


@pytest.mark.parametrize("kind", ["meeting", "item' OR '1'='1"])
def test_a_kind_the_index_does_not_hold_is_refused_before_any_sql(kind, db_session):
    from forum.search.backends import BACKENDS, Filters
    from forum.search.query import parse

    for backend in BACKENDS.values():
        with pytest.raises(ValueError, match="unknown kind"):
            backend.page(db_session.connection(), parse("vendor"), Filters(1, "staff", kind=kind), 20, 0, 10)
