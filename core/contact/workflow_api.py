"""HTTP API of the CSR workflows on the CCB port, used inside a contact (mounted under ``/api/ccb``).

Every route on a customer's data first resolves the object (404 for an unknown id), then passes the
verified-contact guard (``X-Contact-Id``, or ``X-Access-Reason`` for a lead, supervisor or the CRO; 403
otherwise), then does one CCB port write where it writes. Status codes are those of
:mod:`core.contact.web`. A write may carry an ``Idempotency-Key`` header: a retry with the same key
replays the first answer. One controller per workflow, each the HTTP side of a module under
``core.contact.workflows``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.exceptions import PermissionDeniedException
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from core.ccb import port as p
from core.ccb.errors import NotFound
from core.ccb.payplan import Cadence
from core.contact.guard import CONTACT_HEADER, ContactAccess, require_verified, require_verified_premise
from core.contact.service import ContactService
from core.contact.web import ERROR_HANDLERS, SERVICE, WORKERS, Body, Service, idempotency_key, strict_body
from core.contact.workflows.bills import AccountView, BillExplanationView
from core.contact.workflows.field_work import InvestigationResult, TroubleProblem
from core.contact.workflows.meter_reads import CustomerReadResult, MeterInfo
from core.contact.workflows.pay_plans import PlanQuote
from core.contact.workflows.returned_mail import ReturnedMailView
from core.contact.workflows.tier_review import TierReviewApplied, TierReviewView
from core.contract.contact import provide_guard
from core.contract.scope import NONE, QUEUE, customer_view, premise, withhold
from core.contract.scope import account as on_account
from core.contract.web import Ctx
from core.security import current_staff

__all__ = ["CONTROLLERS"]

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


# ---------------------------------------------------------------------------------------------------
# The guard in front of an account or a service agreement


async def account_guard(
    request: Request[Any, Any, Any],
    service: ContactService,
    account_id: str,
    purpose: str,
    topic: str,
    *,
    change: bool = False,
) -> ContactAccess:
    """The guard for an account's data, with an unknown account a 404 (never a 403 or an audited pass)."""
    # A contact verified for the account proves it exists, so the common path skips the extra CCB read;
    # a reason (no contact) or a refusal checks first.
    if request.headers.get(CONTACT_HEADER) is None:
        await service.account_exists(account_id)
    try:
        return await require_verified(request, account_id, purpose=purpose, topic=topic, change=change)
    except PermissionDeniedException:
        await service.account_exists(account_id)
        raise


async def sa_guard(
    request: Request[Any, Any, Any], service: ContactService, sa_id: str, purpose: str
) -> tuple[p.ServiceAgreementView, ContactAccess]:
    """The service agreement (404 when unknown) and the guard for its account, for a service change."""
    sa = await service.ccb.get_service_agreement(sa_id)
    access = await require_verified(request, sa.account_id, purpose=purpose, topic="service", change=True)
    return sa, access


class WorkflowController(Controller):
    """Base of the workflow controllers: under ``/ccb``, for contact workers, domain errors as statuses."""

    path = "/ccb"
    opt = WORKERS
    tags = ["ccb"]
    exception_handlers = ERROR_HANDLERS
    dependencies = SERVICE


class BillsController(WorkflowController):
    """The account at a glance and a bill in plain words."""

    @get("/accounts/{account_id:str}", customer_data=on_account(path="account_id"))
    async def account(
        self, request: Request[Any, Any, Any], service: Service, account_id: FromPath[str]
    ) -> AccountView:
        """The account at a glance: persons, premises, SAs, balance and past due, last bills, pay plan."""
        access = await account_guard(
            request, service, account_id, f"account summary of {account_id}", "account"
        )
        return await service.account_view(access, account_id)

    @get("/bills/{bill_id:str}/explanation", customer_data=on_account(record="bill"))
    async def explain_bill(
        self, request: Request[Any, Any, Any], service: Service, bill_id: FromPath[str]
    ) -> BillExplanationView:
        """A bill in plain words: each segment's tiers and amounts, the due date and the late-fee rule."""
        bill = await service.ccb.get_bill(bill_id)
        access = await require_verified(
            request, bill.account_id, purpose=f"explanation of bill {bill_id}", topic="billing"
        )
        return await service.explain_bill(access, bill)


