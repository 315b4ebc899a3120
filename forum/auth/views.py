"""Login and logout, set-password links, and every user's settings page."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask import session as flask_session
from flask_login import current_user, login_required, login_user, logout_user

from forum.auth import oidc, provisioning, service, sessions, throttle
from forum.auth.forms import (
    LoginForm,
    LogoutForm,
    NotificationsForm,
    PasswordChangeForm,
    ProfileForm,
    SetPasswordForm,
)
from forum.auth.models import User
from forum.core import db
from forum.core.errors import DomainError
from forum.core.extensions import limiter
from forum.core.forms import attach_error
from forum.core.links import external_url
from forum.core.signals import collect, signals

bp = Blueprint("auth", __name__)

#: The settings page's further sections: sent with the app as sender, ``session`` and ``user``;
#: a receiver answers ``SettingsSection(template, context)`` (the template sees the context as
#: ``s``). The notify area adds the e-mail choices.
settings_sections = signals.signal("auth.settings-sections")


@dataclass(frozen=True)
class SettingsSection:
    template: str
    context: dict


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else None (no scheme, host or '//' tricks)."""
    if not target:
        return None
    target = target.strip()
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN_FAILURES"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    _login_limit, methods=["POST"], scope="login-failures",
    deduct_when=lambda response: response.status_code == 401,
    error_message="Too many failed log-ins from your address. Wait a minute, then try again "
                  "(an administrator can reset a forgotten password).",
)
@db.locks_itself  # checking a password takes a while: not under the write lock
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
        if current_user.is_authenticated:
            return redirect(form.next.data or url_for("core.home"))
    status = 200
    if form.validate_on_submit():
        if not local_login_allowed(form.email.data):
            form.password.errors.append(
                "Log-in with a password is turned off here: use the sign-in button above "
                "(administrators named for emergencies still can).")
            status = 403
        else:
            session = db.session()
            reservation = throttle.reserve(current_app._get_current_object(), service.normalise_email(form.email.data),
                                           request.remote_addr or "", request.user_agent.string)
            if reservation.wait_seconds:
                form.password.errors.append(
                    f"Too many failed log-ins for this account. Wait {reservation.wait_seconds} seconds, then "
                    "try again (an administrator can reset a forgotten password).")
                response = make_response(*_login_page(form, 429))
                response.headers["Retry-After"] = str(reservation.wait_seconds)
                return response
            try:
                user = service.authenticate(session, form.email.data, form.password.data)
            except service.LoginRefused as refused:
                form.password.errors.append(refused.message)  # the attempt's record stays: a failure
                status = 401
            else:
                with db.attempt():  # the password is checked; now the writes, under the lock
                    throttle.succeeded(session, reservation)
                    service.note_login(session, user)
                    _start_session(user, remember=form.remember.data)
                target = safe_next(form.next.data) or url_for("core.home")
                flash(f"Welcome, {user.display_name}.", "success")
                return redirect(target)
    elif request.method == "POST":
        status = 400
    return _login_page(form, status)


def local_login_allowed(email: str | None) -> bool:
    """Whether passwords may log in: always, unless FORUM_LOCAL_LOGIN is off — then only for the
    break-glass administrators named in FORUM_BREAK_GLASS_ADMINS (their account must still be an
    active administrator's)."""
    config = current_app.config
    if config["LOCAL_LOGIN"]:
        return True
    named = {service.normalise_email(e) for e in str(config["BREAK_GLASS_ADMINS"]).split(",") if e.strip()}
    address = service.normalise_email(email or "")
    if address not in named:
        return False
    account = service.get_user_by_email(db.session(), address)
    return account is not None and account.role == "admin"


def _login_page(form: LoginForm, status: int = 200, sign_in_error: str = ""):
    return render_template("auth/login.html", form=form, provider=oidc.provider(),
                           local_login=current_app.config["LOCAL_LOGIN"], sign_in_error=sign_in_error), status


