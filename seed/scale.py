"""A large, realistic data set for the load benchmark: `forum seed --scale N`.

The demo (forum_seed.demo) replays every step through the services, which costs a few milliseconds
per event: fine for 30 items, hours for 100,000. This module writes the same rows and the same
trail events the services would write, but in bulk: it builds the rows of a batch of items in
Python, computes the hash chain in Python (the rule of docs/trail.md, via
forum.trail.chain) and inserts everything with executemany, one transaction per batch that also
moves ``trail_head``. So the database is consistent after every batch: ``forum trail verify``
passes, the head row names the last event, and an interrupted run leaves whole batches only.

What each item gets (shares by a seeded random generator, so a run is reproducible):
filing (all), submission to the forum (96 %), one to three weight ratings and positions, one to
four comments, an evidence run parsed from one of the sample files in seed/evidence (60 %), an
escalation (60 %) and, for two thirds of the escalated, a place on a meeting's agenda and a
decision (approved, approved with conditions with a follow-up action, rejected or deferred).
About eleven events per item. The event payloads have the shapes the services write, so the
item history, timeline, trail browser and exports show them like any other event.

The accounts (the demo's functions and people, with the demo password) are created first
through the account services; the bulk history then runs from about 400 days ago to two days
ago; the ordinary demo data set is loaded last (optional), fitted between the bulk history and
now, so the demo's meetings and tokens are there as well.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from forum.agenda import events as agenda_events
from forum.agenda.models import Action, AgendaEntry, Decision, Meeting, decision_deciders
from forum.auth import service as accounts
from forum.auth.models import User
from forum.core import clock
from forum.evidence import events as evidence_events
from forum.evidence import gates
from forum.evidence.models import CHUNK_BYTES, EvidenceChunk, EvidenceRun
from forum.evidence.parsers import parse
from forum.evidence.service import gate_record, run_columns
from forum.items import events as item_events
from forum.items.models import CATEGORIES, DecisionItem
from forum.items.rubric import RUBRIC
from forum.items.service import CARRIES
from forum.register.models import ObligationRecord
from forum.systems import service as systems_service
from forum.systems.models import DEPLOYMENT_STATUSES, AISystem, SystemVersion
from forum.trail import service as trail
from forum.weighing import events as weighing_events
from forum.weighing import standing
from forum.weighing.models import Comment, Escalation, Position, WeightRating
from forum.weighing.rules import Scale
from forum_seed import DATA

#: Sample files whose parsed results the bulk evidence runs reuse (small ones: the bytes are
#: stored once per run, as an upload would).
EVIDENCE_SAMPLES = (
    "support-bot-2026.06.1-passing.csv",
    "support-bot-2026.07.2-week1.csv",
    "support-bot-2026.07.2-week2.csv",
    "fs-gbm-4.1.0-backtest.junit.xml",
    "promptfoo-support-2providers.junit.xml",
    "pytest-support-llm.xunit2.xml",
)
DEMO_PATH = DATA / "demo.json"
#: Items per meeting agenda.
AGENDA_SIZE = 8
#: Items on the agenda of the last meeting, published and still to be held: a full board
#: (the pre-read pack and the meeting page are measured with this many entries).
OPEN_AGENDA_SIZE = 30
#: Events per item, roughly (used to spread the bulk history over its time span).
EVENTS_PER_ITEM = 11.2

_VENDORS = ("Northwind Models", "Contoso AI", "Fabrikam Labs", "Tailspin Intelligence",
            "Adatum Cognitive", "Litware ML", "Proseware", "Wingtip Analytics")
_MODELS = ("support-llm", "intent-router", "fs-gbm", "doc-summariser", "fraud-scorer",
           "code-assist", "claims-triage", "voice-agent")
#: Systems of the register at scale: one per vendor and model the items name, and more that no
#: item is about yet (an inventory of a large organisation).
_INVENTORY = ("ocr-extract", "translate", "speech-to-text", "image-tagger", "recommender", "churn-model",
              "pricing-model", "forecaster", "anomaly-detect", "chat-assistant", "search-ranker", "kyc-check",
              "sentiment", "email-classifier", "agent-router", "resume-screen", "credit-scorer", "moderation",
              "code-review", "meeting-notes", "knowledge-bot", "demand-planner", "route-optimizer",
              "quality-inspect", "face-match")
#: Items filed about a system of the register; the rest name their model as text (filed before
#: the register, waiting to be grouped into it).
SYSTEM_SHARE = 0.7
_CLASSIFICATIONS = (("minimal", ""), ("minimal", ""), ("transparency", ""), ("high_risk", "employment"),
                    ("high_risk", "essential_services"), ("", ""))
_USES = ("tier-1 support replies", "claims intake", "fraud screening", "contract review",
         "sales call notes", "HR policy questions", "IT helpdesk routing", "invoice matching",
         "marketing copy review", "supplier risk scoring")
_VERBS = ("Select", "Deploy", "Update", "Approve", "Extend", "Retire", "Pilot", "Renew")
_STANCES = ("support", "support", "support_with_conditions", "concerns", "object")
_COMMENTS = (
    "The edge cases in **week two** look worse than the vendor's demo suggested.",
    "Procurement can live with the contract terms if the exit clause stays.",
    "We need the *data processing addendum* before this goes further.",
    "Latency is fine in the pilot; accuracy on abbreviations is the open question.",
    "Can we see the results on the slang and abbreviation set?\n\n- intent\n- escalation",
    "Risk would like a re-test after the next model update.",
    "Customer impact is limited to internal users for now.",
    "The lock-in concern is real: their fine-tuning API has no export.",
)
_OUTCOMES = ("approved", "approved", "approved_with_conditions", "approved_with_conditions",
             "rejected", "deferred")
_OUTCOME_LABELS = {"approved": "Approved", "approved_with_conditions": "Approved with conditions",
                   "rejected": "Rejected", "deferred": "Deferred"}


@dataclass
class ScaleReport:
    items: int
    events: int
    seconds: float
    demo: str = ""

    @property
    def items_per_second(self) -> float:
        return self.items / self.seconds if self.seconds else 0.0

    def describe(self) -> str:
        text = (f"{self.items} items and {self.events} events in {self.seconds:.1f} s "
                f"({self.items_per_second:.0f} items/s)")
        return text + (f"; demo data set: {self.demo}" if self.demo else "")


class _Clock:
    """Event times that only move forward: about ``step`` apart, with jitter."""

    def __init__(self, start: datetime, step: timedelta, rng: random.Random) -> None:
        self.at, self.rng = start, rng
        self.step_us = max(2, int(step / timedelta(microseconds=1)))

    def tick(self) -> datetime:
        self.at += timedelta(microseconds=max(1, int(self.step_us * self.rng.uniform(0.3, 1.7))))
        return self.at


# ----------------------------------------------------------------------------------- evidence
@dataclass(frozen=True)
class _Sample:
    filename: str
    data: bytes
    sha256: str
    parsed: object


def _samples() -> list[_Sample]:
    folder = DATA / "evidence"
    out = []
    for name in EVIDENCE_SAMPLES:
        data = (folder / name).read_bytes()
        out.append(_Sample(name, data, hashlib.sha256(data).hexdigest(), parse(data, name)))
    return out


# ------------------------------------------------------------------------------------ the run
def load_scale(factory: sessionmaker, n_items: int, *, batch: int = 500, seed: int = 10,
               demo: bool = True, progress: Callable[[str], None] | None = None) -> ScaleReport:
    """Create the accounts, ``n_items`` items with their history in batches, then (``demo``)
    the demo data set. Each batch is committed on its own. The database must be migrated and
    have no users (the caller checks)."""
    now = clock.now()
    start = now - timedelta(days=400)
    end = now - timedelta(days=2)
    with factory() as session, session.begin():
        users = _accounts(session, start)
    started = time.perf_counter()  # the bulk part: what grows with N
    rng = random.Random(seed)
    # Spread the events over the span, with room to spare (jitter averages out to the step).
    step = (end - start - timedelta(hours=2)) / max(1, int(n_items * EVENTS_PER_ITEM * 1.25))
    ticks = _Clock(start + timedelta(hours=1), step, rng)
    samples = _samples()
    with factory() as session, session.begin():
        register = _register(session, users, ticks, rng)
    events = 0
    done = 0
    while done < n_items:
        size = min(batch, n_items - done)
        last = done + size >= n_items
        with factory() as session, session.begin():
            events += _batch(session, size, users, samples, ticks, rng, now, last, register)
        done += size
        if progress:
            elapsed = time.perf_counter() - started
            progress(f"{done}/{n_items} items, {events} events, {done / elapsed:.0f} items/s")
    # The bulk rows bypass the ORM's flush, so the search index is built once from them.
    with factory() as session, session.begin():
        from forum.search import index as search_index

        search_index.rebuild(session)
    # … and so are the health tallies, which the forum otherwise keeps as changes happen.
    with factory() as session, session.begin():
        from forum.health import tallies

        tallies.recount(session)
    # … and the register's groups of items still to bring into it.
    with factory() as session, session.begin():
        from forum.register import grouping

        grouping.recount(session)
    # PostgreSQL plans from table statistics, which autovacuum gathers some time after a bulk
    # load (never, where it is off): without them it guessed 173 escalated items among 100,000
    # and chose plans that took seconds; and index-only scans need the visibility map that
    # VACUUM sets. VACUUM ANALYZE, as after any bulk import (outside a transaction).
    engine = factory.kw.get("bind")
    if engine is not None and engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    bulk_seconds = time.perf_counter() - started
    summary = ""
    if demo:
        from forum_seed import demo as demo_seed  # the demo loader pulls in every area's demo module

        with factory() as session, session.begin():
            summary = demo_seed.load_demo(session)
    return ScaleReport(n_items, events, bulk_seconds, summary)


@dataclass
class _People:
    by_function: dict[str, list[User]]
    executives: list[User]
    staff: list[User]


def _accounts(session: Session, start: datetime) -> _People:
    """The demo's functions and people, through the account services (one event each)."""
    from forum_seed.demo import DEMO_PASSWORD

    spec = json.loads(DEMO_PATH.read_text(encoding="utf-8"))
    moment = [start]

    def tick() -> datetime:
        moment[0] += timedelta(seconds=90)
        return moment[0]

    with clock.override(tick):
        for entry in spec["functions"]:
            if accounts.get_function(session, entry["key"]) is None:
                accounts.create_function(session, None, entry["key"], entry["label"])
        for entry in spec["users"]:
            if accounts.get_user_by_email(session, entry["email"]) is None:
                accounts.create_user(session, None, accounts.NewUser(
                    email=entry["email"], display_name=entry["name"], role=entry["role"],
                    password=DEMO_PASSWORD, function=entry.get("function"),
                ), enforce_policy=False)  # the published demo password, as the demo loader does
    session.flush()
    everyone = list(session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)))
    staff = [u for u in everyone if u.role == "staff" and u.function_key]
    by_function: dict[str, list[User]] = {}
    for user in staff:
        by_function.setdefault(user.function_key, []).append(user)
    executives = [u for u in everyone if u.role == "executive"]
    if not staff or not executives:
        raise RuntimeError("the scale data set needs staff with functions and executives")
    session.expunge_all()
    return _People(by_function, executives, staff)


