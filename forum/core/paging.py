"""One page of a longer list, for the list pages and the pagination macro."""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Select, and_, func, literal, or_, select, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.functions import FunctionElement

from forum.core.derived import cached
from forum.core.errors import ValidationError


class unindexed(FunctionElement):  # noqa: N801 (used as a function, as SQLAlchemy's own are)
    """``column`` in a condition that no index should answer: a short list read newest first,
    where most rows match, is found fastest by walking the order's index and testing each row.
    SQLite would otherwise read every match through an index on the condition's column and sort
    them all (the executive home page's diverging items: 8 ms → 0.06 ms at 100,000 items). On
    SQLite the column is written ``+column`` (its documented way of saying so); elsewhere as it
    is (PostgreSQL chooses the order's index by itself)."""

    inherit_cache = True

    def __init__(self, column):
        super().__init__(column)
        self.type = column.type


@compiles(unindexed)
def _as_it_is(element, compiler, **kw):
    return compiler.process(element.clauses.clauses[0], **kw)


@compiles(unindexed, "sqlite")
def _unary_plus(element, compiler, **kw):
    return "+" + compiler.process(element.clauses.clauses[0], **kw)


def known_count(total: int | None) -> Select | None:
    """``first_ids``' and ``paginate_rows``' ``count`` for a count known already (a tally kept as
    changes happen): the statement then counts nothing. None for an unknown count."""
    return None if total is None else select(literal(total))


class Paged:
    """Page arithmetic for anything with ``total``, ``page`` and ``per_page`` (the pagination
    macro reads ``pages``, ``has_prev`` and ``has_next``)."""

    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


@dataclass
class Page(Paged):
    items: list
    total: int
    page: int
    per_page: int
    #: The page's row ids in order (paginate_rows); with ``load_rows=False`` the rows are left
    #: to whoever renders them (rows_by_ids), and ``items`` stays empty.
    ids: list = field(default_factory=list)


