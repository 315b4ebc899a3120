"""The search service: ranking, each filter, permissions, escaped snippets, hostile queries and
an index that follows every change in the change's own transaction.

These run on the main test database (SQLite by default); run them on PostgreSQL too with
``FORUM_TEST_DATABASE=postgresql pytest tests/search``. tests/search/test_backends.py runs the
core of them on both databases in every run.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import Markup
from sqlalchemy import event
from sqlalchemy import text as sql

from forum.agenda.decisions import AmendmentData, amend_decision, get_decision
from forum.core import clock
from forum.core.errors import ValidationError
from forum.items import service as items
from forum.search import service
from forum.search.backends import for_dialect
from forum.search.query import MAX_TERMS


def _edit(db_session, filer, item, **changes):
    values = dict(title=item.title, category=item.category, function=item.function_key,
                  summary=item.summary, vendor=item.vendor, model_name=item.model_name,
                  model_version=item.model_version)
    values.update(changes)
    items.update_item(db_session, filer, item, items.ItemData(**values), item.version)


# ------------------------------------------------------------------------------------ ranking
def test_a_title_hit_ranks_above_a_body_only_hit(people, make_item, find):
    body_only = make_item(people["filer"], status="open", title="Support assistant renewal",
                          summary="The current chatbot contract ends in March.")
    in_title = make_item(people["filer"], status="open", title="Chatbot vendor shortlist",
                         summary="Three vendors answered the tender in time.")
    assert find(people["other"], "chatbot") == [("item", in_title.id), ("item", body_only.id)]


def test_more_matches_rank_higher(people, make_item, comment, find):
    item = make_item(people["filer"], status="open", title="Routing model", summary="Nothing to see.")
    once = comment(people["other"], item, "Latency was measured on the staging cluster today.")
    thrice = comment(people["other"], item, "Latency, latency: the latency budget is the whole issue.")
    assert find(people["other"], "latency") == [("comment", thrice.id), ("comment", once.id)]


def test_every_word_must_match_and_phrases_or_and_exclusion_work(people, make_item, find):
    a = make_item(people["filer"], status="open", title="Fraud model retraining",
                  summary="Quarterly retraining of the fraud scoring model.")
    b = make_item(people["filer"], status="open", title="Voice assistant pilot",
                  summary="A scoring model for call quality, trained by the vendor.")
    assert set(find(people["other"], "scoring model")) == {("item", a.id), ("item", b.id)}
    assert find(people["other"], "fraud scoring") == [("item", a.id)]
    assert find(people["other"], '"model for call"') == [("item", b.id)]
    assert find(people["other"], '"call for model"') == []
    assert set(find(people["other"], "fraud OR voice")) == {("item", a.id), ("item", b.id)}
    assert find(people["other"], "scoring -fraud") == [("item", b.id)]


def test_stemming_finds_other_forms_of_a_word(people, make_item, find):
    item = make_item(people["filer"], status="open", title="Retraining the classifiers",
                     summary="The vendor retrains monthly.")
    assert find(people["other"], "classifier") == [("item", item.id)]


def test_a_common_word_is_counted_and_ranked_among_the_newest_hits_of_each_kind(
        people, make_item, comment, db_session):
    """Past the cap, a kind's count says "more than" and only its newest hits are ranked: the
    oldest item, the best match, is left out at a cap of two and ranks first at three."""
    best = make_item(people["filer"], status="open", title="Heron heron heron", summary="Heron.")
    older = make_item(people["filer"], status="open", title="Heron survey", summary="Wetlands.")
    newer = make_item(people["filer"], status="open", title="Heron census", summary="Coast.")
    # Another person's draft is not found, and takes no place among the newest.
    make_item(people["filer"], status="draft", title="Heron draft")
    said = [comment(people["other"], newer, f"Heron count {n}.") for n in range(3)]

    def search(cap, **request):
        return service.search(db_session, people["other"], service.SearchRequest(q="heron", **request), cap=cap)

    capped = search(2)
    assert capped.counts == {"item": 2, "comment": 2, "decision": 0, "evidence": 0}
    assert capped.more == {"item", "comment"} and capped.total == 4
    assert {(hit.kind, hit.ref_id) for hit in capped.hits} == {
        ("item", newer.id), ("item", older.id), ("comment", said[2].id), ("comment", said[1].id)}
    items = search(2, kind="item")
    assert items.total == 2 and {hit.ref_id for hit in items.hits} == {newer.id, older.id}

    whole = search(3)
    assert whole.counts == {"item": 3, "comment": 3, "decision": 0, "evidence": 0} and not whole.more
    assert (whole.hits[0].kind, whole.hits[0].ref_id) == ("item", best.id)
    with pytest.raises(ValueError, match="at least 1"):
        search(0)


# ------------------------------------------------------------------------------- what is found
def test_comments_decisions_and_evidence_are_found_with_their_details(
        people, make_item, comment, attach, decide, find, db_session):
    item = make_item(people["filer"], status="escalated", title="Claims triage model",
                     vendor="Acme", model_name="triage-xl", model_version="2.1")
    said = comment(people["other"], item, "The **orchid** dataset lacks edge cases.")
    run = attach(people["filer"], item, suite="orchid-regression", model="triage-xl", version="2.1")
    decision = decide(people["executive"], item, "Approved after the orchid review.", "Re-test in May.")
    results = service.search(db_session, people["other"], service.SearchRequest(q="orchid"))
    by_kind = {hit.kind: hit for hit in results.hits}
    assert set(by_kind) == {"comment", "decision", "evidence"}
    assert results.counts == {"item": 0, "comment": 1, "decision": 1, "evidence": 1}
    assert by_kind["comment"].ref_id == said.id and by_kind["comment"].comment_page == 1
    assert by_kind["comment"].comment_author == people["other"].display_name
    # Markdown punctuation is left out of the snippet; the hit is marked.
    assert "<mark>orchid</mark> dataset lacks edge cases" in str(by_kind["comment"].snippet)
    assert "**" not in str(by_kind["comment"].snippet)
    assert by_kind["decision"].ref_id == decision.id
    assert by_kind["decision"].outcome_label == "Approved with conditions"
    assert by_kind["decision"].meeting_title == "Board review"
    assert by_kind["evidence"].ref_id == run.id
    assert "<mark>orchid</mark>" in str(by_kind["evidence"].title)
    assert by_kind["evidence"].model == "triage-xl 2.1"
    assert all(hit.item_id == item.id and hit.item_title == "Claims triage model" for hit in results.hits)
    # The model of an item and of a run are searchable too, with the version as one token.
    assert set(find(people["other"], "triage-xl 2.1")) == {("item", item.id), ("evidence", run.id)}


def test_only_the_current_revision_of_an_amended_decision_is_found(
        people, make_item, decide, find, db_session):
    item = make_item(people["filer"], status="escalated", title="Pricing engine")
    first = decide(people["executive"], item, "Approved: the pilot went well.", "Quarterly review.")
    assert find(people["other"], "pilot") == [("decision", first.id)]
    amended = amend_decision(db_session, people["executive"], get_decision(db_session, first.id),
                             AmendmentData("approved_with_conditions", "Approved: the trial went well.",
                                           "Quarterly review.", reason="Wording"))
    db_session.commit()
    assert find(people["other"], "pilot") == []
    assert find(people["other"], "trial") == [("decision", amended.id)]


# ----------------------------------------------------------------------------------- filters
@pytest.fixture
def spread(people, make_item, comment, attach, decide):
    """'Kestrel' in an item of each category, function and status, with a comment, a run and a
    decision on one of them."""
    f, o = people["filer"], people["other"]
    vendor = make_item(f, status="open", title="Kestrel vendor choice", category="vendor_selection")
    update = make_item(o, status="open", title="Kestrel model update", category="model_update",
                       function="risk")
    escalated = make_item(f, status="escalated", title="Kestrel escalation", category="policy_exception")
    note = comment(o, vendor, "Kestrel benchmark numbers attached.")
    run = attach(f, update, suite="kestrel-nightly")
    decision = decide(people["executive"], escalated, "Kestrel exception approved for one quarter.")
    return dict(vendor=vendor, update=update, escalated=escalated, note=note, run=run, decision=decision)


def test_filter_by_kind(people, spread, find):
    s = spread
    assert find(people["other"], "kestrel", kind="comment") == [("comment", s["note"].id)]
    assert find(people["other"], "kestrel", kind="evidence") == [("evidence", s["run"].id)]
    assert find(people["other"], "kestrel", kind="decision") == [("decision", s["decision"].id)]
    assert set(find(people["other"], "kestrel", kind="item")) == {
        ("item", s["vendor"].id), ("item", s["update"].id), ("item", s["escalated"].id)}


def test_filter_by_item_status_category_and_function(people, spread, find):
    s = spread
    assert set(find(people["other"], "kestrel", status="decided")) == {
        ("item", s["escalated"].id), ("decision", s["decision"].id)}
    assert set(find(people["other"], "kestrel", category="model_update")) == {
        ("item", s["update"].id), ("evidence", s["run"].id)}
    assert set(find(people["other"], "kestrel", function="risk")) == {
        ("item", s["update"].id), ("evidence", s["run"].id)}
    assert set(find(people["other"], "kestrel", function="procurement", kind="comment")) == {
        ("comment", s["note"].id)}


def test_filter_by_date_range_is_inclusive_of_both_days(people, make_item, find):
    days = {}
    for offset in (0, 3, 6):
        moment = clock.now() - timedelta(days=10 - offset)
        with clock.override(lambda moment=moment: moment):
            days[offset] = (moment.date(), make_item(people["filer"], status="open", title=f"Heron {offset}"))
    (_, i0), (d3, i3), (d6, i6) = days[0], days[3], days[6]
    assert set(find(people["other"], "heron", date_from=d3)) == {("item", i3.id), ("item", i6.id)}
    assert set(find(people["other"], "heron", date_to=d3)) == {("item", i0.id), ("item", i3.id)}
    assert find(people["other"], "heron", date_from=d3, date_to=d3) == [("item", i3.id)]
    assert find(people["other"], "heron", date_from=d6 + timedelta(days=1)) == []


def test_unknown_filter_values_and_reversed_dates_are_refused_naming_the_field(people, db_session):
    viewer = people["other"]
    for request, field in (
        (service.SearchRequest(q="x y", kind="page"), "kind"),
        (service.SearchRequest(q="x y", status="archived"), "status"),
        (service.SearchRequest(q="x y", category="other"), "category"),
        (service.SearchRequest(q="x y", date_from=date(2026, 5, 2), date_to=date(2026, 5, 1)), "date_to"),
        (service.SearchRequest(q="x" * 201), "q"),
    ):
        with pytest.raises(ValidationError) as refused:
            service.search(db_session, viewer, request)
        assert refused.value.field == field
    with pytest.raises(ValidationError, match="Unknown function"):
        service.search(db_session, viewer, service.SearchRequest(q="x y", function="sales"), functions={"risk"})


def test_pages_split_the_ranked_hits_without_repeats_or_gaps(people, make_item, find, db_session):
    filed = {make_item(people["filer"], status="open", title=f"Osprey {n}").id for n in range(7)}
    pages = [find(people["other"], "osprey", per_page=3, page=n) for n in (1, 2, 3)]
    assert [len(p) for p in pages] == [3, 3, 1]
    assert {ref for page in pages for _kind, ref in page} == filed
    results = service.search(db_session, people["other"], service.SearchRequest(q="osprey"), 99, 3)
    assert results.page == 3 and results.pages == 3 and results.total == 7  # past the end: the last page


# ------------------------------------------------------------------------------- permissions
def test_another_persons_draft_and_everything_on_it_is_never_found(
        people, make_item, comment, attach, find, db_session):
    draft = make_item(people["filer"], status="draft", title="Secret merger model",
                      summary="Confidential merger analysis.")
    run = attach(people["filer"], draft, suite="merger-suite")
    # A comment written while the item was open stays on it after it is withdrawn to draft.
    items.transition(db_session, people["filer"], draft, "submit")
    said = comment(people["filer"], draft, "Merger numbers look fine.")
    items.transition(db_session, people["filer"], draft, "withdraw")
    db_session.commit()
    assert draft.status == "draft"
    everything = {("item", draft.id), ("evidence", run.id), ("comment", said.id)}
    assert find(people["other"], "merger") == []
    assert find(people["executive"], "merger") == []
    assert set(find(people["filer"], "merger")) == everything
    assert set(find(people["auditor"], "merger")) == everything  # as on the item pages
    counts = service.search(db_session, people["other"], service.SearchRequest(q="merger")).counts
    assert sum(counts.values()) == 0  # not even counted
    # Submitted, it is found by everyone.
    items.transition(db_session, people["filer"], draft, "submit")
    db_session.commit()
    assert set(find(people["other"], "merger")) == everything


# ------------------------------------------------------------------------- escaping, hostility
def test_snippets_escape_the_content_and_mark_only_the_hits(people, make_item, comment, db_session):
    item = make_item(people["filer"], status="open", title="<script>alert(1)</script> Falcon",
                     summary='Falcon <img src=x onerror="alert(2)"> & <b>bold</b> \x02trap\x03')
    comment(people["other"], item, "Falcon said </mark><script>alert(3)</script>")
    results = service.search(db_session, people["other"], service.SearchRequest(q="falcon"))
    html = "".join(str(h.title) + str(h.snippet) for h in results.hits)
    assert all(isinstance(h.snippet, Markup) and isinstance(h.title, Markup) for h in results.hits)
    assert "<script>" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>Falcon</mark>" in html
    # SQLite's snippet keeps tags in the content as escaped text, PostgreSQL's ts_headline leaves
    # them out; either way a closing </mark> in the content cannot end or open a mark.
    assert "</mark><script>" not in html
    assert html.count("<mark>") == html.count("</mark>") == 3
    assert "\x02" not in html and "\x03" not in html  # marker characters in content are dropped


HOSTILE = [
    '"', '""', "'", "AND (", "OR", "NOT", "NEAR(a b)", "*", "a*", "-", "--", "^", ":", "title:x",
    "(", ")", "a AND", "OR OR OR", "x OR", '"unterminated phrase', "\\", "%", "_", "; DROP TABLE items",
    "\x00", "😀", "ß", "& | ! <->", "!!x", "x:*", "{title}: x", "\u200b", "items' OR '1'='1",
    "title:drop", "NEAR(drop table)", "drop*", "-drop -table", '"drop" "table"', "drop:* & table",
    "ab\x00cd", "drop\x00table", "\x02drop\x03",
]


def test_hostile_queries_give_results_or_an_empty_state_never_an_error(people, make_item, db_session):
    item = make_item(people["filer"], status="open", title="Title drop table items", summary="ab ß 😀")
    for hostile in HOSTILE:
        results = service.search(db_session, people["other"], service.SearchRequest(q=hostile))
        assert results.total == len(results.hits), hostile
        assert results.searchable or results.total == 0, hostile
    # Operators are words to look for, not syntax: they match the text itself.
    for words in ("; DROP TABLE items", "title:drop", "(drop table)", '"drop" "table"', "drop:* & table"):
        results = service.search(db_session, people["other"], service.SearchRequest(q=words))
        assert [(h.kind, h.ref_id) for h in results.hits] == [("item", item.id)], words


def test_a_query_without_enough_letters_is_not_searched(people, db_session):
    for text in ("", "   ", "*", '"', "a", "-word", "- -", "(", "OR"):
        results = service.search(db_session, people["other"], service.SearchRequest(q=text))
        assert not results.searchable and results.hits == [] and results.total == 0


def test_terms_past_the_limit_are_left_out_and_reported(people, make_item, db_session):
    item = make_item(people["filer"], status="open", title="Gannet")
    words = " ".join(["gannet"] * MAX_TERMS + ["absent"])
    results = service.search(db_session, people["other"], service.SearchRequest(q=words))
    assert results.dropped_terms == 1
    assert [(h.kind, h.ref_id) for h in results.hits] == [("item", item.id)]


# ----------------------------------------------------------------------- keeping it current
def test_an_edit_updates_the_index_in_the_same_transaction(people, make_item, comment, find, db_session):
    item = make_item(people["filer"], status="open", title="Pelican intake form")
    said = comment(people["other"], item, "Pelican numbers are due.")
    _edit(db_session, people["filer"], item, title="Cormorant intake form")
    # Not committed yet: the same transaction already finds the new title, not the old one.
    assert find(people["other"], "cormorant") == [("item", item.id)]
    assert find(people["other"], "pelican") == [("comment", said.id)]
    db_session.commit()
    assert find(people["other"], "cormorant") == [("item", item.id)]


def test_a_rolled_back_change_leaves_the_index_as_it_was(people, make_item, comment, find, db_session):
    item = make_item(people["filer"], status="open", title="Pelican intake form")
    said = comment(people["other"], item, "Pelican numbers are due.")
    _edit(db_session, people["filer"], item, title="Cormorant intake form")
    from forum.weighing import comments
    comments.edit_comment(db_session, people["other"], item, said, "Cormorant numbers are due.")
    assert set(find(people["other"], "cormorant")) == {("item", item.id), ("comment", said.id)}
    db_session.rollback()
    assert find(people["other"], "cormorant") == []
    assert set(find(people["other"], "pelican")) == {("item", item.id), ("comment", said.id)}


def test_a_status_change_needs_no_reindexing_yet_the_status_filter_follows_it(
        people, make_item, find, db_session):
    item = make_item(people["filer"], status="open", title="Puffin rollout")
    assert find(people["other"], "puffin", status="open") == [("item", item.id)]
    items.transition(db_session, people["other"], item, "escalate")
    db_session.commit()
    assert find(people["other"], "puffin", status="open") == []
    assert find(people["other"], "puffin", status="escalated") == [("item", item.id)]


def test_a_deleted_row_leaves_the_index(people, make_item, comment, find, db_session):
    item = make_item(people["filer"], status="open", title="Tern policy")
    said = comment(people["other"], item, "Tern comment to delete.")
    db_session.delete(said)
    db_session.flush()
    assert find(people["other"], "tern") == [("item", item.id)]


def test_a_new_row_is_indexed_without_taking_anything_out_first(people, make_item, comment, find, db_session):
    item = make_item(people["filer"], status="open", title="Shearwater intake")
    sent: list[str] = []
    connection = db_session.connection()
    listener = lambda conn, cursor, statement, *_: sent.append(statement)  # noqa: E731
    event.listen(connection, "before_cursor_execute", listener)
    try:
        said = comment(people["other"], item, "Shearwater counts are late.")
    finally:
        event.remove(connection, "before_cursor_execute", listener)
    index_writes = [s.split()[0] for s in sent if "search_index" in s]
    assert index_writes == ["INSERT"]
    assert set(find(people["other"], "shearwater")) == {("item", item.id), ("comment", said.id)}


def test_a_row_left_in_the_index_under_a_new_rows_id_is_replaced(people, make_item, comment, find, db_session):
    """Were an index row left over under the id a new row takes (rows deleted around the
    forum), indexing the new row replaces it instead of failing on the key."""
    item = make_item(people["filer"], status="open", title="Skua intake")
    said = comment(people["other"], item, "Skua numbers are due.")
    db_session.execute(sql("UPDATE comments SET body = 'Petrel numbers are due.' WHERE id = :id"), {"id": said.id})
    connection = db_session.connection()
    backend = for_dialect(connection.dialect.name)
    backend.refresh(connection, "comment", {said.id}, new={said.id})
    assert find(people["other"], "petrel") == [("comment", said.id)]
    assert find(people["other"], "skua") == [("item", item.id)]


# ----------------------------------------------------------------------------------- fuzzing
@pytest.fixture
def indexed_item(people, make_item):
    """Something to find (made once per test, not per example): words made of the fuzz alphabet."""
    return make_item(people["filer"], status="open", title="ab ba OR aab", summary="abba ab-ba a*b (ab)")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=st.one_of(st.text(max_size=60), st.text(alphabet='ab "-*():^OR\\\'&|!<>{}\x02\x03', max_size=30)))
def test_any_query_text_answers_without_error(people, db_session, indexed_item, q):
    results = service.search(db_session, people["other"], service.SearchRequest(q=q))
    assert results.total == len(results.hits)
    assert results.searchable == service.parsing.parse(q).searchable


@pytest.mark.parametrize("text,shown", [
    ("- overall pass rate 0.8\n- edge cases 3 of 12", "overall pass rate 0.8 edge cases 3 of 12"),
    ("1. first\n2) second", "first second"),
    ("## Findings\n> quoted **bold** [link](http://x)", "Findings quoted bold link"),
    ("well-tested, 5 - 3 = 2", "well-tested, 5 - 3 = 2"),  # a dash inside a line is text
])
def test_snippets_leave_out_markdown_punctuation(text, shown):
    assert service.plain(text) == shown


@pytest.mark.postgres
def test_the_search_index_on_postgresql_keeps_no_pending_list():
    """Each new row goes into the GIN indexes at once (migration f2a3b4c5d6e7): no list of
    pending rows that every search would read in full until a vacuum merged it. Checked on a
    PostgreSQL database of its own, whichever backend the run's other tests use."""
    from sqlalchemy import create_engine, text

    from forum.migrate import upgrade
    from tests.conftest import ScratchPostgres

    scratch = ScratchPostgres()
    engine = create_engine(scratch.url)
    try:
        upgrade(scratch.url)
        with engine.connect() as conn:
            options = conn.execute(text(
                "SELECT i.relname, i.reloptions FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                "JOIN pg_class t ON t.oid = x.indrelid JOIN pg_am a ON a.oid = i.relam "
                "WHERE a.amname = 'gin' AND i.relkind = 'i' AND t.relname LIKE 'search%'")).all()
    finally:
        engine.dispose()
        scratch.drop()
    assert len(options) == 4  # one per kind of hit
    assert all("fastupdate=off" in (reloptions or []) for _, reloptions in options), options


