"""Forms of the agenda: one class per action."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget

from forum.agenda.common import MAX_ACTION_TEXT, MAX_DURATION, MAX_REASON, MAX_TEXT, MAX_TIME_BOX, MAX_TITLE
from forum.agenda.models import OUTCOMES
from forum.core.forms import choices
from forum.core.inputs import DayField, VersionField

#: Blank action rows offered by the decision form (no JavaScript needed to add rows).
ACTION_ROWS = 3


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class MeetingForm(FlaskForm):
    """Plan a meeting or change its details (the version field carries the optimistic lock)."""

    title = StringField("Title", validators=[DataRequired("Give the meeting a title."), Length(max=MAX_TITLE)])
    starts_at = DateTimeLocalField(
        "Starts at (UTC)", format="%Y-%m-%dT%H:%M",
        validators=[InputRequired("Give the date and time the meeting starts.")],
    )
    duration_minutes = IntegerField(
        "Duration (minutes)", default=90,
        validators=[InputRequired("Give the meeting's duration."),
                    NumberRange(min=1, max=MAX_DURATION, message=f"Between 1 and {MAX_DURATION} minutes.")],
    )
    version = VersionField()


class _EntryFields(FlaskForm):
    time_box_minutes = IntegerField(
        "Time box (minutes)", default=15,
        validators=[InputRequired("Give the time box in minutes."),
                    NumberRange(min=1, max=MAX_TIME_BOX, message=f"Between 1 and {MAX_TIME_BOX} minutes.")],
    )
    presenter = SelectField("Presenter", choices=[], validators=[Optional()])


class AddEntryForm(_EntryFields):
    item = SelectField("Item from the escalation queue", choices=[],
                       validators=[InputRequired("Choose an item from the escalation queue.")])


class ScheduleForm(FlaskForm):
    """From the escalation queue: escalate (if still open) and put on a meeting's agenda."""

    meeting = SelectField("Meeting", choices=[], validators=[InputRequired("Choose the meeting.")])
    reason = TextAreaField(
        "Why the executives take it up", validators=[Optional(), Length(max=MAX_REASON)],
        description="Recorded with the escalation (needed when the item is not escalated yet).",
    )
    time_box_minutes = _EntryFields.time_box_minutes


class EntryForm(_EntryFields):
    """Change an entry's time box and presenter."""


class MoveEntryForm(FlaskForm):
    to_position = IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class RemoveEntryForm(FlaskForm):
    """Take an undecided item off the agenda (no fields: the URL names the entry)."""


class ConflictForm(FlaskForm):
    reason = StringField(
        "Your conflict of interest", validators=[DataRequired("Say what the conflict of interest is."),
                                                 Length(max=MAX_REASON)],
        description="For example: a relative works for the vendor. You will not decide this item.",
    )


class MeetingStatusForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])
    version = VersionField(required=True)
    confirm = BooleanField("I have checked the minutes: close the meeting (its decisions can then "
                           "only be corrected by amendments)")


class ActionRowForm(Form):
    """One follow-up action row of the decision form; a row left blank is ignored."""

    text = StringField("Action", validators=[Optional(), Length(max=MAX_ACTION_TEXT)])
    owner = SelectField("Owner", choices=[], validators=[Optional()])
    due_on = DayField("Due on", validators=[Optional()])


class _OutcomeFields(FlaskForm):
    outcome = SelectField("Outcome", choices=choices([("", "Choose the outcome"), *OUTCOMES.items()]),
                          validators=[InputRequired("Choose the outcome.")])
    rationale = TextAreaField("Rationale", validators=[DataRequired("Give the rationale for the decision."),
                                                       Length(max=MAX_TEXT)],
                              description="Markdown: why the executives decided this way.")
    conditions = TextAreaField(
        "Conditions", validators=[Optional(), Length(max=MAX_TEXT)],
        description="Required for an approval with conditions: what must hold or be done.",
    )
    expires_on = DayField(
        "Approval expires on", validators=[Optional()],
        description="Optional, for an approval with conditions or a policy exception: the item "
                    "returns to the escalation queue when it lapses.",
    )


class DecisionForm(_OutcomeFields):
    deciders = MultiCheckboxField("Deciders present", choices=[], coerce=int,
                                  validators=[DataRequired("Tick the executives present who took the decision.")])
    actions = FieldList(FormField(ActionRowForm), min_entries=ACTION_ROWS, max_entries=10)


class AmendmentForm(_OutcomeFields):
    reason = TextAreaField("Reason for the amendment",
                           validators=[DataRequired("Say why the decision is amended."), Length(max=MAX_TEXT)])


class CloseItemForm(FlaskForm):
    """Close a decided item whose actions are all done (no fields)."""


class CompleteActionForm(FlaskForm):
    note = StringField("How it was done", validators=[DataRequired("Say how the action was done."),
                                                      Length(max=MAX_TEXT)])


class RegisterFilterForm(FlaskForm):
    """The decision register's filters, read from the query string."""

    class Meta:
        csrf = False

    outcome = SelectField("Outcome", choices=choices([("", "Any outcome"), *OUTCOMES.items()]),
                          validators=[Optional()])
    function = SelectField("Function", choices=choices([("", "Any function")]), validators=[Optional()])
    date_from = DayField("Meeting from", validators=[Optional()])
    date_to = DayField("Meeting until", validators=[Optional()])
