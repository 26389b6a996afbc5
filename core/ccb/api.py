"""HTTP API of the CSR workflows on the CCB port (mounted at ``/api/ccb`` by the contact layer's part).

Every route on a customer's data first resolves the object (404 for an unknown id), then passes the
verified-contact guard (``X-Contact-Id``, or ``X-Access-Reason`` for a lead, supervisor or the CRO; 403
otherwise), then does one CCB port write where it writes. Status codes are those of ``core.contact.api``.
A write may carry an ``Idempotency-Key`` header: a retry with the same key replays the first answer.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, get, post, put
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from core.ccb import port as p
from core.ccb.errors import NotFound
from core.ccb.payplan import Cadence
from core.contact.api import (
    CONTACT_HEADER,
    ERROR_HANDLERS,
    WORKERS,
    Body,
    idempotency_key,
    require_verified,
    require_verified_premise,
    strict_body,
)
from core.contact.service import (
    AccountView,
    BillExplanationView,
    ContactAccess,
    ContactService,
    CustomerReadResult,
    InvestigationResult,
    MeterInfo,
    PlanQuote,
    ReturnedMailView,
    TierReviewApplied,
    TierReviewView,
    TroubleProblem,
)
from core.security import current_staff

__all__ = ["routes"]

# Meter readers' uploads come from the field-work side; leads and supervisors may key them in.
FIELD = {"roles": ["lead", "supervisor"]}
# rules: a rebill changes what the customer owes, so applying a tier review is a lead's or the CRO's call.
REBILLERS = {"roles": ["lead", "cro"]}
Cents = Annotated[int, msgspec.Meta(gt=0, le=100_000_000)]
Reading = Annotated[int, msgspec.Meta(ge=0)]
Text200 = Annotated[str, msgspec.Meta(max_length=200)]
Text1000 = Annotated[str, msgspec.Meta(max_length=1000)]
Id10 = Annotated[str, msgspec.Meta(pattern=r"^\d{10}$")]


class StartRequest(Body, frozen=True):
    premise_id: Id10
    start_date: dt.date
    services: tuple[p.ServiceKind, ...] = ("electric", "water")


class StopRequest(Body, frozen=True):
    stop_date: dt.date
    stop_reading: Reading | None = None


class CancelStopRequest(Body, frozen=True):
    pass


class RestoreRequest(Body, frozen=True):
    restore_date: dt.date
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]


class AccessRequest(Body, frozen=True):
    """Property access for field crews; an omitted field is left as it is, ``""`` clears a text field."""

    gate_code: Annotated[str, msgspec.Meta(max_length=20)] | None = None
    has_dog: bool | None = None
    hazards: Text1000 | None = None
    reader_notes: Text1000 | None = None


class CustomerReadRequest(Body, frozen=True):
    meter_id: Id10
    reading: Reading
    confirm: bool = False


class FieldReadRequest(Body, frozen=True):
    read_type: Literal["regular", "no_read"]
    reading: Reading | None = None
    remarks: Text200 | None = None


class InvestigationRequest(Body, frozen=True):
    kind: Literal["re_read", "leak_check"]
    service: p.ServiceKind
    summary: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
    premise_id: Id10 | None = None


class PlanRequest(Body, frozen=True):
    """Money in integer cents only: ``amount_cents`` defaults to the account's past-due balance."""

    installments: Annotated[int, msgspec.Meta(ge=1, le=120)]
    amount_cents: Cents | None = None
    first_due: dt.date | None = None
    cadence: Cadence = "monthly"
    hardship_reason: Text200 | None = None


class ReturnedMailRequest(Body, frozen=True):
    account_id: Id10
    reason: Text200 = "returned undeliverable"
    received_on: dt.date | None = None


class ReturnedMailOutcome(Body, frozen=True):
    outcome: Literal["new_address", "new_contact_needed"]
    address: p.Address | None = None
    note: Text200 | None = None


class TroubleRequest(Body, frozen=True):
    service: p.ServiceKind
    problem: TroubleProblem
    details: Text1000 | None = None


class TierReviewRequest(Body, frozen=True):
    periods: Annotated[int, msgspec.Meta(ge=1, le=12)] = 6


class TierApplyRequest(Body, frozen=True):
    periods: Annotated[int, msgspec.Meta(ge=1, le=12)] = 6
    reason: Text200 | None = None