class StartStopController(WorkflowController):
    """Start, stop (or take a pending stop back) and restore service."""

    @post(
        "/accounts/{account_id:str}/service/start",
        status_code=HTTP_201_CREATED,
        customer_data=on_account(path="account_id"),
    )
    async def start(
        self,
        request: Request[Any, Any, Any],
        service: Service,
        account_id: FromPath[str],
        data: JSONBody[StartRequest],
    ) -> p.StartServiceResult:
        """Start service at a premise: pending-start SAs (10) and a START field activity per service."""
        body = await strict_body(request, StartRequest)
        access = await account_guard(request, service, account_id, "start service", "service", change=True)
        return await service.start_service(
            access, account_id, body.premise_id, body.start_date, body.services, idempotency_key(request)
        )

    @post(
        "/service-agreements/{sa_id:str}/stop",
        status_code=HTTP_200_OK,
        customer_data=on_account(record="service agreement"),
    )
    async def stop(
        self,
        request: Request[Any, Any, Any],
        service: Service,
        sa_id: FromPath[str],
        data: JSONBody[StopRequest],
    ) -> p.ServiceAgreementView:
        """Stop an SA on a date (30 pending stop); a reading the customer gives is kept as the stop read."""
        body = await strict_body(request, StopRequest)
        sa, access = await sa_guard(request, service, sa_id, f"stop service agreement {sa_id}")
        return await service.stop_service(
            access, sa, body.stop_date, body.stop_reading, idempotency_key(request)
        )

    @post(
        "/service-agreements/{sa_id:str}/cancel-stop",
        status_code=HTTP_200_OK,
        customer_data=on_account(record="service agreement"),
    )
    async def cancel_stop(
        self,
        request: Request[Any, Any, Any],
        service: Service,
        sa_id: FromPath[str],
        data: JSONBody[CancelStopRequest],
    ) -> p.ServiceAgreementView:
        """Take back a pending stop (30 -> 20)."""
        await strict_body(request, CancelStopRequest)
        sa, access = await sa_guard(request, service, sa_id, f"cancel the stop of service agreement {sa_id}")
        return await service.cancel_stop(access, sa, idempotency_key(request))

    @post(
        "/service-agreements/{sa_id:str}/restore",
        status_code=HTTP_200_OK,
        customer_data=on_account(record="service agreement"),
    )
    async def restore(
        self,
        request: Request[Any, Any, Any],
        service: Service,
        sa_id: FromPath[str],
        data: JSONBody[RestoreRequest],
    ) -> p.ServiceAgreementView:
        """Bring a stopped or closed SA back into service (50 reactivated) with a reconnect order."""
        body = await strict_body(request, RestoreRequest)
        sa, access = await sa_guard(request, service, sa_id, f"restore service agreement {sa_id}")
        return await service.restore_service(
            access, sa, body.restore_date, body.reason, idempotency_key(request)
        )


class PropertyAccessController(WorkflowController):
    """Property access notes at a premise."""

    @put(
        "/premises/{premise_id:str}/access", status_code=HTTP_200_OK, customer_data=premise(path="premise_id")
    )
    async def property_access(
        self,
        request: Request[Any, Any, Any],
        service: Service,
        premise_id: FromPath[str],
        data: JSONBody[AccessRequest],
    ) -> p.PremiseView:
        """Gate code, dog, hazards and reader notes for the field crews."""
        body = await strict_body(request, AccessRequest)
        await service.ccb.get_premise(premise_id)
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


class FieldWorkController(WorkflowController):
    """Trouble tickets and field investigations."""

    @post(
        "/premises/{premise_id:str}/trouble-tickets",
        status_code=HTTP_201_CREATED,
        customer_data=premise(path="premise_id"),
    )
    async def trouble_ticket(
        self,
        request: Request[Any, Any, Any],
        service: Service,
        premise_id: FromPath[str],
        data: JSONBody[TroubleRequest],
    ) -> p.FieldActivityView:
        """A water or electric trouble report: a TROUBLE field activity with its dispatch priority.

        Needs an open contact of the caller but no verification: a report of danger is tier 0.
        """
        body = await strict_body(request, TroubleRequest)
        await service.ccb.get_premise(premise_id)
        access = await require_verified_premise(
            request, premise_id, purpose="trouble report", verified=False, topic="field", change=True
        )
        return await service.trouble_ticket(
            access, premise_id, body.service, body.problem, body.details, idempotency_key(request)
        )

    @post(
        "/accounts/{account_id:str}/field-investigations",
        status_code=HTTP_201_CREATED,
        customer_data=on_account(path="account_id"),
    )
    async def field_investigation(
        self,
        request: Request[Any, Any, Any],
        service: Service,
        account_id: FromPath[str],
        data: JSONBody[InvestigationRequest],
    ) -> InvestigationResult:
        """A high-bill case with its re-read or leak-check field activity."""
        body = await strict_body(request, InvestigationRequest)
        access = await account_guard(
            request, service, account_id, "open a field investigation", "field", change=True
        )
        return await service.field_investigation(
            access,
            account_id,
            body.kind,
            body.service,
            body.premise_id,
            body.summary,
            idempotency_key(request),
        )


