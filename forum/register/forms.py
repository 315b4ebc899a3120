from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from forum.core.forms import choices
from forum.core.inputs import VersionField
from forum.systems.models import DEPLOYMENT_STATUSES, EU_AI_ACT, GPAI_ROLES, HIGH_RISK_AREAS, RISK_TIERS
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
    eu_ai_act = SelectField("EU AI Act category", choices=choices(EU_AI_ACT.items()), validators=[Optional()],
                            description="Decides which of the Act's obligations the system carries.")
    high_risk_area = SelectField("Where it is high-risk", choices=choices(HIGH_RISK_AREAS.items()),
                                 validators=[Optional()], description="Only for high-risk systems.")
    gpai_role = SelectField("General-purpose AI model", choices=choices(GPAI_ROLES.items()), validators=[Optional()])
    risk_tier = SelectField("Internal risk tier", choices=choices(RISK_TIERS.items()), validators=[Optional()])
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
    classification = SelectField(
        "EU AI Act", validators=[Optional()],
        choices=choices([("", "Any classification"), ("unclassified", "Not classified yet"),
                         *((key, label) for key, label in EU_AI_ACT.items() if key)]))
    drifted = BooleanField("Only systems with decisions to revalidate")
    unmet = BooleanField("Only systems with obligations not yet met")
    q = StringField("Name, vendor or model", validators=[Optional(), Length(max=120)])


class ObligationForm(FlaskForm):
    """Confirm an obligation met, naming what shows it (at least one of the three)."""

    run = SelectField("Evidence run", choices=[], validators=[Optional()])
    decision = SelectField("Decision", choices=[], validators=[Optional()])
    document_url = StringField("Document", validators=[Optional(), Length(max=500)],
                               description="An http(s) address: a policy, an assessment, a contract clause.")
    note = TextAreaField("Note", validators=[Optional(), Length(max=MAX_NOTE)])


class GroupForm(FlaskForm):
    """An administrator confirms one group of existing items: to a system of the register with
    the same model (``target`` = its id) or to a new one (``target`` = "new", named here)."""

    vendor = HiddenField()
    model = HiddenField(validators=[DataRequired("The group names no model.")])
    target = StringField(validators=[DataRequired("Choose where the items go.")])
    name = StringField("Name of the new system", validators=[Optional(), Length(max=MAX_NAME)])
    owner_function = SelectField("Owning function", choices=[], validators=[Optional()])
    status = SelectField("Deployment status", choices=choices(DEPLOYMENT_STATUSES.items()), validators=[Optional()])
