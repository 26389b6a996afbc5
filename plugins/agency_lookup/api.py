"""JSON API of the agency lookup under /api/agency_lookup: the directory, its transfer targets, disclosures.

The directory is open to any staff of a section where the plugin is enabled; disclosures only to CROs,
supervisors and admins (issue 7 §5). Bodies are Litestar-decoded Structs (malformed JSON → 400, a bad field →
422 naming it); the work is in :mod:`plugins.agency_lookup.service`.
"""

from __future__ import annotations

from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from core.contract.contact import Guard
from core.contract.inputs import InputError
from core.contract.scope import NONE, QUEUE, customer_view, withhold
from core.contract.staff import Staff
from core.contract.web import Ctx, CurrentStaff
from plugins.agency_lookup import service
from plugins.agency_lookup.rules import AgencyConfig, search, transfer_targets
from plugins.agency_lookup.schemas import (
    DirectoryHit,
    DisclosureIn,
    DisclosureView,
    LogEntryView,
    MonthlyReport,
    ReleaseView,
    TransferTarget,
    log_view,
    view,
)

# Disclosures are for the customer-relations office and those above it (issue 7 §5); the directory is for
# any staff of an enabled section.
CRO = {"roles": ["cro", "supervisor", "admin"]}
# Releasing hands the agency the customers' records: the CRO's and supervisors' work only, never an admin's.
RELEASERS = {"roles": ["cro", "supervisor"]}
DISCLOSURE_ROLES = ("cro", "supervisor")
DISCLOSURE_CUSTOMER_FIELDS = ("accounts_affected",)
STAFF = {"access": "staff"}
# Disclosures are the CRO's and supervisors' work: a log entry (the request's criteria, the accounts and
# what was read out) only to them, every read audited; an admin keeping the log sees its steps, times,
# actors and hashes. A disclosure answers an agency, not a customer, so no contact opens it.
DISCLOSURE_QUEUE = QUEUE(roles=("cro", "supervisor"))
LOG_CUSTOMER_FIELDS = ("entry",)
MAX_QUERY = 200


def shown(staff: Staff, disclosure: DisclosureView) -> DisclosureView:
    """The accounts a disclosure concerns are the CRO's and supervisors' to see; an admin keeping the log
    sees the request, its decision and its dates."""
    if staff.role.value in DISCLOSURE_ROLES:
        return disclosure
    return withhold(disclosure, DISCLOSURE_CUSTOMER_FIELDS)


def query_text(q: str | None) -> str:
    if q is not None and len(q) > MAX_QUERY:
        raise InputError("q", f"is longer than {MAX_QUERY} characters")
    return q or ""


class DirectoryController(Controller):
    """The transfer directory, searched by what the caller needs, and its entries as transfer targets."""

    path = "/"

    @get("/directory", opt=STAFF, summary="Search the transfer directory by need", customer_data=NONE)
    async def directory(self, ctx: Ctx, q: FromQuery[str | None] = None) -> list[DirectoryHit]:
        config: AgencyConfig = ctx.config
        limit = config.max_results if q else len(config.directory)
        return [
            DirectoryHit(
                id=m.entry.id,
                name=m.entry.name,
                organization=m.entry.organization,
                kind=m.entry.kind.value,
                number=m.entry.number,
                dial=m.entry.dial,
                notes=m.entry.notes,
                score=m.score,
                matched=list(m.matched),
            )
            for m in search(config.directory, query_text(q), limit)
        ]

    @get(
        "/transfer-targets",
        opt=STAFF,
        summary="Directory entries as telephony transfer targets",
        customer_data=NONE,
    )
    async def targets(self, ctx: Ctx) -> list[TransferTarget]:
        """Label → digits for telephony's single-step and warm transfers (its ``external_directory``)."""
        config: AgencyConfig = ctx.config
        by_name = {e.name: e for e in config.directory}
        return [
            TransferTarget(
                label=label,
                dial=dial,
                number=by_name[label].number,
                organization=by_name[label].organization,
                entry_id=by_name[label].id,
            )
            for label, dial in transfer_targets(config.directory).items()
        ]


class DisclosureController(Controller):
    """Requests for customer information from outside agencies: record and decide, approve, release."""

    path = "/"

    @post(
        "/disclosures",
        opt=CRO,
        summary="Record and decide a request from an outside agency",
        customer_data=QUEUE(roles=("cro", "supervisor")),
    )
    async def create(
        self, ctx: Ctx, staff: CurrentStaff, data: JSONBody[DisclosureIn]
    ) -> Response[DisclosureView]:
        return Response(view(await service.request_disclosure(ctx, staff, data)), status_code=201)

    @get(
        "/disclosures",
        opt=CRO,
        summary="Disclosure requests, newest first",
        customer_data=QUEUE(roles=("cro", "supervisor")),
    )
    async def list_disclosures(
        self, ctx: Ctx, staff: CurrentStaff, status: FromQuery[str | None] = None
    ) -> list[DisclosureView]:
        return [shown(staff, view(d)) for d in await service.list_disclosures(ctx, status)]

    @get(
        "/disclosures/{disclosure_id:int}",
        opt=CRO,
        summary="One disclosure request",
        customer_data=QUEUE(roles=("cro", "supervisor")),
    )
    async def get_disclosure(
        self, ctx: Ctx, staff: CurrentStaff, disclosure_id: FromPath[int]
    ) -> DisclosureView:
        return shown(staff, view(await service.get_disclosure(ctx, disclosure_id)))

    @post(
        "/disclosures/{disclosure_id:int}/approve",
        opt=CRO,
        status_code=200,
        summary="Second approval",
        customer_data=QUEUE(roles=("cro", "supervisor")),
    )
    async def approve(self, ctx: Ctx, staff: CurrentStaff, disclosure_id: FromPath[int]) -> DisclosureView:
        return view(await service.approve(ctx, staff, disclosure_id))

    @post(
        "/disclosures/{disclosure_id:int}/release",
        opt=RELEASERS,
        status_code=200,
        summary="Release the data",
        customer_data=QUEUE(roles=("cro", "supervisor")),
    )
    async def release(self, ctx: Ctx, staff: CurrentStaff, disclosure_id: FromPath[int]) -> ReleaseView:
        d, records = await service.release(ctx, staff, disclosure_id)
        return ReleaseView(disclosure=view(d), records=records)

    @get(
        "/disclosures/{disclosure_id:int}/log",
        opt=CRO,
        summary="The disclosure's log entries",
        customer_data=DISCLOSURE_QUEUE,
    )
    async def log(
        self, ctx: Ctx, staff: CurrentStaff, guard: Guard, disclosure_id: FromPath[int]
    ) -> list[LogEntryView]:
        entries = [log_view(r) for r in await service.log_of(ctx, disclosure_id)]
        purpose = f"disclosure {disclosure_id} log"
        if not entries or await customer_view(ctx, guard, staff, None, DISCLOSURE_QUEUE, purpose=purpose):
            return entries
        return [withhold(e, LOG_CUSTOMER_FIELDS) for e in entries]

    @get(
        "/reports/monthly",
        opt=CRO,
        summary="Disclosure counts by basis and agency for a month",
        customer_data=NONE,
    )
    async def monthly(self, ctx: Ctx, month: FromQuery[str | None] = None) -> MonthlyReport:
        return await service.report(ctx, month)
