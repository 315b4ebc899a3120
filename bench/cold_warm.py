"""Cold and warm figures for the pages of the load benchmark, in-process (Flask's test client, no
server, no concurrency): what one request costs on its own.

    python bench/cold_warm.py --db-url sqlite:///bench/.data/forum-100000.db [--repeat 15]

- **warm**: the derived-result cache holds what the page derives from the whole data set (the
  usual case between two changes);
- **cold**: the cache is off, as for the first request after any change (every change moves
  the trail head, which is the cache's key) or in a worker that just started.

Both are the median of ``--repeat`` requests after one unmeasured request (templates compiled,
connections open), with the SQL statements per request. The pages and their sample URLs are the
ones bench/load.py picks from the same data set. Prints a Markdown table; not part of the tests.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event

from forum.app import create_app
from forum.core import db

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("bench_load", ROOT / "bench" / "load.py")
load = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = load
spec.loader.exec_module(load)


def measure(app, pages, repeat: int) -> dict[str, tuple[float, int]]:
    """Median milliseconds and statements per request for each page, as its person."""
    engine = db.get_engine(app)
    statements = [0]

    def count(*_):
        statements[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    clients = {}
    figures = {}
    try:
        for page in pages:
            if page.who not in clients:
                client = app.test_client()
                login = client.post("/login", data={"email": page.who, "password": load.DEMO_PASSWORD})
                if login.status_code != 302:
                    raise SystemExit(f"could not log in as {page.who}")
                clients[page.who] = client
            client = clients[page.who]
            path = page.paths[0]
            first = client.get(path)
            if first.status_code != 200:
                raise SystemExit(f"{path} answered {first.status_code}")
            times = []
            statements[0] = 0
            for _ in range(repeat):
                started = time.perf_counter()
                client.get(path)
                times.append((time.perf_counter() - started) * 1000)
            figures[page.name] = (statistics.median(times), statements[0] // repeat)
    finally:
        event.remove(engine, "before_cursor_execute", count)
        engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db-url", default=f"sqlite:///{ROOT / 'bench' / '.data' / 'forum-100000.db'}")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--only", default="", help="only pages whose name contains this")
    args = parser.parse_args()

    instance = tempfile.mkdtemp(prefix="forum-bench-")
    env = {**os.environ, "FORUM_INSTANCE_PATH": instance, "FORUM_SECRET_KEY": "cold-warm"}
    pages, facts = load.pick_pages(args.db_url, env, has_search=True)
    load.revoke_token(args.db_url, env, facts["token_id"])  # only the API page needs it: not measured here
    pages = [p for p in pages if p.who and p.method == "GET" and args.only.lower() in p.name.lower()]
    config = {"DATABASE_URL": args.db_url, "SECRET_KEY": "cold-warm", "WTF_CSRF_ENABLED": False,
              "INSTANCE_PATH": instance, "BENCH_BASELINE": True, "RATELIMIT_ENABLED": False}
    warm = measure(create_app({**config}), pages, args.repeat)
    cold = measure(create_app({**config, "DERIVED_CACHE_SIZE": 0}), pages, args.repeat)
    print(f"In-process, median of {args.repeat} requests after one unmeasured; {args.db_url.split(':')[0]}\n")
    print("| page | warm ms | statements | cold ms | statements |")
    print("|---|---|---|---|---|")
    for page in pages:
        (w, ws), (c, cs) = warm[page.name], cold[page.name]
        print(f"| {page.name} | {w:.1f} | {ws} | {c:.1f} | {cs} |")


if __name__ == "__main__":
    main()
