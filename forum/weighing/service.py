"""Rules of the forum on an item: weight ratings, positions, comments and escalation.

Who may do what (the table in docs/architecture.md; the finer choices are made here):
- ratings and positions are taken *per function*: by an active staff member or executive who
  belongs to a function, for that function only. Executives without a function (the usual case)
  neither rate nor take positions; auditors and admins never do.
- comments and escalations: any active staff member or executive (auditors and admins read only).
- an item's state: drafts are private, so there is no forum activity on them; ratings and positions
  are taken while the item is open, escalated or scheduled; comments also once it is decided;
  nothing changes on a closed item. Only an open item can be escalated.

Every change writes exactly one trail event in the caller's transaction; a refused change (or one
that changes nothing) writes none. An escalation's one event is the lifecycle transition's
``item.status_changed`` (its note is the reason); the Escalation row holds who, when, why and the
recommendation reasons that held at the time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, joinedload

from forum.auth.models import OrgFunction, User
from forum.core import clock
from forum.core.derived import cached
from forum.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from forum.core.pages import format_money
from forum.core.paging import paginate_rows
from forum.core.policy import Action, allows
from forum.evidence import gates
from forum.evidence import service as evidence
from forum.items import service as items
from forum.items.models import DecisionItem
from forum.items.rubric import RUBRIC, Rubric, Tier
from forum.trail.service import record
from forum.weighing import standing
from forum.weighing.models import STANCES, Comment, Escalation, Position, WeightRating
from forum.weighing.queries import weight_conditions

WEIGHING_STATUSES = ("open", "escalated", "scheduled")
DISCUSSION_STATUSES = ("open", "escalated", "scheduled", "decided")
MAX_REASON = 2_000
MAX_COMMENT = 20_000
COMMENTS_PER_PAGE = 20


@dataclass(frozen=True)
class ForumSettings:
    """The forum's configurable rules (FORUM_REQUIRED_FUNCTIONS, FORUM_ESCALATION_EXPOSURE_THRESHOLD)."""

    required_functions: tuple[str, ...] = ("procurement", "product", "risk")
    exposure_threshold: int = 250_000

    @classmethod
    def from_config(cls, config: Mapping) -> ForumSettings:
        raw = str(config.get("REQUIRED_FUNCTIONS", ",".join(cls.required_functions)))
        keys = tuple(dict.fromkeys(k.strip().lower() for k in raw.split(",") if k.strip()))
        return cls(keys, int(config.get("ESCALATION_EXPOSURE_THRESHOLD", cls.exposure_threshold)))


# ---------------------------------------------------------------------------------------------
# Permissions and states
# ---------------------------------------------------------------------------------------------
def can_weigh(actor: User) -> bool:
    """May rate weight and take positions (for the actor's own function)."""
    return allows(actor, Action.TAKE_PART) and bool(actor.function_key)


def can_discuss(actor: User) -> bool:
    return allows(actor, Action.TAKE_PART)


def _own_function(actor: User, function: str | None, what: str) -> str:
    """The function the actor acts for; refuses roles that read only, accounts without a
    function, and acting for another function."""
    if not allows(actor, Action.TAKE_PART):
        raise PermissionDenied(f"Only staff and executives {what}; an {actor.role_label.lower()} reads only.")
    if not actor.function_key:
        raise PermissionDenied(
            f"Only members of a function {what}, for their own function; your account belongs to "
            "no function."
        )
    if function and function != actor.function_key:
        raise PermissionDenied(
            f"Only members of the {function!r} function can {what} for it; you belong to "
            f"{actor.function_key!r}.", "function",
        )
    return actor.function_key


def _check_state(item: DecisionItem, allowed: Sequence[str], what: str) -> None:
    if item.status in allowed:
        return
    if item.status == "draft":
        raise Conflict(f"The item is a draft, which is private to its filer: submit it before anyone can {what}.", "status")
    raise Conflict(
        f"The item is {item.status}: you can {what} only while it is {', '.join(allowed)}.",
        "status",
    )


def _text(value: str | None, field_name: str, label: str, limit: int) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError(f"Give a {label}.", field_name)
    if len(text) > limit:
        raise ValidationError(f"The {label} is {len(text)} characters long; the limit is {limit}.", field_name)
    return text


