"""The search page: the header's search box lands here (GET /search?q=…)."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user, login_required

from forum.auth.service import function_labels
from forum.core import db, derived, pages, paging
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
    status, results_html, searched = 200, None, ""
    query = pages.filter_args()
    filtered = any(k != "q" for k in query)
    if request.args and not form.validate():
        status = 400
    else:
        wanted = service.SearchRequest(
            q=(form.q.data or "").strip(), kind=form.kind.data or "", status=form.status.data or "",
            category=form.category.data or "", function=form.function.data or "",
            date_from=form.date_from.data, date_to=form.date_to.data,
        )
        page = paging.page_number(request.args.get("page"))
        per_page, cap = current_app.config["ITEMS_PER_PAGE"], current_app.config["SEARCH_HITS_PER_KIND"]

        def render_results() -> list[str]:
            results = service.search(session, current_user, wanted, page, per_page, {f.key for f in functions}, cap)
            return [render_template("search/_results.html", results=results, query=query, filtered=filtered,
                                    kind_labels=service.KIND_LABELS, max_terms=MAX_TERMS)]

        # The results read the same for this viewer until the trail moves (comments are searched:
        # any change): kept rendered, as their rows are (service.search). Rendering the hits'
        # links and snippets was most of the warm page.
        try:
            results_html = derived.rendered(session, (
                "search results", tuple(sorted(query.items())), page, per_page, cap, current_user.id,
                current_user.role), render_results)[0]
            searched = wanted.q
        except ValidationError as error:
            attach_error(form, error)
            status = 400
    form_html = pages.kept_filters(session, "search/_form.html", query, status == 200, form=form, filtered=filtered)
    return render_template("search/index.html", form=form, form_html=form_html, results_html=results_html,
                           searched=searched), status
