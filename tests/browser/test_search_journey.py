"""Search as people use it: the header's box on any page, the results, a filter, a result."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def test_search_from_the_header_filter_and_open_a_result(page):
    log_in(page, "risk@example.com")
    page.goto("/items")
    header_search = page.get_by_role("search", name="Site search")
    header_search.get_by_label("Search items, comments, decisions and evidence").fill("refund")
    header_search.get_by_label("Search items, comments, decisions and evidence").press("Enter")
    expect(page).to_have_url(re.compile(r"/search\?q=refund$"))
    expect(page.get_by_role("status").filter(has_text="results for “refund”")).to_be_visible()
    results = page.locator(".search-results")
    expect(results.locator("mark").first).to_have_text(re.compile("refund", re.I))

    # Only decisions, through the kind tabs; then open the first one on its meeting page.
    page.get_by_role("navigation", name="Kind of result").get_by_role("link", name=re.compile("^Decisions")).click()
    expect(page).to_have_url(re.compile(r"kind=decision"))
    expect(results.locator(".search-hit")).not_to_have_count(0)
    assert results.locator(".hit-kind").all_inner_texts() == ["DECISION"] * results.locator(".hit-kind").count()
    results.get_by_role("heading").first.get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/meetings/\d+#entry-\d+"))

    # The filters fold out (closed while none is set), and work without JavaScript's help.
    page.goto("/search?q=refund")
    page.get_by_text("Filters: kind of result").click()
    page.get_by_label("Item status").select_option("closed")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("status").filter(has_text="with these filters")).to_be_visible()
