"""Tables of the customer contact layer: contacts, the accounts verified in them, their action log, and the
returned-mail work queue.

A contact is one customer interaction (a call, a counter visit, an email). Customer data is reachable only
inside a contact verified for the account (ARCHITECTURE §6), so the verified accounts are rows of their
own; the action log keeps what was done so the wrap-up note can be drafted from it (CCB keeps CSR notes in
the customer contact's log, docs/ccb-domain.md §1.12). Identity factors never reach these tables: only the
method that passed is kept.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime
from core.models import BigIntPK


class Contact(Base):
    """One customer interaction. ``status`` is open, wrap_up_due (the call was released) or closed."""

    __tablename__ = "contact_contact"
    __table_args__ = (Index("ix_contact_contact_owner_status", "owner", "status"),)

    id: Mapped[str] = mapped_column(String(10), primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    # The member of staff working the contact (a staff name, which is also the agent id on the phone).
    # A screen-pop contact has none until an agent answers the call or claims it.
    owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    opened_by: Mapped[str] = mapped_column(String(80))
    ani: Mapped[str | None] = mapped_column(String(16), nullable=True)
    dialog_id: Mapped[str | None] = mapped_column(String(36), nullable=True, unique=True)
    account_id: Mapped[str | None] = mapped_column(String(10), nullable=True)
    candidates: Mapped[list[str]] = mapped_column(JSON)
    verify_failures: Mapped[int] = mapped_column(Integer)
    locked: Mapped[bool] = mapped_column(Boolean)
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    wrap_up_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    note_kind: Mapped[str | None] = mapped_column(String(10), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    ccb_contact_id: Mapped[str | None] = mapped_column(String(10), nullable=True)
    premise_note_id: Mapped[str | None] = mapped_column(String(10), nullable=True)


class ContactVerification(Base):
    """An account whose customer passed identity verification in a contact (the factor value is not kept)."""

    __tablename__ = "contact_verification"

    contact_id: Mapped[str] = mapped_column(
        ForeignKey("contact_contact.id", ondelete="CASCADE"), primary_key=True
    )
    account_id: Mapped[str] = mapped_column(String(10), primary_key=True)
    method: Mapped[str] = mapped_column(String(16))
    verified_by: Mapped[str] = mapped_column(String(80))
    verified_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class ContactAction(Base):
    """One line of a contact's action log: a read of customer data or a change made for the customer."""

    __tablename__ = "contact_action"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    contact_id: Mapped[str] = mapped_column(ForeignKey("contact_contact.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(40))
    account_id: Mapped[str | None] = mapped_column(String(10), nullable=True)
    summary: Mapped[str] = mapped_column(String(500))


class ReturnedMail(Base):
    """A piece of mail that came back undeliverable: a work item until its outcome is recorded."""

    __tablename__ = "contact_returned_mail"
    __table_args__ = (Index("ix_contact_returned_mail_status", "status", "received_on"),)

    id: Mapped[str] = mapped_column(String(10), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(10), index=True)
    received_on: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(24), nullable=True)
    new_address: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    followup_todo_id: Mapped[str | None] = mapped_column(String(12), nullable=True)
    contact_id: Mapped[str | None] = mapped_column(String(10), nullable=True)
    logged_by: Mapped[str] = mapped_column(String(80))
    logged_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
