"""`forum seed --scale N`: the bulk data set for the benchmark is complete, consistent with its
trail, verifiable, and the pages render on it (small N, on SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta

from click.testing import CliRunner
from sqlalchemy import func, select

from forum.agenda.models import Action, AgendaEntry, Decision, Meeting
from forum.app import create_app
from forum.auth.models import User
from forum.cli import main
from forum.core import clock, db, derived
from forum.evidence.models import EvidenceRun
from forum.items import service as items
from forum.items.models import DecisionItem
from forum.register.models import ObligationRecord
from forum.systems.models import AISystem
from forum.trail import service as trail
from forum.trail.models import Event, TrailHead
from forum.weighing.models import Comment, Escalation, Position, WeightRating
from forum_seed import scale
from forum_seed.demo import DEMO_PASSWORD

N = 90


def _app(url, tmp_path):
    return create_app({"DATABASE_URL": url, "SECRET_KEY": "test", "TESTING": True,
                       "INSTANCE_PATH": str(tmp_path / "instance"), "WTF_CSRF_ENABLED": False})


def _count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_scale_seed_writes_every_kind_of_row_with_its_event_and_a_valid_chain(backend_url, tmp_path):
    app = _app(backend_url, tmp_path)
    try:
        report = scale.load_scale(app.extensions["forum.sessionmaker"], N, batch=40, demo=False)
        assert report.items == N
        with db.session_scope(app) as session:
            kinds = Counter(dict(session.execute(
                select(Event.kind, func.count()).group_by(Event.kind)).all()))
            # About ten events per item, and exactly one per row written.
            assert report.events >= 10 * N
            assert _count(session, DecisionItem) == N == kinds["item.created"]
            assert _count(session, WeightRating) == kinds["weight.rated"] > N
            assert _count(session, Position) == kinds["position.taken"] > N
            assert _count(session, Comment) == kinds["comment.added"] > N
            assert _count(session, EvidenceRun) == kinds["evidence.attached"] > 0
            assert _count(session, AgendaEntry) == kinds["agenda.entry_added"] > 0
            assert _count(session, Decision) == kinds["decision.recorded"] > 0
            assert _count(session, Meeting) == kinds["meeting.created"] > 0
            assert _count(session, Escalation) == Counter(
                e.data["action"] for e in session.scalars(
                    select(Event).where(Event.kind == "item.status_changed")))["escalate"]
            assert _count(session, Action) > 0
            # The register: a system per vendor and model (and more no item is about yet), most
            # items about one of them, the rest naming their model as text.
            assert _count(session, AISystem) == kinds["system.created"] == len(scale._VENDORS) * (
                len(scale._MODELS) + len(scale._INVENTORY))
            assert _count(session, ObligationRecord) == kinds["system.obligation_confirmed"] > 0
            linked = session.scalar(select(func.count()).where(DecisionItem.system_id.is_not(None)))
            assert 0 < linked < N
            for item in session.scalars(select(DecisionItem).where(DecisionItem.system_id.is_not(None))):
                system = session.get(AISystem, item.system_id)
                assert (system.vendor, system.model_name) == (item.vendor, item.model_name)
            # Each item's status is where its last status event left it.
            # … and it is carried forward when the last meeting that took it up sent it back.
            last_to, last_meeting = {}, {}
            for subject, data in session.execute(
                    select(Event.subject, Event.data_json).where(Event.kind == "item.status_changed")
                    .order_by(Event.seq)):
                last_to[subject] = data
                if json.loads(data)["action"] in ("defer", "decide"):
                    last_meeting[subject] = json.loads(data)["action"]
            assert "defer" in last_meeting.values()
            for item in session.scalars(select(DecisionItem)):
                expected = json.loads(last_to[item.subject])["to"] if item.subject in last_to else "draft"
                assert item.status == expected, item
                assert item.carried_forward == (last_meeting.get(item.subject) == "defer"), item
            # The chain verifies, and the head row names its last link.
            result = trail.verify_database(session)
            assert result.ok, result.problem
            head = session.get(TrailHead, 1)
            assert (head.seq, head.hash) == (result.head_seq, result.head_hash) == (
                _count(session, Event), session.scalar(select(Event.hash).order_by(Event.seq.desc()).limit(1)))
            # Event times follow the chain order.
            times = list(session.scalars(select(Event.at).order_by(Event.seq)))
            assert times == sorted(times)
        # The services go on where the bulk load stopped (ids and the chain).
        with db.session_scope(app) as session:
            filer = session.scalar(select(DecisionItem.filer_id).limit(1))
            item = items.create_item(session, session.get(User, filer), items.ItemData(
                title="After the bulk load", category="vendor_selection", function="procurement"))
            assert item.id == N + 1
        with db.session_scope(app) as session:
            assert trail.verify_database(session).ok
    finally:
        db.get_engine(app).dispose()


def test_pages_render_on_the_scale_data_set(backend_url, tmp_path):
    app = _app(backend_url, tmp_path)
    try:
        scale.load_scale(app.extensions["forum.sessionmaker"], 60, batch=60, demo=False)
        with db.session_scope(app) as session:
            item_id = session.scalar(select(DecisionItem.id).where(DecisionItem.status == "decided").limit(1))
            meeting_id = session.scalar(select(Meeting.id).order_by(Meeting.id.desc()).limit(1))
            run_id = session.scalar(select(EvidenceRun.id).limit(1))
            system_id = session.scalar(select(DecisionItem.system_id).where(DecisionItem.system_id.is_not(None)).limit(1))
            open_meeting = session.get(Meeting, meeting_id)
            assert open_meeting.status == "published"  # the last agenda waits for its meeting
        client = app.test_client()
        response = client.post("/login", data={"email": "exec@example.com", "password": DEMO_PASSWORD})
        assert response.status_code == 302
        for url in ("/", "/items", "/items?status=open&page=2", f"/items/{item_id}",
                    f"/items/{item_id}/timeline", f"/items/{item_id}/evidence", f"/evidence/{run_id}",
                    "/escalations", "/meetings", f"/meetings/{meeting_id}", f"/meetings/{meeting_id}/pack",
                    "/decisions", "/actions", "/trail", "/trail?before=100", "/systems", "/systems?unmet=y&drifted=y",
                    f"/systems/{system_id}", f"/systems/{system_id}/obligations", "/systems/export.csv"):
            response = client.get(url)
            assert response.status_code == 200, url
        assert "Approved" in client.get("/decisions").get_data(as_text=True)
        # The bulk rows reach the search index too: the decided item is found by its own title.
        with db.session_scope(app) as session:
            title = session.get(DecisionItem, item_id).title
        found = client.get("/search", query_string={"q": f'"{title}"'}).get_data(as_text=True)
        assert f'href="/items/{item_id}"' in found, title
    finally:
        db.get_engine(app).dispose()


#: The agenda events the bulk load writes itself (through forum/agenda/events.py, as the services do).
AGENDA_KINDS = ("meeting.created", "meeting.status_changed", "agenda.entry_added", "decision.recorded")


def _agenda_shapes(session, after_seq: int, until_seq: int) -> dict[str, set]:
    """Per kind, the key sets its payloads have (with the keys of each follow-up action of a
    decision) among the events after_seq < seq <= until_seq."""
    shapes: dict[str, set] = {}
    for kind, data_json in session.execute(
            select(Event.kind, Event.data_json).where(
                Event.kind.in_(AGENDA_KINDS), Event.seq > after_seq, Event.seq <= until_seq)):
        data = json.loads(data_json)
        shapes.setdefault(kind, set()).add(tuple(sorted(data)))
        for action in data.get("actions", []) if kind == "decision.recorded" else []:
            shapes.setdefault("decision.recorded actions", set()).add(tuple(sorted(action)))
    return shapes


def test_the_bulk_agenda_events_have_the_keys_the_services_write(tmp_path):
    """The scale generator writes its meeting, entry and decision events without the services:
    the same kinds of event written by the services afterwards carry exactly the same keys."""
    from datetime import timedelta

    from forum.agenda.decisions import ActionData, DecisionData, record_decision
    from forum.agenda.entries import add_entry, get_entry
    from forum.agenda.meetings import MeetingData, change_meeting_status, create_meeting
    from forum.core import clock
    from forum.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'shapes.db'}"
    upgrade(url)
    app = _app(url, tmp_path)
    try:
        scale.load_scale(app.extensions["forum.sessionmaker"], 40, batch=40, demo=False)
        with db.session_scope(app) as session:
            bulk_until = session.scalar(select(func.max(Event.seq)))
            chair = session.scalar(select(User).where(User.email == "exec@example.com"))
            item = session.scalar(select(DecisionItem).where(DecisionItem.status == "escalated")
                                  .order_by(DecisionItem.id).limit(1))
            meeting = create_meeting(session, chair, MeetingData("Shapes", clock.now() + timedelta(days=1), 60))
            entry = add_entry(session, chair, meeting, item.id, 10, item.filer_id)
            for action in ("publish", "start"):
                change_meeting_status(session, chair, meeting, action)
            record_decision(session, chair, get_entry(session, meeting.id, entry.id), DecisionData(
                "approved_with_conditions", "The evidence holds.", "Re-test after every model update.",
                clock.now().date() + timedelta(days=90), decider_ids=[chair.id],
                actions=[ActionData("Send the re-test results.", item.filer_id, clock.now().date() + timedelta(days=7))],
            ))
            change_meeting_status(session, chair, meeting, "close")
        with db.session_scope(app) as session:
            bulk = _agenda_shapes(session, 0, bulk_until)
            services = _agenda_shapes(session, bulk_until, session.scalar(select(func.max(Event.seq))))
        assert set(bulk) == set(services) == {*AGENDA_KINDS, "decision.recorded actions"}
        for kind in bulk:
            assert bulk[kind] == services[kind], kind
    finally:
        db.get_engine(app).dispose()


def test_cli_scale_refuses_a_database_with_users_and_loads_a_new_one(tmp_path, monkeypatch):
    from forum.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'scale.db'}"
    upgrade(url)
    monkeypatch.setenv("FORUM_DATABASE_URL", url)
    monkeypatch.setenv("FORUM_INSTANCE_PATH", str(tmp_path / "instance"))
    runner = CliRunner()
    loaded = runner.invoke(main, ["seed", "--scale", "30", "--batch", "20", "--no-demo"])
    assert loaded.exit_code == 0, loaded.output
    assert "Scale data set loaded: 30 items" in loaded.output
    again = runner.invoke(main, ["seed", "--scale", "30"])
    assert again.exit_code == 1
    assert "only fills a new" in again.output
    verified = runner.invoke(main, ["trail", "verify"])
    assert verified.exit_code == 0, verified.output


def _statements_per_page(tmp_path, name: str, n_items: int) -> dict[str, int]:
    from forum.migrate import upgrade
    from tests.budgets import cold_statements

    url = f"sqlite:///{tmp_path / f'{name}.db'}"
    upgrade(url)
    app = _app(url, tmp_path / name)
    try:
        scale.load_scale(app.extensions["forum.sessionmaker"], n_items, demo=False)
        with db.session_scope(app) as session:
            # Pages of the same shape in both data sets: an item approved with conditions (with
            # its agenda entry, decision, deciders and action) and no evidence runs (the small set
            # has no such item with runs), a held meeting of full length.
            decided = session.scalar(
                select(DecisionItem.id).join(AgendaEntry, AgendaEntry.item_id == DecisionItem.id)
                .join(Decision, Decision.entry_id == AgendaEntry.id)
                .where(Decision.outcome == "approved_with_conditions",
                       ~select(EvidenceRun.id).where(EvidenceRun.item_id == DecisionItem.id).exists())
                .order_by(DecisionItem.id).limit(1))
            meeting = session.scalar(select(Meeting.id).where(Meeting.status == "closed")
                                     .order_by(Meeting.id).limit(1))
            # … and an overdue follow-up action on the executive home page (an empty list costs
            # one statement less, and the small set's open actions all fall due later).
            action = session.scalar(select(Action).where(Action.done.is_(False)).order_by(Action.id).limit(1))
            action.due_on = clock.now().date() - timedelta(days=1)
        client = app.test_client()
        assert client.post("/login", data={"email": "exec@example.com", "password": DEMO_PASSWORD}).status_code == 302
        pages = {"core.home.executive": "/", "forum.item_list": "/items?status=open", "items.detail": f"/items/{decided}",
                 "forum.queue": "/escalations", "agenda.meeting": f"/meetings/{meeting}",
                 "agenda.pack": f"/meetings/{meeting}/pack", "agenda.decisions": "/decisions",
                 "audit.trail": "/trail"}
        counts = {}
        for endpoint, url in pages.items():
            client.get(url)  # warm-up: first-use queries (functions, rubric) are not per page
            # Measure the cold page: without the counts and ids the warm-up left in the derived
            # cache (forum.core.derived), as the first request after a change sees it.
            app.extensions.pop(derived.EXTENSION, None)
            responses = []
            counts[endpoint] = cold_statements(app, lambda: responses.append(client.get(url)))
            assert responses[0].status_code == 200, url
        return counts
    finally:
        db.get_engine(app).dispose()


def test_pages_cost_the_same_queries_on_a_small_and_a_five_times_larger_scale_data_set(tmp_path):
    from tests.budgets import BUDGETS

    small = _statements_per_page(tmp_path, "small", 40)
    large = _statements_per_page(tmp_path, "large", 200)
    assert small == large
    for endpoint, count in large.items():
        if endpoint in BUDGETS:
            assert count <= BUDGETS[endpoint], (endpoint, count)


def _shape(payload: dict) -> frozenset:
    """An event payload's keys, each with the type of its value (None: not known)."""
    return frozenset((key, None if value is None else type(value).__name__) for key, value in payload.items())


