"""Server-rendered pages of the API area: the API reference (/api) and the personal API tokens
of the logged-in user (/settings/tokens). These are ordinary pages: session login and CSRF
apply, and an API token does not authenticate them."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forum.api import service
from forum.api.forms import RevokeTokenForm, TokenForm
from forum.api.problems import PROBLEMS
from forum.api.views import api
from forum.core import db
from forum.core.errors import DomainError, NotFound
from forum.core.forms import choices
from forum.core.links import base_url

docs_bp = Blueprint("api_docs", __name__)
tokens_bp = Blueprint("tokens", __name__, url_prefix="/settings/tokens")


@docs_bp.get("/api")
def index():
    """The API reference for people, generated from the same declarations as openapi.json.
    Public, like the OpenAPI document: it describes the API and discloses no data."""
    document = api.document().document
    problems = [
        {"status": status, "slug": problem.slug, "title": problem.title, "text": problem.description}
        for status, problem in PROBLEMS.items()
    ]
    operations = []
    for op in api.operations:
        spec = document["paths"][op.path][op.method.lower()]
        operations.append({
            "op": op, "id": spec["operationId"],
            "parameters": [
                {"name": p["name"], "in": p["in"], "required": p.get("required", False),
                 "type": type_parts(p["schema"]), "description": p.get("description", "")}
                for p in spec["parameters"]
            ],
            "body": op.body.__name__ if isinstance(op.body, type) else op.body,
            "response": op.response.__name__ if op.response is not None else None,
        })
    schemas = [
        {"name": name, "description": schema.get("description", ""),
         "fields": [
             {"name": field, "type": type_parts(prop), "required": field in schema.get("required", []),
              "description": prop.get("description", "")}
             for field, prop in schema.get("properties", {}).items()
         ]}
        for name, schema in document["components"]["schemas"].items()
    ]
    return render_template(
        "api/reference.html", operations=operations, problems=problems, schemas=schemas,
        scopes=service.SCOPES, base_url=base_url(),
    )


def type_parts(schema: dict) -> list[tuple[str, str | None]]:
    """A JSON Schema as readable text pieces; a piece with a name links to that schema."""
    if not schema:
        return [("any", None)]
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return [(name, name)]
    if "anyOf" in schema:
        parts: list[tuple[str, str | None]] = []
        for index, option in enumerate(schema["anyOf"]):
            if index:
                parts.append((" or ", None))
            parts.extend(type_parts(option))
        return parts
    if "enum" in schema:
        return [("one of " + ", ".join(str(v) for v in schema["enum"]), None)]
    kind = schema.get("type", "any")
    if kind == "array":
        return [("list of ", None), *type_parts(schema.get("items", {}))]
    extra = schema.get("additionalProperties")
    if kind == "object" and isinstance(extra, dict) and extra:
        return [("object of ", None), *type_parts(extra)]
    text = str(kind)
    if "format" in schema:
        text += f" ({schema['format']})"
    limits = []
    if "minimum" in schema or "maximum" in schema:
        limits.append(f"{schema.get('minimum', '…')}–{schema.get('maximum', '…')}")
    if "maxLength" in schema:
        limits.append(f"≤ {schema['maxLength']} characters")
    if limits:
        text += ", " + ", ".join(limits)
    return [(text, None)]


# --------------------------------------------------------------------------------------- tokens
def _token_form() -> TokenForm:
    form = TokenForm()
    form.scopes.choices = choices(
        (scope, f"{scope} — {service.SCOPES[scope]}") for scope in service.grantable_scopes(current_user)
    )
    return form


def _render_index(form: TokenForm, status: int = 200, secret: str | None = None, created=None):
    tokens = service.tokens_of(db.session(), current_user)
    return render_template(
        "api/tokens.html", form=form, tokens=tokens, secret=secret, created=created,
        max_active=service.MAX_ACTIVE_TOKENS,
    ), status


@tokens_bp.get("")
@login_required
def index():  # noqa: F811 - the tokens blueprint's own endpoint, tokens.index
    return _render_index(_token_form())


@tokens_bp.post("")
@login_required
def create():
    # The new token is shown in this response and never again. It is not redirected (PRG)
    # because the only way to carry it to the next page would be the cookie session.
    form = _token_form()
    if not form.validate_on_submit():
        return _render_index(form, 400)
    try:
        with db.attempt():
            token, secret = service.create_token(
                db.session(), current_user, current_user,
                service.NewToken(name=form.name.data or "", scopes=form.scopes.data or []),
            )
    except DomainError as error:
        target = getattr(form, error.field or "", None)
        if target is not None:
            target.errors = [*target.errors, error.reason]
        else:
            flash(error.reason, "error")
        return _render_index(form, error.status)
    return _render_index(_fresh_form(), 200, secret=secret, created=token)


def _fresh_form() -> TokenForm:
    form = TokenForm(formdata=None)
    form.scopes.choices = _token_form().scopes.choices
    return form


def _own_token(token_id: int):
    try:
        token = service.get_token(db.session(), token_id)
    except NotFound:
        abort(404)
    if token.user_id != current_user.id:
        abort(404)  # someone else's token: its existence is not disclosed
    return token


@tokens_bp.route("/<int:token_id>/revoke", methods=["GET", "POST"])
@login_required
def revoke(token_id: int):
    token = _own_token(token_id)
    form = RevokeTokenForm()
    status = 200
    if token.revoked_at is not None:
        flash(f"The token {token.name!r} is already revoked.", "info")
        return redirect(url_for("tokens.index"))
    if form.validate_on_submit():
        service.revoke_token(db.session(), current_user, token)
        flash(f"Revoked the token {token.name!r}. Tools that use it now get 401.", "success")
        return redirect(url_for("tokens.index"))
    if request.method == "POST":
        status = 400
    return render_template("api/revoke.html", form=form, token=token), status
