"""The OpenAPI document is generated from the same pydantic models the endpoints validate
with, passes the OpenAPI 3.1 validator, is built once per app, documents every API route, and
holds against a schema-driven fuzz run (schemathesis)."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import OpenAPIV31SpecValidator
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from forum.api import schemas, spec
from forum.api.views import api


def test_the_document_is_openapi_3_1_and_public(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": document["components"]["securitySchemes"]["bearer"]["description"],
    }


def test_the_served_document_passes_the_openapi_validator(client):
    document = client.get("/api/v1/openapi.json").get_json()
    errors = [f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
              for error in OpenAPIV31SpecValidator(document).iter_errors()]
    assert errors == []


def test_a_field_that_may_be_left_out_but_not_null_has_no_null_default(client):
    """ItemPatch's title may be absent (unchanged) but not null; exposure may be null (cleared)."""
    patch = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["ItemPatch"]
    assert "required" not in patch
    assert patch["properties"]["title"] == {"type": "string", "minLength": 1, "maxLength": 200,
                                            "pattern": schemas.NO_NUL}
    assert patch["properties"]["exposure"]["default"] is None
    assert {"type": "null"} in patch["properties"]["exposure"]["anyOf"]


def test_the_document_is_built_once_per_app_and_names_the_configured_address(client, monkeypatch):
    built = []
    build = spec.build_document
    monkeypatch.setattr(spec, "build_document", lambda *args, **kw: built.append(1) or build(*args, **kw))

    first = client.get("/api/v1/openapi.json")
    second = client.get("/api/v1/openapi.json")
    by_alias = client.get("/api/v1/openapi.json", base_url="http://127.0.0.1")  # a trusted name
    reference = client.get("/api")

    assert len(built) == 1
    assert first.data == second.data == by_alias.data
    assert first.get_json()["servers"] == [{"url": "http://localhost/"}]  # BASE_URL, not the Host
    assert reference.status_code == 200


def test_every_api_route_is_documented_with_its_scope(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    documented = {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.openapi":
            path = rule.rule.replace("<int:", "{").replace(">", "}")
            routed |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == routed
    contract = {
        ("/api/v1/items", "get"): "items:read", ("/api/v1/items", "post"): "items:write",
        ("/api/v1/items/{item_id}", "get"): "items:read", ("/api/v1/items/{item_id}", "patch"): "items:write",
        ("/api/v1/items/{item_id}/evidence", "post"): "evidence:write",
        ("/api/v1/evidence/{evidence_id}", "get"): "items:read",
        ("/api/v1/evidence/{evidence_id}/file", "get"): "items:read",
        ("/api/v1/events", "get"): "trail:read",
        ("/api/v1/meetings", "get"): "items:read", ("/api/v1/meetings/{meeting_id}", "get"): "items:read",
    }
    for (path, method), scope in contract.items():
        operation = document["paths"][path][method]
        assert operation["security"] == [{"bearer": [scope]}]
        assert "401" in operation["responses"] and "429" in operation["responses"]
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                assert list(response["content"]) == ["application/problem+json"]


def test_the_schemas_are_the_pydantic_models(client):
    document = client.get("/api/v1/openapi.json").get_json()
    components = document["components"]["schemas"]
    item = components["Item"]
    assert set(item["properties"]) == set(schemas.Item.model_fields)
    assert set(item["required"]) >= {"id", "title", "status", "version"}
    create = components["ItemCreate"]
    assert set(create["properties"]) == set(schemas.ItemCreate.model_fields)
    assert create["additionalProperties"] is False
    assert create["properties"]["title"]["maxLength"] == 200
    assert set(components["EvidenceRun"]["properties"]) >= {
        "id", "format", "suite", "model", "model_version", "run_at", "total", "passed", "failed", "errored",
        "skipped", "pass_rate", "edge_total", "edge_passed", "edge_pass_rate", "sha256", "gates"}
    listing = document["paths"]["/api/v1/items"]["get"]
    assert {p["name"] for p in listing["parameters"]} == set(schemas.ItemListQuery.model_fields)
    assert len(api.operations) == 14  # items 4, evidence 3, events 1, meetings 2, systems 4


def test_the_reference_page_lists_every_operation_and_is_linked_from_the_footer(client):
    page = client.get("/api")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for op in api.operations:
        assert f"<code>{op.path}</code>" in html
    assert 'id="problem-precondition-failed"' in html and 'id="schema-Item"' in html
    assert "Authorization: Bearer $FORUM_TOKEN" in html
    login = client.get("/login").get_data(as_text=True)
    assert 'href="/api">API</a>' in login


def test_the_reference_page_runs_no_query(app, client):
    from tests.budgets import count_statements

    assert count_statements(app, lambda: client.get("/api")) == 0


# ------------------------------------------------------------------------------- schema fuzzing
def no_server_error(ctx, response, case):
    """No 5xx for any input: every area behind the API is wired in."""
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path}: server error {response.status_code}: {response.text[:300]}"
    )


CHECKS = [no_server_error, status_code_conformance,
          content_type_conformance, response_schema_conformance]


@pytest.mark.parametrize("op", api.operations, ids=lambda op: f"{op.method} {op.path}")
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
def test_fuzz_finds_no_server_error_and_no_response_outside_its_schema(app, make_user, make_token, make_item, op, mode):
    """Schemathesis generates requests from the served document (through the WSGI app, no
    network): valid ones (positive) and ones that break the schema (negative). Bounded: 30
    examples per operation and mode, derandomized so a run is repeatable."""
    executive = make_user(role="executive", function="product", email="fuzz@example.com")
    make_item(executive, status="open", title="Fuzz target")
    headers = {"Authorization": f"Bearer {make_token(executive)}"}
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = schema[op.path][op.method]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=30, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    run()
