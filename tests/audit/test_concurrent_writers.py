"""Two app instances — separate OS processes, each with its own engine and connection pool —
append to one PostgreSQL trail at once (8 threads × 100 changes each, one transaction per
change): every change has its event, seq has no gaps or duplicates, and the chain verifies.

PostgreSQL only: SQLite is one file and serialises writers by design. Skipped when PostgreSQL
cannot be reached, a failure instead under CI=true (see tests/conftest.py)."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.core.db import make_engine
from forum.migrate import upgrade
from forum.trail.models import Event
from forum.trail.service import verify_database
from tests.conftest import ScratchPostgres

PROJECT_ROOT = Path(__file__).resolve().parents[2]
THREADS, CHANGES = 8, 100

# One app instance: its own engine and pool, THREADS threads that each append CHANGES events in
# their own transactions. It connects every thread first, says "ready", and starts on "go".
WRITER = r"""
import sys, threading
from sqlalchemy import text
from sqlalchemy.orm import Session
from forum.core.db import make_engine
from forum.trail.service import record

url, name, threads, changes = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
engine = make_engine(url)
start = threading.Barrier(threads + 1)
errors = []

def work(thread):
    try:
        with Session(engine) as session:
            session.execute(text("SELECT 1"))
            session.rollback()
            start.wait(timeout=60)
            for n in range(changes):
                record(session, None, "test.concurrent", f"{name}:{thread}",
                       {"instance": name, "thread": thread, "n": n})
                session.commit()
    except BaseException as exc:
        errors.append(f"{name}:{thread}: {exc!r}")
        start.abort()

workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
for worker in workers:
    worker.start()
print("ready", flush=True)
sys.stdin.readline()
start.wait(timeout=60)
for worker in workers:
    worker.join()
engine.dispose()
if errors:
    print("\n".join(errors), file=sys.stderr)
    sys.exit(1)
"""


@pytest.fixture
def postgres_url():
    scratch = ScratchPostgres()  # skips (or fails in CI) when PostgreSQL is unreachable
    upgrade(scratch.url)
    yield scratch.url
    scratch.drop()


def test_two_instances_writing_at_once_keep_one_gap_free_verifiable_chain(postgres_url):
    instances = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, postgres_url, name, str(THREADS), str(CHANGES)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            cwd=PROJECT_ROOT,
        )
        for name in ("instance-a", "instance-b")
    ]
    try:
        for process in instances:
            assert process.stdout.readline().strip() == "ready", process.stderr.read()
        for process in instances:  # both start together
            process.stdin.write("go\n")
            process.stdin.flush()
        outcomes = [process.communicate(timeout=120) for process in instances]
    finally:
        for process in instances:
            if process.poll() is None:
                process.kill()
    for process, (_out, err) in zip(instances, outcomes, strict=True):
        assert process.returncode == 0, err

    engine = make_engine(postgres_url)
    try:
        with Session(engine) as session:
            seqs = list(session.scalars(select(Event.seq).order_by(Event.seq)))
            per_writer = Counter(session.scalars(select(Event.subject)))
            result = verify_database(session)
    finally:
        engine.dispose()
    total = 2 * THREADS * CHANGES
    assert seqs == list(range(1, total + 1))
    assert per_writer == {f"instance-{i}:{t}": CHANGES for i in "ab" for t in range(THREADS)}
    assert result.ok, f"broken at seq {result.first_bad_seq}: {result.problem}"
    assert result.count == total
