"""The payloads of the items area's trail events, built in one place for the services and for
bulk loaders (the scale generator), so an event of a kind has one shape wherever it is written."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date


def json_value(value):
    """A column value as the trail stores it: dates and times in ISO 8601."""
    return value.isoformat() if isinstance(value, date) else value


def created(values: Mapping) -> dict:
    """``item.created``: the item's filed values; every item starts as a draft. An item about no
    AI system of the register says nothing of one."""
    return {"status": "draft", **{key: json_value(value) for key, value in values.items()
                                  if not (key == "system_id" and value is None)}}


def status_changed(action: str, before: str, after: str, note: str = "") -> dict:
    """``item.status_changed``: the lifecycle action taken and the move it made."""
    payload = {"action": action, "from": before, "to": after}
    if note:
        payload["note"] = note
    return payload
