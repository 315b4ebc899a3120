from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from forum.core.forms import choices
from forum.core.inputs import VersionField
from forum.systems.models import DEPLOYMENT_STATUSES
from forum.systems.service import MAX_NAME, MAX_NOTE, MAX_USE


class SystemForm(FlaskForm):
    """A system of the register: new (with the version in use) or edited (its version has its own form)."""

    name = StringField("Name", validators=[DataRequired("Give the system a name."), Length(max=MAX_NAME)],
                       description="How people in the organisation call it, e.g. “Support assistant”.")
    vendor = StringField("Vendor", validators=[Optional(), Length(max=120)])
    model_name = StringField("Model", validators=[Optional(), Length(max=120)])
    version_in_use = StringField("Version in use", validators=[Optional(), Length(max=80)],
                                 description="The version the vendor ships now; later versions are recorded on the system's page.")
    owner_function = SelectField("Owning function", choices=[], validators=[InputRequired("Choose the owning function.")])
    status = SelectField("Deployment status", choices=choices(DEPLOYMENT_STATUSES.items()),
                         validators=[InputRequired()])
    intended_use = TextAreaField("Intended use", validators=[Optional(), Length(max=MAX_USE)],
                                 description="What it is for, who uses it, what it decides or drafts.")
    personal_data = BooleanField("It processes personal data")
    special_categories = BooleanField("… including special categories (health, biometrics, beliefs …)")
    version = VersionField()


class VersionForm(FlaskForm):
    """A new version of the system: every item about it moves to it."""

    version_in_use = StringField("New version", validators=[DataRequired("Give the version now in use."),
                                                            Length(max=80)])
    note = TextAreaField("Note", validators=[Optional(), Length(max=MAX_NOTE)],
                         description="What changed, e.g. the vendor's release note.")
    version = VersionField(required=True)


class SystemFilterForm(FlaskForm):
    class Meta:
        csrf = False

    status = SelectField("Status", choices=choices([("", "Any status"), *DEPLOYMENT_STATUSES.items()]),
                         validators=[Optional()])
    owner = SelectField("Owner", choices=[], validators=[Optional()])
    q = StringField("Name, vendor or model", validators=[Optional(), Length(max=120)])
