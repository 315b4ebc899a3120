"""How long one change holds the write lock: the figure that bounds concurrent writers, who queue
on it (forum.core.db.lock_for_change). Sends the same request many times in-process, without a
profiler, and prints per request the whole time and the time from taking the lock to the end
of the commit, with the statements issued under the lock.

    python bench/write_lock.py --url /api/v1/items/100019/evidence \\
        --upload seed/evidence/support-bot-2026.07.2-week1.csv --email procurement@example.com \\
        [--db-url postgresql+psycopg://postgres@127.0.0.1:5432/forum_bench_100000] [--repeat 200]

With twenty uploads queued at once, an upload waits about twenty lock holds: the p95 goal of
150 ms under that stress needs a hold of about 7 ms.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from profile_page import page_request, revoke  # beside this file (python bench/write_lock.py)
from sqlalchemy import event

from forum.app import create_app
from forum.core import db

ROOT = Path(__file__).resolve().parent.parent
LOCK_STATEMENTS = ("pg_advisory_xact_lock", "BEGIN IMMEDIATE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="an API URL to POST --upload to")
    parser.add_argument("--upload", required=True, help="the result file to post")
    parser.add_argument("--db-url", default=f"sqlite:///{ROOT / 'bench' / '.data' / 'forum-100000.db'}")
    parser.add_argument("--email", default="procurement@example.com")
    parser.add_argument("--password", default="forum-demo")
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--statements", action="store_true", help="also each statement under the lock, slowest first")
    args = parser.parse_args()

    app = create_app({"DATABASE_URL": args.db_url, "SECRET_KEY": "write-lock", "WTF_CSRF_ENABLED": False,
                      "INSTANCE_PATH": str(ROOT / "bench" / ".data" / "instance")})
    request, token_id = page_request(app, args.url, args.email, args.password, args.upload)
    first = request()  # warm: statements compiled, connections open
    if first.status_code != 201:
        raise SystemExit(f"{args.url} answered {first.status_code}: {first.get_data(as_text=True)[:300]}")
    held: list[float] = []
    committing: list[float] = []
    under: list[int] = []
    per_statement: dict[str, list[float]] = {}
    state: dict = {}

    def before(conn, cursor, statement, *_):
        conn.info["sent"] = time.perf_counter()
        if "started" in state:
            state["statements"] += 1
        elif any(mark in statement for mark in LOCK_STATEMENTS):
            state.update(started=time.perf_counter(), statements=0)

    def after(conn, cursor, statement, *_):
        if "started" in state:
            per_statement.setdefault(" ".join(statement.split())[:110], []).append(
                time.perf_counter() - conn.info.pop("sent"))

    def commit(conn):
        state["committing"] = time.perf_counter()

    def ended(session, *_):
        if "started" in state:
            now = time.perf_counter()
            held.append(now - state.pop("started"))
            committing.append(now - state.pop("committing", now))
            under.append(state.pop("statements"))

    event.listen(db.get_engine(app), "before_cursor_execute", before)
    event.listen(db.get_engine(app), "after_cursor_execute", after)
    event.listen(db.get_engine(app), "commit", commit)
    factory = app.extensions["forum.sessionmaker"]
    event.listen(factory, "after_commit", ended)
    event.listen(factory, "after_rollback", ended)
    whole: list[float] = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        response = request()
        whole.append(time.perf_counter() - started)
        if response.status_code != 201:
            raise SystemExit(f"{args.url} answered {response.status_code}")
    if token_id is not None:
        revoke(app, token_id)

    def figures(values: list[float]) -> str:
        ms = sorted(v * 1000 for v in values)
        return (f"p50 {statistics.median(ms):.1f} ms, p95 {ms[int(len(ms) * 0.95) - 1]:.1f} ms, "
                f"mean {statistics.fmean(ms):.1f} ms")

    print(f"{args.url} × {args.repeat} on {db.get_engine(app).dialect.name}")
    print(f"  whole request:        {figures(whole)}")
    print(f"  write lock held:      {figures(held)}")
    print(f"  of which the commit:  {figures(committing)}")
    print(f"  statements under it:  {statistics.median(under):.0f} (median; the lock's own and the commit not counted)")
    if args.statements:
        print("  the statements under the lock, by their total time (ms per request):")
        for statement, seconds in sorted(per_statement.items(), key=lambda kv: -sum(kv[1])):
            print(f"  {sum(seconds) * 1000 / args.repeat:7.2f}  {statement}")
    db.get_engine(app).dispose()


if __name__ == "__main__":
    main()
