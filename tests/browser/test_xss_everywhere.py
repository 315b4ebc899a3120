"""The XSS corpus (tests/browser/xss.py) typed into every free-text field a person can write
besides the item's own (tests/browser/test_journeys.py does those): comments, rating reasons,
position rationales, escalation reasons, evidence files (file name, suite, model, tags and the
failing cases' texts), meeting titles, conflict reasons, decision rationales and conditions,
action texts and completion notes, amendment reasons, display names, API token names, audit
checkpoint notes, function names, and the filters that echo what was typed. Every page that
shows them is rendered in Chromium and must stay inert: no dialog, no injected element, no
handler attribute, no javascript: URL.

The tests run in file order on the session's `forum demo` server with demo users the other
journeys leave alone, and hand the objects on in ``SWEEP``."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, log_out
from tests.browser.xss import assert_inert, payload

pytestmark = pytest.mark.browser

SWEEP: dict[str, str] = {}
STAFF = "priya.shah@example.com"  # procurement
EXECUTIVE = "cfo@example.com"
OTHER_EXECUTIVE = "exec@example.com"


def needs(*keys: str) -> None:
    missing = [k for k in keys if k not in SWEEP]
    if missing:
        pytest.skip(f"an earlier step did not get as far as {', '.join(missing)}")


def shows(page, marker: str) -> None:
    """The field's text reached the page (as text), so the inertness check is worth something."""
    expect(page.locator("body")).to_contain_text(marker)


def visit(page, url: str, *markers: str) -> None:
    page.goto(url)
    for marker in markers:
        shows(page, marker)
    assert_inert(page, url)


def evidence_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["case_id", "passed", "tags", "category", "input", "expected", "output", "reason",
                     "model", "model_version", "suite"])
    for n, passed in enumerate(["false", "true", "error", "false"], start=1):
        writer.writerow([
            payload(f"XSS-case{n}", 200), passed, payload("XSS-tag", 80).replace("\n", " ") + ";edge-case",
            "edge-case", payload("XSS-input"), payload("XSS-expected"), payload("XSS-output"),
            payload("XSS-reason"), payload("XSS-model", 200), payload("XSS-modelversion", 80),
            payload("XSS-suite", 200),
        ])
    return out.getvalue().encode()


def test_staff_fields_render_inert(page):
    log_in(page, STAFF)
    # display name first: it then shows on everything this person writes
    page.goto("/settings")
    page.get_by_label("Display name").fill(payload("XSS-name", 120))
    page.get_by_role("button", name="Save the name").click()
    visit(page, "/settings", "XSS-name")

    page.goto("/settings/tokens")
    page.get_by_label("Name", exact=True).fill(payload("XSS-token", 80))
    page.get_by_role("checkbox").first.check()
    page.get_by_role("button", name="Create token").click()
    visit(page, "/settings/tokens", "XSS-token")

    page.goto("/items/new")
    page.get_by_label("Title").fill("XSS sweep: every free-text field")
    page.get_by_label("Category").select_option(label="Vendor selection")
    page.get_by_label("Model version").fill("1.0")
    page.get_by_role("button", name="Save draft").click()
    page.get_by_role("button", name="Submit to the forum").click()
    SWEEP["item"] = page.url

    page.get_by_label("Comment", exact=True).fill(payload("XSS-comment"))
    page.get_by_role("button", name="Add the comment").click()
    visit(page, SWEEP["item"], "XSS-comment")
    page.get_by_role("link", name=re.compile(r"^Edit comment")).click()
    page.get_by_label("Comment", exact=True).fill(payload("XSS-edited"))
    page.get_by_role("button", name="Save the comment").click()
    visit(page, SWEEP["item"], "XSS-edited")

    weight = page.get_by_role("region", name="Strategic weight")
    weight.get_by_text("the weight for").click()
    for group in ["Financial exposure", "Regulatory & compliance exposure", "Customer & brand impact",
                  "Irreversibility", "Vendor dependency / lock-in", "Data sensitivity"]:
        weight.get_by_role("group", name=group).get_by_role("radio").nth(1).check()
    weight.get_by_label("Reason").fill(payload("XSS-rating", 2000))
    weight.get_by_role("button", name="Save the rating").click()

    positions = page.get_by_role("region", name="Positions")
    positions.get_by_text("the position of").click()
    positions.get_by_role("group", name="Stance").get_by_label("Concerns", exact=True).check()
    positions.get_by_label("Rationale").fill(payload("XSS-position", 2000))
    positions.get_by_role("button", name="Save the position").click()
    visit(page, SWEEP["item"], "XSS-rating", "XSS-position")

    evidence = page.get_by_role("region", name="Evidence from model tests")
    evidence.get_by_label("Result file").set_input_files(files=[{
        "name": "<img src=x onerror=alert('xss-file')> XSS-file.csv", "mimeType": "text/csv",
        "buffer": evidence_csv(),
    }])
    evidence.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("XSS-suite")
    SWEEP["run"] = page.url
    assert_inert(page, SWEEP["run"])
    for marker in ("XSS-file", "XSS-model", "XSS-tag", "XSS-case1", "XSS-input", "XSS-expected",
                   "XSS-output", "XSS-reason"):
        shows(page, marker)
    for details in page.locator("main details").all():  # the long case texts are folded: open them all
        details.locator("summary").click()
    assert_inert(page, SWEEP["run"] + " (cases unfolded)")
    visit(page, SWEEP["item"] + "/evidence", "XSS-suite")

    page.goto(SWEEP["item"])
    escalation = page.get_by_role("region", name="Escalation")
    escalation.get_by_text("Escalate to the executives").click()
    escalation.get_by_label("Reason for escalating").fill(payload("XSS-escalation", 2000))
    escalation.get_by_role("button", name="Escalate").click()
    visit(page, SWEEP["item"], "XSS-escalation", "XSS-name")
    visit(page, "/escalations", "XSS-escalation")
    visit(page, "/items", "XSS sweep")
    visit(page, "/")
    log_out(page)


