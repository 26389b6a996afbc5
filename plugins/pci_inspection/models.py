"""Tables of the card-terminal inspection (all prefixed ``pci_``).

Times are stored in UTC (``UTCDateTime``); the local day of an inspection is derived, never stored. Other
plugins never read these tables: the cash/card pages ask through ``public.CardTerminals``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.contract.db import Base, UTCDateTime
from plugins.pci_inspection.rules import DeviceStatus


class PciRiskAnalysis(Base):
    """A targeted risk analysis (PCI DSS 9.5.1.2.1, 12.3.1): it sets how often its terminals are inspected."""

    __tablename__ = "pci_risk_analysis"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(Text)  # which terminals and places it covers
    assets: Mapped[str] = mapped_column(Text)
    threats: Mapped[str] = mapped_column(Text)
    factors: Mapped[str] = mapped_column(Text)  # location, attended or not, public area, vendor guidance
    frequency_days: Mapped[int] = mapped_column(Integer)
    justification: Mapped[str] = mapped_column(Text)
    performed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    performed_by: Mapped[str] = mapped_column(String(64))
    reviewed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    reviewed_by: Mapped[str] = mapped_column(String(64))


class PciRiskReview(Base):
    """One review of a risk analysis; the analysis keeps the latest, this keeps the history for assessors."""

    __tablename__ = "pci_risk_review"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    analysis_id: Mapped[int] = mapped_column(ForeignKey("pci_risk_analysis.id"), index=True)
    reviewed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    reviewed_by: Mapped[str] = mapped_column(String(64))
    notes: Mapped[str] = mapped_column(Text)
    frequency_days: Mapped[int] = mapped_column(Integer)


class PciDevice(Base):
    """A point-of-interaction device in the inventory (PCI DSS 9.5.1.1; fields of docs/rules.md §1.2)."""

    __tablename__ = "pci_device"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    make: Mapped[str] = mapped_column(String(80))
    model: Mapped[str] = mapped_column(String(80))
    serial_number: Mapped[str] = mapped_column(String(64), unique=True)
    terminal_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    site: Mapped[str] = mapped_column(String(16), index=True)
    window: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(20), index=True)
    attended: Mapped[bool] = mapped_column(Boolean)
    public_area: Mapped[bool] = mapped_column(Boolean)
    seal_ids: Mapped[list[str]] = mapped_column(JSON)
    assigned_to: Mapped[str | None] = mapped_column(String(80), nullable=True)
    risk_analysis_id: Mapped[int | None] = mapped_column(ForeignKey("pci_risk_analysis.id"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    status_since: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # When it was last put into service: only inspections from then on count, and an incident opened
    # from then on covers it being out of service.
    deployed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    @property
    def device_status(self) -> DeviceStatus:
        return DeviceStatus(self.status)


class PciDeviceChange(Base):
    """The inventory's change log: who changed what, when and why (9.5.1.1 "kept up to date")."""

    __tablename__ = "pci_device_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("pci_device.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    field: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[str | None] = mapped_column(Text, nullable=True)
    new_value: Mapped[str | None] = mapped_column(Text, nullable=True)
    reason: Mapped[str] = mapped_column(Text)


class PciPhoto(Base):
    """An uploaded photo: a reference view of a terminal, or evidence of a failed item as found."""

    __tablename__ = "pci_photo"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("pci_device.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # reference | evidence
    label: Mapped[str] = mapped_column(String(40))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    uploaded_by: Mapped[str] = mapped_column(String(64))


class PciInspection(Base):
    """One inspection of one terminal: inspector, time, outcome (docs/rules.md §1.3 item 14)."""

    __tablename__ = "pci_inspection"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("pci_device.id"), index=True)
    inspected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    inspector: Mapped[str] = mapped_column(String(64))
    inspector_id: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(8))
    # Where the terminal stood when inspected; the inventory's location may change later.
    site: Mapped[str] = mapped_column(String(16))
    window: Mapped[str] = mapped_column(String(80))
    # A retried submission (double tap, resent form) carries the same key and gets the first record back.
    idempotency_key: Mapped[str | None] = mapped_column(String(120), unique=True, nullable=True)


class PciInspectionItem(Base):
    """One checklist item's result within an inspection."""

    __tablename__ = "pci_inspection_item"
    __table_args__ = (UniqueConstraint("inspection_id", "item_no"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("pci_inspection.id"), index=True)
    item_no: Mapped[int] = mapped_column(Integer)
    result: Mapped[str] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(Text)
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("pci_photo.id"), nullable=True)


class PciIncident(Base):
    """An incident record (docs/rules.md §1.4 step 3: id, time found, finder, device, what was seen)."""

    __tablename__ = "pci_incident"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("pci_device.id"), index=True)
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("pci_inspection.id"), nullable=True)
    reference: Mapped[str] = mapped_column(String(80))  # the incident-response plan's number (12.10.1)
    found_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    found_by: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text)
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    opened_by: Mapped[str] = mapped_column(String(64))


# Row ids are 32-bit integers on every backend; a larger number can only be a bad reference, never a 500.
MAX_ID = 2**31 - 1

# The plugin's tables, parents first (creation order).
TABLES: list[Table] = [
    Base.metadata.tables[model.__tablename__]
    for model in (
        PciRiskAnalysis,
        PciRiskReview,
        PciDevice,
        PciDeviceChange,
        PciPhoto,
        PciInspection,
        PciInspectionItem,
        PciIncident,
    )
]
