"""Forms of login, set-password links and the settings page."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length

from forum.auth import passwords
from forum.auth.models import DIGEST_FREQUENCIES
from forum.core.forms import choices


class LoginForm(FlaskForm):
    email = EmailField("E-mail address", validators=[DataRequired("Enter your e-mail address."), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=1024)])
    remember = BooleanField("Keep me logged in on this device")
    next = HiddenField()


class LogoutForm(FlaskForm):
    """Logging out changes state, so it is a POST with a CSRF token."""


def _new_password_fields():
    """The new password and its confirmation (the policy itself is checked by the service)."""
    password = PasswordField(
        "New password",
        validators=[DataRequired("Enter a new password."), Length(max=passwords.MAX_LENGTH)],
        render_kw={"autocomplete": "new-password"},
        description=f"At least {passwords.MIN_LENGTH} characters, not a commonly used password. "
        "A few unrelated words work well.",
    )
    confirm = PasswordField(
        "New password again",
        render_kw={"autocomplete": "new-password"},
        validators=[DataRequired("Enter the new password a second time."),
                    EqualTo("new_password", "The two passwords differ.")],
    )
    return password, confirm


class SetPasswordForm(FlaskForm):
    """Set a password with a one-time link."""

    new_password, confirm = _new_password_fields()


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired("Enter your current password."), Length(max=1024)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password, confirm = _new_password_fields()


class ProfileForm(FlaskForm):
    display_name = StringField(
        "Display name",
        validators=[DataRequired("Enter a display name."), Length(max=120)],
        description="How others see you on items, positions and in the trail.",
    )


class NotificationsForm(FlaskForm):
    email_notifications = BooleanField("Send me notifications by e-mail")
    digest_frequency = SelectField(
        "Digest of what happened", choices=choices(DIGEST_FREQUENCIES.items()),
        validators=[InputRequired()],
    )
