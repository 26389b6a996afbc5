"""The core API through HTTP: guards, plugins and sections, checks, catalogue, staff, bad input."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from core.models import AuditRecord, PluginSection
from tests import example_plugin


@pytest.fixture
def hub_plugins() -> list[Any]:
    return [example_plugin]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_health_endpoints_are_public(hub_client: Any) -> None:
    assert (await hub_client.get("/health/live")).json() == {"status": "ok"}
    ready = await hub_client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json()["parts"] == {"database": "ok", "bus": "ok"}


async def test_ready_is_503_naming_the_bus_when_it_is_down(hub_client: Any, hub: Any) -> None:
    await hub.bus.close()
    ready = await hub_client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.json()["failing"] == ["bus"]


async def test_ready_is_503_naming_the_database_when_it_is_down(
    hub_client: Any, hub: Any, tmp_path: Any
) -> None:
    from core.db import Database

    await hub.db.dispose()
    hub.db = Database(f"sqlite+aiosqlite:///{tmp_path}")  # a directory: the database cannot be opened
    ready = await hub_client.get("/health/ready")
    assert ready.status_code == 503
    assert "database" in ready.json()["failing"]


async def test_api_requires_a_valid_bearer_token(hub_client: Any) -> None:
    assert (await hub_client.get("/api/plugins")).status_code == 401
    assert (await hub_client.get("/api/plugins", headers=bearer("hub_not-a-token"))).status_code == 401
    assert (await hub_client.get("/api/plugins", headers={"Authorization": "Basic abc"})).status_code == 401


async def test_roles_are_enforced(hub_client: Any, staff_token: Any) -> None:
    csr = await staff_token("csr", "call-center")
    r = await hub_client.post("/api/sections", headers=bearer(csr), json={"slug": "new-one", "title": "New"})
    assert r.status_code == 403
    assert "admin" in r.json()["detail"]


async def test_plugin_list_shows_status_routes_events_and_checks(hub_client: Any, staff_token: Any) -> None:
    token = await staff_token("csr", "call-center")
    plugins = {p["id"]: p for p in (await hub_client.get("/api/plugins", headers=bearer(token))).json()}
    example = plugins["example"]
    assert example["status"] == "active"
    assert example["version"] == "1.0.0"
    assert "/api/example/hello" in example["routes"]
    assert example["event_subjects"] == ["hub.example.pinged"]
    assert example["checks"] == ["urgent_pings_answered"]
    assert example["sections"] == []
    assert plugins["core"]["checks"][:4] == ["database", "bus", "outbox_backlog", "smtp"]


async def test_config_schema_is_the_msgspec_schema(hub_client: Any, staff_token: Any) -> None:
    token = await staff_token("csr", "call-center")
    schema = (await hub_client.get("/api/plugins/example/config-schema", headers=bearer(token))).json()
    props = schema["$defs"]["ExampleConfig"]["properties"]
    assert props["greeting"]["maxLength"] == 40
    assert schema["$defs"]["ExampleConfig"]["additionalProperties"] is False
    missing = await hub_client.get("/api/plugins/nope/config-schema", headers=bearer(token))
    assert missing.status_code == 404


async def test_enabling_takes_effect_at_once_and_is_audited(
    hub_client: Any, staff_token: Any, hub: Any
) -> None:
    admin = await staff_token("admin", "lead")
    csr = await staff_token("csr", "call-center")
    assert (await hub_client.get("/api/example/hello", headers=bearer(csr))).status_code == 403
    r = await hub_client.post(
        "/api/plugins/example/sections/call-center", headers=bearer(admin), json={"enabled": True}
    )
    assert r.status_code == 200 and r.json()["sections"] == ["call-center"]
    hello = await hub_client.get("/api/example/hello", headers=bearer(csr))
    assert hello.status_code == 200 and hello.json()["greeting"].startswith("Hello, csr")
    await hub_client.post(
        "/api/plugins/example/sections/call-center", headers=bearer(admin), json={"enabled": False}
    )
    assert (await hub_client.get("/api/example/hello", headers=bearer(csr))).status_code == 403
    async with hub.db.session() as session:
        actions = (
            (await session.execute(select(AuditRecord.action).order_by(AuditRecord.seq))).scalars().all()
        )
        row = await session.get(PluginSection, ("example", "call-center"))
    assert actions[-2:] == ["plugin.enable", "plugin.disable"]
    assert row is not None and row.enabled is False


async def test_enablement_change_reaches_other_processes_through_the_bus(
    hub: Any, staff_token: Any, drain: Any
) -> None:
    """Another process sees the change by reloading on hub.plugins.enablement_changed."""
    from core.hub import Hub
    from core.sections import set_enabled

    other = Hub(hub.settings, extra_plugins=[example_plugin], entry_points=False, bus=hub.bus)
    await other.enablement.load(other.db)
    await hub.bus.subscribe("hub.plugins.enablement_changed", other._on_enablement)
    assert other.enablement.sections_for("example") == frozenset()
    async with hub.db.session() as session:
        await set_enabled(
            session, hub.events, hub.audit, plugin_id="example", section="e-team", enabled=True, actor="test"
        )
    await drain()
    assert other.enablement.sections_for("example") == frozenset({"e-team"})
    await other.db.dispose()


async def test_plugin_route_answers_503_when_plugin_failed(
    hub_client: Any, staff_token: Any, hub: Any, enable_plugin: Any
) -> None:
    from core.plugins import PluginStatus

    await enable_plugin("example", "call-center")
    csr = await staff_token("csr", "call-center")
    hub.plugins.records["example"].mark(PluginStatus.FAILED, "simulated")
    r = await hub_client.get("/api/example/hello", headers=bearer(csr))
    assert r.status_code == 503 and "failed" in r.json()["detail"]


async def test_unknown_section_or_plugin_is_404(hub_client: Any, staff_token: Any) -> None:
    admin = await staff_token("admin", "lead")
    r = await hub_client.post(
        "/api/plugins/example/sections/nowhere", headers=bearer(admin), json={"enabled": True}
    )
    assert r.status_code == 404 and "nowhere" in r.json()["detail"]
    r = await hub_client.post(
        "/api/plugins/ghost/sections/lead", headers=bearer(admin), json={"enabled": True}
    )
    assert r.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"enabled": "yes"}, "enabled"),
        ({}, "enabled"),
        ({"enabled": True, "extra": 1}, "extra"),
    ],
)
async def test_bad_bodies_are_422_naming_the_field(
    hub_client: Any, staff_token: Any, body: Any, field: str
) -> None:
    admin = await staff_token("admin", "lead")
    r = await hub_client.post("/api/plugins/example/sections/lead", headers=bearer(admin), json=body)
    # One contract for every route since the web kit (issue 12): malformed → 400, a misfit → 422.
    assert r.status_code == 422
    assert r.json()["extra"][0]["key"] == field


async def test_malformed_json_is_400(hub_client: Any, staff_token: Any) -> None:
    admin = await staff_token("admin", "lead")
    r = await hub_client.post(
        "/api/sections", headers={**bearer(admin), "Content-Type": "application/json"}, content=b'{"slug": '
    )
    assert r.status_code == 400
    assert r.json()["detail"]


async def test_bad_query_parameter_is_400_naming_it(hub_client: Any, staff_token: Any) -> None:
    token = await staff_token("csr", "call-center")
    r = await hub_client.get("/api/checks?section=Not A Slug", headers=bearer(token))
    assert r.status_code == 400 and r.json()["extra"][0]["key"] == "section"


async def test_sections_can_be_added_and_listed(hub_client: Any, staff_token: Any) -> None:
    admin = await staff_token("admin", "lead")
    r = await hub_client.post(
        "/api/sections", headers=bearer(admin), json={"slug": "billing-office", "title": "Billing"}
    )
    assert r.status_code == 201
    again = await hub_client.post(
        "/api/sections", headers=bearer(admin), json={"slug": "billing-office", "title": "B"}
    )
    assert again.status_code == 400 and "already exists" in again.json()["detail"]
    slugs = [s["slug"] for s in (await hub_client.get("/api/sections", headers=bearer(admin))).json()]
    assert "billing-office" in slugs and "call-center" in slugs


async def test_checks_endpoint_runs_and_filters(
    hub_client: Any, staff_token: Any, enable_plugin: Any, hub: Any
) -> None:
    token = await staff_token("security", "security")
    everything = (await hub_client.get("/api/checks", headers=bearer(token))).json()
    names = {(c["plugin"], c["name"]) for c in everything["checks"]}
    assert ("core", "database") in names and ("example", "urgent_pings_answered") in names
    assert everything["passed"] is True
    only = (await hub_client.get("/api/checks?plugin=example", headers=bearer(token))).json()
    assert [c["plugin"] for c in only["checks"]] == ["example"]
    by_section = (await hub_client.get("/api/checks?section=security", headers=bearer(token))).json()
    core_parts = {r.id for r in hub.plugins.records.values() if r.source == "core"}  # always checked
    assert {c["plugin"] for c in by_section["checks"]} == core_parts
    await enable_plugin("example", "security")
    by_section = (await hub_client.get("/api/checks?section=security", headers=bearer(token))).json()
    assert {c["plugin"] for c in by_section["checks"]} == core_parts | {"example"}


async def test_a_failing_compliance_check_shows(
    hub_client: Any, staff_token: Any, enable_plugin: Any, hub: Any, hub_clock: Any, drain: Any
) -> None:
    import datetime as dt

    await enable_plugin("example", "call-center")
    csr = await staff_token("csr", "call-center")
    r = await hub_client.post(
        "/api/example/pings", headers=bearer(csr), json={"message": "help", "urgent": True}
    )
    assert r.status_code == 202
    await drain()
    hub_clock.advance(dt.timedelta(minutes=16))
    result = (await hub_client.get("/api/checks?plugin=example", headers=bearer(csr))).json()
    assert result["passed"] is False
    assert result["checks"][0]["status"] == "fail"


async def test_event_catalogue_lists_types_with_schemas(hub_client: Any, staff_token: Any) -> None:
    token = await staff_token("csr", "call-center")
    catalogue = {
        e["subject"]: e for e in (await hub_client.get("/api/events/catalogue", headers=bearer(token))).json()
    }
    assert catalogue["hub.example.pinged"]["source"] == "example"
    schema = catalogue["hub.example.pinged"]["payload_schema"]
    assert set(schema["$defs"]["Pinged"]["properties"]) == {"author", "message", "urgent"}
    assert catalogue["hub.plugins.enablement_changed"]["source"] == "core"


async def test_events_carry_no_card_numbers(
    hub_client: Any, staff_token: Any, enable_plugin: Any, hub: Any, drain: Any
) -> None:
    from core.models import OutboxEvent

    await enable_plugin("example", "call-center")
    csr = await staff_token("csr", "call-center")
    await hub_client.post(
        "/api/example/pings", headers=bearer(csr), json={"message": "card 4111111111111111"}
    )
    await drain()
    async with hub.db.session() as session:
        envelopes = (await session.execute(select(OutboxEvent.envelope))).scalars().all()
    assert envelopes and not any("4111111111111111" in e for e in envelopes)


async def test_admin_creates_staff_and_token_works(hub_client: Any, staff_token: Any) -> None:
    admin = await staff_token("admin", "lead")
    r = await hub_client.post(
        "/api/staff",
        headers=bearer(admin),
        json={"name": "maria.lopez", "role": "csr", "sections": ["call-center"]},
    )
    assert r.status_code == 201
    token = r.json()["token"]
    me = (await hub_client.get("/api/me", headers=bearer(token))).json()
    assert me == {"name": "maria.lopez", "role": "csr", "sections": ["call-center"]}
    bad = await hub_client.post("/api/staff", headers=bearer(admin), json={"name": "x y", "role": "csr"})
    assert bad.status_code == 400 and bad.json()["extra"][0]["key"] == "name"
    bad = await hub_client.post("/api/staff", headers=bearer(admin), json={"name": "okname", "role": "king"})
    assert bad.status_code == 400 and bad.json()["extra"][0]["key"] == "role"


async def test_tokens_are_stored_hashed(hub: Any, staff_token: Any) -> None:
    from core.models import ApiToken

    token = await staff_token("csr", "call-center")
    async with hub.db.session() as session:
        stored = (await session.execute(select(ApiToken.token_hash))).scalars().all()
    assert token not in stored and all(len(h) == 64 for h in stored)


async def test_a_crashing_plugin_route_is_a_500_without_traceback(
    hub_client: Any, staff_token: Any, enable_plugin: Any, hub: Any
) -> None:
    await enable_plugin("example", "call-center")
    csr = await staff_token("csr", "call-center")
    hub.plugins.records["example"].ctx.config = None  # the hello route now fails reading its config
    r = await hub_client.get("/api/example/hello", headers=bearer(csr))
    assert r.status_code == 500
    assert r.json() == {
        "status_code": 500,
        "detail": "internal error; it has been logged",
        "plugin": "example",
    }
    assert "AttributeError" in (hub.plugins.records["example"].last_error or "")


async def test_openapi_schema_is_served(hub_client: Any) -> None:
    r = await hub_client.get("/schema/openapi.json")
    assert r.status_code == 200 and "/api/plugins" in r.json()["paths"]


async def test_mail_outbox_keeps_redacted_mail_without_smtp(
    hub_client: Any, staff_token: Any, hub: Any
) -> None:
    from core.mail import MailError

    async with hub.db.session() as session:
        await hub.mail.queue(
            session,
            to=["security@example.org"],
            subject="Terminal failed",
            body="card 4111 1111 1111 1111 seen",
            idempotency_key="k1",
        )
        again = await hub.mail.queue(
            session, to=["security@example.org"], subject="dup", body="x", idempotency_key="k1"
        )
        assert again.subject == "Terminal failed"
    with pytest.raises(MailError) as err:
        async with hub.db.session() as session:
            await hub.mail.queue(session, to=["not-an-address"], subject="x", body="y")
    assert err.value.field == "to"
    admin = await staff_token("admin")
    mails = (await hub_client.get("/api/mail/outbox", headers=bearer(admin))).json()
    assert len(mails) == 1 and mails[0]["status"] == "queued"
    assert "4111 1111" not in mails[0]["body"] and "****1111" in mails[0]["body"]
    # Everyone else who watches the outbox sees its metadata only (issue 13): no recipients, no bodies.
    lead = await staff_token("lead", "lead")
    meta = (await hub_client.get("/api/mail/outbox", headers=bearer(lead))).json()
    assert meta[0]["status"] == "queued" and meta[0]["customer_hidden"]
    assert (meta[0]["to"], meta[0]["subject"], meta[0]["body"]) == ([], "", "")
    csr = await staff_token("csr", "call-center")
    assert (await hub_client.get("/api/mail/outbox", headers=bearer(csr))).status_code == 403
    bad = await hub_client.get("/api/mail/outbox?status=lost", headers=bearer(lead))
    assert bad.status_code == 400 and bad.json()["extra"][0]["key"] == "status"


def test_every_route_but_the_public_ones_runs_the_guard(hub_app: Any) -> None:
    """Deny by default: the guard is attached per router, so check that no route escaped it."""
    from core.security import access_guard

    public = {"/health/live", "/health/ready", "/ui/login", "/", "/static", "/static/{file_path:path}"}
    for route in hub_app.routes:
        for handler in route.route_handlers:
            if route.path.startswith("/schema") or route.path in public:
                continue
            assert access_guard in handler.resolve_guards(), f"{route.path} is not guarded"


async def test_jobs_show_schedule_and_last_run_to_leads_and_admins(
    hub_client: Any, hub: Any, staff_token: Any
) -> None:
    import asyncio

    for _ in range(500):  # the core's CCB batches run when the hub starts
        info = await hub.jobs.describe()
        if any(j.name == "ccb_batches" and j.runs for j in info.jobs):
            break
        await asyncio.sleep(0.02)
    lead = await staff_token("lead", "call-center")
    r = await hub_client.get("/api/jobs", headers=bearer(lead))
    assert r.status_code == 200
    body = r.json()
    assert body["leading"] is True and body["leader"] == body["process"]
    batches = next(j for j in body["jobs"] if (j["plugin"], j["name"]) == ("core", "ccb_batches"))
    assert batches["every_s"] == 3600 and batches["run_at_start"] is True
    assert batches["runs"] >= 1 and batches["last_outcome"] == "ok" and batches["last_error"] is None
    assert batches["last_started_at"] and batches["next_run_at"] and batches["last_duration_ms"] >= 0
    csr = await staff_token("csr", "call-center")
    assert (await hub_client.get("/api/jobs", headers=bearer(csr))).status_code == 403
