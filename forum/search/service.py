"""Full-text search over items, comments, decisions and evidence runs: one service, whichever
database is underneath (forum.search.backends picks SQLite FTS5 or PostgreSQL by dialect).

``search`` checks the filters, reads the query (forum.search.query), counts the hits of each kind
and reads one ranked page: two statements. A common word can match most of the forum (a vendor's
name in 80,000 items and runs): each kind's hits are taken newest first up to a cap (the
``SEARCH_HITS_PER_KIND`` setting, 1,000 by default), counted up to it ("more than 1,000") and
ranked among themselves, so that a search does the same bounded work whatever the data size. More
words or a filter narrow such a search to what the person is after. Results respect the same rule
as the item pages: another person's draft item, and everything on it, is not found (auditors see
drafts, as on the item pages).
"""

from __future__ import annotations

import math
import re
from dataclasses import astuple, dataclass, field
from datetime import date, datetime

from markupsafe import Markup, escape
from sqlalchemy.orm import Session

from forum.agenda.models import OUTCOMES
from forum.auth.models import User
from forum.core.derived import cached
from forum.core.errors import ValidationError
from forum.core.paging import Paged
from forum.items.models import CATEGORIES, STATUSES
from forum.search import query as parsing
from forum.search.backends import CLOSE, KINDS, OPEN, Filters, Row
from forum.search.index import backend_of
from forum.weighing.comments import COMMENTS_PER_PAGE  # a comment hit links to its page of the discussion

#: How many hits of each kind a search counts and ranks by default (the newest): the
#: SEARCH_HITS_PER_KIND setting's default, which the search page passes.
HITS_PER_KIND = 1000

KIND_LABELS = {
    "item": "Items",
    "comment": "Comments",
    "decision": "Decisions",
    "evidence": "Evidence runs",
}


@dataclass
class SearchRequest:
    q: str = ""
    kind: str = ""
    status: str = ""
    category: str = ""
    function: str = ""
    date_from: date | None = None
    date_to: date | None = None


@dataclass
class Hit:
    """One result, as plain values for the page. ``title`` and ``snippet`` are safe markup: the
    text escaped, with <mark> around the words that matched."""

    kind: str
    ref_id: int
    item_id: int
    at: datetime
    title: Markup
    snippet: Markup
    item_title: str
    item_status: str
    item_status_label: str
    category_label: str
    function_label: str
    comment_author: str | None = None
    comment_page: int | None = None
    outcome_label: str | None = None
    amended: bool = False
    entry_id: int | None = None
    meeting_id: int | None = None
    meeting_title: str | None = None
    model: str = ""


@dataclass
class Results(Paged):
    request: SearchRequest
    searchable: bool
    hits: list[Hit] = field(default_factory=list)
    #: Hits per kind for this query and these filters, the kind filter aside, up to the cap.
    counts: dict[str, int] = field(default_factory=dict)
    #: The kinds with more hits than the cap: their count reads "more than".
    more: frozenset[str] = frozenset()
    #: The cap: how many hits of each kind are counted and ranked, the newest.
    cap: int = HITS_PER_KIND
    total: int = 0
    page: int = 1
    per_page: int = 20
    dropped_terms: int = 0


def check(request: SearchRequest, functions: set[str]) -> None:
    """Refuse filter values the page does not offer, naming the field."""
    if len(request.q) > parsing.MAX_QUERY_LENGTH:
        raise ValidationError(
            f"The search is {len(request.q)} characters long; the limit is {parsing.MAX_QUERY_LENGTH}.", "q"
        )
    if request.kind and request.kind not in KINDS:
        raise ValidationError(f"Unknown kind of result {request.kind!r}; choose one of: {', '.join(KINDS)}.", "kind")
    if request.status and request.status not in STATUSES:
        raise ValidationError(f"Unknown status {request.status!r}.", "status")
    if request.category and request.category not in CATEGORIES:
        raise ValidationError(f"Unknown category {request.category!r}.", "category")
    if request.function and request.function not in functions:
        raise ValidationError(f"Unknown function {request.function!r}.", "function")
    if request.date_from and request.date_to and request.date_from > request.date_to:
        raise ValidationError("The “from” date is after the “until” date.", "date_to")


