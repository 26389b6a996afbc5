"""Request and response Structs of the solar plugin: voicemails, answers and the explained bill."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import msgspec

from core.contract.ccb import port
from core.contract.scope import QUEUE, customer_view, own_contact_for, withhold
from plugins.solar.models import Voicemail
from plugins.solar.rules import ACCOUNT_ID, PHONE, Outcome

if TYPE_CHECKING:
    from core.contract import PluginContext
    from core.contract.contact import ContactGuard
    from core.contract.staff import Staff

AccountId = Annotated[str, msgspec.Meta(pattern=ACCOUNT_ID)]
Phone = Annotated[str, msgspec.Meta(pattern=PHONE)]
Notes = Annotated[str, msgspec.Meta(max_length=2000)]


# -- request bodies --------------------------------------------------------------------------------------
class VoicemailIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Message metadata from the phone system; no recording or transcript is ever sent here."""

    ani: Phone
    duration_s: Annotated[int, msgspec.Meta(ge=1, le=3600)]
    callback_number: Phone | None = None
    account_id: AccountId | None = None
    call_id: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._:-]{1,64}$")] | None = None
    left_at: dt.datetime | None = None  # when the phone system took it; defaults to now


class ReturnIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    outcome: Outcome
    notes: Notes | None = None


# -- responses -------------------------------------------------------------------------------------------
class VoicemailView(msgspec.Struct, kw_only=True):
    id: int
    ani: str
    callback_number: str
    account_id: str | None
    duration_s: int
    call_id: str | None
    left_at: dt.datetime
    due_at: dt.datetime
    overdue: bool
    returned_at: dt.datetime | None
    returned_by: str | None
    outcome: str | None
    notes: str | None
    customer_hidden: bool = False  # the caller's numbers and the notes are withheld (not the Solar team)


# The callback queue is the Solar team's work: the caller's numbers and the callback notes only to the
# team or inside a contact verified for the voicemail's account (a voicemail for no account: the team
# only); leads, supervisors and admins watching the queue see its times and outcomes.
VOICEMAIL_QUEUE = QUEUE(roles=("solar",))
CUSTOMER_FIELDS = ("ani", "callback_number", "notes")


async def shown(
    ctx: PluginContext,
    guard: ContactGuard,
    staff: Staff,
    vm: VoicemailView,
    contact_id: str | None = None,
    *,
    page: bool = False,
) -> VoicemailView:
    """The voicemail as ``staff`` may see it: whole, or with the caller's numbers and notes withheld.

    A ``page`` acts inside the caller's own open contact verified for the account when it names none."""
    if contact_id is None and page and vm.account_id and staff.role.value not in VOICEMAIL_QUEUE.roles:
        contact_id = await own_contact_for(ctx, staff, vm.account_id)
    purpose = f"solar voicemail {vm.id}"
    if await customer_view(
        ctx, guard, staff, vm.account_id, VOICEMAIL_QUEUE, purpose=purpose, contact_id=contact_id
    ):
        return vm
    return withhold(vm, CUSTOMER_FIELDS)


class AnswerView(msgspec.Struct, kw_only=True):
    id: str
    question: str
    answer: str
    program: str | None
    score: int


class BillExplanationView(msgspec.Struct, kw_only=True):
    """One net-metered bill as the CCB billed it, with the same bill in plain words (``lines``).

    kWh figures are exact decimal text ("600.00"); ``end`` is the end-read date (exclusive).
    """

    account_id: str
    sa_id: str
    bill_id: str
    bill_date: dt.date
    start: dt.date
    end: dt.date
    days: int
    zone: str
    estimated: bool
    delivered_kwh: str
    received_kwh: str
    net_kwh: str
    credit_in_kwh: str
    credit_used_kwh: str
    billed_kwh: str
    tier_kwh: list[str]
    tier_lines: list[port.NetMeteringTierLine]
    charges: list[port.NetMeteringCharge]
    credit_earned_kwh: str
    credit_out_kwh: str
    credit_forfeited_kwh: str
    energy_cents: int
    charges_cents: int
    total_cents: int
    total: str
    other_periods: list[dt.date]  # start dates of the other billed periods, newest first
    lines: list[str]


def vm_view(v: Voicemail, now: dt.datetime) -> VoicemailView:
    return VoicemailView(
        id=v.id,
        ani=v.ani,
        callback_number=v.callback_number,
        account_id=v.account_id,
        duration_s=v.duration_s,
        call_id=v.call_id,
        left_at=v.left_at,
        due_at=v.due_at,
        overdue=v.returned_at is None and now > v.due_at,
        returned_at=v.returned_at,
        returned_by=v.returned_by,
        outcome=v.outcome,
        notes=v.notes,
    )
