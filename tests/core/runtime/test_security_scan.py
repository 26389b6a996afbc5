"""``ccbhub security scan`` after a busy day: card numbers typed everywhere, nothing stored in clear.

The scenario drives the hub the way a CSR, a lead and a careless plugin would, with card numbers in every
written form in every free-text field the core offers; the scan must then find nothing. A card number or
a demo secret written straight into a table with SQL is found and named, masked.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from pathlib import Path
from typing import Any

import msgspec
import pytest
from click.testing import CliRunner, Result
from sqlalchemy import MetaData, String, func, select, text

from core.ccb.billing import local_time
from core.ccb.seed import DEFAULT_AS_OF, SeedAccount, identity_key, seed_customers
from core.cli import main
from core.clock import ManualClock
from core.contract.idempotency import IdempotencyRecord
from core.db import Database
from core.migrate import upgrade
from core.redact import RedactingLogFilter
from core.security_scan import ScanReport, Secrets, load_secrets, scan_database
from tests.core.runtime import pan_probe

TODAY = DEFAULT_AS_OF + dt.timedelta(days=3)
# The same two cards in every form a red-team note used (issue 13).
FORMS = [
    "4111  1111  1111  1111",
    "4111.1111.1111.1111",
    "4111_1111_1111_1111",
    "4111/1111/1111/1111",
    "4111 - 1111 - 1111 - 1111",
    "5555-5555.5555 4444",
    "3782 822463 10005",
    "4111111111111111",
]
CARD_TEXT = "card " + "; ".join(FORMS)


@pytest.fixture
def hub_clock() -> ManualClock:
    return ManualClock(local_time(TODAY, 9))


@pytest.fixture
def hub_config() -> dict[str, Any]:
    return {"plugins": {"telephony": {"tick_seconds": 0}}}


@pytest.fixture
def hub_plugins() -> list[Any]:
    return [pan_probe]


@pytest.fixture
async def customers(hub: Any) -> list[SeedAccount]:
    return await seed_customers(hub.db, 4, 11, identity_key(hub.settings.secret_key))


@pytest.fixture
def secrets_file(customers: list[SeedAccount], tmp_path: Path) -> Path:
    """The demo customers file as ``ccbhub demo seed`` writes it."""
    path = tmp_path / "demo-customers.jsonl"
    path.write_text("".join(msgspec.json.encode(c).decode() + "\n" for c in customers), encoding="utf-8")
    return path


@pytest.fixture
def log_file(tmp_path: Path) -> Any:
    """A log file the hub writes to, through the hub's masking filter."""
    path = tmp_path / "hub.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.addFilter(RedactingLogFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()


async def scan(hub: Any, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    """``ccbhub security scan`` on the hub's database (in a thread: the command runs its own loop)."""
    monkeypatch.setenv("HUB_DATABASE_URL", hub.settings.database_url)
    monkeypatch.setenv("HUB_SECRET_KEY", hub.settings.secret_key)
    for var in ("HUB_CONFIG", "HUB_DISABLED_PLUGINS"):
        monkeypatch.delenv(var, raising=False)
    return await asyncio.to_thread(CliRunner().invoke, main, ["--no-plugins", "security", "scan", *args])


async def columns_holding_masks(hub: Any) -> set[tuple[str, str]]:
    async with hub.db.engine.connect() as conn:
        metadata = MetaData()
        await conn.run_sync(lambda sync: metadata.reflect(sync))
        found = set()
        for table in metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, String):
                    hits = await conn.scalar(
                        select(func.count()).select_from(table).where(column.like("%[card ****%"))
                    )
                    if hits:
                        found.add((table.name, column.name))
        return found


