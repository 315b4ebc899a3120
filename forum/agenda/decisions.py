"""Decisions: recording the decision on an entry (with its deciders, the reviews they had made
and its follow-up actions), amending it, closing a decided item, and the lapse of time-limited
approvals."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from forum.agenda import events
from forum.agenda.common import (
    MAX_ACTION_TEXT,
    MAX_TEXT,
    entry_options,
    is_executive,
    json_value,
    require_executive,
)
from forum.agenda.entries import is_latest_entry, recusals_of, require_not_recused
from forum.agenda.models import OUTCOMES, SETTLING_OUTCOMES, Action, AgendaEntry, Decision
from forum.auth.models import User
from forum.core import clock, policy
from forum.core.errors import Conflict, NotFound, ValidationError
from forum.evidence.pack import basis as evidence_basis
from forum.items import service as items
from forum.items.models import DecisionItem
from forum.probes.service import probes_before
from forum.proximity.service import decision_snapshot, snapshot_summary
from forum.trail.service import record

#: Outcomes that may carry an expiry date (and, for any outcome that approves, policy exceptions).
EXPIRING_OUTCOMES = ("approved_with_conditions",)
APPROVING_OUTCOMES = ("approved", "approved_with_conditions")


def get_decision(session: Session, decision_id: int) -> Decision:
    decision = session.scalar(
        select(Decision).where(Decision.id == decision_id).options(
            selectinload(Decision.entry).options(*entry_options()),
            selectinload(Decision.actions),
        )
    )
    if decision is None:
        raise NotFound(f"There is no decision {decision_id}.")
    return decision


@dataclass
class ActionData:
    text: str
    owner_id: int | None
    due_on: date | None


@dataclass
class DecisionData:
    outcome: str
    rationale: str
    conditions: str = ""
    expires_on: date | None = None
    decider_ids: list[int] = field(default_factory=list)
    actions: list[ActionData] = field(default_factory=list)


@dataclass
class AmendmentData:
    outcome: str
    rationale: str
    conditions: str = ""
    expires_on: date | None = None
    reason: str = ""


def _clean_outcome(item: DecisionItem, outcome: str, rationale: str, conditions: str,
                   expires_on: date | None, new_expiry: bool = True) -> dict:
    """Validate an outcome with its texts; ``new_expiry`` is false when an amendment keeps the
    expiry date on record (which may have passed since)."""
    if outcome not in OUTCOMES:
        raise ValidationError(f"Choose an outcome: {', '.join(OUTCOMES.values())}.", "outcome")
    rationale = (rationale or "").strip()
    if not rationale:
        raise ValidationError("Give the rationale for the decision.", "rationale")
    if len(rationale) > MAX_TEXT:
        raise ValidationError(f"The rationale is {len(rationale)} characters long; the limit is {MAX_TEXT}.", "rationale")
    conditions = (conditions or "").strip()
    if outcome == "approved_with_conditions" and not conditions:
        raise ValidationError("An approval with conditions needs its conditions.", "conditions")
    if conditions and outcome != "approved_with_conditions":
        raise ValidationError(
            "Conditions go with the outcome “approved with conditions”: choose that outcome or "
            "clear the conditions.", "conditions",
        )
    if len(conditions) > MAX_TEXT:
        raise ValidationError(f"The conditions are {len(conditions)} characters long; the limit is {MAX_TEXT}.", "conditions")
    if expires_on is not None:
        may_expire = outcome in EXPIRING_OUTCOMES or (
            outcome in APPROVING_OUTCOMES and item.category == "policy_exception")
        if not may_expire:
            raise ValidationError(
                "Only an approval with conditions, or the approval of a policy exception, can "
                "carry an expiry date.", "expires_on",
            )
        if new_expiry and expires_on <= clock.now().date():
            raise ValidationError("The expiry date must lie in the future.", "expires_on")
    return {"outcome": outcome, "rationale": rationale, "conditions": conditions, "expires_on": expires_on}


def _clean_deciders(session: Session, entry: AgendaEntry, decider_ids: Iterable[int]) -> list[User]:
    ids = sorted(set(decider_ids))
    if not ids:
        raise ValidationError("Tick the executives present who took the decision.", "deciders")
    users = list(session.scalars(select(User).where(User.id.in_(ids))))
    if len(users) != len(ids) or not all(is_executive(u) for u in users):
        raise ValidationError("Deciders must be active executives.", "deciders")
    recused = {note.user_id: note for note in recusals_of(entry)}
    for user in users:
        if user.id in recused:
            raise ValidationError(
                f"{user.display_name} is recused from this item ({recused[user.id].reason}) and "
                "cannot be among its deciders.", "deciders",
            )
    return sorted(users, key=lambda u: u.display_name)


def _clean_actions(session: Session, rows: Iterable[ActionData]) -> list[tuple[str, User, date]]:
    cleaned = []
    today = clock.now().date()
    for number, row in enumerate(rows, start=1):
        text = (row.text or "").strip()
        if not text and row.owner_id is None and row.due_on is None:
            continue  # a blank row of the form
        where = f"actions-{number - 1}"
        if not text:
            raise ValidationError(f"Action {number}: say what is to be done.", f"{where}-text")
        if len(text) > MAX_ACTION_TEXT:
            raise ValidationError(f"Action {number}: at most {MAX_ACTION_TEXT} characters.", f"{where}-text")
        owner = session.get(User, row.owner_id) if row.owner_id is not None else None
        if owner is None:
            raise ValidationError(f"Action {number}: choose who owns it.", f"{where}-owner")
        if not owner.active:
            raise ValidationError(
                f"Action {number}: {owner.display_name}'s account is deactivated; choose an "
                "active owner.", f"{where}-owner",
            )
        if not policy.allows(owner, policy.Action.TAKE_PART):
            raise ValidationError(f"Action {number}: owners are staff members or executives.", f"{where}-owner")
        if row.due_on is None:
            raise ValidationError(f"Action {number}: give a due date.", f"{where}-due_on")
        if row.due_on < today:
            raise ValidationError(f"Action {number}: the due date {row.due_on.isoformat()} is in the past.",
                                  f"{where}-due_on")
        cleaned.append((text, owner, row.due_on))
    return cleaned


def record_decision(session: Session, actor: User, entry: AgendaEntry, data: DecisionData) -> Decision:
    """Record the decision on an entry of an in-session meeting, with its deciders and actions.

    The item moves to decided (approved, with conditions, rejected) or back to escalated
    (deferred, more evidence needed), to be carried forward to the next meeting. Two executives
    recording the same entry at once: the unique (entry, revision) constraint stores exactly one;
    the other gets a Conflict (the caller must roll the session back).
    """
    require_executive(actor, "record decisions")
    meeting = entry.meeting
    if meeting.status != "in_session":
        raise Conflict(
            f"Decisions are recorded while the meeting is in session; “{meeting.title}” is "
            f"{meeting.status_label.lower()}.", "status",
        )
    require_not_recused(entry, actor)
    item = entry.item
    values = _clean_outcome(item, data.outcome, data.rationale, data.conditions, data.expires_on)
    deciders = _clean_deciders(session, entry, data.decider_ids)
    actions = _clean_actions(session, data.actions)
    if entry.decisions:
        raise _already_decided(item.title)
    if item.status != "scheduled":
        raise Conflict(f"“{item.title}” is {item.status_label.lower()}, not scheduled: it cannot "
                       "be decided here.", "status")
    now = clock.now()
    # Which evidence each decider had reviewed, as it stands now (later reviews do not change it).
    snapshot = decision_snapshot(session, item, deciders, now)
    # … and which of them had tried the system themselves (hands-on probes saved before now).
    probed = probes_before(session, item.system_id, [d.id for d in deciders], now)
    for person in snapshot["deciders"]:
        person["probes"] = probed.get(person["id"], [])
    decision = Decision(
        entry=entry, revision=1, **values, recorded_by_id=actor.id, recorded_at=now,
        deciders=deciders, review_snapshot=snapshot, evidence_snapshot=evidence_basis(session, item),
        actions=[Action(text=text, owner_id=owner.id, due_on=due_on, created_at=now)
                 for text, owner, due_on in actions],
    )
    session.add(decision)
    title = item.title  # a failed flush expires every loaded object: read it now
    try:  # the decision row is the first write: the unique constraint settles a race here
        session.flush()
    except IntegrityError as exc:
        raise _already_decided(title) from exc
    record(session, actor, "decision.recorded", item.subject, events.decision_recorded(
        meeting.id, entry.id, decision.id, **values,
        deciders=[u.email for u in deciders],
        reviews_before=snapshot_summary(snapshot),
        recused=[(n.email, n.reason) for n in recusals_of(entry)],
        actions=[(a.id, a.text, owner.email, a.due_on)
                 for a, (_text, owner, _due) in zip(decision.actions, actions, strict=True)],
    ))
    action = "decide" if values["outcome"] in SETTLING_OUTCOMES else "defer"
    items.transition(session, actor, item, action, note=f"{decision.outcome_label} at “{meeting.title}”")
    return decision


def _already_decided(title: str) -> Conflict:
    return Conflict(
        f"A decision on “{title}” has just been recorded by someone else. Your input is "
        "kept below; compare it with the decision now on record, and amend that decision if it "
        "needs correcting.", "decision",
    )


def amend_decision(session: Session, actor: User, decision: Decision, data: AmendmentData) -> Decision:
    """Correct a decision: a new revision that references the one it corrects, which stays as it
    was. An amendment corrects the record and does not move the item, so it may change the
    outcome only within the same effect (approved / with conditions / rejected; or deferred /
    more evidence needed)."""
    require_executive(actor, "amend decisions")
    entry = decision.entry
    require_not_recused(entry, actor)
    latest = entry.decisions[-1]
    if latest.id != decision.id:
        raise Conflict(
            f"This decision has been amended already (revision {latest.revision} is current). "
            "Amend the current revision.", "decision",
        )
    reason = (data.reason or "").strip()
    if not reason:
        raise ValidationError("Say why the decision is amended.", "reason")
    if len(reason) > MAX_TEXT:
        raise ValidationError(f"At most {MAX_TEXT} characters.", "reason")
    values = _clean_outcome(entry.item, data.outcome, data.rationale, data.conditions,
                            data.expires_on, new_expiry=data.expires_on != decision.expires_on)
    if (values["outcome"] in SETTLING_OUTCOMES) != (decision.outcome in SETTLING_OUTCOMES):
        raise ValidationError(
            f"An amendment cannot turn “{decision.outcome_label}” into "
            f"“{OUTCOMES[values['outcome']]}”: that would move the item between decided and the "
            "escalation queue. Record the new outcome at a meeting instead.", "outcome",
        )
    changes = {
        key: {"before": json_value(getattr(decision, key)), "after": json_value(value)}
        for key, value in values.items() if getattr(decision, key) != value
    }
    if not changes:
        raise ValidationError("The amendment changes nothing: edit the outcome, rationale, "
                              "conditions or expiry date.", "rationale")
    amendment = Decision(
        entry=entry, revision=decision.revision + 1, amends_id=decision.id, **values,
        amendment_reason=reason, recorded_by_id=actor.id, recorded_at=clock.now(),
        deciders=[], actions=[],
    )
    session.add(amendment)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict("Someone else amended this decision at the same moment. Reload it and "
                       "amend the current revision.", "decision") from exc
    record(session, actor, "decision.amended", entry.item.subject, {
        "meeting": entry.meeting_id, "entry": entry.id, "decision": amendment.id,
        "amends": decision.id, "revision": amendment.revision, "reason": reason, "changes": changes,
    })
    return amendment


# ---------------------------------------------------------------------------------------------
# Closing decided items
# ---------------------------------------------------------------------------------------------
def entry_actions(session: Session, entry: AgendaEntry) -> list[Action]:
    """The follow-up actions of every revision of the decision on ``entry``."""
    return list(session.scalars(
        select(Action).join(Decision, Action.decision_id == Decision.id)
        .where(Decision.entry_id == entry.id).order_by(Action.id)
    ))


def can_close(session: Session, decision: Decision) -> bool:
    item = decision.entry.item
    return item.status == "decided" and _is_current(session, decision) and not any(
        not a.done for a in entry_actions(session, decision.entry))


def _is_current(session: Session, decision: Decision) -> bool:
    """The decision is its entry's latest revision, and the entry is its item's latest."""
    entry = decision.entry
    return is_latest_entry(session, entry) and entry.decisions[-1].id == decision.id


def close_item(session: Session, actor: User, decision: Decision) -> DecisionItem:
    """An executive closes a decided item once no follow-up action is open."""
    require_executive(actor, "close decided items")
    entry = decision.entry
    require_not_recused(entry, actor)
    item = entry.item
    if not _is_current(session, decision):
        raise Conflict("This is not the item's current decision.", "decision")
    open_actions = [a for a in entry_actions(session, entry) if not a.done]
    if open_actions:
        raise Conflict(
            f"{len(open_actions)} follow-up action{'s are' if len(open_actions) != 1 else ' is'} "
            "still open; the item closes by itself when the last one is done.", "status",
        )
    return items.transition(session, actor, item, "close", note=f"decision: {decision.outcome_label}")


# ---------------------------------------------------------------------------------------------
# Lapse of time-limited approvals
# ---------------------------------------------------------------------------------------------
def lapsed_approvals(session: Session, today: date) -> list[Decision]:
    """Current decisions whose expiry date has passed while their item is still decided or closed."""
    newer = Decision.__table__.alias("newer")
    later_entry = AgendaEntry.__table__.alias("later_entry")
    candidates = session.scalars(
        select(Decision)
        .join(AgendaEntry, Decision.entry_id == AgendaEntry.id)
        .join(DecisionItem, AgendaEntry.item_id == DecisionItem.id)
        .where(
            Decision.expires_on.is_not(None), Decision.expires_on < today,
            Decision.outcome.in_(APPROVING_OUTCOMES),
            DecisionItem.status.in_(("decided", "closed")),
            ~select(newer.c.id).where(newer.c.amends_id == Decision.id).exists(),
            ~select(later_entry.c.id).where(
                later_entry.c.item_id == AgendaEntry.item_id, later_entry.c.id > AgendaEntry.id
            ).exists(),
        )
        .options(selectinload(Decision.entry).selectinload(AgendaEntry.item))
        .order_by(Decision.expires_on, Decision.id)
    )
    return list(candidates)


def expire_approvals(session: Session, now: datetime | None = None) -> list[DecisionItem]:
    """Return every item whose approval has lapsed to the escalation queue ("approval expired")
    through the system's revalidate transition; returns those items."""
    today = (now or clock.now()).date()
    returned = []
    for decision in lapsed_approvals(session, today):
        item = decision.entry.item
        items.transition(session, None, item, "revalidate", note="approval expired")
        returned.append(item)
    return returned
