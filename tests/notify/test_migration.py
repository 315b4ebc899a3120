"""The notifications migration: on an existing install, the people involved in an item follow it."""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import select, text

from forum.core.db import make_engine
from forum.migrate import alembic_config
from forum.notify.models import Follow

REVISION = "15811decc013"


def test_upgrade_makes_the_involved_people_follow_existing_items(backend_url):
    cfg = alembic_config(backend_url)
    before = ScriptDirectory.from_config(cfg).get_revision(REVISION).down_revision
    command.downgrade(cfg, before)
    engine = make_engine(backend_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO org_functions (key, label, created_at) "
                              "VALUES ('risk', 'Risk', CURRENT_TIMESTAMP)"))
            for n in (1, 2, 3):
                conn.execute(text(
                    "INSERT INTO users (id, email, display_name, function_key, role, password_hash, "
                    "active, created_at) VALUES (:id, :email, 'U', 'risk', 'staff', '!', TRUE, "
                    "CURRENT_TIMESTAMP)"), {"id": n, "email": f"u{n}@example.com"})
            for item, filer in ((10, 1), (11, 2)):
                conn.execute(text(
                    "INSERT INTO decision_items (id, title, summary, category, function_key, vendor, "
                    "model_name, model_version, status, version, filer_id, created_at, updated_at) "
                    "VALUES (:id, 'T', '', 'vendor_selection', 'risk', '', '', '', 'open', 1, :filer, "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"id": item, "filer": filer})
            conn.execute(text(
                "INSERT INTO comments (item_id, author_id, function_key, body, created_at) "
                "VALUES (10, 3, 'risk', 'Hi', CURRENT_TIMESTAMP)"))
        command.upgrade(cfg, "head")
        with engine.connect() as conn:
            rows = set(conn.execute(text("SELECT user_id, item_id FROM item_follows")).all())
            assert rows == {(1, 10), (2, 11), (3, 10)}
            # the timestamps read back as aware UTC datetimes through the model's column type
            stamps = conn.execute(select(Follow.created_at)).scalars().all()
            assert all(s.tzinfo is not None for s in stamps)
    finally:
        engine.dispose()
