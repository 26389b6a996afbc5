"""Tables of the CCB mock (``ccb_`` prefix): the object model of docs/ccb-domain.md §1, money in integer
cents.

Keys are client-generated CCB-style random digit strings (ids.py, §1.2): no table here autoincrements, so
rows can be built as dicts and inserted in bulk. Business dates (start/stop, bill, due, arrears dates) are
``Date``; instants are ``UTCDateTime``. Identity factors are stored only as keyed hashes (docs/rules.md §4.3).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime

__all__ = [
    "Account",
    "AccountPerson",
    "Adjustment",
    "Alert",
    "Bill",
    "BillSegment",
    "Case",
    "CaseLog",
    "CustomerContact",
    "Deposit",
    "DepositControl",
    "FieldActivity",
    "FinancialTransaction",
    "IdempotencyRecord",
    "Meter",
    "MeterInstall",
    "MeterRead",
    "PayPlan",
    "PayPlanInstallment",
    "PaySegment",
    "Payment",
    "PaymentArrangement",
    "PaymentEvent",
    "Person",
    "Premise",
    "PremiseNote",
    "Register",
    "ServiceAgreement",
    "ServicePoint",
    "Tender",
    "TenderControl",
    "ToDo",
]

ID10 = String(10)
ID12 = String(12)
ID14 = String(14)
HASH = String(64)


# ---------------------------------------------------------------------------------------------------
# Person, account, account-person (§1.3)


class Person(Base):
    """An individual or business; phones are stored as 10 digits so lookups by phone are exact."""

    __tablename__ = "ccb_person"

    id: Mapped[str] = mapped_column(ID10, primary_key=True)
    first_name: Mapped[str] = mapped_column(String(60))
    last_name: Mapped[str] = mapped_column(String(60))
    phone: Mapped[str] = mapped_column(String(10), index=True)
    alt_phone: Mapped[str | None] = mapped_column(String(10), index=True)
    email: Mapped[str | None] = mapped_column(String(120))
    mail_line1: Mapped[str] = mapped_column(String(120))
    mail_line2: Mapped[str | None] = mapped_column(String(120))
    mail_city: Mapped[str] = mapped_column(String(60))
    mail_state: Mapped[str] = mapped_column(String(2))
    mail_zip: Mapped[str] = mapped_column(String(10))
    language: Mapped[str] = mapped_column(String(8))
    life_support: Mapped[bool] = mapped_column(Boolean)
    # HMAC-SHA-256 under the identity key, never the clear value; the version allows key rotation.
    access_code_hash: Mapped[str | None] = mapped_column(HASH)
    ssn_last4_hash: Mapped[str | None] = mapped_column(HASH)
    identity_key_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Account(Base):
    """The billing unit; carries the per-account identity-verification lock (docs/rules.md §4.2)."""

    __tablename__ = "ccb_account"

    id: Mapped[str] = mapped_column(ID10, primary_key=True)
    customer_class: Mapped[str] = mapped_column(String(8))
    bill_cycle: Mapped[str] = mapped_column(String(4))
    cis_division: Mapped[str] = mapped_column(String(8))
    setup_date: Mapped[dt.date] = mapped_column(Date)
    # Mailing address override; NULL means "the main customer's mailing address".
    mail_line1: Mapped[str | None] = mapped_column(String(120))
    mail_line2: Mapped[str | None] = mapped_column(String(120))
    mail_city: Mapped[str | None] = mapped_column(String(60))
    mail_state: Mapped[str | None] = mapped_column(String(2))
    mail_zip: Mapped[str | None] = mapped_column(String(10))
    verify_failures: Mapped[int] = mapped_column(Integer)
    verify_window_start: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    verify_locked: Mapped[bool] = mapped_column(Boolean)
    verify_locked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class AccountPerson(Base):
    """Account-person link: exactly one main customer per account, who is financially responsible (§1.3)."""

    __tablename__ = "ccb_account_person"
    __table_args__ = (
        CheckConstraint("NOT is_main_customer OR financially_responsible", name="main_is_responsible"),
        # At most one main customer per account, enforced by the database (partial unique index on both
        # SQLite and PostgreSQL); "at least one" is the service's job (it never removes the main customer).
        Index(
            "uq_ccb_account_person_main",
            "account_id",
            unique=True,
            sqlite_where=text("is_main_customer = 1"),
            postgresql_where=text("is_main_customer"),
        ),
    )

    account_id: Mapped[str] = mapped_column(ForeignKey("ccb_account.id"), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("ccb_person.id"), primary_key=True, index=True)
    is_main_customer: Mapped[bool] = mapped_column(Boolean)
    financially_responsible: Mapped[bool] = mapped_column(Boolean)
    relationship: Mapped[str] = mapped_column(String(20))
    receives_bill_copy: Mapped[bool] = mapped_column(Boolean)


# ---------------------------------------------------------------------------------------------------
# Premise, service point, meter, install history, reads (§1.4)


class Premise(Base):
    """A service address with LADWP characteristics and the property access a field crew needs."""

    __tablename__ = "ccb_premise"

    id: Mapped[str] = mapped_column(ID10, primary_key=True)
    premise_type: Mapped[str] = mapped_column(String(8))
    line1: Mapped[str] = mapped_column(String(120))
    line2: Mapped[str | None] = mapped_column(String(120))
    city: Mapped[str] = mapped_column(String(60))
    state: Mapped[str] = mapped_column(String(2))
    zip: Mapped[str] = mapped_column(String(10), index=True)
    service_area_code: Mapped[str] = mapped_column(String(8))
    electric_zone: Mapped[str] = mapped_column(String(1))
    water_temperature_zone: Mapped[str] = mapped_column(String(8))
    lot_size_sqft: Mapped[int] = mapped_column(Integer)
    gate_code: Mapped[str | None] = mapped_column(String(20))
    has_dog: Mapped[bool] = mapped_column(Boolean)
    hazards: Mapped[str | None] = mapped_column(Text)
    reader_notes: Mapped[str | None] = mapped_column(Text)
    access_updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ServicePoint(Base):
    """Where one service is delivered at a premise (E electric, W water)."""

    __tablename__ = "ccb_service_point"

    id: Mapped[str] = mapped_column(ID10, primary_key=True)
    premise_id: Mapped[str] = mapped_column(ForeignKey("ccb_premise.id"), index=True)
    service: Mapped[str] = mapped_column(String(8))
    sp_type: Mapped[str] = mapped_column(String(8))
    connected: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Meter(Base):
    """A meter whose registers (``Register``) have ``register_digits`` whole dials of ``unit`` (KWH or HCF).

    ``unit`` and ``register_digits`` are the meter's nameplate; every register of a mock meter shares them.
    """

    __tablename__ = "ccb_meter"

    id: Mapped[str] = mapped_column(ID10, primary_key=True)
    badge_number: Mapped[str] = mapped_column(String(30), unique=True)
    meter_type: Mapped[str] = mapped_column(String(8))  # dial | digital
    service: Mapped[str] = mapped_column(String(8))
    unit: Mapped[str] = mapped_column(String(4))
    register_digits: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Register(Base):
    """One register of a meter (§1.4): register 1 "delivered" on every meter, register 2 "received" on a
    net meter (kWh the customer's generation sent to the grid, §4.1). Both are subtractive."""

    __tablename__ = "ccb_register"

    meter_id: Mapped[str] = mapped_column(ForeignKey("ccb_meter.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    flow: Mapped[str] = mapped_column(String(10))  # codes.REGISTER_FLOWS: delivered | received
    unit: Mapped[str] = mapped_column(String(4))
    digits: Mapped[int] = mapped_column(Integer)


class MeterInstall(Base):
    """SP install history: meter exchanges keep the history of which meter served the SP when (§1.4)."""

    __tablename__ = "ccb_meter_install"

    id: Mapped[str] = mapped_column(ID10, primary_key=True)
    sp_id: Mapped[str] = mapped_column(ForeignKey("ccb_service_point.id"), index=True)
    meter_id: Mapped[str] = mapped_column(ForeignKey("ccb_meter.id"), index=True)
    installed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    install_reading: Mapped[int] = mapped_column(Integer)
    removed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    removal_reading: Mapped[int | None] = mapped_column(Integer)


class MeterRead(Base):
    """One register read; ``read_type`` is a ``reads.ReadType`` code, ``reading`` is NULL for a No Read.

    ``register_seq`` names the meter's register (``Register.seq``); reads stored before meters had several
    registers are register 1. A meter read of a net meter is one row per register with the same
    ``read_at`` (§1.4: one register read per register). The pair (meter_id, register_seq) is checked by
    the service rather than by a composite foreign key: adding one to this existing table would need a
    table rebuild, which SQLite refuses while bills and SAs reference its rows.
    """

    __tablename__ = "ccb_meter_read"
    __table_args__ = (Index("ix_ccb_meter_read_meter_at", "meter_id", "read_at"),)

    id: Mapped[str] = mapped_column(ID12, primary_key=True)
    meter_id: Mapped[str] = mapped_column(ForeignKey("ccb_meter.id"))
    register_seq: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    read_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    reading: Mapped[int | None] = mapped_column(Integer)
    read_type: Mapped[str] = mapped_column(String(2))
    use_on_bill: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(16))
    high_low: Mapped[str | None] = mapped_column(String(12))
    remarks: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


# ---------------------------------------------------------------------------------------------------
# Service agreement (§1.5); one SP per SA in the mock (the SA/SP link's start/stop reads live here)


class ServiceAgreement(Base):
    __tablename__ = "ccb_service_agreement"

    id: Mapped[str] = mapped_column(ID10, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("ccb_account.id"), index=True)
    premise_id: Mapped[str | None] = mapped_column(ForeignKey("ccb_premise.id"), index=True)
    sp_id: Mapped[str | None] = mapped_column(ForeignKey("ccb_service_point.id"), index=True)
    sa_type: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(2))
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    rate_schedule: Mapped[str | None] = mapped_column(String(8))
    zone: Mapped[str | None] = mapped_column(String(8))
    start_read_id: Mapped[str | None] = mapped_column(ForeignKey("ccb_meter_read.id"))
    stop_read_id: Mapped[str | None] = mapped_column(ForeignKey("ccb_meter_read.id"))
    final_billed: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


# ---------------------------------------------------------------------------------------------------
# Bills, bill segments, financial transactions (§1.7, §1.1)


class Bill(Base):
    """An account's bill. The money fields are the bill as printed when it was completed."""

    __tablename__ = "ccb_bill"

    id: Mapped[str] = mapped_column(ID12, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("ccb_account.id"), index=True)
    status: Mapped[str] = mapped_column(String(1))
    bill_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    cut_off: Mapped[dt.date] = mapped_column(Date)
    is_final: Mapped[bool] = mapped_column(Boolean)
    previous_balance_cents: Mapped[int] = mapped_column(BigInteger)
    payments_cents: Mapped[int] = mapped_column(BigInteger)
    adjustments_cents: Mapped[int] = mapped_column(BigInteger)
    current_charges_cents: Mapped[int] = mapped_column(BigInteger)
    amount_due_cents: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class BillSegment(Base):
    """One SA's part of a bill: period [start, end), reads, quantities per tier and the calculation."""

    __tablename__ = "ccb_bill_segment"

    id: Mapped[str] = mapped_column(ID12, primary_key=True)
    bill_id: Mapped[str] = mapped_column(ForeignKey("ccb_bill.id"), index=True)
    sa_id: Mapped[str] = mapped_column(ForeignKey("ccb_service_agreement.id"), index=True)
    status: Mapped[str] = mapped_column(String(2))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    start_read_id: Mapped[str | None] = mapped_column(ForeignKey("ccb_meter_read.id"))
    end_read_id: Mapped[str | None] = mapped_column(ForeignKey("ccb_meter_read.id"))
    start_reading: Mapped[int | None] = mapped_column(Integer)
    end_reading: Mapped[int | None] = mapped_column(Integer)
    estimated: Mapped[bool] = mapped_column(Boolean)
    quantity: Mapped[str] = mapped_column(String(20))  # exact decimal text, e.g. "1500.00"
    tier_quantities: Mapped[list[str]] = mapped_column(JSON)
    calc: Mapped[dict[str, Any]] = mapped_column(JSON)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    rebill_of: Mapped[str | None] = mapped_column(ForeignKey("ccb_bill_segment.id"))
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    frozen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    canceled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class FinancialTransaction(Base):
    """An FT: charges positive, credits negative. An account's balance is the sum of its frozen FTs.

    ``parent_id`` is the bill segment, adjustment or pay segment that posted it; a cancellation posts a
    new FT of the cancel type with the opposite amount and ``cancels_ft_id`` pointing at the original.
    ``arrears_date`` is the due date of the bill the charge appeared on (NULL until billed); ``bill_id`` is
    that bill.
    """

    __tablename__ = "ccb_financial_transaction"

    id: Mapped[str] = mapped_column(ID12, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("ccb_account.id"), index=True)
    sa_id: Mapped[str] = mapped_column(ForeignKey("ccb_service_agreement.id"), index=True)
    ft_type: Mapped[str] = mapped_column(String(2))
    parent_id: Mapped[str] = mapped_column(String(14), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    frozen: Mapped[bool] = mapped_column(Boolean)
    cancels_ft_id: Mapped[str | None] = mapped_column(ForeignKey("ccb_financial_transaction.id"), unique=True)
    accounting_date: Mapped[dt.date] = mapped_column(Date)
    arrears_date: Mapped[dt.date | None] = mapped_column(Date)
    bill_id: Mapped[str | None] = mapped_column(ForeignKey("ccb_bill.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Adjustment(Base):
    """A charge or credit on an SA; the type decides sign and approval (§1.8)."""

    __tablename__ = "ccb_adjustment"

    id: Mapped[str] = mapped_column(ID12, primary_key=True)
    sa_id: Mapped[str] = mapped_column(ForeignKey("ccb_service_agreement.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("ccb_account.id"), index=True)
    adjustment_type: Mapped[str] = mapped_column(String(20))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(2))
    reason: Mapped[str] = mapped_column(String(200))
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    approved_by: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    frozen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    canceled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


# ---------------------------------------------------------------------------------------------------
# Payments, tenders, cash drawers (§1.9)


class PaymentEvent(Base):
    """One receipt of money: tenders in, payments out; balanced when both totals agree."""

    __tablename__ = "ccb_payment_event"

    id: Mapped[str] = mapped_column(ID12, primary_key=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Tender(Base):
    """Cash, check or card; for a card only the masked PAN is ever stored (PCI, docs/rules.md §1.5)."""

    __tablename__ = "ccb_tender"

    id: Mapped[str] = mapped_column(ID12, primary_key=True)
    payment_event_id: Mapped[str] = mapped_column(ForeignKey("ccb_payment_event.id"), index=True)
    tender_type: Mapped[str] = mapped_column(String(8))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10))
    check_number: Mapped[str | None] = mapped_column(String(20))
    masked_pan: Mapped[str | None] = mapped_column(String(19))
    card_brand: Mapped[str | None] = mapped_column(String(12))
    tender_control_id: Mapped[str | None] = mapped_column(ForeignKey("ccb_tender_control.id"), index=True)
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Payment(Base):
    """The part of a payment event that pays one account."""

    __tablename__ = "ccb_payment"

    id: Mapped[str] = mapped_column(ID12, primary_key=True)
    payment_event_id: Mapped[str] = mapped_column(ForeignKey("ccb_payment_event.id"), index=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("ccb_account.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(2))
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    frozen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    canceled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class PaySegment(Base):
    """A payment's distribution to one SA; it posts the PS FT."""

    __tablename__ = "ccb_pay_segment"

    id: Mapped[str] = mapped_column(ID12, primary_key=True)
    payment_id: Mapped[str] = mapped_column(ForeignKey("ccb_payment.id"), index=True)
    sa_id: Mapped[str] = mapped_column(ForeignKey("ccb_service_agreement.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(BigInteger)


class TenderControl(Base):
    """One balancing session of a CSR's cash drawer: float + tenders taken = expected vs counted."""

    __tablename__ = "ccb_tender_control"

    id: Mapped[str] = mapped_column(ID10, primary_key=True)
    csr: Mapped[str] = mapped_column(String(64), index=True)
    tender_source: Mapped[str] = mapped_column(String(20))
    starting_float_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10))
    expected_cents: Mapped[int | None] = mapped_column(BigInteger)
    counted_cents: Mapped[int | None] = mapped_column(BigInteger)
    over_under_cents: Mapped[int | None] = mapped_column(BigInteger)
    deposit_control_id: Mapped[str | None] = mapped_column(ForeignKey("ccb_deposit_control.id"), index=True)
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    balancing_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    balanced_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class DepositControl(Base):
    """Balanced tender controls grouped into one bank deposit."""

    __tablename__ = "ccb_deposit_control"

    id: Mapped[str] = mapped_column(ID10, primary_key=True)
    status: Mapped[str] = mapped_column(String(10))
    total_cents: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


# ---------------------------------------------------------------------------------------------------
# Pay plans, payment arrangements, deposits (§1.10, §1.11)


class PayPlan(Base):
    """A promise to pay on chosen dates, off the bills (§1.10); installments are the schedule."""

    __tablename__ = "ccb_pay_plan"

    id: Mapped[str] = mapped_column(ID10, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("ccb_account.id"), index=True)
    status: Mapped[str] = mapped_column(String(10))
    total_cents: Mapped[int] = mapped_column(BigInteger)
    cadence: Mapped[str] = mapped_column(String(10))
    third_party_payor_account_id: Mapped[str | None] = mapped_column(ForeignKey("ccb_account.id"))
    hardship_reason: Mapped[str | None] = mapped_column(String(200))
    missed_installments: Mapped[int] = mapped_column(Integer)
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class PayPlanInstallment(Base):
    __tablename__ = "ccb_pay_plan_installment"

    pay_plan_id: Mapped[str] = mapped_column(ForeignKey("ccb_pay_plan.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    due_date: Mapped[dt.date] = mapped_column(Date)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10))


class PaymentArrangement(Base):
    """Arrears moved onto a payment-arrangement SA and billed as installments on regular bills (§1.10)."""

    __tablename__ = "ccb_payment_arrangement"

    id: Mapped[str] = mapped_column(ID10, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("ccb_account.id"), index=True)
    sa_id: Mapped[str] = mapped_column(ForeignKey("ccb_service_agreement.id"))
    status: Mapped[str] = mapped_column(String(10))
    arrears_cents: Mapped[int] = mapped_column(BigInteger)
    installments: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Deposit(Base):
    """A cash deposit held on a deposit SA (§1.11)."""

    __tablename__ = "ccb_deposit"

    id: Mapped[str] = mapped_column(ID10, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("ccb_account.id"), index=True)
    sa_id: Mapped[str] = mapped_column(ForeignKey("ccb_service_agreement.id"))
    status: Mapped[str] = mapped_column(String(10))
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    recommended_cents: Mapped[int] = mapped_column(BigInteger)
    requested_on: Mapped[dt.date] = mapped_column(Date)
    refund_review_on: Mapped[dt.date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


# ---------------------------------------------------------------------------------------------------
# Customer contact, premise notes, alerts (§1.12, §1.13)


class CustomerContact(Base):
    """The interaction log: class + type, person- or premise-based, open until the issue is resolved."""

    __tablename__ = "ccb_customer_contact"

    id: Mapped[str] = mapped_column(ID10, primary_key=True)
    contact_class: Mapped[str] = mapped_column(String(12))
    contact_type: Mapped[str] = mapped_column(String(20))
    entity: Mapped[str] = mapped_column(String(4))  # PER | PREM
    person_id: Mapped[str | None] = mapped_column(ForeignKey("ccb_person.id"), index=True)
    account_id: Mapped[str | None] = mapped_column(ForeignKey("ccb_account.id"), index=True)
    premise_id: Mapped[str | None] = mapped_column(ForeignKey("ccb_premise.id"), index=True)
    method: Mapped[str] = mapped_column(String(12))
    status: Mapped[str] = mapped_column(String(2))
    log_text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class PremiseNote(Base):
    """A note about the premise shown to whoever works it (not a CCB object: §1.13 [~])."""

    __tablename__ = "ccb_premise_note"

    id: Mapped[str] = mapped_column(ID10, primary_key=True)
    premise_id: Mapped[str] = mapped_column(ForeignKey("ccb_premise.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Alert(Base):
    """An account alert shown whenever the account is opened, until it expires (§1.13)."""

    __tablename__ = "ccb_alert"

    id: Mapped[str] = mapped_column(ID10, primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("ccb_account.id"), index=True)
    alert_type: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


# ---------------------------------------------------------------------------------------------------
# Case, field activity, To Do (§1.14-§1.16)


class Case(Base):
    """A case whose type defines its statuses and transitions (codes.CASE_TYPES)."""

    __tablename__ = "ccb_case"

    id: Mapped[str] = mapped_column(ID10, primary_key=True)
    case_type: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    account_id: Mapped[str | None] = mapped_column(ForeignKey("ccb_account.id"), index=True)
    person_id: Mapped[str | None] = mapped_column(ForeignKey("ccb_person.id"))
    premise_id: Mapped[str | None] = mapped_column(ForeignKey("ccb_premise.id"), index=True)
    contact_id: Mapped[str | None] = mapped_column(ForeignKey("ccb_customer_contact.id"))
    meter_id: Mapped[str | None] = mapped_column(ForeignKey("ccb_meter.id"), index=True)
    summary: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class CaseLog(Base):
    """The case log: one entry per status change or note."""

    __tablename__ = "ccb_case_log"

    case_id: Mapped[str] = mapped_column(ForeignKey("ccb_case.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class FieldActivity(Base):
    """A field order on a premise / SP (14-digit C2M activity id)."""

    __tablename__ = "ccb_field_activity"

    id: Mapped[str] = mapped_column(ID14, primary_key=True)
    fa_type: Mapped[str] = mapped_column(String(20))
    priority: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(1))
    premise_id: Mapped[str] = mapped_column(ForeignKey("ccb_premise.id"), index=True)
    sp_id: Mapped[str | None] = mapped_column(ForeignKey("ccb_service_point.id"))
    sa_id: Mapped[str | None] = mapped_column(ForeignKey("ccb_service_agreement.id"), index=True)
    case_id: Mapped[str | None] = mapped_column(ForeignKey("ccb_case.id"), index=True)
    scheduled_on: Mapped[dt.date | None] = mapped_column(Date)
    instructions: Mapped[str | None] = mapped_column(Text)
    read_id: Mapped[str | None] = mapped_column(ForeignKey("ccb_meter_read.id"))
    remarks: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class ToDo(Base):
    """A To Do entry for a role's queue, with drill keys to the object it is about."""

    __tablename__ = "ccb_todo"
    __table_args__ = (Index("ix_ccb_todo_role_status", "role", "status"),)

    id: Mapped[str] = mapped_column(ID12, primary_key=True)
    role: Mapped[str] = mapped_column(String(30))
    todo_type: Mapped[str] = mapped_column(String(30))
    priority: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text)
    related_kind: Mapped[str | None] = mapped_column(String(30))
    related_id: Mapped[str | None] = mapped_column(String(14))
    status: Mapped[str] = mapped_column(String(1))
    assigned_to: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


# ---------------------------------------------------------------------------------------------------
# Idempotency of writes


class IdempotencyRecord(Base):
    """The stored answer of a write made with an idempotency key; a retry gets the same answer back."""

    __tablename__ = "ccb_idempotency"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    operation: Mapped[str] = mapped_column(String(40))
    request_hash: Mapped[str] = mapped_column(HASH)
    response: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
