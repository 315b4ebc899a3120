"""Forms of the administration pages."""

from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from forum.auth.models import ROLE_LABELS
from forum.core.forms import choices

ACTIVE_CHOICES = (("", "Active or not"), ("yes", "Active"), ("no", "Deactivated"))


class UserFilterForm(FlaskForm):
    """The user list's filters, read from the query string."""

    class Meta:
        csrf = False

    q = StringField("Name or e-mail contains", validators=[Optional(), Length(max=254)])
    role = SelectField("Role", choices=choices([("", "Any role"), *ROLE_LABELS.items()]),
                       validators=[Optional()])
    function = SelectField("Function", choices=choices([("", "Any function")]), validators=[Optional()])
    active = SelectField("State", choices=choices(ACTIVE_CHOICES), validators=[Optional()])


def _function_field():
    return SelectField(
        "Function", choices=[], validators=[Optional()], validate_choice=False,
        description="Staff belong to a function; for executives it is optional.",
    )


class NewUserForm(FlaskForm):
    email = EmailField("E-mail address", validators=[DataRequired("Enter the e-mail address."), Length(max=254)])
    display_name = StringField("Display name", validators=[DataRequired("Enter a display name."), Length(max=120)])
    role = SelectField("Role", choices=choices(ROLE_LABELS.items()), validators=[InputRequired()],
                       validate_choice=False)  # the service names an unknown role
    function = _function_field()


class AccessForm(FlaskForm):
    """Change a user's role and function."""

    role = SelectField("Role", choices=choices(ROLE_LABELS.items()), validators=[InputRequired()],
                       validate_choice=False)  # the service names an unknown role
    function = _function_field()


class NewFunctionForm(FlaskForm):
    key = StringField(
        "Key", validators=[DataRequired("Enter a key."), Length(max=40)],
        description="2–40 lower-case letters, digits, '-' or '_'. It never changes.",
    )
    label = StringField("Name", validators=[DataRequired("Enter a name."), Length(max=80)])


class FunctionLabelForm(FlaskForm):
    label = StringField("Name", validators=[DataRequired("Enter a name."), Length(max=80)])
