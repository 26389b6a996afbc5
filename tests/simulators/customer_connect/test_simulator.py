"""The Customer Connect (Oracle B2C Service) simulator, driven through the hub's client for it.

Most tests run the simulator in process behind ``httpx.ASGITransport``; one serves it for real with
granian in a subprocess on a free 127.0.0.1 port, through the ``customer-connect`` command. The client's
own retry and timeout rules, without a simulator, are tested with the connector
(tests/connectors/test_customer_connect.py).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from connectors.customer_connect import (
    AuthenticationFailed,
    CustomerConnectClient,
    IncidentNotFound,
    InvalidRequest,
)
from simulators.customer_connect import (
    IncidentStore,
    SimulatorConfig,
    create_app,
    generate_contact_us,
    ingest_contact_us,
)
from simulators.customer_connect.cli import customer_connect_command
from simulators.customer_connect.model import CATEGORIES, SITE_TZ

API = "/services/rest/connect/v1.4"
USER, PASSWORD = "api-user", "s3cret-pw"
REF = re.compile(r"^\d{6}-\d{6}$")
ROOT = Path(__file__).resolve().parents[3]


class Clock:
    def __init__(self, start: dt.datetime) -> None:
        self.value = start

    def __call__(self) -> dt.datetime:
        return self.value


def local(y: int, m: int, d: int, hh: int, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=SITE_TZ)


@pytest.fixture
def clock() -> Clock:
    return Clock(local(2024, 3, 5, 10).astimezone(dt.UTC))


@pytest.fixture
def make_sim(tmp_path: Path, clock: Clock) -> Callable[..., Any]:
    def make(generate: int = 0, seed: int = 0, db: str = "cc.sqlite") -> Any:
        config = SimulatorConfig(tmp_path / db, USER, PASSWORD, generate=generate, seed=seed, clock=clock)
        return create_app(config)

    return make


@pytest.fixture
async def sim(tmp_path: Path, clock: Clock) -> AsyncIterator[Any]:
    """The app over a store opened here (an ASGI lifespan cannot span pytest-asyncio's fixture tasks)."""
    store = IncidentStore(tmp_path / "sim.sqlite", clock=clock)
    await store.start()
    await ingest_contact_us(store, generate_contact_us(8, 42, end=clock()))
    yield create_app(SimulatorConfig(store.database, USER, PASSWORD, clock=clock), store=store)
    await store.close()


@pytest.fixture
async def cc(sim: Any) -> AsyncIterator[CustomerConnectClient]:
    transport = httpx.ASGITransport(app=sim)
    async with CustomerConnectClient("http://sim", USER, PASSWORD, retries=0, transport=transport) as client:
        yield client


@pytest.fixture
async def raw(sim: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sim)
    # A raw client names its integration as Connect REST v1.4 requires (the connector does the same).
    headers = {"OSvC-CREST-Application-Context": "tests"}
    async with httpx.AsyncClient(transport=transport, base_url="http://sim" + API, headers=headers) as client:
        yield client


# -- generator --
def test_generator_is_deterministic_per_seed() -> None:
    end = dt.datetime(2024, 3, 5, 20, tzinfo=dt.UTC)
    first, again = generate_contact_us(30, 7, end=end), generate_contact_us(30, 7, end=end)
    assert first == again
    assert generate_contact_us(30, 8, end=end) != first
    # Who writes about what does not depend on the end time; receive times (and dates in the text) do.
    later = generate_contact_us(30, 7, end=end + dt.timedelta(days=3))
    facts = [(m.from_address, m.subject, m.topic, m.account_number, m.phone) for m in first]
    assert [(m.from_address, m.subject, m.topic, m.account_number, m.phone) for m in later] == facts
    assert [m.received_at for m in later] != [m.received_at for m in first]


def test_generated_messages_look_like_contact_us_mail() -> None:
    end = dt.datetime(2024, 3, 5, 20, tzinfo=dt.UTC)
    mails = generate_contact_us(200, 1, end=end)
    assert {m.topic for m in mails} == set(CATEGORIES)
    assert mails == sorted(mails, key=lambda m: m.received_at)
    assert all(end - dt.timedelta(days=7) < m.received_at <= end for m in mails)
    with_account = [m for m in mails if m.account_number]
    assert 0 < len(with_account) < len(mails)
    for m in with_account:
        account = m.account_number or ""
        assert re.fullmatch(r"\d{10}", account)
        assert account in re.sub(r"[ \-#]", "", m.body)
    for m in mails:
        assert m.from_address.split("@")[1].startswith("example.")
        assert m.phone is None or re.fullmatch(r"\(\d{3}\) 555-01\d\d", m.phone)
        assert m.service_address in m.body and m.from_name in m.body
    assert len({m.message_id for m in mails}) == len(mails)


# -- intake, listing, reading --
async def test_generated_incidents_are_listed_and_readable_by_reference(cc: CustomerConnectClient) -> None:
    unresolved = await cc.list_incidents(status_type="unresolved")
    assert len(unresolved) == 8
    assert all(REF.match(i.reference_number) and i.status == "Unresolved" for i in unresolved)
    # Reference dates are the receive dates in Los Angeles, and the sequence counts per day from 1.
    per_day: dict[str, list[int]] = {}
    for i in sorted(unresolved, key=lambda i: i.id):
        assert i.reference_number[:6] == i.created_time.astimezone(SITE_TZ).strftime("%y%m%d")
        per_day.setdefault(i.reference_number[:6], []).append(int(i.reference_number[7:]))
    assert all(seqs == list(range(1, len(seqs) + 1)) for seqs in per_day.values())

    target = unresolved[3]
    by_ref = await cc.get_incident(target.reference_number)
    assert by_ref.id == target.id and by_ref.channel and by_ref.channel.lookup_name == "Email"
    assert by_ref.threads is not None and len(by_ref.threads) == 1
    assert by_ref.threads[0].entry_type.lookup_name == "Customer Entry"
    assert by_ref.primary_contact and by_ref.primary_contact.lookup_name
    assert by_ref.primary_contact.lookup_name in by_ref.threads[0].text
    assert (await cc.get_incident(target.id, threads=False)).threads is None


async def test_generation_is_idempotent_across_restarts(make_sim: Callable[..., Any]) -> None:
    for _ in range(2):
        app = make_sim(generate=5, seed=9, db="restart.sqlite")
        async with app.lifespan():
            assert await app.state.store.count_incidents() == 5


async def test_reference_numbers_follow_the_site_day(cc: CustomerConnectClient, clock: Clock) -> None:
    # 23:50 in Los Angeles is already the next day in UTC; the reference must use the local date.
    clock.value = local(2024, 3, 9, 23, 50).astimezone(dt.UTC)
    a = await cc.create_incident("Phone call", "Customer called about a bill", channel="Phone")
    b = await cc.create_incident("Phone call", "Another call")
    clock.value = local(2024, 3, 10, 0, 5).astimezone(dt.UTC)
    c = await cc.create_incident("Phone call", "After midnight")
    assert (a.reference_number, b.reference_number, c.reference_number) == (
        "240309-000001",
        "240309-000002",
        "240310-000001",
    )
    assert a.created_time.astimezone(dt.UTC).date() == dt.date(2024, 3, 10)


# -- replies and status --
async def test_staff_reply_note_and_status_flow(cc: CustomerConnectClient, clock: Clock) -> None:
    first, second, *_ = await cc.list_incidents(status_type="unresolved")
    clock.value += dt.timedelta(hours=1)
    since = clock.value - dt.timedelta(minutes=1)

    reply = await cc.add_thread(first.id, "staff_response", "We checked the meter; the read was correct.")
    assert reply.entry_type.lookup_name == "Staff Response" and reply.account
    assert reply.account.lookup_name == USER
    after = await cc.get_incident(first.reference_number)
    assert after.status == "Waiting" and after.status_type == "waiting"
    assert [t.entry_type.lookup_name for t in after.threads or []] == ["Customer Entry", "Staff Response"]

    note = await cc.add_thread(second.id, "private_note", "Called back, left a voicemail.")
    assert note.is_private
    assert (await cc.get_incident(second.id)).status == "Unresolved"  # a note changes nothing

    solved = await cc.set_status(second.id, "Solved")
    assert solved.status_type == "solved" and solved.closed_time is not None

    assert [i.id for i in await cc.list_incidents(status_type="waiting")] == [first.id]
    assert [i.id for i in await cc.list_incidents(status_type="solved")] == [second.id]
    assert len(await cc.list_incidents(status_type="unresolved")) == 6
    assert {i.id for i in await cc.list_incidents(updated_since=since)} == {first.id, second.id}
    assert len(await cc.list_incidents(limit=3)) == 3

    reopened = await cc.set_status(second.id, "Unresolved")
    assert reopened.closed_time is None


async def test_customer_entry_on_waiting_incident_marks_it_updated(
    cc: CustomerConnectClient, raw: httpx.AsyncClient
) -> None:
    incident = (await cc.list_incidents(limit=1))[0]
    await cc.add_thread(incident.id, "staff_response", "Can you send a photo of the meter?")
    r = await raw.post(
        f"/incidents/{incident.id}/threads",
        json={"entryType": {"id": 3}, "text": "Photo attached."},
        auth=(USER, PASSWORD),
    )
    assert r.status_code == 201 and r.json()["contact"]["id"] == incident.primary_contact.id  # type: ignore[union-attr]
    after = await cc.get_incident(incident.id, threads=False)
    assert (after.status, after.status_type) == ("Updated", "unresolved")


async def test_patch_with_method_override_and_delete(raw: httpx.AsyncClient) -> None:
    auth = (USER, PASSWORD)
    r = await raw.post(
        "/incidents/1",
        json={"statusWithType": {"status": {"lookupName": "Solved"}}},
        headers={"X-HTTP-Method-Override": "PATCH"},
        auth=auth,
    )
    assert r.status_code == 200 and r.content == b""
    assert (await raw.get("/incidents/1", auth=auth)).json()["statusWithType"]["statusType"][
        "lookupName"
    ] == ("Solved")
    assert (await raw.delete("/incidents/1", auth=auth)).status_code == 200
    assert (await raw.get("/incidents/1", auth=auth)).status_code == 404


# -- auth and bad input --
async def test_auth_is_required(sim: Any, raw: httpx.AsyncClient) -> None:
    r = await raw.get("/incidents")
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Basic")
    assert r.json()["status"] == 401
    assert (await raw.get("/incidents/1", auth=(USER, "wrong"))).status_code == 401
    assert (await raw.get("/incidents", headers={"Authorization": "Basic !!!"})).status_code == 401
    transport = httpx.ASGITransport(app=sim)
    async with CustomerConnectClient("http://sim", USER, "nope", transport=transport, backoff=0) as bad:
        with pytest.raises(AuthenticationFailed) as info:
            await bad.list_incidents()
        assert info.value.status == 401


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/incidents", {}),
        ("POST", "/incidents", {"subject": "x", "bogusField": 1}),
        ("POST", "/incidents", {"subject": "  "}),
        ("POST", "/incidents", {"subject": "x", "primaryContact": {"id": 9999}}),
        ("POST", "/incidents", {"subject": "x", "statusWithType": {"status": {"id": 77}}}),
        ("PATCH", "/incidents/1", {"statusWithType": {"status": {"lookupName": "Frozen"}}}),
        ("POST", "/incidents/1/threads", {"entryType": {"lookupName": "Gossip"}, "text": "x"}),
        ("POST", "/incidents/1/threads", {"entryType": {"id": 2}, "text": " "}),
        ("GET", "/incidents?q=statusWithType.statusType.id%20%3D", None),
        ("GET", "/incidents?q=nosuchfield%20%3D%201", None),
        ("GET", "/incidents?q=updatedTime%20%3E%20'yesterday'", None),
        ("GET", "/incidents?limit=0", None),
        ("GET", "/incidents?orderBy=subject", None),
        ("GET", "/incidents/abc", None),
    ],
)
async def test_bad_input_is_rejected(raw: httpx.AsyncClient, method: str, path: str, body: Any) -> None:
    if body is None:
        r = await raw.request(method, path, auth=(USER, PASSWORD))
    else:
        r = await raw.request(method, path, json=body, auth=(USER, PASSWORD))
    # Connect answers malformed or invalid input with 400; a non-numeric id matches no resource at all.
    assert r.status_code == (404 if path.endswith("/abc") else 400), r.text
    assert r.headers["content-type"].startswith("application/problem+json")


