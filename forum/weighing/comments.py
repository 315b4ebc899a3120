"""The discussion on an item: comments by staff and executives, edited by their authors only (the
earlier text stays in the trail)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from forum.auth.models import User
from forum.core import clock, derived
from forum.core.errors import NotFound, PermissionDenied
from forum.core.policy import Action, allows
from forum.items.models import DecisionItem
from forum.trail.service import record
from forum.weighing import events
from forum.weighing.checks import DISCUSSION_STATUSES, MAX_COMMENT, check_state, clean_text
from forum.weighing.models import Comment

COMMENTS_PER_PAGE = 20


def can_discuss(actor: User) -> bool:
    return allows(actor, Action.TAKE_PART)


def add_comment(session: Session, actor: User, item: DecisionItem, body: str) -> Comment:
    if not can_discuss(actor):
        raise PermissionDenied("Only staff and executives take part in the discussion; your role reads only.")
    check_state(item, DISCUSSION_STATUSES, "comment on it")
    text = clean_text(body, "body", "comment", MAX_COMMENT)
    comment = Comment(
        item_id=item.id, author_id=actor.id, function_key=actor.function_key, body=text,
        created_at=clock.now(),
    )
    session.add(comment)
    session.flush()
    record(session, actor, "comment.added", item.subject,
           events.comment_added(comment.id, comment.function_key, text), leaves_items=True)
    return comment


def get_comment(session: Session, item: DecisionItem, comment_id: int) -> Comment:
    comment = session.scalar(
        select(Comment).where(Comment.id == comment_id, Comment.item_id == item.id)
        .options(joinedload(Comment.author), joinedload(Comment.function))
    )
    if comment is None:
        raise NotFound(f"There is no comment {comment_id} on item {item.id}.")
    return comment


def commenters(session: Session, item_id: int) -> frozenset[int]:
    """Who has commented on the item (one statement, kept until the trail moves)."""
    return derived.cached(session, ("commenters", item_id), lambda: frozenset(session.scalars(
        select(Comment.author_id).where(Comment.item_id == item_id).distinct())))


def can_edit_comment(actor: User, item: DecisionItem, comment: Comment) -> bool:
    return can_discuss(actor) and comment.author_id == actor.id and item.status in DISCUSSION_STATUSES


def edit_comment(session: Session, actor: User, item: DecisionItem, comment: Comment, body: str) -> bool:
    """Replace the comment's text (its author only); the earlier text stays in the trail.
    Returns False when the text is unchanged (nothing written)."""
    if comment.item_id != item.id:
        raise NotFound(f"There is no comment {comment.id} on item {item.id}.")
    if not can_discuss(actor) or comment.author_id != actor.id:
        raise PermissionDenied("Only the author of a comment can edit it.")
    check_state(item, DISCUSSION_STATUSES, "edit comments")
    text = clean_text(body, "body", "comment", MAX_COMMENT)
    if text == comment.body:
        return False
    before = comment.body
    comment.body = text
    comment.edited_at = clock.now()
    session.flush()
    record(session, actor, "comment.edited", item.subject, {
        "comment": comment.id, "before": before, "after": text,
    }, leaves_items=True)
    return True
