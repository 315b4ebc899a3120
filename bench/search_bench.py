"""Search benchmark (not part of the test run): a forum of --items items with --comments comments
of random text, then

- how long `forum search reindex` takes to build the index from scratch,
- how long one search takes through the service (a common word, a rare word, a phrase, two words
  with a filter), and the /search page through the Flask test client, as the median of 5 runs.

    .venv/bin/python bench/search_bench.py [--items 20000] [--comments 100000] [--database-url URL]

The rows are inserted in bulk with Core executemany (the ORM hook indexes nothing then), and the
index is built once by the rebuild, as after restoring a backup. Default: a new SQLite file.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from forum.app import create_app
from forum.auth import service as accounts  # noqa: E402
from forum.auth.models import User  # noqa: E402
from forum.core import clock, db  # noqa: E402
from forum.items.models import DecisionItem  # noqa: E402
from forum.migrate import upgrade  # noqa: E402
from forum.search import index, service  # noqa: E402
from forum.weighing.models import Comment  # noqa: E402

PASSWORD = "bench password 123"


def words(rng: random.Random, vocabulary: list[str], n: int) -> str:
    return " ".join(rng.choice(vocabulary) for _ in range(n))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=20_000)
    parser.add_argument("--comments", type=int, default=100_000)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'search-bench.db'}"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "TESTING": True,
                      "WTF_CSRF_ENABLED": False, "INSTANCE_PATH": tempfile.mkdtemp()})
    rng = random.Random(7)
    vocabulary = [f"w{n:04d}" for n in range(3000)] + ["model", "vendor", "latency", "refund"] * 50
    with db.session_scope(app) as session:
        accounts.create_function(session, None, "procurement", "Procurement")
        user = accounts.create_user(session, None, accounts.NewUser(
            email="bench@example.com", display_name="Bench", role="staff", password=PASSWORD,
            function="procurement"))
        user_id = user.id
    now = clock.now()
    started = time.perf_counter()
    with db.get_engine(app).begin() as conn:
        conn.execute(insert(DecisionItem), [{
            "title": words(rng, vocabulary, 6), "summary": words(rng, vocabulary, 80),
            "category": "vendor_selection", "function_key": "procurement", "vendor": "Acme",
            "model_name": "bot", "model_version": "1.0", "status": "open", "version": 1,
            "filer_id": user_id, "created_at": now - timedelta(minutes=n), "updated_at": now,
        } for n in range(args.items)])
        for start in range(0, args.comments, 20_000):
            conn.execute(insert(Comment), [{
                "item_id": rng.randint(1, args.items), "author_id": user_id, "function_key": "procurement",
                "body": words(rng, vocabulary, 40), "created_at": now - timedelta(seconds=n),
            } for n in range(start, min(args.comments, start + 20_000))])
    print(f"{args.items} items, {args.comments} comments inserted in {time.perf_counter() - started:.1f} s")

    with db.session_scope(app) as session:
        started = time.perf_counter()
        counts = index.rebuild(session)
    print(f"reindex: {sum(counts.values())} rows in {time.perf_counter() - started:.1f} s")

    def median_ms(fn) -> float:
        times = []
        for _ in range(5):
            started = time.perf_counter()
            fn()
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)

    with app.extensions["forum.sessionmaker"]() as session:
        viewer = session.get(User, user_id)
        for label, request in (
            ("common word (refund)", service.SearchRequest(q="refund")),
            ("rare word (w0042)", service.SearchRequest(q="w0042")),
            ('phrase ("model vendor")', service.SearchRequest(q='"model vendor"')),
            ("two words, comments only", service.SearchRequest(q="latency refund", kind="comment")),
        ):
            found = service.search(session, viewer, request)
            ms = median_ms(lambda request=request: service.search(session, viewer, request))
            print(f"search {label}: {found.total} hits, page 1 in {ms:.0f} ms")
    client = app.test_client()
    client.post("/login", data={"email": "bench@example.com", "password": PASSWORD})
    ms = median_ms(lambda: client.get("/search?q=refund&page=50"))
    print(f"/search?q=refund&page=50 through the test client: {ms:.0f} ms")
    db.get_engine(app).dispose()


if __name__ == "__main__":
    main()
