from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    email = EmailField("E-mail address", validators=[DataRequired("Enter your e-mail address."), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=1024)])
    remember = BooleanField("Keep me logged in on this device")
    next = HiddenField()


class LogoutForm(FlaskForm):
    """Logging out changes state, so it is a POST with a CSRF token."""