def _start_session(user: User, remember: bool, **login) -> None:
    """A fresh session for ``user``: whatever the old session cookie held (a fixated session, an
    earlier user's data) is dropped before the login is written into it; the login is recorded
    on the server (forum.auth.sessions), and its cookies name it. ``login``: how it was made
    (forum.auth.sessions.start)."""
    flask_session.clear()
    sessions.start(db.session(), user, request.user_agent.string, request.remote_addr or "", **login)
    login_user(user, remember=remember)


# ------------------------------------------------------------------------- single sign-on (OIDC)
OIDC_STASH = "oidc_sign_in"


def _configured_provider() -> oidc.Provider:
    provider = oidc.provider()
    if provider is None:
        abort(404, description="Single sign-on is not set up on this forum: log in with your password.")
    return provider


@bp.get("/login/oidc")
def oidc_start():
    """Leave for the identity provider's sign-in page (its answer comes back to oidc_callback)."""
    provider = _configured_provider()
    next_path = safe_next(request.args.get("next")) or ""
    if current_user.is_authenticated:
        return redirect(next_path or url_for("core.home"))
    try:
        url, stash = oidc.begin(provider, external_url("auth.oidc_callback"), next_path)
    except oidc.SignInFailed as failed:
        return _login_page(LoginForm(formdata=None), failed.status, failed.message)
    flask_session[OIDC_STASH] = stash
    return redirect(url)


@bp.get("/login/oidc/callback")
@limiter.limit(
    _login_limit, scope="oidc-failures", deduct_when=lambda response: response.status_code >= 400,
    error_message="Too many failed sign-ins from your address. Wait a minute, then try again.",
)
def oidc_callback():
    """The provider's answer. Taken only in the browser that started the sign-in, once; then
    the code is redeemed and the ID token checked (forum.auth.oidc) and the person's account
    found or made (forum.auth.provisioning)."""
    provider = _configured_provider()
    stash = flask_session.pop(OIDC_STASH, None)
    state = request.args.get("state") or ""
    if not isinstance(stash, dict) or not state or not hmac.compare_digest(state, str(stash.get("state", ""))):
        return _login_page(LoginForm(formdata=None), 400, "This answer from the sign-in service does not belong "
                           "to a sign-in started in this browser, or it was used already. Start again.")
    with db.session_scope(current_app._get_current_object()) as own:  # spent at once, committed
        db.lock_for_change(own)
        fresh = provisioning.spend_state(own, state)
    if not fresh:
        return _login_page(LoginForm(formdata=None), 400, "This answer from the sign-in service was used "
                           "already. Start again.")
    session = db.session()
    try:
        identity, id_token = oidc.finish(provider, request.args, stash)
    except oidc.SignInFailed as failed:
        db.lock_for_change(session)
        provisioning.record_failure(session, provider, failed.reason)
        return _login_page(LoginForm(formdata=None), failed.status, failed.message)
    db.lock_for_change(session)
    try:
        user = provisioning.sign_in(session, provider, identity)
    except provisioning.Refused as refused:  # recorded, with the access request: committed
        return render_template("auth/no_access.html", message=refused.message, provider=provider,
                               identity=identity), 403
    _start_session(user, remember=False, method="oidc", lasts=timedelta(hours=provider.session_hours),
                   id_token=id_token)
    flash(f"Welcome, {user.display_name}.", "success")
    return redirect(safe_next(stash.get("next")) or url_for("core.home"))


@bp.route("/logout", methods=["POST"])
def logout():
    form = LogoutForm()
    if not form.validate_on_submit():
        return redirect(url_for("core.home"))
    ended = None
    if current_user.is_authenticated:
        ended = sessions.end(db.session(), current_user.login_session_id, "logout")
    logout_user()
    flash("You have been logged out.", "info")
    provider = oidc.provider()
    if ended is not None and ended.method == "oidc" and provider is not None:
        # The provider's session ends too (RP-initiated logout), when it offers that.
        url = oidc.logout_url(provider, ended.id_token, external_url("auth.login"))
        if url:
            return redirect(url)
    return redirect(url_for("auth.login"))


