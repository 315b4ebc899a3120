"""The decision register: every decision, filtered by outcome, function, date and the filters
other areas add (forum/agenda/pack.py)."""

from __future__ import annotations

from flask import flash, get_template_attribute, render_template, request
from flask_login import login_required
from markupsafe import Markup

from forum.agenda import queries
from forum.agenda.forms import RegisterFilterForm
from forum.agenda.pack import decision_filters
from forum.agenda.views._common import page_number
from forum.auth.service import function_labels
from forum.core import db, derived, pages
from forum.core.errors import ValidationError
from forum.core.forms import check_filters, choices


@login_required
def decisions():
    session = db.session()
    form = RegisterFilterForm(request.args)
    form.function.choices = choices([("", "Any function"), *((f.key, f.label) for f in function_labels(session))])
    hooks = decision_filters()
    extra = {spec.key: request.args.get(spec.key, "") for spec in hooks}
    status = 200
    filters = queries.RegisterFilters()
    if not check_filters(form, request.args):
        status = 400
    else:
        filters = queries.RegisterFilters(
            outcome=form.outcome.data or "", function=form.function.data or "",
            date_from=form.date_from.data, date_to=form.date_to.data, extra=extra,
        )
    try:
        page = queries.register_ids(session, filters, page_number())
    except ValidationError as error:
        flash(f"Filter ignored — {error.reason}", "error")
        status = 400
        page = queries.register_ids(session, queries.RegisterFilters(), 1)
    query = pages.filter_args()
    filters_html = pages.kept_filters(
        session, "agenda/_register_filters.html", query, status == 200, form=form, hooks=hooks,
        hook_choices={spec.key: spec.choices(session) for spec in hooks}, extra=extra)
    return render_template("agenda/decisions.html", page=page, table=register_table(session, page.ids, hooks),
                           query=query, filters_html=filters_html), status


def register_table(session, ids: list[int], hooks) -> Markup:
    """The register's table of the decisions ``ids``, with the columns other areas add: kept
    rendered until the trail moves (forum.core.derived.rendered); it reads the same for everyone
    who may read the register."""
    if not ids:
        return Markup("")

    def render() -> list[str]:
        decisions, columns = queries.register_rows(session, ids)
        return [get_template_attribute("agenda/_macros.html", "register_table")(decisions, hooks, columns)]

    return derived.rendered(session, ("register table", tuple(ids), tuple(spec.key for spec in hooks)), render)[0]


#: (rule, endpoint, view, methods): added to the blueprint by forum/agenda/views/__init__.py.
ROUTES = (
    ("/decisions", "decisions", decisions, ["GET"]),
)