def routes(service: ContactService) -> list[Any]:
    """The workflow routes, relative to the part's ``ROUTE_PREFIX`` (``/api``)."""
    ccb = service.ccb
    common: dict[str, Any] = {"tags": ["ccb"], "exception_handlers": ERROR_HANDLERS}

    async def account_guard(
        request: Request[Any, Any, Any], account_id: str, purpose: str, topic: str, *, change: bool = False
    ) -> ContactAccess:
        # An unknown account is a 404, never the guard's 403 and never an audited pass. A contact verified
        # for the account proves it exists, so the common path skips the extra CCB read; a reason (no
        # contact) or a refusal checks first.
        if request.headers.get(CONTACT_HEADER) is None:
            await service.account_exists(account_id)
        try:
            return await require_verified(request, account_id, purpose=purpose, topic=topic, change=change)
        except PermissionDeniedException:
            await service.account_exists(account_id)
            raise

    async def sa_guard(
        request: Request[Any, Any, Any], sa_id: str, purpose: str
    ) -> tuple[p.ServiceAgreementView, ContactAccess]:
        sa = await ccb.get_service_agreement(sa_id)
        access = await require_verified(request, sa.account_id, purpose=purpose, topic="service", change=True)
        return sa, access

    # -- account and bills ------------------------------------------------------------------------------
    @get("/ccb/accounts/{account_id:str}", opt=WORKERS, **common)
    async def account(request: Request[Any, Any, Any], account_id: FromPath[str]) -> AccountView:
        """The account at a glance: persons, premises, SAs, balance and past due, last bills, pay plan."""
        access = await account_guard(request, account_id, f"account summary of {account_id}", "account")
        return await service.account_view(access, account_id)

    @get("/ccb/bills/{bill_id:str}/explanation", opt=WORKERS, **common)
    async def explain_bill(request: Request[Any, Any, Any], bill_id: FromPath[str]) -> BillExplanationView:
        """A bill in plain words: each segment's tiers and amounts, the due date and the late-fee rule."""
        bill = await ccb.get_bill(bill_id)
        access = await require_verified(
            request, bill.account_id, purpose=f"explanation of bill {bill_id}", topic="billing"
        )
        return await service.explain_bill(access, bill)

    # -- start / stop / restore ---------------------------------------------------------------------------
    @post("/ccb/accounts/{account_id:str}/service/start", opt=WORKERS, status_code=HTTP_201_CREATED, **common)
    async def start(
        request: Request[Any, Any, Any], account_id: FromPath[str], data: JSONBody[StartRequest]
    ) -> p.StartServiceResult:
        """Start service at a premise: pending-start SAs (10) and a START field activity per service."""
        body = await strict_body(request, StartRequest)
        access = await account_guard(request, account_id, "start service", "service", change=True)
        return await service.start_service(
            access, account_id, body.premise_id, body.start_date, body.services, idempotency_key(request)
        )

    @post("/ccb/service-agreements/{sa_id:str}/stop", opt=WORKERS, status_code=HTTP_200_OK, **common)
    async def stop(
        request: Request[Any, Any, Any], sa_id: FromPath[str], data: JSONBody[StopRequest]
    ) -> p.ServiceAgreementView:
        """Stop an SA on a date (30 pending stop); a reading the customer gives is kept as the stop read."""
        body = await strict_body(request, StopRequest)
        sa, access = await sa_guard(request, sa_id, f"stop service agreement {sa_id}")
        return await service.stop_service(
            access, sa, body.stop_date, body.stop_reading, idempotency_key(request)
        )

    @post("/ccb/service-agreements/{sa_id:str}/cancel-stop", opt=WORKERS, status_code=HTTP_200_OK, **common)
    async def cancel_stop(
        request: Request[Any, Any, Any], sa_id: FromPath[str], data: JSONBody[CancelStopRequest]
    ) -> p.ServiceAgreementView:
        """Take back a pending stop (30 -> 20)."""
        await strict_body(request, CancelStopRequest)
        sa, access = await sa_guard(request, sa_id, f"cancel the stop of service agreement {sa_id}")
        return await service.cancel_stop(access, sa, idempotency_key(request))

    @post("/ccb/service-agreements/{sa_id:str}/restore", opt=WORKERS, status_code=HTTP_200_OK, **common)
    async def restore(
        request: Request[Any, Any, Any], sa_id: FromPath[str], data: JSONBody[RestoreRequest]
    ) -> p.ServiceAgreementView:
        """Bring a stopped or closed SA back into service (50 reactivated) with a reconnect order."""
        body = await strict_body(request, RestoreRequest)
        sa, access = await sa_guard(request, sa_id, f"restore service agreement {sa_id}")
        return await service.restore_service(
            access, sa, body.restore_date, body.reason, idempotency_key(request)
        )

    # -- premises --------------------------------------------------------------------------------------
    @put("/ccb/premises/{premise_id:str}/access", opt=WORKERS, status_code=HTTP_200_OK, **common)
    async def property_access(
        request: Request[Any, Any, Any], premise_id: FromPath[str], data: JSONBody[AccessRequest]
    ) -> p.PremiseView:
        """Gate code, dog, hazards and reader notes for the field crews."""
        body = await strict_body(request, AccessRequest)
        await ccb.get_premise(premise_id)
        access = await require_verified_premise(
            request, premise_id, purpose="update property access", change=True
        )
        return await service.set_property_access(
            access,
            p.SetPropertyAccess(
                premise_id=premise_id,
                gate_code=body.gate_code,
                has_dog=body.has_dog,
                hazards=body.hazards,
                reader_notes=body.reader_notes,
            ),
            idempotency_key(request),
        )

    @post(
        "/ccb/premises/{premise_id:str}/trouble-tickets", opt=WORKERS, status_code=HTTP_201_CREATED, **common
    )
    async def trouble_ticket(
        request: Request[Any, Any, Any], premise_id: FromPath[str], data: JSONBody[TroubleRequest]
    ) -> p.FieldActivityView:
        """A water or electric trouble report: a TROUBLE field activity with its dispatch priority.

        Needs an open contact of the caller but no verification: a report of danger is tier 0.
        """
        body = await strict_body(request, TroubleRequest)
        await ccb.get_premise(premise_id)
        access = await require_verified_premise(
            request, premise_id, purpose="trouble report", verified=False, topic="field", change=True
        )
        return await service.trouble_ticket(
            access, premise_id, body.service, body.problem, body.details, idempotency_key(request)
        )

    # -- meters and reads --------------------------------------------------------------------------------
    @get("/ccb/accounts/{account_id:str}/meters", opt=WORKERS, **common)
    async def meters(request: Request[Any, Any, Any], account_id: FromPath[str]) -> list[MeterInfo]:
        """The account's meters with how to read each type (dials or display, kWh or HCF)."""
        await account_guard(request, account_id, "meters and read instructions", "meter")
        return await service.meters(account_id)

    @post("/ccb/accounts/{account_id:str}/meter-reads", opt=WORKERS, status_code=HTTP_201_CREATED, **common)
    async def customer_read(
        request: Request[Any, Any, Any], account_id: FromPath[str], data: JSONBody[CustomerReadRequest]
    ) -> CustomerReadResult:
        """A reading the customer gives; refused (422) outside the high/low range unless ``confirm``."""
        body = await strict_body(request, CustomerReadRequest)
        access = await account_guard(request, account_id, "enter a customer read", "meter", change=True)
        return await service.enter_customer_read(
            access, account_id, body.meter_id, body.reading, body.confirm, idempotency_key(request)
        )

    @post(
        "/ccb/premises/{premise_id:str}/meters/{meter_id:str}/field-reads",
        opt=FIELD,
        status_code=HTTP_201_CREATED,
        **common,
    )
    async def field_read(
        request: Request[Any, Any, Any],
        premise_id: FromPath[str],
        meter_id: FromPath[str],
        data: JSONBody[FieldReadRequest],
    ) -> p.ReadResult:
        """A meter reader's read or No Read (no access): a No Read is estimated and raises a CSR To Do."""
        body = await strict_body(request, FieldReadRequest)
        premise = await ccb.get_premise(premise_id)
        if not any(sp.meter and sp.meter.meter_id == meter_id for sp in premise.service_points):
            raise NotFound("meter", meter_id)
        access = await require_verified_premise(
            request, premise_id, purpose=f"field read of meter {meter_id}", topic="meter", change=True
        )
        return await service.field_read(
            access, meter_id, body.read_type, body.reading, body.remarks, idempotency_key(request)
        )

    @post(
        "/ccb/accounts/{account_id:str}/field-investigations",
        opt=WORKERS,
        status_code=HTTP_201_CREATED,
        **common,
    )
    async def field_investigation(
        request: Request[Any, Any, Any], account_id: FromPath[str], data: JSONBody[InvestigationRequest]
    ) -> InvestigationResult:
        """A high-bill case with its re-read or leak-check field activity."""
        body = await strict_body(request, InvestigationRequest)
        access = await account_guard(request, account_id, "open a field investigation", "field", change=True)
        return await service.field_investigation(
            access,
            account_id,
            body.kind,
            body.service,
            body.premise_id,
            body.summary,
            idempotency_key(request),
        )

    # -- payment plans ------------------------------------------------------------------------------------
    @post(
        "/ccb/accounts/{account_id:str}/payment-plans/quote", opt=WORKERS, status_code=HTTP_200_OK, **common
    )
    async def quote_plan(
        request: Request[Any, Any, Any], account_id: FromPath[str], data: JSONBody[PlanRequest]
    ) -> PlanQuote:
        """Installments summing exactly to the amount (default: past due), the first ones taking the odd
        cents; a residential plan runs at most 12 months (PUC 10010, HSC 116900 ff.)."""
        body = await strict_body(request, PlanRequest)
        await account_guard(request, account_id, "payment plan quote", "payment")
        return await service.quote_plan(
            account_id,
            amount_cents=body.amount_cents,
            installments=body.installments,
            first_due=body.first_due,
            cadence=body.cadence,
            hardship_reason=body.hardship_reason,
        )

    @post("/ccb/accounts/{account_id:str}/payment-plans", opt=WORKERS, status_code=HTTP_201_CREATED, **common)
    async def create_plan(
        request: Request[Any, Any, Any], account_id: FromPath[str], data: JSONBody[PlanRequest]
    ) -> p.PayPlanView:
        """Create the CCB pay plan the quote described."""
        body = await strict_body(request, PlanRequest)
        access = await account_guard(request, account_id, "create a payment plan", "payment", change=True)
        return await service.create_plan(
            access,
            account_id,
            amount_cents=body.amount_cents,
            installments=body.installments,
            first_due=body.first_due,
            cadence=body.cadence,
            hardship_reason=body.hardship_reason,
            key=idempotency_key(request),
        )

    # -- tier review -----------------------------------------------------------------------------------
    @post("/ccb/accounts/{account_id:str}/tier-review", opt=WORKERS, status_code=HTTP_200_OK, **common)
    async def tier_review(
        request: Request[Any, Any, Any], account_id: FromPath[str], data: JSONBody[TierReviewRequest]
    ) -> TierReviewView:
        """Per bill of the last N periods: billed vs correct tiers and amounts (ccb-domain §2.5)."""
        body = await strict_body(request, TierReviewRequest)
        await account_guard(request, account_id, f"tier review of the last {body.periods} bills", "billing")
        return await service.tier_review(account_id, body.periods)

    @post(
        "/ccb/accounts/{account_id:str}/tier-review/apply", opt=REBILLERS, status_code=HTTP_200_OK, **common
    )
    async def apply_tier_review(
        request: Request[Any, Any, Any], account_id: FromPath[str], data: JSONBody[TierApplyRequest]
    ) -> TierReviewApplied:
        """Cancel and rebill the segments billed in the wrong tiers (lead or CRO); before/after amounts."""
        body = await strict_body(request, TierApplyRequest)
        access = await account_guard(request, account_id, "apply a tier review", "billing", change=True)
        return await service.apply_tier_review(access, account_id, body.periods, body.reason or "")

    # -- returned mail ----------------------------------------------------------------------------------
    @get("/ccb/returned-mail", opt=WORKERS, **common)
    async def returned_mail(
        status: Annotated[str | None, QueryParameter(name="status", pattern=r"^(open|resolved)$")] = "open",
    ) -> list[ReturnedMailView]:
        """The returned-mail work queue (open items by default, oldest first)."""
        return await service.returned_mail(status)

    @post("/ccb/returned-mail", opt=WORKERS, status_code=HTTP_201_CREATED, **common)
    async def log_returned_mail(
        request: Request[Any, Any, Any], data: JSONBody[ReturnedMailRequest]
    ) -> ReturnedMailView:
        """Log a piece of mail that came back undeliverable."""
        body = await strict_body(request, ReturnedMailRequest)
        return await service.log_returned_mail(
            current_staff(request), body.account_id, body.reason, body.received_on
        )

    @post("/ccb/returned-mail/{item_id:str}/outcome", opt=WORKERS, status_code=HTTP_200_OK, **common)
    async def resolve_returned_mail(
        request: Request[Any, Any, Any], item_id: FromPath[str], data: JSONBody[ReturnedMailOutcome]
    ) -> ReturnedMailView:
        """Record the outcome: a new mailing address (to the back office) or "new contact needed"."""
        body = await strict_body(request, ReturnedMailOutcome)
        item = await service.returned_mail_item(item_id)
        access = await require_verified(
            request, item.account_id, purpose=f"returned mail {item_id}", topic="mail", change=True
        )
        return await service.resolve_returned_mail(access, item_id, body.outcome, body.address, body.note)

    # -- To Do -----------------------------------------------------------------------------------------
    @get("/ccb/todos", opt=WORKERS, **common)
    async def todos(
        role: Annotated[str | None, QueryParameter(name="role", pattern=r"^[A-Z0-9_]{2,30}$")] = None,
        status: Annotated[str | None, QueryParameter(name="status", pattern=r"^[OWC]$")] = "O",
    ) -> list[p.ToDoView]:
        """To Do entries by role and status (O open, W being worked, C complete), most urgent first."""
        return await ccb.list_todos(role=role, status=status)

    return [
        account,
        explain_bill,
        start,
        stop,
        cancel_stop,
        restore,
        property_access,
        trouble_ticket,
        meters,
        customer_read,
        field_read,
        field_investigation,
        quote_plan,
        create_plan,
        tier_review,
        apply_tier_review,
        returned_mail,
        log_returned_mail,
        resolve_returned_mail,
        todos,
    ]
