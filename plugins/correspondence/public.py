"""What the correspondence plugin offers other plugins: send a letter, read it back, mark it mailed.

A plugin that writes to customers (claims, payment plans, deposits, …) names ``correspondence`` in its
manifest's ``depends_on`` (or ``after_depends_on`` when letters are optional for it) and reaches the service
through its own context::

    from plugins.correspondence.public import LetterService

    letters = ctx.services.require(LetterService)
    record = await letters.send_letter(
        account_id="1234567890",
        template="claim_decision",
        fields={"claim_number": "CLM-1", "decision": "denied", "explanation": "…"},
        actor="system:claims",                 # who asked, for the audit trail and the CCB contact
        idempotency_key="claims:CLM-1:decision",
        source=ctx.plugin_id,                  # which plugin asked, recorded on the letter
    )
    record.id, record.status, record.sha256   # a LetterRecord

``send_letter`` checks the template and fields, reads the account and its main customer from the CCB,
renders the Word document, records a CCB customer contact (NOTIFY/OUTBOUND, method ``letter``) on the
account, stores the letter queued for mailing, queues an e-mail copy when the customer has an address and
the plugin is configured to, and publishes ``hub.correspondence.letter.created``. Repeating the call with
the same ``idempotency_key`` returns the first letter (``replayed=True``) and changes nothing, so a caller
can retry after a crash; reusing a key for another account or template is refused (409).

Errors are :class:`LetterError` (an :class:`~core.contract.inputs.InputError`, so a caller may let it pass
to its own HTTP answer) with the field at fault and the status: 422 (unknown template, missing or malformed
field), 404 (unknown account or letter), 409 (key reuse, status moving back), 502 (the CCB refused).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import msgspec

from core.contract.inputs import InputError

__all__ = ["LetterError", "LetterRecord", "LetterService"]


class LetterError(InputError):
    """A request the service refuses, naming the field at fault; ``status_code`` is the HTTP answer."""

    def __init__(self, field: str, message: str, status_code: int = 422) -> None:
        super().__init__(field, message, status_code)
        self.message = message


class LetterRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A letter as callers see it (without the document; fetch that with ``letter_document``)."""

    id: int
    account_id: str
    person_id: str | None
    template: str
    title: str
    subject: str
    fields: dict[str, str]
    address: list[str]
    status: str
    sha256: str
    size: int
    contact_id: str | None
    emailed: bool
    source: str
    created_at: dt.datetime
    created_by: str
    printed_at: dt.datetime | None
    mailed_at: dt.datetime | None
    mailed_by: str | None
    replayed: bool = False
    customer_hidden: bool = (
        False  # the address and fields are withheld (no verified contact, not the mail room)
    )


@runtime_checkable
class LetterService(Protocol):
    """Letters to customers, made with the correspondence plugin's own templates, config and events."""

    async def send_letter(
        self,
        account_id: str,
        template: str,
        fields: Mapping[str, Any],
        *,
        actor: str,
        idempotency_key: str,
        source: str,
    ) -> LetterRecord:
        """Generate, record and queue a letter once per ``idempotency_key`` (see the module docstring)."""
        ...

    async def get_letter(self, letter_id: int) -> LetterRecord:
        """One letter; an unknown id is a 404 :class:`LetterError`."""
        ...

    async def letter_document(self, letter_id: int) -> bytes:
        """The letter's Word document exactly as generated."""
        ...

    async def mark_letter(self, letter_id: int, status: str, *, actor: str) -> LetterRecord:
        """Move a letter forward (queued → printed → mailed); the same status again is a no-op."""
        ...
