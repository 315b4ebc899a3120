"""Single sign-on in a real browser: `forum demo` set up with a real OpenID Provider (the npm
package oidc-provider, tests/oidcprovider.py); Chromium signs in through the provider's own login
page, and out again through its logout confirmation."""

from __future__ import annotations

import pytest

from tests.liveserver import demo_server, free_port
from tests.oidcprovider import OidcProvider, ensure_installed

pytestmark = pytest.mark.browser

SECRET = "browser-journey-client-secret"
ACCOUNTS = {
    "dana": {"email": "dana@example.com", "email_verified": True, "name": "Dana Director",
             "groups": ["forum-executives"]},
    "nora": {"email": "nora@example.com", "email_verified": True, "name": "Nora Outside", "groups": ["marketing"]},
}


@pytest.fixture(scope="module")
def sso_server(tmp_path_factory):
    ensure_installed()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    client = {"client_id": "forum", "client_secret": SECRET, "redirect_uris": [f"{base}/login/oidc/callback"],
              "post_logout_redirect_uris": [f"{base}/login"]}
    with OidcProvider(clients=[client], accounts=ACCOUNTS) as provider:
        settings = {"FORUM_OIDC_ISSUER": provider.issuer, "FORUM_OIDC_CLIENT_ID": "forum",
                    "FORUM_OIDC_CLIENT_SECRET": SECRET, "FORUM_OIDC_NAME": "Example Login",
                    "FORUM_OIDC_SCOPES": "openid email profile groups",
                    "FORUM_OIDC_ROLES": "forum-executives=executive, forum-staff=staff"}
        with demo_server(tmp_path_factory.mktemp("sso"), settings, port) as server:
            server.issuer = provider.issuer
            yield server


@pytest.fixture
def sso_page(browser, sso_server):
    context = browser.new_context(base_url=sso_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def sign_in_at_the_provider(page, server, login: str) -> None:
    page.goto("/login")
    page.get_by_role("link", name="Sign in with Example Login").click()
    page.get_by_role("heading", name="Sign-in").wait_for()
    assert page.url.startswith(server.issuer)  # the provider's own login page
    page.get_by_label("Account").fill(login)
    page.get_by_role("button", name="Sign-in").click()


def test_an_executive_signs_in_through_the_provider_and_out_again(sso_page, sso_server):
    page = sso_page
    sign_in_at_the_provider(page, sso_server, "dana")
    page.get_by_text("Welcome, Dana Director.").wait_for()
    assert page.url.startswith(sso_server.url)
    page.goto("/settings")
    assert page.get_by_role("heading", name="Settings", exact=True).is_visible()

    # Logging out ends the provider's session too: its confirmation page, then the forum's login.
    page.goto("/")
    log_out_button = page.get_by_role("button", name="Log out")
    if not log_out_button.is_visible():
        page.locator("summary", has_text="Menu").click()
    log_out_button.click()
    page.get_by_role("button", name="Yes, sign me out").click()
    page.get_by_role("heading", name="Log in").wait_for()
    assert page.url.startswith(f"{sso_server.url}/login")
    page.goto("/settings")
    page.get_by_role("heading", name="Log in").wait_for()


def test_someone_without_a_mapped_group_sees_they_have_no_access_yet(sso_page, sso_server):
    page = sso_page
    sign_in_at_the_provider(page, sso_server, "nora")
    page.get_by_role("heading", name="No access yet").wait_for()
    assert page.get_by_text("Your groups there: marketing.").is_visible()


def serious_problems(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    return [f"{page.url}: {v['id']} {v['help']}" for v in Axe().run(page).response["violations"]
            if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("size", [(1280, 900), (390, 844)], ids=["wide", "phone"])
def test_the_sign_in_pages_are_accessible_and_fit_the_screen(browser, sso_server, size):
    context = browser.new_context(base_url=sso_server.url, viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    try:
        problems = []
        page.goto("/login")
        problems += serious_problems(page)
        sign_in_at_the_provider(page, sso_server, "nora")
        page.get_by_role("heading", name="No access yet").wait_for()
        problems += serious_problems(page)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"the page scrolls sideways by {overflow} px"
        assert not problems, "\n".join(problems)
    finally:
        context.close()
