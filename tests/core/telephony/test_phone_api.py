"""The telephony API through HTTP: 202 and events, 400/403/404, calls, queues, checks and the SSE stream.

Section signs (§) cite docs/telephony.md.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from core.bus import Envelope
from core.telephony import plugin
from core.telephony.events import ALL_EVENTS

# Telephony is a core part: its routes keep their own prefix and are not gated by section.
PHONE = plugin.ROUTE_PREFIX
SECTION = "call-center"
CALLER = "2135550142"  # fictional 555-01xx numbers only


@pytest.fixture
def hub_config() -> dict[str, Any]:
    return {
        "plugins": {
            "telephony": {
                "tick_seconds": 0,  # tests apply timers with tick(); one test runs the background loop
                "rona_seconds": 10,
                "teams": {
                    "desk": {"name": "Billing desk", "leads": ["lee"], "agents": ["ann", "bob"]},
                    "other": {"name": "Other desk", "leads": ["lou"], "agents": ["cy"]},
                },
            }
        }
    }


Token = Callable[[str], Awaitable[dict[str, str]]]


@pytest.fixture
async def auth(staff_token: Any) -> Token:
    """``await auth("ann")`` → headers of a staff member; ann/bob/cy are CSRs, lee/lou leads, root admin."""
    roles = {"lee": "lead", "lou": "lead", "lead": "lead", "root": "admin"}
    made: dict[str, dict[str, str]] = {}

    async def headers(name: str) -> dict[str, str]:
        if name not in made:
            token = await staff_token(roles.get(name, "csr"), SECTION, name=name)
            made[name] = {"Authorization": f"Bearer {token}"}
        return made[name]

    return headers


@pytest.fixture
async def phone_events(hub: Any) -> list[Envelope]:
    seen: list[Envelope] = []

    async def keep(env: Envelope) -> None:
        seen.append(env)

    await hub.bus.subscribe(ALL_EVENTS, keep)
    return seen


async def until(condition: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    """Wait for something another task does (a stream subscribing, a background timer firing)."""
    async with asyncio.timeout(timeout):
        while True:
            if await condition():
                return
            await asyncio.sleep(0.01)


def service(hub: Any) -> Any:
    found = plugin.telephony_service(hub)
    assert found is not None
    return found


async def sign_in_ready(client: Any, who: dict[str, str], name: str, extension: str) -> None:
    r = await client.post(f"{PHONE}/agents/{name}/sign-in", headers=who, json={"extension": extension})
    assert r.status_code == 202
    r = await client.put(f"{PHONE}/agents/{name}/state", headers=who, json={"state": "READY"})
    assert r.status_code == 202


# --------------------------------------------------------------------------------------------------
# The 202 contract (§1.1)
# --------------------------------------------------------------------------------------------------


async def test_a_state_request_is_202_with_no_body_and_the_snapshot_comes_as_an_event(
    hub_client: Any, auth: Token, drain: Any, phone_events: list[Envelope]
) -> None:
    ann = await auth("ann")
    r = await hub_client.post(
        f"{PHONE}/agents/ann/sign-in", headers={**ann, "requestId": "req-1"}, json={"extension": "1001"}
    )
    assert (r.status_code, r.content, r.headers["requestId"]) == (202, b"", "req-1")
    r = await hub_client.put(
        f"{PHONE}/agents/ann/state", headers=ann, json={"state": "NOT_READY", "reasonCodeId": 2}
    )
    assert (r.status_code, r.content) == (202, b"")
    await drain()
    snapshots = [e.data for e in phone_events if e.subject == "hub.phone.agent.state_changed"]
    assert [(s["loginId"], s["state"]) for s in snapshots] == [("ann", "NOT_READY"), ("ann", "NOT_READY")]
    last = snapshots[-1]
    assert last["extension"] == "1001" and last["teamName"] == "Billing desk"
    assert last["ReasonCode"]["label"] == "Lunch" and last["reasonCodeId"] == 2
    assert last["stateChangeTime"].endswith("Z")
    got = await hub_client.get(f"{PHONE}/agents/ann", headers=ann)
    assert got.status_code == 200 and got.json() == last


async def test_an_invalid_device_is_202_then_exactly_one_error_event(
    hub_client: Any, auth: Token, drain: Any, phone_events: list[Envelope]
) -> None:
    ann = await auth("ann")
    r = await hub_client.post(f"{PHONE}/agents/ann/sign-in", headers=ann, json={"extension": "1099"})
    assert (r.status_code, r.content) == (202, b"")
    await drain()
    assert [e.subject for e in phone_events] == ["hub.phone.agent.error"]
    error = phone_events[0].data
    assert (error["agentId"], error["errorType"], error["errorData"]) == ("ann", "Invalid Device", "260")
    assert (await hub_client.get(f"{PHONE}/agents/ann", headers=ann)).json()["state"] == "LOGOUT"


async def test_an_illegal_transition_is_202_then_an_error_event_and_no_change(
    hub_client: Any, auth: Token, drain: Any, phone_events: list[Envelope]
) -> None:
    ann = await auth("ann")
    r = await hub_client.put(f"{PHONE}/agents/ann/state", headers=ann, json={"state": "READY"})  # signed out
    assert r.status_code == 202
    r = await hub_client.put(f"{PHONE}/agents/ann/state", headers=ann, json={"state": "TALKING"})
    assert r.status_code == 202  # a real state, but not one an agent may ask for (§1.3)
    await drain()
    assert [(e.subject, e.data["errorType"]) for e in phone_events] == [
        ("hub.phone.agent.error", "Invalid State"),
        ("hub.phone.agent.error", "Invalid State"),
    ]


# --------------------------------------------------------------------------------------------------
# 400 / 403 / 404
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/agents/ann/state", {"state": "SLEEPING"}, "state"),
        ("/agents/ann/state", {"state": "NOT_READY"}, "reasonCodeId"),
        ("/agents/ann/state", {"state": "NOT_READY", "reasonCodeId": "two"}, "reasonCodeId"),
        ("/agents/ann/state", {"state": "READY", "mood": "sunny"}, "mood"),
        ("/agents/ann/state", {"state": "LOGIN"}, "extension"),
        ("/agents/ann/sign-in", {}, "extension"),
        ("/agents/ann/sign-in", {"extension": "12-34"}, "extension"),
    ],
)
async def test_malformed_agent_requests_are_400_naming_the_field(
    hub_client: Any, auth: Token, drain: Any, phone_events: list[Envelope], path: str, body: Any, field: str
) -> None:
    ann = await auth("ann")
    await hub_client.post(f"{PHONE}/agents/ann/sign-in", headers=ann, json={"extension": "1001"})
    await drain()
    phone_events.clear()
    method = hub_client.post if path.endswith("sign-in") else hub_client.put
    r = await method(f"{PHONE}{path}", headers=ann, json=body)
    assert r.status_code == 400, r.text
    assert field in r.text
    await drain()
    assert phone_events == []


async def test_bad_json_and_bad_dialog_requests_are_400(hub_client: Any, auth: Token) -> None:
    ann, lee = await auth("ann"), await auth("lee")
    r = await hub_client.put(
        f"{PHONE}/agents/ann/state", headers={**ann, "content-type": "application/json"}, content=b"{nope"
    )
    assert r.status_code == 400
    r = await hub_client.post(
        f"{PHONE}/dialogs", headers=lee, json={"ani": "not a number", "queue": "Billing"}
    )
    assert r.status_code == 400 and "ani" in r.text
    r = await hub_client.post(f"{PHONE}/dialogs", headers=lee, json={"ani": CALLER, "queue": "Nowhere"})
    assert r.status_code == 400 and r.json()["extra"][0]["key"] == "queue"
    await sign_in_ready(hub_client, ann, "ann", "1001")
    r = await hub_client.post(f"{PHONE}/dialogs", headers=lee, json={"ani": CALLER, "queue": "Billing"})
    dialog = r.headers["Location"]
    r = await hub_client.put(dialog, headers=ann, json={"action": "WIGGLE"})
    assert r.status_code == 400 and "action" in r.text
    r = await hub_client.put(dialog, headers=ann, json={"action": "CONSULT_CALL"})
    assert r.status_code == 400 and r.json()["extra"][0]["key"] == "toAddress"


async def test_who_may_act_is_enforced_with_403_and_unknowns_are_404(hub_client: Any, auth: Token) -> None:
    ann, lee, lou, root = await auth("ann"), await auth("lee"), await auth("lou"), await auth("root")
    await auth("bob")
    assert (await hub_client.get(f"{PHONE}/agents/bob", headers=ann)).status_code == 403
    r = await hub_client.put(f"{PHONE}/agents/bob/state", headers=ann, json={"state": "READY"})
    assert r.status_code == 403
    assert (await hub_client.get(f"{PHONE}/agents/ann", headers=lou)).status_code == 403  # not lou's team
    assert (await hub_client.get(f"{PHONE}/agents/ann", headers=lee)).status_code == 200
    assert (await hub_client.get(f"{PHONE}/agents/ghost", headers=root)).status_code == 404
    r = await hub_client.post(f"{PHONE}/dialogs", headers=ann, json={"ani": CALLER, "queue": "Billing"})
    assert r.status_code == 403  # only the phone system (leads, admins) announces calls
    assert (await hub_client.get(f"{PHONE}/dialogs/nope", headers=root)).status_code == 404
    r = await hub_client.put(f"{PHONE}/dialogs/nope", headers=ann, json={"action": "ANSWER"})
    assert r.status_code == 404
    listed = (await hub_client.get(f"{PHONE}/agents", headers=lee)).json()
    assert [a["loginId"] for a in listed] == ["ann", "bob", "lee"]
    assert [a["loginId"] for a in (await hub_client.get(f"{PHONE}/agents", headers=ann)).json()] == ["ann"]


# --------------------------------------------------------------------------------------------------
# Calls and queues
# --------------------------------------------------------------------------------------------------


async def test_an_inbound_call_is_routed_answered_and_counted(
    hub_client: Any, auth: Token, drain: Any, phone_events: list[Envelope]
) -> None:
    ann, lee = await auth("ann"), await auth("lee")
    await sign_in_ready(hub_client, ann, "ann", "1001")
    r = await hub_client.post(
        f"{PHONE}/dialogs", headers=lee, json={"ani": CALLER, "queue": "Billing", "dnis": "8005550100"}
    )
    assert (r.status_code, r.content) == (202, b"")
    location = r.headers["Location"]
    assert location.startswith(f"{PHONE}/dialogs/")
    dialog = (await hub_client.get(location, headers=ann)).json()
    assert dialog["state"] == "ALERTING" and dialog["fromAddress"] == CALLER
    assert dialog["mediaProperties"]["queueName"] == "Billing"
    queues = {q["name"]: q for q in (await hub_client.get(f"{PHONE}/queues", headers=ann)).json()}
    assert (queues["Billing"]["callsRinging"], queues["Billing"]["agentsReserved"]) == (1, 1)

    r = await hub_client.put(location, headers=ann, json={"action": "ANSWER"})
    assert (r.status_code, r.content) == (202, b"")
    await drain()
    mine = (await hub_client.get(f"{PHONE}/agents/ann/dialogs", headers=ann)).json()
    assert [d["state"] for d in mine] == ["ACTIVE"]
    subjects = [e.subject for e in phone_events if e.subject.startswith("hub.phone.dialog")]
    assert subjects == ["hub.phone.dialog.created", "hub.phone.dialog.updated", "hub.phone.dialog.updated"]
    assert phone_events[-1].data["state"] == "TALKING"  # the agent snapshot after the answer


async def test_reference_lists_for_the_desktop(hub_client: Any, auth: Token) -> None:
    ann = await auth("ann")
    codes = (await hub_client.get(f"{PHONE}/reason-codes", headers=ann)).json()
    assert [c["label"] for c in codes["NOT_READY"]][:2] == ["Break", "Lunch"]
    assert (await hub_client.get(f"{PHONE}/wrap-up-reasons", headers=ann)).json()[0] == "Billing question"
    directory = (await hub_client.get(f"{PHONE}/directory", headers=ann)).json()
    assert all(e["number"][3:7] == "5550" for e in directory)


async def test_checks_report_timers_that_did_not_run(hub_client: Any, auth: Token, hub: Any) -> None:
    ann, lee, root = await auth("ann"), await auth("lee"), await auth("root")
    await sign_in_ready(hub_client, ann, "ann", "1001")
    await hub_client.post(f"{PHONE}/dialogs", headers=lee, json={"ani": CALLER, "queue": "Billing"})
    info = {p["id"]: p for p in (await hub_client.get("/api/plugins", headers=root)).json()}["telephony"]
    assert info["checks"] == ["agents_not_stuck_reserved", "wrap_up_timers_applied"]
    assert "hub.phone.agent.state_changed" in info["event_subjects"]
    ok = (await hub_client.get("/api/checks?plugin=telephony", headers=root)).json()
    assert ok["passed"] is True
    hub.clock.advance(dt.timedelta(seconds=60))  # nobody ticks (tick_seconds = 0): ann rings on
    stuck = (await hub_client.get("/api/checks?plugin=telephony", headers=root)).json()
    assert stuck["passed"] is False
    assert [c["details"].get("agents") for c in stuck["checks"] if c["status"] == "fail"] == [["ann"]]
    assert await service(hub).tick() == 1  # RONA
    assert (await hub_client.get("/api/checks?plugin=telephony", headers=root)).json()["passed"] is True


@pytest.mark.parametrize("hub_config", [{"plugins": {"telephony": {"tick_seconds": 0.02}}}])
async def test_the_background_timer_applies_rona_without_a_request(
    hub_client: Any, auth: Token, hub: Any
) -> None:
    csr, lead = await auth("csr"), await auth("lead")  # the demo team of the default config
    await sign_in_ready(hub_client, csr, "csr", "1001")
    await hub_client.post(f"{PHONE}/dialogs", headers=lead, json={"ani": CALLER, "queue": "Billing"})
    assert (await hub_client.get(f"{PHONE}/agents/csr", headers=csr)).json()["state"] == "RESERVED"
    hub.clock.advance(dt.timedelta(seconds=15))  # the default RONA timer

    async def rona_applied() -> bool:
        return bool((await hub_client.get(f"{PHONE}/agents/csr", headers=csr)).json()["state"] == "NOT_READY")

    await until(rona_applied)


# --------------------------------------------------------------------------------------------------
# Server-sent events
# --------------------------------------------------------------------------------------------------


async def streams_open(hub: Any, count: int) -> bool:
    return bool(service(hub).open_streams == count)


def parse_sse(raw: str) -> list[dict[str, str]]:
    messages = []
    for block in raw.replace("\r\n", "\n").split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            name, _, value = line.partition(": ")
            if name and not name.startswith(":"):
                fields[name] = value
        if "data" in fields:
            messages.append(fields)
    return messages


async def read_stream(client: Any, headers: dict[str, str], limit: int) -> tuple[int, str, str]:
    async with client.stream("GET", f"{PHONE}/events", headers=headers, params={"limit": limit}) as r:
        body = "".join([chunk async for chunk in r.aiter_text()])
        return r.status_code, r.headers["content-type"], body


async def test_the_event_stream_carries_the_callers_events_and_not_others(
    hub_client: Any, auth: Token, hub: Any, drain: Any
) -> None:
    ann, bob = await auth("ann"), await auth("bob")
    reader = asyncio.create_task(read_stream(hub_client, ann, limit=2))
    await until(lambda: streams_open(hub, 1))
    await sign_in_ready(hub_client, bob, "bob", "1002")  # bob's events: not for ann
    await hub_client.post(f"{PHONE}/agents/ann/sign-in", headers=ann, json={"extension": "1002"})  # busy
    await hub_client.post(f"{PHONE}/agents/ann/sign-in", headers=ann, json={"extension": "1001"})
    await drain()
    async with asyncio.timeout(5):
        status, content_type, body = await reader
    assert status == 200 and content_type.startswith("text/event-stream")
    messages = parse_sse(body)
    assert [m["event"] for m in messages] == ["hub.phone.agent.error", "hub.phone.agent.state_changed"]
    error, snapshot = (json.loads(m["data"])["data"] for m in messages)
    assert (error["agentId"], error["errorType"]) == ("ann", "Device Busy")
    assert (snapshot["loginId"], snapshot["state"]) == ("ann", "NOT_READY")
    await until(lambda: streams_open(hub, 0))  # the subscription went with the stream


async def test_a_lead_stream_includes_the_team(hub_client: Any, auth: Token, hub: Any, drain: Any) -> None:
    lee, ann, cy = await auth("lee"), await auth("ann"), await auth("cy")
    reader = asyncio.create_task(read_stream(hub_client, lee, limit=1))
    await until(lambda: streams_open(hub, 1))
    await hub_client.post(f"{PHONE}/agents/cy/sign-in", headers=cy, json={"extension": "1003"})  # other team
    await hub_client.post(f"{PHONE}/agents/ann/sign-in", headers=ann, json={"extension": "1001"})
    await drain()
    async with asyncio.timeout(5):
        _status, _type, body = await reader
    [message] = parse_sse(body)
    assert json.loads(message["data"])["data"]["loginId"] == "ann"
