"""Item pages: list, file, detail with history, edit, lifecycle actions."""

from __future__ import annotations

from flask import Blueprint, abort, flash, get_template_attribute, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forum.auth.decorators import requires
from forum.auth.service import function_labels
from forum.core import db, derived
from forum.core.errors import Conflict, DomainError, NotFound
from forum.core.forms import choices
from forum.core.inputs import parse_whole_number
from forum.core.policy import Action, allows
from forum.items import history, panels, service
from forum.items.forms import ItemForm, ModelUpdateForm, TransitionForm
from forum.items.service import ItemData
from forum.systems.models import AISystem
from forum.systems.service import all_systems

bp = Blueprint("items", __name__, url_prefix="/items")

#: Lifecycle actions that another area performs through its own form, not the item page's
#: status buttons: escalation needs a reason and an Escalation record (forum area).
OWN_FORM_ACTIONS = {"escalate"}
#: How many of an item's latest events its page shows; the rest are a link away.
RECENT_EVENTS = 5


def _function_choices(session) -> list[tuple[str, str]]:
    return [(f.key, f.label) for f in function_labels(session)]



def _system_choices(session, current_id: int | None = None) -> list:
    """The register's systems in use (and the item's own, even retired) for the item form."""
    found = all_systems(session)
    if current_id is not None and all(system.id != current_id for system in found):
        kept = session.get(AISystem, current_id)
        found = [*found, kept] if kept is not None else found
    return choices([("", "None: describe the model below"),
                    *((str(system.id), f"{system.name} ({system.model_label})") for system in found)])


def _system_of(form: ItemForm) -> int | None:
    raw = (form.system.data or "").strip()
    return parse_whole_number(raw, 1) if raw else None  # one of the choices: the form checked it


def _data_from(form: ItemForm) -> ItemData:
    return ItemData(
        title=form.title.data or "",
        category=form.category.data,
        function=form.function.data,
        summary=form.summary.data or "",
        vendor=form.vendor.data or "",
        model_name=form.model_name.data or "",
        model_version=form.model_version.data or "",
        system=_system_of(form),
        exposure=form.exposure.data,
        needed_by=form.needed_by.data,
    )


def _attach_error(form: ItemForm, error: DomainError) -> None:
    target = getattr(form, error.field, None) if error.field else None
    if target is not None and error.field not in ("version", "status"):
        target.errors = [*target.errors, error.reason]
    else:
        flash(error.reason, "error")


def _load(item_id: int, related: bool = True):
    try:
        return service.get_item(db.session(), current_user, item_id, related)
    except NotFound as error:
        abort(404, description=error.reason)


@bp.route("/new", methods=["GET", "POST"])
@requires(Action.FILE)
def new():
    session = db.session()
    form = ItemForm()
    form.function.choices = choices(_function_choices(session))
    form.system.choices = _system_choices(session)
    if request.method == "GET" and current_user.function_key:
        form.function.data = current_user.function_key
    if request.method == "GET" and request.args.get("system", "").isdigit():
        form.system.data = request.args["system"]  # "File an item about this system"
    status = 200
    if form.validate_on_submit():
        try:
            with db.attempt():
                item = service.create_item(session, current_user, _data_from(form))
        except DomainError as error:
            _attach_error(form, error)
            status = error.status
        else:
            flash("Draft saved. Submit it to the forum when it is ready.", "success")
            return redirect(url_for("items.detail", item_id=item.id))
    elif request.method == "POST":
        status = 400
    return render_template("items/form.html", form=form, item=None), status


@bp.get("/<int:item_id>")
@login_required
def detail(item_id: int):
    return render_detail(db.session(), _load(item_id, related=False))


def render_detail(session, item, status: int = 200, **context):
    """The item page with ``status``; ``context`` reaches the template and its panels (another
    area's form with its errors, for instance)."""
    keep = not context  # a refused form: every panel is built afresh, the form in its place
    recent, (shown, more) = derived.rendered_with(session, ("item history", item.id),
                                                  lambda: _recent_history(session, item))
    transitions = [
        spec for spec in service.available_transitions(current_user, item)
        if spec.action not in OWN_FORM_ACTIONS
    ]
    forms = {}
    for spec in transitions:
        forms[spec.action] = TransitionForm(formdata=None, action=spec.action, version=item.version)
    if service.can_update_model(current_user, item) and item.system_id is None:
        context.setdefault("model_form", ModelUpdateForm(formdata=None, prefix="model", version=item.version))
    may_try = item.system_id is not None and allows(current_user, Action.TAKE_PART)
    parts = derived.rendered(session, ("item page", item.id, may_try), lambda: _parts(session, item, may_try))
    return render_template(
        "items/detail.html", item=item, parts=parts, recent=recent, shown_events=shown, more_events=more,
        transitions=transitions,
        forms=forms,
        can_edit=service.can_edit(current_user, item),
        panels=panels.build_all(session, current_user, item, keep), **context,
    ), status


def _parts(session, item, may_try: bool) -> tuple[str, str, str]:
    """What the item page shows the same to everyone (items/_detail_parts.html): the line under
    its title, its summary and the facts about its AI system. Kept until the trail moves (a
    renaming of the filer, the function or the system moves it too); ``may_try``, whether the
    viewer may probe the model, is the only thing of the viewer's in them."""
    service.load_related(session, item)
    parts = "items/_detail_parts.html"
    return (get_template_attribute(parts, "meta")(item), get_template_attribute(parts, "summary")(item),
            get_template_attribute(parts, "facts")(item, item.system, may_try))