# ---------------------------------------------------------------------------- set-password links
@bp.route("/set-password/<token>", methods=["GET", "POST"])
def set_password(token: str):
    """A one-time link made by an administrator: the person chooses their password. An unknown
    link is 404, an expired or used one 410; nothing is stored for either."""
    session = db.session()
    try:
        link = service.find_set_password_link(session, token)
    except DomainError as error:
        abort(error.status, description=error.reason)
    form = SetPasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            with db.attempt():
                user = service.set_password_with_link(session, token, form.new_password.data)
        except DomainError as error:
            form.new_password.errors = [*form.new_password.errors, error.reason]
            status = error.status
        else:
            flash(f"Your password is set, {user.display_name}. Log in with it.", "success")
            return redirect(url_for("auth.login"))
    elif request.method == "POST":
        status = 400
    return render_template("auth/set_password.html", form=form, account=link.user), status


# ---------------------------------------------------------------------------------------- settings
def _render_settings(profile=None, password=None, notifications=None, status: int = 200):
    user = current_user
    return render_template(
        "settings/index.html",
        profile=profile or ProfileForm(formdata=None, display_name=user.display_name),
        password=password or PasswordChangeForm(formdata=None),
        notifications=notifications or NotificationsForm(
            formdata=None, email_notifications=user.email_notifications,
            digest_frequency=user.digest_frequency,
        ),
        sections=collect(settings_sections, current_app._get_current_object(), session=db.session(), user=user),
        logins=sessions.open_logins(db.session(), user), logout_form=LogoutForm(),
        failed_logins=throttle.recent_failures(db.session(), user), failed_logins_days=throttle.KEEP_DAYS,
    ), status


@bp.get("/settings")
@login_required
def settings():
    return _render_settings()


@bp.post("/settings/profile")
@login_required
def update_profile():
    form = ProfileForm()
    if not form.validate_on_submit():
        return _render_settings(profile=form, status=400)
    try:
        with db.attempt():
            changes = service.update_profile(db.session(), current_user, form.display_name.data)
    except DomainError as error:
        attach_error(form, error)
        return _render_settings(profile=form, status=error.status)
    flash("Display name saved." if changes else "Nothing changed.", "success" if changes else "info")
    return redirect(url_for("auth.settings"))


@bp.post("/settings/password")
@login_required
def change_password():
    form = PasswordChangeForm()
    if not form.validate_on_submit():
        return _render_settings(password=form, status=400)
    user = current_user._get_current_object()
    try:
        with db.attempt():
            service.change_password(db.session(), user, form.current_password.data, form.new_password.data)
    except DomainError as error:
        attach_error(form, error)
        return _render_settings(password=form, status=error.status)
    # Every login of this user has ended (the service ends them); this browser goes on under a
    # fresh one, and keeps "remember me" if it had it.
    remember_cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
    _start_session(user, remember=remember_cookie in request.cookies)
    flash("Password changed. You have been logged out everywhere else.", "success")
    return redirect(url_for("auth.settings"))


@bp.post("/settings/sessions/end-others")
@login_required
def end_other_sessions():
    """Log out everywhere else: every other open login of the user ends (this one goes on)."""
    form = LogoutForm()
    if not form.validate_on_submit():
        abort(400, description="The form has expired; reload the settings page and try again.")
    ended = sessions.end_all(db.session(), current_user.id, "logout_everywhere", keep=current_user.login_session_id)
    flash(f"Logged out on {ended} other device{'' if ended == 1 else 's'}." if ended
          else "You were not logged in anywhere else.", "success" if ended else "info")
    return redirect(url_for("auth.settings") + "#sessions-heading")


@bp.post("/settings/notifications")
@login_required
def update_notifications():
    form = NotificationsForm()
    if not form.validate_on_submit():
        return _render_settings(notifications=form, status=400)
    try:
        with db.attempt():
            changes = service.update_notifications(db.session(), current_user, form.email_notifications.data,
                                                   form.digest_frequency.data)
    except DomainError as error:
        attach_error(form, error)
        return _render_settings(notifications=form, status=error.status)
    flash("Notification preferences saved." if changes else "Nothing changed.",
          "success" if changes else "info")
    return redirect(url_for("auth.settings"))
