"""The served OpenAPI document says what the handlers do (``core.openapi``): bodies read another way, error
answers, the contact and idempotency headers, non-JSON answers; and a huge path id is a 404, never a 500."""

from __future__ import annotations

import importlib.metadata
from typing import Any

import pytest

PLUGINS = {e.name for e in importlib.metadata.entry_points(group="ccbhub.plugins")}


@pytest.fixture
def hub_entry_points() -> bool:
    return True  # every installed plugin, as a served hub has them


@pytest.fixture
async def document(hub_client: Any) -> dict[str, Any]:
    r = await hub_client.get("/schema/openapi.json")
    assert r.status_code == 200
    found: dict[str, Any] = r.json()
    return found


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def headers_of(op: dict[str, Any]) -> set[str]:
    return {p["name"] for p in op.get("parameters", []) if p["in"] == "header"}


async def test_every_api_operation_lists_its_error_answers(document: dict[str, Any]) -> None:
    found = operations(document)
    assert len(found) > 100
    assert document["components"]["schemas"]["HubError"]["required"] == ["status_code", "detail"]
    for method, path, op in found:
        if not path.startswith("/api"):
            continue
        codes = set(op["responses"])
        assert {"401", "403"} <= codes, (method, path, codes)
        kinds = {p["in"] for p in op.get("parameters", [])}
        if "path" in kinds:
            assert {"404", "422"} <= codes, (method, path, codes)
        if "application/json" in op.get("requestBody", {}).get("content", {}):
            assert {"400", "413", "422"} <= codes, (method, path, codes)
        if method != "GET":
            assert "409" in codes, (method, path, codes)
        if path.split("/")[2] in PLUGINS:  # a plugin's route: 503 while it is not running
            assert "503" in codes, (method, path, codes)
        assert op["responses"]["401"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/HubError"
        }


async def test_writes_declare_their_bodies_and_the_uploads_are_multipart(document: dict[str, Any]) -> None:
    photos = document["paths"]["/api/pci_inspection/devices/{device_id}/photos"]["post"]
    form = photos["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["properties"]["file"] == {"type": "string", "format": "binary"}
    assert form["properties"]["kind"]["enum"] == ["reference", "evidence"]
    assert form["required"] == ["file"] and "label" in form["properties"]
    documents = document["paths"]["/api/claims/{claim_id}/documents"]["post"]
    assert set(documents["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]) == {
        "file",
        "label",
    }
    bodiless = sorted(
        (method, path)
        for method, path, op in operations(document)
        if method in ("POST", "PUT", "PATCH") and "requestBody" not in op
    )
    # Only actions whose path says it all (approve, start, publish ...) go without a body.
    assert bodiless == [
        ("POST", "/api/agency_lookup/disclosures/{disclosure_id}/approve"),
        ("POST", "/api/agency_lookup/disclosures/{disclosure_id}/release"),
        ("POST", "/api/breaks/breaks/{break_id}/end"),
        ("POST", "/api/breaks/breaks/{break_id}/start"),
        ("POST", "/api/breaks/schedules/{schedule_id}/publish"),
        ("POST", "/api/escalations/{escalation_id}/payment-plan"),
        ("POST", "/api/eteam/pull"),
        ("POST", "/api/outage/suggestions/{suggestion_id}/dismiss"),
        ("POST", "/api/sos/referrals/{referral_id}/accept"),
        ("POST", "/api/sos/referrals/{referral_id}/send"),
    ]


async def test_contact_and_idempotency_headers_are_declared_where_handlers_read_them(
    document: dict[str, Any],
) -> None:
    paths = document["paths"]
    # ``guard`` dependency (a plugin) and the contact layer's own guards (a core workflow).
    for op in (
        paths["/api/escalations/{escalation_id}/payment-plan"]["post"],
        paths["/api/ccb/accounts/{account_id}/service/start"]["post"],
        paths["/api/ccb/bills/{bill_id}/explanation"]["get"],
    ):
        assert {"X-Contact-Id", "X-Access-Reason"} <= headers_of(op)
    # ``idempotency`` dependency, and the contact layer's helper that reads the header.
    assert "Idempotency-Key" in headers_of(paths["/api/cash_handling/card-payments"]["post"])
    assert "Idempotency-Key" in headers_of(paths["/api/ccb/accounts/{account_id}/service/start"]["post"])
    key = next(
        p
        for p in paths["/api/cash_handling/card-payments"]["post"]["parameters"]
        if p["name"] == "Idempotency-Key"
    )
    assert key["schema"] == {"type": "string", "minLength": 1, "maxLength": 80} and key["required"] is False
    # Handlers that read neither do not claim them.
    health_like = paths["/api/pci_inspection/devices"]["get"]
    assert not headers_of(health_like) & {"X-Contact-Id", "Idempotency-Key"}
    # Declared once even where a handler names the header itself.
    for _method, _path, op in operations(document):
        names = [p["name"].lower() for p in op.get("parameters", []) if p["in"] == "header"]
        assert len(names) == len(set(names))


async def test_a_retried_create_answers_200_as_documented(document: dict[str, Any]) -> None:
    paths = document["paths"]
    for path in ("/api/solar/voicemails", "/api/cash_handling/card-payments"):
        answers = paths[path]["post"]["responses"]
        assert {"200", "201"} <= set(answers) and answers["200"]["content"] == answers["201"]["content"]
    # A create with no retry (no key, a fixed status) keeps 201 alone.
    assert "200" not in paths["/api/pci_inspection/devices"]["post"]["responses"]


async def test_non_json_answers_are_documented_as_what_they_are(document: dict[str, Any]) -> None:
    paths = document["paths"]
    assert set(paths["/api/outage/stream"]["get"]["responses"]["200"]["content"]) == {"text/event-stream"}
    assert set(paths["/api/pci_inspection/inspections.csv"]["get"]["responses"]["200"]["content"]) == {
        "text/csv"
    }
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert set(paths["/api/metrics/monthly.xlsx"]["get"]["responses"]["200"]["content"]) == {xlsx}
    assert set(paths["/api/pci_inspection/photos/{photo_id}"]["get"]["responses"]["200"]["content"]) == {
        "*/*"
    }


async def test_an_id_beyond_any_row_is_a_404_not_a_driver_overflow(
    hub_client: Any, staff_token: Any, enable_plugin: Any
) -> None:
    await enable_plugin("claims", "call-center")
    await enable_plugin("escalations", "call-center")
    headers = {"Authorization": f"Bearer {await staff_token('lead', 'call-center')}"}
    huge = 10**24
    for method, url in (
        ("GET", f"/api/claims/1/documents/{huge}"),
        ("POST", f"/api/escalations/{huge}/payment-plan"),
        ("GET", f"/api/claims/{huge}"),
    ):
        r = await hub_client.request(method, url, headers=headers)
        assert r.status_code == 404, (url, r.text)
    # Unauthenticated callers still learn nothing: 401 comes first.
    assert (await hub_client.get(f"/api/claims/{huge}")).status_code == 401
