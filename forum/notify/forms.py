"""Forms of the notifications area: one per action (CSRF comes with FlaskForm)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectMultipleField
from wtforms.widgets import CheckboxInput, ListWidget

from forum.core.forms import choices
from forum.notify.models import KINDS


class FollowForm(FlaskForm):
    """Follow or unfollow an item (the button says which)."""


class MarkReadForm(FlaskForm):
    """Mark one notification, or all of them, read."""


class EmailKindsForm(FlaskForm):
    kinds = SelectMultipleField(
        "E-mail me when", choices=choices(KINDS.items()),
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
        description="Everything always reaches your inbox; these choose what also comes by e-mail.",
    )