def _fits(shape: frozenset, known: set[frozenset]) -> bool:
    """Whether ``shape`` is one the services write: the same keys, the same type for every value
    that is not None on either side."""
    types = dict(shape)
    for other in known:
        theirs = dict(other)
        if theirs.keys() == types.keys() and all(
                None in (types[k], theirs[k]) or types[k] == theirs[k] for k in types):
            return True
    return False


def test_the_bulk_load_writes_events_of_the_shapes_the_services_write(tmp_path):
    """The scale generator builds its payloads with the services' own builders: every event it
    writes has a shape that the services (loading the demo data) write for the same kind."""
    from forum.migrate import upgrade
    from forum_seed import demo

    urls = [f"sqlite:///{tmp_path / name}" for name in ("services.db", "bulk.db")]
    for url in urls:
        upgrade(url)
    written, bulk = _app(urls[0], tmp_path / "a"), _app(urls[1], tmp_path / "b")
    try:
        with db.session_scope(written) as session:
            demo.load_demo(session)
        with db.session_scope(written) as session:  # the demo files no item about a system: one more
            system = session.scalar(select(AISystem).limit(1))
            filer = session.scalar(select(User).where(User.email == "procurement@example.com"))
            items.create_item(session, filer, items.ItemData(
                title="About a system", category="vendor_selection", function="procurement", system=system.id,
                model_version="1"))
        scale.load_scale(bulk.extensions["forum.sessionmaker"], 60, batch=30, demo=False)
        shapes: dict[str, set[frozenset]] = {}
        with db.session_scope(written) as session:
            for kind, data in session.execute(select(Event.kind, Event.data_json)):
                shapes.setdefault(kind, set()).add(_shape(json.loads(data)))
        with db.session_scope(bulk) as session:
            bulk_shapes = {(kind, _shape(json.loads(data)))
                           for kind, data in session.execute(select(Event.kind, Event.data_json))}
        kinds = {kind for kind, _ in bulk_shapes}
        assert {"item.created", "item.status_changed", "weight.rated", "position.taken", "comment.added",
                "evidence.attached", "meeting.created", "agenda.entry_added", "decision.recorded"} <= kinds
        unknown = sorted(((kind, sorted(shape, key=str)) for kind, shape in bulk_shapes
                          if not _fits(shape, shapes.get(kind, set()))), key=str)
        assert unknown == []
    finally:
        db.get_engine(written).dispose()
        db.get_engine(bulk).dispose()
