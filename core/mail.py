"""The mail outbox: every mail the hub sends is first a row, written in the caller's transaction.

With no ``HUB_SMTP_URL`` (the embedded default) mail stays here, readable at ``GET /api/mail/outbox`` and
``/ui/outbox``; a sender (the SMTP connector) delivers pending rows and records each outcome. Bodies pass
through the redaction helper, so no card number or SSN is ever stored in a mail.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

import msgspec
from sqlalchemy import BigInteger, Integer, String, Text, event, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.clock import Clock
from core.contract.mail import ADDRESS, MailError
from core.contract.scope import withhold
from core.db import Base, UTCDateTime
from core.redact import redact


class MailMessage(Base):
    """One queued mail and its delivery state."""

    __tablename__ = "hub_mail_outbox"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    source: Mapped[str] = mapped_column(String(40))
    to_addrs: Mapped[str] = mapped_column(Text)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(120), nullable=True, unique=True)


class MailView(msgspec.Struct, kw_only=True):
    id: int
    created_at: dt.datetime
    source: str
    to: list[str]
    subject: str
    body: str
    status: str
    attempts: int
    last_error: str | None
    sent_at: dt.datetime | None
    customer_hidden: bool = False  # recipients, subject, body and error withheld (admins only read them)


# What only an admin reads of queued mail (receipts and letters to customers): the rest see the metadata.
MAIL_CUSTOMER_FIELDS = ("to", "subject", "body", "last_error")


async def outbox_for(
    session: AsyncSession, audit: Any, role: str, actor: str, mails: list[MailView]
) -> list[MailView]:
    """The outbox as ``role`` may read it: whole for an admin (the read audited), else metadata only."""
    if role == "admin":
        await audit.append(
            session,
            actor=actor,
            action="customer_data.queue",
            target="mail:outbox",
            detail={"purpose": "read the mail outbox", "mails": len(mails)},
        )
        return mails
    return [withhold(m, MAIL_CUSTOMER_FIELDS) for m in mails]


Address = Annotated[str, msgspec.Meta(pattern=ADDRESS.pattern)]


class Mailer:
    """Queues mail for one source (a plugin id or ``core``)."""

    def __init__(self, clock: Clock, source: str, kick: Callable[[], None] | None = None) -> None:
        self._clock = clock
        self._source = source
        self._kick = kick

    async def queue(
        self,
        session: AsyncSession,
        *,
        to: list[str],
        subject: str,
        body: str,
        idempotency_key: str | None = None,
    ) -> MailMessage:
        """Queue a mail in the caller's transaction; a repeated idempotency key returns the first one."""
        if not to:
            raise MailError("to", "at least one recipient is needed")
        for addr in to:
            if not ADDRESS.fullmatch(addr):
                raise MailError("to", f"{addr!r} is not an e-mail address")
        if not subject.strip() or len(subject) > 200 or "\n" in subject:
            raise MailError("subject", "one line of 1-200 characters")
        if idempotency_key is not None:
            existing = await session.scalar(
                select(MailMessage).where(MailMessage.idempotency_key == idempotency_key)
            )
            if existing is not None:
                return existing
        message = MailMessage(
            created_at=self._clock.now(),
            source=self._source,
            to_addrs=",".join(to),
            subject=redact(subject),
            body=redact(body),
            status="queued",
            attempts=0,
            idempotency_key=idempotency_key,
        )
        session.add(message)
        await session.flush()
        if self._kick is not None:
            # Wake the sender once the mail is committed; a rollback leaves nothing to send.
            kick = self._kick
            event.listen(session.sync_session, "after_commit", lambda _s: kick(), once=True)
        return message


def view(message: MailMessage) -> MailView:
    return MailView(
        id=message.id,
        created_at=message.created_at,
        source=message.source,
        to=message.to_addrs.split(","),
        subject=message.subject,
        body=message.body,
        status=message.status,
        attempts=message.attempts,
        last_error=message.last_error,
        sent_at=message.sent_at,
    )


async def list_outbox(
    session: AsyncSession, *, status: str | None = None, limit: int = 100
) -> list[MailView]:
    query = select(MailMessage).order_by(MailMessage.id.desc()).limit(limit)
    if status is not None:
        query = query.where(MailMessage.status == status)
    return [view(m) for m in (await session.execute(query)).scalars()]
