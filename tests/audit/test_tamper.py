"""Rows changed behind the append-only triggers are caught by both verifiers — the database
check and `forum trail verify --file` on an export — naming the first bad seq. On SQLite and
PostgreSQL alike (``backend_url``)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from forum.audit import verify as audit
from forum.core.db import make_engine
from forum.trail.service import export_jsonl, record, verify_database
from tests.audit.conftest import bypassing_triggers


@pytest.fixture
def engine(backend_url):
    engine = make_engine(backend_url)
    with Session(engine) as session:
        for n in range(1, 7):
            record(session, f"user{n}@example.com", "test.note", f"item:{n}", {"n": n, "city": "Zürich"})
        session.commit()
    yield engine
    engine.dispose()


# case: (statements, first bad seq, events checked before it, words of the problem)
CASES = {
    "changed data": (["UPDATE events SET data = :data WHERE seq = 3"], 3, 2, "altered"),
    "changed actor": (["UPDATE events SET actor = 'mallory@example.com' WHERE seq = 4"], 4, 3, "altered"),
    "changed kind": (["UPDATE events SET kind = 'test.forged' WHERE seq = 6"], 6, 5, "altered"),
    "deleted event": (["DELETE FROM events WHERE seq = 3"], 4, 2, "expected seq 3, found 4"),
    "swapped order": (["UPDATE events SET seq = -1 WHERE seq = 2",
                       "UPDATE events SET seq = 2 WHERE seq = 3",
                       "UPDATE events SET seq = 3 WHERE seq = -1"], 2, 1, "prev_hash"),
    "replaced hash": (["UPDATE events SET hash = :hash WHERE seq = 5"], 5, 4, "altered"),
}


@pytest.mark.parametrize("case", CASES)
def test_both_verifiers_name_the_first_bad_seq(engine, cli, tmp_path, case):
    statements, bad_seq, checked, problem = CASES[case]
    with bypassing_triggers(engine) as conn:
        for statement in statements:
            conn.execute(text(statement), {"data": '{"city":"Zürich","n":30}', "hash": "f" * 64})

    with Session(engine) as session:
        result = verify_database(session)
        export = tmp_path / "tampered.jsonl"
        with export.open("w", encoding="utf-8") as handle:
            export_jsonl(session, handle)

    assert not result.ok
    assert result.first_bad_seq == bad_seq
    assert problem in result.problem
    assert result.count == checked
    from_file = cli("trail", "verify", "--file", str(export))
    assert from_file.exit_code == 1
    assert f"BROKEN at seq {bad_seq}: " in from_file.output
    assert problem in from_file.output


def test_untouched_chain_passes_both_verifiers(engine, cli, tmp_path):
    with Session(engine) as session:
        result = verify_database(session)
        export = tmp_path / "trail.jsonl"
        with export.open("w", encoding="utf-8") as handle:
            export_jsonl(session, handle)
    assert result.ok and result.count == 6
    assert cli("trail", "verify", "--file", str(export)).output.startswith("OK: 6 events checked")


def test_truncating_the_newest_events_is_caught_by_the_checkpoint(engine, cli, tmp_path):
    with Session(engine) as session:
        checkpoint = audit.record_checkpoint(session, None, "before the cut")
        token = checkpoint.token
        session.commit()
    with bypassing_triggers(engine) as conn:
        conn.execute(text("DELETE FROM events WHERE seq >= 5"))

    with Session(engine) as session:
        result = audit.verify(session, None)
        export = tmp_path / "cut.jsonl"
        with export.open("w", encoding="utf-8") as handle:
            export_jsonl(session, handle)

    assert result.chain_ok and not result.ok
    assert [c.status for c in result.checkpoints] == ["missing"]
    from_file = cli("trail", "verify", "--file", str(export), "--checkpoint", token)
    assert from_file.exit_code == 1
    assert "LINKS OK: 4 events checked" in from_file.output
    assert "MISSING" in from_file.output
