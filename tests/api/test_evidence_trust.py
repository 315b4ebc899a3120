"""The API says where a run's counts come from and reports every gate state (issue: evidence you
can trust): a run with no case-level results is never a passing 0-case run."""

from __future__ import annotations

import json

from forum.evidence import gates

BLEU = json.dumps({"results": {"wmt16": {"bleu,none": 0.577}}, "configs": {},
                   "n-samples": {"wmt16": {"original": 2849, "effective": 2849}}, "date": 1700000000.0}).encode()


def test_the_api_reports_counting_metrics_and_the_gate_states(api_as, staff, make_item):
    api = api_as(staff)
    open_item = make_item(staff, status="open", model_name="bot", model_version="1.0")
    body = api.post(f"/api/v1/items/{open_item.id}/evidence", data=BLEU, content_type="application/json").get_json()
    assert body["counting"] == "none" and body["pass_rate"] is None and body["total"] == 0
    assert body["metrics"] == {"wmt16 bleu": 0.577}
    statuses = {g["name"]: g["status"] for g in body["gates"]}
    assert statuses["coverage"] == "unknown" and statuses["regression"] == "unknown"
    item = api.get(f"/api/v1/items/{open_item.id}").get_json()
    assert "evidence_incomplete" in item["flags"]
    spec = api.get("/api/v1/openapi.json").get_json()
    assert set(spec["components"]["schemas"]["Gate"]["properties"]["status"]["enum"]) == set(gates.STATES)
