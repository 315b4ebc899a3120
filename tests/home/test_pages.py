"""Each role's home page shows what that person should look at first, within a query budget
that does not grow with the data."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.agenda.actions import complete_action, get_action
from forum.agenda.decisions import AmendmentData, amend_decision, get_decision
from forum.agenda.entries import add_entry
from forum.agenda.meetings import MeetingData, change_meeting_status, create_meeting
from forum.agenda.models import Action
from forum.audit import verify as audit
from forum.core import clock
from forum.home import service as home
from forum.home.service import involved_newest
from forum.trail.models import Event
from forum.weighing import comments, positions, ratings
from tests.budgets import BUDGETS, count_statements
from tests.health.conftest import CSV_VERSION
from tests.weighing.conftest import scores_for

DAY = timedelta(days=1)


def _html(client, url="/"):
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _section(html: str, heading: str) -> str:
    """The HTML from the heading ``heading`` to the next h2."""
    start = html.index(f">{heading}</h2>")
    end = html.find("<h2", start)
    return html[start:end if end != -1 else None]


def _stat(html: str, href: str) -> int:
    match = re.search(re.escape(f'href="{href}"') + r'><span class="stat-number">(\d+)</span>', html)
    assert match, f"no figure linking to {href}"
    return int(match.group(1))


def _rate(session, who, item, total):
    ratings.rate(session, who, item, ratings.RatingData(scores_for(total), "Weighed."))
    session.commit()


def _position(session, who, item, stance="support"):
    positions.take_position(session, who, item, positions.PositionData(stance, "Our view."))
    session.commit()


# ---------------------------------------------------------------------------- taking part
def test_the_items_i_take_part_in_are_those_i_filed_rated_took_a_position_on_commented_on_or_follow(
    db_session, make_user, make_item
):
    from forum.notify import service as notify

    me, other = make_user(function="procurement"), make_user(function="risk")
    filed = make_item(me, status="draft")
    rated, positioned, commented, untouched, followed = (make_item(other, status="open") for _ in range(5))
    notify.follow(db_session, me, followed)
    _rate(db_session, me, rated, 4)
    _position(db_session, me, positioned)
    comments.add_comment(db_session, me, commented, "A thought.")
    _rate(db_session, other, untouched, 9)
    comments.add_comment(db_session, other, untouched, "Someone else's thought.")
    db_session.commit()

    ids = set(db_session.scalars(involved_newest(me, [], 10)))

    assert ids == {filed.id, rated.id, positioned.id, commented.id, followed.id}
    assert set(db_session.scalars(involved_newest(other, [], 10))) == {
        rated.id, positioned.id, commented.id, untouched.id, followed.id}


def test_the_newest_items_i_take_part_in_come_from_each_kind_of_taking_part_newest_first(
    db_session, make_user, make_item
):
    """Each kind of taking part is walked newest first and the kinds are merged newest first up
    to the limit: a person commenting twice on one item, or filing and rating it, counts it once."""
    me, other = make_user(function="procurement"), make_user(function="risk")
    rated, old_filed, commented, filed = (
        make_item(other, status="open"), make_item(me, status="open"), make_item(other, status="open"),
        make_item(me, status="open"))
    _rate(db_session, me, rated, 4)
    _rate(db_session, me, filed, 6)
    for text in ("A thought.", "Another thought."):
        comments.add_comment(db_session, me, commented, text)
    db_session.commit()

    assert list(db_session.scalars(involved_newest(me, [], 1))) == [filed.id]
    assert list(db_session.scalars(involved_newest(me, [], 2))) == [filed.id, commented.id]
    assert list(db_session.scalars(involved_newest(me, [], 10))) == [filed.id, commented.id, old_filed.id, rated.id]


def test_drifted_items_i_take_part_in_are_counted_up_to_a_cap(
    client, login, db_session, make_user, history, monkeypatch
):
    me = make_user(function="procurement", name="Pat Procurement")
    now = clock.now()
    for n in range(3):
        item = history.item(now - 10 * DAY, status="open", title=f"Drifted {n}", model_version="2026.10")
        history.attach(item, now - 2 * DAY)
        comments.add_comment(db_session, me, item, "Watching this.")
    db_session.commit()

    shown, total, more = home.involved_drifted(db_session, me, now, limit=2, cap=10)
    assert [d.item.title for d in shown] == ["Drifted 2", "Drifted 1"] and (total, more) == (3, False)
    assert home.involved_drifted(db_session, me, now, limit=2, cap=3)[1:] == (3, True)
    login(me)
    drift = _section(_html(client), "Evidence that drifted")
    assert all(f"Drifted {n}" in drift for n in range(3)) and "more." not in drift and "At least" not in drift
    monkeypatch.setattr(home, "COUNT_CAP", 2)
    db_session.expire_all()
    comments.add_comment(db_session, me, shown[0].item, "Still watching.")  # a change: the cache moves on
    db_session.commit()
    drift = _section(_html(client), "Evidence that drifted")
    assert "At least 2 in all." in drift and "more." not in drift


# ----------------------------------------------------------------------------------- staff
def test_staff_home_lists_my_items_what_waits_for_my_function_my_actions_and_drifted_evidence(
    client, login, db_session, make_user, make_item, cast, history
):
    me = make_user(function="procurement", name="Pat Procurement")
    other = cast["rater"]  # risk
    make_item(me, status="draft", title="My draft")
    make_item(me, status="open", title="My open one")
    make_item(me, status="open", title="My other open one")
    make_item(other, status="open", title="Waiting for procurement")
    weighed = make_item(other, status="open", title="Procurement weighed in")
    _rate(db_session, me, weighed, 5)
    _position(db_session, me, weighed)
    half = make_item(other, status="open", title="Rated but no position")
    _rate(db_session, me, half, 5)
    make_item(other, status="draft", title="Someone's private draft")
    # evidence on an item I commented on turns stale when its model version moves on
    now = clock.now()
    drifted = history.item(now - 10 * DAY, status="open", title="Drifted and mine", model_version="2026.10")
    history.attach(drifted, now - 2 * DAY)
    comments.add_comment(db_session, me, drifted, "Watching this.")
    db_session.commit()
    elsewhere = history.item(now - 10 * DAY, status="open", title="Drifted, not mine", model_version="2026.10")
    history.attach(elsewhere, now - 2 * DAY)
    # a decision with an action for me and one for someone else
    decided = history.item(now - 30 * DAY, title="Decided with actions")
    history.decide(decided, now - 3 * DAY, actions=[
        ("Renegotiate the notice period", me, (now + 5 * DAY).date()),
        ("Not my action", other, (now + 5 * DAY).date()),
    ])
    login(me)

    html = _html(client)

    assert _stat(html, "/items?mine=1&amp;status=open") == 2
    assert _stat(html, "/items?mine=1&amp;status=draft") == 1
    assert "My open one" in _html(client, "/items?mine=1&status=open")
    mine = _section(html, "Items I filed")
    assert "My draft" in mine and "My open one" in mine and "Decided with actions" not in mine
    waits = _section(html, "Waiting for Procurement")
    assert "Waiting for procurement" in waits and "Rated but no position" in waits
    assert "Procurement weighed in" not in waits and "private draft" not in waits
    actions = _section(html, "My open actions")
    assert "Renegotiate the notice period" in actions and "Not my action" not in actions
    drift = _section(html, "Evidence that drifted")
    assert "Drifted and mine" in drift and "Drifted, not mine" not in drift
    assert f"tested model version {CSV_VERSION}, the item is now at 2026.10" in drift
    assert 'href="/health"' in html

    # The list of my actions is derived once per trail head: completing one shows at once.
    action = db_session.scalar(select(Action).where(Action.text == "Renegotiate the notice period"))
    done = client.post(f"/actions/{action.id}/completion", data={f"a{action.id}-note": "Signed."})
    assert done.status_code == 302
    html = _html(client)
    assert "Renegotiate the notice period" not in _section(html, "My open actions")
    assert "No follow-up action is waiting for you." in html


def test_staff_home_lists_my_newest_items_and_links_to_all_of_them(client, login, make_user, make_item):
    me = make_user(function="procurement", name="Pat Procurement")
    for n in range(home.LIST_SIZE + 3):
        make_item(me, status="open", title=f"Mine {n}")
    login(me)
    mine = _section(_html(client), "Items I filed")
    assert mine.count('class="item-title"') == home.LIST_SIZE and f"Mine {home.LIST_SIZE + 2}" in mine
    assert f"All {home.LIST_SIZE + 3} items I filed that are not closed" in mine


def test_staff_home_counts_the_items_waiting_for_my_function_up_to_a_cap(
        client, login, db_session, make_user, make_item, cast, monkeypatch):
    me = make_user(function="procurement", name="Pat Procurement")
    for n in range(home.LIST_SIZE + 2):
        make_item(cast["rater"], status="open", title=f"Unweighed {n}")
    login(me)
    waits = _section(_html(client), "Waiting for Procurement")
    assert waits.count('class="item-title"') == home.LIST_SIZE
    assert f"All {home.LIST_SIZE + 2} items waiting for your function" in waits
    monkeypatch.setattr(home, "COUNT_CAP", home.LIST_SIZE + 1)
    make_item(cast["rater"], status="open", title="One more")  # a change: the cache moves on
    waits = _section(_html(client), "Waiting for Procurement")
    assert f"At least {home.LIST_SIZE + 1} items are waiting for your function" in waits
    assert "All " not in waits and "One more" in waits


@pytest.mark.usefixtures("steady_minute")
def test_staff_home_keeps_both_item_lists_rendered_and_shows_a_new_item_at_once(
        app, client, login, make_user, make_item, cast):
    me = make_user(function="procurement", name="Pat Procurement")
    make_item(me, status="open", title="Filed by me")
    make_item(cast["rater"], status="open", title="Waits for procurement")
    login(me)
    cold = count_statements(app, lambda: client.get("/"))
    pages = []
    warm = count_statements(app, lambda: pages.append(_html(client)))
    # Both lists' rows come rendered from the derived cache: no item, rating, position or run is
    # read for them (forum.weighing.rows), and each list's ids and count are kept there too.
    assert warm == 2 < cold  # the user and the trail head (my items by status are kept too)
    assert "Filed by me" in _section(pages[0], "Items I filed")
    assert "Waits for procurement" in _section(pages[0], "Waiting for Procurement")
    open_count = re.compile(r'status=open"><span class="stat-number">(\d+)</span>')
    assert open_count.search(pages[0]).group(1) == "1"
    make_item(me, status="open", title="Filed just now")  # a trail event: the head moves
    page = _html(client)
    assert "Filed just now" in _section(page, "Items I filed")
    assert open_count.search(page).group(1) == "2"  # my counts by status moved with it


def test_staff_home_empty_states(client, login, make_user):
    login(make_user(function="risk"))
    html = _html(client)
    assert "You have no items in progress." in html
    assert "Your function has rated and taken a position on every item" in html
    assert "No follow-up action is waiting for you." in html
    assert "The evidence on your items is fresh and holds up." in html


# ------------------------------------------------------------------------------ executives
@pytest.mark.usefixtures("steady_minute")
def test_executive_home_shows_the_queue_by_tier_next_meeting_overdue_revalidation_and_divergence(
    app, client, login, db_session, make_user, make_item, cast, history
):
    chair, rater = cast["chair"], cast["rater"]
    staff = make_user(function="procurement")
    now = clock.now()
    for total in (14, 15):
        _rate(db_session, rater, make_item(staff, status="escalated"), total)
    make_item(staff, status="escalated")  # unrated
    make_item(staff, status="open", exposure=900_000)  # open, recommended by exposure, unrated
    make_item(staff, status="open", title="Quiet open item")  # not in the queue
    # divergence: procurement says tactical, risk strategic
    split = make_item(staff, status="open", title="Split opinions")
    _rate(db_session, staff, split, 2)
    _rate(db_session, rater, split, 14)
    # the next meeting: two entries, 35 of 30 minutes; a later one and a closed one are not "next"
    first, second = make_item(staff, status="escalated"), make_item(staff, status="escalated")
    meeting = create_meeting(db_session, chair, MeetingData("Forum in three days", now + 3 * DAY, 30))
    add_entry(db_session, chair, meeting, first.id, 15)
    add_entry(db_session, chair, meeting, second.id, 20)
    change_meeting_status(db_session, chair, meeting, "publish")
    create_meeting(db_session, chair, MeetingData("Forum in a month", now + 30 * DAY, 60))
    db_session.commit()
    # an overdue action, and a decided item whose evidence went stale after the decision (fresh
    # when decided, older than the 90 days of its tier now) …
    stale = history.item(now - 110 * DAY, model_version=CSV_VERSION, title="Decided on old evidence")
    history.attach(stale, now - 100 * DAY)
    history.decide(stale, now - 95 * DAY, actions=[("Send the drift report", staff, (now - 35 * DAY).date())])
    # … and one decided on evidence already stale then (another model version): nothing drifted
    knowingly = history.item(now - 30 * DAY, model_version="2026.10", title="Decided knowingly on stale evidence")
    history.attach(knowingly, now - 29 * DAY)
    history.decide(knowingly, now - 20 * DAY)
    fresh = history.item(now - 20 * DAY, model_version=CSV_VERSION, title="Decided on fresh evidence")
    history.attach(fresh, now - 3 * DAY)
    history.decide(fresh, now - 2 * DAY)
    login(chair)

    html = _html(client)

    # two escalated strategic items and the open split item (recommended: rated strategic)
    assert _stat(html, "/escalations?tier=strategic") == 3
    assert _stat(html, "/escalations?tier=operational") == 0
    assert _stat(html, "/escalations?tier=unrated") == 2
    assert "5 items escalated or recommended for escalation" in html
    unrated_queue = _html(client, "/escalations?tier=unrated")  # the figures link to the queue's filter
    assert unrated_queue.count('class="item-title"') == 2
    nxt = _section(html, "Next meeting")
    assert "Forum in three days" in nxt and "Forum in a month" not in nxt
    assert "2 items on the agenda, 35 of 30 minutes planned" in nxt and "5 minutes over" in nxt
    overdue = _section(html, "Overdue actions")
    assert "Send the drift report" in overdue and "Overdue" in overdue
    revalidation = _section(html, "Revalidation required")
    assert "Decided on old evidence" in revalidation and "Decided on fresh evidence" not in revalidation
    assert "Decided knowingly on stale evidence" not in revalidation
    divergence = _section(html, "Weight divergence")
    assert "Split opinions" in divergence and "Quiet open item" not in divergence

    # Seen again, every list and the next meeting's card come rendered from the derived cache:
    # the user and the trail head are all that is read. Completing the overdue action moves the
    # trail head, and the action leaves the list at once; so does a change to the next meeting.
    pages = []
    assert count_statements(app, lambda: pages.append(_html(client))) == 2
    assert "Send the drift report" in _section(pages[0], "Overdue actions")
    action_id = db_session.scalar(select(Action.id).where(Action.text == "Send the drift report"))
    complete_action(db_session, staff, get_action(db_session, action_id), "Sent.")
    db_session.commit()
    assert "Send the drift report" not in _section(_html(client), "Overdue actions")
    add_entry(db_session, chair, meeting, make_item(staff, status="escalated").id, 10)
    db_session.commit()
    assert "3 items on the agenda, 45 of 30 minutes planned" in _section(_html(client), "Next meeting")


def test_executive_home_empty_states(client, login, cast):
    login(cast["chair"])
    html = _html(client)
    assert "No meeting is planned." in html
    assert "No follow-up action is overdue." in html
    assert "The evidence behind every decision still holds." in html
    assert "No item shows weight divergence." in html


# -------------------------------------------------------------------------------- auditors
def test_auditor_home_shows_trail_size_head_verification_checkpoint_decisions_and_amendments(
    client, login, db_session, make_user, cast, history
):
    auditor = make_user(role="auditor", function=None, name="Ada Auditor")
    now = clock.now()
    item = history.item(now - 10 * DAY, title="Decided and amended", category="policy_exception")
    decision = history.decide(item, now - 5 * DAY)
    decision = get_decision(db_session, decision.id)
    amend_decision(db_session, cast["chair"], decision, AmendmentData(
        "approved_with_conditions", "Decided on the evidence.", "Quarterly review.",
        reason="The conditions were left out of the minutes."))
    db_session.commit()
    audit.run_verification(db_session, auditor)
    db_session.commit()
    audit.record_checkpoint(db_session, auditor, "Weekly checkpoint")
    db_session.commit()
    last = db_session.scalars(select(Event).order_by(Event.seq.desc()).limit(1)).one()
    login(auditor)

    html = _html(client)

    trail = _section(html, "Decision trail")
    assert f'<span class="stat-number">{last.seq}</span> events' in trail and last.hash in trail
    verification = _section(html, "Verification")
    # events: …, the verification (seq - 1, which checked the ones before it), the checkpoint
    # (seq, naming the head before it: the verification)
    assert "Chain intact" in verification and f"{last.seq - 2} events checked by Ada Auditor" in verification
    assert f"{last.seq - 1}:" in verification and "Weekly checkpoint" in verification
    decisions = _section(html, "Recent decisions")
    assert "Decided and amended" in decisions and "Amendment 2" in decisions and "Approved" in decisions
    amendments = _section(html, "Amendments")
    assert "1 decision corrected" in amendments and "The conditions were left out of the minutes." in amendments


def test_auditor_home_before_anything_was_verified_or_decided(client, login, make_user):
    login(make_user(role="auditor", function=None))
    html = _html(client)
    assert "The trail has not been verified yet." in html
    assert "No checkpoint recorded yet." in html
    assert "No decision has been recorded yet." in html
    assert "No decision has been amended." in html


# ----------------------------------------------------------------------------------- admins
def test_admin_home_summarises_the_accounts(client, login, make_user):
    admin = make_user(role="admin", function=None)
    make_user(function="risk")
    make_user(function="risk", active=False)
    make_user(role="auditor", function=None)
    login(admin)
    html = _html(client)
    assert re.search(r'<th scope="row">Staff</th><td>1</td><td>1</td>', html)
    assert re.search(r'<th scope="row">Administrator</th><td>1</td><td>0</td>', html) or "Admin" in html
    assert "3 active accounts, 1 deactivated; 3 functions." in html
    assert 'href="/admin/users"' in html and 'href="/health"' in html


def test_admin_home_shows_what_an_administrator_acts_on(client, login, make_user, make_item, db_session):
    from datetime import timedelta

    from forum.auth import service as accounts_service

    admin = make_user(role="admin", function=None, name="Ada Admin")
    accounts_service.invite_user(db_session, admin, accounts_service.NewUser(
        email="new.hire@example.com", display_name="Nia Newhire", role="staff", function="risk"),
        timedelta(days=3))
    leaver = make_user(function="risk", name="Lee Leaver")
    make_item(leaver, status="open", title="Still open")
    accounts_service.deactivate_user(db_session, admin, leaver.email)
    quiet = make_user(function="risk", name="Quinn Quiet")
    accounts_service.deactivate_user(db_session, admin, quiet.email)  # no open work: not listed
    db_session.commit()
    login(admin)
    html = _html(client)
    waiting = html[html.index("Waiting for their password"):html.index("Deactivated, with open work")]
    assert "Nia Newhire" in waiting and "1 active account cannot log in yet" in waiting
    work = html[html.index("Deactivated, with open work"):html.index("Recent account changes")]
    assert "Lee Leaver" in work and "1 item filed, still in play" in work and "Quinn Quiet" not in work
    changes = html[html.index("Recent account changes"):]
    assert re.search(r"Deactivated</strong>: <a [^>]*>Quinn Quiet</a>", changes)
    assert "Set-password link issued" in changes or "Account created" in changes
    assert "by <span title=\"" in changes and ">Ada Admin</span>" in changes  # by name, address on hover


def test_admin_home_empty_states(client, login, make_user):
    admin = make_user(role="admin", function=None)
    login(admin)
    html = _html(client)
    assert "Every active account has set its password." in html
    assert "No deactivated account owns open work." in html


# ---------------------------------------------------------------------------- query budgets
@pytest.mark.parametrize("role", ["staff", "executive", "auditor", "admin"])
def test_each_home_page_keeps_its_query_budget_whatever_the_data_size(
    app, client, login, db_session, make_user, make_item, cast, history, role
):
    staff, rater, chair = make_user(function="procurement"), cast["rater"], cast["chair"]
    auditor = make_user(role="auditor", function=None)
    viewer = {"staff": staff, "executive": chair, "auditor": auditor,
              "admin": make_user(role="admin", function=None)}[role]
    now = clock.now()

    def add(n):
        item = history.item(now - (40 + n) * DAY, title=f"Decided {n}", model_version=f"v{n}")
        history.attach(item, now - (30 + n) * DAY)
        _rate(db_session, rater, item, 3 + n % 12)
        comments.add_comment(db_session, staff, item, f"Comment {n}")
        db_session.commit()
        history.decide(item, now - (20 + n) * DAY, actions=[(f"Action {n}", staff, (now - (15 + n) * DAY).date())])
        split = make_item(staff, status="open", title=f"Split {n}", exposure=500_000)
        _rate(db_session, staff, split, 1)
        _rate(db_session, rater, split, 13)
        make_item(rater, status="escalated")
        audit.run_verification(db_session, auditor)
        db_session.commit()

    add(0)
    with clock.override(lambda: now - DAY):
        meeting = create_meeting(db_session, chair, MeetingData("Next", now + 2 * DAY, 60))
    db_session.commit()
    login(viewer)
    small = count_statements(app, lambda: client.get("/"))
    for n in range(1, 8):
        add(n)
    add_entry(db_session, chair, meeting, make_item(rater, status="escalated").id, 10)
    db_session.commit()
    large = count_statements(app, lambda: client.get("/"))
    assert small == large
    budget = BUDGETS["core.home"] if role == "staff" else BUDGETS[f"core.home.{role}"]
    assert large <= budget, large
