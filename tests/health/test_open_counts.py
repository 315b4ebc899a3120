"""The open items' counts kept as tallies (forum.health.tallies.open_counts: the escalation queue
by tier, the items whose tiers diverge, the decided items whose evidence drifted) against the same
counts read from the items: through the demo's history and the changes that move them, at moments
on both sides of evidence going stale; under another escalation threshold; and on the executive
home page. (tests/weighing/test_rules_agree.py checks them on generated items too.)"""

from __future__ import annotations

import re
from datetime import UTC, date, timedelta

from sqlalchemy import func, select, update

from forum.agenda import actions as agenda_actions
from forum.agenda.models import Action, AgendaEntry, Decision
from forum.auth.models import User
from forum.core import clock
from forum.health import tallies
from forum.health.models import HealthTally
from forum.items import service as items
from forum.items.models import DecisionItem
from forum.systems.models import AISystem
from forum.weighing import checks, positions, standing
from forum.weighing.queries import divergence_condition
from forum.weighing.queue import queue_condition
from forum.weighing.rules import RULES, ForumSettings, Scale
from forum_seed import demo as seed

SETTINGS = ForumSettings()


def counted_from_items(session, settings, now) -> tallies.OpenCounts:
    """The counts as the pages read them without the tallies: over every item."""
    rank = Scale().rank()
    return tallies.OpenCounts(
        queue={(status, r): n for status, r, n in session.execute(
            select(DecisionItem.status, rank, func.count()).where(queue_condition("", settings, now))
            .group_by(DecisionItem.status, rank))},
        divergent=session.scalar(select(func.count()).where(
            DecisionItem.status.in_(checks.WEIGHING_STATUSES), divergence_condition())),
        revalidation=session.scalar(select(func.count()).where(
            DecisionItem.status.in_(("decided", "closed")), standing.evidence_drifted(now))),
        by_status=dict(session.execute(select(DecisionItem.status, func.count()).group_by(DecisionItem.status)).all()),
        revalidation_by_system=dict(session.execute(
            select(DecisionItem.system_id, func.count()).where(
                DecisionItem.status.in_(("decided", "closed")), standing.evidence_drifted(now),
                DecisionItem.system_id.is_not(None)).group_by(DecisionItem.system_id)).all()),
        actions_by_owner=dict(session.execute(
            select(Action.owner_id, func.count()).where(Action.done.is_(False)).group_by(Action.owner_id)).all()),
        actions_overdue=session.scalar(select(func.count()).where(
            Action.done.is_(False), Action.due_on < now.astimezone(UTC).date())),
    )


def _folded_on(session) -> date:
    """The day the open counts by day were folded up to (tallies.fold_past_days)."""
    return date.fromordinal(session.scalar(select(HealthTally.n).where(
        HealthTally.metric == tallies.FOLDED[0], HealthTally.period == "", HealthTally.key == "")))


def _assert_kept_counts_hold(session, moments) -> None:
    """At each moment the kept counts are the items' — or None before the day they were folded
    up to, which they no longer tell (the pages count from the items then)."""
    folded_on = _folded_on(session)
    for moment in moments:
        kept = tallies.open_counts(session, SETTINGS, moment)
        if moment.astimezone(UTC).date() < folded_on:
            assert kept is None, moment
        else:
            assert kept == counted_from_items(session, SETTINGS, moment), moment


def _moments(session, now) -> list:
    """Now, days ahead, and a second either side of every moment some evidence goes stale."""
    stale = session.scalars(select(DecisionItem.evidence_stale_at).where(DecisionItem.evidence_stale_at.is_not(None)))
    return sorted({now, *(now + timedelta(days=d) for d in (1, 31, 91, 181, 400)),
                   *(at + timedelta(seconds=d) for at in stale for d in (-1, 0, 1))})


