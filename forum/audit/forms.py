"""Forms of the audit pages: the trail filters (query string), verification and checkpoints."""

from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from forum.audit.verify import MAX_NOTE
from forum.core.inputs import DayField, WholeNumberField


class TrailFilterForm(FlaskForm):
    """The trail browser's and the export's filters, read from the query string; ``before`` and
    ``after`` are the keyset cursors (a seq) of the older and newer links."""

    class Meta:
        csrf = False

    date_from = DayField("From", validators=[Optional()], description="First day (UTC), YYYY-MM-DD.")
    date_to = DayField("To", validators=[Optional()], description="Last day (UTC), included.")
    actor = StringField("Actor", validators=[Optional(), Length(max=254)],
                        description="An email, or system.")
    kind = SelectField("Kind", choices=[], validators=[Optional()])
    subject = StringField("Subject", validators=[Optional(), Length(max=80)],
                          description="E.g. item:42.")
    text = StringField("Text in the data", validators=[Optional(), Length(max=200)])
    before = WholeNumberField("Older than seq", validators=[Optional()], lo=1)
    after = WholeNumberField("Newer than seq", validators=[Optional()], lo=0)

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The 'to' date lies before the 'from' date.")

    def validate_after(self, field):
        if field.data is not None and self.before.data is not None:
            raise ValidationError("Give either before or after, not both.")


class VerifyForm(FlaskForm):
    """Run the verification now (the CSRF token is the whole form)."""


class CheckpointForm(FlaskForm):
    note = StringField(
        "Note", validators=[Optional(), Length(max=MAX_NOTE)],
        description="Optional: where you published it, e.g. “weekly audit log, 25 Nov”.",
    )
