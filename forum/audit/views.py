"""Audit pages: item timelines, the trail browser, raw events, exports, verification and
checkpoints. Executives and auditors only (docs/architecture.md); checkpoints: auditors."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user

from forum.audit import access, browse, timeline
from forum.audit import export as trail_export
from forum.audit import verify as trail_verify
from forum.audit.browse import TrailFilters
from forum.audit.forms import CheckpointForm, TrailFilterForm, VerifyForm
from forum.auth.decorators import requires
from forum.core import db, pages
from forum.core.derived import cached
from forum.core.errors import DomainError, NotFound
from forum.core.forms import choices, problems
from forum.core.policy import Action, allows
from forum.items import panels
from forum.items import service as items
from forum.trail import signing
from forum.trail.service import TrailDamaged

bp = Blueprint("audit", __name__)

PER_PAGE = 50
EXPORT_TYPES = {"jsonl": "application/x-ndjson; charset=utf-8", "csv": "text/csv; charset=utf-8"}


# ------------------------------------------------------------------------- item page panel
def _item_panel(session, viewer, item) -> dict:
    if not allows(viewer, Action.READ_TRAIL):
        return {"visible": False}
    # From the derived cache while the trail stays put: every new event of the item moves it.
    return {"visible": True, "count": cached(session, ("trail events of", item.subject),
                                             lambda: timeline.count_for_subject(session, item.subject))}


PANEL = panels.Panel(
    key="audit", template="audit/_item_panel.html", build=_item_panel, order=900, column="side",
    facet=lambda _session, viewer, _item: allows(viewer, Action.READ_TRAIL),
)


# ------------------------------------------------------------------------------- timeline
@bp.get("/items/<int:item_id>/timeline")
@requires(Action.READ_TRAIL)
def item_timeline(item_id: int):
    session = db.session()
    try:
        item = items.get_item(session, current_user, item_id)
    except NotFound as error:
        abort(404, description=error.reason)
    entries = timeline.timeline(session, current_user, item)
    return render_template("audit/timeline.html", item=item, entries=entries)


# --------------------------------------------------------------------------- trail browser
def _filter_form(session) -> TrailFilterForm:
    form = TrailFilterForm(request.args)
    form.kind.choices = choices([("", "Any kind"), *((k, k) for k in browse.distinct_kinds(session))])
    return form


def _filters(form: TrailFilterForm) -> TrailFilters:
    return TrailFilters(
        date_from=form.date_from.data, date_to=form.date_to.data, actor=form.actor.data or "",
        kind=form.kind.data or "", subject=form.subject.data or "", text=form.text.data or "",
    )


def _filter_query(form: TrailFilterForm) -> dict:
    """The filters as query parameters (without the cursor), for links that keep them."""
    return {k: v for k, v in request.args.items() if k not in ("before", "after") and v and k in form}


@bp.get("/trail")
@requires(Action.READ_TRAIL)
def trail():
    session = db.session()
    form = _filter_form(session)
    query = _filter_query(form)
    if not form.validate():
        flash(f"Fix the filters — {problems(form)}", "error")
        return render_template("audit/trail.html", form=form, page=None, query=query, filters_html=pages.kept_filters(
            session, "audit/_trail_filters.html", query, valid=False, form=form)), 400
    page = browse.browse(
        session, current_user, _filters(form), before=form.before.data, after=form.after.data,
        per_page=PER_PAGE,
    )
    filters_html = pages.kept_filters(session, "audit/_trail_filters.html", query, form=form)
    return render_template("audit/trail.html", form=form, page=page, rows=browse.trail_rows(session, page.seqs),
                           query=query, at_cursor=form.before.data is not None or form.after.data is not None,
                           filters_html=filters_html)


@bp.get("/trail/<int:seq>")
@requires(Action.READ_TRAIL)
def event(seq: int):
    try:
        view = browse.event_view(db.session(), current_user, seq)
    except NotFound as error:
        abort(404, description=error.reason)
    return render_template("audit/event.html", v=view, e=view.event)


# ----------------------------------------------------------------------------------- export
@bp.get("/trail/export.<any(jsonl, csv):fmt>")
@requires(Action.READ_TRAIL)
def export(fmt: str):
    """The whole trail, or the filtered range, streamed in keyset batches."""
    session = db.session()
    form = _filter_form(session)
    if not form.validate():
        abort(400, description=f"The export's filters are not valid — {problems(form)}")
    filters = _filters(form)
    viewer = current_user._get_current_object()
    span = trail_export.export_range(session, viewer, filters)

    def body():
        # Flask pushes the request's contexts again only while the body streams, after the
        # request's teardown closed its session: take the session here, so that the teardown
        # at the end of the stream (or when the client goes away) closes this one too.
        batches = trail_export.export_batches(db.session(), viewer, filters, span)
        yield from trail_export.jsonl_chunks(batches, span) if fmt == "jsonl" else trail_export.csv_chunks(batches)

    response = Response(stream_with_context(body()), content_type=EXPORT_TYPES[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{span.filename(fmt)}"'
    response.headers["X-Trail-Head"] = f"{span.head_seq}:{span.head_hash}"
    if span.drafts_left_out:
        response.headers["X-Trail-Filtered"] = "drafts-left-out"
    elif span.filtered:
        response.headers["X-Trail-Filtered"] = "filters"
    return response


# ------------------------------------------------------------------ verify and checkpoints
def _render_verification(session, verify_form, checkpoint_form, status: int = 200):
    head_seq, head_hash = access.head(session)
    checkpoints, checkpoint_total = trail_verify.recent_checkpoints(session)
    download = trail_export.export_range(session, current_user, TrailFilters())
    return render_template(
        "audit/verify.html", last=trail_verify.last_verification(session), head_seq=head_seq,
        download_name=download.filename("jsonl"), download_filtered=download.filtered,
        head_hash=head_hash, checkpoints=checkpoints, checkpoint_total=checkpoint_total,
        verify_form=verify_form, checkpoint_form=checkpoint_form,
    ), status


@bp.get("/trail/verify")
@requires(Action.READ_TRAIL)
def verification():
    return _render_verification(db.session(), VerifyForm(formdata=None), CheckpointForm(formdata=None))


@bp.post("/trail/verify")
@requires(Action.READ_TRAIL)
def verify():
    session = db.session()
    if not VerifyForm().validate_on_submit():
        abort(400, description="The form's security token is missing; reload the page.")
    try:
        public_key = signing.public_key_from({
            "FORUM_TRAIL_PUBLIC_KEY": current_app.config.get("TRAIL_PUBLIC_KEY", ""),
            "FORUM_TRAIL_PUBLIC_KEY_FILE": current_app.config.get("TRAIL_PUBLIC_KEY_FILE", ""),
        })
    except signing.KeyProblem as error:
        flash(f"Not verified: the public key for signed checkpoints cannot be used ({error}).", "error")
        return redirect(url_for("audit.verification"))
    result = trail_verify.verify(session, current_user, public_key=public_key)
    try:
        with db.attempt():
            trail_verify.record_verification(session, current_user, result)
    except TrailDamaged:
        # The database refuses the append: after a cut the head row names an event the chain
        # no longer has, and the insert guard takes inserts at the chain's real head only.
        flash("The result could not be put on the record: the database refused to append to the "
              "trail (see docs/operations.md, recovering the trail).", "error")
    if not result.chain_ok:
        flash(f"The chain is BROKEN at seq {result.first_bad_seq}: {result.problem} "
              f"({result.count} events checked before the break).", "error")
    elif not result.head_row_ok:
        flash(f"The links are intact up to seq {result.head_seq}, but {result.describe_head_row()}.", "error")
    elif not result.signatures_ok:
        bad = [s.checkpoint.label for s in result.signatures if not s.ok]
        flash(f"The links are intact, but {len(bad)} signed checkpoint(s) do not verify with the public key "
              f"({', '.join(bad)}).", "error")
    elif not result.checkpoints_ok:
        failed = ", ".join(f"seq {c.seq}: {c.status}" for c in result.failed_checkpoints)
        flash(f"The links are intact up to seq {result.head_seq}, but the chain no longer holds "
              f"every checkpoint ({failed}).", "error")
    else:
        flash(f"The chain verifies: {result.count} events checked, head seq {result.head_seq}; "
              f"{len(result.checkpoints)} checkpoint(s) still in the chain.", "success")
    return redirect(url_for("audit.verification"))


@bp.post("/trail/checkpoints")
@requires(Action.RECORD_CHECKPOINT)
def record_checkpoint():
    session = db.session()
    form = CheckpointForm()
    if not form.validate_on_submit():
        return _render_verification(session, VerifyForm(formdata=None), form, status=400)
    try:
        with db.attempt():
            checkpoint = trail_verify.record_checkpoint(session, current_user, form.note.data or "")
    except DomainError as error:
        form.note.errors = [*form.note.errors, error.reason]
        return _render_verification(session, VerifyForm(formdata=None), form, status=error.status)
    flash(f"Checkpoint recorded: seq {checkpoint.seq} with hash {checkpoint.hash}. Write it down "
          f"or publish it; `forum trail verify --checkpoint {checkpoint.token}` checks it.", "success")
    return redirect(url_for("audit.verification"))