def paginate(session: Session, query: Select, page: int, per_page: int) -> Page:
    """Run ``query`` (ordered, with its eager loads) for one page: two statements, a count and the
    rows. A page number past the end shows the last page."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    rows = session.scalars(query.limit(per_page).offset((page - 1) * per_page)).unique().all()
    return Page(items=list(rows), total=total, page=page, per_page=per_page)


def _matching(model, conditions: Sequence, joins: Sequence, *columns) -> Select:
    query = select(*columns).select_from(model)
    for target, onclause in joins:
        query = query.join(target, onclause)
    return query.where(*conditions)


def count_of(model, conditions: Sequence, joins: Sequence = (), count_cap: int | None = None) -> Select:
    """How many ``model`` rows meet ``conditions`` (up to ``count_cap``, when given)."""
    if count_cap is None:
        return _matching(model, conditions, joins, func.count(model.id))
    return select(func.count()).select_from(_matching(model, conditions, joins, model.id).limit(count_cap).subquery())


def _direction(element) -> tuple:
    """(column, descending) of one element of an ORDER BY."""
    if isinstance(element, UnaryExpression) and element.modifier in (operators.desc_op, operators.asc_op):
        return element.element, element.modifier is operators.desc_op
    return element, False


def _reversed(order: Sequence) -> list:
    """``order`` read backwards. Exact on both databases, NULLs included: each sorts NULLs at one
    end of an ascending order and at the other end of a descending one."""
    return [column.asc() if desc else column.desc() for column, desc in map(_direction, order)]


def _with_parts(conditions: Sequence, parts: Sequence[Sequence]) -> list:
    """``conditions`` and one of ``parts`` (first_ids)."""
    return [*conditions, or_(*(and_(*part) for part in parts))] if parts else list(conditions)


def first_ids(session: Session, model, conditions: Sequence, order: Sequence, limit: int, offset: int = 0,
              joins: Sequence = (), count_cap: int | None = None, count: Select | None = None,
              parts: Sequence[Sequence] = ()) -> tuple[int, list[int]]:
    """The ids of ``model`` rows meeting ``conditions`` in ``order`` (``limit`` of them after
    ``offset``) with the count of all matches: one statement. (0, []) when the page is empty:
    the count comes with the rows.

    The count is a subquery the database runs once (an index count), not a window over the
    rows: count(*) OVER () made it gather and sort every match to return 20 (38,000 open items:
    27 → 4 ms on SQLite, 53 → 8 ms on PostgreSQL). ``joins``: ``(target, onclause)`` pairs the
    conditions and the order need. ``count_cap``: count the matches only up to this many (the
    count is then ``min(matches, count_cap)``), for a condition that no index answers, where a
    full count would test every row. ``count``: a statement that counts the same rows more
    cheaply than ``conditions`` with ``joins`` would (used as it is).

    ``parts``: the rows meet ``conditions`` and one of these lists of conditions (which no row
    meets two of), where an index in ``order`` (columns, each ascending or descending) serves each part but
    not their union, as an index led by a status serves one status: each part's first
    ``offset + limit`` rows are read in index order, then merged. Without it the database sorts
    every match to return a page (the escalation queue's two statuses: about 60,000 items at
    100,000)."""

    conditions = _with_parts(conditions, parts)
    total = (count if count is not None else count_of(model, conditions, joins, count_cap)).scalar_subquery().correlate(None)
    if not parts:
        query = _matching(model, conditions, joins, model.id, total).order_by(*order).limit(limit).offset(offset)
    else:
        columns = [_direction(element) for element in order]
        keys = [column.label(f"k{n}") for n, (column, _desc) in enumerate(columns)]
        merged = union_all(*(
            _matching(model, [*conditions, *part], joins, model.id.label("row_id"), *keys)
            .order_by(*order).limit(offset + limit).subquery().select()
            for part in parts
        )).subquery()
        merged_order = [merged.c[key.name].desc() if desc else merged.c[key.name]
                        for key, (_column, desc) in zip(keys, columns, strict=True)]
        query = select(merged.c.row_id, total).order_by(*merged_order).limit(limit).offset(offset)
    found = session.execute(query).all()
    return (found[0][1] if found else 0), [row[0] for row in found]


def paginate_rows(session: Session, model, conditions: Sequence, order: Sequence, page: int, per_page: int,
                  options: Sequence = (), cache_key: Hashable | None = None, joins: Sequence = (),
                  count_cap: int | None = None, count: Select | int | None = None, load_rows: bool = True,
                  items_only: bool = False, parts: Sequence[Sequence] = ()) -> Page:
    """One page of ``model`` rows meeting ``conditions`` in ``order``: the page's ids with the count
    of all matches (first_ids: one statement; two more only for a page past the end), then those rows with their eager loads (a deferred join: the OFFSET and the sort skip over ids,
    not over rows joined with what ``options`` loads; a deep page of 100,000 items took 42 ms with
    the join under the OFFSET and 2 ms like this, SQLite).

    With ``cache_key`` — which must name everything ``conditions`` depend on but the data and the
    clock — the count and the ids are reused until the trail moves (forum.core.derived; with
    ``items_only``, until a change other than the discussion's): the page then costs one
    statement for its rows (and one for the trail head).

    ``joins``: ``(target, onclause)`` pairs the conditions and the order need (the register sorts
    decisions by their meeting's date): joined for the ids only, never for the rows.
    ``count_cap``: the page's ``total`` counts up to this many matches; ``count``: a cheaper
    statement for it, or the count itself when it is known already (a tally kept as changes
    happen): a page in the second half of the list is then read from its end, in ``order``
    reversed, so that the last page skips no rows and none skips more than half of them (the
    last of 1,925 pages of open items, cold on PostgreSQL: 23 → 16 ms for the page). ``parts``: the
    conditions' disjoint parts (see first_ids). ``load_rows=False``: only the ids, for a page
    whose rows are rendered from the derived cache (forum.core.derived.rendered) and read only
    when not."""
    known = count if isinstance(count, int) else None
    if known is not None:
        count = known_count(known)

    def ids_of(number: int) -> tuple[int, list[int]]:
        offset = (number - 1) * per_page
        if known is None or not known // 2 < offset < known:
            return first_ids(session, model, conditions, order, per_page, offset, joins, count_cap, count, parts)
        after = known - offset - per_page  # the rows after this page; fewer than none on a short last page
        total, ids = first_ids(session, model, conditions, _reversed(order), per_page + min(after, 0),
                               max(after, 0), joins, count_cap, count, parts)
        return total, ids[::-1]

    def locate() -> tuple[int, int, list[int]]:
        shown = max(1, page)
        total, ids = ids_of(shown)
        if ids:
            return total, shown, ids
        if shown == 1:
            return 0, 1, []  # an empty first page: nothing matches
        # Past the end (or nothing at all): count, and show the last page.
        every = _with_parts(conditions, parts)
        total = session.scalar(count if count is not None else count_of(model, every, joins, count_cap)) or 0
        last = max(1, math.ceil(total / per_page))
        return total, last, (ids_of(last)[1] if total else [])

    if cache_key is None:
        total, shown, ids = locate()
    else:
        total, shown, ids = cached(session, ("page", cache_key, page, per_page, count_cap), locate, items_only)
    rows = rows_by_ids(session, model, ids, options) if load_rows else []
    return Page(items=rows, total=total, page=shown, per_page=per_page, ids=list(ids))


def rows_by_ids(session: Session, model, ids: Sequence[int], options: Sequence = ()) -> list:
    """The ``model`` rows of ``ids`` in that order, with the eager loads of ``options``: one
    statement (none for no ids)."""
    if not ids:
        return []
    place = {id_: n for n, id_ in enumerate(ids)}  # the ids' order is the page's order
    return sorted(session.scalars(select(model).where(model.id.in_(ids)).options(*options)).unique().all(),
                  key=lambda row: place[row.id])


MAX_PAGE = 10**9
_PAGE_NUMBER = re.compile(r"[+-]?[0-9]+")


def page_number(raw: str | None) -> int:
    """The ``page`` query parameter of every list page as a page number: 1 when it is missing,
    empty, not a whole number, zero or negative (a page past the end shows the last page:
    see paginate); ValidationError (a 400) for a number above MAX_PAGE, which no list reaches."""
    text = (raw or "").strip()
    if not _PAGE_NUMBER.fullmatch(text):
        return 1
    if text[0] == "-":
        return 1
    digits = text.lstrip("+").lstrip("0")
    if len(digits) > len(str(MAX_PAGE)) or int(digits or "0") > MAX_PAGE:
        raise ValidationError(f"The page number must be between 1 and {MAX_PAGE:,}.", "page")
    return max(1, int(digits or "0"))
