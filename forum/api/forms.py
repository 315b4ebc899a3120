from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from forum.api.service import MAX_NAME


class CheckboxesField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes (works without JavaScript)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class TokenForm(FlaskForm):
    """Create a personal API token; the scope choices are those the user's role allows."""

    name = StringField(
        "Name", validators=[DataRequired("Give the token a name."), Length(max=MAX_NAME)],
        description="What will use it, e.g. \"model-eval pipeline\".",
    )
    scopes = CheckboxesField("Scopes", choices=[], validators=[DataRequired("Choose at least one scope.")])


class RevokeTokenForm(FlaskForm):
    confirm = BooleanField(
        "Yes, revoke this token: tools that use it will get 401 from now on.",
        validators=[DataRequired("Tick the box to confirm.")],
    )
