"""The outage plugin over HTTP: declare/update/restore with events, bad input, idempotency, the live stream,
trouble-ticket linking through the local CCB, the burst suggestion, the contact hint and the checks.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

import plugins.outage as outage
from core.bus import Envelope
from core.ccb import port as p
from plugins.outage.events import EVENTS_CHANNEL
from plugins.outage.models import Outage, OutageTicket

API = "/api/outage"
SECTION = "call-center"


@pytest.fixture
def hub_plugins() -> list[Any]:
    return [outage]


@pytest.fixture
def hub_config() -> dict[str, Any]:
    return {
        "plugins": {"outage": {"burst_threshold": 3, "burst_window_minutes": 10, "etr_missing_minutes": 20}}
    }


@pytest.fixture
async def lead(staff_token: Any, enable_plugin: Any) -> dict[str, str]:
    await enable_plugin("outage", SECTION)
    return {"Authorization": f"Bearer {await staff_token('lead', SECTION)}"}


@pytest.fixture
async def csr(staff_token: Any, lead: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {await staff_token('csr', SECTION)}"}


@pytest.fixture
async def events(hub: Any) -> list[Envelope]:
    """Every ``hub.outage.*`` envelope published during the test."""
    found: list[Envelope] = []

    async def keep(env: Envelope) -> None:
        found.append(env)

    await hub.bus.subscribe("hub.outage.>", keep)
    return found


def declaration(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"utility": "electric", "cause": "Transformer failure", "service_areas": ["MET"]}
    body.update(fields)
    return body


async def premise(hub: Any, zip_code: str = "90026", area: str = "MET") -> p.PremiseView:
    return await hub.ccb.create_premise(
        p.CreatePremise(
            address=p.Address(line1="1200 W Sunset Blvd", city="Los Angeles", zip=zip_code),
            service_area_code=area,
            electric_zone="1",
            water_temperature_zone="medium",
            lot_size_sqft=6000,
        )
    )


async def trouble_ticket(hub: Any, where: p.PremiseView, service: str = "electric") -> p.FieldActivityView:
    sp = next(sp for sp in where.service_points if sp.service == service)
    return await hub.ccb.create_field_activity(
        p.CreateFieldActivity(fa_type="TROUBLE", premise_id=where.premise_id, sp_id=sp.sp_id), actor="ivr"
    )


async def count(hub: Any, model: Any) -> int:
    async with hub.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_declare_update_restore_publish_their_events(
    hub_client: Any, lead: dict[str, str], csr: dict[str, str], events: list[Envelope], drain: Any
) -> None:
    etr = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)).isoformat()
    r = await hub_client.post(f"{API}/outages", json=declaration(zips=["90026-0001"]), headers=lead)
    assert r.status_code == 201, r.text
    declared = r.json()
    assert declared["zips"] == ["90026"] and declared["status"] == "active" and declared["revision"] == 1
    oid = declared["id"]
    r = await hub_client.patch(
        f"{API}/outages/{oid}", json={"estimated_restoration": etr, "revision": 1}, headers=lead
    )
    assert r.status_code == 200, r.text
    assert r.json()["revision"] == 2
    stale = await hub_client.patch(f"{API}/outages/{oid}", json={"cause": "x", "revision": 1}, headers=lead)
    assert stale.status_code == 409 and stale.json()["extra"][0]["key"] == "revision"
    # CSRs read; only leads (supervisors, admins) change.
    assert (await hub_client.get(f"{API}/outages", headers=csr)).json()[0]["id"] == oid
    assert (await hub_client.post(f"{API}/outages/{oid}/restore", headers=csr)).status_code == 403
    r = await hub_client.post(f"{API}/outages/{oid}/restore", headers=lead)
    assert r.status_code == 200 and r.json()["status"] == "restored"
    again = await hub_client.post(f"{API}/outages/{oid}/restore", headers=lead)
    assert again.status_code == 200 and again.json()["revision"] == r.json()["revision"]
    late = await hub_client.patch(f"{API}/outages/{oid}", json={"cause": "x"}, headers=lead)
    assert late.status_code == 409
    await drain()
    assert [e.subject for e in events] == ["hub.outage.declared", "hub.outage.updated", "hub.outage.restored"]
    assert events[1].data["estimated_restoration"] is not None and events[0].data["zips"] == ["90026"]
    assert (await hub_client.get(f"{API}/outages", headers=csr)).json() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (declaration(service_areas=[]), "area"),
        (declaration(zips=["9002"]), "zips[0]"),
        (declaration(utility="gas"), "utility"),
        ({"utility": "water", "service_areas": ["MET"]}, "cause"),
        (declaration(cause="   "), "cause"),
        (declaration(estimated_restoration="2026-01-01T00:00:00"), "estimated_restoration"),
    ],
)
async def test_bad_input_is_422_naming_the_field_and_writes_nothing(
    hub: Any, hub_client: Any, lead: dict[str, str], body: dict[str, Any], field: str
) -> None:
    r = await hub_client.post(f"{API}/outages", json=body, headers=lead)
    assert r.status_code == 422, r.text
    assert r.json()["extra"][0]["key"] == field
    assert await count(hub, Outage) == 0


async def test_emptying_the_area_of_an_outage_is_refused(
    hub: Any, hub_client: Any, lead: dict[str, str]
) -> None:
    oid = (await hub_client.post(f"{API}/outages", json=declaration(), headers=lead)).json()["id"]
    r = await hub_client.patch(f"{API}/outages/{oid}", json={"service_areas": []}, headers=lead)
    assert r.status_code == 422 and r.json()["extra"][0]["key"] == "area"
    assert (await hub_client.get(f"{API}/outages/{oid}", headers=lead)).json()["service_areas"] == ["MET"]


async def test_a_repeated_declaration_creates_one_outage(
    hub: Any, hub_client: Any, lead: dict[str, str], events: list[Envelope], drain: Any
) -> None:
    body = declaration(idempotency_key="form:abcdef123456")
    first, second = await asyncio.gather(
        hub_client.post(f"{API}/outages", json=body, headers=lead),
        hub_client.post(f"{API}/outages", json=body, headers=lead),
    )
    assert sorted([first.status_code, second.status_code]) == [200, 201]
    assert first.json()["id"] == second.json()["id"]
    header = await hub_client.post(
        f"{API}/outages", json=declaration(), headers={**lead, "Idempotency-Key": "form:abcdef123456"}
    )
    assert header.status_code == 200 and header.json()["replayed"] is True
    await drain()
    assert await count(hub, Outage) == 1
    assert [e.subject for e in events] == ["hub.outage.declared"]


async def test_the_stream_delivers_a_declaration_within_a_second(
    hub: Any, hub_client: Any, lead: dict[str, str], csr: dict[str, str]
) -> None:
    stream = asyncio.create_task(hub_client.get(f"{API}/stream?limit=1", headers=csr))
    streams = hub.plugins.records["outage"].ctx.streams
    async with asyncio.timeout(5):
        while not streams.subscribers(EVENTS_CHANNEL):  # noqa: ASYNC110 - the plugin offers no event to wait on
            await asyncio.sleep(0.01)
    r = await hub_client.post(f"{API}/outages", json=declaration(cause="Storm damage"), headers=lead)
    assert r.status_code == 201
    # No drain: the outbox relay is woken by the commit, as in production.
    got = await asyncio.wait_for(stream, timeout=1.0)
    assert got.status_code == 200 and got.headers["content-type"].startswith("text/event-stream")
    text = got.text
    assert text.index("event: snapshot") < text.index("event: declared")
    assert '"cause":"Storm damage"' in text and '"subject":"hub.outage.declared"' in text


async def test_the_banner_stream_needs_a_session_and_renders_html(
    hub_client: Any, lead: dict[str, str]
) -> None:
    await hub_client.post(f"{API}/outages", json=declaration(cause="Crew <b>working</b>"), headers=lead)
    anonymous = await hub_client.get("/ui/outage/stream?limit=1")
    assert anonymous.status_code in (302, 303, 401)
    fragment = await hub_client.get("/ui/outage/banner")
    assert fragment.status_code in (302, 303, 401)


async def test_a_ticket_inside_an_outage_is_linked_and_its_field_activity_canceled(
    hub: Any, hub_client: Any, lead: dict[str, str], drain: Any
) -> None:
    inside, outside = await premise(hub, "90026", "MET"), await premise(hub, "91401", "VAL")
    oid = (
        await hub_client.post(
            f"{API}/outages", json=declaration(zips=["90026"], service_areas=[]), headers=lead
        )
    ).json()["id"]
    await drain()
    linked = await trouble_ticket(hub, inside)
    water = await trouble_ticket(hub, inside, "water")  # an electric outage says nothing about water
    elsewhere = await trouble_ticket(hub, outside)
    await drain()
    await drain()  # the cancel's own events
    assert (await hub.ccb.get_field_activity(linked.field_activity_id)).status == "X"
    assert (await hub.ccb.get_field_activity(water.field_activity_id)).status == "P"
    assert (await hub.ccb.get_field_activity(elsewhere.field_activity_id)).status == "P"
    tickets = (await hub_client.get(f"{API}/outages/{oid}/tickets", headers=lead)).json()
    assert [(t["field_activity_id"], t["action"]) for t in tickets] == [(linked.field_activity_id, "linked")]
    # A redelivery of the same event is recognised and changes nothing.
    env = Envelope(
        id="redelivered",
        subject="hub.ccb.trouble_ticket.created",
        occurred_at=dt.datetime.now(dt.UTC),
        source="core",
        actor="ivr",
        data={
            "field_activity_id": linked.field_activity_id,
            "fa_type": "TROUBLE",
            "premise_id": inside.premise_id,
        },
    )
    await hub.bus.publish(env)
    await drain()
    assert await count(hub, OutageTicket) == 3
    found = (await hub_client.get(f"{API}/premises/{inside.premise_id}", headers=lead)).json()
    assert [o["id"] for o in found] == [oid]


async def test_a_burst_of_tickets_from_one_area_suggests_an_outage_once(
    hub: Any, hub_client: Any, hub_clock: Any, lead: dict[str, str], events: list[Envelope], drain: Any
) -> None:
    homes = [await premise(hub, "91401", "VAL") for _ in range(4)]
    await trouble_ticket(hub, homes[0])
    await drain()
    hub_clock.advance(dt.timedelta(minutes=11))  # the first ticket falls out of the 10-minute window
    for home in homes[1:3]:
        await trouble_ticket(hub, home)
        await drain()
    assert (await hub_client.get(f"{API}/suggestions", headers=lead)).json() == []
    await trouble_ticket(hub, homes[3])
    await drain()
    await trouble_ticket(hub, homes[3])  # a fourth in the window adds to the open suggestion
    await drain()
    suggestions = (await hub_client.get(f"{API}/suggestions", headers=lead)).json()
    assert len(suggestions) == 1
    s = suggestions[0]
    assert s["service_areas"] == ["VAL"] and s["ticket_count"] == 4
    assert [e.subject for e in events] == ["hub.outage.suggested"]
    r = await hub_client.post(
        f"{API}/suggestions/{s['id']}/confirm",
        json={"utility": "electric", "cause": "Feeder trip"},
        headers=lead,
    )
    assert r.status_code == 201, r.text
    assert r.json()["service_areas"] == ["VAL"] and r.json()["suggestion_id"] == s["id"]
    twice = await hub_client.post(
        f"{API}/suggestions/{s['id']}/confirm",
        json={"utility": "electric", "cause": "Feeder trip"},
        headers=lead,
    )
    assert twice.status_code == 409
    await drain()
    assert [e.subject for e in events] == ["hub.outage.suggested", "hub.outage.declared"]


async def test_a_contact_at_a_premise_in_an_outage_gets_the_hint_and_script(
    hub: Any, hub_client: Any, lead: dict[str, str]
) -> None:
    from core.contact.service import ContactSnapshot

    home = await premise(hub, "90026", "MET")
    customer = await hub.ccb.create_customer(
        p.CreateCustomer(
            person=p.NewPerson(
                first_name="Ana",
                last_name="Reyes",
                phone="(213) 555-0101",
                mailing_address=p.Address(line1="1200 W Sunset Blvd", city="Los Angeles", zip="90026"),
            )
        ),
        actor="csr1",
    )
    await hub.ccb.start_service(
        p.StartService(
            account_id=customer.account_id, premise_id=home.premise_id, start_date=dt.date.today()
        ),
        actor="csr1",
    )
    ctx = hub.plugins.records["outage"].ctx
    snapshot = ContactSnapshot(
        contact_id="c1",
        channel="phone",
        status="verified",
        dialog_id=None,
        account_id=customer.account_id,
        candidates=[customer.account_id],
        verified_accounts=[customer.account_id],
    )
    assert await outage.hub_contact_hints(ctx, snapshot) == []
    await hub_client.post(f"{API}/outages", json=declaration(cause="Transformer failure"), headers=lead)
    hints = await outage.hub_contact_hints(ctx, snapshot)
    assert len(hints) == 1 and hints[0].kind == "outage" and hints[0].severity == "warning"
    assert hints[0].text.startswith(
        "Known electric outage: Transformer failure, estimated restoration not yet"
    )
    assert hints[0].script and "no need to report it again" in hints[0].script
    by_premise = await outage.hub_contact_hints(ctx, {"premise_ids": [home.premise_id]})
    assert [h.text for h in by_premise] == [hints[0].text]


async def test_the_etr_check_fails_after_the_configured_minutes(
    hub: Any, hub_client: Any, hub_clock: Any, lead: dict[str, str]
) -> None:
    oid = (await hub_client.post(f"{API}/outages", json=declaration(), headers=lead)).json()["id"]
    ok = await hub.run_checks(plugin="outage")
    assert all(o.passed for o in ok), [o.message for o in ok]
    hub_clock.advance(dt.timedelta(minutes=21))
    late = {o.name: o for o in await hub.run_checks(plugin="outage")}
    assert not late["etr_present"].passed and f"#{oid}" in late["etr_present"].message
    etr = (hub_clock.now() + dt.timedelta(hours=2)).isoformat()
    await hub_client.patch(f"{API}/outages/{oid}", json={"estimated_restoration": etr}, headers=lead)
    again = {o.name: o for o in await hub.run_checks(plugin="outage")}
    assert again["etr_present"].passed
