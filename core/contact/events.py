"""Events the contact layer publishes, and the handlers it subscribes.

Payloads carry ids, lookup codes and counts only: never the caller's number, names, addresses, amounts
tied to a person, or anything typed as an identity factor (ARCHITECTURE §4). Workflows whose change the
CCB port already announces (service start/stop/restore, pay plans, cases, field activities, trouble
tickets, To Dos) are not announced twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import msgspec

from core.bus import Envelope
from core.contract import EventType

if TYPE_CHECKING:
    from core.contact.service import ContactService

__all__ = [
    "ACCESS_FAILED",
    "EVENT_TYPES",
    "PHONE_DIALOGS",
    "ContactOpened",
    "ContactRef",
    "ContactVerified",
    "ContactWrappedUp",
    "CustomerReadEntered",
    "PropertyAccessUpdated",
    "ReturnedMailLogged",
    "ReturnedMailResolved",
    "TierReviewApplied",
    "VerificationFailed",
    "VerificationLockCleared",
    "access_failed_handler",
    "dialog_handler",
]

OPENED = "hub.contact.opened"
VERIFIED = "hub.contact.verified"
VERIFICATION_FAILED = "hub.contact.verification_failed"
WRAP_UP_DUE = "hub.contact.wrap_up_due"
WRAPPED_UP = "hub.contact.wrapped_up"
LOCK_CLEARED = "hub.contact.verification_lock.cleared"
PROPERTY_ACCESS_UPDATED = "hub.contact.property_access.updated"
CUSTOMER_READ_ENTERED = "hub.contact.customer_read.entered"
TIER_REVIEW_APPLIED = "hub.contact.tier_review.applied"
RETURNED_MAIL_LOGGED = "hub.contact.returned_mail.logged"
RETURNED_MAIL_RESOLVED = "hub.contact.returned_mail.resolved"

# What the contact layer listens to.
ACCESS_FAILED = "hub.ccb.read.access_failed"
PHONE_DIALOGS = "hub.phone.dialog.>"


class ContactOpened(msgspec.Struct, frozen=True, kw_only=True):
    contact_id: str
    channel: str
    dialog_id: str | None
    candidates: int


class ContactVerified(msgspec.Struct, frozen=True, kw_only=True):
    contact_id: str
    account_id: str
    method: str


class VerificationFailed(msgspec.Struct, frozen=True, kw_only=True):
    """A failed factor check; which factor failed is never said beyond the method presented (docs/rules.md
    §4.2)."""

    contact_id: str
    account_id: str
    method: str
    attempts_left: int
    contact_locked: bool
    account_locked: bool


class ContactRef(msgspec.Struct, frozen=True, kw_only=True):
    contact_id: str
    dialog_id: str | None


class ContactWrappedUp(msgspec.Struct, frozen=True, kw_only=True):
    contact_id: str
    note_kind: str
    drafted: bool
    ccb_contact_id: str | None
    premise_note_id: str | None
    # Set when CCB was down: the note waits in the offline journal under this form number (task 17).
    offline_form: int | None = None


class VerificationLockCleared(msgspec.Struct, frozen=True, kw_only=True):
    account_id: str


class PropertyAccessUpdated(msgspec.Struct, frozen=True, kw_only=True):
    premise_id: str
    contact_id: str | None


class CustomerReadEntered(msgspec.Struct, frozen=True, kw_only=True):
    meter_id: str
    read_id: str
    high_low: str | None
    replaced_estimate_read_id: str | None
    contact_id: str | None


class TierReviewApplied(msgspec.Struct, frozen=True, kw_only=True):
    account_id: str
    canceled_segment_ids: list[str]
    rebill_segment_ids: list[str]


class ReturnedMailLogged(msgspec.Struct, frozen=True, kw_only=True):
    item_id: str
    account_id: str


class ReturnedMailResolved(msgspec.Struct, frozen=True, kw_only=True):
    item_id: str
    account_id: str
    outcome: str
    followup_todo_id: str | None


EVENT_TYPES: tuple[EventType, ...] = (
    EventType(subject=OPENED, payload=ContactOpened, description="A customer contact was opened."),
    EventType(
        subject=VERIFIED,
        payload=ContactVerified,
        description="The customer passed identity verification for an account in a contact.",
    ),
    EventType(
        subject=VERIFICATION_FAILED,
        payload=VerificationFailed,
        description="A verification attempt failed (no factor value is carried).",
    ),
    EventType(
        subject=WRAP_UP_DUE,
        payload=ContactRef,
        description="The call of a contact was released: the contact waits for its wrap-up.",
    ),
    EventType(
        subject=WRAPPED_UP,
        payload=ContactWrappedUp,
        description="A contact was closed; its note went to CCB as a customer contact log or premise note.",
    ),
    EventType(
        subject=LOCK_CLEARED,
        payload=VerificationLockCleared,
        description="A lead cleared the identity-verification lock of an account.",
    ),
    EventType(
        subject=PROPERTY_ACCESS_UPDATED,
        payload=PropertyAccessUpdated,
        description="Property access for field crews (gate code, dog, hazards, notes) was updated.",
    ),
    EventType(
        subject=CUSTOMER_READ_ENTERED,
        payload=CustomerReadEntered,
        description="A reading the customer gave was recorded as a customer read.",
    ),
    EventType(
        subject=TIER_REVIEW_APPLIED,
        payload=TierReviewApplied,
        description="Bill segments billed in the wrong tiers were canceled and rebilled.",
    ),
    EventType(
        subject=RETURNED_MAIL_LOGGED,
        payload=ReturnedMailLogged,
        description="Mail came back undeliverable and joined the returned-mail work queue.",
    ),
    EventType(
        subject=RETURNED_MAIL_RESOLVED,
        payload=ReturnedMailResolved,
        description="The outcome of a returned-mail item was recorded.",
    ),
)


Handler = Callable[[Envelope], Awaitable[None]]


def access_failed_handler(service: ContactService) -> Handler:
    """A meter reader could not get to a meter: a CSR To Do to call the customer about access."""

    async def handle(env: Envelope) -> None:
        await service.on_access_failed(env)

    return handle


def dialog_handler(service: ContactService) -> Handler:
    """Follow the phone: the answering agent owns a screen-pop contact; a released call is due wrap-up."""

    async def handle(env: Envelope) -> None:
        await service.on_dialog_event(env)

    return handle
