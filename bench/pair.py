"""Paired A/B timing of one page: two versions of the forum side by side in two long-lived
processes, answering the same request in alternating batches, so that both see the same moments
of a noisy machine. Prints each side's median and fastest batch (milliseconds per request) and
the median of the per-round ratios (after / before), which is what to read: on a machine whose
speed drifts by 20 % from one minute to the next, it still separates a 5 % change.

    git worktree add /tmp/before <commit>
    python bench/pair.py --before /tmp/before --url /items/50198 \\
        --db-url sqlite:///$PWD/bench/.data/forum-100000.db [--rounds 30] [--batch 10] \\
        [--email exec@example.com] [--cold]

With ``--upload FILE`` each request POSTs that result file to ``--url`` through the API (an
evidence upload, say ``/api/v1/items/100022/evidence``), with a token made for ``--email``.

``--comment-on ITEM_ID`` writes a comment on that open item before each request (untimed): the
page as it is served right after someone else's change. ``--upload-on ITEM_ID`` uploads a result
file (seed/evidence) to that item instead, as a CI pipeline does.

``--after`` defaults to this checkout. ``--cold`` turns the derived-result cache off on both
sides (every request computes as the first after a change does). Each side is the checkout put
first on the path; the installed package's templates are the current checkout's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


RESULT_FILE = ROOT / "seed" / "evidence" / "support-bot-2026.07.2-week1.csv"


def change_writer(app, item_id: int, kind: str):
    """What makes one change to ``item_id`` as the data set's staff member, under the write lock
    (as the web form and the API do), in a transaction of its own: a comment through the
    weighing service (``kind`` "comment") or a result file through the evidence service
    ("upload")."""
    from sqlalchemy import select

    from forum.auth.models import User
    from forum.core import db
    from forum.evidence import service as evidence
    from forum.items.models import DecisionItem
    from forum.weighing import comments

    result_file = RESULT_FILE.read_bytes()

    def write(number: int) -> None:
        with app.app_context(), db.session_scope(app) as session:
            db.lock_for_change(session)
            author = session.scalar(select(User).where(User.email == "procurement@example.com"))
            item = session.get(DecisionItem, item_id)
            if kind == "upload":
                evidence.attach_evidence(session, author, item, RESULT_FILE.name, result_file)
            else:
                comments.add_comment(session, author, item, f"Paired note {number}")

    return write


def child(url: str, db_url: str, email: str, password: str, cold: bool, upload: str = "",
          comment_on: int = 0, upload_on: int = 0) -> None:
    """One side: log in, warm up, then answer "<n>" lines with the mean ms of n requests (with
    ``comment_on`` or ``upload_on``, each request after a comment on that item or a result file
    for it, which is not timed)."""
    from profile_page import page_request, revoke

    from forum.app import create_app

    app = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "pair", "WTF_CSRF_ENABLED": False,
                      "INSTANCE_PATH": str(ROOT / "bench" / ".data" / "instance"),
                      **({"DERIVED_CACHE_SIZE": 0} if cold else {})})
    # An editable install maps forum.templates to the installed checkout's templates/, whatever
    # PYTHONPATH says: each side renders its own checkout's (its working directory).
    app.template_folder = str(Path.cwd() / "templates")
    app.__dict__.pop("jinja_loader", None)  # Flask's cached loader, made from the folder above
    request, token_id = page_request(app, url, email, password, upload)
    for _ in range(20):
        if (status := request().status_code) not in (200, 201):
            raise SystemExit(f"{url} answered {status}")
    print("ready", flush=True)
    write = (change_writer(app, comment_on, "comment") if comment_on else
             change_writer(app, upload_on, "upload") if upload_on else None)
    written = 0
    try:
        for line in sys.stdin:
            n = int(line)
            spent = 0.0
            for _ in range(n):
                if write is not None:
                    written += 1
                    write(written)
                started = time.perf_counter()
                request()
                spent += time.perf_counter() - started
            print(spent / n * 1000, flush=True)
    finally:
        if token_id is not None:
            revoke(app, token_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, help="the checkout to compare with (a git worktree)")
    parser.add_argument("--after", default=str(ROOT))
    parser.add_argument("--url", required=True)
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--email", default="exec@example.com")
    parser.add_argument("--password", default="forum-demo")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--batch", type=int, default=10, help="requests per side and round")
    parser.add_argument("--cold", action="store_true")
    parser.add_argument("--upload", default="", help="POST this result file to --url through the API")
    parser.add_argument("--comment-on", type=int, default=0, metavar="ITEM_ID",
                        help="before each request (untimed), a comment on this open item: the page as "
                             "it is served right after someone else's change")
    parser.add_argument("--upload-on", type=int, default=0, metavar="ITEM_ID",
                        help="before each request (untimed), a result file for this open item: the page "
                             "as it is served right after a CI pipeline's upload")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.url, args.db_url, args.email, args.password, args.cold, args.upload, args.comment_on,
              args.upload_on)
        return

    def start(checkout: str) -> subprocess.Popen:
        command = [sys.executable, __file__, "--child", "--before", "-", "--url", args.url, "--db-url", args.db_url,
                   "--email", args.email, "--password", args.password, *(["--cold"] if args.cold else []),
                   *(["--upload", str(Path(args.upload).resolve())] if args.upload else []),
                   *(["--comment-on", str(args.comment_on)] if args.comment_on else []),
                   *(["--upload-on", str(args.upload_on)] if args.upload_on else [])]
        side = subprocess.Popen(command, cwd=checkout, env={**os.environ, "PYTHONPATH": checkout},
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if side.stdout.readline().strip() != "ready":
            raise SystemExit(f"{checkout}: the page did not answer")
        return side

    before, after = start(args.before), start(args.after)
    times: dict[str, list[float]] = {"before": [], "after": []}
    try:
        for round_ in range(args.rounds):
            order = [("before", before), ("after", after)]
            for name, side in order if round_ % 2 == 0 else order[::-1]:
                side.stdin.write(f"{args.batch}\n")
                side.stdin.flush()
                times[name].append(float(side.stdout.readline()))
    finally:
        for side in (before, after):
            side.stdin.close()
            side.wait()
    ratio = statistics.median(a / b for a, b in zip(times["after"], times["before"]))
    state = ("cold" if args.cold else f"after a comment on item {args.comment_on}" if args.comment_on
             else f"after a result file for item {args.upload_on}" if args.upload_on else "warm")
    print(f"{'POST ' if args.upload else ''}{args.url} [{state}]: "
          + " | ".join(f"{name} median {statistics.median(t):.2f}, fastest {min(t):.2f} ms" for name, t in times.items())
          + f" | after / before: {ratio:.3f} (median of {args.rounds} rounds)")


if __name__ == "__main__":
    main()