async def test_malformed_json_is_400(raw: httpx.AsyncClient) -> None:
    r = await raw.post(
        "/incidents",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
        auth=(USER, PASSWORD),
    )
    assert r.status_code == 400 and r.json()["o:errorCode"]


async def test_client_error_mapping(cc: CustomerConnectClient) -> None:
    with pytest.raises(IncidentNotFound):
        await cc.get_incident(9999)
    with pytest.raises(IncidentNotFound):
        await cc.get_incident("990101-000001")
    with pytest.raises(ValueError):
        await cc.get_incident("not-a-ref")
    with pytest.raises(InvalidRequest):
        await cc.set_status(1, "Frozen")
    with pytest.raises(ValueError):
        await cc.add_thread(1, "gossip", "x")  # type: ignore[arg-type]


async def test_ingest_skips_messages_already_stored(tmp_path: Path, clock: Clock) -> None:
    store = IncidentStore(tmp_path / "ingest.sqlite", clock=clock)
    await store.start()
    try:
        mails = generate_contact_us(4, 3, end=clock())
        assert len(await ingest_contact_us(store, mails)) == 4
        assert await ingest_contact_us(store, mails) == []
        # The same sender writing twice is one contact.
        assert len({(await store.get_incident(i)).primary_contact for i in range(1, 5)}) <= 4
    finally:
        await store.close()


