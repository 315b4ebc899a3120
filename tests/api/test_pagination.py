"""Cursor pagination of GET /api/v1/items never repeats or skips an item while others are filed.

Items filed during a walk are newer than every page already read, so they sort before the
walk's position; the items that existed when the walk began are each seen exactly once.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from forum.core import clock
from forum.items import service as items


def _walk(api, limit: int, between=None) -> list[int]:
    seen, cursor = [], None
    while True:
        page = api.get(f"/api/v1/items?limit={limit}" + (f"&cursor={cursor}" if cursor else ""))
        assert page.status_code == 200, page.get_json()
        body = page.get_json()
        seen += [i["id"] for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
        if between:
            between()


def test_items_filed_between_pages_cause_no_gaps_or_repeats(api_as, staff, make_item):
    existing = [make_item(staff, status="open", title=f"Existing {n}").id for n in range(23)]
    filed = []

    def file_two():
        for _ in range(2):
            filed.append(make_item(staff, status="open", title="Filed during the walk").id)

    seen = _walk(api_as(staff), limit=4, between=file_two)
    assert len(seen) == len(set(seen)), "an item was returned twice"
    assert set(existing) <= set(seen), "an item that existed was skipped"
    assert seen == sorted(seen, reverse=True)
    assert filed and not set(filed) & set(seen)  # newer than the walk's position


def test_items_filed_at_the_same_instant_are_ordered_by_id(api_as, staff, db_session):
    """Ties on created_at are broken by id, so a page boundary inside a tie loses nothing."""
    instant = datetime(2031, 1, 1, 12, 0, tzinfo=UTC)
    with clock.override(lambda: instant):
        made = [items.create_item(db_session, staff, items.ItemData(title=f"Tie {n}", category="model_update",
                                                                 function="procurement")).id
                for n in range(9)]
    db_session.commit()
    assert _walk(api_as(staff), limit=2) == sorted(made, reverse=True)


def test_a_walk_while_another_thread_keeps_filing(app, api_as, staff, make_item):
    existing = {make_item(staff, status="open", title=f"Existing {n}").id for n in range(30)}
    api = api_as(staff)
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer():
        session = app.extensions["forum.sessionmaker"]()
        try:
            for n in range(200):  # bounded: at most 200 items, however slow the walk is
                if stop.is_set():
                    return
                items.create_item(session, staff_in(session), items.ItemData(
                    title=f"Concurrent {n}", category="model_update", function="procurement"))
                session.commit()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            session.close()

    def staff_in(session):
        from forum.auth.models import User

        return session.get(User, staff.id)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        seen = _walk(api, limit=3)
    finally:
        stop.set()
        thread.join()
    assert not errors, errors
    assert len(seen) == len(set(seen)), "an item was returned twice"
    assert existing <= set(seen), "an item that existed was skipped"
