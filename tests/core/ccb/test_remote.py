"""The remote CCB and offline mode, end to end: the HTTP connector (retries, circuit breaker) against the
simulated CCB server, and the offline forms, stale reads and replay in front of it.

The simulator runs in-process behind httpx's ASGI transport (real HTTP semantics, no socket); the
simulator served for real is tested in tests/simulators/ccb_server/test_server.py.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from connectors.ccb_http import BreakerState, CircuitBreaker, HttpCcb
from core.ccb import port as p
from core.ccb.errors import CcbUnavailable, IllegalTransition, Invalid, NotFound
from core.ccb.local import LocalCcb
from core.ccb.offline import (
    OFFLINE_EVENT_TYPES,
    OfflineCcb,
    RecordedOffline,
    StaleRead,
    backlog_status,
    offline_check,
)
from core.ccb.offline_models import OfflineForm
from core.ccb.rest import READ_ROUTES
from core.ccb.seed import SeedAccount, seed_customers
from core.clock import ManualClock
from core.contract import CheckContext
from core.db import Database
from core.models import OutboxEvent
from core.outbox import EventCatalogue, EventWriter
from simulators.ccb_server.app import DEFAULT_SECRET, create_app


class FakeTime:
    """A monotonic clock the breaker reads, moved by the test instead of sleeping through cool-downs."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@dataclass
class Sim:
    url: str
    local: LocalCcb
    control: httpx.AsyncClient
    http: HttpCcb
    time: FakeTime
    accounts: list[SeedAccount]
    solar: SeedAccount  # a net-metered customer (a net meter and an E-NEM SA)

    async def faults(self, **values: Any) -> None:
        r = await self.control.post("/_faults", json=values)
        assert r.status_code == 200, r.text


def _copy(template: Path, target: Path) -> str:
    shutil.copyfile(template, target)
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture
async def sim(hub_migrated_template: Path, tmp_path: Path) -> AsyncIterator[Sim]:
    url = _copy(hub_migrated_template, tmp_path / "ccb-sim.db")
    db = Database(url)
    from core.ccb.seed import identity_key

    accounts = await seed_customers(db, 3, 11, identity_key(DEFAULT_SECRET), net_metered_share=0.0)
    (solar,) = await seed_customers(db, 1, 12, identity_key(DEFAULT_SECRET), net_metered_share=1.0)
    await db.dispose()
    app = create_app(url)
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    fake = FakeTime()
    http = HttpCcb(
        "http://ccb.test",
        timeout=5.0,
        retries=3,
        backoff_s=0.001,
        breaker=CircuitBreaker(failure_threshold=3, reset_timeout_s=30.0, now=fake),
        transport=transport,
    )
    control = httpx.AsyncClient(transport=transport, base_url="http://ccb.test")
    try:
        yield Sim(url, app.state["ccb"], control, http, fake, accounts, solar)
    finally:
        await http.aclose()
        await control.aclose()
        await app.state["ccb"]._db.dispose()


# -- the connector --------------------------------------------------------------------------------------


async def test_reads_through_http_equal_the_local_answers(sim: Sim) -> None:
    account = sim.accounts[0]
    summary = await sim.http.get_account_summary(account.account_id)
    assert summary == await sim.local.get_account_summary(account.account_id)
    assert await sim.http.get_balance(account.account_id) == await sim.local.get_balance(account.account_id)
    assert await sim.http.list_bills(account.account_id, 2) == await sim.local.list_bills(
        account.account_id, 2
    )
    assert await sim.http.get_premise(account.premise_id) == await sim.local.get_premise(account.premise_id)
    assert await sim.http.find_accounts_by_phone(account.phone) == [account.account_id]
    assert await sim.http.verify_identity(account.account_id, "access_code", account.access_code)


async def test_net_metering_and_register_reads_through_http_equal_the_local_answers(sim: Sim) -> None:
    solar = sim.solar.account_id
    remote = await sim.http.get_net_metering(solar, 3)
    assert remote is not None and remote == await sim.local.get_net_metering(solar, 3)
    assert len(remote.periods) == 3 and remote.sa_type == "E-NEM" and remote.meter_id is not None
    received = await sim.http.list_reads(remote.meter_id, "received")
    assert received == await sim.local.list_reads(remote.meter_id, "received")
    assert {r.register for r in received} == {"received"} and len(received) == 7
    # An account without a net-metered SA answers null, an unknown one 404, bad input 422 naming it.
    assert await sim.http.get_net_metering(sim.accounts[0].account_id) is None
    with pytest.raises(NotFound):
        await sim.http.get_net_metering("0000000000")
    with pytest.raises(Invalid) as bad:
        await sim.http.list_reads(remote.meter_id, "sideways")  # type: ignore[arg-type]
    assert bad.value.field == "register"
    raw = await sim.control.get(f"/ccb/accounts/{solar}/net-metering", params={"limit": "x"})
    assert raw.status_code == 422 and raw.json()["field"] == "limit"


