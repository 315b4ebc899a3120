"""Declaring API operations once: the route, its scope, its query/body/response models — and the
OpenAPI 3.1 document generated from exactly those declarations.

``@api.operation(...)`` registers the Flask route and wraps the view so that, before the view
runs, the bearer token is checked for the scope, the query string is validated with the query
model and the JSON body with the body model (the view receives ``user``, ``query`` and ``body``).
``build_document()`` turns the same declarations and pydantic's JSON Schemas into the document
served at /api/v1/openapi.json, so there is no second, hand-written copy to drift;
``Api.document()`` builds it once per app and keeps it, serialised, for every later request.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Blueprint, current_app, request
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue, models_json_schema
from pydantic_core import core_schema

from forum.api import bearer, problems
from forum.api.problems import PROBLEM_MEDIA_TYPE, PROBLEMS, ApiProblem
from forum.api.schemas import MAX_ID, Problem
from forum.api.service import SCOPES

JSON_TYPES = ("application/json", "application/merge-patch+json")
MAX_JSON_BYTES = 1024 * 1024
RAW_BODY = "raw"  # body= marker: the view reads the request body itself (evidence files)

# Errors every authenticated operation can answer with.
COMMON_ERRORS = (400, 401, 403, 429)


@dataclass
class Operation:
    method: str
    rule: str  # Flask rule, e.g. /items/<int:item_id>
    endpoint: str
    summary: str
    description: str
    tag: str
    scope: str | None
    query: type[BaseModel] | None
    body: type[BaseModel] | str | None
    response: type[BaseModel] | None
    status: int
    errors: tuple[int, ...]
    response_media_type: str = "application/json"
    response_headers: dict[str, str] = field(default_factory=dict)
    request_headers: dict[str, str] = field(default_factory=dict)

    @property
    def path(self) -> str:
        """The OpenAPI path: /api/v1/items/{item_id}."""
        return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", self.rule)

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"<(?:\w+:)?(\w+)>", self.rule)


class Api:
    """The registry of one blueprint's operations."""

    def __init__(self, bp: Blueprint, title: str, version: str, description: str):
        self.bp = bp
        self.title = title
        self.version = version
        self.description = description
        self.operations: list[Operation] = []

    def document(self) -> ServedDocument:
        """The document of this API in the current app: built on its first use in each app and
        kept for the app's life (the operations are all declared at import). Two first requests
        at once may both build it; they build the same thing and one of them is kept."""
        documents = current_app.extensions.setdefault("forum.api.documents", {})
        served = documents.get(self.bp.name)
        if served is None:
            served = documents[self.bp.name] = ServedDocument(build_document(self, server_url=SERVER_URL_SLOT))
        return served

    def operation(
        self, method: str, rule: str, *, summary: str, tag: str, scope: str | None = None,
        query: type[BaseModel] | None = None, body: type[BaseModel] | str | None = None,
        response: type[BaseModel] | None = None, status: int = 200, errors: tuple[int, ...] = (),
        description: str = "", response_media_type: str = "application/json",
        response_headers: dict[str, str] | None = None, request_headers: dict[str, str] | None = None,
    ) -> Callable:
        def decorator(view: Callable) -> Callable:
            op = Operation(
                method=method, rule=self.bp.url_prefix + rule, endpoint=f"{self.bp.name}.{view.__name__}",
                summary=summary, description=description or (view.__doc__ or "").strip(), tag=tag,
                scope=scope, query=query, body=body, response=response, status=status,
                errors=tuple(sorted(set(errors) | (set(COMMON_ERRORS) if scope else {400, 429}))),
                response_media_type=response_media_type, response_headers=response_headers or {},
                request_headers=request_headers or {},
            )
            self.operations.append(op)

            @functools.wraps(view)
            def wrapper(**path):
                for name, value in path.items():
                    if isinstance(value, int) and value > MAX_ID:
                        raise ApiProblem(404, f"There is no {name.removesuffix('_id')} {value}.")
                kwargs = {}
                if scope is not None:
                    kwargs["user"] = bearer.authenticate(scope)
                if query is not None:
                    kwargs["query"] = parse_query(query)
                if isinstance(body, type):
                    kwargs["body"] = parse_json(body)
                return view(**path, **kwargs)

            self.bp.add_url_rule(rule, endpoint=view.__name__, view_func=wrapper, methods=[method])
            return wrapper

        return decorator


def parse_query(model: type[BaseModel]) -> BaseModel:
    """The query string validated with ``model``; empty values count as absent; a repeated
    name is refused."""
    values = {}
    for name in request.args:
        given = request.args.getlist(name)
        if "\x00" in name or any("\x00" in value for value in given):
            raise problems.invalid(name.replace("\x00", ""), "Contains a NUL character, which is not allowed.")
        if len(given) > 1:
            raise problems.invalid(name, "Give this parameter once.")
        if given[0] != "":
            values[name] = given[0]
    try:
        return model.model_validate(values)
    except PydanticValidationError as error:
        raise problems.from_validation(error, "query") from None


def parse_json(model: type[BaseModel]) -> BaseModel:
    if request.mimetype not in JSON_TYPES:
        got = request.mimetype or "no Content-Type"
        raise ApiProblem(415, f"Send the body as application/json (got {got}).")
    if request.content_length is not None and request.content_length > MAX_JSON_BYTES:
        raise ApiProblem(413, f"A JSON body may have at most {MAX_JSON_BYTES:,} bytes.")
    data = request.get_data(cache=False)
    if len(data) > MAX_JSON_BYTES:
        raise ApiProblem(413, f"A JSON body may have at most {MAX_JSON_BYTES:,} bytes.")
    try:
        return model.model_validate_json(data)
    except PydanticValidationError as error:
        raise problems.from_validation(error, "body") from None


