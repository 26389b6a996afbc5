"""Tables of the solar plugin (all prefixed ``solar_``).

``solar_nem_account`` marks an account as net-metered with its interconnection date and the credit it
carried into the first recorded period; ``solar_nem_period`` holds kWh delivered and received (the second,
export register) per billed period, entered by the Solar team or imported, because the CCB mock has no
net-metered service agreements yet. ``solar_voicemail`` is the callback queue: messages left for the team
(by the phone system) and how each was returned. Times are stored in UTC (``UTCDateTime``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime


class NemAccount(Base):
    """An account on net energy metering (ccb-domain §4.1)."""

    __tablename__ = "solar_nem_account"

    account_id: Mapped[str] = mapped_column(String(10), primary_key=True)
    interconnected_on: Mapped[dt.date] = mapped_column(Date())
    # Credit carried into the first recorded period (kWh, or cents in export-rate mode); later credits are
    # worked out from the periods, so they can never disagree with them.
    carried_credit_kwh: Mapped[int] = mapped_column(Integer, default=0)
    carried_credit_cents: Mapped[int] = mapped_column(Integer, default=0)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class NemPeriod(Base):
    """Delivered and received kWh for one billed period; ``end_date`` is the end-read date (exclusive)."""

    __tablename__ = "solar_nem_period"
    __table_args__ = (UniqueConstraint("account_id", "start_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("solar_nem_account.account_id"), index=True)
    start_date: Mapped[dt.date] = mapped_column(Date())
    end_date: Mapped[dt.date] = mapped_column(Date())
    delivered_kwh: Mapped[int] = mapped_column(Integer)
    received_kwh: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16))  # entered | import
    entered_by: Mapped[str] = mapped_column(String(64))
    entered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class Voicemail(Base):
    """A message left for the Solar team and, once called back, the outcome."""

    __tablename__ = "solar_voicemail"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ani: Mapped[str] = mapped_column(String(10))
    callback_number: Mapped[str] = mapped_column(String(10))
    account_id: Mapped[str | None] = mapped_column(String(10), nullable=True)
    duration_s: Mapped[int] = mapped_column(Integer)
    # The phone system's id for the call: a retried post of the same message is stored once.
    call_id: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    left_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    left_by: Mapped[str] = mapped_column(String(64))
    returned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    returned_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    notes: Mapped[str | None] = mapped_column(Text, nullable=True)  # redacted before storage


# For tests and tools that build the tables without Alembic (the migration is the source of truth).
TABLES = [Base.metadata.tables[n] for n in ("solar_nem_account", "solar_nem_period", "solar_voicemail")]


async def open_voicemails(session: AsyncSession) -> list[Voicemail]:
    rows = await session.scalars(
        select(Voicemail).where(Voicemail.returned_at.is_(None)).order_by(Voicemail.left_at, Voicemail.id)
    )
    return list(rows)


async def periods_of(session: AsyncSession, account_id: str) -> list[NemPeriod]:
    rows = await session.scalars(
        select(NemPeriod).where(NemPeriod.account_id == account_id).order_by(NemPeriod.start_date)
    )
    return list(rows)
