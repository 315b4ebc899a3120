"""A save that loses the race at the database (another save committed between the version check
and the UPDATE) is a 409 conflict that keeps the input, not a server error. The scale-out test
(tests/scale/test_scale_out.py) found this with two app instances on PostgreSQL; here the other
save is slipped in right after the version check.

On SQLite the race cannot happen: the save runs under ``db.attempt``, which holds the database's
write lock from before the check, so the other save waits (and, with a short timeout, gives up)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, select, update
from sqlalchemy.exc import OperationalError

from forum.core import db
from forum.items import service
from forum.items.models import DecisionItem
from forum.trail.models import Event

FORM = {"title": "My careful rewrite", "category": "vendor_selection", "function": "procurement",
        "summary": "", "vendor": "", "model_name": "", "model_version": "", "exposure": "",
        "needed_by": ""}


def test_a_save_that_loses_at_the_update_is_a_409_that_keeps_the_input(
        app, client, make_user, login, make_item, db_session, monkeypatch):
    if db.get_engine(app).dialect.name == "sqlite":
        pytest.skip("SQLite: the save holds the write lock from before the check (next test)")
    filer = make_user()
    login(filer)
    item = make_item(filer, title="Original title")
    events_before = db_session.scalar(select(func.count()).select_from(Event))
    check = service._check_version

    def check_then_lose_the_race(current, expected_version):
        check(current, expected_version)
        with db.get_engine(app).begin() as other:  # the other save commits now
            other.execute(update(DecisionItem).where(DecisionItem.id == current.id)
                          .values(title="Saved by someone else", version=DecisionItem.version + 1))

    monkeypatch.setattr(service, "_check_version", check_then_lose_the_race)
    response = client.post(f"/items/{item.id}/edit", data={**FORM, "version": str(item.version)})

    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "Someone else changed this item" in text
    assert 'value="My careful rewrite"' in text  # the input is kept
    assert "Saved by someone else" in text  # and the item is shown as it now stands
    assert f"The item as it is now (version {item.version + 1})" in text  # saving again applies
    db_session.expire_all()
    assert db_session.get(DecisionItem, item.id).title == "Saved by someone else"
    assert db_session.scalar(select(func.count()).select_from(Event)) == events_before


def test_on_sqlite_no_other_save_commits_between_the_check_and_the_update(
        app, client, make_user, login, make_item, db_session, monkeypatch):
    engine = db.get_engine(app)
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL lets the other save in: the previous test")
    filer = make_user()
    login(filer)
    item = make_item(filer, title="Original title")
    check = service._check_version
    refused = []
    impatient = create_engine(engine.url, connect_args={"timeout": 0.2})

    def check_then_try_to_race(current, expected_version):
        check(current, expected_version)
        try:
            with impatient.begin() as other:
                other.execute(update(DecisionItem).where(DecisionItem.id == current.id)
                              .values(title="Saved by someone else", version=DecisionItem.version + 1))
        except OperationalError as error:
            refused.append(str(error.orig))

    monkeypatch.setattr(service, "_check_version", check_then_try_to_race)
    try:
        response = client.post(f"/items/{item.id}/edit", data={**FORM, "version": str(item.version)})
    finally:
        impatient.dispose()
    assert refused == ["database is locked"]
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(DecisionItem, item.id).title == "My careful rewrite"
