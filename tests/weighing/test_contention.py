"""Many people writing on one item at the same moment, through a real multi-process server.

The app runs under gunicorn (3 worker processes × 4 threads), through the production entry point
``forum.wsgi:app``, on the test database — SQLite or
PostgreSQL, whichever this run's main backend is — and 48 requests from eight people (ratings,
positions, follows and unfollows, comments) are released together by a barrier. Every request must
get its answer (the change, or a refusal with a message: never a 5xx), the stored rows must be what
the trail says happened, and the trail must be gap-free and verify.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from forum.notify.models import Follow
from forum.trail.models import Event
from forum.trail.service import verify_database
from forum.weighing.models import Comment, Position, WeightRating
from tests.conftest import PASSWORD
from tests.liveserver import free_port, wait_until_serving

GUNICORN = Path(sys.executable).parent / "gunicorn"
CRITERIA = ("financial_exposure", "regulatory", "customer_brand", "irreversibility", "vendor_lock_in",
            "data_sensitivity")
STANCES = ("support", "support_with_conditions", "concerns", "object")


@pytest.fixture
def server(database_url, tmp_path):
    """gunicorn serving the app on the test database with several processes and threads."""
    port = free_port()
    env = dict(os.environ, FORUM_DATABASE_URL=database_url, FORUM_SECRET_KEY="contention-test-key",
               FORUM_INSTANCE_PATH=str(tmp_path / "instance"))
    log = tmp_path / "gunicorn.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(GUNICORN), "--workers", "3", "--threads", "4", "--worker-class", "gthread",
             "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "5", "forum.wsgi:app"],
            stdout=out, stderr=subprocess.STDOUT, env=env, text=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_serving(f"{base}/login", process, log)
            yield base, log
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def _logged_in(base: str, email: str) -> tuple[requests.Session, str]:
    """A logged-in browser-like session and a CSRF token for its forms."""
    browser = requests.Session()
    page = browser.get(f"{base}/login", timeout=30)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    answer = browser.post(f"{base}/login", data={"email": email, "password": PASSWORD,
                                                  "csrf_token": token}, allow_redirects=False, timeout=30)
    assert answer.status_code == 302, f"{email} could not log in: {answer.status_code}"
    page = browser.get(f"{base}/settings", timeout=30)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text).group(1)
    return browser, token


def _writes(item_id: int, person: int) -> list[tuple[str, str, dict]]:
    """Six writes by one person, each with values of its own (so no write is a no-op)."""
    scores = {f"score_{key}": str((person + n) % 4) for n, key in enumerate(CRITERIA)}
    base = f"/items/{item_id}"
    return [
        ("rate", f"{base}/ratings", scores | {"reason": f"Rating by person {person}"}),
        ("position", f"{base}/positions", {"stance": STANCES[person % 4], "rationale": f"Stance of {person}"}),
        ("follow", f"{base}/follow", {}),
        ("comment", f"{base}/comments", {"body": f"First comment of person {person}"}),
        ("unfollow", f"{base}/unfollow", {}),
        ("comment", f"{base}/comments", {"body": f"Second comment of person {person}"}),
    ]


def test_concurrent_writes_on_one_item_all_answered_stored_and_trailed(server, app, db_session, make_user,
                                                                       make_item):
    base, log = server
    people = [make_user("staff", function) for function in
              ("procurement", "procurement", "procurement", "product", "product", "product", "risk", "risk")]
    item = make_item(people[0], "open")
    seq_before = db_session.scalar(select(func.max(Event.seq)))

    logins = {person.id: _logged_in(base, person.email) for person in people}
    jobs = []  # (person, kind, path, form)
    for n, person in enumerate(people):
        for kind, path, form in _writes(item.id, n):
            jobs.append((person, kind, path, form))
    barrier = threading.Barrier(len(jobs))
    answers: list[tuple] = [None] * len(jobs)

    def send(index: int) -> None:
        person, kind, path, form = jobs[index]
        browser, token = logins[person.id]
        own = requests.Session()  # one connection per request; the login's cookies shared
        own.cookies.update(browser.cookies)
        barrier.wait(timeout=60)
        try:
            answer = own.post(base + path, data=form | {"csrf_token": token}, allow_redirects=False, timeout=60)
            answers[index] = (answer.status_code, answer.text[:500])
        except requests.RequestException as error:  # the answer never came: a failure too
            answers[index] = (None, repr(error))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    failures = [(jobs[i][1], jobs[i][2], status, text) for i, (status, text) in enumerate(answers)
                if status is None or status >= 500]
    assert not failures, f"{len(failures)} of {len(jobs)} requests failed:\n{failures[:5]}\n{log.read_text()[-3000:]}"
    # A change is a redirect to the item; a refusal (409) says why. Here every write is a change.
    statuses = Counter(status for status, _ in answers)
    assert statuses == Counter({302: len(jobs)}), statuses

    db_session.expire_all()
    events = list(db_session.scalars(select(Event).where(Event.seq > seq_before).order_by(Event.seq)))
    # Gap-free: every new event follows the one before, and the whole chain verifies.
    assert [e.seq for e in events] == list(range(seq_before + 1, seq_before + 1 + len(events)))
    result = verify_database(db_session)
    assert result.ok, result.problem
    kinds = Counter(e.kind for e in events)
    assert kinds["comment.added"] == 16
    assert kinds["weight.rated"] == 8
    assert kinds["position.taken"] == 8
    # Every follow and unfollow that changed something is on the trail, and none twice.
    assert kinds["user.followed_item"] + kinds["user.unfollowed_item"] <= 16

    # One rating and one position per function: the last one the trail records for it.
    stored_ratings = {r.function_key: r for r in db_session.scalars(
        select(WeightRating).where(WeightRating.item_id == item.id))}
    assert set(stored_ratings) == {"procurement", "product", "risk"}
    for function, rating in stored_ratings.items():
        last = [e for e in events if e.kind == "weight.rated" and e.data["function"] == function][-1]
        assert last.data["after"]["scores"] == rating.scores, function
    stored_positions = {p.function_key: p for p in db_session.scalars(
        select(Position).where(Position.item_id == item.id))}
    assert set(stored_positions) == {"procurement", "product", "risk"}
    for function, position in stored_positions.items():
        last = [e for e in events if e.kind == "position.taken" and e.data["function"] == function][-1]
        assert last.data["after"]["stance"] == position.stance, function
    assert db_session.scalar(select(func.count()).select_from(Comment).where(Comment.item_id == item.id)) == 16
    # At most one follow row per person (a follow races an unfollow; neither is lost or doubled).
    follows = Counter(f.user_id for f in db_session.scalars(select(Follow).where(Follow.item_id == item.id)))
    assert all(count == 1 for count in follows.values())
