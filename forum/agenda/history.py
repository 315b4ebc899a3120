"""How the agenda's events read in an item's history (and a meeting's)."""

from __future__ import annotations

from forum.agenda.models import MEETING_STATUSES, OUTCOMES
from forum.items.history import Change, Describers

#: How this area's events read in an item's history (connected by the area's init_app).
describe = Describers()

_LABELS = {
    "title": "Title",
    "starts_at": "Starts at",
    "duration_minutes": "Duration (minutes)",
    "time_box_minutes": "Time box (minutes)",
    "presenter": "Presenter",
    "outcome": "Outcome",
    "rationale": "Rationale",
    "conditions": "Conditions",
    "expires_on": "Expires on",
}
_LONG = {"rationale", "conditions"}


def _show(key: str, value) -> str:
    if value is None or value == "":
        return "—"
    if key == "outcome":
        return OUTCOMES.get(value, value)
    return str(value)


def _changes(data: dict) -> list[Change]:
    return [
        Change(_LABELS.get(key, key), _show(key, change.get("before")), _show(key, change.get("after")),
               long=key in _LONG)
        for key, change in data.get("changes", {}).items()
    ]


@describe("meeting.created")
def _meeting_created(data: dict):
    return "Planned the meeting", [], f"{data.get('title', '')} — starts {data.get('starts_at', '')}, " \
        f"{data.get('duration_minutes', '')} minutes"


@describe("meeting.updated")
def _meeting_updated(data: dict):
    return "Changed the meeting's details", _changes(data), ""


@describe("meeting.status_changed")
def _meeting_status(data: dict):
    change = Change("Status", MEETING_STATUSES.get(data.get("from"), "—"), MEETING_STATUSES.get(data.get("to"), "—"))
    return "Changed the meeting's status", [change], ""


@describe("agenda.entry_added")
def _entry_added(data: dict):
    note = f"#{data.get('item')} {data.get('title', '')} at position {data.get('position')}, " \
        f"{data.get('time_box_minutes')} minutes"
    if data.get("carried_from"):
        note += " (carried forward)"
    return "Added an item to the agenda", [], note


@describe("agenda.entry_updated")
def _entry_updated(data: dict):
    return f"Changed the agenda entry of item #{data.get('item')}", _changes(data), ""


@describe("agenda.entry_moved")
def _entry_moved(data: dict):
    change = Change("Position", str(data.get("from")), str(data.get("to")))
    return f"Moved item #{data.get('item')} on the agenda", [change], ""


@describe("agenda.entry_removed")
def _entry_removed(data: dict):
    return "Took an item off the agenda", [], f"#{data.get('item')} {data.get('title', '')}"


@describe("agenda.conflict_declared")
def _conflict(data: dict):
    return "Declared a conflict of interest (recused)", [], data.get("reason", "")


@describe("decision.recorded")
def _decision(data: dict):
    changes = [Change("Outcome", "—", _show("outcome", data.get("outcome"))),
               Change("Rationale", "—", data.get("rationale", ""), long=True)]
    if data.get("conditions"):
        changes.append(Change("Conditions", "—", data["conditions"], long=True))
    if data.get("expires_on"):
        changes.append(Change("Expires on", "—", data["expires_on"]))
    for action in data.get("actions", []):
        changes.append(Change("Action", "—", f"{action.get('text')} — {action.get('owner')}, due {action.get('due_on')}"))
    parts = [f"Deciders: {', '.join(data.get('deciders', [])) or '—'}"]
    if data.get("recused"):
        parts.append("recused: " + "; ".join(f"{r.get('user')} ({r.get('reason')})" for r in data["recused"]))
    if data.get("reviews_before") is not None:  # technical proximity: reviews before deciding
        parts.append("failing cases reviewed before: " + "; ".join(
            f"{who} ({', '.join(f'run #{r}' for r in runs) or 'none'})" for who, runs in data["reviews_before"].items()))
    return "Recorded the decision", changes, ". ".join(parts)


@describe("decision.amended")
def _amended(data: dict):
    return f"Amended the decision (revision {data.get('revision')})", _changes(data), data.get("reason", "")


@describe("action.completed")
def _action_done(data: dict):
    return "Completed a follow-up action", [], f"{data.get('text', '')} — {data.get('note', '')}"
