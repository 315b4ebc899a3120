"""The payloads of the agenda's trail events that the bulk generator (``seed/scale.py``) writes
as well as the services: each shape is defined once, here, so both write the same keys in the
same formats (times in ISO 8601 with "Z", dates as ``YYYY-MM-DD``). Plain values in, a dict out;
no database."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from forum.agenda.common import iso, json_value


def meeting_created(title: str, starts_at: datetime, duration_minutes: int, status: str) -> dict:
    """``meeting.created`` (subject ``meeting:<id>``)."""
    return {"title": title, "starts_at": iso(starts_at), "duration_minutes": duration_minutes, "status": status}


def meeting_status_changed(action: str, from_: str, to: str) -> dict:
    """``meeting.status_changed`` (subject ``meeting:<id>``): the action and the move it made."""
    return {"action": action, "from": from_, "to": to}


def entry_added(entry_id: int, item_id: int, title: str, position: int, time_box_minutes: int,
                presenter_email: str | None, carried_from: int | None) -> dict:
    """``agenda.entry_added`` (subject ``meeting:<id>``); ``carried_from``: the id of the item's
    entry on an earlier meeting that this one carries forward."""
    return {
        "entry": entry_id, "item": item_id, "title": title, "position": position,
        "time_box_minutes": time_box_minutes, "presenter": presenter_email, "carried_from": carried_from,
    }


def decision_recorded(meeting_id: int, entry_id: int, decision_id: int, *, outcome: str, rationale: str,
                      conditions: str, expires_on: date | None, deciders: Iterable[str],
                      reviews_before: dict[str, list[int]] | None, recused: Iterable[tuple[str, str]],
                      actions: Iterable[tuple[int, str, str, date]]) -> dict:
    """``decision.recorded`` (subject ``item:<id>``). ``deciders``: their e-mails;
    ``reviews_before``: each decider's e-mail → the runs reviewed before deciding
    (forum.proximity.service.snapshot_summary; None without a snapshot); ``recused``: (e-mail,
    reason) pairs; ``actions``: (id, text, owner's e-mail, due date) of the follow-up actions."""
    return {
        "meeting": meeting_id, "entry": entry_id, "decision": decision_id,
        "outcome": outcome, "rationale": rationale, "conditions": conditions,
        "expires_on": json_value(expires_on),
        "deciders": list(deciders),
        "reviews_before": reviews_before,
        "recused": [{"user": email, "reason": reason} for email, reason in recused],
        "actions": [{"id": action_id, "text": text, "owner": owner, "due_on": due_on.isoformat()}
                    for action_id, text, owner, due_on in actions],
    }
