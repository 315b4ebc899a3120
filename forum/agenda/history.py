"""How the agenda's events read in an item's history (and a meeting's)."""

from __future__ import annotations

from forum.agenda.models import MEETING_STATUSES, OUTCOMES
from forum.items.history import Change, Describers, Names

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


def _show(key: str, value, names: Names | None = None) -> str:
    if value is None or value == "":
        return "—"
    if key == "outcome":
        return OUTCOMES.get(value, value)
    if key == "presenter" and names is not None:
        return names.person(value)
    return str(value)


def _changes(data: dict, names: Names) -> list[Change]:
    return [
        Change(_LABELS.get(key, key), _show(key, change.get("before"), names),
               _show(key, change.get("after"), names), long=key in _LONG)
        for key, change in data.get("changes", {}).items()
    ]


@describe("meeting.created")
def _meeting_created(data: dict, names: Names):
    return "Planned the meeting", [], f"{data.get('title', '')} — starts {data.get('starts_at', '')}, " \
        f"{data.get('duration_minutes', '')} minutes"


@describe("meeting.updated")
def _meeting_updated(data: dict, names: Names):
    return "Changed the meeting's details", _changes(data, names), ""


@describe("meeting.status_changed")
def _meeting_status(data: dict, names: Names):
    change = Change("Status", MEETING_STATUSES.get(data.get("from"), "—"), MEETING_STATUSES.get(data.get("to"), "—"))
    return "Changed the meeting's status", [change], ""


@describe("agenda.entry_added")
def _entry_added(data: dict, names: Names):
    note = f"#{data.get('item')} {data.get('title', '')} at position {data.get('position')}, " \
        f"{data.get('time_box_minutes')} minutes"
    if data.get("carried_from"):
        note += " (carried forward)"
    return "Added an item to the agenda", [], note


@describe("agenda.entry_updated")
def _entry_updated(data: dict, names: Names):
    return f"Changed the agenda entry of item #{data.get('item')}", _changes(data, names), ""


@describe("agenda.entry_moved")
def _entry_moved(data: dict, names: Names):
    change = Change("Position", str(data.get("from")), str(data.get("to")))
    return f"Moved item #{data.get('item')} on the agenda", [change], ""


@describe("agenda.entry_removed")
def _entry_removed(data: dict, names: Names):
    return "Took an item off the agenda", [], f"#{data.get('item')} {data.get('title', '')}"


@describe("agenda.conflict_declared")
def _conflict(data: dict, names: Names):
    return "Declared a conflict of interest (recused)", [], data.get("reason", "")


@describe("decision.recorded")
def _decision(data: dict, names: Names):
    changes = [Change("Outcome", "—", _show("outcome", data.get("outcome"))),
               Change("Rationale", "—", data.get("rationale", ""), long=True)]
    if data.get("conditions"):
        changes.append(Change("Conditions", "—", data["conditions"], long=True))
    if data.get("expires_on"):
        changes.append(Change("Expires on", "—", data["expires_on"]))
    for action in data.get("actions", []):
        changes.append(Change("Action", "—", f"{action.get('text')} — {names.person(action.get('owner'))}, "
                                             f"due {action.get('due_on')}"))
    parts = [f"Deciders: {', '.join(names.person(d) for d in data.get('deciders', [])) or '—'}"]
    if data.get("recused"):
        parts.append("recused: " + "; ".join(f"{names.person(r.get('user'))} ({r.get('reason')})"
                                             for r in data["recused"]))
    if data.get("reviews_before") is not None:  # technical proximity: reviews before deciding
        parts.append("failing cases reviewed before: " + "; ".join(
            f"{names.person(who)} ({', '.join(f'run #{r}' for r in runs) or 'none'})"
            for who, runs in data["reviews_before"].items()))
    return "Recorded the decision", changes, ". ".join(parts)


@describe("decision.amended")
def _amended(data: dict, names: Names):
    return f"Amended the decision (revision {data.get('revision')})", _changes(data, names), data.get("reason", "")


@describe("action.completed")
def _action_done(data: dict, names: Names):
    return "Completed a follow-up action", [], f"{data.get('text', '')} — {data.get('note', '')}"
