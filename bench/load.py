"""The load benchmark: the app under gunicorn against a large data set, driven by wrk (a C load
generator, Debian's package `wrk`) one page at a time while another person writes, compared with a
baseline page measured in the same run.

    apt-get install -y wrk; pip install -e '.[bench]'
    python bench/load.py --db sqlite --items 100000 --duration 10
    python bench/load.py --db postgresql --items 100000 --duration 10

What it does:
1. Builds the data set once (`forum db upgrade` + `forum seed --scale N`) into
   bench/.data/forum-N.db (SQLite) or the database forum_bench_N on the PostgreSQL server
   (--postgres-url, default FORUM_BENCH_POSTGRES_URL or postgres@127.0.0.1:5432); later runs
   reuse it (--reseed builds it again).
2. Picks the sample URLs from the data (a decided item, the open meeting, the deepest pages),
   creates an API token for the evidence upload and logs the benchmark's people in through the
   real login form (GET for the CSRF token, then POST); the session cookies are what the load
   sends.
3. Starts `gunicorn -w 2 forum.wsgi:app` (the production entry point) on 127.0.0.1 with
   FORUM_BENCH_BASELINE=1 (the baseline page) and the API rate limit lifted, and waits for /healthz.
4. Measures the baseline, then every page, then the baseline again: `wrk -t2 -c<connections>
   -d<duration>` with bench/wrk_page.lua (the session cookie or the API token, the paths, the
   expected status). wrk takes a few per cent of a core where a Python load generator took most
   of one. Meanwhile a writer thread posts a comment on an open item as another person at
   --write-rate per second (0: none), as people keep working while others read; with
   --write-kind evidence it uploads a result file to that item through the API instead. Every
   change moves the trail head, which empties the derived-result cache. Each page runs on a
   fresh server, and is measured after --warmup seconds (2 by default) of the same load that are
   not counted: a worker's first requests compile the page's templates and open its database
   connection, once in the process's life, and with twenty connections queued behind them they
   would otherwise make the page's p99 (the cold figures are bench/cold_warm.py's).
5. Prints requests/s, p50, p95, p99, errors and the ratio to the baseline per page — the mean of
   a short baseline run right before and right after that page (--baseline-seconds, 5 by
   default): the machine's speed drifts within a run, by a fifth on these machines, which a
   baseline measured only at the start and the end of a run of several minutes leaves in the
   ratios —, and the writer's own answers, and writes the table into docs/BENCHMARKS.md (the section
   of this database), with the machine, the versions and the command.

Not part of the test run. Everything it starts is stopped at the end (also on Ctrl-C).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import math
import os
import platform
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "bench" / ".data"
BENCHMARKS = ROOT / "docs" / "BENCHMARKS.md"
BIN = Path(sys.executable).parent
WRK = os.environ.get("FORUM_BENCH_WRK", "wrk")
DEMO_PASSWORD = "forum-demo"  # the demo accounts that `forum seed --scale` creates
EXECUTIVE, STAFF, ADMIN = "exec@example.com", "procurement@example.com", "admin@example.com"
EVIDENCE_FILE = ROOT / "seed" / "evidence" / "support-bot-2026.07.2-week1.csv"
TRAIL_PAGE = 50  # forum/audit/views.py PER_PAGE
ITEMS_PAGE = 20  # FORUM_ITEMS_PER_PAGE's default
# Flask-Login's "strong" session protection ties a session to the client's address and user
# agent: the login here and the simulated users send the same one.
USER_AGENT = "forum-load-benchmark"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

# The targets: p95 under 150 ms and p99 under 300 ms for every page; requests/s at least this
# share of the baseline's (list pages a third, detail pages a half). The writer's uploads (with
# --write-kind evidence: a CI pipeline's result file every 1/rate seconds while the pages are
# read) have the latency targets. Twenty connections posting uploads nonstop is a stress figure,
# reported without a target: every change takes the write lock and appends to the one trail, so
# they queue behind one another by design, and their latency is twenty lock holds (p50 ≈ 20 ÷
# requests/s); bench/write_lock.py measures the hold.
P95_TARGET_MS, P99_TARGET_MS = 150, 300
LIST, DETAIL = 1 / 3, 1 / 2


@dataclass
class Page:
    name: str
    paths: list[str]
    who: str | None = EXECUTIVE  # whose session cookie; None: the API token
    method: str = "GET"
    expect: int = 200
    target: float | None = LIST  # None: the baseline, or a stress figure (``stress``)
    note: str = ""
    stress: bool = False


@dataclass
class Result:
    page: Page
    requests: int = 0
    failures: int = 0
    rps: float = 0.0
    p50: float = math.nan
    p95: float = math.nan
    p99: float = math.nan
    skipped: str = ""
    errors: list[str] = field(default_factory=list)
    #: The baseline's requests/s measured right before and right after this page (its share is
    #: taken of their mean: the machine's speed drifts within a run).
    adjacent: list[float] = field(default_factory=list)

    def baseline(self, whole_run: float) -> float:
        return sum(self.adjacent) / len(self.adjacent) if self.adjacent else whole_run


# ------------------------------------------------------------------------------- the data set
def database_url(args) -> str:
    if args.db == "sqlite":
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{DATA_DIR / f'forum-{args.items}.db'}"
    from sqlalchemy.engine import make_url

    return make_url(args.postgres_url).set(
        drivername="postgresql+psycopg", database=f"forum_bench_{args.items}"
    ).render_as_string(hide_password=False)


def dataset_ready(url: str, items: int) -> bool:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return (conn.execute(text("SELECT count(*) FROM decision_items")).scalar() or 0) >= items
    except Exception:  # noqa: BLE001 - no database, no table: not ready
        return False
    finally:
        engine.dispose()


def build_dataset(args, url: str, env: dict) -> float:
    """Create the database afresh and fill it; returns the seconds `forum seed --scale` took."""
    if args.db == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    else:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        name = make_url(url).database
        admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    subprocess.run([str(BIN / "forum"), "db", "upgrade"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    started = time.perf_counter()
    subprocess.run([str(BIN / "forum"), "seed", "--scale", str(args.items)], env=env, check=True)
    return time.perf_counter() - started


def pick_pages(url: str, env: dict, has_search: bool) -> tuple[list[Page], dict]:
    """The pages to measure, with sample URLs read from the data set; and facts for the report."""
    from sqlalchemy import func, select

    from forum.agenda.models import AgendaEntry, Meeting
    from forum.api import service as tokens
    from forum.app import create_app
    from forum.auth.models import User
    from forum.core import db
    from forum.items.models import DecisionItem
    from forum.trail.models import Event

    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": env["FORUM_INSTANCE_PATH"],
                      "SECRET_KEY": env["FORUM_SECRET_KEY"]})
    try:
        with db.session_scope(app) as session:
            items = session.scalar(select(func.count()).select_from(DecisionItem))
            events = session.scalar(select(func.max(Event.seq)))
            decided = list(session.scalars(select(DecisionItem.id).where(
                DecisionItem.status == "decided").order_by(DecisionItem.id)))
            detail = decided[len(decided) // 2]
            # The published meeting with the longest agenda (the scale seed's 30 entries, not
            # the demo's three).
            meeting = session.scalar(
                select(Meeting.id).join(AgendaEntry, AgendaEntry.meeting_id == Meeting.id)
                .where(Meeting.status == "published").group_by(Meeting.id)
                .order_by(func.count().desc(), Meeting.id.desc()).limit(1))
            entries = session.scalar(select(func.count()).select_from(AgendaEntry)
                                     .where(AgendaEntry.meeting_id == meeting))
            open_ids = list(session.scalars(select(DecisionItem.id).where(
                DecisionItem.status == "open").order_by(DecisionItem.id.desc()).limit(200)))
            open_count = session.scalar(select(func.count()).select_from(DecisionItem).where(
                DecisionItem.status == "open"))
            busiest = session.scalar(select(DecisionItem.system_id).where(DecisionItem.system_id.is_not(None))
                                     .group_by(DecisionItem.system_id).order_by(func.count().desc()).limit(1))
            owner = session.scalar(select(User).where(User.email == STAFF))
            token, secret = tokens.create_token(session, owner, owner, tokens.NewToken(
                f"load benchmark {datetime.now(UTC):%Y-%m-%d %H:%M:%S}", ["items:read", "evidence:write"]))
    finally:
        db.get_engine(app).dispose()
    deep = max(1, math.ceil(open_count / ITEMS_PAGE))
    trail_page = 10_000 if events > 9_999 * TRAIL_PAGE else max(1, events // TRAIL_PAGE)
    before = events - (trail_page - 1) * TRAIL_PAGE + 1
    pages = [
        Page("baseline (1 PK query)", ["/bench/baseline"], target=None),
        Page("item list, open, page 1", ["/items?status=open"]),
        Page(f"item list, open, page {deep} (last)", [f"/items?status=open&page={deep}"]),
        Page("item detail", [f"/items/{detail}"], target=DETAIL),
        Page("escalation queue", ["/escalations"]),
        Page(f"meeting pre-read pack, {entries} entries", [f"/meetings/{meeting}/pack"], target=DETAIL),
        Page("trail browser, page 1", ["/trail"]),
        Page(f"trail browser, page {trail_page:,}", [f"/trail?before={before}"]),
        Page("home, executive", ["/"]),
        Page("home, staff", ["/"], who=STAFF),
        Page("search", ["/search?q=support"],
             note="" if has_search else "slot: no /search route on this branch yet"),
        Page("decision register", ["/decisions"]),
        Page("forum health", ["/health"]),
        Page(f"meeting page, {entries} entries", [f"/meetings/{meeting}"], target=DETAIL),
        Page("register of AI systems", ["/systems"]),
        Page("register, open obligations and drift", ["/systems?unmet=y&drifted=y"]),
        Page("register: busiest system's page", [f"/systems/{busiest}"], target=DETAIL),
        Page("register: obligations report", [f"/systems/{busiest}/obligations"], target=DETAIL),
        Page("register: grouping proposals", ["/systems/grouping"], who=ADMIN),
        Page("OpenAPI document", ["/api/v1/openapi.json"], target=DETAIL),
        Page("stress: POST /api/v1/items/{id}/evidence from every connection",
             [f"/api/v1/items/{i}/evidence" for i in open_ids],
             who=None, method="POST", expect=201, target=None, stress=True),
    ]
    facts = {"items": items, "events": events, "token": secret, "token_id": token.id, "write_item": open_ids[0]}
    return pages, facts


# ---------------------------------------------------------------------------------- serving
def revoke_token(url: str, env: dict, token_id: int) -> None:
    """Revoke the run's API token: the benchmark's person may hold 20 at a time."""
    from forum.api import service as tokens
    from forum.api.models import ApiToken
    from forum.app import create_app
    from forum.core import db

    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": env["FORUM_INSTANCE_PATH"],
                      "SECRET_KEY": env["FORUM_SECRET_KEY"]})
    try:
        with db.session_scope(app) as session:
            tokens.revoke_token(session, None, session.get(ApiToken, token_id))
    finally:
        db.get_engine(app).dispose()


def login(base: str, email: str) -> str:
    """A real login: GET the form for its CSRF token, POST it; returns the Cookie header."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", USER_AGENT)]
    form = opener.open(f"{base}/login", timeout=30).read().decode()
    token = CSRF.search(form).group(1)
    body = urllib.parse.urlencode({"email": email, "password": DEMO_PASSWORD, "csrf_token": token})
    landed = opener.open(f"{base}/login", data=body.encode(), timeout=60)
    if urllib.parse.urlparse(landed.geturl()).path.startswith("/login"):
        raise SystemExit(f"could not log in as {email}")
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(base: str, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("gunicorn exited before it served (see its output above)")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:  # refused, reset, or a worker still booting (timeout)
            time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer on {base} within {seconds:.0f} s")


def has_route(base: str, cookie: str, path: str) -> bool:
    request = urllib.request.Request(base + path, headers={"Cookie": cookie, "User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=30):
            return True
    except urllib.error.HTTPError as error:
        return error.code != 404


def run_page(page: Page, args, base: str, cookies: dict, token: str, workdir: Path,
             seconds: int | None = None) -> Result:
    """One page under wrk for ``seconds`` (--duration); the result from the script's JSON line."""
    headers = [f"User-Agent: {USER_AGENT}"]
    body = ""
    if page.who:
        headers.append(f"Cookie: {cookies[page.who]}")
    else:
        headers += [f"Authorization: Bearer {token}", "Content-Type: text/csv"]
        body = str(EVIDENCE_FILE)
    env = {**os.environ, "BENCH_METHOD": page.method, "BENCH_PATHS": "\n".join(page.paths),
           "BENCH_EXPECT": str(page.expect), "BENCH_HEADERS": "\n".join(headers), "BENCH_BODY": body}
    run = subprocess.run(
        [WRK, "-t", "2", "-c", str(args.users), "-d", f"{seconds or args.duration}s", "--timeout", "10s",
         "-s", str(ROOT / "bench" / "wrk_page.lua"), base],
        env=env, capture_output=True, text=True,
    )
    line = next((ln for ln in run.stdout.splitlines() if ln.startswith("{")), None)
    if run.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed on {page.name}:\n{run.stdout}\n{run.stderr}")
    figures = json.loads(line)
    result = Result(page)
    result.requests = figures["requests"]
    result.failures = figures["bad_status"] + figures["socket_errors"]
    result.rps = figures["requests"] / figures["seconds"] if figures["seconds"] else 0.0
    result.p50, result.p95, result.p99 = figures["p50"], figures["p95"], figures["p99"]
    if figures["statuses"]:
        result.errors.append("statuses " + ", ".join(f"{n}× {s}" for s, n in figures["statuses"].items()))
    if figures["socket_errors"]:
        result.errors.append(f"{figures['socket_errors']} socket errors ({figures['timeouts']} timeouts)")
    return result


class Writer(threading.Thread):
    """Another person at work every 1/rate seconds, counting the answers: ``comment`` posts a
    comment on an open item (a real form post with its CSRF token); ``evidence`` uploads a test
    result file to it through the API, as a CI pipeline does — a change to the item's standing,
    which most pages read, where a comment is not."""

    def __init__(self, base: str, cookie: str, item_id: int, rate: float, kind: str = "comment", token: str = ""):
        super().__init__(daemon=True)
        self.base, self.cookie, self.item_id, self.rate = base, cookie, item_id, rate
        self.kind, self.token = kind, token
        self.stop = threading.Event()
        self.answers: dict[int | str, int] = {}
        self.seconds: list[float] = []

    def _open(self, path: str, data: bytes | None = None, headers: dict | None = None):
        request = urllib.request.Request(self.base + path, data=data, headers=headers or {
            "Cookie": self.cookie, "User-Agent": USER_AGENT})
        return urllib.request.urlopen(request, timeout=30)

    def _post(self, number: int, token: str):
        if self.kind == "evidence":
            return self._open(f"/api/v1/items/{self.item_id}/evidence", EVIDENCE_FILE.read_bytes(), {
                "Authorization": f"Bearer {self.token}", "Content-Type": "text/csv", "User-Agent": USER_AGENT})
        body = urllib.parse.urlencode({"body": f"Benchmark note {number}", "csrf_token": token}).encode()
        return self._open(f"/items/{self.item_id}/comments", body)

    def run(self) -> None:
        token = ""
        if self.kind == "comment":
            token = CSRF.search(self._open(f"/items/{self.item_id}").read().decode()).group(1)
        number = 0
        while not self.stop.wait(1 / self.rate):
            number += 1
            started = time.perf_counter()
            try:
                with self._post(number, token) as answer:
                    status = answer.status  # urllib follows the redirect to the item page
            except urllib.error.HTTPError as error:
                status = error.code
            except OSError as error:
                status = type(error).__name__
            self.seconds.append(time.perf_counter() - started)
            self.answers[status] = self.answers.get(status, 0) + 1


# ----------------------------------------------------------------------------------- report
def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB memory"
    except (OSError, ValueError, IndexError):
        pass
    return f"{platform.system()} {platform.release()}, {os.cpu_count()} × {cpu}{memory}"


def versions(args, url: str) -> str:
    parts = [f"Python {platform.python_version()}"]
    try:
        parts.append(subprocess.run([WRK, "--version"], capture_output=True, text=True).stdout.split(" [")[0]
                     .replace("debian/", ""))
    except OSError:
        pass
    for name in ("Flask", "SQLAlchemy", "gunicorn", "psycopg"):
        try:
            parts.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    if args.db == "sqlite":
        parts.append(f"SQLite {sqlite3.sqlite_version}")
    else:
        from sqlalchemy import create_engine, text

        engine = create_engine(url)
        with engine.connect() as conn:
            parts.append("PostgreSQL " + conn.execute(text("SHOW server_version")).scalar().split()[0])
        engine.dispose()
    return ", ".join(parts)


def verdict(result: Result, baseline_rps: float) -> str:
    if result.page.stress:
        return "stress figure, no target"
    if result.skipped or result.page.target is None:
        return ""
    if not result.requests:
        return "missed: no request finished within the window"
    misses = []
    if not result.p95 <= P95_TARGET_MS:
        misses.append(f"p95 > {P95_TARGET_MS} ms")
    if not result.p99 <= P99_TARGET_MS:
        misses.append(f"p99 > {P99_TARGET_MS} ms")
    if result.failures:
        misses.append("errors")
    if baseline_rps and result.page.target and result.rps / baseline_rps < result.page.target:
        misses.append(f"< {'1/3' if result.page.target == LIST else '1/2'} of baseline")
    return "met" if not misses else "missed: " + ", ".join(misses)


def table(results: list[Result]) -> str:
    runs = [r.rps for r in results if r.page.target is None and not r.page.stress and not r.skipped and r.requests]
    whole_run = sum(runs) / len(runs) if runs else 0.0  # the mean of the runs before and after
    lines = ["| page | requests/s | p50 ms | p95 ms | p99 ms | errors | baseline nearby | ratio to baseline | target |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for r in results:
        if r.skipped:
            lines.append(f"| {r.page.name} | – | – | – | – | – | – | – | {r.skipped} |")
            continue
        baseline = r.baseline(whole_run)
        nearby = f"{baseline:.1f}" if r.adjacent else "–"
        ratio = f"{r.rps / baseline:.2f}" if baseline else "–"
        if not r.requests:
            lines.append(f"| {r.page.name} | 0 | – | – | – | – | {nearby} | – | {verdict(r, baseline)} |")
            continue
        lines.append(f"| {r.page.name} | {r.rps:.1f} | {r.p50:.0f} | {r.p95:.0f} | {r.p99:.0f} "
                     f"| {r.failures} of {r.requests} | {nearby} | {ratio} | {verdict(r, baseline)} |")
    return "\n".join(lines)


def percentile(ordered: list[float], share: float) -> float:
    """The value below which ``share`` of the sorted values lie (nearest rank)."""
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def writer_line(kind: str, answers: dict, seconds: list[float]) -> str:
    """What the writer did, with its own latency; for uploads, against the latency targets."""
    things = "comments" if kind == "comment" else "evidence files through the API"
    line = f"the writer posted {sum(answers.values())} {things} (" + ", ".join(f"{n}× {s}" for s, n in answers.items())
    if not seconds:
        return line + ")"
    ordered = sorted(s * 1000 for s in seconds)
    p95, p99 = percentile(ordered, 0.95), percentile(ordered, 0.99)
    line += f"; p50 {percentile(ordered, 0.5):.0f} ms, p95 {p95:.0f} ms, p99 {p99:.0f} ms, slowest {ordered[-1]:.0f} ms)"
    if kind == "evidence":
        misses = []
        if p95 > P95_TARGET_MS:
            misses.append(f"p95 > {P95_TARGET_MS} ms")
        if p99 > P99_TARGET_MS:
            misses.append(f"p99 > {P99_TARGET_MS} ms")
        if any(status != 201 for status in answers):
            misses.append("errors")
        line += "; the uploads' targets: " + ("met" if not misses else "missed: " + ", ".join(misses))
    return line


def write_benchmarks(args, section: str) -> None:
    start, end = f"<!-- bench:{args.db}:start -->", f"<!-- bench:{args.db}:end -->"
    text = BENCHMARKS.read_text(encoding="utf-8") if BENCHMARKS.exists() else "# Benchmarks\n"
    block = f"{start}\n{section}\n{end}"
    if start in text and end in text:
        text = text[:text.index(start)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    BENCHMARKS.write_text(text, encoding="utf-8")


# ------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--items", type=int, default=100_000, help="items in the data set")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per page")
    parser.add_argument("--users", type=int, default=20, help="concurrent connections (wrk -c)")
    parser.add_argument("--write-rate", type=float, default=1.0,
                        help="comments per second posted by another person during every run (0: none)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per gunicorn worker (1: sync workers; more: gthread workers)")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--postgres-url", default=os.environ.get(
        "FORUM_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--reseed", action="store_true", help="build the data set again")
    parser.add_argument("--only", default="", help="measure only pages whose name contains this")
    parser.add_argument("--note", default="", help="a remark for docs/BENCHMARKS.md (e.g. a busy machine)")
    parser.add_argument("--write-kind", choices=("comment", "evidence"), default="comment",
                        help="what the writer does: a comment (read by few pages) or an evidence upload "
                             "through the API (changes the item's standing, read by most)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/BENCHMARKS.md")
    parser.add_argument("--warmup", type=int, default=2,
                        help="seconds of the page under the same load before its measured run, not counted "
                             "(0: none): a fresh worker's first requests compile the page's templates and fill "
                             "its caches, once in the process's life")
    parser.add_argument("--baseline-seconds", type=int, default=5,
                        help="the baseline measured this long right before and after every page, whose "
                             "share is taken of their mean (0: of the whole run's baseline only)")
    args = parser.parse_args(argv)

    url = database_url(args)
    instance = Path(tempfile.mkdtemp(prefix="forum-bench-"))
    env = {**os.environ, "FORUM_DATABASE_URL": url, "FORUM_INSTANCE_PATH": str(instance),
           "FORUM_SECRET_KEY": secrets.token_hex(32), "FORUM_BENCH_BASELINE": "1",
           "FORUM_RATELIMIT_API": "1000000 per minute"}
    seed_seconds = None
    if args.reseed or not dataset_ready(url, args.items):
        print(f"Building the data set: {args.items} items on {args.db} …", flush=True)
        seed_seconds = build_dataset(args, url, env)
    else:  # a data set built by an earlier version: bring its schema (and derived columns) up to date
        subprocess.run([str(BIN / "forum"), "db", "upgrade"], env=env, check=True, stdout=subprocess.DEVNULL)
    port = args.port or free_port()
    base = f"http://127.0.0.1:{port}"

    def start_server() -> subprocess.Popen:
        return subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", str(args.workers), "--threads", str(args.threads),
             "--bind", f"127.0.0.1:{port}",
             "--log-level", "warning", "--timeout", "120", "forum.wsgi:app"],
            env=env, cwd=ROOT, start_new_session=True,
        )

    def stop_server(process: subprocess.Popen) -> None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)

    server = start_server()
    results: list[Result] = []
    facts: dict = {}
    try:
        wait_until_up(base, server)
        cookies = {who: login(base, who) for who in (EXECUTIVE, STAFF, ADMIN)}
        if server.poll() is not None or not has_route(base, cookies[EXECUTIVE], "/bench/baseline"):
            raise SystemExit(f"{base} is not the gunicorn started here (is the port taken?)")
        pages, facts = pick_pages(url, env, has_search=has_route(base, cookies[EXECUTIVE], "/search?q=x"))
        if args.only:
            pages = [p for p in pages if (p.target is None and not p.stress) or args.only.lower() in p.name.lower()]
        pages.append(Page("baseline again, after the pages", pages[0].paths, target=None))
        writes: dict = {}
        write_seconds: list[float] = []
        measured: list[Result] = []  # the pages with a share of the baseline to meet, in order
        print(f"{facts['items']:,} items, {facts['events']:,} events; {args.users} connections, "
              f"{args.duration} s per page, {args.workers} gunicorn workers on {args.db}", flush=True)
        with tempfile.TemporaryDirectory(prefix="forum-bench-") as workdir:
            for page in pages:
                if page.note:
                    results.append(Result(page, skipped=page.note))
                    continue
                print(f"  {page.name} …", end=" ", flush=True)
                # A fresh server per page: requests a slow page left queued in the workers must
                # not eat into the next page's window (the sessions and the token stay valid:
                # same database, secret key and instance folder).
                stop_server(server)
                server = start_server()
                wait_until_up(base, server)
                writer = None
                if args.write_rate > 0:
                    writer = Writer(base, cookies[STAFF], facts["write_item"], args.write_rate,
                                    args.write_kind, facts["token"])
                    writer.start()
                try:
                    if args.baseline_seconds and page.target is not None:
                        # the baseline right before this page, which is also right after the last one
                        nearby = run_page(pages[0], args, base, cookies, facts["token"], Path(workdir),
                                          args.baseline_seconds).rps
                        if measured:
                            measured[-1].adjacent.append(nearby)
                    if args.warmup and not page.stress:
                        run_page(page, args, base, cookies, facts["token"], Path(workdir), args.warmup)
                    result = run_page(page, args, base, cookies, facts["token"], Path(workdir))
                    if args.baseline_seconds and page.target is not None:
                        result.adjacent.append(nearby)
                        measured.append(result)
                finally:
                    if writer is not None:
                        writer.stop.set()
                        writer.join(timeout=60)
                        for status, n in writer.answers.items():
                            writes[status] = writes.get(status, 0) + n
                        write_seconds += writer.seconds
                if page.target is None and not page.stress and measured and len(measured[-1].adjacent) < 2:
                    measured[-1].adjacent.append(result.rps)  # the baseline after the pages follows the last
                print(f"{result.rps:.1f} req/s, p95 {result.p95:.0f} ms, {result.failures} errors", flush=True)
                results.append(result)
    finally:
        stop_server(server)
        if "token_id" in facts:
            revoke_token(url, env, facts["token_id"])

    command = (f"python bench/load.py --db {args.db} --items {args.items} --duration {args.duration}"
               + (f" --users {args.users}" if args.users != 20 else "")
               + (f" --threads {args.threads}" if args.threads != 1 else "")
               + (f" --write-rate {args.write_rate:g}" if args.write_rate != 1.0 else "")
               + (f" --write-kind {args.write_kind}" if args.write_kind != "comment" else "")
               + (f" --baseline-seconds {args.baseline_seconds}" if args.baseline_seconds != 5 else "")
               + (f" --warmup {args.warmup}" if args.warmup != 2 else ""))
    share_of = ("the mean of the baseline before and after the pages" if not args.baseline_seconds else
                f"the mean of the baseline measured for {args.baseline_seconds} s right before and right after "
                "each page (the machine's speed drifts within a run)")
    write_line = "no writer" if not args.write_rate else writer_line(args.write_kind, writes, write_seconds)
    errors = [f"- {r.page.name}: " + "; ".join(r.errors) for r in results if r.errors]
    section = "\n".join([
        f"### {'SQLite' if args.db == 'sqlite' else 'PostgreSQL'}, {facts['items']:,} items, "
        f"{facts['events']:,} events",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {args.users} connections, "
        f"{args.duration} s per page"
        + (f" after {args.warmup} s of the same load not counted (a fresh server's first requests)" if args.warmup else "")
        + f", gunicorn with {args.workers} "
        + ("sync workers" if args.threads == 1 else f"workers of {args.threads} threads")
        + ", wrk (2 threads) on "
        f"the same machine; meanwhile {write_line}. The ratio is to {share_of}.",
        f"Machine: {machine()}.",
        f"Versions: {versions(args, url)}.",
        f"Reproduce: `{command}`"
        + (f" (building the data set took {seed_seconds:.0f} s)." if seed_seconds else "."),
        *([f"Note: {args.note}"] if args.note else []),
        "",
        table(results),
        *(["", "Errors:", *errors] if errors else []),
    ])
    print()
    print(section)
    if not args.no_write:
        write_benchmarks(args, section)
        print(f"\nWritten to {BENCHMARKS.relative_to(ROOT)}.")


if __name__ == "__main__":
    main()
