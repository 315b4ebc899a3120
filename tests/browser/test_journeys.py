"""Journeys as people click through them, with visible labels and roles."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, log_out
from tests.browser.xss import XSS_PAYLOADS, assert_inert

pytestmark = pytest.mark.browser


def test_procurement_files_edits_and_submits_an_item_then_finds_it(page):
    log_in(page, "procurement@example.com")
    page.get_by_role("link", name="File an item").first.click()
    page.get_by_label("Title").fill("Browser journey: pick a contract-analysis vendor")
    page.get_by_label("Category").select_option(label="Vendor selection")
    page.get_by_label("Summary").fill("Two vendors.\n\n- **Acme AI** passes the demo\n- edge cases: scanned PDFs")
    page.get_by_label("Vendor").fill("Acme AI")
    page.get_by_label("Model name").fill("contract-assist")
    page.get_by_label("Model version").fill("1.2.0")
    page.get_by_label("Financial exposure").fill("120000")
    page.get_by_role("button", name="Save draft").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Browser journey: pick a contract-analysis vendor")
    expect(page.locator(".prose strong")).to_have_text("Acme AI")
    expect(page.get_by_text("Draft", exact=True).first).to_be_visible()

    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Model version").fill("1.3.0")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Changes saved.")).to_be_visible()

    page.get_by_role("button", name="Submit to the forum").click()
    expect(page.get_by_text("the item is now open")).to_be_visible()
    history = page.get_by_role("region", name="History")
    expect(history.get_by_text("Filed the item")).to_be_visible()
    expect(history.get_by_text("Edited the item")).to_be_visible()
    expect(history.get_by_role("cell", name="1.3.0")).to_be_visible()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Items").click()
    page.get_by_label("Status").select_option(label="Open")
    page.get_by_label("Category").select_option(label="Vendor selection")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"status=open"))
    page.get_by_role("link", name="Browser journey: pick a contract-analysis vendor").click()
    expect(page.get_by_text("Version 3")).to_be_visible()
    log_out(page)
    expect(page).to_have_url(re.compile(r"/login"))


def test_a_refused_form_says_what_is_wrong(page):
    log_in(page, "product@example.com")
    page.goto("/items/new")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("alert").first).to_contain_text("Give the item a title.")
    expect(page.get_by_label("Title")).to_have_attribute("aria-invalid", "true")


def test_xss_payloads_render_inert_in_the_item_fields(page):
    log_in(page, "risk@example.com")
    page.goto("/items/new")
    payload = "\n\n".join(XSS_PAYLOADS)
    page.get_by_label("Title").fill("XSS probe \"><b id=injected>t</b><script>alert(1)</script>")
    page.get_by_label("Category").select_option(label="Model deployment")
    page.get_by_label("Summary").fill(payload)
    page.get_by_label("Vendor").fill("<img src=x onerror=alert('vendor')>")
    page.get_by_label("Model name").fill("<svg onload=alert('model')>")
    page.get_by_label("Model version").fill("\"><script>alert('v')</script>")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("XSS probe")
    item_url = page.url
    page.get_by_role("button", name="Submit to the forum").click()
    for url in (item_url, "/items", "/"):
        page.goto(url)
        assert_inert(page, url)


@pytest.mark.parametrize("path", ["/login", "/", "/items", "/items/new", "/items/1", "/search?q=refund"])
def test_main_pages_have_no_serious_accessibility_violations(page, path):
    from axe_playwright_python.sync_playwright import Axe

    if path != "/login":
        log_in(page, "procurement@example.com")
    page.goto(path)
    results = Axe().run(page)
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"] if v["impact"] in ("serious", "critical")
    ]
    assert not serious, "\n".join(serious)


def test_phone_width_pages_do_not_scroll_sideways(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        log_in(page, "procurement@example.com")
        for path in ("/", "/items", "/items/new", "/items/1", "/search?q=refund&status=decided"):
            page.goto(path)
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{path} is {overflow}px wider than a phone screen"
    finally:
        context.close()


def rate(page, scores: list[int], reason: str) -> None:
    weight = page.get_by_role("region", name="Strategic weight")
    weight.get_by_text("the weight for").click()  # the "Rate the weight for <function>" disclosure
    groups = ["Financial exposure", "Regulatory & compliance exposure", "Customer & brand impact",
              "Irreversibility", "Vendor dependency / lock-in", "Data sensitivity"]
    for name, score in zip(groups, scores, strict=True):
        weight.get_by_role("group", name=name).get_by_role("radio").nth(score).check()
    weight.get_by_label("Reason").fill(reason)
    with page.expect_navigation():  # the next step acts on the page the save leads to
        weight.get_by_role("button", name="Save the rating").click()


def take_position(page, stance: str, rationale: str) -> None:
    positions = page.get_by_role("region", name="Positions")
    positions.get_by_text("the position of").click()
    positions.get_by_role("group", name="Stance").get_by_label(stance, exact=True).check()
    positions.get_by_label("Rationale").fill(rationale)
    with page.expect_navigation():
        positions.get_by_role("button", name="Save the position").click()


def test_functions_weigh_an_item_differently_and_one_objects(page):
    # procurement files a vendor selection with a Markdown summary and submits it
    log_in(page, "procurement@example.com")
    page.goto("/items/new")
    page.get_by_label("Title").fill("Browser journey: choose a claims-triage model vendor")
    page.get_by_label("Category").select_option(label="Vendor selection")
    page.get_by_label("Summary").fill("Pick **one** of two vendors.\n\n- demo looked polished\n- edge cases untested")
    page.get_by_role("button", name="Save draft").click()
    page.get_by_role("button", name="Submit to the forum").click()
    item_url = page.url
    log_out(page)

    # product sees little weight and supports it
    log_in(page, "product@example.com")
    page.goto(item_url)
    rate(page, [1, 0, 1, 0, 1, 0], "A small pilot, easy to undo.")
    take_position(page, "Support", "The pilot is cheap.")
    log_out(page)

    # risk sees strategic weight and objects
    log_in(page, "risk@example.com")
    page.goto(item_url)
    rate(page, [3, 3, 2, 2, 2, 3], "Claims data is sensitive and regulated.")
    take_position(page, "Object", "No edge-case evidence yet.")

    weight = page.get_by_role("region", name="Strategic weight")
    expect(weight.get_by_text("Weight divergence").first).to_be_visible()
    expect(page.get_by_text("Strategic").first).to_be_visible()
    positions = page.get_by_role("region", name="Positions")
    expect(positions.locator(".badge", has_text="Object")).to_be_visible()
    expect(positions.locator(".badge", has_text="Support")).to_be_visible()
    expect(page.get_by_text("Escalation recommended").first).to_be_visible()
