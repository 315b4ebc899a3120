"""Scale-out on PostgreSQL: two app instances (separate processes, `forum run`) behind one database,
rate limits in Redis, concurrent writes through both. Nothing may be lost: every change has its
event, the chain verifies, and every optimistic-lock conflict is reported (409) and changes
nothing."""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import re
import subprocess
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from forum.api import service as tokens
from forum.app import create_app
from forum.auth import service as accounts
from forum.core import db
from forum.items import service as items
from forum.items.models import DecisionItem
from forum.migrate import upgrade
from forum.trail import service as trail
from forum.trail.models import Event, TrailHead
from forum.weighing.models import Comment
from tests.conftest import IN_CI, PASSWORD, ScratchPostgres
from tests.liveserver import FORUM, free_port, wait_until_serving

pytestmark = pytest.mark.postgres

REDIS_URL = os.environ.get("FORUM_TEST_REDIS_URL", "redis://127.0.0.1:6379")
USER_AGENT = "scale-out-test"  # one agent for the login and the requests ("strong" sessions)
THREADS_PER_INSTANCE = 3
ROUNDS = 4
API_LIMIT = 9


def _require_redis() -> None:
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        message = f"Redis at {REDIS_URL} is unreachable ({type(exc).__name__}: {exc})"
        if IN_CI:
            pytest.fail(message + "; in CI (CI=true) that is a failure, not a skip.")
        pytest.skip(message + "; start Redis or set FORUM_TEST_REDIS_URL.")


@contextlib.contextmanager
def _instances(env: dict, workdir: Path, count: int = 2):
    """``count`` app processes on their own ports, the same database, key and Redis."""
    processes, bases = [], []
    try:
        for n in range(count):
            port = free_port()
            log = workdir / f"instance-{n}.log"
            out = log.open("w")
            processes.append((subprocess.Popen(
                [str(FORUM), "run", "--host", "127.0.0.1", "--port", str(port), "--no-reload",
                 "--no-debugger", "--with-threads"],
                stdout=out, stderr=subprocess.STDOUT, env=env, text=True,
            ), out))
            bases.append(f"http://127.0.0.1:{port}")
            wait_until_serving(f"{bases[-1]}/healthz", processes[-1][0], log)
        yield bases
    finally:
        for process, out in processes:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            out.close()


