"""Weighing items: their functions' totals and stances, the tier, the divergence flag and the
escalation reasons that hold (forum.weighing.rules), computed in bulk; and the forum on one item
as its page shows it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from forum.auth.models import OrgFunction
from forum.auth.service import FunctionLabel, function_labels
from forum.core.paging import Page
from forum.items.models import DecisionItem
from forum.items.rubric import RUBRIC, Rubric, Tier
from forum.weighing import rules
from forum.weighing.comments import COMMENTS_PER_PAGE
from forum.weighing.models import Comment, Escalation, Position, WeightRating
from forum.weighing.rules import ForumSettings, Scale


@dataclass(frozen=True)
class Reason:
    rule: str  # the name of a rule in forum.weighing.rules.RULES
    text: str


@dataclass
class Weighing:
    """What the forum says about one item: its functions' totals and stances, the derived tier,
    the divergence flag and the escalation reasons that hold."""

    item_id: int
    status: str
    totals: dict[str, int] = field(default_factory=dict)  # function key -> current total
    stances: dict[str, str] = field(default_factory=dict)  # function key -> stance
    labels: dict[str, str] = field(default_factory=dict)  # function key -> label
    tier: Tier | None = None
    divergent: bool = False
    reasons: list[Reason] = field(default_factory=list)

    @property
    def recommended(self) -> bool:
        """Escalation is recommended for an open item on which any rule holds."""
        return self.status == "open" and bool(self.reasons)

    def awaiting(self, function_key: str) -> bool:
        return function_key not in self.totals or function_key not in self.stances


def _finish(session: Session, items_: Sequence[DecisionItem], weighings: dict[int, Weighing],
            settings: ForumSettings, rubric: Rubric) -> dict[int, Weighing]:
    """Tier, divergence and the reasons of every rule, in the rules' order."""
    scale = Scale(rubric)
    for item in items_:
        w = weighings[item.id]
        w.tier = scale.tier(w.totals.values())
        w.divergent = scale.diverges(w.totals.values())
    if items_:
        weighed = [(item, weighings[item.id]) for item in items_]
        for rule in rules.RULES:
            for item_id, text in rule.explain(session, weighed, settings, rubric).items():
                weighings[item_id].reasons.append(Reason(rule.name, text))
    return weighings


def weigh(session: Session, items_: Sequence[DecisionItem], settings: ForumSettings,
          rubric: Rubric = RUBRIC) -> dict[int, Weighing]:
    """Weighings of many items: two queries (ratings, positions) plus the rules' (the evidence
    rule's two), whatever the number of items."""
    items_ = list({i.id: i for i in items_}.values())
    weighings = {i.id: Weighing(i.id, i.status) for i in items_}
    if not items_:
        return weighings
    ids = list(weighings)
    for item_id, key, label, total in session.execute(
        select(WeightRating.item_id, WeightRating.function_key, OrgFunction.label, WeightRating.total)
        .join(OrgFunction, OrgFunction.key == WeightRating.function_key)
        .where(WeightRating.item_id.in_(ids))
    ):
        weighings[item_id].totals[key] = total
        weighings[item_id].labels[key] = label
    for item_id, key, label, stance in session.execute(
        select(Position.item_id, Position.function_key, OrgFunction.label, Position.stance)
        .join(OrgFunction, OrgFunction.key == Position.function_key)
        .where(Position.item_id.in_(ids))
    ):
        weighings[item_id].stances[key] = stance
        weighings[item_id].labels[key] = label
    return _finish(session, items_, weighings, settings, rubric)


# ---------------------------------------------------------------------------------------------
# The forum on one item
# ---------------------------------------------------------------------------------------------
@dataclass
class ItemForum:
    ratings: list[WeightRating]
    positions: list[Position]
    comments: Page
    escalations: list[Escalation]
    functions: list[FunctionLabel]  # the columns of the weight table: required, then others rated
    missing_positions: list[FunctionLabel]  # required functions without a position
    weighing: Weighing


def _comment_page(session: Session, item_id: int, requested: int | None) -> Page:
    """One page of the item's discussion, oldest first; ``requested`` None: the last page, where
    the newest comments are. One statement, the count of all the item's comments riding along as
    a subquery: the last page is read newest first (the newest ``COMMENTS_PER_PAGE``, cut to what
    the last page holds), another page from its offset. A page past the end shows the last page
    (a second statement)."""
    per_page = COMMENTS_PER_PAGE
    total = select(func.count()).select_from(Comment).where(Comment.item_id == item_id).scalar_subquery().correlate(None)

    def read(newest_first: bool, offset: int = 0) -> tuple[list[Comment], int]:
        order = (Comment.created_at.desc(), Comment.id.desc()) if newest_first else (Comment.created_at, Comment.id)
        rows = session.execute(
            select(Comment, total).where(Comment.item_id == item_id)
            .options(joinedload(Comment.author), joinedload(Comment.function))
            .order_by(*order).limit(per_page).offset(offset)
        ).all()
        return [row[0] for row in rows], (rows[0][1] if rows else 0)

    def last_page() -> Page:
        newest, count = read(newest_first=True)
        pages = max(1, -(-count // per_page))
        shown = count - (pages - 1) * per_page  # what the last page holds
        return Page(items=newest[:shown][::-1], total=count, page=pages, per_page=per_page)

    if requested is None:
        return last_page()
    page = max(1, requested)
    comments, count = read(newest_first=False, offset=(page - 1) * per_page)
    if comments or page == 1:
        return Page(items=comments, total=count, page=page, per_page=per_page)
    return last_page()  # past the end


def item_forum(session: Session, item: DecisionItem, settings: ForumSettings,
               comment_page: int | None = None, rubric: Rubric = RUBRIC) -> ItemForum:
    """Everything the item page shows of the forum: five queries plus the rules' (the evidence
    rule's two)."""
    ratings = list(session.scalars(
        select(WeightRating).where(WeightRating.item_id == item.id)
        .options(joinedload(WeightRating.rater), joinedload(WeightRating.function))
    ))
    positions = list(session.scalars(
        select(Position).where(Position.item_id == item.id)
        .options(joinedload(Position.author), joinedload(Position.function))
    ))
    comments = _comment_page(session, item.id, comment_page)
    escalations = list(session.scalars(
        select(Escalation).where(Escalation.item_id == item.id)
        .options(joinedload(Escalation.actor)).order_by(Escalation.escalated_at.desc(), Escalation.id.desc())
    ))
    known = {f.key: f for f in function_labels(session)}

    weighing = Weighing(item.id, item.status)
    for r in ratings:
        weighing.totals[r.function_key] = r.total
        weighing.labels[r.function_key] = r.function.label
    for p in positions:
        weighing.stances[p.function_key] = p.stance
        weighing.labels[p.function_key] = p.function.label
    _finish(session, [item], {item.id: weighing}, settings, rubric)

    required = [known[k] for k in settings.required_functions if k in known]
    rated = [known[r.function_key] for r in sorted(ratings, key=lambda r: known[r.function_key].label)
             if r.function_key not in settings.required_functions]
    return ItemForum(
        ratings=ratings, positions=sorted(positions, key=lambda p: p.function.label),
        comments=comments,
        escalations=escalations, functions=required + rated,
        missing_positions=[f for f in required if f.key not in weighing.stances],
        weighing=weighing,
    )
