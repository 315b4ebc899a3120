"""The inbox, following items, and the e-mail choices on the settings page."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forum.auth.views import SettingsSection
from forum.core import db, paging
from forum.core.errors import DomainError
from forum.core.pages import abort_for
from forum.items import panels
from forum.items import service as items
from forum.notify import service
from forum.notify.forms import EmailKindsForm, FollowForm, MarkReadForm
from forum.notify.models import KINDS

bp = Blueprint("notify", __name__)


def _page_number() -> int:
    return paging.page_number(request.args.get("page"))


# ------------------------------------------------------------------------ item page panel
def _panel(session, viewer, item) -> dict:
    """One statement: does the viewer follow the item."""
    return {"following": service.is_following(session, viewer, item.id), "form": FollowForm(formdata=None)}


# Whether one follows is the viewer's own: kept per viewer until the trail moves (a follow
# writes an event).
PANEL = panels.Panel(key="notify", template="notify/panel.html", build=_panel, order=5, column="side",
                     facet=lambda _session, viewer, _item: viewer.id)


# ----------------------------------------------------------------------------------- inbox
@bp.get("/inbox")
@login_required
def inbox():
    session = db.session()
    show = request.args.get("show", "all")
    kind = request.args.get("kind", "")
    if show not in ("all", "unread"):
        abort_for(DomainError("show must be all or unread."))
    try:
        page = service.inbox(session, current_user, _page_number(), current_app.config["INBOX_PER_PAGE"],
                             unread_only=show == "unread", kind=kind)
    except DomainError as error:
        abort_for(error)
    query = {key: value for key, value in (("show", show if show != "all" else ""), ("kind", kind)) if value}
    return render_template("notify/inbox.html", page=page, groups=service.by_item(page.items),
                           form=MarkReadForm(formdata=None), unread=current_user.unread_count,
                           show=show, kind=kind, kinds=KINDS, query=query)


@bp.post("/inbox/<int:notification_id>/read")
@login_required
def mark_read(notification_id: int):
    form = MarkReadForm()
    if not form.validate_on_submit():
        abort_for(DomainError("The form's security token is missing; reload the inbox."))
    try:
        with db.attempt():
            service.mark_read(db.session(), current_user, notification_id)
    except DomainError as error:
        abort_for(error)
    return redirect(url_for("notify.inbox", page=_page_number()))


@bp.post("/inbox/read/<path:subject>")
@login_required
def mark_subject_read(subject: str):
    form = MarkReadForm()
    if not form.validate_on_submit():
        abort_for(DomainError("The form's security token is missing; reload the inbox."))
    count = service.mark_subject_read(db.session(), current_user, subject[:80])
    flash(f"Marked {count} notification{'' if count == 1 else 's'} read." if count
          else "Nothing about it was unread.", "success" if count else "info")
    return redirect(url_for("notify.inbox", **{k: v for k, v in request.args.items() if k in ("show", "kind")}))


@bp.post("/inbox/read")
@login_required
def mark_all_read():
    form = MarkReadForm()
    if not form.validate_on_submit():
        abort_for(DomainError("The form's security token is missing; reload the inbox."))
    count = service.mark_all_read(db.session(), current_user)
    flash(f"Marked {count} notification{'' if count == 1 else 's'} read." if count
          else "Nothing was unread.", "success" if count else "info")
    return redirect(url_for("notify.inbox"))


# --------------------------------------------------------------------------------- follows
def _change_follow(item_id: int, following: bool):
    form = FollowForm()
    if not form.validate_on_submit():
        abort_for(DomainError("The form's security token is missing; reload the item."))
    session = db.session()
    try:
        with db.attempt():
            item = items.get_item(session, current_user, item_id)
            if following:
                changed = service.follow(session, current_user, item)
            else:
                changed = service.unfollow(session, current_user, item)
    except DomainError as error:
        abort_for(error)
    if following:
        flash("You follow this item: its changes reach your inbox." if changed
              else "You already follow this item.", "success" if changed else "info")
    else:
        flash("You no longer follow this item." if changed else "You did not follow this item.",
              "success" if changed else "info")
    return redirect(url_for("items.detail", item_id=item_id))


@bp.post("/items/<int:item_id>/follow")
@login_required
def follow(item_id: int):
    return _change_follow(item_id, True)


@bp.post("/items/<int:item_id>/unfollow")
@login_required
def unfollow(item_id: int):
    return _change_follow(item_id, False)


# ---------------------------------------------------------------- e-mail choices (settings)
@bp.post("/settings/email")
@login_required
def update_email_kinds():
    form = EmailKindsForm()
    if not form.validate_on_submit():
        # Only a tampered form gets here (check boxes cannot be "wrong" otherwise).
        reasons = "; ".join(form.kinds.errors) or "the form's security token is missing"
        abort_for(DomainError(f"The e-mail choices were not saved: {reasons}. Reload the settings."))
    try:
        with db.attempt():
            changes = service.set_email_kinds(db.session(), current_user, form.kinds.data or [])
    except DomainError as error:
        abort_for(error)
    flash("E-mail choices saved." if changes else "Nothing changed.", "success" if changes else "info")
    return redirect(url_for("auth.settings") + "#email-heading")


def settings_section(_app, *, session, user) -> SettingsSection:
    """The settings page's "E-mail by kind" section."""
    form = EmailKindsForm(formdata=None, kinds=service.email_kinds(session, user))
    return SettingsSection("notify/_settings_email.html", {"form": form})
