"""Model endpoints of a system (administrators), "Try it" on a system, and a probe's page."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from forum.auth.decorators import requires
from forum.core import db
from forum.core.errors import DomainError, NotFound
from forum.core.forms import ConfirmForm, attach_error, choices
from forum.core.inputs import parse_whole_number
from forum.core.policy import Action, allows
from forum.items.models import DecisionItem
from forum.probes import service
from forum.probes.forms import EndpointForm, ProposeForm, TryForm, verdict_form
from forum.probes.models import VERDICTS, ModelEndpoint
from forum.systems import service as systems
from forum.systems.models import AISystem

bp = Blueprint("probes", __name__)


def _system(system_id: int) -> AISystem:
    try:
        return systems.get_system(db.session(), system_id)
    except NotFound as error:
        abort(404, description=error.reason)


def _settings() -> service.Settings:
    return service.Settings.of(current_app.config)


# -------------------------------------------------------------------------------- endpoints
@bp.route("/systems/<int:system_id>/endpoints", methods=["GET", "POST"])
@requires(Action.ADMINISTER)
def endpoints(system_id: int):
    system = _system(system_id)
    session = db.session()
    form = EndpointForm()
    if request.method == "GET":
        form.version.data = system.version_in_use
    status = 200
    if form.validate_on_submit():
        try:
            with db.attempt():
                endpoint = service.add_endpoint(session, current_user, system, service.EndpointData(
                    form.version.data, form.base_url.data, form.model.data, form.key_variable.data or "",
                    form.timeout_seconds.data, form.per_user_per_hour.data), _settings())
        except DomainError as error:
            attach_error(form, error)
            status = error.status
        else:
            flash(f"Version {endpoint.version} answers at {endpoint.base_url} now.", "success")
            return redirect(url_for("probes.endpoints", system_id=system.id))
    elif request.method == "POST":
        status = 400
    return render_template("probes/endpoints.html", system=system, form=form,
                           endpoints=service.endpoints(session, system),
                           hosts=sorted(_settings().hosts)), status


@bp.route("/systems/<int:system_id>/endpoints/<int:endpoint_id>/remove", methods=["GET", "POST"])
@requires(Action.ADMINISTER)
def remove_endpoint(system_id: int, endpoint_id: int):
    """A confirmation page, then the removal."""
    system = _system(system_id)
    session = db.session()
    endpoint = session.get(ModelEndpoint, endpoint_id)
    if endpoint is None or endpoint.system_id != system.id:
        abort(404, description=f"{system.name} has no endpoint {endpoint_id}.")
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit():
            abort(400, description="The form has expired; reload the page and try again.")
        with db.attempt():
            service.remove_endpoint(session, current_user, system, endpoint_id)
        flash(f"The endpoint of version {endpoint.version} is removed.", "info")
        return redirect(url_for("probes.endpoints", system_id=system.id))
    return render_template("probes/remove_endpoint.html", system=system, endpoint=endpoint)


# ---------------------------------------------------------------------------------- probing
def _try_form(system: AISystem, known: list[ModelEndpoint], formdata=None) -> TryForm:
    form = TryForm(formdata=formdata)
    pairs = [(str(e.id), f"{e.version}{' — in use' if e.version == system.version_in_use else ''} ({e.model})")
             for e in known]
    form.first.choices = choices(pairs)
    form.second.choices = choices([("", "No second version"), *pairs])
    if formdata is None and known:
        in_use = next((e for e in known if e.version == system.version_in_use), known[0])
        other = next((e for e in known if e.id != in_use.id), None)
        form.first.data, form.second.data = str(in_use.id), str(other.id) if other else ""
    return form


@bp.route("/systems/<int:system_id>/try", methods=["GET", "POST"])
@requires(Action.TAKE_PART)
def try_it(system_id: int):
    system = _system(system_id)
    session = db.session()
    known = service.endpoints(session, system)
    form = _try_form(system, known, request.form if request.method == "POST" else None)
    if request.method == "GET":
        form.prompt.data = (request.args.get("prompt") or "")[:service.MAX_PROMPT] or None
        form.item.data = request.args.get("item", "")
    status = 200
    item = None
    try:
        item = service.item_of(session, current_user, system, parse_whole_number(form.item.data or "", 1)
                               if form.item.data else None)
    except DomainError as error:
        abort(400, description=error.reason)
    if request.method == "POST":
        if not form.validate_on_submit():
            status = 400
        else:
            chosen = [parse_whole_number(v, 1) for v in (form.first.data, form.second.data) if v]
            try:
                with db.attempt():
                    probe = service.run_probe(session, current_user, system, form.prompt.data,
                                              [c for c in chosen if c], _settings(), item)
            except DomainError as error:
                if error.field == "versions":
                    form.first.errors = [*form.first.errors, error.reason]
                else:
                    attach_error(form, error)
                status = error.status
            else:
                return redirect(url_for("probes.probe", probe_id=probe.id))
    return render_template("probes/try.html", system=system, form=form, endpoints=known, item=item,
                           recent=service.saved_probes(session, system)), status


def _load_probe(probe_id: int):
    try:
        return service.get_probe(db.session(), current_user, probe_id)
    except NotFound as error:
        abort(404, description=error.reason)


def _render_probe(found, errors: dict[str, str] | None = None, submitted=None, status: int = 200):
    session = db.session()
    unacceptable = [a for a in found.answers if a.verdict == "unacceptable" and a.proposed_case_id is None]
    targets = service.items_to_propose_on(session, current_user, found) if unacceptable and found.saved_at \
        and can_take_part() else []
    item = session.get(DecisionItem, found.item_id) if found.item_id else None
    return render_template("probes/probe.html", system=_system(found.system_id), probe=found, verdicts=VERDICTS,
                           errors=errors or {}, submitted=submitted or {}, targets=targets, item=item,
                           may_save=found.saved_at is None and found.run_by_id == current_user.id), status


def can_take_part() -> bool:
    return allows(current_user, Action.TAKE_PART)


@bp.get("/probes/<int:probe_id>")
@requires(Action.READ)
def probe(probe_id: int):
    """A saved probe, for everyone who reads the forum; an unsaved one, for its runner to judge."""
    return _render_probe(_load_probe(probe_id))


@bp.post("/probes/<int:probe_id>/save")
@requires(Action.TAKE_PART)
def save_probe(probe_id: int):
    """The runner's verdicts on each answer; the probe goes on the trail."""
    session = db.session()
    found = _load_probe(probe_id)
    form = verdict_form(found.answers, request.form)
    if not form.validate_on_submit():
        abort(400, description="The form has expired; reload the page and try again.")
    verdicts = {a.id: (form[f"verdict-{a.id}"].data or "", form[f"note-{a.id}"].data or "") for a in found.answers}
    try:
        with db.attempt():
            service.save_probe(session, current_user, _system(found.system_id), found, verdicts)
    except DomainError as error:
        if error.status == 403:
            abort(403, description=error.reason)
        session.expire_all()
        return _render_probe(_load_probe(probe_id), {error.field or "verdict": error.reason}, request.form,
                             error.status)
    flash("Probe saved: it is on the decision trail.", "success")
    return redirect(url_for("probes.probe", probe_id=found.id))


@bp.post("/probes/<int:probe_id>/answers/<int:answer_id>/propose")
@requires(Action.TAKE_PART)
def propose(probe_id: int, answer_id: int):
    """An answer judged not acceptable becomes a proposed edge case, with what the model said."""
    session = db.session()
    found = _load_probe(probe_id)
    form = ProposeForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400, description="The form has expired; reload the page and try again.")
        problem = "; ".join(errors[0] for name, errors in form.errors.items())
        return _render_probe(found, {f"propose-{answer_id}": problem}, request.form, 400)
    try:
        with db.attempt():
            case = service.propose_from_answer(session, current_user, found, answer_id, form.item.data,
                                               form.description.data or "")
    except NotFound as error:
        abort(404, description=error.reason)
    except DomainError as error:
        session.expire_all()
        return _render_probe(_load_probe(probe_id), {f"propose-{answer_id}": error.reason}, request.form,
                             error.status)
    flash(f"Proposed as edge case {case.case_id} on the item: it is in the item's edge-case CSV for the test team.",
          "success")
    return redirect(url_for("probes.probe", probe_id=found.id))
