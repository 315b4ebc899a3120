"""The search page: the header's search box lands here (GET /search?q=…)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user, login_required

from forum.auth.service import function_labels
from forum.core import db, pages, paging
from forum.core.errors import ValidationError
from forum.core.forms import attach_error, choices
from forum.search import service
from forum.search.forms import SearchForm
from forum.search.query import MAX_TERMS

bp = Blueprint("search", __name__)


@bp.get("/search")
@login_required
def index():
    session = db.session()
    form = SearchForm(request.args)
    functions = function_labels(session)
    form.function.choices = choices([("", "Any function"), *((f.key, f.label) for f in functions)])
    status, results = 200, None
    if request.args and not form.validate():
        status = 400
    else:
        wanted = service.SearchRequest(
            q=(form.q.data or "").strip(), kind=form.kind.data or "", status=form.status.data or "",
            category=form.category.data or "", function=form.function.data or "",
            date_from=form.date_from.data, date_to=form.date_to.data,
        )
        try:
            results = service.search(
                session, current_user, wanted, paging.page_number(request.args.get("page")),
                current_app.config["ITEMS_PER_PAGE"], {f.key for f in functions},
                current_app.config["SEARCH_HITS_PER_KIND"],
            )
        except ValidationError as error:
            attach_error(form, error)
            status = 400
    query = {k: v for k, v in request.args.items() if k != "page" and v}
    filtered = any(k != "q" for k in query)
    form_html = pages.kept_filters(session, "search/_form.html", query, status == 200, form=form, filtered=filtered)
    return render_template(
        "search/index.html", form=form, results=results, query=query, filtered=filtered,
        kind_labels=service.KIND_LABELS, max_terms=MAX_TERMS, form_html=form_html,
    ), status
