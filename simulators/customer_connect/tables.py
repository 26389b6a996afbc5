"""The simulator's own tables (SQLite, prefixed ``cc_``): statuses, contacts, incidents, threads and the
per-day reference-number counters. :mod:`.store` reads and writes them; :mod:`.tabular` queries them.
"""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Integer, MetaData, String, Table, Text, UniqueConstraint

__all__ = [
    "REF_COLUMNS",
    "cc_contacts",
    "cc_incidents",
    "cc_reference_counters",
    "cc_status_types",
    "cc_statuses",
    "cc_threads",
    "metadata",
]

metadata = MetaData()

cc_status_types = Table(
    "cc_status_types",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("lookup_name", String(40), nullable=False, unique=True),
)
cc_statuses = Table(
    "cc_statuses",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("lookup_name", String(40), nullable=False, unique=True),
    Column("status_type_id", Integer, ForeignKey("cc_status_types.id"), nullable=False),
)
cc_contacts = Table(
    "cc_contacts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("first_name", String(80), nullable=False),
    Column("last_name", String(80), nullable=False),
    Column("email", String(254), unique=True),
    Column("phone", String(40)),
    Column("created_time", DateTime, nullable=False),
)
cc_incidents = Table(
    "cc_incidents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("reference_number", String(13), nullable=False, unique=True),
    Column("ref_day", String(6), nullable=False),
    Column("ref_seq", Integer, nullable=False),
    Column("subject", String(240), nullable=False),
    Column("status_id", Integer, ForeignKey("cc_statuses.id"), nullable=False),
    Column("primary_contact_id", Integer, ForeignKey("cc_contacts.id")),
    Column("channel_id", Integer, nullable=False),
    Column("category_id", Integer),
    Column("account_number", String(20)),
    # References to the site's named lists (model.NAMED_LISTS); added after the first release, so
    # IncidentStore.start() adds them to an older database.
    Column("product_id", Integer),
    Column("severity_id", Integer),
    Column("queue_id", Integer),
    Column("disposition_id", Integer),
    Column("language_id", Integer),
    Column("assigned_account_id", Integer),
    Column("assigned_staff_group_id", Integer),
    # The generator's Message-ID: makes seeding idempotent across restarts of the same database.
    Column("source_message_id", String(200), unique=True),
    Column("created_time", DateTime, nullable=False),
    Column("updated_time", DateTime, nullable=False),
    Column("closed_time", DateTime),
    UniqueConstraint("ref_day", "ref_seq", name="uq_cc_incidents_ref"),
)
cc_threads = Table(
    "cc_threads",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("incident_id", Integer, ForeignKey("cc_incidents.id", ondelete="CASCADE"), nullable=False),
    Column("entry_type_id", Integer, nullable=False),
    Column("channel_id", Integer, nullable=False),
    Column("contact_id", Integer, ForeignKey("cc_contacts.id")),
    Column("account_name", String(80)),
    Column("text", Text, nullable=False),
    Column("content_type", String(20), nullable=False, default="text/plain"),
    Column("display_order", Integer, nullable=False),
    Column("created_time", DateTime, nullable=False),
)
cc_reference_counters = Table(
    "cc_reference_counters",
    metadata,
    Column("day", String(6), primary_key=True),
    Column("last", Integer, nullable=False),
)


# Incident field (as in model.NAMED_LISTS) → the column holding the referenced entry's id.
REF_COLUMNS: dict[str, str] = {
    "product": "product_id",
    "severity": "severity_id",
    "queue": "queue_id",
    "disposition": "disposition_id",
    "language": "language_id",
    "assignedTo.account": "assigned_account_id",
    "assignedTo.staffGroup": "assigned_staff_group_id",
}
