"""Time the API's item list: one page, and a full cursor walk, over N items (SQLite in a temp dir,
or FORUM_DATABASE_URL). Prints figures; asserts nothing.

    python bench/api_pages.py [N]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from forum.api import service as tokens
from forum.app import create_app
from forum.auth import service as accounts
from forum.core import db
from forum.items import service as items
from forum.migrate import upgrade


def main(n: int) -> None:
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite:///{folder / 'bench.db'}"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": str(folder),
                      "RATELIMIT_API": "1000000 per minute"})
    with db.session_scope(app) as session:
        accounts.create_function(session, None, "procurement", "Procurement")
        user = accounts.create_user(session, None, accounts.NewUser(
            "bench@example.com", "Bench", "staff", "long enough password", "procurement"))
        for k in range(n):
            items.create_item(session, user, items.ItemData(title=f"Item {k}", category="model_update",
                                                            function="procurement", summary="x" * 200))
        _token, secret = tokens.create_token(session, None, user, tokens.NewToken("bench", ["items:read"]))
    client = app.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    client.get("/api/v1/items", headers=headers)
    rounds = 200
    start = time.perf_counter()
    for _ in range(rounds):
        assert client.get("/api/v1/items?limit=50", headers=headers).status_code == 200
    page_ms = (time.perf_counter() - start) / rounds * 1000
    start, pages, cursor = time.perf_counter(), 0, None
    while True:
        body = client.get("/api/v1/items?limit=200" + (f"&cursor={cursor}" if cursor else ""), headers=headers).get_json()
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    walk_s = time.perf_counter() - start
    last = client.get("/api/v1/items?limit=50&q=Item%200", headers=headers)
    print(f"{n} items: GET /api/v1/items?limit=50 {page_ms:.1f} ms per call (mean of {rounds}); "
          f"full walk at limit=200: {pages} pages in {walk_s:.2f} s; q search status {last.status_code}")
    db.get_engine(app).dispose()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
