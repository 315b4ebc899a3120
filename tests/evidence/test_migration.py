"""The evidence-chunks migration: the files of existing runs move into pieces, and back on downgrade."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from forum.core.db import make_engine
from forum.migrate import alembic_config

REVISION = "0015155e4603"
BEFORE = "4b7e1c9d2a36"  # the revision before it


def test_existing_files_move_into_pieces_and_back(backend_url):
    cfg = alembic_config(backend_url)
    command.downgrade(cfg, BEFORE)
    engine = make_engine(backend_url)
    big = bytes(range(256)) * 10_000  # 2.56 MB: three pieces of 1 MiB, the last one shorter
    small = b"case_id,passed\na,true\n"
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO org_functions (key, label, created_at) "
                              "VALUES ('risk', 'Risk', CURRENT_TIMESTAMP)"))
            conn.execute(text(
                "INSERT INTO users (id, email, display_name, function_key, role, password_hash, "
                "active, created_at) VALUES (1, 'u@example.com', 'U', 'risk', 'staff', '!', TRUE, "
                "CURRENT_TIMESTAMP)"))
            conn.execute(text(
                "INSERT INTO decision_items (id, title, summary, category, function_key, vendor, "
                "model_name, model_version, status, version, filer_id, created_at, updated_at) "
                "VALUES (10, 'T', '', 'vendor_selection', 'risk', '', '', '', 'open', 1, 1, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
            for run_id, data in ((5, big), (6, small)):
                conn.execute(text(
                    "INSERT INTO evidence_runs (id, item_id, data, sha256, size, filename, content_type, "
                    "format, suite, model_id, model_version, passed, failed, errored, skipped, edge_total, "
                    "edge_passed, edge_skipped, tag_counts, metrics, failing_cases, notes, gate_results, "
                    "uploaded_by_id, uploaded_at) VALUES (:id, 10, :data, '', :size, 'f', 'text/csv', "
                    "'csv', 's', '', '', 1, 0, 0, 0, 0, 0, 0, '{}', '{}', '[]', '[]', '{}', 1, "
                    "CURRENT_TIMESTAMP)"), {"id": run_id, "data": data, "size": len(data)})
        command.upgrade(cfg, REVISION)
        with engine.connect() as conn:
            pieces = conn.execute(text("SELECT run_id, n, data FROM evidence_chunks ORDER BY run_id, n")).all()
        assert [(run_id, n, len(data)) for run_id, n, data in pieces] == [
            (5, 0, 1 << 20), (5, 1, 1 << 20), (5, 2, len(big) - (2 << 20)), (6, 0, len(small))]
        assert b"".join(bytes(p.data) for p in pieces if p.run_id == 5) == big
        command.downgrade(cfg, BEFORE)
        engine.dispose()
        with engine.connect() as conn:
            files = dict(conn.execute(text("SELECT id, data FROM evidence_runs")).all())
        assert {run_id: bytes(data) for run_id, data in files.items()} == {5: big, 6: small}
        command.upgrade(cfg, "head")
    finally:
        engine.dispose()