class MeterReadsController(WorkflowController):
    """Meters with read instructions, customer reads and meter readers' field reads."""

    @get("/accounts/{account_id:str}/meters", customer_data=on_account(path="account_id"))
    async def meters(
        self, request: Request[Any, Any, Any], service: Service, account_id: FromPath[str]
    ) -> list[MeterInfo]:
        """The account's meters with how to read each type (dials or display, kWh or HCF)."""
        await account_guard(request, service, account_id, "meters and read instructions", "meter")
        return await service.meters(account_id)

    @post(
        "/accounts/{account_id:str}/meter-reads",
        status_code=HTTP_201_CREATED,
        customer_data=on_account(path="account_id"),
    )
    async def customer_read(
        self,
        request: Request[Any, Any, Any],
        service: Service,
        account_id: FromPath[str],
        data: JSONBody[CustomerReadRequest],
    ) -> CustomerReadResult:
        """A reading the customer gives; refused (422) outside the high/low range unless ``confirm``."""
        body = await strict_body(request, CustomerReadRequest)
        access = await account_guard(
            request, service, account_id, "enter a customer read", "meter", change=True
        )
        return await service.enter_customer_read(
            access, account_id, body.meter_id, body.reading, body.confirm, idempotency_key(request)
        )

    @post(
        "/premises/{premise_id:str}/meters/{meter_id:str}/field-reads",
        opt=FIELD,
        status_code=HTTP_201_CREATED,
        customer_data=premise(path="premise_id"),
    )
    async def field_read(
        self,
        request: Request[Any, Any, Any],
        service: Service,
        premise_id: FromPath[str],
        meter_id: FromPath[str],
        data: JSONBody[FieldReadRequest],
    ) -> p.ReadResult:
        """A meter reader's read or No Read (no access): a No Read is estimated and raises a CSR To Do."""
        body = await strict_body(request, FieldReadRequest)
        premise = await service.ccb.get_premise(premise_id)
        if not any(sp.meter and sp.meter.meter_id == meter_id for sp in premise.service_points):
            raise NotFound("meter", meter_id)
        access = await require_verified_premise(
            request, premise_id, purpose=f"field read of meter {meter_id}", topic="meter", change=True
        )
        return await service.field_read(
            access, meter_id, body.read_type, body.reading, body.remarks, idempotency_key(request)
        )


class PayPlansController(WorkflowController):
    """Payment plan quotes and plans."""

    @post(
        "/accounts/{account_id:str}/payment-plans/quote",
        status_code=HTTP_200_OK,
        customer_data=on_account(path="account_id"),
    )
    async def quote_plan(
        self,
        request: Request[Any, Any, Any],
        service: Service,
        account_id: FromPath[str],
        data: JSONBody[PlanRequest],
    ) -> PlanQuote:
        """Installments summing exactly to the amount (default: past due), the first ones taking the odd
        cents; a residential plan runs at most 12 months (PUC 10010, HSC 116900 ff.)."""
        body = await strict_body(request, PlanRequest)
        await account_guard(request, service, account_id, "payment plan quote", "payment")
        return await service.quote_plan(
            account_id,
            amount_cents=body.amount_cents,
            installments=body.installments,
            first_due=body.first_due,
            cadence=body.cadence,
            hardship_reason=body.hardship_reason,
        )

    @post(
        "/accounts/{account_id:str}/payment-plans",
        status_code=HTTP_201_CREATED,
        customer_data=on_account(path="account_id"),
    )
    async def create_plan(
        self,
        request: Request[Any, Any, Any],
        service: Service,
        account_id: FromPath[str],
        data: JSONBody[PlanRequest],
    ) -> p.PayPlanView:
        """Create the CCB pay plan the quote described."""
        body = await strict_body(request, PlanRequest)
        access = await account_guard(
            request, service, account_id, "create a payment plan", "payment", change=True
        )
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


