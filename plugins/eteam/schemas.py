"""Request and response Structs of the e-team plugin: JSON bodies, the queue page's forms, and the views."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import msgspec

from core.contract.ccb import IdentityMethod
from core.contract.scope import QUEUE, customer_view, own_contact_for, withhold
from plugins.eteam.rules import ACCOUNT_ID, Channel

if TYPE_CHECKING:
    from core.contract import PluginContext
    from core.contract.contact import ContactGuard
    from core.contract.staff import Staff

AccountId = Annotated[str, msgspec.Meta(pattern=ACCOUNT_ID)]
ContactId = Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=8000, pattern=r"\S")]


# -- request and response bodies -------------------------------------------------------------------------
class RespondIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An answer to an incident; ``contact_id`` (or ``X-Contact-Id``) is needed when ``action_taken``."""

    channel: Channel
    text: Text
    action_taken: bool = False
    contact_id: ContactId | None = None
    # The account acted on, when the customer did not write it (found during the investigation).
    account_id: AccountId | None = None


class NoteIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A CCB note for action taken after the answer; ``contact_id`` (or ``X-Contact-Id``) is required."""

    text: Text
    contact_id: ContactId | None = None
    account_id: AccountId | None = None


class VerifyIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Identify the customer of a request: from its details (``email``) or on a call-back (``phone``)."""

    channel: Channel
    account_id: AccountId
    method: IdentityMethod
    value: Annotated[str, msgspec.Meta(min_length=1, max_length=32, pattern=r"\S")]


class ResponseView(msgspec.Struct, kw_only=True):
    id: int
    channel: str
    text: str
    action_taken: bool
    account_id: str | None
    contact_id: str | None
    cc_thread_id: int
    ccb_contact_id: str | None
    responded_by: str
    responded_at: dt.datetime


class IncidentView(msgspec.Struct, kw_only=True):
    reference_number: str
    cc_id: int
    subject: str
    customer_text: str
    account_id: str | None
    contact_name: str | None
    status: str
    received_at: dt.datetime
    answered_at: dt.datetime | None
    answered_by: str | None
    business_hours_waiting: float
    overdue: bool
    responses: list[ResponseView] | None = None
    customer_hidden: bool = False  # the customer's name, words and the answers are withheld (not the e-team)


# The Contact Us queue is the e-team's work: the customer's name, what they wrote and what was answered only
# to the e-team or inside a contact verified for the incident's account (an incident for no account: the
# e-team only); leads and others see the reference, status and times.
INCIDENT_QUEUE = QUEUE(roles=("eteam",))
CUSTOMER_FIELDS = ("subject", "customer_text", "contact_name", "responses")


async def shown(
    ctx: PluginContext,
    guard: ContactGuard,
    staff: Staff,
    incident: IncidentView,
    contact_id: str | None = None,
    *,
    page: bool = False,
) -> IncidentView:
    """The incident as ``staff`` may see it: whole, or with the customer's fields withheld.

    A ``page`` acts inside the caller's own open contact verified for the account when it names none."""
    account_id = incident.account_id
    if contact_id is None and page and account_id and staff.role.value not in INCIDENT_QUEUE.roles:
        contact_id = await own_contact_for(ctx, staff, account_id)
    purpose = f"e-team incident {incident.reference_number}"
    if await customer_view(
        ctx, guard, staff, account_id, INCIDENT_QUEUE, purpose=purpose, contact_id=contact_id
    ):
        return incident
    return withhold(incident, CUSTOMER_FIELDS)


class PullView(msgspec.Struct, kw_only=True):
    new: int
    updated: int
    unresolved: int
    pulled_at: dt.datetime


# -- page forms ------------------------------------------------------------------------------------------
class VerifyForm(msgspec.Struct, kw_only=True):
    """The verify form as typed; checked as a :class:`VerifyIn` (the factor is never echoed back)."""

    channel: str = ""
    account_id: str = ""
    method: str = ""
    value: str = ""


class RespondForm(msgspec.Struct, kw_only=True):
    """An answer as typed on the page; ``action_taken`` is "yes" when action was taken on the account."""

    channel: str = ""
    text: str = ""
    account_id: str = ""
    contact_id: str = ""
    action_taken: str = ""


class NoteForm(msgspec.Struct, kw_only=True):
    """A CCB note for action taken after the answer, as typed on the page."""

    text: str = ""
    account_id: str = ""
    contact_id: str = ""
