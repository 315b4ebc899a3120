"""Results derived from the whole data set, reused until the decision trail moves.

Every change in the forum writes exactly one trail event in its own transaction, so the trail
head's ``seq`` names the state of the data: two reads at the same ``seq`` see the same
items, ratings, positions, evidence and meetings. A result that depends only on that state and on
the clock — the escalation queue's order and count, how many items each list holds, which items'
evidence drifted — can be kept under the key (what, seq, minute) and served again without
re-running its scan. A result that reads nothing the discussion writes (comments, follows) is
kept under the head's ``items_seq`` instead, which such changes leave in place (``items_only``).
A result that reads only what belongs to one scope (an AI system's page: its items, their
evidence and decisions) is kept under the head's ``shared_seq`` and that scope's own counter
(``scope``): a change confined to another scope (a result file for another system's item) moves
neither. The minute is there because some results depend on the clock (evidence
goes stale when its age passes the tier's limit): a cached result is at most a minute behind the
clock, never behind a change.

What is cached are plain values — counts, lists of ids, the failing gates of a page's items,
rendered HTML that reads the same for every viewer (a meeting's pre-read pack, about 150 KB at 30
entries; the rows of a list page, ``rendered``) — never ORM rows: a page reads its rows by id
(one cheap statement), or not at all when their rendering is kept. The store is per app (per worker
process), bounded (least recently used out first), and costs one primary-key read of the trail
head per transaction.

Reading the head before computing matters: the result then reflects the data at that head or
later, so a concurrent change can only make it newer than its key, and the next request, seeing
the new head, computes afresh.

FORUM_DERIVED_CACHE_SIZE sets the number of results kept per worker (0 turns the cache off).

The kernel knows nothing of the trail: the trail area names the state with ``init_app(app,
version)``, a function of a session returning the head's ``seq``.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

from flask import current_app, g, has_app_context
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from sqlalchemy import event
from sqlalchemy.orm import Session

from forum.core import clock

T = TypeVar("T")
EXTENSION = "forum.derived"


class Store:
    """A bounded least-recently-used map, safe across threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[Hashable, object] = OrderedDict()
        self.lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable) -> tuple[bool, object]:
        with self.lock:
            if key in self.entries:
                self.entries.move_to_end(key)
                self.hits += 1
                return True, self.entries[key]
            self.misses += 1
            return False, None

    def put(self, key: Hashable, value: object) -> None:
        with self.lock:
            self.entries[key] = value
            self.entries.move_to_end(key)
            while len(self.entries) > self.size:
                self.entries.popitem(last=False)


def _store() -> Store | None:
    if not has_app_context():
        return None
    store = current_app.extensions.get(EXTENSION)
    if store is None:
        size = int(current_app.config.get("DERIVED_CACHE_SIZE", 256))
        if size <= 0:
            return None
        store = current_app.extensions.setdefault(EXTENSION, Store(size))
    return store


# A transaction that has written is not a state anyone else sees (and may yet roll back, which
# would leave a result cached under a seq that a later, different change then takes): its reads
# are never cached.
WROTE = "forum.derived.wrote"
SEQ = "forum.derived.seq"
VERSION = "forum.derived.version"


def _wrote(session: Session, _flush_context) -> None:
    session.info[WROTE] = True


