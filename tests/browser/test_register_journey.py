"""The register of AI systems in a real browser, on a demo server of its own (the journey changes
the demo's systems): a staff member adds a system while filing an item; an executive records the
vendor's new version on a system's page, and every item about it moves. The register's pages are
checked with axe and photographed at both sizes."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import artifacts_root, log_in, log_out
from tests.liveserver import demo_server

pytestmark = pytest.mark.browser
SIZES = {"wide": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def register_server(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("register")) as server:
        yield server


@pytest.fixture
def register_page(browser, register_server):
    context = browser.new_context(base_url=register_server.url, viewport=SIZES["wide"])
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def test_staff_add_a_system_while_filing_and_an_executive_records_its_new_version(register_page):
    page = register_page
    log_in(page, "product@example.com")
    page.goto("/items/new")
    page.get_by_role("link", name="Add the system first").click()
    page.get_by_role("heading", name="New AI system").wait_for()
    page.get_by_label("Name").fill("Meeting-notes summariser")
    page.get_by_label("Vendor").fill("Contoso Workspace")
    page.get_by_label("Model", exact=True).fill("cw-summarize")
    page.get_by_label("Version in use").fill("2026.09")
    page.get_by_label("Deployment status").select_option(label="Pilot")
    page.get_by_role("button", name="Add to the register").click()

    # Back on the item form, the new system chosen.
    page.get_by_role("heading", name="File a decision item").wait_for()
    chosen = page.get_by_label("System in the register")
    assert "Meeting-notes summariser" in chosen.locator("option:checked").inner_text()
    page.get_by_label("Title").fill("Summaries of board meetings by the notes assistant")
    page.get_by_label("Category").select_option(label="Use-case approval")
    page.get_by_role("button", name="Save draft").click()
    page.get_by_role("link", name="Meeting-notes summariser").wait_for()
    assert page.get_by_text("cw-summarize").first.is_visible()
    log_out(page)

    log_in(page, "exec@example.com")
    page.goto("/systems")
    page.get_by_role("link", name="Enterprise chat").click()
    page.get_by_label("New version", exact=True).fill("2026-11")
    page.get_by_label("Note", exact=True).fill("Northwind's November release")
    page.get_by_role("button", name="Record the new version").click()
    page.get_by_text("Enterprise chat now runs 2026-11: 2 items about it moved to that version").wait_for()
    items = page.locator("section", has=page.get_by_role("heading", name="Items about it"))
    assert items.get_by_text("version 2026-11").count() == 2
    assert page.get_by_text("Northwind's November release").is_visible()


@pytest.mark.parametrize("size", sorted(SIZES))
def test_the_register_pages_are_accessible_and_fit_the_screen(browser, register_server, size):
    from axe_playwright_python.sync_playwright import Axe

    context = browser.new_context(base_url=register_server.url, viewport=SIZES[size])
    page = context.new_page()
    problems = []
    try:
        log_in(page, "risk@example.com")
        for path in ("/systems", "/systems/2", "/systems/6", "/systems/new", "/systems/2/edit"):
            assert page.goto(path).status == 200, path
            name = re.sub(r"[^a-z0-9]+", "-", f"{size} risk {path}").strip("-")
            page.screenshot(path=str(artifacts_root() / f"page-{name}.png"), full_page=True)
            problems += [f"{path} ({size}): {v['id']} {v['help']}" for v in Axe().run(page).response["violations"]
                         if v["impact"] in ("serious", "critical")]
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 1:
                problems.append(f"{path} ({size}) scrolls sideways by {overflow} px")
    finally:
        context.close()
    assert not problems, "\n".join(problems)
