"""Profile one page with pyinstrument against a database (e.g. the benchmark's data set), logged in
as one of the demo people, in-process through Flask's test client. Prints the call tree, the
time per request and the SQL statement count.

    python bench/profile_page.py --url /escalations [--db-url sqlite:///bench/.data/forum-5000.db]
        [--email exec@example.com] [--repeat 5] [--html profile.html] [--cold] [--statements]

With ``--upload FILE`` the request is a POST of that result file to an API URL (say
``/api/v1/items/5/evidence``) with a token made for the person for the run and revoked after.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from pyinstrument import Profiler
from sqlalchemy import event

from forum.app import create_app
from forum.core import db

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the page, e.g. /escalations")
    parser.add_argument("--db-url", default=f"sqlite:///{ROOT / 'bench' / '.data' / 'forum-5000.db'}")
    parser.add_argument("--email", default="exec@example.com")
    parser.add_argument("--password", default="forum-demo")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--html", default="", help="also write pyinstrument's HTML report here")
    parser.add_argument("--cold", action="store_true",
                        help="turn the derived-result cache off: every request computes as after a change")
    parser.add_argument("--upload", default="",
                        help="POST this result file to --url through the API (a token for --email)")
    parser.add_argument("--statements", action="store_true",
                        help="print each SQL statement of the last request with its time, slowest first")
    args = parser.parse_args()

    app = create_app({"DATABASE_URL": args.db_url, "SECRET_KEY": "profile", "WTF_CSRF_ENABLED": False,
                      "INSTANCE_PATH": str(ROOT / "bench" / ".data" / "instance"),
                      **({"DERIVED_CACHE_SIZE": 0} if args.cold else {})})
    request, token_id = page_request(app, args.url, args.email, args.password, args.upload)
    first = request()  # warm: templates compiled, connections open
    if first.status_code not in (200, 201):
        raise SystemExit(f"{args.url} answered {first.status_code}: {first.get_data(as_text=True)[:300]}")
    statements = []
    timings: list[tuple[float, str]] = []
    engine = db.get_engine(app)

    def before(conn, cursor, statement, *_):
        statements.append(statement)
        conn.info["started"] = time.perf_counter()

    def after(conn, cursor, statement, *_):
        timings.append((time.perf_counter() - conn.info.pop("started"), statement))

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    profiler = Profiler(interval=0.0005)
    started = time.perf_counter()
    with profiler:
        for _ in range(args.repeat):
            request()
    elapsed = (time.perf_counter() - started) / args.repeat
    print(f"{args.url}: {elapsed * 1000:.0f} ms per request, "
          f"{len(statements) // args.repeat} SQL statements per request")
    if args.statements:
        last = timings[-(len(statements) // args.repeat):]
        for seconds, statement in sorted(last, key=lambda t: -t[0]):
            print(f"{seconds * 1000:8.1f} ms  {' '.join(statement.split())[:300]}")
        print()
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    if args.html:
        Path(args.html).write_text(profiler.output_html(), encoding="utf-8")
    if token_id is not None:
        revoke(app, token_id)
    engine.dispose()


def page_request(app, url: str, email: str, password: str, upload: str = ""):
    """How to ask for the page, and the id of the API token made for it (None without one): a
    GET as ``email`` logged in through the form, or with ``upload`` a POST of that file through
    the API with a token made for ``email`` (revoke it with ``revoke`` when done)."""
    client = app.test_client()
    if not upload:
        if client.post("/login", data={"email": email, "password": password}).status_code != 302:
            raise SystemExit(f"could not log in as {email}")
        return (lambda: client.get(url)), None
    token_id, secret = api_token(app, email)
    content = Path(upload).read_bytes()
    headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/octet-stream"}
    return (lambda: client.post(url, data=content, headers=headers)), token_id


def api_token(app, email: str) -> tuple[int, str]:
    """A token (items:read, evidence:write) for ``email``: its id and its secret."""
    from sqlalchemy import select

    from forum.api import service as tokens
    from forum.auth.models import User

    with db.session_scope(app) as session:
        owner = session.scalar(select(User).where(User.email == email))
        token, secret = tokens.create_token(session, owner, owner, tokens.NewToken(
            f"profile {time.strftime('%Y-%m-%d %H:%M:%S')}", ["items:read", "evidence:write"]))
        return token.id, secret


def revoke(app, token_id: int) -> None:
    """Revoke the run's token: a person may hold 20 at a time."""
    from forum.api import service as tokens
    from forum.api.models import ApiToken

    with db.session_scope(app) as session:
        tokens.revoke_token(session, None, session.get(ApiToken, token_id))


if __name__ == "__main__":
    main()
