"""Pure rules of the contact layer: late fees, read instructions, contact types, drafted notes, dispatch
priorities and the isolation of plugins' contact hints."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest

from core.ccb import port as p
from core.ccb.errors import Invalid
from core.contact.service import (
    ActionView,
    classify_contact,
    draft_note,
    gather_hints,
    late_fee_cents,
    late_fee_rule,
    read_instructions,
    trouble_priority,
)
from core.contract import ContactHint

AT = dt.datetime(2025, 11, 3, 17, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("past_due", "fee"),
    [(0, 0), (15_000, 0), (15_001, 225), (20_000, 300), (33_333, 500), (-500, 0)],
)
def test_the_late_fee_is_one_and_a_half_percent_only_over_150_dollars(past_due: int, fee: int) -> None:
    assert late_fee_cents(past_due) == fee


def _segment(sa_type: str, cents: int, status: str = "50") -> p.BillSegmentView:
    return p.BillSegmentView(
        bill_segment_id=f"seg-{sa_type}",
        bill_id="549133128888",
        sa_id="1",
        sa_type=sa_type,
        status=status,
        period_start=dt.date(2025, 8, 2),
        period_end=dt.date(2025, 10, 2),
        start_reading=1,
        end_reading=2,
        estimated=False,
        quantity="1.00",
        unit="KWH",
        tier_quantities=["1.00", "0.00", "0.00"],
        amount_cents=cents,
        rebill_of=None,
    )


def test_the_late_fee_rule_names_each_service_and_the_end_of_the_grace_period() -> None:
    bill = p.BillView(
        bill_id="549133128888",
        account_id="1589800000",
        status="C",
        bill_date=dt.date(2025, 10, 4),
        due_date=dt.date(2025, 10, 23),
        is_final=False,
        previous_balance_cents=0,
        payments_cents=0,
        adjustments_cents=0,
        current_charges_cents=40_102,
        amount_due_cents=40_102,
        segments=[_segment("E-RES", 30_872), _segment("W-RES", 9_230), _segment("W-RES", 1, status="60")],
        corrected=False,
    )
    rule = late_fee_rule(bill, {"E-RES": "Electric", "W-RES": "Water"})
    assert rule.grace_ends == dt.date(2025, 10, 31)
    assert rule.charge_per_month_cents == 463  # 1.5% of $308.72, water under $150 pays none
    assert rule.per_service[0].startswith("Electric: $308.72 is over $150.00")
    assert "$4.63 a month" in rule.per_service[0]
    assert rule.per_service[1] == "Water: $92.30 is $150.00 or less: no late payment charge."
    assert len(rule.per_service) == 2  # the canceled segment is not on the bill any more
    assert "19 days" in rule.rule


@pytest.mark.parametrize(
    ("meter_type", "service", "unit", "digits", "words"),
    [
        ("dial", "electric", "KWH", 5, "5 small clock-like dials"),
        ("digital", "electric", "KWH", 5, "the 5 digits shown with kWh"),
        ("dial", "water", "HCF", 4, "sweep hand"),
        ("digital", "water", "HCF", 4, "flow rate"),
    ],
)
def test_read_instructions_follow_the_meter_type(
    meter_type: str, service: str, unit: str, digits: int, words: str
) -> None:
    steps = read_instructions(meter_type, service, unit, digits)
    assert any(words in step for step in steps)
    assert any(f"The reading is in {unit}" in step for step in steps)
    assert "never break a seal" in steps[-1]


@pytest.mark.parametrize(
    ("kinds", "expected"),
    [
        (["verify.pass", "read.account"], ("GENERAL", "INQUIRY")),
        (["read.billing"], ("BILLING", "INQUIRY")),
        (["read.billing", "change.payment"], ("BILLING", "PAYMENT")),
        (["read.payment"], ("BILLING", "PAYMENT")),
        (["change.payment", "change.service"], ("SERVICE", "START_STOP")),
        ([], ("GENERAL", "INQUIRY")),
    ],
)
def test_the_ccb_contact_type_follows_what_was_done(kinds: list[str], expected: tuple[str, str]) -> None:
    assert classify_contact(kinds) == expected


def _action(kind: str, summary: str) -> ActionView:
    return ActionView(at=AT, actor="staff:ann", kind=kind, account_id="1589800000", summary=summary)


def test_a_drafted_note_lists_verification_reviews_and_actions_and_masks_card_numbers() -> None:
    note = draft_note(
        "phone",
        "5774836290",
        "ann",
        [
            _action("call.opened", "phone contact opened"),
            _action("verify.fail", "verification failed"),
            _action("verify.pass", "account 1589800000 by access code"),
            _action("read.account", "account summary of 1589800000"),
            _action("read.account", "account summary of 1589800000"),
            _action("read.billing", "explanation of bill 549133128888"),
            _action("change.service", "stop of SA 1111111111 on 2025-11-08"),
            _action("change.payment", "card 4111 1111 1111 1111 mentioned"),
        ],
    )
    assert note.splitlines() == [
        "Phone contact 5774836290 handled by ann.",
        "Verified: account 1589800000 by access code.",
        "Failed verification attempts: 1.",
        "Reviewed: account summary of 1589800000; explanation of bill 549133128888.",
        "Actions: stop of SA 1111111111 on 2025-11-08; card [card ****1111] mentioned.",
    ]
    assert draft_note("counter", "1", None, []).splitlines() == ["Counter contact 1.", "Actions: none."]


@pytest.mark.parametrize(
    ("service", "problem", "priority"),
    [
        ("electric", "wires_down", 1),
        ("electric", "no_power", 1),
        ("electric", "flickering", 3),
        ("water", "main_break", 1),
        ("water", "leak", 2),
        ("water", "low_pressure", 3),
        ("water", "other", 3),
    ],
)
def test_trouble_priorities(service: str, problem: str, priority: int) -> None:
    assert trouble_priority(service, problem) == priority


def test_a_problem_of_the_other_service_is_refused_naming_the_field() -> None:
    with pytest.raises(Invalid) as err:
        trouble_priority("water", "wires_down")
    assert err.value.field == "problem" and "main_break" in err.value.message


async def test_hints_are_gathered_in_parallel_and_each_failure_stays_with_its_plugin() -> None:
    failures: list[tuple[str, str]] = []

    async def later() -> list[ContactHint]:
        await asyncio.sleep(0.01)
        return [ContactHint(kind="sos.eligible", text="Eligible for Serving Our Seniors", severity="warning")]

    async def hangs() -> list[ContactHint]:
        await asyncio.sleep(10)
        return []

    def raises() -> Any:
        raise RuntimeError("down")

    calls = [
        ("outage", lambda: [ContactHint(kind="outage.area", text="Outage in this area")]),
        ("sos", later),
        ("single", lambda: ContactHint(kind="one", text="just one")),
        ("as_dict", lambda: [{"kind": "d", "text": "from a dict"}]),
        ("none", lambda: None),
        ("slow", hangs),
        ("broken", raises),
        ("garbage", lambda: [42]),
    ]
    started = asyncio.get_running_loop().time()
    hints = await gather_hints(calls, 0.1, lambda source, exc: failures.append((source, type(exc).__name__)))
    assert asyncio.get_running_loop().time() - started < 1
    assert [(h.source, h.kind, h.severity) for h in hints] == [
        ("outage", "outage.area", "info"),
        ("sos", "sos.eligible", "warning"),
        ("single", "one", "info"),
        ("as_dict", "d", "info"),
    ]
    assert sorted(failures) == [
        ("broken", "RuntimeError"),
        ("garbage", "ValidationError"),
        ("slow", "TimeoutError"),
    ]
