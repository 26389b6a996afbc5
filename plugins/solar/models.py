"""Tables of the solar plugin (all prefixed ``solar_``).

``solar_voicemail`` is the callback queue: messages left for the team (by the phone system) and how each
was returned. Times are stored in UTC (``UTCDateTime``). Net-metering data is not kept here: the CCB bills
net-metered service agreements itself and the plugin reads them through the CCB port (the tables an
earlier version kept for it are dropped by migration ``solar_0002``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.contract.db import Base, UTCDateTime


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
TABLES = [Base.metadata.tables["solar_voicemail"]]
