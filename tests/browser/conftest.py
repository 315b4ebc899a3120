"""Browser journeys: Playwright for Python driving Debian's Chromium against `forum demo` served
in its own process. On failure each test leaves a screenshot and the page's HTML in
$FORUM_TEST_ARTIFACTS/browser (default test-artifacts/browser)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.liveserver import demo_server

CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def chromium_path() -> str | None:
    return os.environ.get("FORUM_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    executable = chromium_path()
    if executable is None:
        message = "Chromium is not installed (Debian: apt-get install -y chromium)"
        if IN_CI:
            pytest.fail(message + "; in CI that is a failure, not a skip.")
        pytest.skip(message + "; browser journeys skipped.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("live")) as server:
        yield server


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


def artifacts_root() -> Path:
    root = Path(os.environ.get("FORUM_TEST_ARTIFACTS", "test-artifacts")) / "browser"
    root.mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture
def page(browser, live_server, request):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        folder = artifacts_root()
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-120:]
        try:
            page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
            (folder / f"{name}.html").write_text(page.content(), encoding="utf-8")
            print(f"\nbrowser artefacts: {folder.resolve()}/{name}.png and .html")
        except Exception as exc:  # the page may be gone; the failure itself is what matters
            print(f"\ncould not save browser artefacts: {exc}")
    context.close()


def log_in(page, email: str, password: str = "forum-demo") -> None:
    page.goto("/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", level=1).wait_for()


def open_menu(page) -> None:
    """On a phone the links sit in the header's folded menu: open it (nothing on wide screens).
    First the page a click just led to must have loaded: a menu seen on the page being left is
    gone before it can be clicked."""
    page.wait_for_load_state()
    menu = page.locator("summary", has_text="Menu")
    if menu.is_visible() and menu.locator("xpath=..").get_attribute("open") is None:
        menu.click()


def log_out(page) -> None:
    open_menu(page)
    page.get_by_role("button", name="Log out").click()
    page.get_by_role("heading", name="Log in").wait_for()


def page_problems(page, path: str, label: str) -> list[str]:
    """Photograph the page ``page`` shows (``path``) into the artefacts as ``page-<label>.png``
    and list what is wrong with it: axe's serious and critical findings, and sideways scrolling."""
    from axe_playwright_python.sync_playwright import Axe

    name = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    page.screenshot(path=str(artifacts_root() / f"page-{name}.png"), full_page=True)
    problems = [f"{path} ({label}): {v['id']} {v['help']}" for v in Axe().run(page).response["violations"]
                if v["impact"] in ("serious", "critical")]
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    if overflow > 1:
        problems.append(f"{path} ({label}) scrolls sideways by {overflow} px")
    return problems
