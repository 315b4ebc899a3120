"""Forms of technical proximity: mark a review done, propose an edge case."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from forum.proximity.service import MAX_DESCRIPTION, MAX_EXAMPLE, MAX_NOTE


class ReviewForm(FlaskForm):
    note = TextAreaField(
        "What you saw (optional)",
        validators=[Optional(), Length(max=MAX_NOTE, message=f"At most {MAX_NOTE} characters.")],
        description="A line or two for the record: a pattern in the failures, a case that worries you.",
    )


class ProposeCaseForm(FlaskForm):
    description = TextAreaField(
        "Edge case",
        validators=[DataRequired("Describe the edge case in a sentence."),
                    Length(max=MAX_DESCRIPTION, message=f"At most {MAX_DESCRIPTION} characters.")],
        description="What situation the evidence does not cover yet, in a sentence.",
    )
    example_input = TextAreaField(
        "Example input",
        validators=[DataRequired("Give an example input the model should be tested with."),
                    Length(max=MAX_EXAMPLE, message=f"At most {MAX_EXAMPLE} characters.")],
        description="What the model would be given, word for word.",
    )
