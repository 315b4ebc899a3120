"""Evidence pages: upload (and the item-page panel), the item's evidence list with its gates, one
run's page, the original file, and the comparison of two runs of a suite."""

from __future__ import annotations

import io
from dataclasses import dataclass

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    get_template_attribute,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user, login_required
from werkzeug.exceptions import RequestEntityTooLarge

from forum.auth.decorators import requires
from forum.core import db, derived, paging
from forum.core.bodies import body_limit
from forum.core.errors import DomainError, NotFound
from forum.core.policy import Action
from forum.evidence import gates as gate_rules
from forum.evidence import pack as evidence_pack
from forum.evidence import service, wording
from forum.evidence.forms import CompareForm, UploadForm
from forum.evidence.parsers import FORMAT_LABELS, NO_TAG
from forum.items import panels
from forum.items import service as items
from forum.items.views import render_detail

bp = Blueprint("evidence", __name__)

PER_PAGE = 20
CHART_TAGS = 15


def size_label(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB".replace(".0 MB", " MB")
    if size >= 1024:
        return f"{size / 1024:.1f} KB".replace(".0 KB", " KB")
    return f"{size} bytes"


def _too_large_message(config=None) -> str:
    size = size_label(service.upload_limits(config or current_app.config).max_bytes)
    return (f"The file is larger than the {size} allowed for evidence files. "
            "Nothing was stored. Upload a smaller result file (for example one suite at a time).")


def _load_item(item_id: int):
    try:
        return items.get_item(db.session(), current_user, item_id)
    except NotFound as error:
        abort(404, description=error.reason)


def _load_run(run_id: int):
    try:
        return service.get_run(db.session(), current_user, run_id)
    except NotFound as error:
        abort(404, description=error.reason)


def _upload_form() -> UploadForm:
    form = UploadForm()
    form.file.description = (f"promptfoo JSON/JSONL, inspect_ai .json or .eval, lm-evaluation-harness "
                             f"results or samples (or a zip of both), JUnit, NUnit or TRX XML, or CSV — at most "
                             f"{size_label(service.upload_limits(current_app.config).max_bytes)}.")
    return form


# ------------------------------------------------------------------------------------ panel
def _panel(session, viewer, item) -> dict:
    """The item's latest runs with their gates and what drifted since its decision, rendered and
    kept with the page's flags until the trail moves or the minute turns (forum.core.derived: it
    reads the same for everyone who may see the item; four queries when not), and the upload form
    for those who may attach evidence."""

    def summary() -> tuple[str, tuple[int, tuple[panels.Flag, ...]]]:
        listing = service.runs_for_item(session, item, limit=5)
        # The gates of the current runs shown (the latest of each suite among the newest five).
        current_gates = [gate for view in listing.runs if view.current for gate in view.gates]
        revalidation = _revalidation(session, item, listing.runs)
        html = get_template_attribute("evidence/panel.html", "summary")(
            item, listing.runs, listing.total, current_gates, revalidation)
        return html, (listing.total, tuple(_flags(item, listing.total, current_gates, revalidation)))

    html, (total, flags) = derived.rendered_with(session, ("evidence panel", item.id), summary, items_only=True)
    may_attach = service.can_attach(viewer, item)
    return {
        "summary": html, "total": total, "can_attach": may_attach,
        "form": _upload_form() if may_attach else None,
        "max_size": size_label(service.upload_limits(current_app.config).max_bytes),
        "flags": list(flags),
    }


_EVIDENCE_FLAGS = {
    "fail": ("Evidence failing", "gate-fail"), "unknown": ("Evidence incomplete", "gate-unknown"),
    "warn": ("Evidence with warnings", "gate-warn"), "pass": ("Evidence OK", "gate-pass"),
}


def _flags(item, total: int, current_gates, revalidation: list[str]) -> list[panels.Flag]:
    """The state of the item's current evidence, for the top of its page."""
    if item.status == "draft":
        return []
    if revalidation:
        return [panels.Flag("Revalidation required", "gate-fail", "#evidence", "; ".join(revalidation))]
    if not total:
        return [panels.Flag("No evidence", "tier-none", "#evidence", "No model-test results attached yet")]
    label, tone = _EVIDENCE_FLAGS[gate_rules.worst(current_gates)]
    return [panels.Flag(label, tone, "#evidence", wording.gate_summary(current_gates))]


def _revalidation(session, item, runs) -> list[str]:
    """On a decided (or closed) item: the current runs whose evidence drifted since the decision
    (forum.evidence.gates.drifted_since_decision)."""
    if item.status not in ("decided", "closed"):
        return []
    tier = service.item_tier(session, item)
    return [
        f"{view.run.suite}: {gate.detail}" for view in runs if view.current
        for gate in view.gates if gate_rules.drifted_since_decision(gate, view.run, item, tier)
    ]


# Whether the upload form is offered depends on the viewer's role only.
PANEL = panels.Panel(key="evidence", template="evidence/panel.html", build=_panel, order=20,
                     facet=lambda _session, viewer, _item: viewer.role, items_only=True)


# ----------------------------------------------------------------------------------- upload
@bp.post("/items/<int:item_id>/evidence")
@requires(Action.TAKE_PART)
@body_limit(service.body_limit, _too_large_message)
@db.locks_itself  # the file is read and parsed first, then the lock (db.attempt)
def upload(item_id: int):
    # The route's body limit is set on the request (forum.core.bodies) before the CSRF check
    # reads the form, and a body declared larger is refused unread; one that does not declare
    # its length is cut at the limit by Werkzeug.
    limits = service.upload_limits(current_app.config)
    session = db.session()
    item = _load_item(item_id)
    if not service.can_attach(current_user, item):
        if item.status in service.CLOSED_STATUSES:
            abort(409, description=f"The item is {item.status}: evidence can no longer be attached.")
        abort(403)
    try:
        form = _upload_form()
        valid = form.validate_on_submit()
    except RequestEntityTooLarge:
        abort(413, description=_too_large_message())
    if not valid:
        return _refused(session, item, form, 400)
    files, left = [], limits.max_bytes
    for upload_file in [form.file.data, *(form.samples.data or [])]:
        # Werkzeug spooled the file (to disk above 500 KB): it is handed on as a file, which
        # the service parses, hashes and stores a piece at a time.
        stream = upload_file.stream
        left -= stream.seek(0, io.SEEK_END)
        stream.seek(0)
        if left < 0:
            form.file.errors = [_too_large_message()]
            return _refused(session, item, form, 413)
        files.append((upload_file.filename or "", stream))
    try:
        result = service.read_result_files(files, limits)  # before the lock: nobody waits on it
        with db.attempt():
            run = service.store_evidence(session, current_user, item, result)
    except DomainError as error:
        form.file.errors = [*form.file.errors, error.reason]
        return _refused(session, _load_item(item_id), form, error.status)
    gates_now = service.recheck(run, item, service.item_tier(session, item))
    flash(
        f"Evidence attached: {FORMAT_LABELS[run.format]}, suite {run.suite} — {wording.counts(run)}, "
        f"{wording.edge_cases(run)}. {wording.gate_summary(gates_now)}",
        "success" if gate_rules.worst(gates_now) == "pass" else "warning",
    )
    return redirect(url_for("evidence.detail", run_id=run.id))


def _refused(session, item, form, status: int):
    """A refused upload, shown where it was made: on the item page when its panel's form sent it
    (``back=item``), else on the item's evidence page — the form with its message either way."""
    if form.back.data == "item":
        return render_detail(session, item, status=status, evidence_form=form)
    return _render_index(session, item, form, status=status)


# ------------------------------------------------------------------------------------ lists
@bp.get("/items/<int:item_id>/evidence")
@login_required
def index(item_id: int):
    session = db.session()
    item = _load_item(item_id)
    form = _upload_form() if service.can_attach(current_user, item) else None
    return _render_index(session, item, form)


def _render_index(session, item, form, status: int = 200):
    page = paging.page_number(request.args.get("page"))
    listing = service.runs_for_item(session, item, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    pages = max(1, -(-listing.total // PER_PAGE))
    picker = None
    if listing.total > 1:
        picker = compare_form(session, item, {})
        if not _preselect(picker):
            picker = False  # runs, but no suite with two of them: nothing to compare yet
    return render_template(
        "evidence/index.html", item=item, runs=listing.runs, total=listing.total, page=page, pages=pages,
        form=form if service.can_attach(current_user, item) else None,
        max_size=size_label(service.upload_limits(current_app.config).max_bytes), suites=listing.suites,
        picker=picker,
    ), status


def _preselect(picker: CompareForm) -> bool:
    """Start the picker on the latest two runs of the first suite that has two (False: none has)."""
    for runs in picker.base.choices.values():
        if len(runs) > 1:
            picker.head.data, picker.base.data = runs[0][0], runs[1][0]
            return True
    return False


# -------------------------------------------------------------------------------- run pages
@bp.get("/evidence/<int:run_id>")
@login_required
def detail(run_id: int):
    session = db.session()
    run, item = _load_run(run_id)
    view = service.view_of(session, run, item)
    siblings = service.runs_of_suite(session, item, run.suite)
    previous = next((r for r in siblings if r.id < run.id), None)
    return render_template(
        "evidence/detail.html", view=view, run=run, item=item, chart=tag_chart(run.tag_counts),
        rows=tag_rows(run.tag_counts), previous=previous, size=size_label(run.size),
        format_label=FORMAT_LABELS.get(run.format, run.format),
    )


@bp.get("/evidence/<int:run_id>/original")
@login_required
def download(run_id: int):
    run, _item = _load_run(run_id)
    # Streamed from the stored pieces; the size is known, so Content-Length and byte ranges
    # are answered as send_file answers them for a file in memory; the ETag is the SHA-256.
    response = send_file(
        service.open_original(db.session(), run), mimetype=run.content_type, as_attachment=True,
        download_name=service.download_name(run), max_age=0, etag=run.sha256, conditional=False,
    )
    response.content_length = run.size
    response = response.make_conditional(request, accept_ranges=True, complete_length=run.size)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/items/<int:item_id>/evidence/compare")
@login_required
def compare(item_id: int):
    session = db.session()
    item = _load_item(item_id)
    form = compare_form(session, item, request.args)
    if not form.validate():
        return _render_compare(item, form, problem="Choose two runs to compare.")
    base, base_item = _load_run(form.base.data)
    head, head_item = _load_run(form.head.data)
    if base_item.id != item.id or head_item.id != item.id:
        abort(404, description="Those runs are not evidence of this item.")
    try:
        service.check_comparable(base, head)
    except DomainError as error:
        form[error.field].errors = [error.reason]
        return _render_compare(item, form, problem="These two runs cannot be compared.")
    if base.id > head.id:
        base, head = head, base
    changes = service.compare(base, head)
    tier = service.item_tier(session, item)
    return render_template(
        "evidence/compare.html", item=item, form=form, base=base, head=head, changes=changes,
        base_gates=service.recheck(base, item, tier), head_gates=service.recheck(head, item, tier),
        better=[c for c in changes if c.verdict == "better"], worse=[c for c in changes if c.verdict == "worse"],
    )


def compare_form(session, item, args=None) -> CompareForm:
    """The picker of two runs (the item's runs grouped by suite); ``args`` is the query string."""
    form = CompareForm(args if args is not None else None)
    form.set_choices(service.compare_choices(session, item))
    return form


def _render_compare(item, form: CompareForm, problem: str):
    return render_template("evidence/compare.html", item=item, form=form, problem=problem, base=None), 400


# ------------------------------------------------------------------------------ tag display
@dataclass
class TagRow:
    tag: str
    passed: int
    failed: int
    errored: int
    skipped: int

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.errored + self.skipped

    @property
    def rate(self) -> float | None:
        rated = self.passed + self.failed + self.errored
        return self.passed / rated if rated else None


def tag_rows(tag_counts: dict) -> list[TagRow]:
    rows = [TagRow(tag, *(int(c.get(s, 0)) for s in ("passed", "failed", "errored", "skipped")))
            for tag, c in tag_counts.items()]
    return sorted(rows, key=lambda r: (r.tag == NO_TAG, r.tag))


def tag_chart(tag_counts: dict) -> dict:
    """Geometry of a stacked horizontal bar chart (SVG drawn by the template, no script): one row
    per tag (the largest CHART_TAGS), widths proportional to the largest tag."""
    rows = sorted(tag_rows(tag_counts), key=lambda r: -r.total)[:CHART_TAGS]
    rows.sort(key=lambda r: (r.tag == NO_TAG, r.tag))
    widest = max((r.total for r in rows), default=0) or 1
    label_w, bar_w, row_h = 170, 380, 22
    bars = []
    for index, row in enumerate(rows):
        x, segments = label_w, []
        for status in ("passed", "failed", "errored", "skipped"):
            width = getattr(row, status) * bar_w / widest
            if width:
                segments.append({"status": status, "x": round(x, 2), "w": round(width, 2),
                                 "n": getattr(row, status)})
            x += width
        bars.append({"tag": row.tag[:26], "y": index * row_h, "segments": segments, "total": row.total,
                     "end": round(x, 2)})
    return {"bars": bars, "height": len(rows) * row_h + 4, "width": label_w + bar_w + 50,
            "row_h": row_h, "shown": len(rows), "all": len(tag_counts)}


@bp.app_template_filter("pct")
def pct_filter(value) -> str:
    return "—" if value is None else f"{value * 100:.1f}%".replace(".0%", "%")


@bp.app_template_global("run_counts")
def run_counts(run) -> str:
    return wording.counts(run)


@bp.app_template_global("gate_summary")
def gate_summary(gates) -> str:
    return wording.gate_summary(gates)


@bp.app_template_global("evidence_basis_flags")
def evidence_basis_flags(snapshot) -> list:
    return evidence_pack.basis_flags(snapshot)


@bp.app_template_global("gate_status_label")
def gate_status_label(status: str) -> str:
    return gate_rules.STATUS_LABELS.get(status, status)
