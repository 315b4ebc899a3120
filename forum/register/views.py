"""The register of AI systems: list, new, a system's page, edit, and a new version."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    get_template_attribute,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from markupsafe import Markup

from forum.auth.decorators import requires
from forum.auth.service import function_labels
from forum.core import clock, db, derived, links, pages, paging, spreadsheet
from forum.core.errors import DomainError, NotFound, ValidationError
from forum.core.forms import attach_error, check_filters, choices, problems
from forum.core.inputs import parse_whole_number
from forum.core.policy import Action
from forum.evidence.gates import STATUS_LABELS
from forum.items import service as items
from forum.register import grouping, obligations, queries, report
from forum.register.forms import GroupForm, ObligationForm, SystemFilterForm, SystemForm, VersionForm
from forum.systems import service as systems
from forum.systems.models import DEPLOYMENT_STATUSES, GPAI_ROLES, RISK_TIERS, AISystem
from forum.weighing import drift

bp = Blueprint("register", __name__, url_prefix="/systems")
EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def _owner_choices(empty: str | None = None) -> list:
    pairs = [(f.key, f.label) for f in function_labels(db.session())]
    return choices([("", empty), *pairs] if empty is not None else [("", "Choose a function…"), *pairs])


def _system(system_id: int) -> AISystem:
    try:
        return systems.get_system(db.session(), system_id)
    except NotFound as error:
        abort(404, description=error.reason)


def _data(form: SystemForm) -> systems.SystemData:
    return systems.SystemData(
        name=form.name.data or "", owner_function=form.owner_function.data or "", vendor=form.vendor.data or "",
        model_name=form.model_name.data or "", status=form.status.data or "", intended_use=form.intended_use.data or "",
        personal_data=bool(form.personal_data.data), special_categories=bool(form.special_categories.data),
        eu_ai_act=form.eu_ai_act.data or "", high_risk_area=form.high_risk_area.data or "",
        gpai_role=form.gpai_role.data or "", risk_tier=form.risk_tier.data or "")


def _register_filters(announce: bool = True):
    """The register's filters from the query: (form, filters, extra SQL conditions, query to keep,
    status) — status 400 with the form's messages when a filter is not valid."""
    form = SystemFilterForm(request.args)
    form.owner.choices = _owner_choices("Any function")
    if not check_filters(form, request.args, announce):
        return form, systems.SystemFilters(), (), {}, 400
    filters = systems.SystemFilters(status=form.status.data or "", owner=form.owner.data or "",
                                    text=(form.q.data or "").strip(), classification=form.classification.data or "")
    drifted, unmet = bool(form.drifted.data), bool(form.unmet.data)
    extra = ((drift.with_decisions_to_revalidate(clock.now()),) if drifted else ()) + (
        (obligations.with_obligations_unmet(),) if unmet else ())
    query = {k: v for k, v in (("status", filters.status), ("owner", filters.owner), ("q", filters.text),
                               ("classification", filters.classification), ("drifted", "y" if drifted else ""),
                               ("unmet", "y" if unmet else "")) if v}
    return form, filters, extra, query, 200


@bp.get("")
@requires(Action.READ)
def index():
    form, filters, extra, query, status = _register_filters()
    session = db.session()
    try:
        page = systems.list_systems(session, filters, paging.page_number(request.args.get("page")),
                                    current_app.config["ITEMS_PER_PAGE"], extra,
                                    cache_key=("register", *sorted(query.items())), load_rows=False)
    except ValidationError as error:
        abort(400, description=error.reason)
    # The form shows the request's own values (a search term as typed): kept per those.
    typed = pages.filter_args()
    filters_html = pages.kept_filters(session, "systems/_filters.html", typed, status == 200, form=form)
    return render_template("systems/index.html", page=page, filters_html=filters_html, query=query,
                           rows=system_rows(session, page.ids), may_change=systems.may_change(current_user)), status