async def busy_day(hub: Any, client: Any, staff_token: Any, customer: SeedAccount) -> None:
    csr = {"Authorization": f"Bearer {await staff_token('csr', 'call-center', name='ann')}"}
    lead = {"Authorization": f"Bearer {await staff_token('lead', 'call-center', name='lee')}"}

    async def ok(response: Any) -> Any:
        assert response.status_code < 300, response.text
        return response.json()

    contact = (await ok(await client.post("/api/contacts", headers=csr, json={"channel": "counter"})))[
        "contact_id"
    ]
    await ok(
        await client.post(
            f"/api/contacts/{contact}/verify",
            headers=csr,
            json={"account_id": customer.account_id, "method": "access_code", "value": customer.access_code},
        )
    )
    inside = {**csr, "X-Contact-Id": contact}
    premise, account = customer.premise_id, customer.account_id
    await ok(
        await client.put(
            f"/api/ccb/premises/{premise}/access",
            headers=inside,
            json={"hazards": CARD_TEXT[:1000], "reader_notes": CARD_TEXT[:1000]},
        )
    )
    await ok(
        await client.post(
            f"/api/ccb/premises/{premise}/trouble-tickets",
            headers=inside,
            json={"service": "water", "problem": "leak", "details": CARD_TEXT},
        )
    )
    await ok(
        await client.post(
            f"/api/ccb/accounts/{account}/field-investigations",
            headers=inside,
            json={"kind": "leak_check", "service": "water", "summary": CARD_TEXT},
        )
    )
    meters = await ok(await client.get(f"/api/ccb/accounts/{account}/meters", headers=inside))
    await ok(
        await client.post(
            f"/api/ccb/premises/{premise}/meters/{meters[0]['meter_id']}/field-reads",
            headers={**lead, "X-Access-Reason": f"field review, card {FORMS[2]}"},
            json={"read_type": "no_read", "remarks": CARD_TEXT[:200]},
        )
    )
    await ok(
        await client.post(
            "/api/ccb/returned-mail",
            headers=csr,
            json={"account_id": account, "reason": f"moved; card {FORMS[4]} in envelope"},
        )
    )
    # A lead reaches the account without a contact, giving a reason that carries a card number.
    await ok(
        await client.get(
            f"/api/ccb/accounts/{account}", headers={**lead, "X-Access-Reason": f"callback re {FORMS[1]}"}
        )
    )
    # Idempotency keys holding a card number are refused by the core and by the CCB workflows alike.
    for key in ("4111-1111-1111-1111", "4111.1111.1111.1111"):
        refused = await client.post(
            f"/api/ccb/accounts/{account}/field-investigations",
            headers={**inside, "Idempotency-Key": key},
            json={"kind": "re_read", "service": "electric", "summary": "reading looks high"},
        )
        assert refused.status_code == 422 and "1111" not in refused.text
        refused = await client.post(
            "/api/pan_probe/notes", headers={**csr, "Idempotency-Key": key}, json={"note": "x"}
        )
        assert refused.status_code == 422 and "1111" not in refused.text
    # A plugin that forgets to redact: the event outbox still gets masks only.
    await ok(
        await client.post(
            "/api/pan_probe/notes",
            headers={**csr, "Idempotency-Key": "probe-note-0001"},
            json={"note": CARD_TEXT, "lines": FORMS},
        )
    )
    await ok(
        await client.post(
            f"/api/contacts/{contact}/wrap-up", headers=csr, json={"note_kind": "customer", "note": CARD_TEXT}
        )
    )
    async with hub.db.session() as session:
        await hub.mail.queue(session, to=["billing@example.org"], subject=f"card {FORMS[0]}", body=CARD_TEXT)
    logging.getLogger("ccbhub.some.plugin").warning("customer read %s", FORMS[3])


