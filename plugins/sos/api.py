"""JSON API of Serving Our Seniors under /api/sos: referrals from contacts, the CRO's work, contact flags.

Bodies are Litestar-decoded Structs (malformed JSON → 400, a bad field → 422 naming it); the work is in
:mod:`plugins.sos.service`. Status codes: 403 without a verified contact (or a role); 404 for an unknown
referral, account or contact; 409 for an action the referral's status forbids; 502 when CCB refuses for
another reason.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Response, get, post
from litestar.exceptions import PermissionDeniedException, ServiceUnavailableException
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter

from core.contract import PluginContext
from core.contract.ccb import NotFound
from core.contract.contact import CONTACT_HEADER, AccessDenied, Guard, contact_desk
from core.contract.idempotency import Idempotency, request_key
from core.contract.inputs import InputError
from core.contract.scope import CONTACT, QUEUE, account
from core.contract.staff import Staff
from core.contract.web import Controller, Ctx, CurrentStaff
from plugins.sos.rules import Status
from plugins.sos.schemas import (
    ExtraContactIn,
    FileIn,
    FlagsIn,
    FlagsView,
    HintOut,
    ReferralView,
    RouteIn,
    shown,
)
from plugins.sos.service import (
    accept,
    add_contact,
    file_checked,
    hints_for,
    referral_views,
    route,
    send,
    set_flags,
    view_of,
)

# Who may do what (issue 7 §1): CSRs (and their leads) file from a contact; the Customer Relations Office
# works the queue; leads and supervisors watch it.
FILERS = {"roles": ["csr", "lead", "supervisor", "cro"]}
CRO = {"roles": ["cro"]}
VIEWERS = {"roles": ["cro", "lead", "supervisor", "admin"]}

ContactHeader = Annotated[str | None, HeaderParameter(name=CONTACT_HEADER, required=False)]


def contact_of(data: FileIn, header: str | None) -> str | None:
    """The filing's contact: the body's ``contact_id`` or the ``X-Contact-Id`` header (the same)."""
    header = (header or "").strip() or None
    if header is not None and data.contact_id not in (None, header):
        raise InputError("contact_id", f"differs from the {CONTACT_HEADER} header")
    return data.contact_id or header


async def require_contact(ctx: PluginContext, staff: Staff, contact_id: str) -> None:
    """The contact exists and the caller may see it (its owner, or a supervising role)."""
    contacts = contact_desk(ctx)
    if contacts is None:
        raise ServiceUnavailableException("the contact layer is not running")
    try:
        await contacts.get_contact(staff, contact_id)
    except AccessDenied as exc:
        raise PermissionDeniedException(str(exc)) from None
    except NotFound:
        raise InputError("contact_id", f"no contact {contact_id}", 404) from None


class SosApi(Controller):
    """File referrals from a verified contact; the CRO accepts, adds contacts, routes and sends them."""

    path = "/"

    @post(
        "/referrals",
        opt=FILERS,
        summary="File an SOS referral from a contact",
        customer_data=account(record="referral"),
    )
    async def file_endpoint(
        self,
        ctx: Ctx,
        staff: CurrentStaff,
        guard: Guard,
        data: JSONBody[FileIn],
        idempotency: Idempotency,
        contact_header: ContactHeader = None,
    ) -> Response[ReferralView]:
        """Body: ``FileIn``. Idempotent on ``idempotency_key`` (or the ``Idempotency-Key`` header): a repeat
        answers 200 with the first record and ``replayed: true``."""
        contact_id = contact_of(data, contact_header)
        data.idempotency_key = request_key(data.idempotency_key, idempotency)
        referral, replayed = await file_checked(ctx, staff, guard, data, contact_id)
        view = await view_of(ctx, referral.id, replayed=replayed)
        return Response(view, status_code=200 if replayed else 201)

    @get(
        "/referrals",
        opt=VIEWERS,
        summary="Referrals (open by default: filed and accepted)",
        customer_data=QUEUE(roles=("cro",)),
    )
    async def list_endpoint(
        self,
        ctx: Ctx,
        staff: CurrentStaff,
        guard: Guard,
        status: Annotated[Status | None, QueryParameter()] = None,
    ) -> list[ReferralView]:
        return [await shown(ctx, guard, staff, r) for r in await referral_views(ctx, status)]

    @get(
        "/referrals/{referral_id:int}",
        opt=VIEWERS,
        summary="One referral",
        customer_data=QUEUE(roles=("cro",)),
    )
    async def get_endpoint(
        self, ctx: Ctx, staff: CurrentStaff, guard: Guard, referral_id: FromPath[int]
    ) -> ReferralView:
        return await shown(ctx, guard, staff, await view_of(ctx, referral_id))

    @post(
        "/referrals/{referral_id:int}/accept",
        opt=CRO,
        status_code=200,
        summary="Accept: SOS number",
        customer_data=QUEUE(roles=("cro",)),
    )
    async def accept_endpoint(
        self, ctx: Ctx, staff: CurrentStaff, referral_id: FromPath[int]
    ) -> ReferralView:
        await accept(ctx, staff, referral_id)
        return await view_of(ctx, referral_id)

    @post(
        "/referrals/{referral_id:int}/contacts",
        opt=CRO,
        status_code=201,
        summary="Add a contact",
        customer_data=QUEUE(roles=("cro",)),
    )
    async def contact_endpoint(
        self, ctx: Ctx, staff: CurrentStaff, referral_id: FromPath[int], data: JSONBody[ExtraContactIn]
    ) -> ReferralView:
        await add_contact(ctx, staff, referral_id, data)
        return await view_of(ctx, referral_id)

    @post(
        "/referrals/{referral_id:int}/routes",
        opt=CRO,
        status_code=200,
        summary="Route a need elsewhere",
        customer_data=QUEUE(roles=("cro",)),
    )
    async def route_endpoint(
        self, ctx: Ctx, staff: CurrentStaff, referral_id: FromPath[int], data: JSONBody[RouteIn]
    ) -> ReferralView:
        await route(ctx, staff, referral_id, data)
        return await view_of(ctx, referral_id)

    @post(
        "/referrals/{referral_id:int}/send",
        opt=CRO,
        status_code=200,
        summary="Send to the Dept. of Aging",
        customer_data=QUEUE(roles=("cro",)),
    )
    async def send_endpoint(self, ctx: Ctx, staff: CurrentStaff, referral_id: FromPath[int]) -> ReferralView:
        await send(ctx, staff, referral_id)
        return await view_of(ctx, referral_id)

    @post(
        "/contacts/{contact_id:str}/flags",
        opt=FILERS,
        status_code=200,
        summary="Flag a contact",
        customer_data=CONTACT,
    )
    async def flags_endpoint(
        self,
        ctx: Ctx,
        staff: CurrentStaff,
        contact_id: FromPath[str],
        data: JSONBody[FlagsIn],
    ) -> FlagsView:
        """Body: ``FlagsIn`` (``senior``, ``mentions``: cannot_pay, isolation). Replaces earlier flags."""
        await require_contact(ctx, staff, contact_id)
        row = await set_flags(ctx, staff, contact_id, data)
        hints = await hints_for(ctx, contact_id)
        return FlagsView(
            contact_id=contact_id,
            senior=row.senior,
            mentions=list(row.mentions),
            hints=[HintOut(kind=h.kind, text=h.text, severity=h.severity) for h in hints],
        )