def test_the_kept_counts_match_the_items_through_the_demo_and_its_changes(db_session, make_user):
    seed.load_demo(db_session)
    db_session.commit()
    # the decided items brought into the register (a change of system moves their counts)
    systems = db_session.scalars(select(AISystem.id).order_by(AISystem.id)).all()
    for item, system_id in zip(db_session.scalars(select(DecisionItem).where(
            DecisionItem.status.in_(("decided", "closed"))).order_by(DecisionItem.id)), systems, strict=False):
        item.system_id = system_id
    db_session.commit()
    now = clock.now()
    kept = tallies.open_counts(db_session, SETTINGS, now)
    assert kept is not None and kept.queue and kept.divergent and kept.actions_by_owner  # the demo moves each …
    assert _folded_on(db_session) == now.astimezone(UTC).date()  # the demo's changes folded up to today
    later = [tallies.open_counts(db_session, SETTINGS, moment) for moment in _moments(db_session, now)]
    # … its decided items' evidence goes stale in time
    assert any(counts and counts.revalidation_by_system for counts in later)
    _assert_kept_counts_hold(db_session, _moments(db_session, now))

    # Changes that move an item into the queue or out of it: an exposure above the threshold,
    # an objection, a status change.
    quiet = [i for i in db_session.scalars(select(DecisionItem).where(DecisionItem.status == "open"))
             if not any(rule.holds(i, None, SETTINGS) for rule in RULES)]
    assert len(quiet) >= 2, "the demo has open items no rule holds on"
    first, second = quiet[:2]
    filer = db_session.get(User, first.filer_id)
    items.update_item(db_session, filer, first, items.ItemData(**{
        **items.current_values(first), "exposure": SETTINGS.exposure_threshold + 1}), first.version)
    objector = make_user(function="risk")
    positions.take_position(db_session, objector, second, positions.PositionData("object", "Not ready."))
    db_session.commit()
    # … and a follow-up action done, another moved to someone else and a day later
    done, moved = db_session.scalars(select(Action).where(Action.done.is_(False)).order_by(Action.id).limit(2))
    agenda_actions.complete_action(db_session, db_session.get(User, done.owner_id),
                                   agenda_actions.get_action(db_session, done.id), "Done.")
    moved.owner_id, moved.due_on = objector.id, moved.due_on + timedelta(days=40)
    db_session.commit()
    after = tallies.open_counts(db_session, SETTINGS, now)
    assert sum(after.queue.values()) == sum(kept.queue.values()) + 2
    assert sum(after.actions_by_owner.values()) == sum(kept.actions_by_owner.values()) - 1
    assert after.actions_by_owner[objector.id] == 1
    _assert_kept_counts_hold(db_session, _moments(db_session, now))
    # … and the whole history counted again gives the same tallies
    stored = tallies.stored(db_session)
    tallies.recount(db_session)
    db_session.commit()
    assert tallies.stored(db_session) == stored


def test_the_days_gone_by_are_folded_by_the_first_change_of_a_day_and_the_counts_stay_right(db_session, make_user):
    seed.load_demo(db_session)
    db_session.commit()
    now = clock.now()
    dated = select(func.count()).where(HealthTally.metric.in_(tallies.FOLDING), HealthTally.period > "")
    assert db_session.scalar(dated.where(HealthTally.period > now.date().isoformat()))  # days still to come
    later = now + timedelta(days=400)  # past every demo item's stale day
    with clock.override(lambda: later):
        assert tallies.open_counts(db_session, SETTINGS, later) == counted_from_items(db_session, SETTINGS, later)
        # the first change that day folds the days gone by into period "" …
        item = db_session.scalars(select(DecisionItem).where(DecisionItem.status == "open")).first()
        positions.take_position(db_session, make_user(function="risk"), item, positions.PositionData("object", "No."))
        db_session.commit()
        assert _folded_on(db_session) == later.date()
        assert not db_session.scalar(dated.where(HealthTally.period < later.date().isoformat()))
        # … and the counts read the same, there and from a history counted again
        assert tallies.open_counts(db_session, SETTINGS, later) == counted_from_items(db_session, SETTINGS, later)
        assert tallies.stored(db_session)[0] == tallies.count_history(db_session)[0]
    # a moment before the day folded up to: the kept counts no longer tell it
    assert tallies.open_counts(db_session, SETTINGS, now) is None