def _next_ids(session: Session) -> dict[str, int]:
    models = {"item": DecisionItem, "rating": WeightRating, "position": Position,
              "comment": Comment, "escalation": Escalation, "run": EvidenceRun,
              "meeting": Meeting, "entry": AgendaEntry, "decision": Decision, "action": Action}
    return {key: (session.scalar(select(func.max(model.id))) or 0) + 1
            for key, model in models.items()}


class _Ids:
    def __init__(self, start: dict[str, int]) -> None:
        self.next = dict(start)

    def __call__(self, key: str) -> int:
        value = self.next[key]
        self.next[key] = value + 1
        return value


def _register(session: Session, people: _People, ticks: _Clock, rng: random.Random) -> dict[tuple[str, str], int]:
    """The register of AI systems, created at the start of the history (one ``system.created``
    event each, and for about a third an obligation confirmed): returns the system's id of each
    (vendor, model) the items name."""
    chain = trail.begin_batch(session)
    first = (session.scalar(select(func.max(AISystem.id))) or 0) + 1
    functions = sorted(people.by_function)
    systems, versions, confirmed, found = [], [], [], {}
    for vendor in _VENDORS:
        for model in (*_MODELS, *_INVENTORY):
            system_id = first + len(systems)
            at = ticks.tick()
            owner = rng.choice(people.by_function[rng.choice(functions)])
            category, area = rng.choice(_CLASSIFICATIONS)
            row = {"id": system_id, "name": f"{model} ({vendor})", "vendor": vendor, "model_name": model,
                   "version_in_use": "2026.12.0", "owner_function_key": owner.function_key,
                   "status": rng.choice(tuple(DEPLOYMENT_STATUSES)), "intended_use": f"{model} for {rng.choice(_USES)}.",
                   "personal_data": rng.random() < 0.5, "special_categories": False, "eu_ai_act": category,
                   "high_risk_area": area, "gpai_role": rng.choice(("", "deployer")),
                   "risk_tier": rng.choice(("low", "medium", "high")), "created_at": at, "updated_at": at,
                   "version": 1}
            systems.append(row)
            found[vendor, model] = system_id
            versions.append({"system_id": system_id, "version": "2026.12.0", "recorded_at": at,
                             "recorded_by": owner.email, "note": ""})
            chain.add(at, owner.email, "system.created", f"system:{system_id}",
                      systems_service.event_data(SimpleNamespace(**row)))
            if rng.random() < 1 / 3:
                at = ticks.tick()
                document = f"https://intranet.example.com/ai-literacy/{model}"
                confirmed.append({"system_id": system_id, "framework": "eu_ai_act", "obligation": "ai_literacy",
                                  "confirmed_at": at, "confirmed_by": owner.email, "run_id": None,
                                  "decision_id": None, "document_url": document, "note": ""})
                chain.add(at, owner.email, "system.obligation_confirmed", f"system:{system_id}", {
                    "name": row["name"], "framework": "eu_ai_act", "obligation": "ai_literacy", "run": None,
                    "decision": None, "document_url": document, "note": ""})
    session.execute(AISystem.__table__.insert(), systems)
    session.execute(SystemVersion.__table__.insert(), versions)
    session.execute(ObligationRecord.__table__.insert(), confirmed)
    trail.write_batch(session, chain)
    if session.get_bind().dialect.name == "postgresql":
        for table in ("ai_systems", "system_versions", "obligation_records"):
            session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                 f"COALESCE((SELECT max(id) FROM {table}), 1))"))
    return found


