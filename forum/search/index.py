"""Keeping the search index current: in the same transaction as every change, and on demand.

A listener on every ORM session's ``after_flush`` looks at what the flush wrote — new, changed
and deleted items, comments, decisions and evidence runs — and re-reads those rows into the
index on the flush's own connection. The index rows therefore commit with the change and roll
back with it; there is no second transaction and no window in which search and pages disagree.
Only changes to indexed text count: an item's status change (the status filter joins the item)
costs nothing here.

``rebuild`` empties the index and fills it again (``forum search reindex``).
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from forum.agenda.models import Decision
from forum.evidence.models import EvidenceRun
from forum.items.models import DecisionItem
from forum.search.backends import Backend, for_dialect
from forum.weighing.models import Comment

#: The models that are indexed, their kind, and the attributes whose text is indexed.
WATCHED: dict[type, tuple[str, tuple[str, ...]]] = {
    DecisionItem: ("item", ("title", "summary", "vendor", "model_name", "model_version", "created_at")),
    Comment: ("comment", ("body", "item_id", "created_at")),
    Decision: ("decision", ("rationale", "conditions", "amendment_reason", "entry_id", "recorded_at")),
    EvidenceRun: ("evidence", ("suite", "model_id", "model_version", "filename", "item_id", "run_at")),
}


def backend_of(session: Session) -> Backend:
    return for_dialect(session.get_bind().dialect.name)


def _changed(obj, attributes: tuple[str, ...]) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in attributes)


def index_flushed(session: Session, _flush_context) -> None:
    refresh: dict[str, set[int]] = defaultdict(set)
    new: dict[str, set[int]] = defaultdict(set)
    remove: dict[str, set[int]] = defaultdict(set)
    removed_items: set[int] = set()
    for obj in session.new:
        watched = WATCHED.get(type(obj))
        if watched is not None:
            refresh[watched[0]].add(obj.id)
            new[watched[0]].add(obj.id)
        if isinstance(obj, Decision) and obj.amends_id is not None:
            remove["decision"].add(obj.amends_id)  # the amendment now stands in its place
    for obj in session.dirty:
        watched = WATCHED.get(type(obj))
        if watched is not None and _changed(obj, watched[1]):
            refresh[watched[0]].add(obj.id)
    for obj in session.deleted:
        watched = WATCHED.get(type(obj))
        if watched is not None:
            remove[watched[0]].add(obj.id)
            if isinstance(obj, DecisionItem):
                removed_items.add(obj.id)
    if not (refresh or remove or removed_items):
        return
    connection = session.connection()
    backend = for_dialect(connection.dialect.name)
    if removed_items:
        backend.remove_items(connection, removed_items)
    for kind, ids in remove.items():
        backend.remove(connection, kind, ids - refresh[kind])
    for kind, ids in refresh.items():
        backend.refresh(connection, kind, ids, new=new[kind])


def rebuild(session: Session) -> dict[str, int]:
    """Empty the index and index every item, comment, current decision and evidence run again,
    in the session's transaction. Returns the rows indexed per kind."""
    session.flush()
    return backend_of(session).rebuild(session.connection())
