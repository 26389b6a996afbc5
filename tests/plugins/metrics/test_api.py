"""The metrics plugin over HTTP: bus events become daily counts per CSR and section, duplicates count once,
a counter request is one click, the monthly workbook reads back right, bad months answer 422, the CLI exports.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import re
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

import plugins.metrics as metrics
from core.bus import Envelope, make_envelope
from core.telephony.events import DialogEvent, DialogSnapshot, MediaProperties
from plugins.metrics.events import make_tally_handler

API = "/api/metrics"
COUNTER = "customer-service-center"
CALLS = "call-center"
# 07:30 UTC on Feb 1 is 23:30 on Jan 31 in Los Angeles: everything below counts for Jan 31.
LATE = dt.datetime(2026, 2, 1, 7, 30, tzinfo=dt.UTC)
DAY = "2026-01-31"


@pytest.fixture
def hub_plugins() -> list[Any]:
    return [metrics]


@pytest.fixture
async def lead(staff_token: Any, enable_plugin: Any) -> dict[str, str]:
    for section in (COUNTER, CALLS, "lead"):
        await enable_plugin("metrics", section)
    return {"Authorization": f"Bearer {await staff_token('lead', 'lead', name='lena')}"}


@pytest.fixture
async def ana(staff_token: Any, lead: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {await staff_token('csr', COUNTER, name='ana')}"}


def event(subject: str, data: dict[str, Any], actor: str = "staff:ana", when: dt.datetime = LATE) -> Envelope:
    return make_envelope(subject, data, source="test", actor=actor, occurred_at=when)


def ended_call(dialog_id: str, *agents: str) -> Envelope:
    """A well-formed ``hub.phone.dialog.ended`` (the contact layer reads it too)."""
    media = MediaProperties(
        dialedNumber="5550100",
        DNIS="5550100",
        callType="ACD_IN",
        queueNumber="1",
        queueName="Billing",
        wrapUpReason="",
        callvariables=[],
    )
    snapshot = DialogSnapshot(
        id=dialog_id,
        uri=f"/finesse/api/Dialog/{dialog_id}",
        associatedDialogUri="",
        secondaryId="",
        mediaType="Voice",
        fromAddress="2135550142",
        toAddress="5550100",
        state="DROPPED",
        mediaProperties=media,
        participants=[],
    )
    payload = DialogEvent(dialog=snapshot, agentIds=list(agents), cause="DROP")
    return make_envelope("hub.phone.dialog.ended", payload, source="test", actor="system", occurred_at=LATE)


async def publish(hub: Any, drain: Any, *envelopes: Envelope) -> None:
    for env in envelopes:
        await hub.bus.publish(env)
    await drain()


def counts(view: dict[str, Any]) -> dict[tuple[str, str, str], int]:
    return {(r["section"], r["staff"], r["kind"]): r["count"] for r in view["rows"]}


async def a_month_of_work(hub: Any, drain: Any) -> None:
    await publish(
        hub,
        drain,
        # The CCB announces the window payment first; the cash plugin's event re-files it as a window payment.
        event("hub.ccb.payment.posted", {"account_id": "A1", "payment_event_id": "PE1", "payment_id": "P1"}),
        event("hub.cash.payment.posted", {"source": "window", "payment_id": "P1", "amount_cents": 5000}),
        event("hub.ccb.payment.posted", {"account_id": "A2", "payment_event_id": "PE2", "payment_id": "P2"}),
        event("hub.ccb.payment.posted", {"payment_id": "P3"}, actor="system"),  # the IVR: nobody's work
        ended_call("D1", "ana", "bo"),
        ended_call("D2", "bo"),
        ended_call("D3"),  # abandoned
        event(
            "hub.contact.opened",
            {"contact_id": "C1", "channel": "phone", "candidates": 1},
            actor="system:phone",
        ),
        event("hub.contact.wrapped_up", {"contact_id": "C1", "note_kind": "call", "drafted": False}),
        event("hub.outage.declared", {"outage_id": 1}, actor="staff:lena"),  # not a metric
        event("hub.ccb.payment.posted", {"payment_id": "P9"}, when=LATE + dt.timedelta(days=2)),  # Feb 2
    )


async def test_events_become_daily_counts_per_csr_and_section(
    hub: Any, hub_client: Any, lead: dict[str, str], ana: dict[str, str], drain: Any
) -> None:
    await a_month_of_work(hub, drain)
    r = await hub_client.get(f"{API}/daily", params={"day": DAY}, headers=lead)
    assert r.status_code == 200, r.text
    assert counts(r.json()) == {
        (COUNTER, "ana", "payment.window"): 1,
        (COUNTER, "ana", "payment.other"): 1,
        (CALLS, "ana", "call.handled"): 1,
        (CALLS, "bo", "call.handled"): 2,
        (CALLS, "ana", "contact.phone"): 1,
    }
    assert r.json()["by_section"] == {
        CALLS: {"call.handled": 3, "contact.phone": 1},
        COUNTER: {"payment.window": 1, "payment.other": 1},
    }
    # A CSR's view is their own, whatever they ask for.
    mine = await hub_client.get(f"{API}/daily", params={"day": DAY, "staff": "bo"}, headers=ana)
    assert {k[1] for k in counts(mine.json())} == {"ana"}
    only = await hub_client.get(f"{API}/daily", params={"day": DAY, "section": CALLS}, headers=lead)
    assert {k[0] for k in counts(only.json())} == {CALLS}
    bad = await hub_client.get(f"{API}/daily", params={"day": "2026-02-30"}, headers=lead)
    assert bad.status_code == 422 and bad.json()["extra"][0]["key"] == "day"
    assert (await hub.run_checks(plugin="metrics"))[0].passed


async def test_duplicate_delivery_counts_once(
    hub: Any, hub_client: Any, lead: dict[str, str], drain: Any
) -> None:
    payment = event("hub.cash.payment.posted", {"source": "window", "payment_id": "P7"})
    call = ended_call("D7", "ana")
    await publish(hub, drain, payment, payment, call, call)
    # A second hub process (or a restart) has none of this process's memory: only the table stops it.
    fresh = make_tally_handler(hub.plugins.records["metrics"].ctx)
    for env in (payment, call, event("hub.ccb.payment.posted", {"payment_id": "P7"})):
        await fresh(env)
        await fresh(env)
    r = await hub_client.get(f"{API}/daily", params={"day": DAY}, headers=lead)
    assert counts(r.json()) == {(COUNTER, "ana", "payment.window"): 1, (CALLS, "ana", "call.handled"): 1}
    assert (await hub.run_checks(plugin="metrics"))[0].passed


async def test_a_counter_request_is_one_click(
    hub: Any,
    hub_client: Any,
    hub_clock: Any,
    ana: dict[str, str],
    lead: dict[str, str],
    drain: Any,
    staff_token: Any,
) -> None:
    hub_clock.set(LATE)
    kinds = (await hub_client.get(f"{API}/counter-requests/kinds", headers=ana)).json()
    assert {"kind": "assistance_form", "label": "Counter: assistance form"} in kinds
    seen: list[Envelope] = []

    async def keep(env: Envelope) -> None:
        seen.append(env)

    await hub.bus.subscribe("hub.metrics.>", keep)
    r = await hub_client.post(f"{API}/counter-requests", json={"kind": "assistance_form"}, headers=ana)
    assert r.status_code == 201, r.text
    assert r.json()["section"] == COUNTER and r.json()["day"] == DAY
    await hub_client.post(f"{API}/counter-requests", json={"kind": "assistance_form"}, headers=ana)
    await drain()
    assert [e.subject for e in seen] == ["hub.metrics.counter_request.recorded"] * 2
    assert seen[0].data == {
        "kind": "assistance_form",
        "section": COUNTER,
        "staff": "ana",
        "at": LATE.isoformat().replace("+00:00", "Z"),
    }
    view = (await hub_client.get(f"{API}/daily", params={"day": DAY}, headers=lead)).json()
    assert counts(view) == {(COUNTER, "ana", "counter.assistance_form"): 2}

    for body, field in (
        ({"kind": "haircut"}, "kind"),
        ({"kind": "bill_copy", "section": "solar"}, "section"),
        ({"kind": "bill_copy", "section": "Not A Slug"}, "section"),
        ({}, "kind"),
        ({"kind": "bill_copy", "extra": 1}, "extra"),
    ):
        bad = await hub_client.post(f"{API}/counter-requests", json=body, headers=ana)
        assert bad.status_code == 422 and bad.json()["extra"][0]["key"] == field, (body, bad.text)
    junk = await hub_client.post(f"{API}/counter-requests", content=b"{nope", headers=ana)
    assert junk.status_code == 400
    # Someone in two sections that are not the counter must say which one.
    both = {"Authorization": f"Bearer {await staff_token('csr', CALLS, 'lead', name='kai')}"}
    vague = await hub_client.post(f"{API}/counter-requests", json={"kind": "bill_copy"}, headers=both)
    assert vague.status_code == 422 and vague.json()["extra"][0]["key"] == "section"
    ok = await hub_client.post(
        f"{API}/counter-requests", json={"kind": "bill_copy", "section": CALLS}, headers=both
    )
    assert ok.status_code == 201 and ok.json()["section"] == CALLS


def read_back(raw: bytes) -> Any:
    return load_workbook(io.BytesIO(raw))


def check_january(wb: Any) -> None:
    """The workbook of ``a_month_of_work``: the values, the formulas and the totals they compute."""
    assert wb.sheetnames == [CALLS, COUNTER]
    calls = wb[CALLS]
    assert [c.value for c in calls[1]] == ["Date", "Calls handled", "Contacts (phone)", "Total"]
    assert calls["A32"].value == dt.datetime(2026, 1, 31)
    assert [c.value for c in calls[32]] == [dt.datetime(2026, 1, 31), 3, 1, "=SUM(B32:C32)"]
    assert [c.value for c in calls[33]] == ["Total", "=SUM(B2:B32)", "=SUM(C2:C32)", "=SUM(D2:D32)"]
    # What the formulas compute, from the cells they name.
    assert sum(calls.cell(row=r, column=2).value for r in range(2, 33)) == 3
    assert sum(calls.cell(row=r, column=3).value for r in range(2, 33)) == 1
    assert [[c.value for c in calls[r]] for r in (35, 36, 37)] == [
        ["Staff", "Calls handled", "Contacts (phone)", "Total"],
        ["ana", 1, 1, "=SUM(B36:C36)"],
        ["bo", 2, 0, "=SUM(B37:C37)"],
    ]
    counter = wb[COUNTER]
    assert [c.value for c in counter[1]] == ["Date", "Payments at the window", "Other payments", "Total"]
    assert [c.value for c in counter[32]][1:3] == [1, 1]
    assert sum(counter.cell(row=r, column=2).value for r in range(2, 33)) == 1
    assert counter["B33"].value == "=SUM(B2:B32)"


async def test_monthly_workbook_reads_back(
    hub: Any, hub_client: Any, lead: dict[str, str], ana: dict[str, str], drain: Any
) -> None:
    await a_month_of_work(hub, drain)
    r = await hub_client.get(f"{API}/monthly.xlsx", params={"month": "2026-01"}, headers=lead)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    assert 'filename="metrics-2026-01.xlsx"' in r.headers["content-disposition"]
    check_january(read_back(r.content))
    february = read_back((await hub_client.get(f"{API}/monthly.xlsx?month=2026-02", headers=lead)).content)
    assert february.sheetnames == [COUNTER] and february[COUNTER]["B3"].value == 1  # Feb 2, in LA
    totals = (await hub_client.get(f"{API}/monthly", params={"month": "2026-01"}, headers=lead)).json()
    assert totals["sections"][CALLS] == {"call.handled": 3, "contact.phone": 1}
    assert totals["staff"][CALLS]["bo"] == {"call.handled": 2}
    # Management's report: CSRs may not download it.
    assert (await hub_client.get(f"{API}/monthly.xlsx?month=2026-01", headers=ana)).status_code == 403


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "January", "2026-00"])
async def test_a_malformed_month_is_422_naming_month(
    hub_client: Any, lead: dict[str, str], month: str
) -> None:
    for path in ("/monthly.xlsx", "/monthly"):
        r = await hub_client.get(f"{API}{path}", params={"month": month}, headers=lead)
        assert r.status_code == 422, r.text
        assert r.json()["extra"][0]["key"] == "month" and "month" in r.json()["detail"]


async def test_cli_exports_the_month(
    hub: Any,
    hub_settings: Any,
    lead: dict[str, str],
    drain: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await a_month_of_work(hub, drain)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HUB_CONFIG", raising=False)
    env = {"HUB_DATABASE_URL": hub_settings.database_url, "HUB_SECRET_KEY": "cli-test-secret"}
    group = click.Group("ccbhub")
    metrics.hub_register_cli(group)
    runner = CliRunner()

    def invoke(*args: str) -> Any:
        return runner.invoke(group, list(args), env=env, catch_exceptions=False)

    # The command runs its own event loop, so it runs beside the test's, in a thread.
    out = tmp_path / "january.xlsx"
    done = await asyncio.to_thread(invoke, "metrics", "export", "--month", "2026-01", "--out", str(out))
    assert done.exit_code == 0, done.output
    check_january(load_workbook(out))
    default = await asyncio.to_thread(invoke, "metrics", "export", "--month", "2026-02")
    assert default.exit_code == 0 and (tmp_path / "metrics-2026-02.xlsx").is_file()
    for bad in ("2026-13", "13-2026"):
        refused = await asyncio.to_thread(invoke, "metrics", "export", "--month", bad)
        assert refused.exit_code == 2 and "--month" in refused.output, refused.output
    missing = await asyncio.to_thread(invoke, "metrics", "export")
    assert missing.exit_code == 2 and "--month" in missing.output


async def web_session(hub_client: Any, staff_token: Any, role: str, name: str, *sections: str) -> str:
    """Sign in to the web UI as a new staff member; returns the CSRF token the page's forms carry."""
    await staff_token(role, *sections, name=name, password="pw-for-metrics-1")
    page = await hub_client.get("/ui/login")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert token
    form = {"name": name, "password": "pw-for-metrics-1", "_csrf_token": token.group(1)}
    await hub_client.post("/ui/login", data=form)
    page = await hub_client.get("/ui/metrics/")
    found = re.search(r'name="_csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


async def test_the_page_records_a_counter_request_in_one_click(
    hub: Any, hub_client: Any, hub_clock: Any, lead: dict[str, str], staff_token: Any, drain: Any
) -> None:
    hub_clock.set(LATE)
    csrf = await web_session(hub_client, staff_token, "csr", "cleo", COUNTER)
    page = await hub_client.get("/ui/metrics/")
    assert 'name="kind" value="bill_copy"' in page.text and 'name="section"' not in page.text
    assert "monthly-report" not in page.text  # the workbook is the leads'
    r = await hub_client.post("/ui/metrics/counter-requests", data={"_csrf_token": csrf, "kind": "bill_copy"})
    assert r.status_code == 303 and r.headers["location"] == "/ui/metrics/?recorded=bill_copy"
    await drain()
    page = await hub_client.get(r.headers["location"])
    assert 'id="recorded"' in page.text and "Counter: bill copy" in page.text
    assert '<td data-kind="counter.bill_copy">1</td>' in page.text
    bad = await hub_client.post("/ui/metrics/counter-requests", data={"_csrf_token": csrf, "kind": "haircut"})
    assert bad.status_code == 422 and "kind: expected one of" in bad.text
    other = await hub_client.post(
        "/ui/metrics/counter-requests", data={"_csrf_token": csrf, "kind": "bill_copy", "section": "solar"}
    )
    assert other.status_code == 422 and "section: " in other.text
    assert (await hub_client.get("/ui/metrics/?day=31/01/2026")).status_code == 422
    assert (await hub_client.get("/ui/metrics/monthly.xlsx?month=2026-01")).status_code == 403
    forged = await hub_client.post("/ui/metrics/counter-requests", data={"kind": "bill_copy"})
    assert forged.status_code == 403


async def test_a_lead_downloads_the_monthly_workbook_from_the_page(
    hub: Any, hub_client: Any, lead: dict[str, str], staff_token: Any, drain: Any
) -> None:
    await a_month_of_work(hub, drain)
    await web_session(hub_client, staff_token, "lead", "lena2", "lead", COUNTER, CALLS)
    page = await hub_client.get(f"/ui/metrics/?day={DAY}")
    assert 'href="/ui/metrics/monthly.xlsx?month=2026-01"' in page.text
    assert 'name="section"' in page.text  # in several sections: the page asks where a request counts
    r = await hub_client.get("/ui/metrics/monthly.xlsx?month=2026-01")
    assert r.status_code == 200 and 'filename="metrics-2026-01.xlsx"' in r.headers["content-disposition"]
    check_january(read_back(r.content))
    bad = await hub_client.get("/ui/metrics/monthly.xlsx?month=2026-13")
    assert bad.status_code == 422 and "month: " in bad.text
