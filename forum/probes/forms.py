from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from forum.core.forms import choices
from forum.core.inputs import WholeNumberField
from forum.probes.models import VERDICTS
from forum.probes.service import MAX_PROMPT


class EndpointForm(FlaskForm):
    """An OpenAI-compatible endpoint that serves one version of the system (administrators)."""

    version = StringField("System version it serves", validators=[DataRequired("Give the version."), Length(max=80)])
    base_url = StringField("API base address", validators=[DataRequired("Give the API's base address."),
                                                           Length(max=500)],
                           description="Up to /v1, e.g. https://gateway.example.com/v1; its host must be on the "
                                       "forum's list of model hosts.")
    model = StringField("Model name", validators=[DataRequired("Give the model name."), Length(max=200)],
                        description="As the API expects it in the request, e.g. gpt-4o-2024-08-06.")
    key_variable = StringField("Environment variable with the API key", validators=[Optional(), Length(max=100)],
                               description="Its name only, e.g. SUPPORT_LLM_KEY; the key itself stays in the "
                                           "server's environment. Empty: the endpoint needs no key.")
    timeout_seconds = WholeNumberField("Timeout", lo=1, hi=60, unit="seconds",
                                       validators=[InputRequired("Give the timeout.")], default=20)
    per_user_per_hour = WholeNumberField("Probes per person and hour", lo=1, hi=1000,
                                         validators=[InputRequired("Give the limit.")], default=30)


class TryForm(FlaskForm):
    """A prompt for one version, or two side by side."""

    prompt = TextAreaField("Prompt", validators=[DataRequired("Write a prompt."), Length(max=MAX_PROMPT)])
    first = SelectField("Version", choices=[], validators=[InputRequired("Choose a version.")])
    second = SelectField("Side by side with", choices=[], validators=[Optional()])
    item = HiddenField()  # the item the probe is run from, if any


class ProposeForm(FlaskForm):
    """An answer judged not acceptable, proposed as an edge case on an item about the system (the
    service checks that the item is one the person may propose on)."""

    item = WholeNumberField("Item", lo=1, validators=[InputRequired("Choose the item.")])
    description = StringField("What the test team should cover", validators=[Optional(), Length(max=300)])


def verdict_form(answers, formdata=None) -> FlaskForm:
    """The verdicts on a probe's answers: ``verdict-<answer id>`` (acceptable or not) and
    ``note-<answer id>`` for each; which answers need a verdict is the service's rule."""

    class VerdictForm(FlaskForm):
        pass

    for answer in answers:
        setattr(VerdictForm, f"verdict-{answer.id}", RadioField(
            choices=choices(VERDICTS.items()), validators=[Optional()], validate_choice=False))
        setattr(VerdictForm, f"note-{answer.id}", TextAreaField(validators=[Optional()]))
    return VerdictForm(formdata=formdata)