def _ended(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(WROTE, None)
        session.info.pop(SEQ, None)


def init_app(app, version: Callable[[Session], tuple[int, int, int]]) -> None:
    """Cache derived results for ``app``: ``version(session)`` names the data's state, as three
    counters: of every change, of the changes that may have written items or AI systems, and of
    those not confined to one scope (the trail area passes its head's ``seq``, ``items_seq`` and
    ``shared_seq``). Watches the app's sessions for writes."""
    app.extensions[VERSION] = version
    factory = app.extensions["forum.sessionmaker"]
    event.listen(factory, "after_flush", _wrote)
    event.listen(factory, "after_transaction_end", _ended)


def state(session: Session) -> tuple[tuple[int, int, int], str]:
    """The key of the data's state: the trail head's three counters and the current minute,
    read once per transaction. A request thus reads one state throughout: were the minute read
    at each call, a minute turning mid-request would show parts of one page at two minutes, and
    compute twice what the page asked for twice."""
    if SEQ not in session.info:
        session.info[SEQ] = (current_app.extensions[VERSION](session), clock.now().strftime("%Y-%m-%dT%H:%M"))
    return session.info[SEQ]


def cached(session: Session, key: Hashable, compute: Callable[[], T], items_only: bool = False,
           scope: Hashable | None = None) -> T:
    """``compute()``, or what it returned for ``key`` at the same trail head and minute. The
    value must be small and plain (counts, ids): it is shared by every request of the worker.

    ``items_only``: the result reads the items and what decides their standing (and AI
    systems), nothing that the discussion's changes write — those recorded with
    ``leaves_items``: comments, follows, notifications, the search index — so a comment or a
    follow leaves it in place, and any other change computes it again.

    ``scope``: the result reads nothing that a change confined to one scope writes (recorded
    with ``confined``: forum.systems.service.record_confined, a result file for one AI system's
    item) but within this scope, whose own counter ``scope`` carries — ``("system", id,
    changed_seq)`` for a system's page, ``()`` for a result that no confined change touches. Such changes elsewhere leave it in place (as
    do the discussion's); any other change computes it again."""
    store = _store()
    if store is None or VERSION not in current_app.extensions or session.new or session.dirty or session.deleted or session.info.get(WROTE):
        return compute()  # no cache, or this transaction holds changes of its own
    (seq, items_seq, shared_seq), minute = state(session)
    if scope is not None:
        version: Hashable = ("shared", shared_seq, scope)
    else:
        version = ("items", items_seq) if items_only else seq
    full = (key, version, minute)
    found, value = store.get(full)
    if found:
        return value  # type: ignore[return-value]
    value = compute()
    store.put(full, value)
    return value


# Kept HTML is the output of templates or macros with autoescaping: user text in it is escaped and
# user Markdown sanitised (forum.core.markdown). It is marked safe (Markup) only so that the
# page's layout does not escape it a second time. Its key must name everything the HTML depends
# on besides the data and the clock, and the HTML must read the same for every viewer who gets
# that key: nothing of the viewer's own, and no CSRF token (``rendered_forms`` keeps forms with
# a slot in place of the token and fills in the request's own).


def rendered(session: Session, key: Hashable, render: Callable[[], Sequence[str]],
             items_only: bool = False, scope: Hashable | None = None) -> tuple[Markup, ...]:
    """The pieces of HTML that ``render()`` returns, or what it returned for ``key`` at the same
    trail head and minute (see above for what kept HTML may hold; ``items_only`` and ``scope``
    as for ``cached``)."""
    pieces = cached(session, ("rendered", key), lambda: tuple(str(piece) for piece in render()), items_only, scope)
    return tuple(Markup(piece) for piece in pieces)


def rendered_with(session: Session, key: Hashable, render: Callable[[], tuple[str, T]],
                  items_only: bool = False, scope: Hashable | None = None) -> tuple[Markup, T]:
    """A piece of HTML and plain facts about it (a count, a title, flags) that ``render()``
    returns, or what it returned for ``key`` at the same trail head and minute: for a page that
    needs a few facts of what it shows besides the HTML, without reading them again
    (``items_only`` and ``scope`` as for ``cached``)."""

    def compute() -> tuple[str, T]:
        html, facts = render()
        return str(html), facts

    html, facts = cached(session, ("rendered", key), compute, items_only, scope)
    return Markup(html), facts


# A form's CSRF token belongs to the viewer's session. Forms rendered for keeping carry this
# marker instead (a new one in every process, of characters that HTML escaping leaves alone, so
# it reads the same in an attribute), and the request's token replaces it when the HTML is served.
CSRF_SLOT = "csrf-slot-" + secrets.token_urlsafe(24)


@contextmanager
def csrf_slot() -> Iterator[None]:
    """While inside: forms (and ``csrf_token()`` in templates) get the CSRF slot as their token.
    Flask-WTF takes the request's token from ``g``, under the token field's name."""
    name = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    missing = object()
    before = g.get(name, missing)
    setattr(g, name, CSRF_SLOT)
    try:
        yield
    finally:
        if before is missing:
            g.pop(name, None)
        else:
            setattr(g, name, before)


def with_token(html: str) -> Markup:
    """Kept HTML with the request's own CSRF token in its slots (``html`` as ``rendered*`` keep
    it: escaped, sanitised)."""
    return Markup(html.replace(CSRF_SLOT, generate_csrf()) if CSRF_SLOT in html else html)


def afresh(html: str) -> Markup:
    """Content that a page kept per facet renders for this request alone instead (one showing a
    refused form with its input and errors): the same templates' output, autoescaped and
    sanitised like kept HTML, with the request's own token. Marked safe, as kept HTML is, so
    that the page's layout does not escape it a second time."""
    return Markup(html)


def rendered_forms(session: Session, key: Hashable, render: Callable[[], tuple[str, T]],
                   items_only: bool = False, scope: Hashable | None = None) -> tuple[Markup, T]:
    """Like ``rendered_with``, for HTML that holds forms: ``render()`` builds and renders them
    inside ``csrf_slot``, and the HTML served carries the request's own token."""

    def slotted() -> tuple[str, T]:
        with csrf_slot():
            return render()

    html, facts = rendered_with(session, key, slotted, items_only, scope)
    return with_token(str(html)), facts
