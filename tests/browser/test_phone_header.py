"""The header on a phone (390×844) and on a wide screen, in a real browser: one row high on the
phone with every link in a menu that opens without JavaScript, the links in the row on a wide
screen, and a wide table that shows it scrolls and can be scrolled from the keyboard.
Screenshots of both sizes go to the test artefacts."""

from __future__ import annotations

import pytest

from tests.browser.conftest import artifacts_root, log_in, log_out

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 900}


@pytest.fixture
def sized(browser, live_server):
    contexts = []

    def new_page(viewport: dict, javascript: bool = True):
        context = browser.new_context(base_url=live_server.url, viewport=viewport, java_script_enabled=javascript)
        contexts.append(context)
        return context.new_page()

    yield new_page
    for context in contexts:
        context.close()


def _menu(page):
    return page.locator("summary", has_text="Menu")


def _header_height(page) -> float:
    return page.locator("header.site-header").bounding_box()["height"]


@pytest.mark.parametrize("email,admin_link", [("product@example.com", False), ("admin@example.com", True)])
def test_on_a_phone_the_header_is_one_row_and_its_menu_holds_every_link(sized, email, admin_link):
    page = sized(PHONE)
    log_in(page, email)
    page.screenshot(path=str(artifacts_root() / f"phone-header-closed-{email.split('@')[0]}.png"))
    assert _header_height(page) <= 72, "the closed header should be one row on a phone"
    nav = page.get_by_role("navigation", name="Main (menu)")
    assert not nav.is_visible()
    _menu(page).click()
    assert nav.get_by_role("link", name="Items").is_visible()
    assert nav.get_by_role("link", name="Admin").is_visible() is admin_link
    assert page.get_by_role("link", name="Inbox").is_visible()
    assert page.get_by_role("search", name="Site search (menu)").is_visible()
    page.screenshot(path=str(artifacts_root() / f"phone-header-open-{email.split('@')[0]}.png"))
    nav.get_by_role("link", name="Items").click()
    page.get_by_role("heading", level=1, name="Decision items").wait_for()
    log_out(page)


def test_the_phone_menu_opens_without_javascript(sized, live_server):
    page = sized(PHONE)
    log_in(page, "exec@example.com")
    cookies = page.context.cookies()
    no_js = sized(PHONE, javascript=False)
    no_js.context.add_cookies(cookies)
    no_js.goto("/")
    _menu(no_js).click()
    assert no_js.get_by_role("navigation", name="Main (menu)").get_by_role("link", name="Meetings").is_visible()


def test_on_a_wide_screen_the_links_stay_in_the_header_row(sized):
    page = sized(WIDE)
    log_in(page, "exec@example.com")
    page.screenshot(path=str(artifacts_root() / "wide-header-exec.png"))
    assert not _menu(page).is_visible()
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Escalations").is_visible()
    assert page.get_by_role("button", name="Log out").is_visible()


def test_the_weight_table_shows_it_scrolls_and_scrolls_from_the_keyboard(sized):
    page = sized(PHONE)
    log_in(page, "procurement@example.com")
    page.goto("/items?status=decided")  # decided items were weighed by the functions first
    page.locator("a.item-title").first.click()
    region = page.get_by_role("region", name="Scores by function (scrolls sideways on small screens)")
    region.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_root() / "phone-weight-table.png"))
    wider = region.evaluate("box => box.scrollWidth - box.clientWidth")
    assert wider > 0, "on a phone the weight table is wider than its box"
    assert "gradient" in region.evaluate("box => getComputedStyle(box).backgroundImage")
    # Keyboard users reach the box (so arrow keys scroll it), and axe finds nothing serious.
    assert region.get_attribute("tabindex") == "0"
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    serious = [f"{v['id']}: {v['help']}" for v in results.response["violations"]
               if v["impact"] in ("serious", "critical")]
    assert not serious, serious


def test_asked_of_you_opens_the_form_in_one_click(sized):
    """The top of an item's page links to the folded form: following the link unfolds it."""
    page = sized(WIDE)
    log_in(page, "product@example.com")
    page.goto("/items?status=open")
    links = [a.get_attribute("href") for a in page.locator("a.item-title").all()][:10]
    for href in links:
        page.goto(href)
        ask = page.get_by_role("link", name="Rate the weight")
        if ask.count():
            break
    else:
        pytest.fail("no open demo item asks product for its rating")
    form = page.locator("#rate-weight")
    assert not form.is_visible()
    ask.click()
    form.wait_for(state="visible")
    page.screenshot(path=str(artifacts_root() / "item-asks-rate-open.png"))
