"""Login and logout."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from forum import db
from forum.auth import service
from forum.auth.forms import LoginForm, LogoutForm

bp = Blueprint("auth", __name__)


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


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
        if current_user.is_authenticated:
            return redirect(form.next.data or url_for("core.home"))
    status = 200
    if form.validate_on_submit():
        session = db.session()
        try:
            user = service.authenticate(session, form.email.data, form.password.data)
        except service.LoginRefused as refused:
            form.password.errors.append(refused.message)
            status = 401
        else:
            service.note_login(session, user)
            login_user(user, remember=form.remember.data)
            flash(f"Welcome, {user.display_name}.", "success")
            return redirect(safe_next(form.next.data) or url_for("core.home"))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    form = LogoutForm()
    if not form.validate_on_submit():
        return redirect(url_for("core.home"))
    logout_user()
    flash("You have been logged out.", "info")
    return redirect(url_for("auth.login"))
