"""The /health page: everyone logged in, the figures with their charts and tables, the
registry, and a query count that does not grow with the data."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from jinja2 import ChoiceLoader, DictLoader

from forum.core import clock
from forum.health import sections, service
from tests.budgets import BUDGETS, cold_statements, count_statements
from tests.health.test_metrics import DAY, NOW, OPERATIONAL, STRATEGIC, _decided, _evidence_world

# Results from the derived cache are asserted here: the minute must not turn mid-test.
pytestmark = pytest.mark.usefixtures("steady_minute")


def _get(client, url="/health"):
    with clock.override(lambda: NOW):
        return client.get(url)


def test_health_page_shows_each_figure_with_an_accessible_chart_and_its_numbers(client, login, cast, history):
    for gap in (10, 20, 30, 40):
        _decided(history, gap, STRATEGIC)
    _decided(history, 5, OPERATIONAL)
    _evidence_world(history)
    login(cast["filer"])

    response = _get(client)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for heading in ("Decision cycle time", "Escalations per month", "Evidence behind decisions",
                    "Evidence age against the model versions in use"):
        assert heading in html
    assert html.count('role="img"') == 4
    assert len(re.findall(r"<title id=\"[a-z-]+-title\">", html)) == 4
    assert len(re.findall(r"<desc id=\"[a-z-]+-desc\">", html)) == 4
    assert "<script" not in html and " style=" not in html
    # the numbers are in tables next to the charts
    assert re.search(r"<th scope=\"row\">Strategic</th><td>4</td>\s*<td>25.0</td>\s*<td>40.0</td>", html)
    assert "Strategic: 4 decided, median 25.0 days, 90th percentile 40.0 days" in html  # the chart's desc
    # 9 decided: the 5 above without evidence and 4 in the evidence world, 1 of them fresh
    assert "11 %</strong> of the 9 decided or closed items" in html
    assert "nearest rank" in html


@pytest.mark.parametrize("role", ["staff", "executive", "auditor", "admin"])
def test_everyone_logged_in_reads_the_health_page_and_it_is_in_the_navigation(client, login, make_user, role):
    login(make_user(role=role, function="risk" if role in ("staff", "executive") else None))
    response = _get(client)
    assert response.status_code == 200
    assert 'href="/health" aria-current="page"' in response.get_data(as_text=True)
    assert 'href="/health"' in _get(client, "/").get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_the_login(client):
    response = client.get("/health")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_an_empty_forum_gets_empty_states_not_errors(client, login, cast):
    login(cast["filer"])
    html = _get(client).get_data(as_text=True)
    assert "No item was decided in the last 12 months." in html
    assert "No item has been decided yet." in html
    assert "No evidence has been attached yet." in html
    assert "0 in all" in html


def test_each_listed_section_is_built_and_shown_in_order(app, client, login, cast, monkeypatch):
    app.jinja_env.loader = ChoiceLoader([
        DictLoader({"test/habit.html": '<section id="habit"><h2>Visible habit</h2><p>{{ s.figure }} at {{ now|iso }}</p></section>'}),
        app.jinja_env.loader,
    ])
    seen = []

    def build(session, now):
        seen.append(now)
        return {"figure": 42}

    monkeypatch.setattr(service, "SECTIONS", (
        sections.HealthSection("habit", "test/habit.html", build),
        sections.HealthSection("nothing", "test/missing.html", lambda session, now: None),
        *service.SECTIONS,
    ))
    login(cast["filer"])
    html = _get(client).get_data(as_text=True)
    assert seen == [NOW]
    assert "<h2>Visible habit</h2><p>42 at 2026-11-20T12:00:00Z</p>" in html
    assert html.index("Visible habit") < html.index("Decision cycle time")  # in the listed order
    assert "test/missing.html" not in html  # a section whose build returns None is left out


def test_health_page_keeps_its_query_budget_whatever_the_data_size(app, client, login, cast, history):
    _decided(history, 10, STRATEGIC)
    _evidence_world(history)
    login(cast["filer"])
    small = count_statements(app, lambda: _get(client))
    for n in range(12):
        _decided(history, 3 + n, (STRATEGIC, OPERATIONAL, None)[n % 3], decided_at=NOW - (n + 1) * 20 * DAY)
        item = history.item(NOW - (n + 2) * 25 * DAY, status="open", model_version=f"v{n}")
        history.attach(item, NOW - (n + 1) * 25 * DAY + timedelta(hours=1))
        if n % 2:
            history.escalate(item, NOW - (n + 1) * 25 * DAY + timedelta(hours=2))
    large = count_statements(app, lambda: _get(client))
    assert small == large
    assert large <= BUDGETS["health.index"], large


def test_every_figure_follows_every_change_at_the_same_cost(app, client, login, cast, history):
    """The figures are read from tallies kept current as changes happen: a decision shows at
    once, in the cycle times and in the evidence behind decisions, for the same statements; until
    the next change, the page is served from the derived-result cache."""
    _decided(history, 10, STRATEGIC)
    login(cast["filer"])
    first = _get(client).get_data(as_text=True)
    assert "All tiers: 1 decided" in first and "Of 1 decided or closed items" in first
    before = cold_statements(app, lambda: _get(client))
    again = count_statements(app, lambda: _get(client))
    _decided(history, 20, STRATEGIC)

    after = count_statements(app, lambda: _get(client))
    page = _get(client).get_data(as_text=True)

    assert "All tiers: 2 decided" in page and "Of 2 decided or closed items" in page
    assert after == before
    assert again < before  # nothing changed in between: the figures came from the cache