def _batch(session: Session, size: int, people: _People, samples: list[_Sample],
           ticks: _Clock, rng: random.Random, now: datetime, last: bool, register: dict[tuple[str, str], int]) -> int:
    """Generate and insert ``size`` items with their history, in the caller's transaction."""
    chain = trail.begin_batch(session)  # the chain lock, from the head
    ids = _Ids(_next_ids(session))
    rows: dict[str, list[dict]] = {key: [] for key in (
        "item", "rating", "position", "comment", "escalation", "run", "chunk", "meeting", "entry",
        "decision", "decider", "action")}
    to_meeting: list[dict] = []
    functions = sorted(people.by_function)

    for _ in range(size):
        item = _item(chain, ids, rows, people, functions, samples, ticks, rng, now, register)
        if item is not None:
            to_meeting.append(item)

    # The last batch keeps its newest escalated items for the meeting still to come.
    # (at most half of them, so that a small data set still has meetings held and decided).
    held = len(to_meeting) - (min(OPEN_AGENDA_SIZE, len(to_meeting) // 2) if last else 0)
    for start in range(0, held, AGENDA_SIZE):
        _meeting(chain, ids, rows, people, to_meeting[start:min(start + AGENDA_SIZE, held)],
                 ticks, rng, now, keep_open=False)
    if last and held < len(to_meeting):
        _meeting(chain, ids, rows, people, to_meeting[held:], ticks, rng, now, keep_open=True)

    _insert(session, rows)
    trail.write_batch(session, chain)
    # The bulk rows bypass the flush that keeps the items' standing current: compute it here.
    standing.refresh(session.connection(), [row["id"] for row in rows["item"]])
    if session.get_bind().dialect.name == "postgresql":
        for table in ("decision_items", "weight_ratings", "positions", "comments", "escalations",
                      "evidence_runs", "meetings", "agenda_entries", "decisions", "decision_actions"):
            session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT max(id) FROM {table}), 1))"))
    return len(chain.rows)