def _queue_line(client) -> str:
    page = client.get("/").get_data(as_text=True)
    return page.split('id="queue-heading"', 1)[1].split("</p>", 1)[0]


def test_the_executive_home_page_and_the_queue_read_the_kept_counts(app, client, login, make_user, db_session):
    seed.load_demo(db_session)
    db_session.commit()
    total = sum(counted_from_items(db_session, SETTINGS, clock.now()).queue.values())
    login(make_user(role="executive", function=None))
    assert f"{total} items escalated or recommended" in _queue_line(client)
    # A tally moved by hand (no item changed): the page shows it, so it read no item to count.
    db_session.execute(update(HealthTally).where(HealthTally.metric == tallies.QUEUE, HealthTally.period == "",
                                                 HealthTally.key == "escalated:2").values(n=HealthTally.n + 3))
    db_session.commit()
    later = clock.now() + timedelta(minutes=1)
    with clock.override(lambda: later):  # past the kept result's minute
        assert f"{total + 3} items escalated or recommended" in _queue_line(client)
        # the queue's own page counts from them too, by tier as well
        strategic = sum(n for (_status, rank), n in counted_from_items(db_session, SETTINGS, later).queue.items()
                        if rank == 2)
        assert f"{total + 3} items in the queue." in client.get("/escalations").get_data(as_text=True)
        assert f"{strategic + 3} items in the queue match" in client.get(
            "/escalations?tier=strategic").get_data(as_text=True)
        # … and by status (the tally moved by hand is the escalated items' one)
        escalated = db_session.scalar(select(func.count()).where(DecisionItem.status == "escalated"))
        assert f"{escalated + 3} items in the queue match" in client.get(
            "/escalations?status=escalated").get_data(as_text=True)
        # a filter they do not tell (diverging tiers) counts the items
        divergent = db_session.scalar(select(func.count()).where(
            queue_condition("", SETTINGS, later), divergence_condition()))
        assert f"{divergent} item{'' if divergent == 1 else 's'} in the queue match" in client.get(
            "/escalations?divergent=y").get_data(as_text=True)


def test_the_action_counts_on_the_home_page_and_the_actions_page_are_the_kept_ones(
        client, login, make_user, db_session):
    seed.load_demo(db_session)
    db_session.commit()
    executive = make_user(role="executive", function=None)
    late, mine = db_session.scalars(select(Action).where(Action.done.is_(False)).order_by(Action.id).limit(2))
    late.due_on = clock.now().date() - timedelta(days=3)  # an action overdue (moved there: counted so)
    mine.owner_id = executive.id  # and one the executive owns
    db_session.commit()
    counted = counted_from_items(db_session, SETTINGS, clock.now())
    assert counted.actions_overdue
    assert tallies.open_counts(db_session, SETTINGS, clock.now()) == counted
    # Counts moved by hand (no action changed): the pages show them, so they counted no action.
    tallies.add(db_session, tallies.ACTIONS_DUE, "", "", 7)
    tallies.add(db_session, tallies.OPEN_ACTIONS, "", str(executive.id), 9)
    db_session.commit()
    login(executive)
    later = clock.now() + timedelta(minutes=1)
    with clock.override(lambda: later):  # past the kept results' minute
        home = client.get("/").get_data(as_text=True)
        assert f"All {counted.actions_overdue + 7} overdue actions" in home
        assert "All 10 of my open actions" in home
        everyone = sum(counted.actions_by_owner.values()) + 9
        assert f"· {everyone} actions</p>" in client.get("/actions").get_data(as_text=True)
        assert f"· {counted.actions_overdue + 7} actions</p>" in client.get("/actions?overdue=1").get_data(as_text=True)


def _item_count(client, url: str = "/items") -> int:
    found = re.search(r"(\d+) items?(?: match the filters)?, newest first", client.get(url).get_data(as_text=True))
    assert found, url
    return int(found.group(1))