# ---------------------------------------------------------------------------------------------
# Weight ratings
# ---------------------------------------------------------------------------------------------
@dataclass
class RatingData:
    scores: Mapping[str, object]  # criterion key -> score
    reason: str
    function: str | None = None  # defaults to the rater's function


def clean_scores(scores: Mapping[str, object], rubric: Rubric = RUBRIC) -> dict[str, int]:
    """Check the scores against the rubric: every criterion, known ones only, whole numbers in
    range. Raises ValidationError naming the criterion at fault."""
    if not isinstance(scores, Mapping):
        raise ValidationError("Give the scores as criterion: score pairs.", "scores")
    unknown = [k for k in scores if rubric.criterion(str(k)) is None]
    if unknown:
        raise ValidationError(
            f"Unknown criteria: {', '.join(map(str, unknown))}. The rubric's criteria are: "
            f"{', '.join(rubric.keys)}.", "scores",
        )
    clean = {}
    for criterion in rubric.criteria:
        name = f"score_{criterion.key}"
        if criterion.key not in scores or scores[criterion.key] in (None, ""):
            raise ValidationError(f"Score {criterion.label}: it is missing.", name)
        value = scores[criterion.key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(f"{criterion.label}: give a whole number, not {value!r}.", name)
        if not 0 <= value <= rubric.max_score:
            raise ValidationError(
                f"{criterion.label}: {value} is outside 0–{rubric.max_score}.", name
            )
        clean[criterion.key] = value
    return clean


def _rating_state(rating: WeightRating, rubric: Rubric) -> dict:
    return {
        "scores": dict(rating.scores), "total": rating.total,
        "tier": rubric.tier_for(rating.total).key, "reason": rating.reason,
    }


def rate(
    session: Session, actor: User, item: DecisionItem, data: RatingData, rubric: Rubric = RUBRIC
) -> WeightRating | None:
    """Record the actor's function's rating of the item, replacing its current one. Returns the
    rating, or None when it is the same as the current one (nothing written)."""
    function = _own_function(actor, data.function, "rate strategic weight")
    _check_state(item, WEIGHING_STATUSES, "rate its weight")
    scores = clean_scores(data.scores, rubric)
    reason = _text(data.reason, "reason", "reason for the rating", MAX_REASON)
    rating = session.scalar(
        select(WeightRating).where(WeightRating.item_id == item.id, WeightRating.function_key == function)
    )
    before = _rating_state(rating, rubric) if rating else None
    if rating is not None and rating.scores == scores and rating.reason == reason:
        return None
    if rating is None:
        rating = WeightRating(item_id=item.id, function_key=function)
        session.add(rating)
    rating.rater_id = actor.id
    rating.scores = scores
    rating.total = sum(scores.values())
    rating.reason = reason
    rating.rated_at = clock.now()
    session.flush()
    record(session, actor, "weight.rated", item.subject, {
        "function": function, "before": before, "after": _rating_state(rating, rubric),
    })
    return rating


# ---------------------------------------------------------------------------------------------
# Positions
# ---------------------------------------------------------------------------------------------
@dataclass
class PositionData:
    stance: str
    rationale: str
    function: str | None = None  # defaults to the author's function


def take_position(session: Session, actor: User, item: DecisionItem, data: PositionData) -> Position | None:
    """Set the actor's function's stance on the item (revising its earlier one). Returns the
    position, or None when nothing changed."""
    function = _own_function(actor, data.function, "take positions")
    _check_state(item, WEIGHING_STATUSES, "take a position on it")
    if data.stance not in STANCES:
        raise ValidationError(
            f"Unknown stance {data.stance!r}; choose one of: {', '.join(STANCES.values())}.", "stance"
        )
    rationale = _text(data.rationale, "rationale", "rationale", MAX_REASON)
    position = session.scalar(
        select(Position).where(Position.item_id == item.id, Position.function_key == function)
    )
    before = {"stance": position.stance, "rationale": position.rationale} if position else None
    if before == {"stance": data.stance, "rationale": rationale}:
        return None
    if position is None:
        position = Position(item_id=item.id, function_key=function)
        session.add(position)
    position.author_id = actor.id
    position.stance = data.stance
    position.rationale = rationale
    position.taken_at = clock.now()
    session.flush()
    record(session, actor, "position.taken", item.subject, {
        "function": function, "before": before,
        "after": {"stance": data.stance, "rationale": rationale},
    })
    return position


# ---------------------------------------------------------------------------------------------
# Comments
# ---------------------------------------------------------------------------------------------
def add_comment(session: Session, actor: User, item: DecisionItem, body: str) -> Comment:
    if not can_discuss(actor):
        raise PermissionDenied("Only staff and executives take part in the discussion; your role reads only.")
    _check_state(item, DISCUSSION_STATUSES, "comment on it")
    text = _text(body, "body", "comment", MAX_COMMENT)
    comment = Comment(
        item_id=item.id, author_id=actor.id, function_key=actor.function_key, body=text,
        created_at=clock.now(),
    )
    session.add(comment)
    session.flush()
    record(session, actor, "comment.added", item.subject, {
        "comment": comment.id, "function": comment.function_key, "body": text,
    })
    return comment


def get_comment(session: Session, item: DecisionItem, comment_id: int) -> Comment:
    comment = session.scalar(
        select(Comment).where(Comment.id == comment_id, Comment.item_id == item.id)
        .options(joinedload(Comment.author), joinedload(Comment.function))
    )
    if comment is None:
        raise NotFound(f"There is no comment {comment_id} on item {item.id}.")
    return comment


def can_edit_comment(actor: User, item: DecisionItem, comment: Comment) -> bool:
    return can_discuss(actor) and comment.author_id == actor.id and item.status in DISCUSSION_STATUSES


def edit_comment(session: Session, actor: User, item: DecisionItem, comment: Comment, body: str) -> bool:
    """Replace the comment's text (its author only); the earlier text stays in the trail.
    Returns False when the text is unchanged (nothing written)."""
    if comment.item_id != item.id:
        raise NotFound(f"There is no comment {comment.id} on item {item.id}.")
    if not can_discuss(actor) or comment.author_id != actor.id:
        raise PermissionDenied("Only the author of a comment can edit it.")
    _check_state(item, DISCUSSION_STATUSES, "edit comments")
    text = _text(body, "body", "comment", MAX_COMMENT)
    if text == comment.body:
        return False
    before = comment.body
    comment.body = text
    comment.edited_at = clock.now()
    session.flush()
    record(session, actor, "comment.edited", item.subject, {
        "comment": comment.id, "before": before, "after": text,
    })
    return True


# ---------------------------------------------------------------------------------------------
# Weighing an item: tier, divergence and the escalation rules, computed in bulk
# ---------------------------------------------------------------------------------------------
#: An extra escalation rule (e.g. the evidence area's failing gates): given items, return
#: {item id: reason} for those it flags. It must cost a bounded number of queries for any number
#: of items (one query for all of them, typically).
EscalationRule = Callable[[Session, Sequence[DecisionItem]], dict[int, str]]
#: The same rule as a SQL condition on DecisionItem at a moment (``now``), typically on the item's
#: standing columns (forum.weighing.standing): the escalation queue selects, counts and pages with it.
EscalationCondition = Callable[[datetime], ColumnElement[bool]]


def _failing_gates_rule(session: Session, items: Sequence[DecisionItem]) -> dict[int, str]:
    """The escalation rule "an evidence gate failing"."""
    failing = evidence.failing_gates_of(session, items)
    return {
        item_id: "Evidence gate failing: " + ", ".join(gates.GATE_LABELS[key].lower() for key in keys)
        for item_id, keys in failing.items() if keys
    }


#: The escalation rules beyond the built-in ones (strategic tier, objection, weight divergence,
#: financial exposure), evaluated with them wherever recommendations are shown: each rule gives the
#: reasons shown on items, and its condition holds in SQL for exactly the items the rule flags.
RULES: dict[str, tuple[EscalationRule, EscalationCondition]] = {
    "evidence": (_failing_gates_rule, standing.evidence_failing),
}


@dataclass(frozen=True)
class Reason:
    rule: str  # "strategic", "objection", "divergence", "exposure" or a registered rule's name
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


def _builtin_reasons(item: DecisionItem, w: Weighing, settings: ForumSettings, rubric: Rubric) -> list[Reason]:
    reasons = []
    label = w.labels.get
    top = rubric.tiers[-1]
    strategic = [k for k, total in sorted(w.totals.items()) if rubric.tier_for(total) == top]
    if strategic:
        reasons.append(Reason("strategic", f"{top.label} weight: rated {top.label.lower()} by "
                              + ", ".join(f"{label(k, k)} ({w.totals[k]} of {rubric.max_total})" for k in strategic) + "."))
    objecting = sorted(k for k, stance in w.stances.items() if stance == "object")
    if objecting:
        reasons.append(Reason("objection", f"{', '.join(label(k, k) for k in objecting)} "
                              f"object{'s' if len(objecting) == 1 else ''}."))
    if w.divergent:
        reasons.append(Reason("divergence", "Weight divergence: " + ", ".join(
            f"{label(k, k)} rates it {rubric.tier_for(t).label.lower()}" for k, t in sorted(w.totals.items())
        ) + "."))
    if item.exposure is not None and item.exposure > settings.exposure_threshold:
        reasons.append(Reason("exposure", f"Financial exposure of {format_money(item.exposure)} is above "
                              f"the escalation threshold of {format_money(settings.exposure_threshold)}."))
    return reasons


def _finish(session: Session, items_: Sequence[DecisionItem], weighings: dict[int, Weighing],
            settings: ForumSettings, rubric: Rubric) -> dict[int, Weighing]:
    for item in items_:
        w = weighings[item.id]
        w.tier = rubric.item_tier(w.totals.values())
        w.divergent = rubric.diverges(w.totals.values())
        w.reasons = _builtin_reasons(item, w, settings, rubric)
    if items_:
        for name, (rule, _condition) in RULES.items():
            for item_id, text in rule(session, items_).items():
                if item_id in weighings:
                    weighings[item_id].reasons.append(Reason(name, text))
    return weighings


def weigh(session: Session, items_: Sequence[DecisionItem], settings: ForumSettings,
          rubric: Rubric = RUBRIC) -> dict[int, Weighing]:
    """Weighings of many items: two queries (ratings, positions) plus one per registered rule,
    whatever the number of items."""
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
# Escalation
# ---------------------------------------------------------------------------------------------
def escalate(
    session: Session, actor: User, item: DecisionItem, reason: str, settings: ForumSettings,
    expected_version: int | None = None,
) -> Escalation:
    """Send an open item to the executives, with the actor's reason."""
    spec = items.TRANSITIONS["escalate"]
    if not items.may_perform(actor, item, spec):
        raise PermissionDenied("Only staff and executives escalate items; your role reads only.")
    if item.status not in spec.moves:
        _check_state(item, tuple(spec.moves), "escalate it")
    text = _text(reason, "reason", "reason for the escalation", MAX_REASON)
    recommended = [r.text for r in weigh(session, [item], settings)[item.id].reasons]
    # The transition checks the version and writes the one event of this action.
    items.transition(session, actor, item, "escalate", expected_version=expected_version, note=text)
    escalation = Escalation(
        item_id=item.id, actor_id=actor.id, reason=text, recommended=recommended,
        escalated_at=clock.now(),
    )
    session.add(escalation)
    session.flush()
    return escalation


# ---------------------------------------------------------------------------------------------
# Reading: the forum on one item, and the escalation queue
# ---------------------------------------------------------------------------------------------
@dataclass
class ItemForum:
    ratings: list[WeightRating]
    positions: list[Position]
    comments: items.Page
    escalations: list[Escalation]
    functions: list[OrgFunction]  # the columns of the weight table: required, then others rated
    missing_positions: list[OrgFunction]  # required functions without a position
    weighing: Weighing


def item_forum(session: Session, item: DecisionItem, settings: ForumSettings,
               comment_page: int | None = None, rubric: Rubric = RUBRIC) -> ItemForum:
    """Everything the item page shows of the forum: six queries plus one per registered rule."""
    ratings = list(session.scalars(
        select(WeightRating).where(WeightRating.item_id == item.id)
        .options(joinedload(WeightRating.rater), joinedload(WeightRating.function))
    ))
    positions = list(session.scalars(
        select(Position).where(Position.item_id == item.id)
        .options(joinedload(Position.author), joinedload(Position.function))
    ))
    total = session.scalar(select(func.count()).select_from(Comment).where(Comment.item_id == item.id)) or 0
    pages = max(1, -(-total // COMMENTS_PER_PAGE))
    page = pages if comment_page is None else min(max(1, comment_page), pages)
    comments = list(session.scalars(
        select(Comment).where(Comment.item_id == item.id)
        .options(joinedload(Comment.author), joinedload(Comment.function))
        .order_by(Comment.created_at, Comment.id)
        .limit(COMMENTS_PER_PAGE).offset((page - 1) * COMMENTS_PER_PAGE)
    ))
    escalations = list(session.scalars(
        select(Escalation).where(Escalation.item_id == item.id)
        .options(joinedload(Escalation.actor)).order_by(Escalation.escalated_at.desc(), Escalation.id.desc())
    ))
    known = {f.key: f for f in session.scalars(select(OrgFunction).order_by(OrgFunction.label))}

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
        comments=items.Page(items=comments, total=total, page=page, per_page=COMMENTS_PER_PAGE),
        escalations=escalations, functions=required + rated,
        missing_positions=[f for f in required if f.key not in weighing.stances],
        weighing=weighing,
    )


@dataclass
class QueueFilters:
    tier: str = ""
    divergent: bool = False
    awaiting: str = ""
    status: str = ""  # "", "escalated" or "open"


QUEUE_STATUSES = ("escalated", "open")


@dataclass
class QueueEntry:
    item: DecisionItem
    weighing: Weighing
    escalation: Escalation | None  # the latest, for escalated items


def recommended_condition(settings: ForumSettings, now: datetime, rubric: Rubric = RUBRIC) -> ColumnElement[bool]:
    """Open items on which an escalation rule holds at ``now`` (Weighing.recommended, in SQL on
    the items' standing columns): the built-in rules, then every registered rule's condition."""
    return and_(DecisionItem.status == "open", or_(
        standing.strategic(rubric), DecisionItem.objection, standing.divergent(rubric),
        DecisionItem.exposure > settings.exposure_threshold,
        *(condition(now) for _rule, condition in RULES.values()),
    ))


def queue_condition(status: str, settings: ForumSettings, now: datetime, rubric: Rubric = RUBRIC) -> ColumnElement[bool]:
    """Items in the escalation queue: escalated ones, and open ones with escalation recommended
    (``status`` narrows to one of the two)."""
    if status and status not in QUEUE_STATUSES:
        raise ValidationError(f"The queue holds escalated and open items, not {status!r}.", "status")
    escalated = DecisionItem.status == "escalated"
    if status == "escalated":
        return escalated
    recommended = recommended_condition(settings, now, rubric)
    return recommended if status == "open" else or_(escalated, recommended)


def queue_by_tier(session: Session, settings: ForumSettings, now: datetime,
                  rubric: Rubric = RUBRIC) -> dict[int, int]:
    """How many items the escalation queue holds per tier (tier index -> count, -1 unrated): one
    query, reused until the trail moves (forum.core.derived)."""
    rank = standing.tier_rank(rubric)
    return cached(session, ("queue by tier", settings, tuple(RULES)), lambda: dict(session.execute(
        select(rank, func.count()).where(queue_condition("", settings, now, rubric)).group_by(rank)
    ).all()))


def escalation_queue(session: Session, filters: QueueFilters, settings: ForumSettings,
                     page: int = 1, per_page: int = 20, rubric: Rubric = RUBRIC) -> items.Page:
    """Escalated items and open items with escalation recommended, strategic first, then by
    needed-by date (soonest first, none last). Selected, counted, sorted and paged in SQL on the
    items' standing columns; only the page's items are weighed (for their reasons): the same
    number of queries, and work that grows with the page, not with the queue."""
    conditions = [queue_condition(filters.status, settings, clock.now(), rubric),
                  *weight_conditions(filters.tier, filters.divergent, filters.awaiting)]
    result = paginate_rows(
        session, DecisionItem, conditions,
        (standing.tier_rank(rubric).desc(), DecisionItem.needed_by.is_(None), DecisionItem.needed_by, DecisionItem.id),
        page, per_page, (joinedload(DecisionItem.filer), joinedload(DecisionItem.function)),
        cache_key=("queue", filters.status, filters.tier, filters.divergent, filters.awaiting, settings,
                   tuple(RULES)),
    )
    shown = result.items
    weighings = weigh(session, shown, settings, rubric)
    latest: dict[int, Escalation] = {}
    if shown:
        for escalation in session.scalars(
            select(Escalation).where(Escalation.item_id.in_([i.id for i in shown]))
            .options(joinedload(Escalation.actor)).order_by(Escalation.escalated_at, Escalation.id)
        ):
            latest[escalation.item_id] = escalation
    result.items = [
        QueueEntry(i, weighings[i.id], latest.get(i.id) if i.status == "escalated" else None)
        for i in shown
    ]
    return result
