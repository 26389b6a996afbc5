"""A seeded customer's bills and payments: each read cycle priced by the rate engine, paid oldest debt first.

Most customers pay on time, some late, some half, and some stop paying (past due). Payments are
distributed over the service agreements by the same rule the mock applies live (``billing``).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from core.ccb import codes
from core.ccb import models as m
from core.ccb.billing import (
    LedgerEntry,
    PricedSegment,
    balance_cents,
    distribute_payment,
    due_date_for,
    local_time,
    price_net_metered_segment,
    price_segment,
)
from core.ccb.ids import IdGenerator
from core.ccb.keys import twelve_digit_id
from core.ccb.rates import RateConfig
from core.ccb.reads import ReadType
from core.ccb.seed.base import READS_PER_YEAR, Meter, Rows


class History:
    """Bills and payments for the customer ``Generator`` builds (a mixin: it draws from the same streams)."""

    ids: IdGenerator
    rng: random.Random
    as_of: dt.date
    rates: RateConfig

    def _bills_and_payments(
        self,
        rows: Rows,
        account_id: str,
        meters: list[Meter],
        read_days: list[dt.date],
        zones: dict[str, str],
        lot_size: int,
    ) -> None:
        rng, ids = self.rng, self.ids
        # How this customer pays: on time, late, half, or (lately) not at all -> past due.
        habit = rng.choices(("prompt", "late", "partial", "delinquent"), (72, 14, 6, 8))[0]
        stop_paying_after = rng.randint(3, 5) if habit == "delinquent" else READS_PER_YEAR + 1
        ledger: list[LedgerEntry] = []
        order = [meter.sa_id for meter in meters]
        unbilled: list[dict[str, Any]] = []  # payment FTs waiting for the next bill
        for k in range(1, READS_PER_YEAR + 1):
            bill_day = read_days[k] + dt.timedelta(days=2)
            if bill_day > self.as_of:
                break
            due = due_date_for(bill_day)
            bill_id = ids.bill_id()
            at = local_time(bill_day, 6)
            current = 0
            segments: list[dict[str, Any]] = []
            fts: list[dict[str, Any]] = []
            for meter in meters:
                start_id, start_day, start_reading, _ = meter.reads[k - 1]
                end_id, end_day, end_reading, end_type = meter.reads[k]
                estimated = ReadType(end_type).is_estimate
                priced: PricedSegment
                if meter.received is not None:
                    received_start, received_end = meter.received[k - 1][2], meter.received[k][2]
                    priced = price_net_metered_segment(
                        self.rates,
                        zones[meter.service],
                        start_day,
                        end_day,
                        delivered_readings=(start_reading, end_reading),
                        received_readings=(received_start, received_end),
                        register_digits=meter.digits,
                        credit_in_kwh=meter.credit_kwh,
                    )
                    assert priced.net_metering is not None
                    meter.credit_kwh = priced.net_metering.credit_out
                    estimated = estimated or ReadType(meter.received[k][3]).is_estimate
                else:
                    priced = price_segment(
                        self.rates,
                        "electric" if meter.service == "electric" else "water",
                        zones[meter.service],
                        lot_size,
                        start_day,
                        end_day,
                        start_reading,
                        end_reading,
                        meter.digits,
                    )
                seg_id = ids.bill_segment_id()
                segments.append(
                    {
                        "id": seg_id,
                        "bill_id": bill_id,
                        "sa_id": meter.sa_id,
                        "status": codes.BsegStatus.FROZEN.value,
                        "period_start": start_day,
                        "period_end": end_day,
                        "start_read_id": start_id,
                        "end_read_id": end_id,
                        "start_reading": start_reading,
                        "end_reading": end_reading,
                        "estimated": estimated,
                        "quantity": str(priced.calculation.quantity),
                        "tier_quantities": priced.tier_quantities,
                        "calc": priced.calc,
                        "amount_cents": priced.amount_cents,
                        "rebill_of": None,
                        "cancel_reason": None,
                        "created_at": at,
                        "frozen_at": at,
                        "canceled_at": None,
                    }
                )
                ft_id = ids.ft_id()
                fts.append(
                    self._ft(ft_id, account_id, meter.sa_id, "BS", seg_id, priced.amount_cents, at, bill_day)
                )
                fts[-1].update(arrears_date=due, bill_id=bill_id)
                ledger.append(LedgerEntry(ft_id, meter.sa_id, "BS", priced.amount_cents, due))
                current += priced.amount_cents
            payments = 0
            for row in unbilled:
                row["bill_id"] = bill_id
                payments += row["amount_cents"]
            unbilled = []
            amount_due = balance_cents(ledger)
            rows.add(
                m.Bill,
                {
                    "id": bill_id,
                    "account_id": account_id,
                    "status": codes.BillStatus.COMPLETE.value,
                    "bill_date": bill_day,
                    "due_date": due,
                    "cut_off": bill_day,
                    "is_final": False,
                    "previous_balance_cents": amount_due - current - payments,
                    "payments_cents": payments,
                    "adjustments_cents": 0,
                    "current_charges_cents": current,
                    "amount_due_cents": amount_due,
                    "created_at": at,
                    "completed_at": at,
                },
            )
            for seg in segments:
                rows.add(m.BillSegment, seg)
            for ft in fts:
                rows.add(m.FinancialTransaction, ft)

            if k > stop_paying_after:
                continue
            delay = {"prompt": (4, 18), "late": (21, 45), "partial": (8, 18), "delinquent": (5, 30)}[habit]
            pay_day = bill_day + dt.timedelta(days=rng.randint(*delay))
            if pay_day > self.as_of or amount_due <= 0:
                continue
            amount = amount_due if habit != "partial" else max(100, amount_due // 2)
            unbilled.extend(self._payment(rows, ledger, order, account_id, amount, pay_day))

    def _payment(
        self,
        rows: Rows,
        ledger: list[LedgerEntry],
        order: list[str],
        account_id: str,
        amount: int,
        day: dt.date,
    ) -> list[dict[str, Any]]:
        rng, ids = self.rng, self.ids
        at = local_time(day, rng.randint(8, 19), rng.randrange(60))
        event_id, payment_id = ids.payment_event_id(), ids.payment_id()
        kind = rng.choices(("cash", "check", "card"), (10, 25, 65))[0]
        rows.add(
            m.PaymentEvent,
            {
                "id": event_id,
                "received_at": at,
                "amount_cents": amount,
                "created_by": "seed",
                "created_at": at,
            },
        )
        rows.add(
            m.Tender,
            {
                "id": ids.tender_id(),
                "payment_event_id": event_id,
                "tender_type": kind,
                "amount_cents": amount,
                "status": codes.TenderStatus.VALID.value,
                "check_number": f"{rng.randrange(100, 99_999)}" if kind == "check" else None,
                "masked_pan": f"************{rng.randrange(10_000):04d}" if kind == "card" else None,
                "card_brand": rng.choice(("VISA", "MC", "AMEX", "DISC")) if kind == "card" else None,
                "tender_control_id": None,
                "cancel_reason": None,
                "created_at": at,
            },
        )
        rows.add(
            m.Payment,
            {
                "id": payment_id,
                "payment_event_id": event_id,
                "account_id": account_id,
                "amount_cents": amount,
                "status": codes.PaymentStatus.FROZEN.value,
                "cancel_reason": None,
                "frozen_at": at,
                "canceled_at": None,
            },
        )
        posted: list[dict[str, Any]] = []
        split = distribute_payment(ledger, amount, order)
        for sa_id in order:
            part = split.get(sa_id, 0)
            if not part:
                continue
            seg_id = twelve_digit_id(ids)
            rows.add(
                m.PaySegment, {"id": seg_id, "payment_id": payment_id, "sa_id": sa_id, "amount_cents": part}
            )
            ft_id = ids.ft_id()
            ft = self._ft(ft_id, account_id, sa_id, "PS", seg_id, -part, at, day)
            rows.add(m.FinancialTransaction, ft)
            ledger.append(LedgerEntry(ft_id, sa_id, "PS", -part, None))
            posted.append(ft)
        return posted

    @staticmethod
    def _ft(
        ft_id: str,
        account_id: str,
        sa_id: str,
        ft_type: str,
        parent: str,
        cents: int,
        at: dt.datetime,
        day: dt.date,
    ) -> dict[str, Any]:
        return {
            "id": ft_id,
            "account_id": account_id,
            "sa_id": sa_id,
            "ft_type": ft_type,
            "parent_id": parent,
            "amount_cents": cents,
            "frozen": True,
            "cancels_ft_id": None,
            "accounting_date": day,
            "arrears_date": None,
            "bill_id": None,
            "created_at": at,
        }