async def test_domain_errors_come_back_typed(sim: Sim) -> None:
    with pytest.raises(NotFound) as nf:
        await sim.http.get_bill("000000000000")
    assert nf.value.kind == "bill"
    with pytest.raises(Invalid) as inv:
        await sim.http.list_todos(status="X")
    assert inv.value.field == "status"
    summary = await sim.http.get_account_summary(sim.accounts[0].account_id)
    sa = summary.service_agreements[0]
    with pytest.raises(IllegalTransition) as ill:
        await sim.http.cancel_stop(p.CancelStop(sa_id=sa.sa_id), idempotency_key="cancel-1")
    assert ill.value.current_status == sa.status
    assert sim.http.breaker.state is BreakerState.CLOSED  # domain answers are a healthy server's answers


async def test_a_keyed_write_whose_answers_are_lost_is_retried_and_applied_once(sim: Sim) -> None:
    account = sim.accounts[1].account_id
    before = (await sim.local.get_balance(account)).balance_cents
    await sim.faults(drop_responses=2)  # the first two attempts are applied but their answers lost
    payment = p.PostPayment(
        account_id=account, tenders=(p.TenderInput(tender_type="cash", amount_cents=1234),)
    )
    result = await sim.http.post_payment(payment, idempotency_key="pay-retry-1")
    assert result.replayed is True  # the third attempt got CCB's stored first answer
    assert (await sim.local.get_balance(account)).balance_cents == before - 1234


async def test_a_write_without_a_key_is_never_retried(sim: Sim) -> None:
    premise = sim.accounts[0].premise_id
    await sim.faults(drop_responses=1)
    with pytest.raises(CcbUnavailable):
        await sim.http.add_premise_note(p.AddPremiseNote(premise_id=premise, text="gate code changed"))
    notes = await sim.local.list_premise_notes(premise)
    assert [n.text for n in notes].count("gate code changed") == 1
    assert (await sim.control.get("/_faults")).json()["drop_responses"] == 0


async def test_breaker_opens_when_ccb_goes_down_and_half_opens_after_the_cool_down(sim: Sim) -> None:
    account = sim.accounts[0].account_id
    await sim.faults(down=True)
    with pytest.raises(CcbUnavailable):
        await sim.http.get_balance(account)  # the third failed attempt reaches the threshold of 3
    assert sim.http.breaker.state is BreakerState.OPEN
    with pytest.raises(CcbUnavailable) as fast:
        await sim.http.get_balance(account)
    assert fast.value.breaker_open
    sim.time.t += 31
    assert sim.http.breaker.state is BreakerState.HALF_OPEN
    with pytest.raises(CcbUnavailable):
        await sim.http.get_balance(account)  # the trial fails while CCB is still down: open again
    assert sim.http.breaker.state is BreakerState.OPEN
    await sim.faults(down=False)
    sim.time.t += 31
    assert (await sim.http.get_balance(account)).account_id == account
    assert sim.http.breaker.state is BreakerState.CLOSED


def test_every_port_method_is_served_remotely_and_offline() -> None:
    import inspect

    wanted = {n for n, v in vars(p.CcbPort).items() if inspect.iscoroutinefunction(v)}
    assert wanted <= set(dir(HttpCcb)) and wanted <= set(dir(OfflineCcb))
    assert set(p.WRITE_OPERATIONS) | set(READ_ROUTES) | {"verify_identity"} == wanted


# -- offline mode ---------------------------------------------------------------------------------------


@pytest.fixture
async def offline(sim: Sim, hub_database_url: str) -> AsyncIterator[tuple[OfflineCcb, Database, ManualClock]]:
    db = Database(hub_database_url)
    clock = ManualClock(dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.UTC))
    catalogue = EventCatalogue()
    for et in OFFLINE_EVENT_TYPES:
        catalogue.register(et.subject, et.payload, "core", et.description)
    events = EventWriter(catalogue, clock, "core", lambda: None)
    try:
        yield OfflineCcb(sim.http, db, clock, events, batch_size=2), db, clock
    finally:
        await db.dispose()


