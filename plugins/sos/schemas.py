"""Request and response Structs of Serving Our Seniors: JSON bodies, the pages' forms, and the views."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import msgspec

from core.contract.inputs import convert
from core.contract.scope import QUEUE, customer_view, own_contact_for, withhold
from plugins.sos.rules import Mention, Reason, RouteTarget

if TYPE_CHECKING:
    from core.contract import PluginContext
    from core.contract.contact import ContactGuard
    from core.contract.staff import Staff

ACCOUNT_ID = r"^[0-9]{10}$"

AccountId = Annotated[str, msgspec.Meta(pattern=ACCOUNT_ID)]
ContactId = Annotated[str, msgspec.Meta(pattern=ACCOUNT_ID)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=120, pattern=r"\S")]
Phone = Annotated[str, msgspec.Meta(pattern=r"^\+?[0-9][0-9 ().-]{6,30}$")]
Text = Annotated[str, msgspec.Meta(max_length=2000)]
Short = Annotated[str, msgspec.Meta(max_length=200)]


# -- request bodies --------------------------------------------------------------------------------------
class FileIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A referral from a contact. The contact comes from ``contact_id`` or the ``X-Contact-Id`` header."""

    account_id: AccountId
    reasons: Annotated[list[Reason], msgspec.Meta(min_length=1, max_length=8)]
    contact_name: Name
    contact_phone: Phone
    consent: bool
    consent_note: Short | None = None
    details: Text | None = None
    contact_id: ContactId | None = None
    idempotency_key: str | None = None


class ExtraContactIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name
    relationship: Annotated[str, msgspec.Meta(min_length=1, max_length=60, pattern=r"\S")]
    phone: Phone | None = None
    note: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class RouteIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A need outside the program; ``target`` defaults to the configured route for the need."""

    need: Reason
    target: RouteTarget | None = None
    note: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class FlagsIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    senior: bool
    mentions: Annotated[list[Mention], msgspec.Meta(max_length=len(Mention))] = []


# -- responses -------------------------------------------------------------------------------------------
class ExtraContactView(msgspec.Struct, kw_only=True):
    name: str
    relationship: str
    phone: str | None
    note: str | None


class RoutingView(msgspec.Struct, kw_only=True):
    need: str
    target: str
    note: str | None
    ccb_case_id: str | None
    field_activity_id: str | None
    mail_id: int | None
    routed_by: str


class ReferralView(msgspec.Struct, kw_only=True):
    id: int
    status: str
    account_id: str
    contact_id: str | None
    reasons: list[str]
    in_program: list[str]
    outside: dict[str, str]
    details: str | None
    contact_name: str
    contact_phone: str
    consent_note: str | None
    filed_at: dt.datetime
    filed_by: str
    due_at: dt.datetime
    overdue: bool
    sos_number: str | None
    accepted_by: str | None
    sent_at: dt.datetime | None
    mail_id: int | None
    ccb_contact_id: str | None
    extra_contacts: list[ExtraContactView]
    routings: list[RoutingView]
    replayed: bool = False
    customer_hidden: bool = False  # the customer's fields are withheld (no verified contact, not the CRO)


# The referral queue is the Customer Relations Office's work: its customer fields (who to reach, their
# phone, the free text typed about the senior) only to the CRO or inside a contact verified for the
# referral's account; leads, supervisors and admins watching the queue see reference, status and dates.
REFERRAL_QUEUE = QUEUE(roles=("cro",))
CUSTOMER_FIELDS = ("details", "contact_name", "contact_phone", "consent_note", "extra_contacts", "routings")


async def shown(
    ctx: PluginContext,
    guard: ContactGuard,
    staff: Staff,
    referral: ReferralView,
    contact_id: str | None = None,
    *,
    page: bool = False,
) -> ReferralView:
    """The referral as ``staff`` may see it: whole, or with the customer's fields withheld.

    A ``page`` (which cannot send ``X-Contact-Id``) acts inside the caller's own open contact verified for
    the referral's account when it names none."""
    if contact_id is None and page and staff.role.value not in REFERRAL_QUEUE.roles:
        contact_id = await own_contact_for(ctx, staff, referral.account_id)
    purpose = f"sos referral {referral.id}"
    if await customer_view(
        ctx, guard, staff, referral.account_id, REFERRAL_QUEUE, purpose=purpose, contact_id=contact_id
    ):
        return referral
    return withhold(referral, CUSTOMER_FIELDS)


class HintOut(msgspec.Struct, kw_only=True):
    kind: str
    text: str
    severity: str


class FlagsView(msgspec.Struct, kw_only=True):
    contact_id: str
    senior: bool
    mentions: list[str]
    hints: list[HintOut]


# -- the pages' forms (as posted; read into the JSON bodies above) ----------------------------------------
class FileForm(msgspec.Struct, kw_only=True):
    """The CSR's referral form (HTML forms cannot send headers, so the contact travels in a field)."""

    contact_id: str = ""
    account_id: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    details: str = ""
    consent_note: str = ""
    reasons: list[str] = []
    consent: str = ""
    idempotency_key: str = ""

    def values(self) -> dict[str, Any]:
        """What the CSR entered, to show the form again with an error."""
        names = ("contact_id", "account_id", "contact_name", "contact_phone", "details", "consent_note")
        return {
            **{name: getattr(self, name) for name in names},
            "reasons": list(self.reasons),
            "consent": self.consent == "yes",
        }

    def filing(self) -> FileIn:
        raw = {
            "account_id": self.account_id,
            "contact_id": self.contact_id or None,
            "reasons": self.reasons,
            "contact_name": self.contact_name,
            "contact_phone": self.contact_phone,
            "details": self.details or None,
            "consent": self.consent == "yes",
            "consent_note": self.consent_note or None,
            "idempotency_key": self.idempotency_key or None,
        }
        return convert(raw, FileIn)


class ExtraContactForm(msgspec.Struct, kw_only=True):
    name: str = ""
    relationship: str = ""
    phone: str = ""
    note: str = ""

    def contact(self) -> ExtraContactIn:
        raw = {
            "name": self.name,
            "relationship": self.relationship,
            "phone": self.phone or None,
            "note": self.note or None,
        }
        return convert(raw, ExtraContactIn)


class RouteForm(msgspec.Struct, kw_only=True):
    need: str = ""
    target: str = ""
    note: str = ""

    def routing(self) -> RouteIn:
        return convert({"need": self.need, "target": self.target or None, "note": self.note or None}, RouteIn)
