"""The load benchmark's baseline page: off (404) unless FORUM_BENCH_BASELINE is set; when on, a
logged-in request costs the user's row and one primary-key query, and renders one line."""

from __future__ import annotations

from forum.app import create_app
from forum.core import db
from tests.budgets import BUDGETS, count_statements
from tests.conftest import PASSWORD


def test_the_baseline_is_a_404_when_the_flag_is_not_set(client, make_user, login):
    login(make_user("staff"))
    assert client.get("/bench/baseline").status_code == 404


def test_the_baseline_asks_anonymous_users_to_log_in(app_config):
    app = create_app({**app_config, "BENCH_BASELINE": True})
    try:
        response = app.test_client().get("/bench/baseline")
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
    finally:
        db.get_engine(app).dispose()


def test_the_baseline_costs_the_user_and_one_primary_key_query(app_config, make_user, make_item):
    app = create_app({**app_config, "BENCH_BASELINE": True})
    try:
        client = app.test_client()
        user = make_user("staff")
        make_item(user, title="The first item")
        assert client.post("/login", data={"email": user.email, "password": PASSWORD}).status_code == 302

        def measure() -> int:
            responses = []
            count = count_statements(app, lambda: responses.append(client.get("/bench/baseline")))
            assert responses[0].status_code == 200
            assert responses[0].get_data(as_text=True).strip() == "<p>The first item</p>"
            return count

        small = measure()
        for n in range(30):
            make_item(user, title=f"Another item {n}")
        # The login session's user, then the item by its primary key, whatever the data size.
        assert small == measure() == BUDGETS["core.bench_baseline"]
    finally:
        db.get_engine(app).dispose()


def test_the_flag_is_read_from_the_environment(monkeypatch, app_config):
    monkeypatch.setenv("FORUM_BENCH_BASELINE", "1")
    config = {k: v for k, v in app_config.items()}
    app = create_app(config)
    try:
        assert app.config["BENCH_BASELINE"] is True
    finally:
        db.get_engine(app).dispose()