async def test_offline_forms_stale_reads_and_exactly_once_replay(
    sim: Sim, offline: tuple[OfflineCcb, Database, ManualClock]
) -> None:
    ccb, db, clock = offline
    account = sim.accounts[2].account_id
    summary = await ccb.get_account_summary(account)
    balance = await ccb.get_balance(account)
    sa = next(s for s in summary.service_agreements if s.status == "20")

    await sim.faults(down=True)  # CCB goes down while the CSR works the account
    clock.advance(dt.timedelta(minutes=5))
    with pytest.raises(RecordedOffline) as paid:
        await ccb.post_payment(
            p.PostPayment(
                account_id=account, tenders=(p.TenderInput(tender_type="cash", amount_cents=5000),)
            ),
            idempotency_key="counter-pay-77",
        )
    with pytest.raises(RecordedOffline) as stop:
        await ccb.stop_service(p.StopService(sa_id=sa.sa_id, stop_date=dt.date(2026, 3, 20)))
    with pytest.raises(RecordedOffline) as note:
        await ccb.add_premise_note(
            p.AddPremiseNote(premise_id=summary.premises[0].premise_id, text="dog in yard")
        )
    assert paid.value.form_id < stop.value.form_id < note.value.form_id
    assert ccb.offline
    with pytest.raises(StaleRead) as stale:
        await ccb.get_balance(account)
    assert stale.value.value == balance and stale.value.age_s == pytest.approx(300)
    with pytest.raises(CcbUnavailable) as never_read:
        await ccb.get_bill("000000000000")
    assert not isinstance(never_read.value, StaleRead)
    check = offline_check(ccb)
    outcome = await check.run(CheckContext(db=db, bus=None, clock=clock, settings=None))  # type: ignore[arg-type]
    assert not outcome.passed and outcome.details["pending"] == 3

    # Meanwhile someone stops the same SA directly in CCB: the offline stop will conflict.
    await sim.local.stop_service(p.StopService(sa_id=sa.sa_id, stop_date=dt.date(2026, 3, 15)))

    await sim.faults(down=False)
    sim.time.t += 60  # past the breaker's cool-down
    report = await ccb.replay()
    assert (report.replayed, report.conflicts, report.pending, report.stopped) == (2, 1, 0, None)
    assert not ccb.offline
    after = await sim.local.get_balance(account)
    assert after.balance_cents == balance.balance_cents - 5000

    # A crash between CCB's answer and marking the form: the same keys make a second replay harmless.
    async with db.session() as s:
        for form in (await s.scalars(select(OfflineForm))).all():
            if form.status == "replayed":
                form.status = "pending"
    again = await ccb.replay()
    assert again.replayed == 2
    assert (await sim.local.get_balance(account)).balance_cents == after.balance_cents
    notes = await sim.local.list_premise_notes(summary.premises[0].premise_id)
    assert [n.text for n in notes].count("dog in yard") == 1

    todos = await sim.local.list_todos(role="LEAD")
    assert len(todos) == 1 and todos[0].todo_type == "OFFLINE_CONFLICT"
    assert (
        f"Offline form {stop.value.form_id}" in todos[0].message and "IllegalTransition" in todos[0].message
    )
    async with db.session() as s:
        conflict = await s.get(OfflineForm, stop.value.form_id)
        assert conflict is not None and conflict.status == "conflict"
        assert conflict.todo_ref == f"ccb:{todos[0].todo_id}"
        subjects = (await s.scalars(select(OutboxEvent.subject).order_by(OutboxEvent.seq))).all()
    assert subjects[0] == "hub.offline.entered"
    assert subjects.count("hub.offline.form_recorded") == 3
    assert "hub.offline.conflict" in subjects and "hub.offline.left" in subjects
    status = await backlog_status(db)
    assert (status.pending, status.conflicts, status.replayed) == (0, 1, 2)


async def test_writes_queue_behind_a_backlog_and_replay_stops_at_an_outage(
    sim: Sim, offline: tuple[OfflineCcb, Database, ManualClock]
) -> None:
    ccb, _db, _clock = offline
    premise = sim.accounts[0].premise_id
    await sim.faults(down=True)
    for i in range(3):
        with pytest.raises(RecordedOffline):
            await ccb.add_premise_note(p.AddPremiseNote(premise_id=premise, text=f"note {i}"))
    sim.time.t += 60
    report = await ccb.replay()  # still down: nothing lost, nothing reordered
    assert report.replayed == 0 and report.pending == 3 and report.stopped
    await sim.faults(down=False)
    sim.time.t += 60
    # CCB is back but the journal is not empty: a new write joins the queue to keep the order.
    with pytest.raises(RecordedOffline):
        await ccb.add_premise_note(p.AddPremiseNote(premise_id=premise, text="note 3"))
    report = await ccb.replay()
    assert report.replayed == 4 and report.pending == 0
    texts = [n.text for n in await sim.local.list_premise_notes(premise)]
    # Notes list newest first: replayed in journal order, they read 3, 2, 1, 0.
    assert [t for t in texts if t.startswith("note ")] == ["note 3", "note 2", "note 1", "note 0"]
