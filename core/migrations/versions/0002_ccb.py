"""CCB mock tables: persons, accounts, premises, meters and reads, SAs, bills and FTs, payments and cash
drawers, pay plans, arrangements, deposits, contacts, notes, alerts, cases, field activities, To Dos.

Revision ID: 0002_ccb
Revises: 0001_core
Create Date: 2026-11-27 04:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_ccb"
down_revision = "0001_core"
branch_labels = ("ccb",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ccb_account",
        sa.Column("id", sa.String(length=10), nullable=False),
        sa.Column("customer_class", sa.String(length=8), nullable=False),
        sa.Column("bill_cycle", sa.String(length=4), nullable=False),
        sa.Column("cis_division", sa.String(length=8), nullable=False),
        sa.Column("setup_date", sa.Date(), nullable=False),
        sa.Column("mail_line1", sa.String(length=120), nullable=True),
        sa.Column("mail_line2", sa.String(length=120), nullable=True),
        sa.Column("mail_city", sa.String(length=60), nullable=True),
        sa.Column("mail_state", sa.String(length=2), nullable=True),
        sa.Column("mail_zip", sa.String(length=10), nullable=True),
        sa.Column("verify_failures", sa.Integer(), nullable=False),
        sa.Column("verify_window_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verify_locked", sa.Boolean(), nullable=False),
        sa.Column("verify_locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ccb_account")),
    )
    op.create_table(
        "ccb_deposit_control",
        sa.Column("id", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ccb_deposit_control")),
    )
    op.create_table(
        "ccb_idempotency",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("operation", sa.String(length=40), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("response", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_ccb_idempotency")),
    )
    op.create_table(
        "ccb_meter",
        sa.Column("id", sa.String(length=10), nullable=False),
        sa.Column("badge_number", sa.String(length=30), nullable=False),
        sa.Column("meter_type", sa.String(length=8), nullable=False),
        sa.Column("service", sa.String(length=8), nullable=False),
        sa.Column("unit", sa.String(length=4), nullable=False),
        sa.Column("register_digits", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ccb_meter")),
        sa.UniqueConstraint("badge_number", name=op.f("uq_ccb_meter_badge_number")),
    )
    op.create_table(
        "ccb_payment_event",
        sa.Column("id", sa.String(length=12), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ccb_payment_event")),
    )
    op.create_table(
        "ccb_person",
        sa.Column("id", sa.String(length=10), nullable=False),
        sa.Column("first_name", sa.String(length=60), nullable=False),
        sa.Column("last_name", sa.String(length=60), nullable=False),
        sa.Column("phone", sa.String(length=10), nullable=False),
        sa.Column("alt_phone", sa.String(length=10), nullable=True),
        sa.Column("email", sa.String(length=120), nullable=True),
        sa.Column("mail_line1", sa.String(length=120), nullable=False),
        sa.Column("mail_line2", sa.String(length=120), nullable=True),
        sa.Column("mail_city", sa.String(length=60), nullable=False),
        sa.Column("mail_state", sa.String(length=2), nullable=False),
        sa.Column("mail_zip", sa.String(length=10), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("life_support", sa.Boolean(), nullable=False),
        sa.Column("access_code_hash", sa.String(length=64), nullable=True),
        sa.Column("ssn_last4_hash", sa.String(length=64), nullable=True),
        sa.Column("identity_key_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ccb_person")),
    )
    op.create_index(op.f("ix_ccb_person_alt_phone"), "ccb_person", ["alt_phone"], unique=False)
    op.create_index(op.f("ix_ccb_person_phone"), "ccb_person", ["phone"], unique=False)
    op.create_table(
        "ccb_premise",
        sa.Column("id", sa.String(length=10), nullable=False),
        sa.Column("premise_type", sa.String(length=8), nullable=False),
        sa.Column("line1", sa.String(length=120), nullable=False),
        sa.Column("line2", sa.String(length=120), nullable=True),
        sa.Column("city", sa.String(length=60), nullable=False),
        sa.Column("state", sa.String(length=2), nullable=False),
        sa.Column("zip", sa.String(length=10), nullable=False),
        sa.Column("service_area_code", sa.String(length=8), nullable=False),
        sa.Column("electric_zone", sa.String(length=1), nullable=False),
        sa.Column("water_temperature_zone", sa.String(length=8), nullable=False),
        sa.Column("lot_size_sqft", sa.Integer(), nullable=False),
        sa.Column("gate_code", sa.String(length=20), nullable=True),
        sa.Column("has_dog", sa.Boolean(), nullable=False),
        sa.Column("hazards", sa.Text(), nullable=True),
        sa.Column("reader_notes", sa.Text(), nullable=True),
        sa.Column("access_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ccb_premise")),
    )
    op.create_index(op.f("ix_ccb_premise_zip"), "ccb_premise", ["zip"], unique=False)
    op.create_table(
        "ccb_todo",
        sa.Column("id", sa.String(length=12), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("todo_type", sa.String(length=30), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("related_kind", sa.String(length=30), nullable=True),
        sa.Column("related_id", sa.String(length=14), nullable=True),
        sa.Column("status", sa.String(length=1), nullable=False),
        sa.Column("assigned_to", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ccb_todo")),
    )
    op.create_index("ix_ccb_todo_role_status", "ccb_todo", ["role", "status"], unique=False)
    op.create_table(
        "ccb_account_person",
        sa.Column("account_id", sa.String(length=10), nullable=False),
        sa.Column("person_id", sa.String(length=10), nullable=False),
        sa.Column("is_main_customer", sa.Boolean(), nullable=False),
        sa.Column("financially_responsible", sa.Boolean(), nullable=False),
        sa.Column("relationship", sa.String(length=20), nullable=False),
        sa.Column("receives_bill_copy", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "NOT is_main_customer OR financially_responsible",
            name=op.f("ck_ccb_account_person_main_is_responsible"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["ccb_account.id"], name=op.f("fk_ccb_account_person_account_id_ccb_account")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["ccb_person.id"], name=op.f("fk_ccb_account_person_person_id_ccb_person")
        ),
        sa.PrimaryKeyConstraint("account_id", "person_id", name=op.f("pk_ccb_account_person")),
    )
    op.create_index(
        op.f("ix_ccb_account_person_person_id"), "ccb_account_person", ["person_id"], unique=False
    )
    op.create_index(
        "uq_ccb_account_person_main",
        "ccb_account_person",
        ["account_id"],
        unique=True,
        sqlite_where=sa.text("is_main_customer = 1"),
        postgresql_where=sa.text("is_main_customer"),
    )
    op.create_table(
        "ccb_alert",
        sa.Column("id", sa.String(length=10), nullable=False),
        sa.Column("account_id", sa.String(length=10), nullable=False),
        sa.Column("alert_type", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["ccb_account.id"], name=op.f("fk_ccb_alert_account_id_ccb_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ccb_alert")),
    )
    op.create_index(op.f("ix_ccb_alert_account_id"), "ccb_alert", ["account_id"], unique=False)
    op.create_table(
        "ccb_bill",
        sa.Column("id", sa.String(length=12), nullable=False),
        sa.Column("account_id", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=1), nullable=False),
        sa.Column("bill_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("cut_off", sa.Date(), nullable=False),
        sa.Column("is_final", sa.Boolean(), nullable=False),
        sa.Column("previous_balance_cents", sa.BigInteger(), nullable=False),
        sa.Column("payments_cents", sa.BigInteger(), nullable=False),
        sa.Column("adjustments_cents", sa.BigInteger(), nullable=False),
        sa.Column("current_charges_cents", sa.BigInteger(), nullable=False),
        sa.Column("amount_due_cents", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["ccb_account.id"], name=op.f("fk_ccb_bill_account_id_ccb_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ccb_bill")),
    )
    op.create_index(op.f("ix_ccb_bill_account_id"), "ccb_bill", ["account_id"], unique=False)
    op.create_table(
        "ccb_customer_contact",
        sa.Column("id", sa.String(length=10), nullable=False),
        sa.Column("contact_class", sa.String(length=12), nullable=False),
        sa.Column("contact_type", sa.String(length=20), nullable=False),
        sa.Column("entity", sa.String(length=4), nullable=False),
        sa.Column("person_id", sa.String(length=10), nullable=True),
        sa.Column("account_id", sa.String(length=10), nullable=True),
        sa.Column("premise_id", sa.String(length=10), nullable=True),
        sa.Column("method", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=2), nullable=False),
        sa.Column("log_text", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["ccb_account.id"], name=op.f("fk_ccb_customer_contact_account_id_ccb_account")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["ccb_person.id"], name=op.f("fk_ccb_customer_contact_person_id_ccb_person")
        ),
        sa.ForeignKeyConstraint(
            ["premise_id"], ["ccb_premise.id"], name=op.f("fk_ccb_customer_contact_premise_id_ccb_premise")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ccb_customer_contact")),
    )
    op.create_index(
        op.f("ix_ccb_customer_contact_account_id"), "ccb_customer_contact", ["account_id"], unique=False
    )
    op.create_index(
        op.f("ix_ccb_customer_contact_person_id"), "ccb_customer_contact", ["person_id"], unique=False
    )
    op.create_index(
        op.f("ix_ccb_customer_contact_premise_id"), "ccb_customer_contact", ["premise_id"], unique=False
    )
    op.create_table(
        "ccb_meter_read",
        sa.Column("id", sa.String(length=12), nullable=False),
        sa.Column("meter_id", sa.String(length=10), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reading", sa.Integer(), nullable=True),
        sa.Column("read_type", sa.String(length=2), nullable=False),
        sa.Column("use_on_bill", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("high_low", sa.String(length=12), nullable=True),
        sa.Column("remarks", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["meter_id"], ["ccb_meter.id"], name=op.f("fk_ccb_meter_read_meter_id_ccb_meter")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ccb_meter_read")),
    )
    op.create_index("ix_ccb_meter_read_meter_at", "ccb_meter_read", ["meter_id", "read_at"], unique=False)
    op.create_table(
        "ccb_pay_plan",
        sa.Column("id", sa.String(length=10), nullable=False),
        sa.Column("account_id", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("cadence", sa.String(length=10), nullable=False),
        sa.Column("third_party_payor_account_id", sa.String(length=10), nullable=True),
        sa.Column("hardship_reason", sa.String(length=200), nullable=True),
        sa.Column("missed_installments", sa.Integer(), nullable=False),
        sa.Column("cancel_reason", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["ccb_account.id"], name=op.f("fk_ccb_pay_plan_account_id_ccb_account")
        ),
        sa.ForeignKeyConstraint(
            ["third_party_payor_account_id"],
            ["ccb_account.id"],
            name=op.f("fk_ccb_pay_plan_third_party_payor_account_id_ccb_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ccb_pay_plan")),
    )
    op.create_index(op.f("ix_ccb_pay_plan_account_id"), "ccb_pay_plan", ["account_id"], unique=False)
    op.create_table(
        "ccb_payment",
        sa.Column("id", sa.String(length=12), nullable=False),
        sa.Column("payment_event_id", sa.String(length=12), nullable=False),
        sa.Column("account_id", sa.String(length=10), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=2), nullable=False),
        sa.Column("cancel_reason", sa.String(length=200), nullable=True),
        sa.Column("frozen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("canceled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["ccb_account.id"], name=op.f("fk_ccb_payment_account_id_ccb_account")
        ),
        sa.ForeignKeyConstraint(
            ["payment_event_id"],
            ["ccb_payment_event.id"],
            name=op.f("fk_ccb_payment_payment_event_id_ccb_payment_event"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ccb_payment")),
    )
    op.create_index(op.f("ix_ccb_payment_account_id"), "ccb_payment", ["account_id"], unique=False)
    op.create_index(
        op.f("ix_ccb_payment_payment_event_id"), "ccb_payment", ["payment_event_id"], unique=False
    )
    op.create_table(
        "ccb_premise_note",
        sa.Column("id", sa.String(length=10), nullable=False),
        sa.Column("premise_id", sa.String(length=10), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["premise_id"], ["ccb_premise.id"], name=op.f("fk_ccb_premise_note_premise_id_ccb_premise")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ccb_premise_note")),
    )
    op.create_index(op.f("ix_ccb_premise_note_premise_id"), "ccb_premise_note", ["premise_id"], unique=False)
    op.create_table(
        "ccb_service_point",
        sa.Column("id", sa.String(length=10), nullable=False),
        sa.Column("premise_id", sa.String(length=10), nullable=False),
        sa.Column("service", sa.String(length=8), nullable=False),
        sa.Column("sp_type", sa.String(length=8), nullable=False),
        sa.Column("connected", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["premise_id"], ["ccb_premise.id"], name=op.f("fk_ccb_service_point_premise_id_ccb_premise")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ccb_service_point")),
    )
    op.create_index(
        op.f("ix_ccb_service_point_premise_id"), "ccb_service_point", ["premise_id"], unique=False
    )
    op.create_table(
        "ccb_tender_control",
        sa.Column("id", sa.String(length=10), nullable=False),
        sa.Column("csr", sa.String(length=64), nullable=False),
        sa.Column("tender_source", sa.String(length=20), nullable=False),
        sa.Column("starting_float_cents", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("expected_cents", sa.BigInteger(), nullable=True),
        sa.Column("counted_cents", sa.BigInteger(), nullable=True),
        sa.Column("over_under_cents", sa.BigInteger(), nullable=True),
        sa.Column("deposit_control_id", sa.String(length=10), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("balancing_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("balanced_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["deposit_control_id"],
            ["ccb_deposit_control.id"],
            name=op.f("fk_ccb_tender_control_deposit_control_id_ccb_deposit_control"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ccb_tender_control")),
    )
    op.create_index(op.f("ix_ccb_tender_control_csr"), "ccb_tender_control", ["csr"], unique=False)
    op.create_index(
        op.f("ix_ccb_tender_control_deposit_control_id"),
        "ccb_tender_control",
        ["deposit_control_id"],
        unique=False,
    )
    op.create_table(
        "ccb_case",
        sa.Column("id", sa.String(length=10), nullable=False),
        sa.Column("case_type", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("account_id", sa.String(length=10), nullable=True),
        sa.Column("person_id", sa.String(length=10), nullable=True),
        sa.Column("premise_id", sa.String(length=10), nullable=True),
        sa.Column("contact_id", sa.String(length=10), nullable=True),
        sa.Column("meter_id", sa.String(length=10), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["ccb_account.id"], name=op.f("fk_ccb_case_account_id_ccb_account")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["ccb_customer_contact.id"],
            name=op.f("fk_ccb_case_contact_id_ccb_customer_contact"),
        ),
        sa.ForeignKeyConstraint(["meter_id"], ["ccb_meter.id"], name=op.f("fk_ccb_case_meter_id_ccb_meter")),
        sa.ForeignKeyConstraint(
            ["person_id"], ["ccb_person.id"], name=op.f("fk_ccb_case_person_id_ccb_person")
        ),
        sa.ForeignKeyConstraint(
            ["premise_id"], ["ccb_premise.id"], name=op.f("fk_ccb_case_premise_id_ccb_premise")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ccb_case")),
    )
    op.create_index(op.f("ix_ccb_case_account_id"), "ccb_case", ["account_id"], unique=False)
    op.create_index(op.f("ix_ccb_case_meter_id"), "ccb_case", ["meter_id"], unique=False)
    op.create_index(op.f("ix_ccb_case_premise_id"), "ccb_case", ["premise_id"], unique=False)
    op.create_table(
        "ccb_meter_install",
        sa.Column("id", sa.String(length=10), nullable=False),
        sa.Column("sp_id", sa.String(length=10), nullable=False),
        sa.Column("meter_id", sa.String(length=10), nullable=False),
        sa.Column("installed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("install_reading", sa.Integer(), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removal_reading", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["meter_id"], ["ccb_meter.id"], name=op.f("fk_ccb_meter_install_meter_id_ccb_meter")
        ),
        sa.ForeignKeyConstraint(
            ["sp_id"], ["ccb_service_point.id"], name=op.f("fk_ccb_meter_install_sp_id_ccb_service_point")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ccb_meter_install")),
    )
    op.create_index(op.f("ix_ccb_meter_install_meter_id"), "ccb_meter_install", ["meter_id"], unique=False)
    op.create_index(op.f("ix_ccb_meter_install_sp_id"), "ccb_meter_install", ["sp_id"], unique=False)
    op.create_table(
        "ccb_pay_plan_installment",
        sa.Column("pay_plan_id", sa.String(length=10), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(
            ["pay_plan_id"],
            ["ccb_pay_plan.id"],
            name=op.f("fk_ccb_pay_plan_installment_pay_plan_id_ccb_pay_plan"),
        ),
        sa.PrimaryKeyConstraint("pay_plan_id", "seq", name=op.f("pk_ccb_pay_plan_installment")),
    )
    op.create_table(
        "ccb_service_agreement",
        sa.Column("id", sa.String(length=10), nullable=False),
        sa.Column("account_id", sa.String(length=10), nullable=False),
        sa.Column("premise_id", sa.String(length=10), nullable=True),
        sa.Column("sp_id", sa.String(length=10), nullable=True),
        sa.Column("sa_type", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=2), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("rate_schedule", sa.String(length=8), nullable=True),
        sa.Column("zone", sa.String(length=8), nullable=True),
        sa.Column("start_read_id", sa.String(length=12), nullable=True),
        sa.Column("stop_read_id", sa.String(length=12), nullable=True),
        sa.Column("final_billed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["ccb_account.id"], name=op.f("fk_ccb_service_agreement_account_id_ccb_account")
        ),
        sa.ForeignKeyConstraint(
            ["premise_id"], ["ccb_premise.id"], name=op.f("fk_ccb_service_agreement_premise_id_ccb_premise")
        ),
        sa.ForeignKeyConstraint(
            ["sp_id"], ["ccb_service_point.id"], name=op.f("fk_ccb_service_agreement_sp_id_ccb_service_point")
        ),
        sa.ForeignKeyConstraint(
            ["start_read_id"],
            ["ccb_meter_read.id"],
            name=op.f("fk_ccb_service_agreement_start_read_id_ccb_meter_read"),
        ),
        sa.ForeignKeyConstraint(
            ["stop_read_id"],
            ["ccb_meter_read.id"],
            name=op.f("fk_ccb_service_agreement_stop_read_id_ccb_meter_read"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ccb_service_agreement")),
    )
    op.create_index(
        op.f("ix_ccb_service_agreement_account_id"), "ccb_service_agreement", ["account_id"], unique=False
    )
    op.create_index(
        op.f("ix_ccb_service_agreement_premise_id"), "ccb_service_agreement", ["premise_id"], unique=False
    )
    op.create_index(op.f("ix_ccb_service_agreement_sp_id"), "ccb_service_agreement", ["sp_id"], unique=False)
    op.create_table(
        "ccb_tender",
        sa.Column("id", sa.String(length=12), nullable=False),
        sa.Column("payment_event_id", sa.String(length=12), nullable=False),
        sa.Column("tender_type", sa.String(length=8), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("check_number", sa.String(length=20), nullable=True),
        sa.Column("masked_pan", sa.String(length=19), nullable=True),
        sa.Column("card_brand", sa.String(length=12), nullable=True),
        sa.Column("tender_control_id", sa.String(length=10), nullable=True),
        sa.Column("cancel_reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_event_id"],
            ["ccb_payment_event.id"],
            name=op.f("fk_ccb_tender_payment_event_id_ccb_payment_event"),
        ),
        sa.ForeignKeyConstraint(
            ["tender_control_id"],
            ["ccb_tender_control.id"],
            name=op.f("fk_ccb_tender_tender_control_id_ccb_tender_control"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ccb_tender")),
    )
    op.create_index(op.f("ix_ccb_tender_payment_event_id"), "ccb_tender", ["payment_event_id"], unique=False)
    op.create_index(
        op.f("ix_ccb_tender_tender_control_id"), "ccb_tender", ["tender_control_id"], unique=False
    )
    op.create_table(
        "ccb_adjustment",
        sa.Column("id", sa.String(length=12), nullable=False),
        sa.Column("sa_id", sa.String(length=10), nullable=False),
        sa.Column("account_id", sa.String(length=10), nullable=False),
        sa.Column("adjustment_type", sa.String(length=20), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=2), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("cancel_reason", sa.String(length=200), nullable=True),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("frozen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("canceled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["ccb_account.id"], name=op.f("fk_ccb_adjustment_account_id_ccb_account")
        ),
        sa.ForeignKeyConstraint(
            ["sa_id"],
            ["ccb_service_agreement.id"],
            name=op.f("fk_ccb_adjustment_sa_id_ccb_service_agreement"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ccb_adjustment")),
    )
    op.create_index(op.f("ix_ccb_adjustment_account_id"), "ccb_adjustment", ["account_id"], unique=False)
    op.create_index(op.f("ix_ccb_adjustment_sa_id"), "ccb_adjustment", ["sa_id"], unique=False)
    op.create_table(
        "ccb_bill_segment",
        sa.Column("id", sa.String(length=12), nullable=False),
        sa.Column("bill_id", sa.String(length=12), nullable=False),
        sa.Column("sa_id", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=2), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("start_read_id", sa.String(length=12), nullable=True),
        sa.Column("end_read_id", sa.String(length=12), nullable=True),
        sa.Column("start_reading", sa.Integer(), nullable=True),
        sa.Column("end_reading", sa.Integer(), nullable=True),
        sa.Column("estimated", sa.Boolean(), nullable=False),
        sa.Column("quantity", sa.String(length=20), nullable=False),
        sa.Column("tier_quantities", sa.JSON(), nullable=False),
        sa.Column("calc", sa.JSON(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("rebill_of", sa.String(length=12), nullable=True),
        sa.Column("cancel_reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("frozen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("canceled_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["bill_id"], ["ccb_bill.id"], name=op.f("fk_ccb_bill_segment_bill_id_ccb_bill")
        ),
        sa.ForeignKeyConstraint(
            ["end_read_id"],
            ["ccb_meter_read.id"],
            name=op.f("fk_ccb_bill_segment_end_read_id_ccb_meter_read"),
        ),
        sa.ForeignKeyConstraint(
            ["rebill_of"],
            ["ccb_bill_segment.id"],
            name=op.f("fk_ccb_bill_segment_rebill_of_ccb_bill_segment"),
        ),
        sa.ForeignKeyConstraint(
            ["sa_id"],
            ["ccb_service_agreement.id"],
            name=op.f("fk_ccb_bill_segment_sa_id_ccb_service_agreement"),
        ),
        sa.ForeignKeyConstraint(
            ["start_read_id"],
            ["ccb_meter_read.id"],
            name=op.f("fk_ccb_bill_segment_start_read_id_ccb_meter_read"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ccb_bill_segment")),
    )
    op.create_index(op.f("ix_ccb_bill_segment_bill_id"), "ccb_bill_segment", ["bill_id"], unique=False)
    op.create_index(op.f("ix_ccb_bill_segment_sa_id"), "ccb_bill_segment", ["sa_id"], unique=False)
    op.create_table(
        "ccb_case_log",
        sa.Column("case_id", sa.String(length=10), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["ccb_case.id"], name=op.f("fk_ccb_case_log_case_id_ccb_case")),
        sa.PrimaryKeyConstraint("case_id", "seq", name=op.f("pk_ccb_case_log")),
    )
    op.create_table(
        "ccb_deposit",
        sa.Column("id", sa.String(length=10), nullable=False),
        sa.Column("account_id", sa.String(length=10), nullable=False),
        sa.Column("sa_id", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("recommended_cents", sa.BigInteger(), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("refund_review_on", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["ccb_account.id"], name=op.f("fk_ccb_deposit_account_id_ccb_account")
        ),
        sa.ForeignKeyConstraint(
            ["sa_id"], ["ccb_service_agreement.id"], name=op.f("fk_ccb_deposit_sa_id_ccb_service_agreement")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ccb_deposit")),
    )
    op.create_index(op.f("ix_ccb_deposit_account_id"), "ccb_deposit", ["account_id"], unique=False)
    op.create_table(
        "ccb_field_activity",
        sa.Column("id", sa.String(length=14), nullable=False),
        sa.Column("fa_type", sa.String(length=20), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=1), nullable=False),
        sa.Column("premise_id", sa.String(length=10), nullable=False),
        sa.Column("sp_id", sa.String(length=10), nullable=True),
        sa.Column("sa_id", sa.String(length=10), nullable=True),
        sa.Column("case_id", sa.String(length=10), nullable=True),
        sa.Column("scheduled_on", sa.Date(), nullable=True),
        sa.Column("instructions", sa.Text(), nullable=True),
        sa.Column("read_id", sa.String(length=12), nullable=True),
        sa.Column("remarks", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["ccb_case.id"], name=op.f("fk_ccb_field_activity_case_id_ccb_case")
        ),
        sa.ForeignKeyConstraint(
            ["premise_id"], ["ccb_premise.id"], name=op.f("fk_ccb_field_activity_premise_id_ccb_premise")
        ),
        sa.ForeignKeyConstraint(
            ["read_id"], ["ccb_meter_read.id"], name=op.f("fk_ccb_field_activity_read_id_ccb_meter_read")
        ),
        sa.ForeignKeyConstraint(
            ["sa_id"],
            ["ccb_service_agreement.id"],
            name=op.f("fk_ccb_field_activity_sa_id_ccb_service_agreement"),
        ),
        sa.ForeignKeyConstraint(
            ["sp_id"], ["ccb_service_point.id"], name=op.f("fk_ccb_field_activity_sp_id_ccb_service_point")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ccb_field_activity")),
    )
    op.create_index(op.f("ix_ccb_field_activity_case_id"), "ccb_field_activity", ["case_id"], unique=False)
    op.create_index(
        op.f("ix_ccb_field_activity_premise_id"), "ccb_field_activity", ["premise_id"], unique=False
    )
    op.create_index(op.f("ix_ccb_field_activity_sa_id"), "ccb_field_activity", ["sa_id"], unique=False)
    op.create_table(
        "ccb_financial_transaction",
        sa.Column("id", sa.String(length=12), nullable=False),
        sa.Column("account_id", sa.String(length=10), nullable=False),
        sa.Column("sa_id", sa.String(length=10), nullable=False),
        sa.Column("ft_type", sa.String(length=2), nullable=False),
        sa.Column("parent_id", sa.String(length=14), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("frozen", sa.Boolean(), nullable=False),
        sa.Column("cancels_ft_id", sa.String(length=12), nullable=True),
        sa.Column("accounting_date", sa.Date(), nullable=False),
        sa.Column("arrears_date", sa.Date(), nullable=True),
        sa.Column("bill_id", sa.String(length=12), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["ccb_account.id"],
            name=op.f("fk_ccb_financial_transaction_account_id_ccb_account"),
        ),
        sa.ForeignKeyConstraint(
            ["bill_id"], ["ccb_bill.id"], name=op.f("fk_ccb_financial_transaction_bill_id_ccb_bill")
        ),
        sa.ForeignKeyConstraint(
            ["cancels_ft_id"],
            ["ccb_financial_transaction.id"],
            name=op.f("fk_ccb_financial_transaction_cancels_ft_id_ccb_financial_transaction"),
        ),
        sa.ForeignKeyConstraint(
            ["sa_id"],
            ["ccb_service_agreement.id"],
            name=op.f("fk_ccb_financial_transaction_sa_id_ccb_service_agreement"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ccb_financial_transaction")),
        sa.UniqueConstraint("cancels_ft_id", name=op.f("uq_ccb_financial_transaction_cancels_ft_id")),
    )
    op.create_index(
        op.f("ix_ccb_financial_transaction_account_id"),
        "ccb_financial_transaction",
        ["account_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_ccb_financial_transaction_bill_id"), "ccb_financial_transaction", ["bill_id"], unique=False
    )
    op.create_index(
        op.f("ix_ccb_financial_transaction_parent_id"),
        "ccb_financial_transaction",
        ["parent_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_ccb_financial_transaction_sa_id"), "ccb_financial_transaction", ["sa_id"], unique=False
    )
    op.create_table(
        "ccb_pay_segment",
        sa.Column("id", sa.String(length=12), nullable=False),
        sa.Column("payment_id", sa.String(length=12), nullable=False),
        sa.Column("sa_id", sa.String(length=10), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["ccb_payment.id"], name=op.f("fk_ccb_pay_segment_payment_id_ccb_payment")
        ),
        sa.ForeignKeyConstraint(
            ["sa_id"],
            ["ccb_service_agreement.id"],
            name=op.f("fk_ccb_pay_segment_sa_id_ccb_service_agreement"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ccb_pay_segment")),
    )
    op.create_index(op.f("ix_ccb_pay_segment_payment_id"), "ccb_pay_segment", ["payment_id"], unique=False)
    op.create_index(op.f("ix_ccb_pay_segment_sa_id"), "ccb_pay_segment", ["sa_id"], unique=False)
    op.create_table(
        "ccb_payment_arrangement",
        sa.Column("id", sa.String(length=10), nullable=False),
        sa.Column("account_id", sa.String(length=10), nullable=False),
        sa.Column("sa_id", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("arrears_cents", sa.BigInteger(), nullable=False),
        sa.Column("installments", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["ccb_account.id"], name=op.f("fk_ccb_payment_arrangement_account_id_ccb_account")
        ),
        sa.ForeignKeyConstraint(
            ["sa_id"],
            ["ccb_service_agreement.id"],
            name=op.f("fk_ccb_payment_arrangement_sa_id_ccb_service_agreement"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ccb_payment_arrangement")),
    )
    op.create_index(
        op.f("ix_ccb_payment_arrangement_account_id"), "ccb_payment_arrangement", ["account_id"], unique=False
    )


def downgrade() -> None:

    op.drop_index(op.f("ix_ccb_payment_arrangement_account_id"), table_name="ccb_payment_arrangement")
    op.drop_table("ccb_payment_arrangement")
    op.drop_index(op.f("ix_ccb_pay_segment_sa_id"), table_name="ccb_pay_segment")
    op.drop_index(op.f("ix_ccb_pay_segment_payment_id"), table_name="ccb_pay_segment")
    op.drop_table("ccb_pay_segment")
    op.drop_index(op.f("ix_ccb_financial_transaction_sa_id"), table_name="ccb_financial_transaction")
    op.drop_index(op.f("ix_ccb_financial_transaction_parent_id"), table_name="ccb_financial_transaction")
    op.drop_index(op.f("ix_ccb_financial_transaction_bill_id"), table_name="ccb_financial_transaction")
    op.drop_index(op.f("ix_ccb_financial_transaction_account_id"), table_name="ccb_financial_transaction")
    op.drop_table("ccb_financial_transaction")
    op.drop_index(op.f("ix_ccb_field_activity_sa_id"), table_name="ccb_field_activity")
    op.drop_index(op.f("ix_ccb_field_activity_premise_id"), table_name="ccb_field_activity")
    op.drop_index(op.f("ix_ccb_field_activity_case_id"), table_name="ccb_field_activity")
    op.drop_table("ccb_field_activity")
    op.drop_index(op.f("ix_ccb_deposit_account_id"), table_name="ccb_deposit")
    op.drop_table("ccb_deposit")
    op.drop_table("ccb_case_log")
    op.drop_index(op.f("ix_ccb_bill_segment_sa_id"), table_name="ccb_bill_segment")
    op.drop_index(op.f("ix_ccb_bill_segment_bill_id"), table_name="ccb_bill_segment")
    op.drop_table("ccb_bill_segment")
    op.drop_index(op.f("ix_ccb_adjustment_sa_id"), table_name="ccb_adjustment")
    op.drop_index(op.f("ix_ccb_adjustment_account_id"), table_name="ccb_adjustment")
    op.drop_table("ccb_adjustment")
    op.drop_index(op.f("ix_ccb_tender_tender_control_id"), table_name="ccb_tender")
    op.drop_index(op.f("ix_ccb_tender_payment_event_id"), table_name="ccb_tender")
    op.drop_table("ccb_tender")
    op.drop_index(op.f("ix_ccb_service_agreement_sp_id"), table_name="ccb_service_agreement")
    op.drop_index(op.f("ix_ccb_service_agreement_premise_id"), table_name="ccb_service_agreement")
    op.drop_index(op.f("ix_ccb_service_agreement_account_id"), table_name="ccb_service_agreement")
    op.drop_table("ccb_service_agreement")
    op.drop_table("ccb_pay_plan_installment")
    op.drop_index(op.f("ix_ccb_meter_install_sp_id"), table_name="ccb_meter_install")
    op.drop_index(op.f("ix_ccb_meter_install_meter_id"), table_name="ccb_meter_install")
    op.drop_table("ccb_meter_install")
    op.drop_index(op.f("ix_ccb_case_premise_id"), table_name="ccb_case")
    op.drop_index(op.f("ix_ccb_case_meter_id"), table_name="ccb_case")
    op.drop_index(op.f("ix_ccb_case_account_id"), table_name="ccb_case")
    op.drop_table("ccb_case")
    op.drop_index(op.f("ix_ccb_tender_control_deposit_control_id"), table_name="ccb_tender_control")
    op.drop_index(op.f("ix_ccb_tender_control_csr"), table_name="ccb_tender_control")
    op.drop_table("ccb_tender_control")
    op.drop_index(op.f("ix_ccb_service_point_premise_id"), table_name="ccb_service_point")
    op.drop_table("ccb_service_point")
    op.drop_index(op.f("ix_ccb_premise_note_premise_id"), table_name="ccb_premise_note")
    op.drop_table("ccb_premise_note")
    op.drop_index(op.f("ix_ccb_payment_payment_event_id"), table_name="ccb_payment")
    op.drop_index(op.f("ix_ccb_payment_account_id"), table_name="ccb_payment")
    op.drop_table("ccb_payment")
    op.drop_index(op.f("ix_ccb_pay_plan_account_id"), table_name="ccb_pay_plan")
    op.drop_table("ccb_pay_plan")
    op.drop_index("ix_ccb_meter_read_meter_at", table_name="ccb_meter_read")
    op.drop_table("ccb_meter_read")
    op.drop_index(op.f("ix_ccb_customer_contact_premise_id"), table_name="ccb_customer_contact")
    op.drop_index(op.f("ix_ccb_customer_contact_person_id"), table_name="ccb_customer_contact")
    op.drop_index(op.f("ix_ccb_customer_contact_account_id"), table_name="ccb_customer_contact")
    op.drop_table("ccb_customer_contact")
    op.drop_index(op.f("ix_ccb_bill_account_id"), table_name="ccb_bill")
    op.drop_table("ccb_bill")
    op.drop_index(op.f("ix_ccb_alert_account_id"), table_name="ccb_alert")
    op.drop_table("ccb_alert")
    op.drop_index(
        "uq_ccb_account_person_main",
        table_name="ccb_account_person",
        sqlite_where=sa.text("is_main_customer = 1"),
        postgresql_where=sa.text("is_main_customer"),
    )
    op.drop_index(op.f("ix_ccb_account_person_person_id"), table_name="ccb_account_person")
    op.drop_table("ccb_account_person")
    op.drop_index("ix_ccb_todo_role_status", table_name="ccb_todo")
    op.drop_table("ccb_todo")
    op.drop_index(op.f("ix_ccb_premise_zip"), table_name="ccb_premise")
    op.drop_table("ccb_premise")
    op.drop_index(op.f("ix_ccb_person_phone"), table_name="ccb_person")
    op.drop_index(op.f("ix_ccb_person_alt_phone"), table_name="ccb_person")
    op.drop_table("ccb_person")
    op.drop_table("ccb_payment_event")
    op.drop_table("ccb_meter")
    op.drop_table("ccb_idempotency")
    op.drop_table("ccb_deposit_control")
    op.drop_table("ccb_account")