class TierReviewController(WorkflowController):
    """The tier review and its application as rebills."""

    @post(
        "/accounts/{account_id:str}/tier-review",
        status_code=HTTP_200_OK,
        customer_data=on_account(path="account_id"),
    )
    async def tier_review(
        self,
        request: Request[Any, Any, Any],
        service: Service,
        account_id: FromPath[str],
        data: JSONBody[TierReviewRequest],
    ) -> TierReviewView:
        """Per bill of the last N periods: billed vs correct tiers and amounts (docs/ccb-domain.md §2.5)."""
        body = await strict_body(request, TierReviewRequest)
        await account_guard(
            request, service, account_id, f"tier review of the last {body.periods} bills", "billing"
        )
        return await service.tier_review(account_id, body.periods)

    @post(
        "/accounts/{account_id:str}/tier-review/apply",
        opt=REBILLERS,
        status_code=HTTP_200_OK,
        customer_data=on_account(path="account_id"),
    )
    async def apply_tier_review(
        self,
        request: Request[Any, Any, Any],
        service: Service,
        account_id: FromPath[str],
        data: JSONBody[TierApplyRequest],
    ) -> TierReviewApplied:
        """Cancel and rebill the segments billed in the wrong tiers (lead or CRO); before/after amounts."""
        body = await strict_body(request, TierApplyRequest)
        access = await account_guard(
            request, service, account_id, "apply a tier review", "billing", change=True
        )
        return await service.apply_tier_review(access, account_id, body.periods, body.reason or "")


RETURNED_MAIL = QUEUE(roles=("lead", "supervisor"))


class ReturnedMailController(WorkflowController):
    """The returned-mail work queue."""

    @get("/returned-mail", customer_data=RETURNED_MAIL)
    async def returned_mail(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        service: Service,
        status: Annotated[str | None, QueryParameter(name="status", pattern=r"^(open|resolved)$")] = "open",
    ) -> list[ReturnedMailView]:
        """The returned-mail work queue (open items by default, oldest first); a new address only inside a
        contact verified for the item's account or to the leads and supervisors who work the queue."""
        guard = await provide_guard(request)
        staff = current_staff(request)
        shown: list[ReturnedMailView] = []
        for item in await service.returned_mail(status):
            purpose = f"returned mail {item.item_id}"
            allowed = await customer_view(ctx, guard, staff, item.account_id, RETURNED_MAIL, purpose=purpose)
            shown.append(item if allowed else withhold(item, ("new_address",)))
        return shown

    @post("/returned-mail", status_code=HTTP_201_CREATED, customer_data=NONE)
    async def log_returned_mail(
        self, request: Request[Any, Any, Any], service: Service, data: JSONBody[ReturnedMailRequest]
    ) -> ReturnedMailView:
        """Log a piece of mail that came back undeliverable."""
        body = await strict_body(request, ReturnedMailRequest)
        return await service.log_returned_mail(
            current_staff(request), body.account_id, body.reason, body.received_on
        )

    @post(
        "/returned-mail/{item_id:str}/outcome",
        status_code=HTTP_200_OK,
        customer_data=on_account(record="returned mail item"),
    )
    async def resolve_returned_mail(
        self,
        request: Request[Any, Any, Any],
        service: Service,
        item_id: FromPath[str],
        data: JSONBody[ReturnedMailOutcome],
    ) -> ReturnedMailView:
        """Record the outcome: a new mailing address (to the back office) or "new contact needed"."""
        body = await strict_body(request, ReturnedMailOutcome)
        item = await service.returned_mail_item(item_id)
        access = await require_verified(
            request, item.account_id, purpose=f"returned mail {item_id}", topic="mail", change=True
        )
        return await service.resolve_returned_mail(access, item_id, body.outcome, body.address, body.note)


class ToDoController(WorkflowController):
    """CCB To Do entries (the No Read follow-ups among them)."""

    @get("/todos", customer_data=QUEUE(roles=("lead", "supervisor")))
    async def todos(
        self,
        service: Service,
        role: Annotated[str | None, QueryParameter(name="role", pattern=r"^[A-Z0-9_]{2,30}$")] = None,
        status: Annotated[str | None, QueryParameter(name="status", pattern=r"^[OWC]$")] = "O",
    ) -> list[p.ToDoView]:
        """To Do entries by role and status (O open, W being worked, C complete), most urgent first."""
        return await service.ccb.list_todos(role=role, status=status)


CONTROLLERS: list[type[Controller]] = [
    BillsController,
    StartStopController,
    PropertyAccessController,
    FieldWorkController,
    MeterReadsController,
    PayPlansController,
    TierReviewController,
    ReturnedMailController,
    ToDoController,
]