async def test_after_a_busy_day_the_scan_finds_nothing_then_names_a_card_written_with_sql(
    hub: Any,
    hub_client: Any,
    staff_token: Any,
    enable_plugin: Any,
    drain: Any,
    customers: list[SeedAccount],
    secrets_file: Path,
    log_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await enable_plugin("pan_probe", "call-center")
    await busy_day(hub, hub_client, staff_token, customers[0])
    await drain()
    assert "[card ****1111]" in await asyncio.to_thread(log_file.read_text, encoding="utf-8")

    # The day really left its (masked) text where the scan reads: core, contact part, CCB mock, plugin.
    masked = await columns_holding_masks(hub)
    assert {
        ("hub_outbox", "envelope"),
        ("hub_mail_outbox", "body"),
        ("contact_contact", "note"),
        ("ccb_premise", "reader_notes"),
        ("ccb_customer_contact", "log_text"),
        ("ccb_meter_read", "remarks"),
    } <= masked
    clean = await scan(hub, monkeypatch, "--secrets", str(secrets_file), "--logs", str(log_file))
    assert clean.exit_code == 0, clean.output
    assert clean.output.startswith("clean: no card number and no secret of the 4 demo customers")
    assert len(clean.output.strip().splitlines()) == 1

    async with hub.db.session() as session:
        await session.execute(
            text("INSERT INTO hub_kv (key, value) VALUES ('leak', :v)"),
            {"v": f"card 5555.5555.5555.4444 code {customers[1].access_code}"},
        )
    found = await scan(hub, monkeypatch, "--secrets", str(secrets_file))
    assert found.exit_code == 1, found.output
    lines = found.output.splitlines()
    assert "hub_kv.value [key=leak]: card number [card ****4444]" in lines
    assert f"hub_kv [key=leak]: access code of account {customers[1].account_id} (******)" in lines
    assert "5555.5555" not in found.output and customers[1].access_code not in found.output


def test_a_secret_is_found_only_as_a_whole_number_and_a_last_four_only_beside_its_account(
    tmp_path: Path,
) -> None:
    path = tmp_path / "customers.jsonl"
    path.write_text(
        '{"account_id":"2095513148","access_code":"371891","ssn_last4":"8700"}\n', encoding="utf-8"
    )
    secrets = load_secrets(path)
    assert secrets.find(["code 371891."]) == [("access code", "of account 2095513148 (******)")]
    for harmless in ("at 22:30:39.371891", "ref 1371891", "2026-371891-x", "uuid 1234-371891-abcd"):
        assert secrets.find([harmless]) == [], harmless
    assert secrets.find(["paid 8700 dollars"]) == []  # 8700 without the customer: a number like any
    assert secrets.find(["ssn ***-**-8700", "account 2095513148"]) == [
        ("SSN last 4", "of account 2095513148 (****)")
    ]
    assert Secrets().find(["371891"]) == []


async def test_bad_options_exit_2(hub: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    missing = await scan(hub, monkeypatch, "--secrets", str(tmp_path / "nope.jsonl"))
    assert missing.exit_code == 2 and "--secrets" in missing.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"account_id": "1"}\n', encoding="utf-8")
    malformed = await scan(hub, monkeypatch, "--secrets", str(bad))
    assert malformed.exit_code == 2 and "--secrets" in malformed.output
    assert (await scan(hub, monkeypatch, "--logs", str(tmp_path / "no.log"))).exit_code == 2


@pytest.mark.postgres
async def test_the_scan_reads_text_json_and_binary_columns_on_postgresql(postgres_url: str) -> None:
    await asyncio.to_thread(upgrade, postgres_url)
    db = Database(postgres_url)
    try:
        async with db.session() as session:
            session.add(
                IdempotencyRecord(
                    scope="probe",
                    key="probe-key-0001",
                    fingerprint="0" * 64,
                    status_code=201,
                    body=b'{"note":"card 4111/1111/1111/1111"}',
                    created_at=dt.datetime.now(dt.UTC),
                )
            )
            await session.execute(
                text(
                    "INSERT INTO hub_kv (key, value) VALUES ('ok', 'card [card ****1111], call 213-555-1234')"
                )
            )
        report = ScanReport()
        await scan_database(postgres_url, Secrets(), report)
        assert [f.line() for f in report.findings] == [
            "hub_idempotency.body [id=1]: card number [card ****1111]"
        ]
        assert report.tables > 10 and report.rows >= 2
    finally:
        await db.dispose()