class Browser:
    """A person's browser on one instance: a cookie jar, forms with their CSRF token."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect())
        self.opener.addheaders = [("User-Agent", USER_AGENT)]

    def get(self, path: str) -> tuple[int, str]:
        return self._open(urllib.request.Request(self.base + path))

    def post(self, path: str, fields: dict) -> tuple[int, str]:
        body = urllib.parse.urlencode(fields).encode()
        return self._open(urllib.request.Request(self.base + path, data=body))

    def _open(self, request) -> tuple[int, str]:
        try:
            with self.opener.open(request, timeout=60) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def form(self, path: str) -> tuple[str, dict]:
        status, html = self.get(path)
        assert status == 200, (path, status)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)
        return html, {"csrf_token": token}

    def login(self, email: str) -> None:
        _html, fields = self.form("/login")
        status, _ = self.post("/login", {**fields, "email": email, "password": PASSWORD})
        assert status == 302, "log-in failed"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 302 is an answer to look at, not to follow


def _field(html: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', html)
    return match.group(1) if match else ""


def test_two_instances_lose_no_write_and_report_every_conflict(tmp_path):
    _require_redis()
    scratch = ScratchPostgres()
    try:
        upgrade(scratch.url)
        app = create_app({"DATABASE_URL": scratch.url, "SECRET_KEY": "x",
                          "INSTANCE_PATH": str(tmp_path / "setup")})
        with db.session_scope(app) as session:
            for key, label in accounts.DEFAULT_FUNCTIONS:
                accounts.create_function(session, None, key, label)
            filer = accounts.create_user(session, None, accounts.NewUser(
                "filer@example.com", "Filer", "staff", PASSWORD, "procurement"))
            shared = items.create_item(session, filer, items.ItemData(
                title="Edited from both instances", category="vendor_selection",
                function="procurement", vendor="Contoso AI"))
            items.transition(session, filer, shared, "submit")
            discussed = items.create_item(session, filer, items.ItemData(
                title="Discussed on both instances", category="model_update", function="procurement"))
            items.transition(session, filer, discussed, "submit")
            _token, secret = tokens.create_token(session, filer, filer, tokens.NewToken("scale-out", ["items:read"]))
            shared_id, discussed_id = shared.id, discussed.id
        with db.session_scope(app) as session:
            start_version = session.get(DecisionItem, shared_id).version
        db.get_engine(app).dispose()

        env = dict(os.environ, FORUM_DATABASE_URL=scratch.url, FORUM_SECRET_KEY=uuid.uuid4().hex,
                   FORUM_INSTANCE_PATH=str(tmp_path / "instance"), FORUM_RATELIMIT_STORAGE_URI=REDIS_URL,
                   FORUM_RATELIMIT_API=f"{API_LIMIT} per minute")
        with _instances(env, tmp_path) as bases:
            browsers = [Browser(base) for base in bases for _ in range(THREADS_PER_INSTANCE)]
            for browser in browsers:
                browser.login("filer@example.com")
            read_all = threading.Barrier(len(browsers))
            outcomes: list[tuple[str, int, str]] = []  # (what, status, text sent)
            lock = threading.Lock()
            problems: list[str] = []

            def work(number: int, browser: Browser) -> None:
                try:
                    for round_ in range(ROUNDS):
                        # A comment through this instance ...
                        body = f"comment {number}.{round_} via {browser.base}"
                        _html, fields = browser.form(f"/items/{discussed_id}")
                        status, _ = browser.post(f"/items/{discussed_id}/comments", {**fields, "body": body})
                        with lock:
                            outcomes.append(("comment", status, body))
                        # ... and an edit of the shared item from the version everyone has read:
                        # one of the concurrent saves wins, the others are conflicts.
                        html, fields = browser.form(f"/items/{shared_id}/edit")
                        title = f"Title {number}.{round_}"
                        form = {**fields, "title": title, "category": "vendor_selection",
                                "function": "procurement", "summary": "", "vendor": "Contoso AI",
                                "model_name": "", "model_version": "", "exposure": "",
                                "needed_by": "", "version": _field(html, "version")}
                        read_all.wait(timeout=60)
                        status, page = browser.post(f"/items/{shared_id}/edit", form)
                        with lock:
                            outcomes.append(("edit", status, title))
                            if status == 409 and "Someone else changed this item" not in page:
                                problems.append(f"409 without the conflict message for {title}")
                        read_all.wait(timeout=60)
                except Exception as exc:  # reported below; a dead thread must not hang the others
                    problems.append(f"{type(exc).__name__}: {exc}")
                    read_all.abort()

            threads = [threading.Thread(target=work, args=(n, b)) for n, b in enumerate(browsers)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=120)
            assert not problems, problems

            # The API's per-token rate limit is counted in Redis: calls through either instance
            # use up the same allowance.
            statuses = []
            for n in range(API_LIMIT + 1):
                request = urllib.request.Request(
                    f"{bases[n % 2]}/api/v1/items?limit=1", headers={"Authorization": f"Bearer {secret}"})
                try:
                    with urllib.request.urlopen(request, timeout=30) as answer:
                        statuses.append(answer.status)
                except urllib.error.HTTPError as error:
                    statuses.append(error.code)
            assert statuses == [200] * API_LIMIT + [429], statuses

        comments = [o for o in outcomes if o[0] == "comment"]
        edits = [o for o in outcomes if o[0] == "edit"]
        assert Counter(s for _, s, _ in comments) == {302: len(browsers) * ROUNDS}
        assert Counter(s for _, s, _ in edits) == {302: ROUNDS, 409: (len(browsers) - 1) * ROUNDS}, edits
        saved = {title for _, status, title in edits if status == 302}
        refused = {title for _, status, title in edits if status == 409}
        # Every round: everyone read the same version, exactly one save won.
        assert len(saved) == ROUNDS and len(refused) == (len(browsers) - 1) * ROUNDS
        assert len(saved) + len(refused) == len(edits)

        app = create_app({"DATABASE_URL": scratch.url, "SECRET_KEY": "x",
                          "INSTANCE_PATH": str(tmp_path / "check")})
        try:
            with db.session_scope(app) as session:
                # Every comment is stored once, with its event.
                bodies = sorted(session.scalars(select(Comment.body).where(Comment.item_id == discussed_id)))
                assert bodies == sorted(body for _, _, body in comments)
                added = [json.loads(d)["body"] for d in session.scalars(
                    select(Event.data_json).where(Event.kind == "comment.added"))]
                assert sorted(added) == bodies
                # Every saved edit has its event; no refused edit reached the item or the trail.
                updates = [json.loads(d) for d in session.scalars(
                    select(Event.data_json).where(Event.kind == "item.updated",
                                                  Event.subject == f"item:{shared_id}").order_by(Event.seq))]
                assert {u["changes"]["title"]["after"] for u in updates} == saved
                item = session.get(DecisionItem, shared_id)
                assert item.title == updates[-1]["changes"]["title"]["after"]
                assert item.version == start_version + ROUNDS == updates[-1]["version"]
                # One chain, gap-free, verified; the head row names its end.
                result = trail.verify_database(session)
                assert result.ok, result.problem
                assert result.count == session.scalar(select(func.count()).select_from(Event))
                assert session.get(TrailHead, 1).seq == result.head_seq
        finally:
            db.get_engine(app).dispose()
    finally:
        scratch.drop()
