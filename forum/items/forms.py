from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from forum.core.forms import choices
from forum.core.inputs import DayField, VersionField
from forum.items.models import CATEGORIES
from forum.items.service import MAX_EXPOSURE, MAX_SUMMARY, MAX_TITLE


class ItemForm(FlaskForm):
    """File a new decision item or edit one (the version field carries the optimistic lock)."""

    title = StringField(
        "Title",
        validators=[DataRequired("Give the item a title."), Length(max=MAX_TITLE)],
        description="One line that says what is to be decided.",
    )
    # No category is preselected: an item filed under the first one by accident is misfiled.
    category = SelectField(
        "Category", choices=choices([("", "Choose a category…"), *CATEGORIES.items()]),
        validators=[InputRequired("Choose the item's category.")],
    )
    function = SelectField("Owning function", choices=[], validators=[InputRequired()])
    summary = TextAreaField(
        "Summary",
        validators=[Length(max=MAX_SUMMARY)],
        description="Markdown: the decision, the options, what is at stake.",
    )
    system = SelectField(
        "System in the register", choices=[], validators=[Optional()],
        description="Pick the system the item is about: its vendor, model and version in use are then the "
                    "item's, and a new version recorded on the system reaches the item. Or leave it and "
                    "describe the model below.",
    )
    vendor = StringField("Vendor", validators=[Optional(), Length(max=120)])
    model_name = StringField("Model name", validators=[Optional(), Length(max=120)])
    model_version = StringField("Model version", validators=[Optional(), Length(max=80)])
    exposure = IntegerField(
        "Financial exposure",
        validators=[Optional(), NumberRange(min=0, max=MAX_EXPOSURE, message="Give a whole amount of 0 or more.")],
        description="Whole currency units; leave empty when unknown.",
    )
    needed_by = DayField("Needed by", validators=[Optional()], description="The date a decision is needed.")
    version = VersionField()


class ModelUpdateForm(FlaskForm):
    """Record that the model under decision was updated, on an item past escalation."""

    model_version = StringField(
        "New model version",
        validators=[DataRequired("Give the model version now in use."), Length(max=80)],
        description="The version the vendor now ships. Evidence of other versions becomes stale.",
    )
    version = VersionField(required=True)


class TransitionForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])
    version = VersionField(required=True)


