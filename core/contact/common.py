"""What every part of the contact service shares: its config, status words, the response base, and
:class:`ServiceBase`, the dependencies (database, outbox, audit, CCB port, clock) and the contact action
log each part writes to.

The parts (contacts, verification, guard, wrap-up, screen pop and the CSR workflows) are mixins on this
base; :class:`core.contact.service.ContactService` composes them into the one service the hub runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import AuditLog
from core.ccb import port as p
from core.ccb.billing import local_date
from core.ccb.rates import RateConfig, load_default_config
from core.clock import Clock
from core.contact.models import ContactAction
from core.db import Database
from core.outbox import EventWriter
from core.redact import redact
from core.staff import Staff

if TYPE_CHECKING:
    from core.contact.contacts import ContactSnapshot, HintView

__all__ = [
    "ACTIVE",
    "CLOSED",
    "MAX_NOTE",
    "MAX_REASON",
    "OPEN",
    "PART_ID",
    "WRAP_UP_DUE",
    "Channel",
    "ContactConfig",
    "HintProvider",
    "NoteKind",
    "ServiceBase",
    "View",
    "clean_reason",
    "dollars",
    "running_service",
]

PART_ID = "contact"

Channel = Literal["phone", "counter", "email"]
NoteKind = Literal["customer", "premise"]
OPEN, WRAP_UP_DUE, CLOSED = "open", "wrap_up_due", "closed"
ACTIVE = frozenset({OPEN, WRAP_UP_DUE})
MAX_REASON = 200
MAX_NOTE = 4000

HintProvider = Callable[[Staff, "ContactSnapshot"], Awaitable["list[HintView]"]]


class ContactConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``[plugins.contact]`` in hub.toml; the defaults follow docs/rules.md §4.2 and work with no config."""

    max_failures_per_contact: Annotated[int, msgspec.Meta(ge=1, le=10)] = 3
    hint_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=30)] = 2.0
    max_open_hours: Annotated[int, msgspec.Meta(ge=1, le=72)] = 12
    wrap_up_overdue_minutes: Annotated[int, msgspec.Meta(ge=1, le=1440)] = 30
    access_todo_role: Annotated[str, msgspec.Meta(pattern=r"^[A-Z0-9_]{2,30}$")] = "CSR"
    first_due_days: Annotated[int, msgspec.Meta(ge=0, le=90)] = 30


class View(msgspec.Struct, frozen=True, kw_only=True):
    """Base of the layer's responses."""


def clean_reason(value: str | None) -> str | None:
    """A free-text reason on one line, redacted and cut to :data:`MAX_REASON`; None when blank."""
    if value is None:
        return None
    text = " ".join(value.split())
    if not text:
        return None
    return redact(text[:MAX_REASON])


def dollars(cents: int) -> str:
    """Integer cents as dollars for display (``-1234`` → ``-$12.34``); money never passes through float."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}${whole:,}.{part:02d}"


def running_service(hub: Any) -> object | None:
    """The object the running contact part keeps as its service in ``hub`` (None while it is not running)."""
    rec = hub.plugins.records.get(PART_ID)
    if rec is None or not rec.running or rec.ctx is None:
        return None
    found: object | None = rec.ctx.runtime
    return found


class ServiceBase:
    """The dependencies shared by every part of the contact service, and the contact's action log."""

    def __init__(
        self,
        *,
        db: Database,
        events: EventWriter,
        audit: AuditLog,
        ccb: p.CcbPort,
        clock: Clock,
        config: ContactConfig,
        hints: HintProvider | None = None,
        rates: RateConfig | None = None,
    ) -> None:
        self.db = db
        self.events = events
        self.audit = audit
        self.ccb = ccb
        self.clock = clock
        self.config = config
        self.hints = hints
        # The mock bills with the default rate config; the tier review re-prices with the same one.
        self.rates = rates or load_default_config()

    def today(self) -> dt.date:
        return local_date(self.clock.now())

    def _add_action(
        self, s: AsyncSession, contact_id: str, actor: str, kind: str, summary: str, account_id: str | None
    ) -> None:
        # The wrap-up note is drafted from this log, so every entry is redacted on the way in.
        s.add(
            ContactAction(
                contact_id=contact_id,
                at=self.clock.now(),
                actor=actor,
                kind=kind,
                account_id=account_id,
                summary=redact(summary)[:500],
            )
        )

    async def account_exists(self, account_id: str) -> None:
        # The port has no existence probe: the balance is read and dropped, never shown to the caller.
        await self.ccb.get_balance(account_id)
