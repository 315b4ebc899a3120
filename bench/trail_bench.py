"""Trail benchmark (not part of the test run): a valid chain of 1,000,000 events on SQLite, then

- verification speed of the whole chain from the database (target: >= 200,000 events/s),
- peak memory of a full JSON Lines export streamed through the web endpoint (target: < 200 MB),
- the trail browser's first and 10,000th page through the Flask test client (target: < 100 ms).

    .venv/bin/python bench/trail_bench.py [--events 1000000] [--db /tmp/trail-bench.db]

The events are generated in bulk (a valid chain computed with forum.trail.chain, inserted with
executemany) instead of through record(), which would take an hour; a few events at the start
(the auditor's account) go through the real services. An existing --db file with the right
number of events is reused.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from forum.app import create_app  # noqa: E402
from forum.auth import service as accounts  # noqa: E402
from forum.core import db
from forum.migrate import upgrade  # noqa: E402
from forum.trail import chain  # noqa: E402
from forum.trail.service import verify_database  # noqa: E402

AUDITOR = "bench-auditor@example.com"
PASSWORD = "bench password 123"
KINDS = ["item.created", "item.updated", "item.status_changed", "evidence.attached",
         "position.taken", "comment.added", "weight.rated", "decision.recorded"]


def make_app(path: Path, instance: Path):
    return create_app({
        "DATABASE_URL": f"sqlite:///{path}", "SECRET_KEY": "bench", "INSTANCE_PATH": str(instance),
        "WTF_CSRF_ENABLED": False,
    })


def event_count(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        try:
            return conn.execute("SELECT count(*) FROM events").fetchone()[0]
        except sqlite3.OperationalError:
            return -1


def build(path: Path, instance: Path, total: int) -> None:
    if path.exists():
        path.unlink()
    upgrade(f"sqlite:///{path}")
    app = make_app(path, instance)
    with app.app_context(), db.session_scope(app) as session:
        accounts.create_function(session, None, "procurement", "Procurement")
        accounts.create_user(session, None, accounts.NewUser(
            email=AUDITOR, display_name="Bench Auditor", role="auditor", password=PASSWORD))
    db.get_engine(app).dispose()

    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    seq, prev = conn.execute("SELECT seq, hash FROM trail_head WHERE id = 1").fetchone()
    start = datetime.now(UTC) - timedelta(days=400)
    started = time.perf_counter()
    batch = []
    for n in range(seq + 1, total + 1):
        moment = start + timedelta(milliseconds=30 * n)
        at = chain.format_at(moment)
        kind = KINDS[n % len(KINDS)]
        actor = f"user{n % 37}@example.com"
        subject = f"item:{n % 20_011}"
        data = {"changes": {"title": {"before": f"Title {n - 1}", "after": f"Title {n} — Zürich"}},
                "version": n}
        digest = chain.link_hash(prev, n, at, actor, kind, subject, data)
        stored_at = moment.strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's SQLite format
        batch.append((n, stored_at, actor, kind, subject, chain.canonical_json(data), prev, digest))
        prev = digest
        if len(batch) == 50_000:
            conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)", batch)
            batch.clear()
    if batch:
        conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?)", batch)
    conn.execute("UPDATE trail_head SET seq = ?, hash = ? WHERE id = 1", (total, prev))
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("ANALYZE")
    conn.close()
    print(f"built {total:,} events in {time.perf_counter() - started:.1f} s")


def bench_verify(path: Path, instance: Path) -> None:
    app = make_app(path, instance)
    best = None
    for _ in range(3):
        with app.app_context(), db.session_scope(app) as session:
            started, cpu = time.perf_counter(), time.process_time()
            result = verify_database(session)
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        assert result.ok, result.problem
        if best is None or elapsed < best[0]:
            best = (elapsed, cpu)
    elapsed, cpu = best
    print(f"verify (database): {result.count:,} events in {elapsed:.2f} s = "
          f"{result.count / elapsed:,.0f} events/s wall clock, {result.count / cpu:,.0f} events "
          f"per CPU second (best of 3; target >= 200,000/s)")
    db.get_engine(app).dispose()


def logged_in_client(app):
    client = app.test_client()
    response = client.post("/login", data={"email": AUDITOR, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return client


def export_child(path: Path, instance: Path) -> None:
    """Run in a fresh process: stream the whole JSON Lines export through the web endpoint,
    reading it chunk by chunk the way a WSGI server would, and report peak memory."""
    app = make_app(path, instance)
    client = logged_in_client(app)  # scrypt at login peaks at ~32 MB: reset the peak after it
    Path("/proc/self/clear_refs").write_text("5")
    baseline = _status_kb("VmRSS")
    started = time.perf_counter()
    response = client.get("/trail/export.jsonl", buffered=False)
    size = lines = 0
    for chunk in response.response:
        size += len(chunk)
        lines += chunk.count(b"\n")
    response.close()
    elapsed = time.perf_counter() - started
    peak = _status_kb("VmHWM")
    print(json.dumps({"lines": lines, "bytes": size, "seconds": elapsed, "baseline_kb": baseline,
                      "peak_kb": peak, "filename": response.headers["Content-Disposition"]}))


def _status_kb(field: str) -> int:
    """A memory figure of this process from /proc (Linux): VmRSS now, VmHWM its peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def bench_export(path: Path, instance: Path) -> None:
    child = subprocess.run(
        [sys.executable, __file__, "--export-child", "--db", str(path)],
        capture_output=True, text=True, check=True,
    )
    figures = json.loads(child.stdout.strip().splitlines()[-1])
    print(f"export (JSON Lines, streamed through /trail/export.jsonl): {figures['lines']:,} lines, "
          f"{figures['bytes'] / 1e6:,.0f} MB in {figures['seconds']:.1f} s; peak RSS of the "
          f"process {figures['peak_kb'] / 1024:,.0f} MB (before the export "
          f"{figures['baseline_kb'] / 1024:,.0f} MB) (target < 200 MB)")
    print(f"  {figures['filename']}")


def bench_browser(path: Path, instance: Path, total: int, per_page: int = 50) -> None:
    app = make_app(path, instance)
    client = logged_in_client(app)
    deep = total + 1 - 9_999 * per_page  # the cursor at which page 10,000 starts
    for label, url in (("first page", "/trail"), ("page 10,000", f"/trail?before={deep}"),
                       ("page 10,000 filtered by kind", f"/trail?before={deep}&kind=decision.recorded")):
        times = []
        for _ in range(7):
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code
        page = response.get_data(as_text=True)
        assert page.count('class="trail-row"') == per_page, url
        print(f"browser {label} ({url}): median {statistics.median(times) * 1000:.1f} ms, "
              f"best {min(times) * 1000:.1f} ms (target < 100 ms)")
    db.get_engine(app).dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=Path(tempfile.gettempdir()) / "trail-bench.db")
    parser.add_argument("--export-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    instance = args.db.parent / "trail-bench-instance"
    if args.export_child:
        export_child(args.db, instance)
        return
    if event_count(args.db) != args.events:
        build(args.db, instance, args.events)
    else:
        print(f"reusing {args.db} ({args.events:,} events)")
    bench_verify(args.db, instance)
    bench_export(args.db, instance)
    bench_browser(args.db, instance, args.events)


if __name__ == "__main__":
    main()
