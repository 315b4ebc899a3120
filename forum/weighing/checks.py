"""What every change in the forum checks first: who acts for which function, the item's state,
and the length of the text given.

Who may do what (the table in docs/architecture.md; the finer choices are made here):
- ratings and positions are taken *per function*: by an active staff member or executive who
  belongs to a function, for that function only. Executives without a function (the usual case)
  neither rate nor take positions; auditors and admins never do.
- comments and escalations: any active staff member or executive (auditors and admins read only).
- an item's state: drafts are private, so there is no forum activity on them; ratings and positions
  are taken while the item is open, escalated or scheduled; comments also once it is decided;
  nothing changes on a closed item. Only an open item can be escalated.

Every change writes exactly one trail event in the caller's transaction; a refused change (or one
that changes nothing) writes none.
"""

from __future__ import annotations

from collections.abc import Sequence

from forum.auth.models import User
from forum.core.errors import Conflict, PermissionDenied, ValidationError
from forum.core.policy import Action, allows
from forum.items.models import DecisionItem

WEIGHING_STATUSES = ("open", "escalated", "scheduled")
DISCUSSION_STATUSES = ("open", "escalated", "scheduled", "decided")
MAX_REASON = 2_000
MAX_COMMENT = 20_000


def can_weigh(actor: User) -> bool:
    """May rate weight and take positions (for the actor's own function)."""
    return allows(actor, Action.TAKE_PART) and bool(actor.function_key)


def own_function(actor: User, function: str | None, what: str) -> str:
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


def check_state(item: DecisionItem, allowed: Sequence[str], what: str) -> None:
    if item.status in allowed:
        return
    if item.status == "draft":
        raise Conflict(f"The item is a draft, which is private to its filer: submit it before anyone can {what}.", "status")
    raise Conflict(
        f"The item is {item.status}: you can {what} only while it is {', '.join(allowed)}.",
        "status",
    )


def clean_text(value: str | None, field_name: str, label: str, limit: int) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError(f"Give a {label}.", field_name)
    if len(text) > limit:
        raise ValidationError(f"The {label} is {len(text)} characters long; the limit is {limit}.", field_name)
    return text
