"""Fixtures: a fresh database per test (SQLite by default, PostgreSQL with
FORUM_TEST_DATABASE=postgresql), the app, a client, the session, factories and a login helper.

Backend-specific tests (migrations, triggers, concurrent appends) take the ``backend_url``
fixture, which runs them on SQLite and on PostgreSQL in every run. When PostgreSQL cannot be
reached they are skipped with the reason — unless CI=true, where that is a failure.
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from forum.app import create_app
from forum.auth import service as accounts
from forum.auth.models import User
from forum.core import clock, db
from forum.items import service as items
from forum.migrate import upgrade

PG_SERVER_URL = os.environ.get(
    "FORUM_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MAIN_BACKEND = os.environ.get("FORUM_TEST_DATABASE", "sqlite").lower()
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PASSWORD = "correct horse battery"

_pg_state: dict[str, object] = {}


def postgres_reachable() -> tuple[bool, str]:
    if "ok" not in _pg_state:
        engine = create_engine(PG_SERVER_URL, connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            _pg_state.update(ok=True, why="")
        except Exception as exc:  # any failure to connect means: not available here
            _pg_state.update(ok=False, why=f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
        finally:
            engine.dispose()
    return bool(_pg_state["ok"]), str(_pg_state["why"])


def require_postgres() -> None:
    ok, why = postgres_reachable()
    if ok:
        return
    message = f"PostgreSQL at {make_url(PG_SERVER_URL).render_as_string(hide_password=True)} is unreachable ({why})"
    if IN_CI:
        pytest.fail(message + "; in CI (CI=true) that is a failure, not a skip.")
    pytest.skip(message + "; PostgreSQL tests skipped. Start PostgreSQL or set FORUM_TEST_POSTGRES_URL.")


class ScratchPostgres:
    """A throw-away database on the PostgreSQL server, so parallel runs never collide."""

    def __init__(self):
        require_postgres()
        self.name = f"forum_test_{uuid.uuid4().hex[:12]}"
        self.admin = create_engine(PG_SERVER_URL, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.url = make_url(PG_SERVER_URL).set(database=self.name).render_as_string(hide_password=False)

    def drop(self):
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory):
    """The main backend migrated to head once per run: a SQLite file to copy, or a PostgreSQL
    scratch database to clean between tests."""
    if MAIN_BACKEND == "postgresql":
        scratch = ScratchPostgres()
        upgrade(scratch.url)
        yield scratch.url
        scratch.drop()
    elif MAIN_BACKEND == "sqlite":
        path = tmp_path_factory.mktemp("template") / "forum.db"
        upgrade(f"sqlite:///{path}")
        yield path
    else:
        raise pytest.UsageError("FORUM_TEST_DATABASE must be 'sqlite' or 'postgresql'")


def _reset_postgres(url: str) -> None:
    """Empty every table (bypassing the trail's append-only triggers) and put back the rows the
    migrations write (the trail head, the health tallies' mark)."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            tables = conn.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )).scalars().all()
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text(
                "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
            ))
            conn.execute(text("INSERT INTO trail_head (id, seq, hash) VALUES (1, 0, :h)"), {"h": "0" * 64})
            # what the migrations write into a new database: the health tallies are counted
            conn.execute(text("INSERT INTO health_tallies (metric, period, key, n) "
                              "VALUES ('counted', '', '', 1), ('open counted', '', '250000', 1)"))
    finally:
        engine.dispose()


@pytest.fixture
def database_url(migrated_template, tmp_path):
    if MAIN_BACKEND == "postgresql":
        _reset_postgres(migrated_template)
        return migrated_template
    target = tmp_path / "forum.db"
    shutil.copyfile(migrated_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def app_config(database_url, tmp_path):
    return {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret-key",
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
        "BASE_URL": "http://localhost",  # the test client's host: links match its requests
    }


@pytest.fixture
def app(app_config):
    application = create_app(app_config)
    yield application
    db.get_engine(application).dispose()


@pytest.fixture
def steady_minute():
    """The derived cache keys a result by the trail head and the minute (forum.core.derived). A
    test that asserts a result came from the cache runs on this clock: it starts at the top of
    the current minute and moves with real time, so the minute cannot turn while the test runs
    (a test takes seconds). Modules use it with ``pytestmark = pytest.mark.usefixtures(...)``,
    which sets it before the test's other fixtures create data."""
    real_start = datetime.now(UTC)
    start = real_start.replace(second=0, microsecond=0)
    with clock.override(lambda: start + (datetime.now(UTC) - real_start)):
        yield


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db_session(app):
    """A session of the app's own factory, outside any request (tests commit it themselves;
    call ``expire_all()`` to see what a request changed)."""
    session = app.extensions["forum.sessionmaker"]()
    yield session
    session.rollback()
    session.close()


@pytest.fixture
def backend_url(request, tmp_path):
    """A freshly migrated, empty database on each backend, for backend-specific tests."""
    if request.param == "postgresql":
        scratch = ScratchPostgres()
        upgrade(scratch.url)
        yield scratch.url
        scratch.drop()
    else:
        url = f"sqlite:///{tmp_path / 'backend.db'}"
        upgrade(url)
        yield url


def pytest_generate_tests(metafunc):
    if "backend_url" in metafunc.fixturenames:
        metafunc.parametrize("backend_url", ["sqlite", "postgresql"], indirect=True)


# ------------------------------------------------------------------------------------ factories
_counter = itertools.count(1)


@pytest.fixture
def functions(db_session):
    """The three default functions."""
    for key, label in (("procurement", "Procurement"), ("product", "Product"), ("risk", "Risk")):
        accounts.create_function(db_session, None, key, label)
    db_session.commit()
    return ["procurement", "product", "risk"]


@pytest.fixture
def make_user(db_session, functions):
    def factory(role: str = "staff", function: str | None = "procurement", email: str | None = None,
                name: str | None = None, active: bool = True) -> User:
        n = next(_counter)
        user = accounts.create_user(
            db_session, None,
            accounts.NewUser(
                email=email or f"{role}{n}@example.com", display_name=name or f"{role.title()} {n}",
                role=role, password=PASSWORD,
                function=function if role in ("staff", "executive") else None,
            ),
        )
        if not active:
            accounts.deactivate_user(db_session, None, user.email)
        db_session.commit()
        return user

    return factory


def new_item(session, filer: User, status: str = "draft", **values):
    """An item filed by ``filer`` through the services, taken to ``status`` (draft, open or
    escalated), committed."""
    data = items.ItemData(
        title=values.pop("title", f"Item {next(_counter)}"),
        category=values.pop("category", "vendor_selection"),
        function=values.pop("function", filer.function_key or "procurement"),
        **values,
    )
    item = items.create_item(session, filer, data)
    path = {"draft": [], "open": ["submit"], "escalated": ["submit", "escalate"]}[status]
    for action in path:
        items.transition(session, filer, item, action)
    session.commit()
    return item


@pytest.fixture
def make_item(db_session):
    return functools.partial(new_item, db_session)


@pytest.fixture
def login(client):
    """Log ``user`` in through the real login form; returns the response."""

    def do_login(user: User, password: str = PASSWORD):
        return client.post("/login", data={"email": user.email, "password": password})

    return do_login


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, "no csrf_token field in the page"
    return match.group(1)


@pytest.fixture
def protected_app(app_config):
    """The app with CSRF protection on, as in production."""
    application = create_app(dict(app_config, WTF_CSRF_ENABLED=True))
    yield application
    db.get_engine(application).dispose()


def logged_in_client(app, user: User, password: str = PASSWORD):
    """A new client of ``app`` logged in as ``user`` through the login form, with its CSRF token."""
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": user.email, "password": password, "csrf_token": token})
    assert response.status_code == 302
    return client


@pytest.fixture
def artifacts_dir() -> Path:
    path = Path(os.environ.get("FORUM_TEST_ARTIFACTS", "test-artifacts"))
    path.mkdir(parents=True, exist_ok=True)
    return path