# ------------------------------------------------------------------------------------ document
class ContractSchema(GenerateJsonSchema):
    """pydantic's JSON Schema, with two choices of this document: fields carry no generated
    title (the property name says it), and a field that may be left out but not sent as null
    (``title: str = None`` in a patch) carries no ``default: null`` — a default its own type
    refuses, which makes the document invalid."""

    def field_title_should_be_set(self, schema) -> bool:
        return False

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        if schema.get("default", ...) is None and schema["schema"]["type"] != "nullable":
            return self.generate_inner(schema["schema"])
        return super().default_schema(schema)


REF_TEMPLATE = "#/components/schemas/{model}"
# Where the server URL goes in the built document; it holds a NUL, which nothing else in it can.
SERVER_URL_SLOT = "\x00server-url\x00"


class ServedDocument:
    """A built document as ``document`` (without its servers entry) and as the JSON served,
    whose one variable part — the forum's address (BASE_URL, forum.core.links) — is put in by
    ``as_json``."""

    def __init__(self, built: dict):
        self.document = {key: value for key, value in built.items() if key != "servers"}
        text = json.dumps(built, ensure_ascii=False)
        head, tail = text.split(json.dumps(SERVER_URL_SLOT))  # exactly one slot, or this fails
        self._head, self._tail = head.encode(), tail.encode()

    def as_json(self, server_url: str) -> bytes:
        return self._head + json.dumps(server_url, ensure_ascii=False).encode() + self._tail


def build_document(api: Api, server_url: str = "/") -> dict:
    """The OpenAPI 3.1 document of every operation of ``api``."""
    models: list[tuple[type[BaseModel], str]] = [(Problem, "serialization")]
    for op in api.operations:
        if isinstance(op.body, type):
            models.append((op.body, "validation"))
        if op.response is not None:
            models.append((op.response, "serialization"))
    keys, defs = models_json_schema(models, ref_template=REF_TEMPLATE, schema_generator=ContractSchema)
    components = defs.get("$defs", {})

    def ref(model: type[BaseModel], mode: str) -> dict:
        return keys[(model, mode)]

    problem_ref = ref(Problem, "serialization")
    paths: dict[str, dict] = {}
    for op in api.operations:
        parameters = [
            {"name": name, "in": "path", "required": True,
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID}}
            for name in op.path_params
        ]
        if op.query is not None:
            schema = op.query.model_json_schema(ref_template=REF_TEMPLATE, schema_generator=ContractSchema)
            required = set(schema.get("required", []))
            for name, prop in schema.get("properties", {}).items():
                description = prop.pop("description", None)
                parameter = {"name": name, "in": "query", "required": name in required, "schema": prop}
                if description:
                    parameter["description"] = description
                parameters.append(parameter)
        for name, description in op.request_headers.items():
            parameters.append({"name": name, "in": "header", "required": False,
                               "description": description, "schema": {"type": "string", "pattern": r"^[\x20-\x7e]*$"}})
        success: dict = {"description": "OK" if op.status == 200 else "Created"}
        if op.response is not None:
            success["content"] = {op.response_media_type: {"schema": ref(op.response, "serialization")}}
        elif op.response_media_type:
            success["content"] = {op.response_media_type: {"schema": {}}}
        if op.response_headers:
            success["headers"] = {name: {"description": text, "schema": {"type": "string"}}
                                  for name, text in op.response_headers.items()}
        responses = {str(op.status): success}
        for status in op.errors:
            entry = {"description": PROBLEMS[status].description,
                     "content": {PROBLEM_MEDIA_TYPE: {"schema": problem_ref}}}
            if status == 429:
                entry["headers"] = {"Retry-After": {"description": "Seconds to wait.",
                                                    "schema": {"type": "string"}}}
            if status == 401:
                entry["headers"] = {"WWW-Authenticate": {"description": "Bearer challenge.",
                                                         "schema": {"type": "string"}}}
            responses[str(status)] = entry
        operation = {
            "operationId": op.endpoint.split(".", 1)[1],
            "summary": op.summary,
            "tags": [op.tag],
            "parameters": parameters,
            "responses": responses,
        }
        if op.description:
            operation["description"] = op.description
        if op.scope is not None:
            operation["security"] = [{"bearer": [op.scope]}]
            operation["x-required-scope"] = op.scope
        else:
            operation["security"] = []
        if isinstance(op.body, type):
            operation["requestBody"] = {
                "required": True,
                "content": {t: {"schema": ref(op.body, "validation")} for t in JSON_TYPES[:1]},
            }
        elif op.body == RAW_BODY:
            operation["requestBody"] = {
                "required": True,
                "description": "The result file as the raw body (any media type), or a multipart form with the field `file`.",
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                    "multipart/form-data": {"schema": {
                        "type": "object", "required": ["file"],
                        "properties": {"file": {"type": "string", "format": "binary"}},
                    }},
                },
            }
        paths.setdefault(op.path, {})[op.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": api.title, "version": api.version, "description": api.description},
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {
                    "type": "http", "scheme": "bearer",
                    "description": "A personal API token (dfk_…). Scopes: "
                    + "; ".join(f"{name} — {text}" for name, text in SCOPES.items()) + ".",
                },
            },
        },
    }

