"""Tables of the hub's telephony state: agents, devices (extensions), dialogs and their participants.

Each agent and dialog row keeps the full domain snapshot as JSON (what ``core.telephony.fsm`` and
``core.telephony.dialogs`` work on) plus the columns the hub has to query: routing picks READY agents by
the time they became READY, the timer sweep finds due RONA and wrap-up deadlines, and an agent's calls are
found through the participant rows.  ``version`` makes concurrent writers from several hub processes
detect each other (optimistic concurrency) instead of silently overwriting a snapshot.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UTCDateTime, utcnow
from core.models import BigIntPK


class TelAgent(Base):
    """One agent (keyed by the staff name) and its Finesse-style state."""

    __tablename__ = "tel_agent"
    __table_args__ = (Index("ix_tel_agent_state_since", "state", "state_change_time"),)

    agent_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    extension: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    team_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    reason_code_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pending_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    state_change_time: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    wrap_up_deadline: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __mapper_args__ = {"version_id_col": version}


class TelDevice(Base):
    """An extension the phone system knows, whether it can be used, and which agent is signed in on it."""

    __tablename__ = "tel_device"

    extension: Mapped[str] = mapped_column(String(16), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    in_use_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TelDialog(Base):
    """One call.  ``routing`` is WAITING (in its queue), RINGING (offered to an agent) or NULL."""

    __tablename__ = "tel_dialog"
    __table_args__ = (Index("ix_tel_dialog_routing", "routing", "priority", "queued_at"),)

    dialog_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    call_type: Mapped[str] = mapped_column(String(16))
    from_address: Mapped[str] = mapped_column(String(32))
    to_address: Mapped[str] = mapped_column(String(32))
    queue_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    associated_dialog_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    routing: Mapped[str | None] = mapped_column(String(16), nullable=True)
    priority: Mapped[int] = mapped_column(Integer, default=5)
    queued_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ring_deadline: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True, index=True)
    ringing_agent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __mapper_args__ = {"version_id_col": version}


class TelParticipant(Base):
    """A participant of a dialog, rewritten with every save of the dialog (the snapshot is the truth)."""

    __tablename__ = "tel_participant"
    __table_args__ = (Index("ix_tel_participant_agent_state", "agent_id", "state"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    dialog_id: Mapped[str] = mapped_column(ForeignKey("tel_dialog.dialog_id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    media_address: Mapped[str] = mapped_column(String(32))
    address_type: Mapped[str] = mapped_column(String(16))
    agent_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    state: Mapped[str] = mapped_column(String(16))