def system_rows(session, ids: list[int]) -> Markup:
    """The register's rows of the systems ``ids`` with their obligations met: kept rendered
    until the trail moves (forum.core.derived.rendered), the same for every reader."""
    if not ids:
        return Markup("")

    def render() -> list[str]:
        shown = paging.rows_by_ids(session, AISystem, ids)
        return [get_template_attribute("systems/_rows.html", "system_rows")(shown, obligations.standings(session, shown))]

    return derived.rendered(session, ("system rows", tuple(ids)), render)[0]


@bp.get("/export.<any(csv, json):fmt>")
@requires(Action.READ)
def export(fmt: str):
    """The register (or the filtered part of it) with each system's standing, streamed."""
    form, filters, extra, query, status = _register_filters(announce=False)
    if status != 200:
        abort(400, description=f"The export's filters are not valid — {problems(form)}")
    try:
        conditions = [*systems.conditions(filters), *extra]
    except ValidationError as error:
        abort(400, description=error.reason)
    now = clock.now()

    def url_of(system):
        return links.external_url("register.detail", system_id=system.id)

    def body():
        # The request's session is closed once the view returns; the stream takes its own.
        batches = report.export_batches(db.session(), conditions, now, url_of)
        yield from (report.csv_chunks(batches) if fmt == "csv" else report.json_chunks(batches, now, query))

    response = Response(stream_with_context(body()), content_type=EXPORT_TYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="ai-systems-{now:%Y-%m-%d}.{fmt}"'
    return response


@bp.get("/grouping")
@requires(Action.ADMINISTER)
def grouping_page():
    return _render_grouping()


def _render_grouping(form: GroupForm | None = None, status: int = 200):
    """The grouping page; ``form`` is a refused confirmation, shown with its errors. Otherwise its
    content reads the same for every administrator: kept rendered per page until the trail moves
    (derived.rendered_forms), its forms carrying each request's own CSRF token. It reads nothing
    of the discussion (comments, follows) nor of the items in the register: kept across a
    result file for one of those (``scope``, grouping.SCOPE)."""
    session = db.session()
    page_number = paging.page_number(request.args.get("page"))
    if form is None:
        body, _ = derived.rendered_forms(session, ("grouping page", page_number), lambda: (
            _grouping_body(session, page_number, None), None), scope=grouping.SCOPE)
    else:
        body = derived.afresh(_grouping_body(session, page_number, form))
    return render_template("systems/grouping.html", body=body), status


def _grouping_body(session, page_number: int, form: GroupForm | None) -> str:
    found, total = grouping.proposals(session, page_number)
    page = paging.Page(items=found, total=total, page=page_number, per_page=grouping.GROUPS_SHOWN)
    owners = [(f.key, f.label) for f in function_labels(session)]
    return render_template("systems/_grouping_body.html", page=page, owners=owners, form=form,
                           failed=(form.vendor.data, form.model.data) if form is not None else None,
                           statuses=DEPLOYMENT_STATUSES, link_batch=grouping.LINK_BATCH)


@bp.post("/grouping")
@requires(Action.ADMINISTER)
def confirm_grouping():
    """Link one group of existing items to a system (new or of the register)."""
    form = GroupForm()
    form.owner_function.choices = _owner_choices()
    if not form.validate_on_submit():
        return _render_grouping(form, 400)
    target = form.target.data
    system_id = None if target == "new" else parse_whole_number(target, 1)
    if target != "new" and system_id is None:
        form.target.errors = ["Choose a system of the register with this model, or a new one."]
        return _render_grouping(form, 400)
    try:
        with db.attempt():
            outcome = grouping.confirm(
                db.session(), current_user, form.vendor.data or "", form.model.data or "",
                system_id, name=form.name.data or "",
                owner_function=form.owner_function.data or "", status=form.status.data or "evaluating")
    except DomainError as error:
        if error.field in ("name", "owner_function", "status"):
            attach_error(form, error)
        else:
            form.target.errors = [error.reason]
        return _render_grouping(form, error.status)
    linked = f"{outcome.linked} item{'' if outcome.linked == 1 else 's'}"
    message = (f"{outcome.system.name} is in the register with {linked}." if outcome.created
               else f"{linked} now follow{'s' if outcome.linked == 1 else ''} {outcome.system.name}.")
    if outcome.left:
        message += f" {outcome.left} more of this group are left: confirm it again to link them."
    flash(message, "success")
    return redirect(url_for("register.grouping_page"))


@bp.route("/new", methods=["GET", "POST"])
@requires(Action.FILE)
def new():
    form = SystemForm()
    form.owner_function.choices = _owner_choices()
    # "for=item": added from the item form, which the new system then fills in.
    for_item = request.args.get("for") == "item"
    if request.method == "GET" and current_user.function_key:
        form.owner_function.data = current_user.function_key
    status = 200
    if form.validate_on_submit():
        try:
            with db.attempt():
                system = systems.create_system(db.session(), current_user, _data(form), form.version_in_use.data or "")
        except DomainError as error:
            attach_error(form, error)
            status = error.status
        else:
            flash(f"{system.name} is in the register.", "success")
            if for_item:
                return redirect(url_for("items.new", system=system.id))
            return redirect(url_for("register.detail", system_id=system.id))
    elif request.method == "POST":
        status = 400
    return render_template("systems/form.html", form=form, system=None, for_item=for_item), status


@bp.get("/<int:system_id>")
@requires(Action.READ)
def detail(system_id: int):
    return _render_detail(_system(system_id))


def _obligation_form(session, system: AISystem, formdata=None) -> ObligationForm:
    form = ObligationForm(formdata=formdata)
    form.run.choices = choices([("", "None"), *((str(i), label) for i, label in obligations.run_choices(session, system))])
    form.decision.choices = choices([("", "None"), *((str(i), label)
                                                     for i, label in obligations.decision_choices(session, system))])
    return form


def _render_detail(system: AISystem, version_form: VersionForm | None = None, status: int = 200):
    """The system's page; ``version_form`` is a refused one, shown with its errors. Otherwise
    its content reads the same for everyone with the same role: kept rendered until the trail
    moves (derived.rendered_forms), its forms carrying each request's own CSRF token. It reads
    nothing of the discussion (comments, follows) nor of other systems' items: kept across
    their changes (``scope``, queries.page_scope)."""
    session = db.session()
    if version_form is None:
        body, _ = derived.rendered_forms(session, ("system page", system.id, current_user.role), lambda: (
            _content(session, system, VersionForm(formdata=None, version=system.version)), None),
            scope=queries.page_scope(system))
    else:
        body = derived.afresh(_content(session, system, version_form))
    return render_template("systems/detail.html", system=system, body=body), status


def _content(session, system: AISystem, version_form: VersionForm) -> str:
    facts = queries.system_page(session, system, clock.now())
    # The items, runs and decisions read the same for every reader: kept rendered until the trail
    # moves (forum.core.derived.rendered), like the facts they are made of.
    lists = derived.rendered(session, ("system lists", system.id), lambda: [
        get_template_attribute("systems/_lists.html", "system_lists")(
            facts.items, facts.items_total, facts.runs, facts.decisions, facts.decisions_total, STATUS_LABELS)],
        scope=queries.page_scope(system))[0]
    return render_template(
        "systems/_detail_body.html", system=system, lists=lists, items=facts.items, versions=facts.versions,
        version_form=version_form, may_change=systems.may_change(current_user),
        checklists=obligations.checklists(session, system), gpai_roles=GPAI_ROLES, risk_tiers=RISK_TIERS,
    )


@bp.get("/<int:system_id>/obligations")
@requires(Action.READ)
def obligations_report(system_id: int):
    """For auditors: every obligation that applies, met or open, with what shows it."""
    system = _system(system_id)
    sections = report.obligations_report(db.session(), system)
    return render_template("systems/obligations.html", system=system, sections=sections, now=clock.now())


@bp.get("/<int:system_id>/obligations.csv")
@requires(Action.READ)
def obligations_report_csv(system_id: int):
    system = _system(system_id)
    text = spreadsheet.rows_text(report.REPORT_HEADER,
                                 report.report_rows(report.obligations_report(db.session(), system)))
    response = Response(text, content_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="ai-system-{system.id}-obligations.csv"'
    return response


@bp.route("/<int:system_id>/edit", methods=["GET", "POST"])
@requires(Action.FILE)
def edit(system_id: int):
    system = _system(system_id)
    if request.method == "GET":
        form = SystemForm(formdata=None, data={
            "name": system.name, "vendor": system.vendor, "model_name": system.model_name,
            "owner_function": system.owner_function_key, "status": system.status,
            "intended_use": system.intended_use, "personal_data": system.personal_data,
            "special_categories": system.special_categories, "eu_ai_act": system.eu_ai_act,
            "high_risk_area": system.high_risk_area, "gpai_role": system.gpai_role, "risk_tier": system.risk_tier,
            "version": str(system.version)})
    else:
        form = SystemForm()
    form.owner_function.choices = _owner_choices()
    status = 200
    if form.validate_on_submit():
        try:
            with db.attempt():
                changes = systems.update_system(db.session(), current_user, system, _data(form), form.version.number)
        except DomainError as error:
            attach_error(form, error)
            status = error.status
        else:
            flash("Saved." if changes else "Nothing changed.", "success" if changes else "info")
            return redirect(url_for("register.detail", system_id=system.id))
    elif request.method == "POST":
        status = 400
    return render_template("systems/form.html", form=form, system=system), status


@bp.post("/<int:system_id>/version")
@requires(Action.FILE)
def record_version(system_id: int):
    """A new version of the system, and with it every item about it (one transaction)."""
    system = _system(system_id)
    form = VersionForm()
    if not form.validate_on_submit():
        return _render_detail(system, form, 400)
    session = db.session()
    try:
        with db.attempt():
            before = systems.record_version(session, current_user, system, form.version_in_use.data,
                                            form.note.data or "", form.version.number)
            changed = items.apply_system_version(session, current_user, system) if before is not None else []
    except DomainError as error:
        attach_error(form, error)
        return _render_detail(_system(system_id), form, error.status)
    if before is None:
        flash(f"Nothing changed: {system.name} already runs {system.version_in_use}.", "info")
    else:
        moved = f"{len(changed)} item{'' if len(changed) == 1 else 's'} about it moved to that version"
        flash(f"{system.name} now runs {system.version_in_use}: {moved}. Evidence of other versions is stale "
              "now, and decided items that rested on it need revalidation.",
              "success")
    return redirect(url_for("register.detail", system_id=system.id))


def _choice(raw: str | None) -> int | None:
    return parse_whole_number(raw, 1) if raw else None  # one of the choices: the form checked it


@bp.route("/<int:system_id>/obligations/<framework>/<obligation>", methods=["GET", "POST"])
@requires(Action.FILE)
def confirm_obligation(system_id: int, framework: str, obligation: str):
    """Confirm an obligation met, with what shows it: an evidence run of the system's items, a
    decision about them, a document."""
    system = _system(system_id)
    session = db.session()
    try:
        state = obligations.state_of(session, system, framework, obligation)
    except NotFound as error:
        abort(404, description=error.reason)
    form = _obligation_form(session, system, request.form if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            status = 400
        else:
            try:
                with db.attempt():
                    obligations.confirm(session, current_user, system, framework, obligation,
                                        run_id=_choice(form.run.data), decision_id=_choice(form.decision.data),
                                        document_url=form.document_url.data or "", note=form.note.data or "")
            except DomainError as error:
                attach_error(form, error)
                status = error.status
            else:
                flash(f"“{state.obligation.title}” confirmed.", "success")
                return redirect(url_for("register.detail", system_id=system.id) + "#obligations-heading")
    return render_template("systems/confirm_obligation.html", system=system, state=state, form=form), status


@bp.post("/<int:system_id>/obligations/<framework>/<obligation>/reopen")
@requires(Action.FILE)
def reopen_obligation(system_id: int, framework: str, obligation: str):
    system = _system(system_id)
    form = ObligationForm()
    if not form.validate_on_submit():
        abort(400, description="The form has expired; reload the page and try again.")
    try:
        with db.attempt():
            obligations.reopen(db.session(), current_user, system, framework, obligation)
    except NotFound as error:
        abort(404, description=error.reason)
    except DomainError as error:
        flash(error.reason, "error")
    else:
        flash("Obligation reopened.", "info")
    return redirect(url_for("register.detail", system_id=system.id) + "#obligations-heading")