# -- command line and a real server --
def test_cli_rejects_bad_options(tmp_path: Path) -> None:
    runner = CliRunner()
    for args in (
        ["--port", "0"],
        ["--generate", "-1"],
        ["--seed", "x"],
        ["--database", str(tmp_path / "missing" / "db.sqlite")],
        ["--user", "a:b"],
        ["--password", ""],
    ):
        result = runner.invoke(customer_connect_command, args)
        assert result.exit_code == 2, (args, result.output)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_served_by_granian(tmp_path: Path) -> None:
    port = _free_port()
    log = tmp_path / "sim.log"
    cmd = [sys.executable, "-m", "simulators.customer_connect", "--port", str(port)]
    cmd += ["--database", str(tmp_path / "served.sqlite"), "--generate", "3", "--seed", "5"]
    cmd += ["--user", USER, "--password", PASSWORD]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with log.open("wb") as out:
        proc = await asyncio.to_thread(
            subprocess.Popen,
            cmd,
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 15
        async with httpx.AsyncClient(headers={"OSvC-CREST-Application-Context": "tests"}) as probe:
            while True:
                try:
                    if (await probe.get(base + API + "/incidents", auth=(USER, PASSWORD))).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("simulator did not start:\n" + log.read_text(errors="replace"))
                await asyncio.sleep(0.1)
        async with CustomerConnectClient(base, USER, PASSWORD, timeout=5) as cc:
            incidents = await cc.list_incidents(status_type="unresolved")
            assert len(incidents) == 3
            ref = incidents[0].reference_number
            await cc.add_thread(incidents[0].id, "staff_response", "Thanks, we are on it.")
            assert (await cc.get_incident(ref)).status == "Waiting"
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
