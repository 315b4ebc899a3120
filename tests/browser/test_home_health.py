"""The role home pages and the forum health page in a real browser on the demo data: no
serious accessibility findings, no sideways scrolling on a phone, the charts drawn as images
with a name, and nothing blocked by the Content-Security-Policy."""

from __future__ import annotations

import pytest

from tests.browser.conftest import log_in, log_out

pytestmark = pytest.mark.browser

ROLES = ["procurement@example.com", "exec@example.com", "auditor@example.com", "admin@example.com"]


@pytest.mark.parametrize("email", ROLES)
def test_home_and_health_have_no_serious_accessibility_violations(page, email):
    from axe_playwright_python.sync_playwright import Axe

    log_in(page, email)
    for path in ("/", "/health"):
        page.goto(path)
        results = Axe().run(page)
        serious = [
            f"{path} {v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")
        ]
        assert not serious, "\n".join(serious)


def test_health_charts_are_named_images_and_nothing_is_blocked(page):
    blocked = []
    page.on("console", lambda message: blocked.append(message.text)
            if "Content Security Policy" in message.text else None)
    log_in(page, "exec@example.com")
    page.goto("/health")
    charts = page.get_by_role("img", name="Decision cycle time per tier, last 12 months")
    assert charts.count() == 1
    assert page.locator("svg[role=img]").count() == 4
    # the bars take their colours from the stylesheet (not blocked, not black)
    fill = page.locator("rect.chart-s0").first.evaluate("r => getComputedStyle(r).fill")
    assert fill not in ("", "rgb(0, 0, 0)")
    assert blocked == []


def test_home_and_health_do_not_scroll_sideways_on_a_phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 375, "height": 812})
    page = context.new_page()
    try:
        for email in ROLES:
            log_in(page, email)
            for path in ("/", "/health"):
                page.goto(path)
                overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
                assert overflow <= 0, f"{path} as {email} is {overflow}px wider than a phone screen"
            log_out(page)
    finally:
        context.close()
