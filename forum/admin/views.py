"""Administration pages (admins only, everyone else 403): accounts and functions."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from forum.admin import service as admin
from forum.admin.forms import (
    AccessForm,
    FunctionLabelForm,
    NewFunctionForm,
    NewUserForm,
    UserFilterForm,
)
from forum.auth import provisioning
from forum.auth import service as accounts
from forum.auth.decorators import requires
from forum.auth.models import User
from forum.core import db, pages, paging
from forum.core.errors import DomainError, NotFound, ValidationError
from forum.core.forms import ConfirmForm, attach_error, check_filters, choices
from forum.core.links import external_url
from forum.core.policy import Action

bp = Blueprint("admin", __name__, url_prefix="/admin")



def _function_choices(session, empty: str) -> list:
    return choices([("", empty), *((f.key, f.label) for f in accounts.list_functions(session))])


def _user(user_id: int) -> User:
    try:
        return accounts.get_user(db.session(), user_id)
    except NotFound as error:
        abort(404, description=error.reason)


def _ttl() -> timedelta:
    return timedelta(hours=current_app.config["SET_PASSWORD_TTL_HOURS"])


def _link_page(invitation: accounts.Invitation, created: bool, status: int):
    """The one time the link is shown. It is the answer to the POST itself, not a redirect, so
    the token never travels in a cookie or a URL of ours; the page is sent with no-store."""
    link = external_url("auth.set_password", token=invitation.token)
    return render_template("admin/link.html", user=invitation.user, link=link,
                           expires_at=invitation.expires_at, created=created), status


# ------------------------------------------------------------------------------------------ users
@bp.get("")
@requires(Action.ADMINISTER)
def index():
    return redirect(url_for("admin.users"))


@bp.get("/users")
@requires(Action.ADMINISTER)
def users():
    session = db.session()
    form = UserFilterForm(request.args)
    form.function.choices = _function_choices(session, "Any function")
    status = 200
    filters = accounts.UserFilters()
    if not check_filters(form, request.args):
        status = 400
    else:
        filters = accounts.UserFilters(role=form.role.data or "", function=form.function.data or "",
                                       active=form.active.data or "", text=form.q.data or "")
    page_number = paging.page_number(request.args.get("page"))
    try:
        page = accounts.list_users(session, filters, page_number, current_app.config["USERS_PER_PAGE"])
    except ValidationError as error:
        abort(400, description=error.reason)
    query = pages.filter_args()
    return render_template("admin/users.html", page=page, form=form, query=query), status


@bp.route("/users/new", methods=["GET", "POST"])
@requires(Action.ADMINISTER)
def new_user():
    session = db.session()
    form = NewUserForm()
    form.function.choices = _function_choices(session, "No function")
    status = 200
    if form.validate_on_submit():
        data = accounts.NewUser(email=form.email.data or "", display_name=form.display_name.data or "",
                                role=form.role.data or "", function=form.function.data or None)
        try:
            with db.attempt():
                invitation = accounts.invite_user(session, current_user, data, _ttl())
        except DomainError as error:
            attach_error(form, error)
            status = error.status
        else:
            return _link_page(invitation, created=True, status=201)
    elif request.method == "POST":
        status = 400
    return render_template("admin/new_user.html", form=form), status


@bp.get("/users/<int:user_id>")
@requires(Action.ADMINISTER)
def user(user_id: int):
    return _render_user(_user(user_id))


def _render_user(account: User, form: AccessForm | None = None, status: int = 200):
    session = db.session()
    if form is None:
        form = AccessForm(formdata=None, role=account.role, function=account.function_key or "")
    form.function.choices = _function_choices(session, "No function")
    return render_template(
        "admin/user.html", account=account, form=form, link_form=ConfirmForm(formdata=None),
        history=admin.account_history(session, account), ttl_hours=current_app.config["SET_PASSWORD_TTL_HOURS"],
    ), status


@bp.post("/users/<int:user_id>/access")
@requires(Action.ADMINISTER)
def update_access(user_id: int):
    account = _user(user_id)
    form = AccessForm()
    if not form.validate_on_submit():
        return _render_user(account, form, 400)
    try:
        with db.attempt():
            changes = accounts.update_access(db.session(), current_user, account, form.role.data or "",
                                             form.function.data or None)
    except DomainError as error:
        attach_error(form, error)
        return _render_user(_user(user_id), form, error.status)
    flash(f"Saved: {account.display_name} is now {account.role_label.lower()}"
          f"{', ' + account.function_label if account.function_key else ''}." if changes
          else "Nothing changed.", "success" if changes else "info")
    return redirect(url_for("admin.user", user_id=account.id))


def _confirmed_change(user_id: int, action: str):
    """Deactivate or reactivate: a confirmation page (GET), then the change (POST)."""
    account = _user(user_id)
    form = ConfirmForm()
    if request.method == "GET" or not form.validate_on_submit():
        return render_template("admin/confirm.html", account=account, action=action, form=form), (
            200 if request.method == "GET" else 400)
    change = accounts.deactivate_user if action == "deactivate" else accounts.reactivate_user
    try:
        with db.attempt():
            change(db.session(), current_user, account.email)
    except DomainError as error:
        flash(error.reason, "error")
        return _render_user(_user(user_id), status=error.status)
    flash(f"{account.display_name} is {'deactivated' if action == 'deactivate' else 'active again'}.",
          "success")
    return redirect(url_for("admin.user", user_id=account.id))


@bp.route("/users/<int:user_id>/deactivate", methods=["GET", "POST"])
@requires(Action.ADMINISTER)
def deactivate(user_id: int):
    return _confirmed_change(user_id, "deactivate")


@bp.route("/users/<int:user_id>/reactivate", methods=["GET", "POST"])
@requires(Action.ADMINISTER)
def reactivate(user_id: int):
    return _confirmed_change(user_id, "reactivate")


@bp.post("/users/<int:user_id>/link")
@requires(Action.ADMINISTER)
def issue_link(user_id: int):
    account = _user(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400, description="The form's security token is missing; reload the page.")
    try:
        with db.attempt():
            invitation = accounts.issue_set_password_link(db.session(), current_user, account, _ttl())
    except DomainError as error:
        flash(error.reason, "error")
        return _render_user(_user(user_id), status=error.status)
    return _link_page(invitation, created=False, status=200)


# -------------------------------------------------------------------------------------- functions
@bp.route("/functions", methods=["GET", "POST"])
@requires(Action.ADMINISTER)
def functions():
    session = db.session()
    form = NewFunctionForm()
    status = 200
    if form.validate_on_submit():
        try:
            with db.attempt():
                created = accounts.create_function(session, current_user, form.key.data, form.label.data)
        except DomainError as error:
            attach_error(form, error)
            status = error.status
        else:
            flash(f"Function {created.label} added.", "success")
            return redirect(url_for("admin.functions"))
    elif request.method == "POST":
        status = 400
    return render_template("admin/functions.html", functions=accounts.list_functions(session),
                           form=form), status


@bp.route("/functions/<key>", methods=["GET", "POST"])
@requires(Action.ADMINISTER)
def function(key: str):
    session = db.session()
    org_function = accounts.get_function(session, key)
    if org_function is None:
        abort(404, description=f"There is no function {key!r}.")
    form = FunctionLabelForm(formdata=None, label=org_function.label) if request.method == "GET" \
        else FunctionLabelForm()
    status = 200
    if form.validate_on_submit():
        try:
            with db.attempt():
                changes = accounts.rename_function(session, current_user, key, form.label.data)
        except DomainError as error:
            attach_error(form, error)
            status = error.status
        else:
            flash(f"Renamed to {org_function.label}." if changes else "Nothing changed.",
                  "success" if changes else "info")
            return redirect(url_for("admin.functions"))
    elif request.method == "POST":
        status = 400
    return render_template("admin/function.html", org_function=org_function, form=form), status


# -------------------------------------------------------------------------------- access requests
@bp.get("/access-requests")
@requires(Action.ADMINISTER)
def access_requests():
    """People the identity provider signed in whom the forum did not let in (forum.auth.provisioning)."""
    session = db.session()
    page = provisioning.open_requests(session, paging.page_number(request.args.get("page")),
                                      current_app.config["USERS_PER_PAGE"])
    linkable = {r.id: provisioning.account_to_link(session, r) for r in page.items if r.reason == "email_taken"}
    return render_template("admin/access_requests.html", page=page, linkable=linkable,
                           reasons=provisioning.REASONS, form=ConfirmForm(formdata=None))


def _access_request(request_id: int):
    try:
        return provisioning.get_request(db.session(), request_id)
    except NotFound as error:
        abort(404, description=error.reason)


@bp.route("/access-requests/<int:request_id>/link", methods=["GET", "POST"])
@requires(Action.ADMINISTER)
def link_access_request(request_id: int):
    """Link the existing account with the request's e-mail address to the person at the
    provider: a confirmation page (GET), then the change (POST)."""
    session = db.session()
    access = _access_request(request_id)
    account = provisioning.account_to_link(session, access)
    form = ConfirmForm()
    if request.method == "GET" or not form.validate_on_submit():
        return render_template("admin/link_identity.html", access=access, account=account, form=form), (
            200 if request.method == "GET" else 400)
    try:
        with db.attempt():
            linked = provisioning.link(session, current_user, access)
    except DomainError as error:
        flash(error.reason, "error")
        return redirect(url_for("admin.access_requests"))
    flash(f"{linked.display_name} ({linked.email}) now signs in through the identity provider.", "success")
    return redirect(url_for("admin.user", user_id=linked.id))


@bp.post("/access-requests/<int:request_id>/dismiss")
@requires(Action.ADMINISTER)
def dismiss_access_request(request_id: int):
    access = _access_request(request_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400, description="The form has expired; reload the page and try again.")
    try:
        with db.attempt():
            provisioning.dismiss(db.session(), current_user, access)
    except DomainError as error:
        flash(error.reason, "error")
    else:
        flash(f"Access request of {access.email or access.subject} dismissed. It opens again if they sign in again.",
              "info")
    return redirect(url_for("admin.access_requests"))
