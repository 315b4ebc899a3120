"""Technical proximity in the demo data set (seed/proximity.json), through the services.

``steps`` returns timed steps that forum_seed.demo replays among the history, before the October
meeting's decisions: two runs of hard cases attached and reviewed by an executive, so those
decisions keep a record of reviews (and of a decider who did not review). ``load_after_evidence``
runs after the demo evidence is attached: more reviews and the proposed edge cases.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from forum.auth.models import User
from forum.core import clock
from forum.evidence.models import EvidenceRun
from forum.evidence.service import attach_evidence
from forum.items.models import DecisionItem
from forum.proximity import service
from forum_seed import DATA
from forum_seed.demo_agenda import Step
from forum_seed.demo_evidence import with_run_time

SEED_PATH = DATA / "proximity.json"
FILES = DATA / "proximity"


class ProximitySeedError(ValueError):
    """seed/proximity.json names an item, person, file or run the demo set does not have."""


def _spec(path: Path | None) -> dict:
    path = path or SEED_PATH
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ProximitySeedError(f"Cannot read {path}: {exc}") from exc


def _item(session: Session, title: str) -> DecisionItem:
    item = session.scalar(select(DecisionItem).where(DecisionItem.title.startswith(title, autoescape=True))
                          .order_by(DecisionItem.id.desc()).limit(1))
    if item is None:
        raise ProximitySeedError(f"proximity.json: no demo item titled {title!r}…")
    return item


def _user(session: Session, email: str) -> User:
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        raise ProximitySeedError(f"proximity.json: no user {email!r}")
    return user


def _run(session: Session, item: DecisionItem, filename: str) -> EvidenceRun:
    run = session.scalar(select(EvidenceRun).where(EvidenceRun.item_id == item.id, EvidenceRun.filename == filename)
                         .order_by(EvidenceRun.id.desc()).limit(1))
    if run is None:
        raise ProximitySeedError(f"proximity.json: no run {filename!r} on {item.title!r}")
    return run


def _review(session: Session, entry: dict) -> None:
    item = _item(session, entry["item"])
    service.record_review(session, _user(session, entry["by"]), _run(session, item, entry["file"]), item,
                          entry.get("note", ""))


def steps(session: Session, now: datetime, first_order: int = 0, path: Path | None = None) -> list[Step]:
    spec = _spec(path).get("before_decisions", {})

    def attach(entry: dict) -> None:
        data = with_run_time(entry["file"], (FILES / entry["file"]).read_bytes(), clock.now())
        attach_evidence(session, _user(session, entry["by"]), _item(session, entry["item"]), entry["file"], data)

    found = [(now - timedelta(days=e["days_ago"]), f"proximity.json: run {e['file']}", lambda e=e: attach(e))
             for e in spec.get("runs", [])]
    found += [(now - timedelta(days=e["days_ago"]), f"proximity.json: review of {e['file']}",
               lambda e=e: _review(session, e)) for e in spec.get("reviews", [])]
    return [Step(at, first_order + n, label, run) for n, (at, label, run) in enumerate(found)]


def load_after_evidence(session: Session, path: Path | None = None) -> None:
    spec = _spec(path).get("after_evidence", {})
    for entry in spec.get("reviews", []):
        _review(session, entry)
    for entry in spec.get("proposals", []):
        service.propose_case(session, _user(session, entry["by"]), _item(session, entry["item"]),
                             service.ProposalData(entry["description"], entry["example_input"]))
