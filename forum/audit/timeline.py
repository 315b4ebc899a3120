"""An item's timeline: every event about it, oldest first, described for people, with word or
line diffs of the texts that changed; and how many events there are (the item page's panel)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from difflib import SequenceMatcher

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from forum.audit.access import require_reader
from forum.auth.models import User
from forum.items import history
from forum.trail import chain
from forum.trail.models import Event
from forum.trail.service import events_for


def count_for_subject(session: Session, subject: str) -> int:
    return session.scalar(select(func.count()).select_from(Event).where(Event.subject == subject)) or 0


@dataclass
class DiffPart:
    op: str  # "equal", "delete", "insert", or "skip" (unchanged lines left out)
    text: str


@dataclass
class TextDiff:
    mode: str  # "words" (one-line texts) or "lines"
    parts: list[DiffPart]


@dataclass
class TimelineChange:
    label: str
    before: str
    after: str
    diff: TextDiff | None = None


@dataclass
class TimelineEntry:
    seq: int
    at: datetime
    actor: str
    actor_name: str
    kind: str
    label: str
    note: str = ""
    changes: list[TimelineChange] = field(default_factory=list)
    facts: list[tuple[str, str, bool]] = field(default_factory=list)  # (label, value, long text)
    hash: str = ""


def timeline(session: Session, actor: User | None, item) -> list[TimelineEntry]:
    """Every event of the item, oldest first, rendered for people (two queries)."""
    require_reader(actor)
    events = events_for(session, item.subject)
    names = history.Names.load(session, events)
    entries = []
    for event in events:
        data = event.data
        label, described, note = history.summarise(event.kind, data, names)
        pairs = _before_after_pairs(data)
        changes = []
        for change in described:
            raw = pairs.pop(change.label, None)
            # Diff the stored text only where the describer shows it as it is (not a label).
            shown_raw = raw is not None and change.before in (raw[0], "—") and change.after in (raw[1], "—")
            diff = _diff_if_text(*raw) if shown_raw else None
            changes.append(TimelineChange(change.label, change.before, change.after, diff))
        for key, (before, after) in pairs.items():
            changes.append(TimelineChange(key, _plain(before), _plain(after), _diff_if_text(before, after)))
        entries.append(TimelineEntry(
            seq=event.seq, at=event.at, actor=event.actor,
            actor_name=names.person(event.actor), kind=event.kind, label=label,
            note=note, changes=changes, facts=_facts(data), hash=event.hash,
        ))
    return entries


def _label(key: str) -> str:
    return history.FIELD_LABELS.get(key, key.replace("_", " ").capitalize())


def _before_after_pairs(data: dict) -> dict[str, tuple]:
    """{label: (before, after)} for the {field: {before, after}} entries of an event's data
    (at the top level or under "changes")."""
    pairs = {}
    for source in (data, data.get("changes")):
        if not isinstance(source, dict):
            continue
        for key, value in source.items():
            if isinstance(value, dict) and "before" in value and "after" in value:
                pairs[_label(key)] = (value["before"], value["after"])
    return pairs


def _diff_if_text(before, after) -> TextDiff | None:
    """A diff for texts of several words or lines; short values read better as before → after."""
    if not (isinstance(before, str) and isinstance(after, str)):
        return None
    if len(before.split()) < 2 and len(after.split()) < 2:
        return None
    return text_diff(before, after)


def _plain(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        return value
    return chain.canonical_json(value)


# Keys of event data shown as facts on the timeline, in this order: the evidence file's hash,
# a decision's outcome and rationale, and the like (other areas' events).
FACT_KEYS = (
    ("outcome", "Outcome", False),
    ("rationale", "Rationale", True),
    ("conditions", "Conditions", True),
    ("filename", "File", False),
    ("sha256", "File SHA-256", False),
    ("size", "Size (bytes)", False),
    ("reason", "Reason", True),
)


def _facts(data: dict) -> list[tuple[str, str, bool]]:
    facts = []
    for key, label, long in FACT_KEYS:
        value = data.get(key)
        if value not in (None, "", [], {}):
            facts.append((label, value if isinstance(value, str) else chain.canonical_json(value), long))
    return facts


def text_diff(before: str, after: str, context: int = 2) -> TextDiff:
    """A word diff for one-line texts, a line diff (with ``context`` unchanged lines around each
    change) for longer ones. Plain text parts: the template escapes them."""
    if "\n" not in before and "\n" not in after:
        a, b = _words(before), _words(after)
        parts = []
        for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
            if op in ("delete", "replace"):
                _add(parts, "delete", "".join(a[i1:i2]))
            if op in ("insert", "replace"):
                _add(parts, "insert", "".join(b[j1:j2]))
            if op == "equal":
                _add(parts, "equal", "".join(a[i1:i2]))
        return TextDiff("words", parts)
    a, b = before.splitlines(), after.splitlines()
    parts = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            same = a[i1:i2]
            if len(same) > 2 * context + 1:
                head_lines = same[:context] if i1 > 0 else []
                tail_lines = same[-context:] if i2 < len(a) else []
                parts += [DiffPart("equal", line) for line in head_lines]
                skipped = len(same) - len(head_lines) - len(tail_lines)
                parts.append(DiffPart("skip", f"{skipped} unchanged line{'s' if skipped != 1 else ''}"))
                parts += [DiffPart("equal", line) for line in tail_lines]
            else:
                parts += [DiffPart("equal", line) for line in same]
            continue
        parts += [DiffPart("delete", line) for line in a[i1:i2]]
        parts += [DiffPart("insert", line) for line in b[j1:j2]]
    return TextDiff("lines", parts)


def _words(text: str) -> list[str]:
    return re.findall(r"\s+|\S+", text)


def _add(parts: list[DiffPart], op: str, text: str) -> None:
    if not text:
        return
    if parts and parts[-1].op == op:
        parts[-1].text += text
    else:
        parts.append(DiffPart(op, text))
