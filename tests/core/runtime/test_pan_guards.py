"""Where the card-number detector guards the hub: idempotency keys, event payloads and log records.

A red-team test had an ``Idempotency-Key: 4111-1111-1111-1111`` accepted and stored; ARCHITECTURE §4 says
event payloads never carry card numbers; PCI DSS 3.3 / 3.4 forbids them in every log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from core.contract.idempotency import HEADER, IdempotencyRecord, check_key
from core.contract.inputs import InputError
from core.logs import configure_logging
from core.models import OutboxEvent
from core.outbox import EventCatalogue, EventWriter
from core.redact import RedactingLogFilter
from tests.core.runtime import pan_probe

CARD_KEYS = [
    "4111-1111-1111-1111",
    "4111.1111.1111.1111",
    "key-4111111111111111",
    "5555-5555-5555-4444:retry",
]


@pytest.fixture
def hub_plugins() -> list[Any]:
    return [pan_probe]


@pytest.mark.parametrize("key", CARD_KEYS)
def test_check_key_refuses_a_key_holding_a_card_number_without_repeating_it(key: str) -> None:
    with pytest.raises(InputError) as refused:
        check_key(key)
    assert refused.value.field == HEADER
    assert "card number" in str(refused.value)
    assert not any(ch.isdigit() for ch in str(refused.value))


@pytest.mark.parametrize(
    "key",
    [
        "0b7c9a52-4c1e-4f7e-9a61-2b8f0c3d4e5f",
        "order-2026-12-06-000123",
        "<hub-12.1765060239123@hub.example>",  # the SMTP connector's Message-ID: an epoch-ms stamp
        "terminal7:20261206223038",
    ],
)
def test_ordinary_keys_still_pass(key: str) -> None:
    assert check_key(key) == key


async def test_a_card_number_key_is_a_422_and_nothing_is_stored(
    hub: Any, hub_client: Any, staff_token: Any, enable_plugin: Any
) -> None:
    await enable_plugin("pan_probe", "call-center")
    auth = {"Authorization": f"Bearer {await staff_token('csr', 'call-center')}"}
    for key in CARD_KEYS:
        r = await hub_client.post(
            "/api/pan_probe/notes", headers={**auth, HEADER: key}, json={"note": "hello"}
        )
        assert r.status_code == 422, r.text
        assert r.json()["extra"][0]["key"] == HEADER
        assert key not in r.text and "1111" not in r.text and "4444" not in r.text
    ok = await hub_client.post(
        "/api/pan_probe/notes", headers={**auth, HEADER: "note-0001-first"}, json={"note": "hello"}
    )
    assert ok.status_code == 201, ok.text
    async with hub.db.session() as s:
        keys = list(await s.scalars(select(IdempotencyRecord.key)))
        events = await s.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.subject == pan_probe.WROTE)
        )
    assert keys == ["note-0001-first"] and events == 1


async def test_a_card_number_in_an_event_payload_is_masked_with_a_warning_naming_the_fields(
    hub: Any, hub_client: Any, staff_token: Any, enable_plugin: Any, caplog: pytest.LogCaptureFixture
) -> None:
    await enable_plugin("pan_probe", "call-center")
    auth = {"Authorization": f"Bearer {await staff_token('csr', 'call-center')}"}
    body = {"note": "paid with 4111 - 1111 - 1111 - 1111 today", "lines": ["ok", "card 5555.5555.5555.4444"]}
    with caplog.at_level(logging.WARNING, logger="ccbhub.outbox"):
        r = await hub_client.post("/api/pan_probe/notes", headers=auth, json=body)
    assert r.status_code == 201, r.text
    async with hub.db.session() as s:
        stored = await s.scalar(select(OutboxEvent.envelope).where(OutboxEvent.subject == pan_probe.WROTE))
    assert stored is not None
    assert "paid with [card ****1111] today" in stored and "card [card ****4444]" in stored
    assert "1111 - 1111" not in stored and "5555.5555" not in stored
    warned = [rec.getMessage() for rec in caplog.records if rec.name == "ccbhub.outbox"]
    assert warned == [f"pan_probe: card number masked in event {pan_probe.WROTE} (note, lines[1])"]


async def test_a_payload_that_no_longer_fits_once_masked_is_refused(hub: Any) -> None:
    catalogue = EventCatalogue()
    catalogue.register(pan_probe.WROTE, pan_probe.Wrote, "pan_probe")
    writer = EventWriter(catalogue, hub.clock, "pan_probe", kick=lambda: None)
    with pytest.raises(ValueError, match=r"card number in ref") as refused:
        async with hub.db.session() as s:
            # A 13-digit Visa fits ``ref`` (max 13 characters); its mask "[card ****2222]" does not.
            writer.emit(s, pan_probe.WROTE, pan_probe.Wrote(note="x", ref="4222222222222"), actor="t")
    assert "4222222222222" not in str(refused.value)
    async with hub.db.session() as s:
        assert not await s.scalar(
            select(func.count()).select_from(OutboxEvent).where(OutboxEvent.subject == pan_probe.WROTE)
        )


@pytest.fixture
def fresh_root_logger() -> Iterator[logging.Logger]:
    """The root logger with no handlers (as in a new worker process), restored afterwards."""
    root = logging.getLogger()
    saved = (list(root.handlers), list(root.filters), root.level)
    last_resort = logging.lastResort
    saved_last_resort = list(last_resort.filters) if last_resort is not None else []
    try:
        yield root
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:] = saved[0]
        root.filters[:] = saved[1]
        root.setLevel(saved[2])
        if last_resort is not None:
            last_resort.filters[:] = saved_last_resort


def test_the_hubs_logging_setup_masks_card_numbers_in_every_record(
    fresh_root_logger: logging.Logger, capsys: pytest.CaptureFixture[str]
) -> None:
    # As in a new worker process: no handler yet (pytest adds its own once the test has started).
    for handler in list(fresh_root_logger.handlers):
        fresh_root_logger.removeHandler(handler)
    configure_logging("INFO")
    assert any(isinstance(f, RedactingLogFilter) for f in fresh_root_logger.filters)
    log = logging.getLogger("ccbhub.some.plugin")
    log.info("customer read %s over the phone", "4111 1111 1111 1111")
    log.warning("note: %(note)s", {"note": "card 5555_5555_5555_4444, ssn 123-45-6789"})
    try:
        raise ValueError("declined 4111.1111.1111.1111")
    except ValueError:
        log.exception("payment failed")
    fresh_root_logger.error("direct on root: 3782-822463-10005")
    err = capsys.readouterr().err
    assert "customer read [card ****1111] over the phone" in err
    assert "note: card [card ****4444], ssn [ssn ***-**-6789]" in err
    assert "ValueError: declined [card ****1111]" in err
    assert "direct on root: [card ****0005]" in err
    for clear in ("4111 1111", "5555_5555", "123-45", "4111.1111", "822463"):
        assert clear not in err


def test_a_record_without_card_numbers_keeps_its_arguments() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "account %s paid %d", ("1234567890", 45), None)
    assert RedactingLogFilter().filter(record)
    assert record.args == ("1234567890", 45) and record.getMessage() == "account 1234567890 paid 45"