def test_executive_fields_render_inert(page):
    needs("item")
    log_in(page, EXECUTIVE)
    page.goto("/meetings/new")
    page.get_by_label("Title").fill(payload("XSS-meeting", 200))
    page.get_by_label("Starts at (UTC)").fill(f"{date.today() + timedelta(days=3)}T09:00")
    page.get_by_role("button", name="Plan the meeting").click()
    SWEEP["meeting"] = page.url
    queue = page.get_by_label("Item from the escalation queue", exact=True)
    queue.select_option(queue.locator("option", has_text="XSS sweep").get_attribute("value"))
    presenter = page.get_by_label("Presenter").first
    presenter.select_option(presenter.locator("option", has_text="XSS-name").get_attribute("value"))
    page.get_by_role("button", name="Add to the agenda").click()
    page.get_by_role("button", name="Publish the agenda").click()
    visit(page, SWEEP["meeting"], "XSS-meeting", "XSS-name")
    log_out(page)

    # another executive declares a conflict of interest, with a reason
    log_in(page, OTHER_EXECUTIVE)
    page.goto(SWEEP["meeting"])
    page.get_by_role("link", name=re.compile(r"^Time box, presenter, conflict of interest")).first.click()
    page.get_by_label("Your conflict of interest").fill(payload("XSS-conflict", 500))
    page.get_by_role("button", name="Declare and recuse myself").click()
    visit(page, SWEEP["meeting"], "XSS-conflict")
    log_out(page)

    log_in(page, EXECUTIVE)
    visit(page, SWEEP["meeting"] + "/pack", "XSS-meeting", "XSS-escalation", "XSS-rating", "XSS-position")
    page.goto(SWEEP["meeting"])
    page.get_by_role("button", name="Start the meeting").click()
    decide = page.get_by_role("region", name="Record the decision")
    decide.get_by_label("Outcome").select_option(label="Approved with conditions")
    decide.get_by_label("Rationale").fill(payload("XSS-rationale"))
    decide.get_by_label("Conditions").fill(payload("XSS-conditions"))
    decide.get_by_role("group", name="Deciders present").get_by_role("checkbox").first.check()
    decide.get_by_label("Action", exact=True).first.fill(payload("XSS-action", 500))
    owner = decide.get_by_label("Owner").first
    owner.select_option(owner.locator("option", has_text="XSS-name").get_attribute("value"))
    decide.get_by_label("Due on").first.fill(str(date.today() + timedelta(days=14)))
    decide.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_text("Decision recorded")).to_be_visible()
    visit(page, SWEEP["meeting"], "XSS-rationale", "XSS-conditions", "XSS-action")

    page.get_by_role("link", name="Amend this decision").click()
    page.get_by_label("Rationale").fill(payload("XSS-amended"))
    page.get_by_label("Reason for the amendment").fill(payload("XSS-amendment"))
    page.get_by_role("button", name="Record the amendment").click()
    expect(page.get_by_text("Amendment recorded")).to_be_visible()
    visit(page, SWEEP["meeting"], "XSS-amended", "XSS-amendment")
    visit(page, "/decisions", "XSS-amended")
    visit(page, "/meetings", "XSS-meeting")
    visit(page, "/actions", "XSS-action")
    visit(page, SWEEP["item"], "XSS-amended", "XSS-action")
    SWEEP["decided"] = "yes"
    log_out(page)