def _insert(session: Session, rows: dict[str, list[dict]]) -> None:
    tables = (
        ("item", DecisionItem.__table__), ("rating", WeightRating.__table__),
        ("position", Position.__table__), ("comment", Comment.__table__),
        ("escalation", Escalation.__table__), ("run", EvidenceRun.__table__),
        ("chunk", EvidenceChunk.__table__),
        ("meeting", Meeting.__table__), ("entry", AgendaEntry.__table__),
        ("decision", Decision.__table__), ("decider", decision_deciders),
        ("action", Action.__table__),
    )
    for key, table in tables:
        if rows[key]:
            session.execute(table.insert(), rows[key])


def _status(chain: trail.Batch, item: dict, actor: str, action: str, to: str, at: datetime,
            note: str = "") -> None:
    payload = item_events.status_changed(action, item["status"], to, note)
    item["status"], item["updated_at"] = to, at
    item["carried_forward"] = CARRIES.get(action, item["carried_forward"])
    item["version"] += 1
    chain.add(at, actor, "item.status_changed", f"item:{item['id']}", payload)


def _item(chain: trail.Batch, ids: _Ids, rows: dict, people: _People, functions: list[str],
          samples: list[_Sample], ticks: _Clock, rng: random.Random, now: datetime,
          register: dict[tuple[str, str], int]) -> dict | None:
    """One item's history up to its escalation; returns the item when it goes to a meeting."""
    item_id = ids("item")
    subject = f"item:{item_id}"
    function = rng.choice(functions)
    filer = rng.choice(people.by_function[function])
    category = rng.choice(tuple(CATEGORIES))
    vendor, model = rng.choice(_VENDORS), rng.choice(_MODELS)
    sample = rng.choice(samples)
    version = (sample.parsed.model_version or f"2026.{rng.randint(1, 9)}.{rng.randint(0, 3)}")
    if rng.random() < 0.15:  # the model was updated after the test: stale evidence
        version = f"2026.{rng.randint(10, 12)}.{rng.randint(0, 3)}"
    at = ticks.tick()
    values = {
        "title": f"{rng.choice(_VERBS)} {model} from {vendor} for {rng.choice(_USES)} (#{item_id})",
        "summary": (f"{vendor}'s **{model}** for {rng.choice(_USES)}.\n\n"
                    f"- exposure reviewed by {function}\n- pilot with {rng.randint(5, 80)} users"),
        "category": category, "function_key": function, "vendor": vendor, "model_name": model,
        "model_version": version, "system_id": register[vendor, model] if rng.random() < SYSTEM_SHARE else None,
        "exposure": rng.choice((None, rng.randrange(5_000, 2_000_000, 1_000))),
        "needed_by": (at + timedelta(days=rng.randint(20, 200))).date(),
    }
    item = {"id": item_id, **values, "status": "draft", "version": 1, "filer_id": filer.id,
            "created_at": at, "updated_at": at, "carried_forward": False}
    rows["item"].append(item)
    chain.add(at, filer.email, "item.created", subject, item_events.created(values))
    if rng.random() < 0.04:
        return None  # a draft
    _status(chain, item, filer.email, "submit", "open", ticks.tick())

    totals: list[int] = []
    rated = rng.sample(functions, rng.randint(1, len(functions)))
    for key in rated:
        rater = rng.choice(people.by_function[key])
        scores = {c.key: rng.randint(0, RUBRIC.max_score) for c in RUBRIC.criteria}
        total = sum(scores.values())
        totals.append(total)
        at = ticks.tick()
        reason = f"{RUBRIC.tier_for(total).label} for {key}: {rng.choice(_USES)} touches customers."
        rows["rating"].append({"id": ids("rating"), "item_id": item_id, "function_key": key,
                               "rater_id": rater.id, "scores": scores, "total": total,
                               "reason": reason, "rated_at": at})
        chain.add(at, rater.email, "weight.rated", subject, weighing_events.rated(
            key, None, weighing_events.rating_state(scores, total, RUBRIC.tier_for(total).key, reason)))
    for key in rng.sample(functions, rng.randint(1, len(functions))):
        author = rng.choice(people.by_function[key])
        stance = rng.choice(_STANCES)
        rationale = f"{key.capitalize()} view: {rng.choice(_COMMENTS)}"
        at = ticks.tick()
        rows["position"].append({"id": ids("position"), "item_id": item_id, "function_key": key,
                                 "author_id": author.id, "stance": stance, "rationale": rationale,
                                 "taken_at": at})
        chain.add(at, author.email, "position.taken", subject, weighing_events.position_taken(
            key, None, weighing_events.position_state(stance, rationale)))
    for _ in range(rng.randint(1, 4)):
        author = rng.choice(people.staff if rng.random() < 0.85 else people.executives)
        body = rng.choice(_COMMENTS)
        at = ticks.tick()
        comment_id = ids("comment")
        rows["comment"].append({"id": comment_id, "item_id": item_id, "author_id": author.id,
                                "function_key": author.function_key, "body": body,
                                "created_at": at, "edited_at": None})
        chain.add(at, author.email, "comment.added", subject,
                  weighing_events.comment_added(comment_id, author.function_key, body))
    tier_obj = Scale().tier(totals)
    tier = tier_obj.key if tier_obj is not None else None
    if rng.random() < 0.6:
        _evidence(chain, ids, rows, item, rng.choice(people.staff), sample, tier, ticks, rng)
    if rng.random() >= 0.6:
        return None  # stays open
    actor = rng.choice(people.staff)
    reason = f"{tier_obj.label if tier_obj else 'Unrated'} weight and a needed-by date close by."
    at = ticks.tick()
    _status(chain, item, actor.email, "escalate", "escalated", at, note=reason)
    rows["escalation"].append({
        "id": ids("escalation"), "item_id": item_id, "actor_id": actor.id, "rule": None,
        "reason": reason, "recommended": [f"{tier_obj.label} weight."] if tier_obj else [],
        "escalated_at": at})
    return item if rng.random() < 2 / 3 else None


