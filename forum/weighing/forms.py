"""Forms of the forum: rate weight, take a position, comment, escalate; filters for the lists."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from forum.core.forms import choices
from forum.core.inputs import VersionField
from forum.items.models import CATEGORIES, STATUSES
from forum.items.rubric import RUBRIC, Rubric
from forum.weighing.checks import MAX_COMMENT, MAX_REASON
from forum.weighing.models import STANCES
from forum.weighing.queries import UNRATED
from forum.weighing.queue import QUEUE_STATUSES


def _rating_form_class(rubric: Rubric) -> type[FlaskForm]:
    """The rating form for ``rubric``: one radio group per criterion (its score guides as the
    options' labels) and the reason. Built once from the rubric data."""

    class RatingForm(FlaskForm):
        reason = TextAreaField(
            "Reason",
            validators=[DataRequired("Give a reason for the rating."), Length(max=MAX_REASON)],
            description="One or two sentences: what drives these scores.",
        )

        def scores(self) -> dict[str, int | None]:
            return {c.key: self[f"score_{c.key}"].data for c in rubric.criteria}

        def score_fields(self):
            return [self[f"score_{c.key}"] for c in rubric.criteria]

    for criterion in rubric.criteria:
        setattr(RatingForm, f"score_{criterion.key}", RadioField(
            criterion.label,
            choices=choices((n, f"{n} — {guide}") for n, guide in enumerate(criterion.guides)),
            coerce=int,
            validators=[InputRequired(f"Score {criterion.label}.")],
        ))
    return RatingForm


RatingForm = _rating_form_class(RUBRIC)


class PositionForm(FlaskForm):
    stance = RadioField("Stance", choices=choices(STANCES.items()), validators=[InputRequired("Choose a stance.")])
    rationale = TextAreaField(
        "Rationale",
        validators=[DataRequired("Give the rationale for the position."), Length(max=MAX_REASON)],
        description="Why your function takes this stance; for conditions, say which.",
    )


class CommentForm(FlaskForm):
    body = TextAreaField(
        "Comment",
        validators=[DataRequired("Write a comment."), Length(max=MAX_COMMENT)],
        description="Markdown: **bold**, _italic_, lists, links.",
    )


class EscalationForm(FlaskForm):
    reason = TextAreaField(
        "Reason for escalating",
        validators=[DataRequired("Give the reason for the escalation."), Length(max=MAX_REASON)],
        description="What the executives must decide, and why it cannot be settled here.",
        id="escalation-reason",  # the rating form on the same page has a "reason" field too
    )
    version = VersionField(required=True)


TIER_CHOICES = [("", "Any tier"), *((t.key, t.label) for t in RUBRIC.tiers), (UNRATED, "Not rated yet")]


class WeightFilterForm(FlaskForm):
    """The forum's filters, shared by the item list and the escalation queue (query string).
    The view fills ``awaiting.choices`` with the functions."""

    class Meta:
        csrf = False

    tier = SelectField("Tier", choices=choices(TIER_CHOICES), validators=[Optional()])
    divergent = BooleanField("Weight divergence only", validators=[Optional()])
    awaiting = SelectField("Still to weigh in", choices=choices([("", "Any function")]), validators=[Optional()])


class QueueFilterForm(WeightFilterForm):
    status = SelectField(
        "Status",
        choices=choices([("", "Escalated or open"), *((s, STATUSES[s]) for s in QUEUE_STATUSES)]),
        validators=[Optional()],
    )


class ItemFilterForm(WeightFilterForm):
    """The item list's filters, read from the query string (with the weighing's tier, divergence
    and still-to-weigh-in filters)."""

    class Meta:
        csrf = False

    status = SelectField("Status", choices=choices([("", "Any status"), *STATUSES.items()]), validators=[Optional()])
    function = SelectField("Function", choices=choices([("", "Any function")]), validators=[Optional()])
    category = SelectField("Category", choices=choices([("", "Any category"), *CATEGORIES.items()]), validators=[Optional()])