def test_the_action_owners_note_renders_inert(page):
    needs("decided")
    log_in(page, STAFF)
    page.goto("/actions")
    mine = page.get_by_role("region", name="My open actions")
    row = mine.get_by_role("listitem").filter(has_text="XSS-action")
    row.get_by_label("How it was done").fill(payload("XSS-done"))
    row.get_by_role("button", name=re.compile("^Mark done")).click()
    expect(page.get_by_text("Action marked done.")).to_be_visible()
    assert_inert(page, "/actions after marking done")
    visit(page, SWEEP["item"], "XSS-done")
    SWEEP["done"] = "yes"
    log_out(page)


def test_auditor_fields_filters_and_raw_events_render_inert(page):
    needs("decided")
    log_in(page, "auditor@example.com")
    page.goto("/trail/verify")
    page.get_by_label("Note").fill(payload("XSS-checkpoint", 500))
    page.get_by_role("button", name="Record the current head as a checkpoint").click()
    visit(page, "/trail/verify", "XSS-checkpoint")
    visit(page, "/trail", "XSS")

    # filters echo what was typed into them
    for query in ({"text": payload("XSS-filter", 200)}, {"actor": payload("XSS-actor", 254)},
                  {"subject": payload("XSS-subject", 80)}):
        url = "/trail?" + urlencode(query)
        page.goto(url)
        assert_inert(page, url)

    timeline = SWEEP["item"] + "/timeline"
    visit(page, timeline, "XSS-comment", "XSS-rationale")
    seqs = sorted({int(m) for m in re.findall(r'href="/trail/(\d+)"', page.content())})
    assert len(seqs) >= 8, seqs
    for seq in seqs:  # every raw event of the item, with its data pretty-printed
        visit(page, f"/trail/{seq}")
    log_out(page)


def test_a_refused_login_echoes_the_address_inert(page):
    page.goto("/login")
    page.get_by_label("E-mail address").fill(payload("XSS-login", 254).replace("\n", ""))
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Log in").wait_for()
    assert_inert(page, "/login after a refused log-in")


def test_admin_fields_render_inert(page):
    log_in(page, "admin@example.com")
    page.goto("/admin/users/new")
    page.get_by_label("E-mail address").fill("xss.sweep@example.com")
    page.get_by_label("Display name").fill(payload("XSS-newuser", 120))
    page.get_by_label("Role").select_option(label="Auditor")
    page.get_by_role("button", name="Create the account").click()
    shows(page, "XSS-newuser")
    assert_inert(page, page.url)

    page.goto("/admin/functions")
    page.get_by_label("Key").fill("xss-sweep")
    page.get_by_label("Name", exact=True).fill(payload("XSS-function", 80))
    page.get_by_role("button", name="Add the function").click()
    visit(page, "/admin/functions", "XSS-function")

    url = "/admin/users?" + urlencode({"q": payload("XSS-search", 254)})
    page.goto(url)
    assert_inert(page, url)
    visit(page, "/admin/users", "XSS-newuser", "XSS-name")
    log_out(page)


@pytest.mark.parametrize("email", ["risk@example.com", OTHER_EXECUTIVE])
def test_the_pages_that_gather_everything_render_inert_for_other_readers(page, email):
    needs("done")
    log_in(page, email)
    for url in ("/", "/items", "/escalations", "/meetings", "/decisions", "/actions",
                SWEEP["item"], SWEEP["item"] + "/evidence", SWEEP["run"], SWEEP["meeting"],
                SWEEP["meeting"] + "/pack", "/items/new"):
        visit(page, url)
    log_out(page)


@pytest.mark.parametrize("html", [
    "<img src=x onerror=\"console.log('x')\">",
    "<b id=injected>x</b>",
    "<a href=\"jav&#x09;ascript:void(0)\">tab</a>",
    "<iframe></iframe>",
    "<script>console.log(1)</script>",
    "<form action=\"javascript:void(0)\"></form>",
])
def test_the_inertness_check_catches_each_kind_of_active_content(page, html):
    """The check would notice what it is there to notice (on a page without the forum's CSP)."""
    page.set_content(f"<!doctype html><title>t</title><main>{html}</main>")
    with pytest.raises(AssertionError):
        assert_inert(page, "a page with active content")


def test_the_inertness_check_catches_a_dialog(page):
    page.set_content("<!doctype html><title>t</title><script>alert('fired')</script>")
    assert page.dialogs == ["fired"]
    with pytest.raises(AssertionError, match="a dialog fired"):
        assert_inert(page, "a page that alerts")