def search(session: Session, viewer: User, request: SearchRequest, page: int = 1,
           per_page: int = 20, functions: set[str] | None = None, cap: int = HITS_PER_KIND) -> Results:
    """One page of ranked hits the viewer may see, among the newest ``cap`` of each kind.
    ``functions`` are the known function keys (the caller has them for its filter); None leaves
    the function unchecked."""
    check(request, functions if functions is not None else {request.function})
    if cap < 1:
        raise ValueError(f"the search cap must be at least 1, not {cap}")
    parsed = parsing.parse(request.q)
    results = Results(request=request, searchable=parsed.searchable, per_page=per_page,
                      dropped_terms=parsed.dropped, cap=cap)
    if not parsed.searchable:
        return results
    backend = backend_of(session)
    connection = session.connection()
    filters = Filters(
        viewer_id=viewer.id, viewer_role=viewer.role,
        kind=request.kind, status=request.status, category=request.category,
        function=request.function, date_from=request.date_from, date_to=request.date_to,
    )

    def run() -> tuple[dict[str, int], frozenset[str], int, int, list]:
        found = backend.counts(connection, parsed, filters, cap)
        counts = {kind: min(found.get(kind, 0), cap) for kind in KINDS}
        more = frozenset(kind for kind in KINDS if found.get(kind, 0) > cap)
        total = counts[request.kind] if request.kind else sum(counts.values())
        shown = min(max(1, page), max(1, math.ceil(total / per_page)))
        rows = backend.page(connection, parsed, filters, per_page, (shown - 1) * per_page, cap) if total else []
        return counts, more, total, shown, rows

    # The same search at the same trail head is answered again from the derived cache
    # (forum.core.derived): the rows are plain values, the viewer is in the key.
    results.counts, results.more, results.total, results.page, rows = cached(
        session, ("search", astuple(request), astuple(filters), page, per_page, cap), run)
    results.hits = [_hit(row) for row in rows]
    return results


def matching_items(session: Session, viewer: User, words: str, status: str, cap: int = HITS_PER_KIND) -> list[int] | None:
    """The ids of the newest ``cap`` items in ``status`` that the viewer may see and whose own
    text (title, summary, vendor, model) matches ``words`` (the search box's syntax): one
    statement, bounded by the cap whatever the data size. None when ``words`` holds nothing to
    search for (punctuation, one letter)."""
    parsed = parsing.parse(words)
    if not parsed.searchable:
        return None
    filters = Filters(viewer_id=viewer.id, viewer_role=viewer.role, kind="item", status=status)
    return backend_of(session).item_ids(session.connection(), parsed, filters, cap)


# ------------------------------------------------------------------------------ presentation
_MARKDOWN = [
    (re.compile(r"!?\[([^\]\n]*)\]\([^)\s]*\)"), r"\1"),   # [text](url), ![alt](src) -> text
    (re.compile(r"(\*\*|__|~~|`+)"), ""),                   # strong, strike-through, code ticks
    (re.compile(r"(^|\s)[#>]+\s", re.MULTILINE), r"\1"),    # headings, quotes
    (re.compile(r"^[ \t]*(?:[-*+]|\d{1,3}[.)])[ \t]+", re.MULTILINE), ""),  # list items' bullets and numbers
    (re.compile(r"\s+"), " "),
]


def plain(text: str) -> str:
    """The snippet without the Markdown punctuation that reads as noise out of context."""
    for pattern, replacement in _MARKDOWN:
        text = pattern.sub(replacement, text)
    return text.strip()


def marked(text: str | None) -> Markup:
    """Escape ``text`` and turn the database's hit markers into balanced <mark> elements; any
    other markup in the text stays text."""
    out, is_open = [], False
    for part in re.split(f"([{OPEN}{CLOSE}])", text or ""):
        if part == OPEN:
            if not is_open:
                out.append("<mark>")
                is_open = True
        elif part == CLOSE:
            if is_open:
                out.append("</mark>")
                is_open = False
        else:
            out.append(str(escape(part)))
    if is_open:
        out.append("</mark>")
    return Markup("".join(out))


def _hit(row: Row) -> Hit:
    hit = Hit(
        kind=row.kind, ref_id=row.ref_id, item_id=row.item_id, at=row.at,
        title=marked(row.title_marked) if row.kind in ("item", "evidence") else Markup(""),
        snippet=marked(plain(row.snippet_marked or "")),
        item_title=row.item_title, item_status=row.item_status,
        item_status_label=STATUSES.get(row.item_status, row.item_status),
        category_label=CATEGORIES.get(row.item_category, row.item_category),
        function_label=row.function_label,
    )
    if row.kind == "comment":
        hit.comment_author = row.comment_author
        hit.comment_page = max(1, math.ceil((row.comment_position or 1) / COMMENTS_PER_PAGE))
    elif row.kind == "decision":
        hit.outcome_label = OUTCOMES.get(row.outcome or "", row.outcome)
        hit.amended = (row.revision or 1) > 1
        hit.entry_id, hit.meeting_id, hit.meeting_title = row.entry_id, row.meeting_id, row.meeting_title
    elif row.kind == "evidence":
        hit.model = " ".join(part for part in (row.model_id, row.model_version) if part)
    return hit