def _recent_history(session, item) -> tuple[str, tuple[int, bool]]:
    """The item's latest events rendered as its page's timeline (items/_history.html), how many
    it shows, and whether there are more. Kept until the trail moves (every event of the item
    moves it; so do the renamings of the people and functions it names): it reads the same for
    everyone who may see the item."""
    # One more than shown tells whether there is more, without counting the whole history.
    events = history.for_item(session, item, newest=RECENT_EVENTS + 1)
    more = len(events) > RECENT_EVENTS
    events = events[-RECENT_EVENTS:]
    return get_template_attribute("items/_history.html", "timeline")(events), (len(events), more)


@bp.get("/<int:item_id>/history")
@requires(Action.READ)
def full_history(item_id: int):
    """Every event of the item, oldest first, for whoever may see the item."""
    session = db.session()
    item = _load(item_id)
    return render_template("items/history.html", item=item, events=history.for_item(session, item))


@bp.route("/<int:item_id>/edit", methods=["GET", "POST"])
@requires(Action.FILE)
def edit(item_id: int):
    session = db.session()
    item = _load(item_id)
    if item.filer_id != current_user.id:
        abort(403, description="Only the person who filed this item can edit it.")
    if not service.can_edit(current_user, item):
        flash(f"The item is {item.status}; it can only be edited while draft or open.", "error")
        return redirect(url_for("items.detail", item_id=item.id))
    form = ItemForm(obj=None if request.method == "POST" else _form_values(item))
    form.function.choices = choices(_function_choices(session))
    form.system.choices = _system_choices(session, item.system_id)
    status, conflict = 200, False
    if form.validate_on_submit():
        try:
            with db.attempt():
                changes = service.update_item(
                    session, current_user, item, _data_from(form), int(form.version.data or 0)
                )
        except Conflict as error:
            # A conflict found by the flush (a concurrent save won the row): its savepoint is
            # rolled back; show the item as it now stands.
            item = _load(item_id)
            _attach_error(form, error)
            status, conflict = 409, error.field == "version"
            if conflict:
                form.version.data = str(item.version)
        except DomainError as error:
            _attach_error(form, error)
            status = error.status
        else:
            flash("Changes saved." if changes else "Nothing changed.", "success" if changes else "info")
            return redirect(url_for("items.detail", item_id=item.id))
    elif request.method == "POST":
        status = 400
    return render_template("items/form.html", form=form, item=item, conflict=conflict), status


class _Values:
    """Attribute bag for pre-filling the item form from an item."""

    def __init__(self, **values):
        self.__dict__.update(values)


def _form_values(item) -> _Values:
    return _Values(
        title=item.title, category=item.category, function=item.function_key, summary=item.summary,
        vendor=item.vendor, model_name=item.model_name, model_version=item.model_version,
        system=str(item.system_id or ""), exposure=item.exposure, needed_by=item.needed_by, version=str(item.version),
    )


@bp.post("/<int:item_id>/model-version")
@requires(Action.FILE)
def update_model(item_id: int):
    """Record a model update on an item past escalation (the evidence of other versions turns
    stale; on a decided item that shows as "revalidation required")."""
    session = db.session()
    item = _load(item_id)
    form = ModelUpdateForm(prefix="model")
    if not form.validate_on_submit():
        return render_detail(session, item, status=400, model_form=form)
    try:
        with db.attempt():
            changes = service.update_model_version(
                session, current_user, item, form.model_version.data, int(form.version.data)
            )
    except DomainError as error:
        item = _load(item_id)
        if error.field == "model_version":
            form.model_version.errors = [*form.model_version.errors, error.reason]
        else:
            flash(error.reason, "error")
        form.version.data = str(item.version)
        return render_detail(session, item, status=error.status, model_form=form)
    if changes:
        flash(f"Model update recorded: the item is now at version {item.model_version}; "
              "evidence of other versions is stale.", "success")
    else:
        flash(f"Nothing changed: the item is already at version {item.model_version}.", "info")
    return redirect(url_for("items.detail", item_id=item.id))


@bp.post("/<int:item_id>/status")
@requires(Action.FILE)
def change_status(item_id: int):
    session = db.session()
    item = _load(item_id)
    form = TransitionForm()
    if not form.validate_on_submit() or not str(form.version.data).isdigit():
        abort(400, description="The action or the item's version is missing from the form.")
    spec = service.TRANSITIONS.get(form.action.data)
    if spec is None or spec.by not in ("filer", "member"):
        abort(400, description=f"Unknown action {form.action.data!r}.")
    if spec.action in OWN_FORM_ACTIONS:
        abort(400, description=f"{spec.label} with its own form on the item page: it needs a reason.")
    try:
        with db.attempt():
            service.transition(session, current_user, item, form.action.data, int(form.version.data))
    except DomainError as error:
        flash(error.reason, "error")
        return render_detail(session, _load(item_id), status=error.status)
    flash(f"{spec.label}: the item is now {item.status_label.lower()}.", "success")
    return redirect(url_for("items.detail", item_id=item.id))