def _evidence(chain: trail.Batch, ids: _Ids, rows: dict, item: dict, uploader: User, sample: _Sample,
              tier: str | None, ticks: _Clock, rng: random.Random) -> None:
    parsed = sample.parsed
    at = ticks.tick()
    run_at = at - timedelta(hours=rng.randint(1, 72))
    facts = gates.Facts(
        edge_total=parsed.edge_total, edge_passed=parsed.edge_passed,
        edge_skipped=parsed.edge_skipped, passed=parsed.passed,
        rated=parsed.passed + parsed.failed + parsed.errored,
        model_version=parsed.model_version or "", tested_at=run_at, baseline=None)
    results = gates.evaluate(facts, item["model_version"], tier, at)
    run_id = ids("run")
    run = {
        "id": run_id, "item_id": item["id"], "sha256": sample.sha256,
        "size": len(sample.data), "filename": sample.filename, **run_columns(parsed),
        "run_at": run_at,
        "gate_results": gate_record(results, None, tier, item["model_version"]),
        "uploaded_by_id": uploader.id, "uploaded_at": at,
    }
    rows["run"].append(run)
    rows["chunk"].extend({"run_id": run_id, "n": n, "data": sample.data[offset:offset + CHUNK_BYTES]}
                         for n, offset in enumerate(range(0, len(sample.data), CHUNK_BYTES)))
    chain.add(at, uploader.email, "evidence.attached", f"item:{item['id']}", evidence_events.attached(
        run_id=run_id, filename=sample.filename, sha256=sample.sha256, size=run["size"],
        format=run["format"], suite=run["suite"], model_id=run["model_id"],
        model_version=run["model_version"], passed=run["passed"], failed=run["failed"],
        errored=run["errored"], skipped=run["skipped"], edge_total=run["edge_total"],
        edge_passed=run["edge_passed"], gates=results))


