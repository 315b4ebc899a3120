"""The pages that lead people to their next step (the item page's top, the queue, the meeting and
its picker, the pack, the inbox, the decision register, the verify page, the admin's home), as
each of their users sees them on a wide screen and on a phone: axe finds nothing serious or
critical, nothing scrolls sideways, and a screenshot of each goes to the test artefacts."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import artifacts_root, log_in

pytestmark = pytest.mark.browser

SIZES = {"wide": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
PAGES = [  # (who, path) in the demo data
    ("risk@example.com", "/items/15"),
    ("exec@example.com", "/items/2"),
    ("exec@example.com", "/escalations"),
    ("exec@example.com", "/meetings/2"),
    ("exec@example.com", "/meetings/2/pack"),
    ("exec@example.com", "/meetings/2/entries/7"),
    ("product@example.com", "/inbox"),
    ("exec@example.com", "/decisions"),
    ("auditor@example.com", "/trail/verify"),
    ("admin@example.com", "/admin"),
]


@pytest.mark.parametrize("size", sorted(SIZES))
def test_changed_pages_are_accessible_fit_the_screen_and_are_photographed(browser, live_server, size):
    from axe_playwright_python.sync_playwright import Axe

    problems: list[str] = []
    for email in dict.fromkeys(email for email, _ in PAGES):
        context = browser.new_context(base_url=live_server.url, viewport=SIZES[size])
        page = context.new_page()
        try:
            log_in(page, email)
            for path in (p for e, p in PAGES if e == email):
                response = page.goto(path)
                assert response.status == 200, f"{path} as {email}: {response.status}"
                name = re.sub(r"[^a-z0-9]+", "-", f"{size} {email.split('@')[0]} {path}").strip("-")
                page.screenshot(path=str(artifacts_root() / f"page-{name}.png"), full_page=True)
                for v in Axe().run(page).response["violations"]:
                    if v["impact"] in ("serious", "critical"):
                        problems.append(f"{path} as {email} ({size}): {v['id']} {v['help']} "
                                        f"{[n['target'] for n in v['nodes']][:3]}")
                overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                if overflow > 1:
                    problems.append(f"{path} as {email} ({size}) scrolls sideways by {overflow} px")
        finally:
            context.close()
    assert not problems, "\n".join(problems)
