"""Property-based fuzzing of the item form: whatever is typed, the answer is a saved item with
its one event (302) or a refusal with nothing written (400) — never a 500, never a partial write."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from forum.items.models import DecisionItem
from forum.trail.models import Event

text = st.one_of(st.text(max_size=300), st.text(alphabet="ab\x00<>&\"'\u202e", max_size=20))
maybe_number = st.one_of(st.integers(min_value=-10**18, max_value=10**18).map(str), text)
maybe_date = st.one_of(st.dates().map(lambda d: d.isoformat()), text)
choice_or_junk = lambda valid: st.one_of(st.sampled_from(valid), text)  # noqa: E731

form_data = st.fixed_dictionaries(
    {
        "title": text,
        "summary": st.text(max_size=2000),
        "category": choice_or_junk(["vendor_selection", "model_update", "incident_follow_up"]),
        "function": choice_or_junk(["procurement", "risk"]),
        "vendor": text,
        "model_name": text,
        "model_version": text,
        "exposure": st.one_of(st.just(""), maybe_number),
        "needed_by": st.one_of(st.just(""), maybe_date),
    }
)


def counts(session):
    session.expire_all()
    return (
        session.scalar(select(func.count()).select_from(DecisionItem)),
        session.scalar(select(func.count()).select_from(Event)),
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=form_data)
def test_filing_form_never_fails_or_half_writes(client, make_user, login, db_session, data):
    if not hasattr(db_session, "_fuzz_user"):
        db_session._fuzz_user = make_user()
        login(db_session._fuzz_user)
    items_before, events_before = counts(db_session)
    response = client.post("/items/new", data=data)
    items_after, events_after = counts(db_session)
    assert response.status_code in (302, 400), response.status_code
    if response.status_code == 302:
        assert (items_after, events_after) == (items_before + 1, events_before + 1)
    else:
        assert (items_after, events_after) == (items_before, events_before)