def _meeting(chain: trail.Batch, ids: _Ids, rows: dict, people: _People, agenda: list[dict],
             ticks: _Clock, rng: random.Random, now: datetime, keep_open: bool) -> None:
    """A meeting for ``agenda`` (escalated items): planned, published, held and closed with a
    decision per entry; ``keep_open``: published for next week, its items scheduled."""
    chair = rng.choice(people.executives)
    at = ticks.tick()
    starts_at = (now + timedelta(days=7) if keep_open else at + timedelta(days=3)).replace(
        hour=9, minute=0, second=0, microsecond=0)
    meeting_id = ids("meeting")
    title = f"AI decision board {starts_at:%Y-%m-%d} (#{meeting_id})"
    meeting = {"id": meeting_id, "title": title, "starts_at": starts_at, "duration_minutes": 90,
               "status": "draft", "created_by_id": chair.id, "created_at": at, "updated_at": at,
               "version": 1}
    rows["meeting"].append(meeting)
    subject = f"meeting:{meeting_id}"
    chain.add(at, chair.email, "meeting.created", subject,
              agenda_events.meeting_created(title, starts_at, 90, "draft"))

    def meeting_status(action: str, to: str) -> None:
        moment = ticks.tick()
        chain.add(moment, chair.email, "meeting.status_changed", subject,
                  agenda_events.meeting_status_changed(action, meeting["status"], to))
        meeting.update(status=to, updated_at=moment, version=meeting["version"] + 1)

    entries = []
    for position, item in enumerate(agenda, start=1):
        at = ticks.tick()
        _status(chain, item, chair.email, "schedule", "scheduled", at,
                note=f"on the agenda of “{title}”")
        entry = {"id": ids("entry"), "meeting_id": meeting_id, "item_id": item["id"],
                 "position": position, "time_box_minutes": 10, "presenter_id": item["filer_id"],
                 "carried_from_id": None, "created_at": at}
        rows["entry"].append(entry)
        entries.append((entry, item))
        meeting.update(updated_at=at, version=meeting["version"] + 1)
        presenter = next(u.email for u in people.staff if u.id == item["filer_id"])
        chain.add(at, chair.email, "agenda.entry_added", subject, agenda_events.entry_added(
            entry["id"], item["id"], item["title"], position, 10, presenter, None))
    meeting_status("publish", "published")
    if keep_open:
        return
    meeting_status("start", "in_session")
    deciders = sorted(people.executives, key=lambda u: u.display_name)
    for entry, item in entries:
        at = ticks.tick()
        outcome = rng.choice(_OUTCOMES)
        conditions = ("Re-test on the edge-case suite after every model update."
                      if outcome == "approved_with_conditions" else "")
        expires_on = (at + timedelta(days=365)).date() if outcome == "approved_with_conditions" else None
        rationale = f"{_OUTCOME_LABELS[outcome]}: the evidence and the functions' positions were weighed."
        decision_id = ids("decision")
        rows["decision"].append({
            "id": decision_id, "entry_id": entry["id"], "revision": 1, "amends_id": None,
            "outcome": outcome, "rationale": rationale, "conditions": conditions,
            "expires_on": expires_on, "amendment_reason": "", "recorded_by_id": chair.id,
            "recorded_at": at})
        rows["decider"].extend({"decision_id": decision_id, "user_id": u.id} for u in deciders)
        actions = []
        if outcome == "approved_with_conditions":
            owner = next(u for u in people.staff if u.id == item["filer_id"])
            action = {"id": ids("action"), "decision_id": decision_id,
                      "text": "Send the re-test results to the board.", "owner_id": owner.id,
                      "due_on": (at + timedelta(days=30)).date(), "done": False, "done_at": None,
                      "done_by_id": None, "done_note": "", "created_at": at}
            rows["action"].append(action)
            actions.append((action["id"], action["text"], owner.email, action["due_on"]))
        # No review snapshot is stored with the bulk decisions (no reviews are made), so none
        # is summed up in their events either.
        chain.add(at, chair.email, "decision.recorded", f"item:{item['id']}", agenda_events.decision_recorded(
            meeting_id, entry["id"], decision_id, outcome=outcome, rationale=rationale,
            conditions=conditions, expires_on=expires_on, deciders=[u.email for u in deciders],
            reviews_before=None, recused=[], actions=actions))
        settles = outcome != "deferred"
        _status(chain, item, chair.email, "decide" if settles else "defer",
                "decided" if settles else "escalated", at,
                note=f"{_OUTCOME_LABELS[outcome]} at “{title}”")
    meeting_status("close", "closed")
