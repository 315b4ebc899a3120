"""The search page's form, read from the query string (a GET form: nothing to protect with CSRF)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SearchField, SelectField
from wtforms.validators import Length, Optional

from forum.core.forms import choices
from forum.core.inputs import DayField
from forum.items.models import CATEGORIES, STATUSES
from forum.search.query import MAX_QUERY_LENGTH
from forum.search.service import KIND_LABELS


class SearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = SearchField(
        "Search for",
        validators=[Optional(), Length(max=MAX_QUERY_LENGTH,
                                       message=f"Keep the search under {MAX_QUERY_LENGTH} characters.")],
        description='All words must match. "Quotes" keep a phrase together, OR accepts either '
                    "word, a leading minus leaves a word out.",
    )
    kind = SelectField("Kind of result", choices=choices([("", "Everything"), *KIND_LABELS.items()]),
                       validators=[Optional()])
    status = SelectField("Item status", choices=choices([("", "Any status"), *STATUSES.items()]),
                         validators=[Optional()])
    category = SelectField("Category", choices=choices([("", "Any category"), *CATEGORIES.items()]),
                           validators=[Optional()])
    function = SelectField("Function", choices=choices([("", "Any function")]), validators=[Optional()])
    date_from = DayField("From", validators=[Optional()])
    date_to = DayField("Until", validators=[Optional()])
