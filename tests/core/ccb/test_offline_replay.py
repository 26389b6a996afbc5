"""Offline replay in runs (issue 16): exactly-once however a replay ends, order per account, conflicts.

The remote here is a ``LocalCcb`` on its own database (it applies runs of forms in one transaction,
``write_batch``); the hub's journal is another database, as in production. A fake remote without
``write_batch`` checks the side-by-side path: accounts concurrently, each account's forms in order.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import pytest
from sqlalchemy import func, insert, select, update

from core.ccb import models as m
from core.ccb import port as p
from core.ccb.batch import BatchWriter, KeyedWrite
from core.ccb.errors import CcbError, CcbUnavailable
from core.ccb.ids import IdGenerator
from core.ccb.local import LocalCcb
from core.ccb.offline import OFFLINE_EVENT_TYPES, RUN_FORMS, OfflineCcb, backlog_status
from core.ccb.offline_models import OfflineForm
from core.ccb.seed import SeedAccount, seed_customers
from core.clock import ManualClock
from core.db import Database
from core.models import OutboxEvent
from core.outbox import EventCatalogue, EventWriter

KEY = b"offline-replay-test-key-32-bytes"
NOW = dt.datetime(2026, 3, 2, 17, 0, tzinfo=dt.UTC)
MISSING_PREMISE = "0000000001"


@dataclass
class Env:
    ccb_db: Database
    hub_db: Database
    remote: LocalCcb
    offline: OfflineCcb
    accounts: list[SeedAccount]


def _copy(template: Path, target: Path) -> Database:
    shutil.copyfile(template, target)
    return Database(f"sqlite+aiosqlite:///{target}")


@pytest.fixture
async def env(hub_migrated_template: Path, tmp_path: Path) -> AsyncIterator[Env]:
    ccb_db = _copy(hub_migrated_template, tmp_path / "ccb.db")
    hub_db = _copy(hub_migrated_template, tmp_path / "hub.db")
    accounts = await seed_customers(ccb_db, 3, 5, KEY, net_metered_share=0.0)
    clock = ManualClock(NOW)
    catalogue = EventCatalogue()
    for et in OFFLINE_EVENT_TYPES:
        catalogue.register(et.subject, et.payload, "core", et.description)
    remote = LocalCcb(ccb_db, clock, KEY)
    offline = OfflineCcb(
        remote, hub_db, clock, EventWriter(catalogue, clock, "core", lambda: None), batch_size=500
    )
    try:
        yield Env(ccb_db, hub_db, remote, offline, accounts)
    finally:
        await ccb_db.dispose()
        await hub_db.dispose()


def _form(i: int, premise: str) -> dict[str, Any]:
    request = p.AddPremiseNote(premise_id=premise, text=f"note {i}")
    return {
        "operation": "add_premise_note",
        "request": msgspec.json.encode(request).decode(),
        "idempotency_key": f"form-{i}",
        "actor": "csr1",
        "status": "pending",
        "recorded_at": NOW,
    }


async def _journal(env: Env, n: int, *, refused_at: int | None = None) -> None:
    """``n`` premise notes spread over the seeded premises; form ``refused_at`` names a missing premise."""
    premises = [a.premise_id for a in env.accounts]
    rows = [_form(i, MISSING_PREMISE if i == refused_at else premises[i % len(premises)]) for i in range(n)]
    async with env.hub_db.session() as s:
        await s.execute(insert(OfflineForm), rows)


async def _notes(env: Env) -> tuple[int, int]:
    """Notes in CCB, and how many of them are duplicates of another (same text)."""
    async with env.ccb_db.session() as s:
        total = await s.scalar(select(func.count()).select_from(m.PremiseNote))
        distinct = await s.scalar(select(func.count(func.distinct(m.PremiseNote.text))))
    return int(total or 0), int(total or 0) - int(distinct or 0)


async def _lead_todos(env: Env) -> list[p.ToDoView]:
    return [t for t in await env.remote.list_todos(role="LEAD") if t.todo_type == "OFFLINE_CONFLICT"]


def test_the_local_ccb_applies_runs() -> None:
    assert isinstance(LocalCcb.__new__(LocalCcb), BatchWriter)


async def test_a_normal_replay_applies_every_form_once_and_a_refused_one_becomes_a_lead_todo(
    env: Env,
) -> None:
    n = 2 * RUN_FORMS + 50
    await _journal(env, n, refused_at=RUN_FORMS + 7)  # mid-run: the run is redone without it
    report = await env.offline.replay()
    assert (report.replayed, report.conflicts, report.pending, report.stopped) == (n - 1, 1, 0, None)
    assert await _notes(env) == (n - 1, 0)
    (todo,) = await _lead_todos(env)
    assert "was refused by CCB on replay: NotFound" in todo.message
    async with env.hub_db.session() as s:
        key = f"form-{RUN_FORMS + 7}"
        refused = await s.scalar(select(OfflineForm).where(OfflineForm.idempotency_key == key))
        assert refused is not None and refused.status == "conflict"
        assert refused.todo_ref == f"ccb:{todo.todo_id}" and "premise" in (refused.reason or "")
        first = await s.scalar(select(OfflineForm).where(OfflineForm.idempotency_key == "form-0"))
        assert first is not None and first.status == "replayed" and first.replayed_at is not None
        assert msgspec.json.decode(first.result or "")["text"] == "note 0"
        subjects = (await s.scalars(select(OutboxEvent.subject))).all()
    assert subjects.count("hub.offline.replayed") == n - 1 and subjects.count("hub.offline.conflict") == 1
    assert "hub.offline.left" in subjects


class _Stall(LocalCcb):
    """A CCB that stops inside a run at the form whose note reads ``at`` until the test cancels it."""

    at = ""
    reached: asyncio.Event

    async def add_premise_note(
        self, request: p.AddPremiseNote, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.PremiseNoteView:
        if request.text == self.at:
            self.reached.set()
            await asyncio.Event().wait()
        return await super().add_premise_note(request, actor=actor, idempotency_key=idempotency_key)


async def test_a_replay_cancelled_mid_run_and_restarted_applies_every_form_once(env: Env) -> None:
    n = 3 * RUN_FORMS
    await _journal(env, n)
    stall = _Stall(env.ccb_db, ManualClock(NOW), KEY)
    stall.at, stall.reached = f"note {RUN_FORMS + 40}", asyncio.Event()
    killed = OfflineCcb(stall, env.hub_db, ManualClock(NOW), batch_size=500)
    task = asyncio.create_task(killed.replay())
    await asyncio.wait_for(stall.reached.wait(), 30)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The first run committed and was marked; the second rolled back whole: none of its notes exist.
    assert await _notes(env) == (RUN_FORMS, 0)
    assert (await backlog_status(env.hub_db)).pending == n - RUN_FORMS

    report = await env.offline.replay()
    assert (report.replayed, report.pending) == (n - RUN_FORMS, 0)
    assert await _notes(env) == (n, 0)


async def test_a_crash_between_ccb_commit_and_marking_is_harmless_on_restart(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = 2 * RUN_FORMS + 30
    await _journal(env, n)
    real_mark = OfflineCcb._mark
    calls = 0

    async def crash_on_second_mark(self: OfflineCcb, done: Any) -> tuple[int, int]:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("the hub died before marking the run")
        return await real_mark(self, done)

    monkeypatch.setattr(OfflineCcb, "_mark", crash_on_second_mark)
    with pytest.raises(RuntimeError):
        await env.offline.replay()
    assert await _notes(env) == (2 * RUN_FORMS, 0)  # CCB applied the second run; the hub never marked it
    assert (await backlog_status(env.hub_db)).pending == n - RUN_FORMS

    monkeypatch.setattr(OfflineCcb, "_mark", real_mark)
    report = await env.offline.replay()
    assert (report.replayed, report.pending) == (n - RUN_FORMS, 0)
    assert await _notes(env) == (n, 0)
    async with env.hub_db.session() as s:
        resent = await s.scalar(select(OfflineForm).where(OfflineForm.idempotency_key == "form-150"))
    assert resent is not None and msgspec.json.decode(resent.result or "")["text"] == "note 150"


async def test_a_forced_second_replay_changes_nothing_in_ccb(env: Env) -> None:
    n = RUN_FORMS + 20
    await _journal(env, n, refused_at=3)
    await env.offline.replay()
    async with env.hub_db.session() as s:
        first = dict((await s.execute(select(OfflineForm.id, OfflineForm.result))).all())
        await s.execute(update(OfflineForm).values(status="pending", result=None))
    again = await env.offline.replay()
    assert (again.replayed, again.conflicts, again.pending) == (n - 1, 1, 0)
    assert await _notes(env) == (n - 1, 0)
    assert len(await _lead_todos(env)) == 1  # the conflict's To Do carries a key derived from the form's
    async with env.hub_db.session() as s:
        second = dict((await s.execute(select(OfflineForm.id, OfflineForm.result))).all())
    assert second == first  # CCB answered the second time from its stored answers


async def test_write_batch_answers_exactly_as_the_same_writes_one_by_one(
    hub_migrated_template: Path, tmp_path: Path
) -> None:
    """Mixed operations, refusals between them and a bulk UPDATE in the middle of a run."""
    dbs = [_copy(hub_migrated_template, tmp_path / f"{name}.db") for name in ("one", "run")]
    try:
        for db in dbs:
            accounts = await seed_customers(db, 2, 8, KEY, net_metered_share=0.0)
        a, b = accounts
        async with dbs[0].session() as s:
            person_b = await s.scalar(
                select(m.AccountPerson.person_id).where(m.AccountPerson.account_id == b.account_id)
            )
            person_a = await s.scalar(
                select(m.AccountPerson.person_id).where(m.AccountPerson.account_id == a.account_id)
            )
            sa = await s.scalar(
                select(m.ServiceAgreement.id).where(
                    m.ServiceAgreement.account_id == a.account_id, m.ServiceAgreement.status == "20"
                )
            )
        assert person_a and person_b and sa
        requests: list[tuple[str, msgspec.Struct]] = [
            ("add_premise_note", p.AddPremiseNote(premise_id=a.premise_id, text="gate code 1234")),
            ("add_alert", p.AddAlert(account_id=a.account_id, alert_type="DOG", text="dog in yard")),
            (
                "add_account_person",
                p.AddAccountPerson(account_id=a.account_id, relationship="SPOUSE", person_id=person_b),
            ),
            ("set_main_customer", p.SetMainCustomer(account_id=a.account_id, person_id=person_b)),
            ("add_alert", p.AddAlert(account_id="0000000002", alert_type="DOG", text="refused")),
            ("set_main_customer", p.SetMainCustomer(account_id=a.account_id, person_id=person_a)),
            ("stop_service", p.StopService(sa_id=sa, stop_date=dt.date(2026, 3, 20))),
            ("stop_service", p.StopService(sa_id=sa, stop_date=dt.date(2026, 3, 21))),
            ("cancel_stop", p.CancelStop(sa_id=sa)),
            (
                "post_payment",
                p.PostPayment(
                    account_id=a.account_id, tenders=(p.TenderInput(tender_type="cash", amount_cents=2500),)
                ),
            ),
            ("add_premise_note", p.AddPremiseNote(premise_id=a.premise_id, text="  ")),
        ]
        writes = [KeyedWrite(op, req, "csr1", f"k-{i}") for i, (op, req) in enumerate(requests)]

        def ccb(db: Database) -> LocalCcb:
            return LocalCcb(db, ManualClock(NOW), KEY, IdGenerator(random.Random(3)))

        one = ccb(dbs[0])
        answers: list[Any] = []
        for w in writes:
            try:
                answers.append(
                    await getattr(one, w.operation)(
                        w.request, actor=w.actor, idempotency_key=w.idempotency_key
                    )
                )
            except CcbError as exc:
                answers.append(exc)
        run = ccb(dbs[1])
        batched = await run.write_batch(writes)

        stable = {"account_id", "premise_id", "person_id", "sa_id", "sp_id"}

        def masked(x: Any) -> Any:
            # New objects' ids are random draws, and a redone run draws again: compare everything else.
            if isinstance(x, dict):
                return {
                    k: "*" if k.endswith("_id") and k not in stable else masked(v)
                    for k, v in x.items()
                    if k != "replayed"  # True on an answer given from the stored record
                }
            if isinstance(x, list):
                return [masked(v) for v in x]
            return x

        def shown(x: Any) -> Any:
            if isinstance(x, Exception):
                return (type(x).__name__, str(x))
            return (type(x).__name__, masked(msgspec.to_builtins(x)))

        assert [shown(x) for x in batched] == [shown(x) for x in answers]
        assert sum(isinstance(x, CcbError) for x in answers) == 3
        summary = shown(await one.get_account_summary(a.account_id))
        assert shown(await run.get_account_summary(a.account_id)) == summary
        # Resent, the applied writes answer from their stored records and change nothing. (A refused
        # write stores no answer: sent again it is judged again, as a single call would be.)
        applied = [w for w, x in zip(writes, batched, strict=True) if not isinstance(x, CcbError)]
        again = await run.write_batch(applied)
        assert [shown(x) for x in again] == [shown(x) for x in batched if not isinstance(x, CcbError)]
        assert shown(await run.get_account_summary(a.account_id)) == summary
    finally:
        for db in dbs:
            await db.dispose()


# -- a remote without runs: accounts side by side, each in order ----------------------------------------


class _SlowRemote:
    """Answers premise notes after a random short delay and records the order and the calls in flight."""

    def __init__(self, down_after: int | None = None) -> None:
        self.applied: list[tuple[str, str]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.down_after = down_after
        self.rng = random.Random(4)

    async def add_premise_note(
        self, request: p.AddPremiseNote, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.PremiseNoteView:
        if self.down_after is not None and len(self.applied) >= self.down_after:
            raise CcbUnavailable("connection refused")
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.rng.uniform(0, 0.003))
            self.applied.append((request.premise_id, request.text))
        finally:
            self.in_flight -= 1
        return p.PremiseNoteView(
            note_id=str(len(self.applied)),
            premise_id=request.premise_id,
            text=request.text,
            created_by=actor,
            created_at=NOW,
        )


async def _journal_lanes(db: Database, premises: int, per: int) -> None:
    rows = [_form(i, f"{1_000_000_000 + i % premises}") for i in range(premises * per)]
    async with db.session() as s:
        await s.execute(insert(OfflineForm), rows)


def _in_order_per_premise(applied: list[tuple[str, str]]) -> bool:
    last: dict[str, int] = {}
    for premise, text in applied:
        i = int(text.split()[1])
        if last.get(premise, -1) > i:
            return False
        last[premise] = i
    return True


async def test_without_runs_accounts_replay_side_by_side_each_in_order(hub_database_url: str) -> None:
    db = Database(hub_database_url)
    try:
        await _journal_lanes(db, premises=6, per=15)
        remote = _SlowRemote()
        offline = OfflineCcb(remote, db, ManualClock(NOW), batch_size=40, concurrency=4)  # type: ignore[arg-type]
        report = await offline.replay()
        assert (report.replayed, report.pending) == (90, 0)
        assert len(remote.applied) == 90 and _in_order_per_premise(remote.applied)
        assert 1 < remote.max_in_flight <= 4
        # Journal order is not kept across premises (that is the point), only within each.
        assert [t for _p, t in remote.applied] != [f"note {i}" for i in range(90)]
    finally:
        await db.dispose()


async def test_without_runs_an_outage_stops_every_lane_and_leaves_the_rest_pending_in_order(
    hub_database_url: str,
) -> None:
    db = Database(hub_database_url)
    try:
        await _journal_lanes(db, premises=5, per=10)
        remote = _SlowRemote(down_after=17)
        offline = OfflineCcb(remote, db, ManualClock(NOW), batch_size=50, concurrency=5)  # type: ignore[arg-type]
        report = await offline.replay()
        assert (
            report.stopped
            and report.replayed == len(remote.applied)
            and report.pending == 50 - report.replayed
        )
        remote.down_after = None
        report = await offline.replay()
        assert report.pending == 0 and len(remote.applied) == 50
        assert _in_order_per_premise(remote.applied)  # across the two replays too
    finally:
        await db.dispose()