@pytest.mark.postgres
def test_postgresql_plans_each_search_for_its_words():
    """A search's statements are never prepared on the server, however often they run on one
    connection: a prepared statement may be given a generic plan, which cannot see the words.
    The connection prepares the rest as before. Checked on a PostgreSQL database of its own."""
    from sqlalchemy import create_engine

    from forum.migrate import upgrade
    from forum.search.backends import Filters
    from forum.search.query import parse
    from tests.conftest import ScratchPostgres

    scratch = ScratchPostgres()
    engine = create_engine(scratch.url)
    backend = for_dialect("postgresql")
    filters = Filters(viewer_id=1, viewer_role="executive", kind="", status="", category="", function="",
                      date_from=None, date_to=None)
    prepared = sql("SELECT count(*) FROM pg_prepared_statements")
    try:
        upgrade(scratch.url)
        with engine.connect() as conn:
            for _ in range(12):  # psycopg prepares a statement at its sixth run
                backend.counts(conn, parse("support"), filters, 10)
                backend.page(conn, parse("support"), filters, 20, 0, 10)
                backend.item_ids(conn, parse("support"), filters, 10)
            searches_prepared = conn.execute(prepared).scalar()
            for _ in range(6):
                conn.execute(sql("SELECT 1 WHERE :x = 1"), {"x": 1})
            others_prepared = conn.execute(prepared).scalar()
    finally:
        engine.dispose()
        scratch.drop()
    assert searches_prepared == 0
    assert others_prepared >= 1
