"""The inbox, the header's unread count, following from the item page, and the e-mail choices
on the settings page."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from forum.notify import service
from forum.notify.models import EmailOptOut, Notification
from forum.trail.models import Event
from tests.budgets import BUDGETS, count_statements


def _notify_n(db_session, user, n, start=0):
    for i in range(start, start + n):
        service.notify(db_session, [user], service.Message(
            "item_state", f"item:{i}", f"Note {i:03d}", f"/items/{i}", f"Body {i}"))
    db_session.commit()


def test_empty_inbox_says_so(client, login, people):
    login(people["auditor"])
    page = client.get("/inbox")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Nothing here yet" in html
    assert "Mark all read" not in html
    assert '<span class="unread-count">' not in html


def test_header_shows_the_unread_count_accessibly(client, login, people, db_session):
    _notify_n(db_session, people["risk"], 3)
    login(people["risk"])
    html = client.get("/items").get_data(as_text=True)
    link = re.search(r'<a class="button button-quiet inbox-link[^>]*>(.*?)</a>', html, re.S).group(1)
    text = re.sub(r"<[^>]+>", "", link)
    assert text == "Inbox, 3 unread"


def test_inbox_lists_newest_first_marks_unread_and_paginates(app, client, login, people, db_session):
    _notify_n(db_session, people["risk"], 25)
    login(people["risk"])
    first = client.get("/inbox").get_data(as_text=True)
    titles = re.findall(r"Note (\d{3})", first)
    assert titles[0] == "024" and len(set(titles)) == app.config["INBOX_PER_PAGE"]
    assert first.count('class="inbox-entry is-unread"') == 20
    assert "Page 1 of 2" in first
    second = client.get("/inbox?page=2").get_data(as_text=True)
    assert set(re.findall(r"Note (\d{3})", second)) == {f"{i:03d}" for i in range(5)}


def test_mark_one_read_and_mark_all_read(client, login, people, db_session):
    _notify_n(db_session, people["risk"], 3)
    login(people["risk"])
    ids = list(db_session.scalars(select(Notification.id).where(Notification.user_id == people["risk"].id)))
    response = client.post(f"/inbox/{ids[0]}/read")
    assert response.status_code == 302 and response.headers["Location"].startswith("/inbox")
    db_session.expire_all()
    assert db_session.get(Notification, ids[0]).read_at is not None
    assert db_session.get(Notification, ids[1]).read_at is None
    assert "Inbox<span class=\"visually-hidden\">,</span> <span class=\"unread-count\">2</span>" in \
        client.get("/inbox").get_data(as_text=True)
    client.post("/inbox/read")
    db_session.expire_all()
    assert all(db_session.get(Notification, i).read_at is not None for i in ids)
    html = client.get("/inbox").get_data(as_text=True)
    assert "0 unread of 3" in html and "is-unread" not in html


def test_someone_elses_notification_is_not_disclosed(client, login, people, db_session):
    _notify_n(db_session, people["risk"], 1)
    theirs = db_session.scalar(select(Notification.id).where(Notification.user_id == people["risk"].id))
    login(people["product"])
    assert client.post(f"/inbox/{theirs}/read").status_code == 404
    assert client.post("/inbox/999999/read").status_code == 404
    db_session.expire_all()
    assert db_session.get(Notification, theirs).read_at is None


def test_inbox_keeps_its_query_budget_whatever_the_data_size(app, client, login, people, db_session):
    _notify_n(db_session, people["risk"], 2)
    login(people["risk"])
    small = count_statements(app, lambda: client.get("/inbox"))
    _notify_n(db_session, people["risk"], 60, start=2)
    large = count_statements(app, lambda: client.get("/inbox"))
    assert small == large == BUDGETS["notify.inbox"]


def test_follow_and_unfollow_from_the_item_page(client, login, people, make_item, db_session):
    item = make_item(people["procurement"], status="open", title="Followable")
    login(people["auditor"])
    page = client.get(f"/items/{item.id}").get_data(as_text=True)
    assert "Follow this item" in page
    assert client.post(f"/items/{item.id}/follow").status_code == 302
    page = client.get(f"/items/{item.id}").get_data(as_text=True)
    assert "You follow this item" in page and "Unfollow" in page
    assert service.followed_item_ids(db_session, people["auditor"]) == {item.id}
    events = list(db_session.scalars(select(Event.kind).where(Event.subject == f"user:{people['auditor'].id}")))
    assert events[-1] == "user.followed_item"
    client.post(f"/items/{item.id}/follow")  # again: nothing written
    assert client.post(f"/items/{item.id}/unfollow").status_code == 302
    assert service.followed_item_ids(db_session, people["auditor"]) == set()
    kinds = list(db_session.scalars(select(Event.kind).where(Event.subject == f"user:{people['auditor'].id}")))
    assert kinds.count("user.followed_item") == 1 and kinds.count("user.unfollowed_item") == 1


def test_nobody_follows_a_draft_they_cannot_see(client, login, people, make_item):
    draft = make_item(people["procurement"], status="draft")
    login(people["product"])
    assert client.post(f"/items/{draft.id}/follow").status_code == 404


def test_settings_choose_which_kinds_come_by_email(client, login, people, db_session):
    login(people["risk"])
    html = client.get("/settings").get_data(as_text=True)
    assert html.count('name="kinds"') == 7 and html.count("checked") >= 7
    response = client.post("/settings/email", data={"kinds": ["item_state", "action_due"]})
    assert response.status_code == 302
    off = set(db_session.scalars(select(EmailOptOut.kind).where(EmailOptOut.user_id == people["risk"].id)))
    assert off == {"position_requested", "action_assigned", "meeting_published",
                   "evidence_gate_failed", "positions_missing"}
    event = db_session.scalars(select(Event).where(Event.subject == f"user:{people['risk'].id}")
                               .order_by(Event.seq.desc())).first()
    assert event.kind == "user.updated" and '"email_kinds"' in event.data_json
    html = client.get("/settings").get_data(as_text=True)
    assert re.search(r'value="item_state"[^>]*checked|checked[^>]*value="item_state"', html)
    assert not re.search(r'value="meeting_published"[^>]*checked|checked[^>]*value="meeting_published"', html)


def test_unknown_kind_is_refused_with_400(client, login, people):
    login(people["risk"])
    assert client.post("/settings/email", data={"kinds": ["nonsense"]}).status_code == 400


def test_the_account_history_names_follows_and_email_choices(db_session, people, make_item):
    from forum.admin.service import account_history

    item = make_item(people["procurement"], status="open")
    service.follow(db_session, people["risk"], item)
    service.unfollow(db_session, people["risk"], item)
    service.set_email_kinds(db_session, people["risk"], ["item_state"])
    db_session.commit()
    entries = account_history(db_session, people["risk"])
    assert [(e.label, e.note) for e in entries[1:]][:2] == [
        ("Stopped following an item", f"item #{item.id}"), ("Followed an item", f"item #{item.id}")]
    change = entries[0].changes[0]
    assert change.label == "E-mail by kind" and change.after == "item_state"


def test_the_inbox_filters_by_unread_and_kind_and_groups_by_item(client, login, people, db_session):
    user = people["risk"]
    for n in range(3):
        service.notify(db_session, [user], service.Message(
            "item_state", "item:7", f"Seven {n}", "/items/7", "Moved."))
    service.notify(db_session, [user], service.Message(
        "position_requested", "item:8", "Asked on eight", "/items/8", "Asked."))
    db_session.commit()
    service.mark_read(db_session, user, db_session.scalar(
        select(Notification.id).where(Notification.title == "Seven 0")))
    db_session.commit()
    login(user)

    html = client.get("/inbox").get_data(as_text=True)
    groups = re.findall(r'<section class="inbox-group" aria-label="([^"]+)">', html)
    assert groups == ["Asked on eight", "Seven 2"]  # newest first, item 7's three notices together
    assert "Mark these 2 read" in html  # one button for a group's unread notices

    unread = client.get("/inbox?show=unread").get_data(as_text=True)
    assert "Seven 0" not in unread and "Seven 1" in unread
    asked = client.get("/inbox?kind=position_requested").get_data(as_text=True)
    assert "Asked on eight" in asked and "Seven" not in asked
    assert client.get("/inbox?kind=nonsense").status_code == 400
    assert client.get("/inbox?show=maybe").status_code == 400

    response = client.post("/inbox/read/item:7?show=unread")
    assert response.status_code == 302 and response.headers["Location"].endswith("/inbox?show=unread")
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(Notification).where(
        Notification.subject == "item:7", Notification.read_at.is_(None))) == 0
    assert db_session.scalar(select(func.count()).select_from(Notification).where(
        Notification.subject == "item:8", Notification.read_at.is_(None))) == 1
