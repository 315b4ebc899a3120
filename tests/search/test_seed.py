"""The demo is searchable as soon as it is loaded: the seed goes through the services, and the
session hook indexes what they write — the same rows a full rebuild produces."""

from __future__ import annotations

from sqlalchemy import select, text

from forum.auth.models import User
from forum.items.models import DecisionItem
from forum.search import index, service
from forum_seed import demo as seed


def _index(session) -> set[tuple]:
    return set(session.execute(text("SELECT kind, ref_id, item_id, title, body FROM search_index")).all())


def test_the_demo_is_searchable_right_after_loading(db_session):
    seed.load_demo(db_session)
    db_session.commit()
    built_by_the_hooks = _index(db_session)
    counts = index.rebuild(db_session)
    assert _index(db_session) == built_by_the_hooks
    assert counts["item"] >= 20 and counts["comment"] > 0 and counts["decision"] > 0 and counts["evidence"] > 0

    staff = db_session.scalar(select(User).where(User.email == "procurement@example.com"))
    results = service.search(db_session, staff, service.SearchRequest(q="refund"))
    assert results.total > 0 and {"item", "decision"} <= {hit.kind for hit in results.hits}
    # The demo's drafts (e.g. the speech-to-text shortlist) are their filers' own.
    product = db_session.scalar(select(User).where(User.email == "product@example.com"))
    drafts = set(db_session.scalars(select(DecisionItem.id).where(
        DecisionItem.status == "draft", DecisionItem.filer_id != staff.id)))
    assert drafts
    for q in ("speech", "meeting notes", "RFP", "content filter"):
        seen_by_staff = {hit.item_id for hit in service.search(db_session, staff, service.SearchRequest(q=q)).hits}
        assert not seen_by_staff & drafts, q
    own = service.search(db_session, product, service.SearchRequest(q="meeting notes", status="draft"))
    assert [hit.item_title for hit in own.hits if hit.kind == "item"] == [
        "Use-case approval: meeting-notes summaries in the collaboration suite"]
