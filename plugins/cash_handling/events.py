"""Events the cash window publishes (it subscribes to none).

Payloads carry ids, amounts in cents and who acted, never the passer's description, the customer's
contact details or any card data (not even the last four digits): those stay in the plugin's tables,
since the bus fans out to every subscriber (ARCHITECTURE §4).
"""

from __future__ import annotations

import datetime as dt

import msgspec

PAYMENT_POSTED = "hub.cash.payment.posted"
COUNTERFEIT_SEIZED = "hub.cash.counterfeit.seized"
DRAWER_CLOSED = "hub.cash.drawer.closed"
DRAWER_UNBALANCED = "hub.cash.drawer.unbalanced"
DROPBOX_COLLECTED = "hub.cash.dropbox.collected"


class PaymentPosted(msgspec.Struct, frozen=True, kw_only=True):
    source: str  # window | dropbox
    account_id: str
    amount_cents: int
    # The CCB tender type: cash | check | card. A card payment names its type only, never the card.
    tender_type: str = "cash"
    payment_id: str
    receipt_no: str | None
    drawer_id: int | None
    slip_id: int | None
    taken_by: str
    at: dt.datetime


class CounterfeitSeized(msgspec.Struct, frozen=True, kw_only=True):
    seized_note_id: int
    denomination: int
    payment_id: int | None
    reasons: list[str]
    seized_by: str
    at: dt.datetime


class DrawerClosed(msgspec.Struct, frozen=True, kw_only=True):
    drawer_id: int
    tender_control_id: str
    csr: str
    expected_cents: int
    counted_cents: int
    over_under_cents: int
    at: dt.datetime


class DropboxCollected(msgspec.Struct, frozen=True, kw_only=True):
    collection_id: int
    kind: str
    envelopes: int
    slips: int
    counter_cents: int
    cash_slips_cents: int
    counter_variance_cents: int
    collected_by: str
    at: dt.datetime


EVENT_TYPES: list[tuple[str, type[msgspec.Struct], str]] = [
    (
        PAYMENT_POSTED,
        PaymentPosted,
        "A window or drop-box payment was posted to CCB (once per idempotency key).",
    ),
    (COUNTERFEIT_SEIZED, CounterfeitSeized, "A suspected counterfeit note was seized and not credited."),
    (DRAWER_CLOSED, DrawerClosed, "A CSR's drawer was counted and its tender control balanced."),
    (DRAWER_UNBALANCED, DrawerClosed, "A drawer closed over or short; the lead was told."),
    (DROPBOX_COLLECTED, DropboxCollected, "A lead recorded a payment drop-box collection and its slips."),
]
