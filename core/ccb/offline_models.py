"""Tables of CCB offline mode: the journal of offline forms, read snapshots, and the local To Do fallback.

The journal is the durable record ARCHITECTURE §7 asks for: one row per CCB write made while CCB was
unreachable, with the idempotency key that makes its replay exactly-once. Rows are never deleted by the
hub; a replayed or conflicting form keeps its outcome for the audit trail and the leads' review.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime

__all__ = ["FORM_STATUSES", "OfflineForm", "OfflineSnapshot", "OfflineTodo"]

# pending: waiting for CCB; replayed: CCB applied it; conflict: CCB refused it and a lead has a To Do.
FORM_STATUSES = ("pending", "replayed", "conflict")


class OfflineForm(Base):
    """A CCB write recorded while CCB was down, replayed in ``id`` order once it is back."""

    __tablename__ = "ccb_offline_form"
    __table_args__ = (Index("ix_ccb_offline_form_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    operation: Mapped[str] = mapped_column(String(40))
    request: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    actor: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    replayed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    result: Mapped[str | None] = mapped_column(Text, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    todo_ref: Mapped[str | None] = mapped_column(String(40), nullable=True)


class OfflineSnapshot(Base):
    """The last answer CCB gave to one read (``method`` plus arguments), served stale while CCB is down."""

    __tablename__ = "ccb_offline_snapshot"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    method: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class OfflineTodo(Base):
    """A conflict To Do kept in the hub when CCB refuses to create it (never a silent drop)."""

    __tablename__ = "ccb_offline_todo"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    form_id: Mapped[int] = mapped_column(Integer, index=True)
    role: Mapped[str] = mapped_column(String(30))
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(1), default="O")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
