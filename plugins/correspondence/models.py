"""Tables of the correspondence plugin (all prefixed ``corr_``).

One row per letter, holding the generated Word document itself: a letter is what was sent, so the bytes are
kept as rendered (with their SHA-256 and size) rather than re-rendered later from templates that may have
changed. Fields are stored as the printed text, redacted. Times are stored in UTC (``UTCDateTime``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from core.contract.db import Base, UTCDateTime


class CorrLetter(Base):
    """A letter to a customer: which template, for which account, its document, and its mailing state."""

    __tablename__ = "corr_letter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(20), index=True)
    person_id: Mapped[str | None] = mapped_column(String(20), nullable=True)
    template_id: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(120))
    subject: Mapped[str] = mapped_column(String(200))
    fields: Mapped[dict[str, str]] = mapped_column(JSON)
    # The mailing block as printed, so staff see where the letter went even after the address changes.
    address: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), index=True)
    document: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    contact_id: Mapped[str | None] = mapped_column(String(20), nullable=True)
    email_to: Mapped[str | None] = mapped_column(String(254), nullable=True)
    source: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    created_by: Mapped[str] = mapped_column(String(64))
    printed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    printed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    mailed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    mailed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # A repeated request (client retry, another plugin replaying its work) carries the same key: one letter.
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)


# For tests and tools that build the tables without Alembic (the migration is the source of truth).
TABLES = [Base.metadata.tables[name] for name in ("corr_letter",)]
