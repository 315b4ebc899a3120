"""Hands on the model in a real browser, against a real OpenAI-compatible server on 127.0.0.1
(tests/modelserver.py) and a demo server of its own: an administrator lists where two versions of
Enterprise chat answer; the executive opens an item about it, asks both versions, judges the new
version's answer not acceptable and turns it into a proposed edge case, records the decision at
the meeting and sees that they probed the system; the proximity figures count the probe. The
probe pages are checked with axe and photographed at both sizes."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, log_out, page_problems
from tests.liveserver import demo_server
from tests.modelserver import ModelServer

pytestmark = pytest.mark.browser
SIZES = {"wide": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
KEY = "journey-key"
ITEM = "Follow-up: Northwind Models changed the model behind the API without notice"


@pytest.fixture(scope="module")
def model_server():
    with ModelServer(key=KEY) as server:
        yield server


@pytest.fixture(scope="module")
def probe_server(tmp_path_factory, model_server):
    settings = {"FORUM_PROBE_HOSTS": f"127.0.0.1:{model_server.port}", "NORTHWIND_KEY": KEY}
    with demo_server(tmp_path_factory.mktemp("probes"), settings) as server:
        yield server


@pytest.fixture
def probe_page(browser, probe_server):
    context = browser.new_context(base_url=probe_server.url, viewport=SIZES["wide"])
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def add_endpoint(page, model_server, version: str, model: str) -> None:
    page.get_by_label("System version it serves").fill(version)
    page.get_by_label("API base address").fill(model_server.base_url)
    page.get_by_label("Model name").fill(model)
    page.get_by_label("Environment variable with the API key").fill("NORTHWIND_KEY")
    page.get_by_label("Timeout").fill("10")
    page.get_by_role("button", name="Add the endpoint").click()
    expect(page.get_by_text(f"Version {version} answers at {model_server.base_url} now.")).to_be_visible()


def test_the_executive_probes_two_versions_proposes_an_edge_case_and_decides(probe_page, model_server):
    page = probe_page
    log_in(page, "admin@example.com")
    page.goto("/systems")
    page.get_by_role("link", name="Enterprise chat", exact=True).click()
    page.get_by_role("link", name="Model endpoints").click()
    add_endpoint(page, model_server, "2026-10", "nw-chat-2026-10")
    add_endpoint(page, model_server, "2026-11", "nw-chat-2026-11")
    log_out(page)

    log_in(page, "exec@example.com")
    page.goto("/items")
    page.get_by_role("link", name=ITEM).first.click()
    page.get_by_role("link", name="Try the model yourself").click()
    expect(page.get_by_role("heading", name="Try Enterprise chat")).to_be_visible()
    page.get_by_role("textbox", name="Prompt").fill("A customer writes only in emoji: 🧾❓ What do you answer?")
    expect(page.get_by_label("Version", exact=True)).to_have_value(re.compile(r"\d+"))
    page.get_by_label("Side by side with").select_option(label="2026-11 (nw-chat-2026-11)")
    page.get_by_role("button", name="Ask").click()

    expect(page.get_by_role("heading", name="Probe of Enterprise chat")).to_be_visible()
    old = page.get_by_role("region", name=re.compile("Version 2026-10"))
    new = page.get_by_role("region", name=re.compile("Version 2026-11"))
    expect(old).to_contain_text("nw-chat-2026-10 answers: A customer writes only in emoji")
    expect(new).to_contain_text("nw-chat-2026-11 answers:")
    old.get_by_label("Acceptable", exact=True).check()
    new.get_by_label("Not acceptable").check()
    new.get_by_label(re.compile("^Note")).fill("Repeats the customer instead of answering.")
    page.get_by_role("button", name="Save the probe to the trail").click()
    expect(page.get_by_text("Probe saved: it is on the decision trail.")).to_be_visible()
    probe_url = page.url

    new = page.get_by_role("region", name=re.compile("Version 2026-11"))
    new.get_by_text("Propose it as an edge case").click()
    new.get_by_label("What the test team should cover").fill("Emoji-only customer messages")
    new.get_by_role("button", name="Propose the edge case").click()
    expect(page.get_by_text(re.compile(r"Proposed as edge case proposed-\d+ on the item"))).to_be_visible()

    page.goto("/meetings")
    page.get_by_role("link", name="Executive AI Forum — November").click()
    page.get_by_role("button", name="Start the meeting").click()
    expect(page.get_by_text("The meeting is now in session.")).to_be_visible()
    entry = page.locator("li, article, section", has=page.get_by_role("link", name=ITEM)).filter(
        has=page.get_by_role("button", name="Record the decision")).last
    decide = entry.get_by_role("region", name="Record the decision")
    decide.get_by_label("Outcome").select_option(label="Approved")
    decide.get_by_label("Rationale").fill("Tried it ourselves: the old version holds; the new one waits for the fix.")
    decide.get_by_role("group", name="Deciders present").get_by_label("Sam Carter").check()
    decide.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text("Decision recorded: approved.")).to_be_visible()

    page.goto("/items")
    page.get_by_role("link", name=ITEM).first.click()
    probe_id = probe_url.rsplit("/", 1)[1]
    expect(page.get_by_role("link", name=f"probe #{probe_id}")).to_be_visible()
    expect(page.get_by_text("Emoji-only customer messages", exact=True)).to_be_visible()

    page.goto("/proximity")
    row = page.get_by_role("row", name=re.compile("^Sam Carter"))
    expect(row.get_by_role("cell").nth(3)).to_have_text("1")


@pytest.mark.parametrize("size", sorted(SIZES))
def test_the_probe_pages_are_accessible_and_fit_the_screen(browser, probe_server, size):
    context = browser.new_context(base_url=probe_server.url, viewport=SIZES[size])
    page = context.new_page()
    problems = []
    try:
        for user, paths in (("exec@example.com", ("/systems/2/try", "/probes/1")),
                            ("admin@example.com", ("/systems/2/endpoints", "/systems/2/endpoints/1/remove"))):
            log_in(page, user)
            for path in paths:
                response = page.goto(path)
                if response.status == 404:  # the journey above made them; alone, this test has none
                    continue
                assert response.status == 200, path
                problems += page_problems(page, path, f"{size} {user.split('@')[0]} {path}")
            log_out(page)
    finally:
        context.close()
    assert not problems, "\n".join(problems)
