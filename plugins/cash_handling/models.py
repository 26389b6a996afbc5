"""Tables of the cash window (all prefixed ``cash_``): drawers, window payments, seized notes, the drop box.

The CCB keeps the money (tender controls, payment events, deposit controls: docs/ccb-domain.md §1.9); these
tables
keep what the CCB does not: the counts by denomination, the counterfeit checks per note, receipts, the SSF
1604 record and its custody log, and the drop-box collections with their slips. Idempotency keys are unique
columns, so a double-submitted form can never create two rows. Times are stored in UTC. A card payment
keeps only the last four digits and the approval code from the terminal's slip (docs/rules.md §1.5).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Table, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from core.contract.db import Base, UTCDateTime


class CashDrawer(Base):
    """A CSR's drawer for one day: the local side of one CCB tender control."""

    __tablename__ = "cash_drawer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tender_control_id: Mapped[str] = mapped_column(String(20), unique=True)
    csr: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(12), index=True)  # open | closed
    float_counts: Mapped[dict[str, int]] = mapped_column(JSON)
    starting_float_cents: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    opened_on: Mapped[dt.date] = mapped_column()  # local business day
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    counted_counts: Mapped[dict[str, int] | None] = mapped_column(JSON, nullable=True)
    counted_cents: Mapped[int | None] = mapped_column(Integer, nullable=True)
    expected_cents: Mapped[int | None] = mapped_column(Integer, nullable=True)
    over_under_cents: Mapped[int | None] = mapped_column(Integer, nullable=True)
    deposit_control_id: Mapped[str | None] = mapped_column(String(20), nullable=True, index=True)
    idempotency_key: Mapped[str] = mapped_column(String(140), unique=True)


class CashPayment(Base):
    """A window payment: the receipt, the notes with their checks (or the card slip), and its CCB payment."""

    __tablename__ = "cash_payment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    receipt_no: Mapped[str | None] = mapped_column(String(24), unique=True, nullable=True)
    drawer_id: Mapped[int] = mapped_column(ForeignKey("cash_drawer.id"), index=True)
    account_id: Mapped[str] = mapped_column(String(10), index=True)
    contact_id: Mapped[str] = mapped_column(String(64))
    # cash | card. Only cash is counted in the drawer; a card settles with the processor.
    tender_type: Mapped[str] = mapped_column(String(8), default="cash", server_default="cash")
    amount_cents: Mapped[int] = mapped_column(Integer)  # credited to the account
    received_cents: Mapped[int] = mapped_column(Integer)
    seized_cents: Mapped[int] = mapped_column(Integer)
    change_cents: Mapped[int] = mapped_column(Integer)
    coins_cents: Mapped[int] = mapped_column(Integer)
    note_counts: Mapped[dict[str, int]] = mapped_column(JSON)
    notes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # each note's checks and verdict
    payment_id: Mapped[str | None] = mapped_column(String(20), nullable=True)
    payment_event_id: Mapped[str | None] = mapped_column(String(20), nullable=True)
    balance_after_cents: Mapped[int | None] = mapped_column(Integer, nullable=True)
    mailed_to: Mapped[str | None] = mapped_column(String(200), nullable=True)
    taken_by: Mapped[str] = mapped_column(String(64))
    taken_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    idempotency_key: Mapped[str] = mapped_column(String(140), unique=True)
    # Card tenders only, copied from the terminal's slip: never the card number (docs/rules.md §1.5).
    card_type: Mapped[str | None] = mapped_column(String(8), nullable=True)  # credit | debit
    card_brand: Mapped[str | None] = mapped_column(String(12), nullable=True)
    card_last4: Mapped[str | None] = mapped_column(String(4), nullable=True)
    authorization_code: Mapped[str | None] = mapped_column(String(8), nullable=True)
    # The card terminal's id in the pci_inspection inventory; no foreign key, since that plugin is optional
    # and its tables are its own.
    terminal_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class CashSeizedNote(Base):
    """A suspected counterfeit note kept from the customer, with the SSF 1604 fields (docs/rules.md §2.4)."""

    __tablename__ = "cash_seized_note"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("cash_payment.id"), nullable=True, index=True)
    denomination: Mapped[int] = mapped_column(Integer)
    note: Mapped[dict[str, Any]] = mapped_column(JSON)
    receipt: Mapped[dict[str, Any]] = mapped_column(JSON)
    passer: Mapped[dict[str, Any]] = mapped_column(JSON)
    reporter: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), index=True)  # seized | with_supervisor | surrendered …
    holder: Mapped[str] = mapped_column(String(64))
    seized_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    seized_on: Mapped[dt.date] = mapped_column()  # local business day, for the submission deadline
    copy_offered: Mapped[bool] = mapped_column(default=True)
    usss_submission_id: Mapped[str | None] = mapped_column(String(60), nullable=True)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    submitted_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class CashCustody(Base):
    """One hand-over of a seized note: who held it from when (chain of custody)."""

    __tablename__ = "cash_custody"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    seized_note_id: Mapped[int] = mapped_column(ForeignKey("cash_seized_note.id"), index=True)
    from_holder: Mapped[str | None] = mapped_column(String(64), nullable=True)
    to_holder: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(30))  # seized | handed_over | surrendered
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(64))
    remarks: Mapped[str] = mapped_column(Text, default="")


class CashDropboxCollection(Base):
    """A lead's collection of the payment drop box (morning sweep or one of the day's rounds)."""

    __tablename__ = "cash_dropbox_collection"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(12))  # morning | intraday
    collected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    collected_by: Mapped[str] = mapped_column(String(64))
    envelopes: Mapped[int] = mapped_column(Integer)
    counter_cents: Mapped[int] = mapped_column(Integer)
    slips_cents: Mapped[int] = mapped_column(Integer)
    cash_slips_cents: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String(140), unique=True)
    # The lead opened the envelopes and checked each payment's type against its slip before handing out.
    types_verified: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class CashDropboxSlip(Base):
    """One payment slip from an envelope, handed to a CSR to post to the account written on it."""

    __tablename__ = "cash_dropbox_slip"
    __table_args__ = (UniqueConstraint("collection_id", "slip_no", name="uq_cash_dropbox_slip_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    collection_id: Mapped[int] = mapped_column(ForeignKey("cash_dropbox_collection.id"), index=True)
    slip_no: Mapped[int] = mapped_column(Integer)
    account_id: Mapped[str] = mapped_column(String(10))
    amount_cents: Mapped[int] = mapped_column(Integer)
    slip_type: Mapped[str] = mapped_column(String(12))
    check_number: Mapped[str | None] = mapped_column(String(20), nullable=True)
    assigned_to: Mapped[str] = mapped_column(String(64), index=True)
    posted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    posted_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    payment_id: Mapped[str | None] = mapped_column(String(20), nullable=True)


TABLES: list[Table] = [
    Base.metadata.tables[model.__tablename__]
    for model in (
        CashDrawer,
        CashPayment,
        CashSeizedNote,
        CashCustody,
        CashDropboxCollection,
        CashDropboxSlip,
    )
]
