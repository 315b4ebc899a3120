"""The register of AI systems in a real browser, on a demo server of its own (the journeys change
the demo's systems): a staff member adds a system while filing an item; an executive records the
vendor's new version on a system's page, and every item about it moves — three decided items at
once need revalidation, and the queue and home page show the system; an administrator brings the
items filed before the register into it; an auditor reads a system's obligations report and
downloads it with the register. The register's pages are checked with axe and photographed at
both sizes."""

from __future__ import annotations

import contextlib
import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.app import create_app
from forum.auth.models import User
from forum.core import clock
from forum.systems import service as systems
from tests.browser.conftest import log_in, log_out, page_problems
from tests.health.conftest import CSV_VERSION, History
from tests.liveserver import demo_server

pytestmark = pytest.mark.browser
SIZES = {"wide": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def register_server(tmp_path_factory):
    with demo_server(tmp_path_factory.mktemp("register")) as server:
        yield server


@contextlib.contextmanager
def server_history(server):
    """The forum's services on the live server's own database, to set up what a journey starts
    from: a History (tests/health/conftest.py) with the demo's procurement lead filing, its risk
    lead rating and its executive deciding."""
    app = create_app({"DATABASE_URL": server.database_url, "INSTANCE_PATH": str(server.log.parent / "instance")})
    with app.app_context():
        session = app.extensions["forum.sessionmaker"]()
        try:
            people = {role: session.scalar(select(User).where(User.email == email)) for role, email in (
                ("filer", "procurement@example.com"), ("rater", "risk@example.com"), ("chair", "exec@example.com"))}
            yield History(session, people), session
        finally:
            session.close()


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
    page.get_by_role("link", name="Enterprise chat", exact=True).click()
    page.get_by_label("New version", exact=True).fill("2026-11")
    page.get_by_label("Note", exact=True).fill("Northwind's November release")
    page.get_by_role("button", name="Record the new version").click()
    page.get_by_text("Enterprise chat now runs 2026-11: 2 items about it moved to that version").wait_for()
    items = page.locator("section", has=page.get_by_role("heading", name="Items about it"))
    assert items.get_by_text("version 2026-11").count() == 2
    assert page.get_by_text("Northwind's November release").is_visible()


def test_a_new_version_flags_three_decided_items_at_once(register_page, register_server):
    now = clock.now()
    with server_history(register_server) as (history, session):
        system = systems.create_system(session, history.cast["rater"], systems.SystemData(
            name="Call transcription", owner_function="risk", vendor="Contoso Voice", model_name="cv-transcribe",
            status="production"), CSV_VERSION)
        session.commit()
        for n, title in enumerate(("Transcribe sales calls", "Transcribe support calls", "Transcribe board calls")):
            item = history.item(now - timedelta(days=10 - n), title=title, system=system.id)
            history.attach(item, now - timedelta(days=9 - n))
            history.decide(item, now - timedelta(days=5 - n))
        system_id = system.id

    page = register_page
    log_in(page, "exec@example.com")
    page.goto(f"/systems/{system_id}")
    assert page.get_by_text(re.compile("about this system needs? revalidation")).count() == 0
    page.get_by_label("New version", exact=True).fill("2027.01")
    page.get_by_label("Note", exact=True).fill("Contoso's January model")
    page.get_by_role("button", name="Record the new version").click()
    page.get_by_text("Call transcription now runs 2027.01: 3 items about it moved to that version").wait_for()
    page.get_by_text("3 decided items about this system need revalidation").wait_for()
    items = page.locator("section", has=page.get_by_role("heading", name="Items about it"))
    assert items.get_by_text("Revalidation required").count() == 3

    page.goto("/escalations")
    drifted = page.locator("section", has=page.get_by_role("heading", name="Decisions to revalidate"))
    assert "Call transcription: 3 decided items" in drifted.inner_text()
    drifted.get_by_role("link", name="Call transcription").click()
    page.get_by_role("heading", name="Call transcription", level=1).wait_for()
    page.goto("/")
    assert page.get_by_role("link", name="Call transcription").is_visible()


def test_an_admin_brings_the_items_filed_before_the_register_into_it(register_page):
    page = register_page
    log_in(page, "admin@example.com")
    page.get_by_role("link", name="bring them into the register").click()
    page.get_by_role("heading", name="Bring existing items into the register").wait_for()
    group = page.locator("section", has=page.get_by_role("heading", name="support-llm by Acme AI"))
    assert group.get_by_role("radio", name=re.compile("Customer-support assistant")).is_checked()
    group.get_by_role("button", name="Confirm this group").click()
    page.get_by_text(re.compile(r"\d+ items now follow Customer-support assistant\.")).wait_for()
    assert page.get_by_role("heading", name="support-llm by Acme AI").count() == 0
    log_out(page)

    log_in(page, "product@example.com")
    page.goto("/systems")
    page.get_by_role("link", name="Customer-support assistant", exact=True).click()
    items = page.locator("section", has=page.get_by_role("heading", name="Items about it"))
    assert items.get_by_text("Use-case approval: AI-drafted replies for tier-1 e-mail support").is_visible()


def test_an_auditor_reads_a_systems_obligations_report_and_exports_the_register(register_page):
    page = register_page
    log_in(page, "auditor@example.com")
    page.goto("/systems")
    page.get_by_label("Only systems with obligations not yet met").check()
    page.get_by_role("button", name="Apply filters").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV", exact=True).click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8"), newline="")))
    fraud = next(r for r in rows if r["name"] == "Card fraud scoring")
    assert (fraud["obligations_met"], fraud["obligations_applicable"]) == ("2", "5")

    page.get_by_role("link", name="obligations: 2 of 5 met for Card fraud scoring").click()
    page.get_by_role("heading", name="Obligations report: Card fraud scoring").wait_for()
    measure = page.get_by_role("row", name=re.compile("^Measure"))
    assert "Met — check again" in measure.inner_text()
    assert "tested on another version than the 4.2.0 in use" in measure.inner_text()
    assert "Open" in page.get_by_role("row", name=re.compile("^Map")).inner_text()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    lines = {r["obligation"]: r for r in csv.DictReader(io.StringIO(
        download.value.path().read_text(encoding="utf-8"), newline=""))}
    assert lines["measure"]["status"] == "check" and lines["govern"]["status"] == "met"
    measure.get_by_role("link").first.click()  # the evidence behind it
    page.get_by_text("4.1.0").first.wait_for()
    assert "/evidence/" in page.url


@pytest.mark.parametrize("size", sorted(SIZES))
def test_the_register_pages_are_accessible_and_fit_the_screen(browser, register_server, size):
    context = browser.new_context(base_url=register_server.url, viewport=SIZES[size])
    page = context.new_page()
    problems = []
    try:
        for user, paths in (("risk@example.com", ("/systems", "/systems/2", "/systems/6", "/systems/new",
                                                  "/systems/2/edit", "/systems/4/obligations", "/escalations",
                                                  "/systems/6/obligations/eu_ai_act/human_oversight")),
                            ("admin@example.com", ("/systems/grouping",))):
            log_in(page, user)
            for path in paths:
                assert page.goto(path).status == 200, path
                problems += page_problems(page, path, f"{size} {user.split('@')[0]} {path}")
            log_out(page)
    finally:
        context.close()
    assert not problems, "\n".join(problems)
