"""Evidence forms: uploading a result file, choosing two runs to compare."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import HiddenField, SelectField
from wtforms.validators import InputRequired


class UploadForm(FlaskForm):
    """Attach one result file to an item. The size limit is set per app (description)."""

    file = FileField("Result file", validators=[FileRequired("Choose a result file to upload.")])
    samples = MultipleFileField(
        "lm-evaluation-harness per-sample files (optional)",
        description="With an lm-eval results JSON only: its samples_<task>_<date>.jsonl files (written with "
                    "--log_samples), so that the run has the headline metrics and each case's pass/fail and tags. "
                    "You can also upload lm-eval's output folder as one zip.",
    )
    # Where a refused upload is shown again: "item" from the item page's panel, else the item's
    # evidence page (any other value is ignored).
    back = HiddenField()


class CompareForm(FlaskForm):
    """Two runs of the same suite, read from the query string (no CSRF: it changes nothing).
    The choices are the item's runs grouped by suite (set by the view); a run id that is not
    among them is still read, so that the view answers 404 for another item's run."""

    class Meta:
        csrf = False

    base = SelectField("Earlier run", coerce=int, validate_choice=False,
                       validators=[InputRequired("Choose the earlier run.")])
    head = SelectField("Later run", coerce=int, validate_choice=False,
                       validators=[InputRequired("Choose the later run.")])

    def set_choices(self, choices: dict[str, list[tuple[int, str]]]) -> None:
        self.base.choices = self.head.choices = choices