def test_the_item_list_counts_from_the_kept_counts_with_the_viewer_s_own_drafts(
        app, client, login, make_user, db_session):
    """The item list's count, unfiltered or by status, comes from the kept counts by status: the
    items past draft, with the drafts the viewer may see (their own; every draft for an
    auditor). A filter the kept counts do not tell counts the items."""
    seed.load_demo(db_session)
    db_session.commit()
    staff = make_user(function="product")
    items.create_item(db_session, staff, items.ItemData(title="My draft", category="vendor_selection",
                                                        function="product"))
    db_session.commit()
    by_status = counted_from_items(db_session, SETTINGS, clock.now()).by_status
    assert tallies.open_counts(db_session, SETTINGS, clock.now()).by_status == by_status
    past_draft = sum(n for status, n in by_status.items() if status != "draft")
    assert by_status["draft"] > 1  # the demo's drafts are others'
    login(staff)
    assert _item_count(client) == past_draft + 1
    assert _item_count(client, "/items?status=open") == by_status["open"]
    assert _item_count(client, "/items?status=draft") == 1
    # Tallies moved by hand (no item changed): the pages show them, so they read no item to count.
    for status in ("open", "draft"):
        db_session.execute(update(HealthTally).where(HealthTally.metric == tallies.ITEMS, HealthTally.period == "",
                                                     HealthTally.key == status).values(n=HealthTally.n + 5))
    db_session.commit()
    later = clock.now() + timedelta(minutes=1)
    with clock.override(lambda: later):  # past the kept results' minute
        assert _item_count(client) == past_draft + 5 + 1  # others' drafts stay hidden, counted or not
        assert _item_count(client, "/items?status=open") == by_status["open"] + 5
        assert _item_count(client, "/items?status=draft") == 1  # one's own drafts: counted from the items
        assert _item_count(client, "/items?category=vendor_selection") == db_session.scalar(
            select(func.count()).where(DecisionItem.category == "vendor_selection",
                                       (DecisionItem.status != "draft") | (DecisionItem.filer_id == staff.id)))
        login(make_user(role="auditor", function=None))
        assert _item_count(client) == sum(by_status.values()) + 10  # every draft too


def test_under_another_escalation_threshold_the_counts_come_from_the_items_until_counted_again(
        app_config, db_session, client, login, make_user):
    from forum.app import create_app
    from forum.core import db

    seed.load_demo(db_session)
    db_session.commit()
    lower = ForumSettings(exposure_threshold=1_000)
    assert tallies.open_counts(db_session, lower, clock.now()) is None  # counted under 250,000
    other = create_app({**app_config, "ESCALATION_EXPOSURE_THRESHOLD": 1_000})
    try:
        with other.app_context(), db.session_scope(other) as session:
            assert not tallies.is_counted(session)
            expected = counted_from_items(session, lower, clock.now())
            assert expected != counted_from_items(session, SETTINGS, clock.now())  # the threshold matters here
            assert tallies.ensure_counted(session)  # as `forum db upgrade` or the health page does
        with other.app_context(), db.session_scope(other) as session:
            assert tallies.open_counts(session, lower, clock.now()) == expected
    finally:
        db.get_engine(other).dispose()


def test_settling_a_change_reads_the_items_open_actions_through_their_entries(db_session):
    """The open actions of the items a change touched are found from those items' agenda entries,
    not by SQLite walking every open action of the organisation (the (done, due_on) index)."""
    from tests.budgets import sqlite_plan, statements_of

    seed.load_demo(db_session)
    db_session.commit()
    item_id = db_session.scalar(select(AgendaEntry.item_id).join(Decision, Decision.entry_id == AgendaEntry.id)
                                .join(Action, Action.decision_id == Decision.id).where(Action.done.is_(False)).limit(1))
    statements = statements_of(db_session.bind, lambda: tallies.refresh_items(db_session, [item_id]))
    actions = [(s, p) for s, p in statements if "FROM agenda_entries JOIN decisions" in s]
    assert len(actions) == 1
    if db_session.bind.dialect.name == "sqlite":  # PostgreSQL plans by its statistics
        plan = sqlite_plan(db_session, *actions[0])
        assert "ix_decision_actions_open_due" not in plan and plan.startswith("SEARCH agenda_entries"), plan
