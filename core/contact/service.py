"""The customer contact layer and the CSR workflows on the CCB port: no HTTP here, only domain rules.

A contact is one customer interaction. Inside it the CSR verifies the customer (rules §4.2: at most three
failed factor checks per contact; the CCB port counts failures per account and locks verification at the
fifth within 24 hours), and only a contact verified for an account opens that account's data
(ARCHITECTURE §6). Leads, supervisors and the Customer Relations Office may act without one by giving a
reason, which is audited. Every access is audited and logged on the contact, so the wrap-up note can be
drafted from what was done.

Each workflow is one CCB port write where the port allows it (one transaction, nothing half-written); the
two that need two writes (field investigation: case then field activity) validate everything first and
take an idempotency key so a retry completes the pair without duplicates.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import inspect
from collections.abc import Awaitable, Callable, Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Literal

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import AuditLog
from core.bus import Envelope
from core.ccb import port as p
from core.ccb.billing import DUE_DAYS, local_date
from core.ccb.codes import SA_TYPES
from core.ccb.errors import IllegalTransition, Invalid, NotFound, VerificationLocked
from core.ccb.identity import IdentityMethod, normalize_phone
from core.ccb.ids import IdKind, new_id
from core.ccb.offline import RecordedOffline
from core.ccb.payplan import Cadence, PayPlanError, quote
from core.ccb.rates import RateConfig, RateError, format_cents, load_default_config, lot_size_class
from core.ccb.reads import HighLowStatus, MeterRead, ReadError, ReadType, Register, high_low_check
from core.ccb.tier_review import BilledPeriod, PeriodReview, review_tiers
from core.clock import Clock
from core.contact import events as ev
from core.contact.models import Contact, ContactAction, ContactVerification, ReturnedMail
from core.contract import ContactHint
from core.db import Database
from core.outbox import EventWriter
from core.redact import redact
from core.staff import Role, Staff
from core.telephony.events import DIALOG_ENDED, DialogEvent, DialogSnapshot

__all__ = [
    "CONTACT_ROLES",
    "PART_ID",
    "AccessDenied",
    "AccountView",
    "ContactAccess",
    "ContactConfig",
    "ContactService",
    "ContactSnapshot",
    "ContactView",
    "Locked",
    "VerifyOutcome",
    "classify_contact",
    "draft_note",
    "gather_hints",
    "late_fee_cents",
    "read_instructions",
    "service_for",
    "trouble_priority",
]

PART_ID = "contact"
SERVICE_KEY = "contact_service"

Channel = Literal["phone", "counter", "email"]
NoteKind = Literal["customer", "premise"]
OPEN, WRAP_UP_DUE, CLOSED = "open", "wrap_up_due", "closed"
ACTIVE = frozenset({OPEN, WRAP_UP_DUE})
# Who may reach customer data without a verified contact, by giving a reason (audited).
REASON_ROLES = frozenset({Role.LEAD, Role.SUPERVISOR, Role.CRO})
# Staff who work customer contacts (IT, security and admins do not).
CONTACT_ROLES = ("csr", "lead", "supervisor", "cro", "eteam", "solar")
MAX_REASON = 200
MAX_NOTE = 4000
# The phone participants still on a call; anything else (DROPPED, WRAP_UP, FAILED) has left it.
LIVE_PARTICIPANT_STATES = frozenset({"INITIATING", "INITIATED", "ALERTING", "ACTIVE", "HELD"})
# LADWP late payment charge (ccb-domain §1.17 [S]): 1.5% per month on a service's past-due amount over
# $150, after an 8-day grace following the due date (bills are due 19 days after issue, billing.DUE_DAYS).
LATE_FEE_RATE = Decimal("0.015")
LATE_FEE_THRESHOLD_CENTS = 15_000
LATE_FEE_GRACE_DAYS = 8


class ContactConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """``[plugins.contact]`` in hub.toml; the defaults follow rules §4.2 and work with no config."""

    max_failures_per_contact: Annotated[int, msgspec.Meta(ge=1, le=10)] = 3
    hint_timeout_s: Annotated[float, msgspec.Meta(gt=0, le=30)] = 2.0
    max_open_hours: Annotated[int, msgspec.Meta(ge=1, le=72)] = 12
    wrap_up_overdue_minutes: Annotated[int, msgspec.Meta(ge=1, le=1440)] = 30
    access_todo_role: Annotated[str, msgspec.Meta(pattern=r"^[A-Z0-9_]{2,30}$")] = "CSR"
    first_due_days: Annotated[int, msgspec.Meta(ge=0, le=90)] = 30


# ---------------------------------------------------------------------------------------------------
# Errors the API turns into 403 / 423 (the CCB errors give 404 / 409 / 422)


class AccessDenied(Exception):
    """The caller may not reach this customer data or contact (HTTP 403)."""


class Locked(Exception):
    """Verification is locked: for this contact, or for the account (HTTP 423)."""

    def __init__(self, message: str, *, scope: Literal["contact", "account"], attempts_left: int) -> None:
        super().__init__(message)
        self.scope = scope
        self.attempts_left = attempts_left


# ---------------------------------------------------------------------------------------------------
# Views


class View(msgspec.Struct, frozen=True, kw_only=True):
    """Base of the layer's responses."""


class HintView(View, frozen=True):
    source: str
    kind: str
    text: str
    severity: str
    script: str | None = None


class ActionView(View, frozen=True):
    at: dt.datetime
    actor: str
    kind: str
    account_id: str | None
    summary: str


class ContactSnapshot(View, frozen=True):
    """What plugins get in ``hub_contact_hints``: ids and state only."""

    contact_id: str
    channel: str
    status: str
    dialog_id: str | None
    account_id: str | None
    candidates: list[str]
    verified_accounts: list[str]


class ContactView(View, frozen=True):
    contact_id: str
    channel: str
    status: str
    owner: str | None
    opened_by: str
    opened_at: dt.datetime
    ani: str | None
    dialog_id: str | None
    account_id: str | None
    candidates: list[str]
    verified_accounts: list[str]
    attempts_left: int
    locked: bool
    wrap_up_due_at: dt.datetime | None
    closed_at: dt.datetime | None
    note_kind: str | None
    note: str | None
    ccb_contact_id: str | None
    premise_note_id: str | None
    actions: list[ActionView] = []
    hints: list[HintView] = []
    # Only on the wrap-up's own answer: CCB was down and the note waits as this offline form (task 17).
    offline_form: int | None = None

    def snapshot(self) -> ContactSnapshot:
        return ContactSnapshot(
            contact_id=self.contact_id,
            channel=self.channel,
            status=self.status,
            dialog_id=self.dialog_id,
            account_id=self.account_id,
            candidates=list(self.candidates),
            verified_accounts=list(self.verified_accounts),
        )


class VerifyOutcome(View, frozen=True):
    """Pass or fail only (rules §4.2: never which factor or what is on file)."""

    verified: bool
    attempts_left: int
    locked: Literal["contact", "account"] | None = None


class ContactAccess(View, frozen=True):
    """Why a request may reach an account's (or premise's) data: a verified contact, or a lead's reason."""

    staff_name: str
    actor: str
    role: str
    account_id: str | None
    premise_id: str | None
    contact_id: str | None
    reason: str | None


class AccountView(p.AccountSummary, frozen=True):
    """The account summary plus the active pay plan, so a missed installment shows on the summary."""

    pay_plan: p.PayPlanView | None = None


class TierLine(View, frozen=True):
    tier: int
    quantity: str


class ExplainedSegment(View, frozen=True):
    bill_segment_id: str
    sa_id: str
    service: str
    status: str
    period_start: dt.date
    period_end: dt.date
    estimated: bool
    quantity: str
    unit: str | None
    tiers: list[TierLine]
    amount_cents: int
    illustrative: bool
    lines: list[str]


class LateFeeRule(View, frozen=True):
    """The late payment charge as it would apply to this bill if it went unpaid (ccb-domain §1.17)."""

    rule: str
    grace_ends: dt.date
    per_service: list[str]
    charge_per_month_cents: int


class BillExplanationView(View, frozen=True):
    bill_id: str
    account_id: str
    bill_date: dt.date
    due_date: dt.date
    previous_balance_cents: int
    payments_cents: int
    adjustments_cents: int
    current_charges_cents: int
    amount_due_cents: int
    lines: list[str]
    segments: list[ExplainedSegment]
    late_fee: LateFeeRule


class MeterInfo(View, frozen=True):
    meter_id: str
    badge_number: str
    premise_id: str
    sa_id: str
    service: str
    meter_type: str
    unit: str
    register_digits: int
    last_read_on: dt.date | None
    last_read_type: str | None
    instructions: list[str]


class CustomerReadResult(View, frozen=True):
    read: p.ReadView
    high_low: str | None
    replaced_estimate_read_id: str | None
    consecutive_estimates: int
    case_id: str | None


class InvestigationResult(View, frozen=True):
    case: p.CaseView
    field_activity: p.FieldActivityView


class QuotedInstallment(View, frozen=True):
    seq: int
    due_date: dt.date
    amount_cents: int


class PlanQuote(View, frozen=True):
    account_id: str
    total_cents: int
    cadence: str
    residential: bool
    installments: list[QuotedInstallment]


class TierPeriod(View, frozen=True):
    bill_id: str | None
    bill_segment_id: str
    period_start: dt.date
    period_end: dt.date
    days: int
    quantity: str
    daily_average: str
    billed_tiers: list[str]
    correct_tiers: list[str]
    right_tiers: bool
    billed_tier: int
    correct_tier: int
    billed_cents: int
    correct_cents: int
    difference_cents: int


class TierServiceReview(View, frozen=True):
    sa_id: str
    service: str
    schedule: str
    zone: str
    lot_size: str | None
    days: int
    total_quantity: str
    average_daily: str
    daily_thresholds: list[str]
    average_tier: int
    wrong_periods: int
    total_difference_cents: int
    periods: list[TierPeriod]


class TierReviewView(View, frozen=True):
    account_id: str
    periods: int
    wrong_segments: int
    total_difference_cents: int
    services: list[TierServiceReview]


class RebilledSegment(View, frozen=True):
    bill_id: str | None
    canceled_segment_id: str
    new_segment_id: str
    before_cents: int
    after_cents: int


class TierReviewApplied(View, frozen=True):
    account_id: str
    rebilled: list[RebilledSegment]
    before_cents: int
    after_cents: int
    difference_cents: int
    balance_before_cents: int
    balance_after_cents: int


class ReturnedMailView(View, frozen=True):
    item_id: str
    account_id: str
    received_on: dt.date
    reason: str
    status: str
    outcome: str | None
    new_address: p.Address | None
    followup_todo_id: str | None
    logged_by: str
    logged_at: dt.datetime
    resolved_by: str | None
    resolved_at: dt.datetime | None


# ---------------------------------------------------------------------------------------------------
# Pure helpers (unit-tested on their own)


def late_fee_cents(past_due_cents: int) -> int:
    """One month's late payment charge on a service's past-due amount: 1.5% when it exceeds $150."""
    if past_due_cents <= LATE_FEE_THRESHOLD_CENTS:
        return 0
    return int((Decimal(past_due_cents) * LATE_FEE_RATE).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def late_fee_rule(bill: p.BillView, service_names: dict[str, str]) -> LateFeeRule:
    """Say, per service on the bill, whether the late payment charge would apply if it went unpaid."""
    grace_ends = bill.due_date + dt.timedelta(days=LATE_FEE_GRACE_DAYS)
    lines: list[str] = []
    total = 0
    for seg in bill.segments:
        if seg.status != "50":
            continue
        name = service_names.get(seg.sa_type, seg.sa_type)
        fee = late_fee_cents(seg.amount_cents)
        total += fee
        if fee:
            lines.append(
                f"{name}: {format_cents(seg.amount_cents)} is over $150.00, so if it is still unpaid after "
                f"{grace_ends.isoformat()} a late payment charge of {format_cents(fee)} a month (1.5%) "
                "is added."
            )
        else:
            lines.append(
                f"{name}: {format_cents(seg.amount_cents)} is $150.00 or less: no late payment charge."
            )
    rule = (
        f"Bills are due {DUE_DAYS} days after the bill date. A service whose past-due amount is over $150 "
        f"is charged 1.5% a month from the end of an {LATE_FEE_GRACE_DAYS}-day grace period after the due "
        "date; a payment extension does not waive it."
    )
    return LateFeeRule(rule=rule, grace_ends=grace_ends, per_service=lines, charge_per_month_cents=total)


def read_instructions(meter_type: str, service: str, unit: str, digits: int) -> list[str]:
    """How a customer reads their own meter, by meter type and service, in plain words."""
    steps: list[str] = []
    if service == "electric" and meter_type == "dial":
        steps += [
            f"The meter has {digits} small clock-like dials in a row. Read them from left to right and "
            "write down one digit for each dial.",
            "Neighbouring dials turn in opposite directions: follow the direction of the numbers.",
            "If a pointer is between two numbers, write down the smaller one (between 9 and 0, write 9).",
            "If a pointer seems to sit exactly on a number, look at the dial to its right: if that pointer "
            "has not yet passed 0, write down the number below.",
        ]
    elif service == "electric":
        steps += [
            "The display changes every few seconds. Wait for the screen that shows kWh (a screen of all "
            "8s is a display test).",
            f"Write down the {digits} digits shown with kWh; ignore any digit after a decimal point.",
        ]
    elif meter_type == "dial":
        steps += [
            "Lift the lid of the meter box (in the ground near the curb) and the cover of the register.",
            f"Write down the {digits} digits on the number wheels, left to right. Ignore the large sweep "
            "hand and any fixed zeros printed after the wheels: they count less than one unit.",
        ]
    else:
        steps += [
            "Lift the lid of the meter box and shine light on the display to wake it.",
            f"The display alternates between the reading and the flow rate: write down the {digits} "
            "digits of the reading and ignore any digit after a decimal point.",
        ]
    unit_words = "kilowatt-hours" if unit == "KWH" else "hundred cubic feet (748 gallons)"
    steps += [
        f"The reading is in {unit} ({unit_words}).",
        "Do not open a box with bees, standing water or a loose dog, and never break a seal. Give the "
        "digits to the representative; the reading is checked against your past use.",
    ]
    return steps


def classify_contact(kinds: Iterable[str]) -> tuple[str, str]:
    """The CCB contact class/type for a contact's actions (ccb-domain §1.12: the type says what it was)."""
    topics = {kind.split(".", 1)[1] for kind in kinds if "." in kind}
    if "service" in topics:
        return "SERVICE", "START_STOP"
    if "payment" in topics:
        return "BILLING", "PAYMENT"
    if "billing" in topics:
        return "BILLING", "INQUIRY"
    return "GENERAL", "INQUIRY"


def draft_note(channel: str, contact_id: str, owner: str | None, actions: Sequence[ActionView]) -> str:
    """A wrap-up note written from the contact's action log, for when the CSR gives none."""
    verified = [a.summary for a in actions if a.kind == "verify.pass"]
    failed = sum(1 for a in actions if a.kind == "verify.fail")
    reviewed: list[str] = []
    done: list[str] = []
    for action in actions:
        if action.kind.startswith("read.") and action.summary not in reviewed:
            reviewed.append(action.summary)
        elif action.kind.startswith("change."):
            done.append(action.summary)
    lines = [f"{channel.capitalize()} contact {contact_id}" + (f" handled by {owner}." if owner else ".")]
    if verified:
        lines.append("Verified: " + "; ".join(verified) + ".")
    if failed:
        lines.append(f"Failed verification attempts: {failed}.")
    if reviewed:
        lines.append("Reviewed: " + "; ".join(reviewed) + ".")
    lines.append("Actions: " + ("; ".join(done) + "." if done else "none."))
    return redact("\n".join(lines))


async def gather_hints(
    calls: Sequence[tuple[str, Callable[[], Any]]],
    timeout_s: float,
    on_error: Callable[[str, BaseException], None],
) -> list[HintView]:
    """Run each plugin's ``hub_contact_hints`` (plain or awaitable result) under a timeout, in parallel.

    A plugin that raises, hangs or returns something other than ContactHints gives no hints and is
    reported through ``on_error``; the others are unaffected (ARCHITECTURE §3: isolation).
    """

    async def one(source: str, call: Callable[[], Any]) -> list[HintView]:
        try:
            async with asyncio.timeout(timeout_s):
                result = call()
                if inspect.isawaitable(result):
                    result = await result
            if result is None:
                return []
            if isinstance(result, ContactHint):
                result = [result]
            found = [msgspec.convert(h, ContactHint, from_attributes=True) for h in result]
        except Exception as exc:  # isolation: one plugin's failure never reaches the CSR
            if isinstance(exc, TimeoutError):
                exc = TimeoutError(f"hub_contact_hints took longer than {timeout_s:g}s")
            on_error(source, exc)
            return []
        return [
            HintView(source=source, kind=h.kind, text=h.text, severity=h.severity, script=h.script)
            for h in found
        ]

    results = await asyncio.gather(*(one(source, call) for source, call in calls))
    return [hint for chunk in results for hint in chunk]


def _clean_reason(value: str | None) -> str | None:
    if value is None:
        return None
    text = " ".join(value.split())
    if not text:
        return None
    return redact(text[:MAX_REASON])


HintProvider = Callable[[Staff, ContactSnapshot], Awaitable[list[HintView]]]


class ReadAccessFailedPayload(msgspec.Struct, frozen=True, kw_only=True):
    """The fields of ``hub.ccb.read.access_failed`` the contact layer uses."""

    meter_id: str
    premise_id: str | None
    read_id: str


# Dispatch priority of a trouble ticket (1 most urgent ... 5 routine, codes.FA_TYPES): danger to life and
# total loss of service first.
TROUBLE_PRIORITIES: dict[str, dict[str, int]] = {
    "electric": {"wires_down": 1, "no_power": 1, "sparks_or_smoke": 1, "partial_power": 2, "flickering": 3},
    "water": {"main_break": 1, "no_water": 1, "leak": 2, "water_quality": 2, "low_pressure": 3},
}
OUTAGE_PROBLEMS = frozenset({"no_power", "partial_power", "no_water"})
TroubleProblem = Literal[
    "wires_down",
    "no_power",
    "sparks_or_smoke",
    "partial_power",
    "flickering",
    "main_break",
    "no_water",
    "leak",
    "water_quality",
    "low_pressure",
    "other",
]


def trouble_priority(service: str, problem: str) -> int:
    """The dispatch priority of a reported problem; a problem of the other service is refused."""
    if problem == "other":
        return 3
    table = TROUBLE_PRIORITIES.get(service, {})
    if problem not in table:
        known = ", ".join([*table, "other"])
        raise Invalid("problem", f"{problem} is not a {service} problem; one of {known}")
    return table[problem]


def _tier_period(review: PeriodReview, segment_id: str) -> TierPeriod:
    return TierPeriod(
        bill_id=review.period.bill_id,
        bill_segment_id=segment_id,
        period_start=review.period.start,
        period_end=review.period.end,
        days=review.days,
        quantity=str(review.reviewed_quantity),
        daily_average=str(review.daily_average),
        billed_tiers=[str(q) for q in review.billed_tiers],
        correct_tiers=[str(q) for q in review.correct_tiers],
        right_tiers=review.right_tiers,
        billed_tier=review.billed_tier,
        correct_tier=review.correct_tier,
        billed_cents=review.billed_cents,
        correct_cents=review.correct_cents,
        difference_cents=review.difference_cents,
    )


# ---------------------------------------------------------------------------------------------------
# The service


class ContactService:
    """Contacts, verification, the verified-contact guard, wrap-up, the screen pop and the workflows."""

    def __init__(
        self,
        *,
        db: Database,
        events: EventWriter,
        audit: AuditLog,
        ccb: p.CcbPort,
        clock: Clock,
        config: ContactConfig,
        hints: HintProvider | None = None,
        rates: RateConfig | None = None,
    ) -> None:
        self.db = db
        self.events = events
        self.audit = audit
        self.ccb = ccb
        self.clock = clock
        self.config = config
        self.hints = hints
        # The mock bills with the default rate config; the tier review re-prices with the same one.
        self.rates = rates or load_default_config()

    def today(self) -> dt.date:
        return local_date(self.clock.now())

    # -- contacts --------------------------------------------------------------------------------------
    async def _view(self, s: AsyncSession, row: Contact, *, actions: bool = True) -> ContactView:
        verified = (
            await s.scalars(
                select(ContactVerification.account_id)
                .where(ContactVerification.contact_id == row.id)
                .order_by(ContactVerification.verified_at, ContactVerification.account_id)
            )
        ).all()
        log_rows: Sequence[ContactAction] = []
        if actions:
            log_rows = (
                await s.scalars(
                    select(ContactAction).where(ContactAction.contact_id == row.id).order_by(ContactAction.id)
                )
            ).all()
        return ContactView(
            contact_id=row.id,
            channel=row.channel,
            status=row.status,
            owner=row.owner,
            opened_by=row.opened_by,
            opened_at=row.opened_at,
            ani=row.ani,
            dialog_id=row.dialog_id,
            account_id=row.account_id,
            candidates=list(row.candidates),
            verified_accounts=list(verified),
            attempts_left=max(0, self.config.max_failures_per_contact - row.verify_failures),
            locked=row.locked,
            wrap_up_due_at=row.wrap_up_due_at,
            closed_at=row.closed_at,
            note_kind=row.note_kind,
            note=row.note,
            ccb_contact_id=row.ccb_contact_id,
            premise_note_id=row.premise_note_id,
            actions=[
                ActionView(at=a.at, actor=a.actor, kind=a.kind, account_id=a.account_id, summary=a.summary)
                for a in log_rows
            ],
        )

    async def _load(self, s: AsyncSession, contact_id: str, *, lock: bool = False) -> Contact:
        row = await s.get(Contact, contact_id, with_for_update=lock)
        if row is None:
            raise NotFound("contact", contact_id)
        return row

    def _add_action(
        self, s: AsyncSession, contact_id: str, actor: str, kind: str, summary: str, account_id: str | None
    ) -> None:
        s.add(
            ContactAction(
                contact_id=contact_id,
                at=self.clock.now(),
                actor=actor,
                kind=kind,
                account_id=account_id,
                summary=redact(summary)[:500],
            )
        )

    async def account_exists(self, account_id: str) -> None:
        # The port has no existence probe: the balance is read and dropped, never shown to the caller.
        await self.ccb.get_balance(account_id)

    async def open_contact(
        self,
        *,
        channel: str,
        actor: str,
        owner: str | None,
        ani: str | None = None,
        account_id: str | None = None,
        dialog_id: str | None = None,
    ) -> ContactView:
        """Open a contact; ``candidates`` are the accounts whose persons have the caller's number."""
        digits: str | None = None
        if ani is not None:
            try:
                digits = normalize_phone(ani)
            except Invalid:
                if dialog_id is None:
                    raise Invalid("ani", "must be a 10-digit phone number") from None
                digits = None  # a withheld or internal caller id: the screen pop opens without candidates
        if account_id is not None:
            await self.account_exists(account_id)
        candidates = await self.ccb.find_accounts_by_phone(digits) if digits else []
        for attempt in (1, 2):
            contact_id = new_id(IdKind.CONTACT)
            now = self.clock.now()
            try:
                async with self.db.session() as s:
                    row = Contact(
                        id=contact_id,
                        channel=channel,
                        status=OPEN,
                        owner=owner,
                        opened_by=actor,
                        ani=digits,
                        dialog_id=dialog_id,
                        account_id=account_id,
                        candidates=candidates,
                        verify_failures=0,
                        locked=False,
                        opened_at=now,
                        updated_at=now,
                    )
                    s.add(row)
                    await s.flush()
                    summary = f"{channel} contact opened" + (f" for call {dialog_id}" if dialog_id else "")
                    self._add_action(s, contact_id, actor, "call.opened", summary, account_id)
                    self.events.emit(
                        s,
                        ev.OPENED,
                        ev.ContactOpened(
                            contact_id=contact_id,
                            channel=channel,
                            dialog_id=dialog_id,
                            candidates=len(candidates),
                        ),
                        actor=actor,
                    )
                    await self.audit.append(
                        s,
                        actor=actor,
                        action="contact.opened",
                        target=f"contact:{contact_id}",
                        detail={"channel": channel, "dialog_id": dialog_id, "candidates": len(candidates)},
                    )
                    return await self._view(s, row)
            except IntegrityError:
                # A random id drawn twice, or a second screen pop for the same call.
                if dialog_id is not None:
                    existing = await self.find_by_dialog(dialog_id)
                    if existing:
                        return existing[0]
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def get_contact(self, staff: Staff, contact_id: str) -> ContactView:
        async with self.db.read() as s:
            row = await self._load(s, contact_id)
            self._may_see(staff, row)
            view = await self._view(s, row)
        if self.hints is not None:
            view = msgspec.structs.replace(view, hints=await self.hints(staff, view.snapshot()))
        return view

    @staticmethod
    def _may_see(staff: Staff, row: Contact) -> None:
        # The owner, anyone while nobody owns it (the screen pop waits for its agent), and the supervising
        # roles; the action log of another CSR's contact is nobody else's business.
        if row.owner in (None, staff.name) or staff.role in REASON_ROLES:
            return
        raise AccessDenied(f"contact {row.id} belongs to {row.owner}")

    async def find_by_dialog(self, dialog_id: str) -> list[ContactView]:
        async with self.db.read() as s:
            rows = (await s.scalars(select(Contact).where(Contact.dialog_id == dialog_id))).all()
            return [await self._view(s, r, actions=False) for r in rows]

    async def my_contacts(self, staff: Staff) -> list[ContactView]:
        async with self.db.read() as s:
            rows = (
                await s.scalars(
                    select(Contact)
                    .where(Contact.owner == staff.name, Contact.status.in_(sorted(ACTIVE)))
                    .order_by(Contact.opened_at.desc())
                )
            ).all()
            return [await self._view(s, r, actions=False) for r in rows]

    def _claim(self, staff: Staff, row: Contact) -> None:
        if row.owner is None:
            row.owner = staff.name
        elif row.owner != staff.name:
            raise AccessDenied(f"contact {row.id} belongs to {row.owner}")

    # -- verification (rules §4.2) ---------------------------------------------------------------------
    async def verify(
        self, staff: Staff, contact_id: str, account_id: str, method: IdentityMethod, value: str
    ) -> VerifyOutcome:
        """Check one identity factor for ``account_id`` inside the contact; only pass/fail comes back.

        An attempt counts against the contact before the factor is checked (and is given back on a pass),
        so parallel guesses cannot get past the per-contact limit.
        """
        limit = self.config.max_failures_per_contact
        async with self.db.session() as s:
            row = await self._load(s, contact_id, lock=True)
            if row.status != OPEN:
                raise IllegalTransition("contact", row.id, row.status, "verify")
            self._claim(staff, row)
            refused = row.locked or row.verify_failures >= limit
            if refused:
                await self._audit_attempt(s, staff, row, account_id, method, "contact_locked")
            else:
                row.verify_failures += 1
                row.updated_at = self.clock.now()
        if refused:
            raise Locked(
                f"contact {contact_id} is locked after {limit} failed verification attempts: offer a "
                "one-time code or an in-person visit with ID",
                scope="contact",
                attempts_left=0,
            )
        try:
            ok = await self.ccb.verify_identity(account_id, method, value, actor=staff.actor)
        except VerificationLocked:
            await self._give_back(contact_id)
            async with self.db.session() as s:
                row = await self._load(s, contact_id)
                await self._audit_attempt(s, staff, row, account_id, method, "account_locked")
                left = max(0, limit - row.verify_failures)
            raise Locked(
                f"identity verification is locked for account {account_id} after repeated failures; a "
                "lead must clear it once the customer is identified another way",
                scope="account",
                attempts_left=left,
            ) from None
        except Exception:
            await self._give_back(contact_id)
            raise
        account_locked = False
        if not ok:
            # Only the lock flag is used: the caller is not verified and sees nothing else of the account.
            account_locked = (await self.ccb.get_account_summary(account_id)).verification_locked
        async with self.db.session() as s:
            row = await self._load(s, contact_id, lock=True)
            if ok:
                row.verify_failures = max(0, row.verify_failures - 1)
                if await s.get(ContactVerification, (row.id, account_id)) is None:
                    s.add(
                        ContactVerification(
                            contact_id=row.id,
                            account_id=account_id,
                            method=method,
                            verified_by=staff.actor,
                            verified_at=self.clock.now(),
                        )
                    )
                words = "access code" if method == "access_code" else "last four SSN digits"
                self._add_action(
                    s, row.id, staff.actor, "verify.pass", f"account {account_id} by {words}", account_id
                )
                self.events.emit(
                    s,
                    ev.VERIFIED,
                    ev.ContactVerified(contact_id=row.id, account_id=account_id, method=method),
                    actor=staff.actor,
                )
            else:
                row.locked = row.verify_failures >= limit
                self._add_action(
                    s,
                    row.id,
                    staff.actor,
                    "verify.fail",
                    f"verification failed for account {account_id} (attempt {row.verify_failures})",
                    account_id,
                )
                self.events.emit(
                    s,
                    ev.VERIFICATION_FAILED,
                    ev.VerificationFailed(
                        contact_id=row.id,
                        account_id=account_id,
                        method=method,
                        attempts_left=max(0, limit - row.verify_failures),
                        contact_locked=row.locked,
                        account_locked=account_locked,
                    ),
                    actor=staff.actor,
                )
            row.updated_at = self.clock.now()
            await self._audit_attempt(
                s, staff, row, account_id, method, "pass" if ok else "fail", account_locked=account_locked
            )
            left = max(0, limit - row.verify_failures)
            locked: Literal["contact", "account"] | None = None
            if not ok:
                locked = "account" if account_locked else ("contact" if row.locked else None)
        return VerifyOutcome(verified=ok, attempts_left=left, locked=locked)

    async def _give_back(self, contact_id: str) -> None:
        """Undo the provisional count of an attempt that never reached a factor check."""
        async with self.db.session() as s:
            row = await self._load(s, contact_id, lock=True)
            row.verify_failures = max(0, row.verify_failures - 1)

    async def _audit_attempt(
        self,
        s: AsyncSession,
        staff: Staff,
        row: Contact,
        account_id: str,
        method: str,
        result: str,
        *,
        account_locked: bool | None = None,
    ) -> None:
        # rules §4.2 log fields: channel, agent, account, factor types presented, result, failure count,
        # lock state, call id. Never the value.
        detail: dict[str, Any] = {
            "contact": row.id,
            "channel": row.channel,
            "method": method,
            "result": result,
            "contact_failures": row.verify_failures,
            "contact_locked": row.locked,
            "call": row.dialog_id,
        }
        if account_locked is not None:
            detail["account_locked"] = account_locked
        await self.audit.append(
            s, actor=staff.actor, action="contact.verify", target=f"account:{account_id}", detail=detail
        )

    async def clear_verification_lock(self, staff: Staff, account_id: str, reason: str) -> p.AccountSummary:
        """A lead clears an account's verification lock once the customer is identified another way."""
        why = _clean_reason(reason)
        if why is None:
            raise Invalid("reason", "say why the lock may be cleared (how the customer was identified)")
        summary = await self.ccb.unlock_verification(
            p.UnlockVerification(account_id=account_id), actor=staff.actor
        )
        async with self.db.session() as s:
            await self.audit.append(
                s,
                actor=staff.actor,
                action="contact.verification_lock.cleared",
                target=f"account:{account_id}",
                detail={"reason": why},
            )
            self.events.emit(
                s, ev.LOCK_CLEARED, ev.VerificationLockCleared(account_id=account_id), actor=staff.actor
            )
        return summary

    # -- the verified-contact guard ---------------------------------------------------------------------
    async def authorize(
        self,
        staff: Staff,
        *,
        contact_id: str | None,
        reason: str | None,
        purpose: str,
        account_id: str | None = None,
        premise_id: str | None = None,
        verified: bool = True,
        topic: str = "account",
        change: bool = False,
    ) -> ContactAccess:
        """Decide whether ``staff`` may reach an account's (or a premise's) data, audit it, and log it.

        With a contact: it must be open, the caller's, not locked, and verified for the account (for a
        premise: for an account with service there). ``verified=False`` asks only for an open contact
        of the caller (tier 0 of rules §4.2: a trouble report needs no verification). Without one, a lead,
        supervisor or the CRO may give a reason. A read is logged on the contact under ``topic`` at once;
        a ``change`` is logged by the workflow once it has succeeded (``note_change``).
        """
        why = _clean_reason(reason)
        denial: AccessDenied | None = None
        access: ContactAccess | None = None
        if contact_id is not None:
            try:
                access = await self._contact_access(
                    staff, contact_id, account_id, premise_id, verified=verified
                )
            except AccessDenied as exc:
                denial = exc
        if access is None:
            if why is not None and staff.role in REASON_ROLES:
                access = ContactAccess(
                    staff_name=staff.name,
                    actor=staff.actor,
                    role=staff.role.value,
                    account_id=account_id,
                    premise_id=premise_id,
                    contact_id=None,
                    reason=why,
                )
            elif denial is not None:
                raise denial
            elif why is not None:
                raise AccessDenied("only a lead, a supervisor or the CRO may give X-Access-Reason")
            else:
                what = f"account {account_id}" if account_id else f"premise {premise_id}"
                raise AccessDenied(
                    f"{what}: customer data needs X-Contact-Id naming your open contact verified for it "
                    "(a lead, supervisor or the CRO may give X-Access-Reason instead)"
                )
        target = f"account:{access.account_id}" if access.account_id else f"premise:{premise_id}"
        async with self.db.session() as s:
            await self.audit.append(
                s,
                actor=staff.actor,
                action="contact.customer_data",
                target=target,
                detail={
                    "purpose": purpose,
                    "contact": access.contact_id,
                    "reason": access.reason,
                    "premise": premise_id,
                    "change": change,
                },
            )
            if access.contact_id is not None and not change:
                self._add_action(
                    s, access.contact_id, staff.actor, f"read.{topic}", purpose, access.account_id
                )
        return access

    async def _contact_access(
        self,
        staff: Staff,
        contact_id: str,
        account_id: str | None,
        premise_id: str | None,
        *,
        verified: bool,
    ) -> ContactAccess:
        async with self.db.session() as s:
            row = await s.get(Contact, contact_id)
            if row is None:
                raise AccessDenied(f"X-Contact-Id {contact_id} names no contact")
            if row.status not in ACTIVE:
                raise AccessDenied(f"contact {contact_id} is closed")
            if row.owner != staff.name:
                raise AccessDenied(f"contact {contact_id} is not yours")
            if row.locked:
                raise AccessDenied(f"contact {contact_id} is locked after failed verification attempts")
            accounts = list(
                (
                    await s.scalars(
                        select(ContactVerification.account_id)
                        .where(ContactVerification.contact_id == contact_id)
                        .order_by(ContactVerification.verified_at)
                    )
                ).all()
            )
        chosen: str | None = None
        if account_id is not None:
            if account_id not in accounts:
                raise AccessDenied(
                    f"contact {contact_id} is not verified for account {account_id}: "
                    "verify the customer first"
                )
            chosen = account_id
        elif premise_id is not None:
            for candidate in accounts:
                summary = await self.ccb.get_account_summary(candidate)
                if any(prem.premise_id == premise_id for prem in summary.premises):
                    chosen = candidate
                    break
            if chosen is None and verified:
                raise AccessDenied(
                    f"contact {contact_id} is not verified for an account with service at premise "
                    f"{premise_id}"
                )
        return ContactAccess(
            staff_name=staff.name,
            actor=staff.actor,
            role=staff.role.value,
            account_id=chosen,
            premise_id=premise_id,
            contact_id=contact_id,
            reason=None,
        )

    async def note_change(self, access: ContactAccess, topic: str, summary: str) -> None:
        """Log a change made for the customer on the contact (the wrap-up note is drafted from it)."""
        if access.contact_id is None:
            return
        async with self.db.session() as s:
            self._add_action(
                s, access.contact_id, access.actor, f"change.{topic}", summary, access.account_id
            )

    # -- wrap-up (task 7) ------------------------------------------------------------------------------
    async def wrap_up(
        self,
        staff: Staff,
        contact_id: str,
        *,
        note_kind: NoteKind,
        note: str | None,
        premise_id: str | None = None,
        account_id: str | None = None,
    ) -> ContactView:
        """Close the contact; its note goes to CCB as a customer contact log or a premise note.

        With no note the hub drafts one from the contact's action log. A contact never verified for an
        account keeps its customer note in the hub only (CCB needs a person, account or premise).
        """
        async with self.db.session() as s:
            row = await self._load(s, contact_id)
            if row.status == CLOSED:
                raise IllegalTransition("contact", row.id, row.status, "wrap up")
            self._claim(staff, row)
            view = await self._view(s, row)
        text = redact(note.strip()) if note and note.strip() else None
        drafted = text is None
        if text is None:
            text = draft_note(view.channel, view.contact_id, staff.name, view.actions)
        if len(text) > MAX_NOTE:
            raise Invalid("note", f"must be at most {MAX_NOTE} characters")
        verified = view.verified_accounts
        if account_id is not None and account_id not in verified:
            raise AccessDenied(f"contact {contact_id} is not verified for account {account_id}")
        target_account = account_id or (verified[0] if verified else None)
        key = f"contact-wrap-up:{contact_id}"
        ccb_contact_id: str | None = None
        premise_note_id: str | None = None
        offline_form: int | None = None
        if note_kind == "premise" and premise_id is None:
            raise Invalid("premise_id", "is required for a premise note")
        try:
            ccb_contact_id, premise_note_id = await self._wrap_up_note(
                staff, contact_id, view, verified, note_kind, text, premise_id, target_account, key
            )
        except RecordedOffline as exc:
            # CCB is down and the note is journaled (task 17): the replay enters it under the same key, so
            # the contact closes now and the CSR takes the next call instead of holding this one open.
            offline_form = exc.form_id
        async with self.db.session() as s:
            row = await self._load(s, contact_id, lock=True)
            if row.status != CLOSED:
                now = self.clock.now()
                row.status = CLOSED
                row.closed_at = now
                row.updated_at = now
                row.note_kind = note_kind
                row.note = text
                row.ccb_contact_id = ccb_contact_id
                row.premise_note_id = premise_note_id
                summary = "contact wrapped up"
                if offline_form is not None:
                    summary += f"; note recorded as offline form {offline_form}"
                self._add_action(s, row.id, staff.actor, "call.wrapped_up", summary, target_account)
                self.events.emit(
                    s,
                    ev.WRAPPED_UP,
                    ev.ContactWrappedUp(
                        contact_id=row.id,
                        note_kind=note_kind,
                        drafted=drafted,
                        ccb_contact_id=ccb_contact_id,
                        premise_note_id=premise_note_id,
                        offline_form=offline_form,
                    ),
                    actor=staff.actor,
                )
                await self.audit.append(
                    s,
                    actor=staff.actor,
                    action="contact.wrapped_up",
                    target=f"contact:{row.id}",
                    detail={
                        "note_kind": note_kind,
                        "drafted": drafted,
                        "account": target_account,
                        "offline_form": offline_form,
                    },
                )
            closed = await self._view(s, row)
        return msgspec.structs.replace(closed, offline_form=offline_form) if offline_form else closed

    async def _wrap_up_note(
        self,
        staff: Staff,
        contact_id: str,
        view: ContactView,
        verified: Sequence[str],
        note_kind: NoteKind,
        text: str,
        premise_id: str | None,
        target_account: str | None,
        key: str,
    ) -> tuple[str | None, str | None]:
        """Write the wrap-up note to CCB; returns (customer contact id, premise note id)."""
        if note_kind == "premise":
            if premise_id is None:
                raise Invalid("premise_id", "is required for a premise note")
            await self._premise_of_verified(contact_id, verified, premise_id)
            premise_note = await self.ccb.add_premise_note(
                p.AddPremiseNote(premise_id=premise_id, text=text), actor=staff.actor, idempotency_key=key
            )
            return None, premise_note.note_id
        if target_account is None:
            return None, None
        contact_class, contact_type = classify_contact(a.kind for a in view.actions)
        logged = await self.ccb.add_customer_contact(
            p.AddCustomerContact(
                contact_class=contact_class,
                contact_type=contact_type,
                log_text=text,
                method=view.channel,  # type: ignore[arg-type]  # Channel is a subset of the port's
                account_id=target_account,
            ),
            actor=staff.actor,
            idempotency_key=key,
        )
        return logged.contact_id, None

    async def _premise_of_verified(self, contact_id: str, accounts: Sequence[str], premise_id: str) -> None:
        await self.ccb.get_premise(premise_id)  # unknown premise -> 404
        for account in accounts:
            summary = await self.ccb.get_account_summary(account)
            if any(prem.premise_id == premise_id for prem in summary.premises):
                return
        raise AccessDenied(
            f"contact {contact_id} is not verified for an account with service at premise {premise_id}"
        )

    # -- the screen pop and the phone ------------------------------------------------------------------
    async def screen_pop(self, dialog: DialogSnapshot) -> None:
        """Telephony's inbound callback: a phone contact with the caller's candidate accounts."""
        await self.open_contact(
            channel="phone", actor="system:phone", owner=None, ani=dialog.fromAddress, dialog_id=dialog.id
        )

    async def on_dialog_event(self, env: Envelope) -> None:
        """The answering agent takes an unowned screen-pop contact; a released call is due its wrap-up."""
        event = env.payload(DialogEvent)
        dialog = event.dialog
        released = env.subject == DIALOG_ENDED or not any(
            part.state in LIVE_PARTICIPANT_STATES for part in dialog.participants
        )
        async with self.db.session() as s:
            row = await s.scalar(select(Contact).where(Contact.dialog_id == dialog.id).with_for_update())
            if row is None or row.status != OPEN:
                return
            now = self.clock.now()
            if row.owner is None and event.cause == "ANSWER" and len(event.agentIds) == 1:
                row.owner = event.agentIds[0]
                row.updated_at = now
                self._add_action(s, row.id, env.actor, "call.answered", f"call answered by {row.owner}", None)
            if released:
                row.status = WRAP_UP_DUE
                row.wrap_up_due_at = now
                row.updated_at = now
                self._add_action(s, row.id, env.actor, "call.released", "call released", None)
                self.events.emit(
                    s,
                    ev.WRAP_UP_DUE,
                    ev.ContactRef(contact_id=row.id, dialog_id=row.dialog_id),
                    actor="system:phone",
                    correlation_id=env.id,
                )

    async def on_access_failed(self, env: Envelope) -> None:
        """A reader's No Read: a To Do for a CSR to call the customer about meter access."""
        failed = env.payload(ReadAccessFailedPayload)
        where = f" at premise {failed.premise_id}" if failed.premise_id else ""
        await self.ccb.create_todo(
            p.CreateToDo(
                role=self.config.access_todo_role,
                todo_type="METER_ACCESS",
                message=(
                    f"Meter {failed.meter_id}{where} could not be read (read {failed.read_id}, no access): "
                    "call the customer to arrange access and update the property access notes"
                ),
                related_kind="premise" if failed.premise_id else "meter",
                related_id=failed.premise_id or failed.meter_id,
                priority=3,
            ),
            actor="system:contact",
            # The bus delivers at least once: the event id makes a redelivery replay, not repeat.
            idempotency_key=f"access-failed:{env.id}",
        )

    # -- account and bills ------------------------------------------------------------------------------
    async def account_view(self, access: ContactAccess, account_id: str) -> AccountView:
        summary = await self.ccb.get_account_summary(account_id)
        plan = await self.ccb.get_pay_plan(summary.active_pay_plan_id) if summary.active_pay_plan_id else None
        return AccountView(**msgspec.structs.asdict(summary), pay_plan=plan)

    async def explain_bill(self, access: ContactAccess, bill: p.BillView) -> BillExplanationView:
        explained = await self.ccb.bill_explanation(bill.bill_id)
        plain = {seg.bill_segment_id: seg for seg in explained.segments}
        names = {code: t.description for code, t in SA_TYPES.items()}
        segments = []
        for seg in bill.segments:
            words = plain.get(seg.bill_segment_id)
            segments.append(
                ExplainedSegment(
                    bill_segment_id=seg.bill_segment_id,
                    sa_id=seg.sa_id,
                    service=names.get(seg.sa_type, seg.sa_type),
                    status=seg.status,
                    period_start=seg.period_start,
                    period_end=seg.period_end,
                    estimated=seg.estimated,
                    quantity=seg.quantity,
                    unit=seg.unit,
                    tiers=[TierLine(tier=i + 1, quantity=q) for i, q in enumerate(seg.tier_quantities)],
                    amount_cents=seg.amount_cents,
                    illustrative=words.illustrative if words else False,
                    lines=list(words.lines) if words else [],
                )
            )
        return BillExplanationView(
            bill_id=bill.bill_id,
            account_id=bill.account_id,
            bill_date=bill.bill_date,
            due_date=bill.due_date,
            previous_balance_cents=bill.previous_balance_cents,
            payments_cents=bill.payments_cents,
            adjustments_cents=bill.adjustments_cents,
            current_charges_cents=bill.current_charges_cents,
            amount_due_cents=bill.amount_due_cents,
            lines=list(explained.lines),
            segments=segments,
            late_fee=late_fee_rule(bill, names),
        )

    # -- start / stop / restore (ccb-domain §1.5, §1.6) --------------------------------------------------
    def _not_past(self, day: dt.date, field: str) -> None:
        today = self.today()
        if day < today:
            raise Invalid(field, f"is in the past: it must be today ({today.isoformat()}) or later")

    async def start_service(
        self,
        access: ContactAccess,
        account_id: str,
        premise_id: str,
        start_date: dt.date,
        services: tuple[p.ServiceKind, ...],
        key: str | None,
    ) -> p.StartServiceResult:
        self._not_past(start_date, "start_date")
        result = await self.ccb.start_service(
            p.StartService(
                account_id=account_id, premise_id=premise_id, start_date=start_date, services=services
            ),
            actor=access.actor,
            idempotency_key=key,
        )
        await self.note_change(
            access,
            "service",
            f"start of {', '.join(services)} service at premise {premise_id} on {start_date.isoformat()}",
        )
        return result

    async def stop_service(
        self,
        access: ContactAccess,
        sa: p.ServiceAgreementView,
        stop_date: dt.date,
        stop_reading: int | None,
        key: str | None,
    ) -> p.ServiceAgreementView:
        self._not_past(stop_date, "stop_date")
        result = await self.ccb.stop_service(
            p.StopService(sa_id=sa.sa_id, stop_date=stop_date, stop_reading=stop_reading),
            actor=access.actor,
            idempotency_key=key,
        )
        await self.note_change(access, "service", f"stop of SA {sa.sa_id} on {stop_date.isoformat()}")
        return result

    async def cancel_stop(
        self, access: ContactAccess, sa: p.ServiceAgreementView, key: str | None
    ) -> p.ServiceAgreementView:
        result = await self.ccb.cancel_stop(
            p.CancelStop(sa_id=sa.sa_id), actor=access.actor, idempotency_key=key
        )
        await self.note_change(access, "service", f"canceled the pending stop of SA {sa.sa_id}")
        return result

    async def restore_service(
        self,
        access: ContactAccess,
        sa: p.ServiceAgreementView,
        restore_date: dt.date,
        reason: str,
        key: str | None,
    ) -> p.ServiceAgreementView:
        self._not_past(restore_date, "restore_date")
        result = await self.ccb.restore_service(
            p.RestoreService(sa_id=sa.sa_id, restore_date=restore_date, reason=redact(reason)),
            actor=access.actor,
            idempotency_key=key,
        )
        await self.note_change(access, "service", f"restore of SA {sa.sa_id} on {restore_date.isoformat()}")
        return result

    # -- property access ----------------------------------------------------------------------------------
    async def set_property_access(
        self, access: ContactAccess, request: p.SetPropertyAccess, key: str | None
    ) -> p.PremiseView:
        cleaned = msgspec.structs.replace(
            request,
            hazards=redact(request.hazards) if request.hazards else request.hazards,
            reader_notes=redact(request.reader_notes) if request.reader_notes else request.reader_notes,
        )
        premise = await self.ccb.set_property_access(cleaned, actor=access.actor, idempotency_key=key)
        async with self.db.session() as s:
            if access.contact_id is not None:
                self._add_action(
                    s,
                    access.contact_id,
                    access.actor,
                    "change.premise",
                    f"updated property access at premise {premise.premise_id}",
                    access.account_id,
                )
            self.events.emit(
                s,
                ev.PROPERTY_ACCESS_UPDATED,
                ev.PropertyAccessUpdated(premise_id=premise.premise_id, contact_id=access.contact_id),
                actor=access.actor,
            )
        return premise

    # -- meters and reads (ccb-domain §1.4) ----------------------------------------------------------------
    async def meters(self, account_id: str) -> list[MeterInfo]:
        """The meters of the account's open service agreements, with read instructions per meter type."""
        summary = await self.ccb.get_account_summary(account_id)
        found: list[MeterInfo] = []
        premises: dict[str, p.PremiseView] = {}
        for sa in summary.service_agreements:
            if sa.premise_id is None or sa.sp_id is None or sa.status not in ("10", "20", "30", "50"):
                continue
            if sa.premise_id not in premises:
                premises[sa.premise_id] = await self.ccb.get_premise(sa.premise_id)
            for sp in premises[sa.premise_id].service_points:
                if sp.sp_id != sa.sp_id or sp.meter is None:
                    continue
                meter = sp.meter
                reads = await self.ccb.list_reads(meter.meter_id)
                last = reads[-1] if reads else None
                found.append(
                    MeterInfo(
                        meter_id=meter.meter_id,
                        badge_number=meter.badge_number,
                        premise_id=sa.premise_id,
                        sa_id=sa.sa_id,
                        service=meter.service,
                        meter_type=meter.meter_type,
                        unit=meter.unit,
                        register_digits=meter.register_digits,
                        last_read_on=last.read_on if last else None,
                        last_read_type=last.read_type_name if last else None,
                        instructions=read_instructions(
                            meter.meter_type, meter.service, meter.unit, meter.register_digits
                        ),
                    )
                )
        return found

    async def _meter_of_account(self, account_id: str, meter_id: str) -> MeterInfo:
        for meter in await self.meters(account_id):
            if meter.meter_id == meter_id:
                return meter
        raise Invalid("meter_id", f"meter {meter_id} is not on an open service of account {account_id}")

    async def enter_customer_read(
        self,
        access: ContactAccess,
        account_id: str,
        meter_id: str,
        reading: int,
        confirm: bool,
        key: str | None,
    ) -> CustomerReadResult:
        """Record a reading the customer gives, after the high/low check (§1.4).

        A reading outside the expected range is refused unless ``confirm`` says the customer read it again;
        a confirmed one is stored and the port puts it on the high/low To Do list. An accepted reading is the
        newest read on the meter, so the next bill ends on it rather than on an estimate of the open period.
        """
        meter = await self._meter_of_account(account_id, meter_id)
        register = Register(digits=meter.register_digits)
        try:
            register.check_reading(reading)
        except ReadError as exc:
            raise Invalid("reading", str(exc)) from None
        history = await self.ccb.list_reads(meter_id)
        today = self.today()
        status: HighLowStatus | None = None
        try:
            check = high_low_check(
                [
                    MeterRead(r.read_on, r.reading, ReadType.from_code(r.read_type), r.use_on_bill)
                    for r in history
                ],
                MeterRead(today, reading, ReadType.CUSTOMER_READ),
                register,
            )
            status = check.status
        except ReadError:
            check = None  # no earlier read to compare with: nothing to flag
        if check is not None and status in (HighLowStatus.HIGH, HighLowStatus.LOW) and not confirm:
            raise Invalid(
                "reading",
                f"{reading} means {check.consumption} {meter.unit} in {check.days} days, "
                f"{'above' if status is HighLowStatus.HIGH else 'below'} the expected "
                f"{check.low_limit}-{check.high_limit}: ask the customer to read the meter again, then send "
                "confirm=true to record it anyway",
            )
        replaced = await self._open_period_estimate(account_id, meter.sa_id, history)
        result = await self.ccb.add_meter_read(
            p.AddMeterRead(
                meter_id=meter_id,
                read_at=self.clock.now(),
                read_type=ReadType.CUSTOMER_READ.value,
                reading=reading,
                source="customer",
                remarks="reading given by the customer",
            ),
            actor=access.actor,
            idempotency_key=key,
        )
        async with self.db.session() as s:
            if access.contact_id is not None:
                self._add_action(
                    s,
                    access.contact_id,
                    access.actor,
                    "change.meter",
                    f"customer read {reading} entered on meter {meter.badge_number}",
                    access.account_id,
                )
            self.events.emit(
                s,
                ev.CUSTOMER_READ_ENTERED,
                ev.CustomerReadEntered(
                    meter_id=meter_id,
                    read_id=result.read.read_id,
                    high_low=result.high_low,
                    replaced_estimate_read_id=replaced,
                    contact_id=access.contact_id,
                ),
                actor=access.actor,
            )
        return CustomerReadResult(
            read=result.read,
            high_low=result.high_low,
            replaced_estimate_read_id=replaced,
            consecutive_estimates=result.consecutive_estimates,
            case_id=result.case_id,
        )

    async def _open_period_estimate(
        self, account_id: str, sa_id: str, history: Sequence[p.ReadView]
    ) -> str | None:
        """The estimate the next bill would end on, if the newest billable read of the open period is one."""
        billed_to = max(
            (
                seg.period_end
                for bill in await self.ccb.list_bills(account_id, limit=12)
                for seg in bill.segments
                if seg.sa_id == sa_id and seg.status == "50"
            ),
            default=None,
        )
        usable = [r for r in history if r.use_on_bill and r.reading is not None]
        if not usable:
            return None
        newest = usable[-1]
        if billed_to is not None and newest.read_on <= billed_to:
            return None
        return newest.read_id if ReadType.from_code(newest.read_type).is_estimate else None

    async def field_read(
        self,
        access: ContactAccess,
        meter_id: str,
        read_type: Literal["regular", "no_read"],
        reading: int | None,
        remarks: str | None,
        key: str | None,
    ) -> p.ReadResult:
        """A meter reader's read or No Read; a No Read is announced (access_failed) and estimated."""
        code = ReadType.REGULAR if read_type == "regular" else ReadType.NO_READ
        result = await self.ccb.add_meter_read(
            p.AddMeterRead(
                meter_id=meter_id,
                read_at=self.clock.now(),
                read_type=code.value,
                reading=reading,
                source="field",
                remarks=redact(remarks) if remarks else None,
            ),
            actor=access.actor,
            idempotency_key=key,
        )
        await self.note_change(access, "meter", f"{read_type.replace('_', ' ')} recorded on meter {meter_id}")
        return result

    # -- field work ----------------------------------------------------------------------------------------
    async def _service_point(self, premise_id: str, service: str) -> p.ServicePointView:
        premise = await self.ccb.get_premise(premise_id)
        for sp in premise.service_points:
            if sp.service == service:
                return sp
        raise Invalid("service", f"premise {premise_id} has no {service} service point")

    async def field_investigation(
        self,
        access: ContactAccess,
        account_id: str,
        kind: Literal["re_read", "leak_check"],
        service: p.ServiceKind,
        premise_id: str | None,
        summary: str,
        key: str | None,
    ) -> InvestigationResult:
        """A case (high bill) with its field activity (re-read or leak check), ccb-domain §1.14-§1.15."""
        if kind == "leak_check" and service != "water":
            raise Invalid("service", "a leak check is for water service")
        account = await self.ccb.get_account_summary(account_id)
        premise_ids = [prem.premise_id for prem in account.premises]
        if premise_id is None:
            if len(premise_ids) != 1:
                raise Invalid("premise_id", "the account has several premises (or none): name one")
            premise_id = premise_ids[0]
        elif premise_id not in premise_ids:
            raise Invalid("premise_id", f"premise {premise_id} is not a premise of account {account_id}")
        sp = await self._service_point(premise_id, service)
        sa_id = next((sa.sa_id for sa in account.service_agreements if sa.sp_id == sp.sp_id), None)
        text = redact(summary.strip())
        if not text:
            raise Invalid("summary", "must not be empty")
        # Validated up front; the two writes then share the caller's idempotency key, so a retry after a
        # failure between them completes the pair instead of opening a second case.
        case = await self.ccb.create_case(
            p.CreateCase(
                case_type="HIGH_BILL",
                summary=text,
                account_id=account_id,
                premise_id=premise_id,
                meter_id=sp.meter.meter_id if sp.meter else None,
            ),
            actor=access.actor,
            idempotency_key=f"{key}:case" if key else None,
        )
        fa = await self.ccb.create_field_activity(
            p.CreateFieldActivity(
                fa_type="RE_READ" if kind == "re_read" else "LEAK_CHECK",
                premise_id=premise_id,
                sp_id=sp.sp_id,
                sa_id=sa_id,
                case_id=case.case_id,
                scheduled_on=self.today() + dt.timedelta(days=3),
                instructions=text,
            ),
            actor=access.actor,
            idempotency_key=f"{key}:fa" if key else None,
        )
        await self.note_change(
            access,
            "field",
            f"opened case {case.case_id} with {kind.replace('_', ' ')} {fa.field_activity_id}",
        )
        return InvestigationResult(case=case, field_activity=fa)

    async def trouble_ticket(
        self,
        access: ContactAccess,
        premise_id: str,
        service: p.ServiceKind,
        problem: str,
        details: str | None,
        key: str | None,
    ) -> p.FieldActivityView:
        """A TROUBLE field activity with its dispatch priority (LocalCcb announces the trouble ticket)."""
        priority = trouble_priority(service, problem)
        sp = await self._service_point(premise_id, service)
        life_support = False
        sa_id: str | None = None
        if access.account_id is not None:
            summary = await self.ccb.get_account_summary(access.account_id)
            person = await self.ccb.get_person(summary.main_customer.person_id)
            life_support = person.life_support
            sa_id = next((sa.sa_id for sa in summary.service_agreements if sa.sp_id == sp.sp_id), None)
        if life_support and problem in OUTAGE_PROBLEMS:
            priority = 1  # a life-support customer without service goes first
        label = problem.replace("_", " ")
        instructions = f"{service} trouble: {label}"
        if life_support:
            instructions += " (life-support customer)"
        if details and details.strip():
            instructions += f". Caller says: {redact(details.strip())}"
        fa = await self.ccb.create_field_activity(
            p.CreateFieldActivity(
                fa_type="TROUBLE",
                premise_id=premise_id,
                sp_id=sp.sp_id,
                sa_id=sa_id,
                priority=priority,
                scheduled_on=self.today(),
                instructions=instructions[:1000],
            ),
            actor=access.actor,
            idempotency_key=key,
        )
        await self.note_change(
            access,
            "field",
            f"trouble ticket {fa.field_activity_id} ({service}, {label}, priority {priority})",
        )
        return fa

    # -- payment plans (rules §6) ----------------------------------------------------------------------
    async def quote_plan(
        self,
        account_id: str,
        *,
        amount_cents: int | None,
        installments: int,
        first_due: dt.date | None,
        cadence: Cadence,
        hardship_reason: str | None,
    ) -> PlanQuote:
        """Installments that differ by at most a cent and sum exactly; the first ones carry the odd cents."""
        summary = await self.ccb.get_account_summary(account_id)
        residential = summary.customer_class == "RES"
        total = amount_cents
        if total is None:
            total = summary.past_due_cents
            if total <= 0:
                raise Invalid("amount_cents", "nothing is past due on the account: give amount_cents")
        today = self.today()
        due = first_due or today + dt.timedelta(days=self.config.first_due_days)
        if due < today:
            raise Invalid("first_due", f"is in the past: it must be today ({today.isoformat()}) or later")
        try:
            schedule = quote(
                total,
                installments,
                due,
                cadence,
                residential=residential,
                hardship_reason=hardship_reason,
                today=today,
            )
        except PayPlanError as exc:
            raise Invalid("amount_cents" if exc.field == "total_cents" else exc.field, exc.message) from None
        return PlanQuote(
            account_id=account_id,
            total_cents=total,
            cadence=cadence,
            residential=residential,
            installments=[
                QuotedInstallment(seq=i + 1, due_date=inst.due_date, amount_cents=inst.amount_cents)
                for i, inst in enumerate(schedule)
            ],
        )

    async def create_plan(
        self,
        access: ContactAccess,
        account_id: str,
        *,
        amount_cents: int | None,
        installments: int,
        first_due: dt.date | None,
        cadence: Cadence,
        hardship_reason: str | None,
        key: str | None,
    ) -> p.PayPlanView:
        if hardship_reason:
            # Task 35: a plan beyond the standard terms (a hardship plan past 12 months, rules.md §6.3) is a
            # special plan, created only from an approved escalation — never from the CSR's own request.
            raise Invalid(
                "hardship_reason",
                "a special payment plan needs an approved escalation (POST /api/escalations, kind "
                "special_payment_plan); this route creates plans on the standard terms",
            )
        offer = await self.quote_plan(
            account_id,
            amount_cents=amount_cents,
            installments=installments,
            first_due=first_due,
            cadence=cadence,
            hardship_reason=hardship_reason,
        )
        try:
            plan = await self.ccb.create_pay_plan(
                p.CreatePayPlan(
                    account_id=account_id,
                    installments=installments,
                    first_due=offer.installments[0].due_date,
                    cadence=cadence,
                    total_cents=offer.total_cents,
                    hardship_reason=redact(hardship_reason) if hardship_reason else None,
                ),
                actor=access.actor,
                idempotency_key=key,
            )
        except Invalid as exc:
            if exc.field == "total_cents":
                raise Invalid("amount_cents", exc.message) from None
            raise
        await self.note_change(
            access,
            "payment",
            f"pay plan {plan.pay_plan_id}: {format_cents(plan.total_cents)} in {len(plan.installments)} "
            f"{cadence} installments from {offer.installments[0].due_date.isoformat()}",
        )
        return plan

    # -- tier review (ccb-domain §2.5) -------------------------------------------------------------------
    async def tier_review(self, account_id: str, periods: int) -> TierReviewView:
        reviews = await self._review(account_id, periods)
        services = [view for view, _ in reviews]
        return TierReviewView(
            account_id=account_id,
            periods=periods,
            wrong_segments=sum(v.wrong_periods for v in services),
            total_difference_cents=sum(v.total_difference_cents for v in services),
            services=services,
        )

    async def _review(
        self, account_id: str, periods: int
    ) -> list[tuple[TierServiceReview, list[TierPeriod]]]:
        summary = await self.ccb.get_account_summary(account_id)
        # Enough bills for N periods of every SA, with room for final and rebilled bills.
        bills = await self.ccb.list_bills(account_id, limit=min(100, periods * 2 + 4))
        out: list[tuple[TierServiceReview, list[TierPeriod]]] = []
        premises: dict[str, p.PremiseView] = {}
        for sa in summary.service_agreements:
            if sa.rate_schedule is None or sa.zone is None or sa.premise_id is None:
                continue
            segments = sorted(
                (
                    (bill.bill_id, seg)
                    for bill in bills
                    for seg in bill.segments
                    if seg.sa_id == sa.sa_id and seg.status == "50"
                ),
                key=lambda pair: pair[1].period_start,
            )[-periods:]
            if not segments:
                continue
            if sa.premise_id not in premises:
                premises[sa.premise_id] = await self.ccb.get_premise(sa.premise_id)
            try:
                schedule = self.rates.schedule(sa.rate_schedule)
                lot = (
                    lot_size_class(schedule, premises[sa.premise_id].lot_size_sqft)
                    if schedule.lot_sizes
                    else None
                )
                review = review_tiers(
                    schedule,
                    sa.zone,
                    [
                        BilledPeriod(
                            start=seg.period_start,
                            end=seg.period_end,
                            quantity=Decimal(seg.quantity),
                            billed_tiers=tuple(Decimal(q) for q in seg.tier_quantities),
                            billed_cents=seg.amount_cents,
                            bill_id=bill_id,
                        )
                        for bill_id, seg in segments
                    ],
                    lot_size=lot,
                    last_n=periods,
                )
            except RateError as exc:
                raise Invalid("periods", f"SA {sa.sa_id} cannot be reviewed: {exc}") from None
            by_start = {seg.period_start: seg for _, seg in segments}
            lines = [_tier_period(r, by_start[r.period.start].bill_segment_id) for r in review.periods]
            out.append(
                (
                    TierServiceReview(
                        sa_id=sa.sa_id,
                        service=sa.sa_type,
                        schedule=review.schedule_code,
                        zone=review.zone,
                        lot_size=review.lot_size,
                        days=review.days,
                        total_quantity=str(review.total_quantity),
                        average_daily=str(review.average_daily),
                        daily_thresholds=[str(t) for t in review.daily_thresholds],
                        average_tier=review.average_tier,
                        wrong_periods=len(review.wrong_periods),
                        total_difference_cents=sum(r.difference_cents for r in review.wrong_periods),
                        periods=lines,
                    ),
                    lines,
                )
            )
        return out

    async def apply_tier_review(
        self, access: ContactAccess, account_id: str, periods: int, reason: str
    ) -> TierReviewApplied:
        """Cancel and rebill every segment billed in the wrong tiers (§1.7 cancel/rebill, not adjustments).

        Each rebill is one port transaction keyed by the segment it cancels, so a repeated apply never
        rebills a segment twice; the rebill re-prices the segment's own reads with the rate engine.
        """
        text = _clean_reason(reason) or "tier review: billed in the wrong tiers"
        balance_before = (await self.ccb.get_balance(account_id)).balance_cents
        wrong = [
            line
            for _, lines in await self._review(account_id, periods)
            for line in lines
            if not line.right_tiers
        ]
        rebilled: list[RebilledSegment] = []
        for line in wrong:
            result = await self.ccb.rebill(
                p.Rebill(bill_segment_id=line.bill_segment_id, reason=text),
                actor=access.actor,
                idempotency_key=f"tier-review:{line.bill_segment_id}",
            )
            rebilled.append(
                RebilledSegment(
                    bill_id=line.bill_id,
                    canceled_segment_id=result.canceled_segment_id,
                    new_segment_id=result.new_segment.bill_segment_id,
                    before_cents=line.billed_cents,
                    after_cents=result.new_segment.amount_cents,
                )
            )
        balance_after = (await self.ccb.get_balance(account_id)).balance_cents
        before = sum(r.before_cents for r in rebilled)
        after = sum(r.after_cents for r in rebilled)
        async with self.db.session() as s:
            if access.contact_id is not None:
                self._add_action(
                    s,
                    access.contact_id,
                    access.actor,
                    "change.billing",
                    f"tier review: rebilled {len(rebilled)} segment(s), {format_cents(after - before)}",
                    account_id,
                )
            if rebilled:
                self.events.emit(
                    s,
                    ev.TIER_REVIEW_APPLIED,
                    ev.TierReviewApplied(
                        account_id=account_id,
                        canceled_segment_ids=[r.canceled_segment_id for r in rebilled],
                        rebill_segment_ids=[r.new_segment_id for r in rebilled],
                    ),
                    actor=access.actor,
                )
        return TierReviewApplied(
            account_id=account_id,
            rebilled=rebilled,
            before_cents=before,
            after_cents=after,
            difference_cents=after - before,
            balance_before_cents=balance_before,
            balance_after_cents=balance_after,
        )

    # -- returned mail -------------------------------------------------------------------------------------
    @staticmethod
    def _mail_view(row: ReturnedMail) -> ReturnedMailView:
        return ReturnedMailView(
            item_id=row.id,
            account_id=row.account_id,
            received_on=row.received_on,
            reason=row.reason,
            status=row.status,
            outcome=row.outcome,
            new_address=msgspec.convert(row.new_address, p.Address) if row.new_address else None,
            followup_todo_id=row.followup_todo_id,
            logged_by=row.logged_by,
            logged_at=row.logged_at,
            resolved_by=row.resolved_by,
            resolved_at=row.resolved_at,
        )

    async def log_returned_mail(
        self, staff: Staff, account_id: str, reason: str, received_on: dt.date | None
    ) -> ReturnedMailView:
        await self.account_exists(account_id)
        today = self.today()
        day = received_on or today
        if day > today:
            raise Invalid("received_on", "is in the future")
        text = redact(" ".join(reason.split()))[:200] or "returned undeliverable"
        for attempt in (1, 2):
            try:
                async with self.db.session() as s:
                    row = ReturnedMail(
                        id=new_id(IdKind.CONTACT),
                        account_id=account_id,
                        received_on=day,
                        reason=text,
                        status="open",
                        logged_by=staff.actor,
                        logged_at=self.clock.now(),
                    )
                    s.add(row)
                    await s.flush()
                    self.events.emit(
                        s,
                        ev.RETURNED_MAIL_LOGGED,
                        ev.ReturnedMailLogged(item_id=row.id, account_id=account_id),
                        actor=staff.actor,
                    )
                    return self._mail_view(row)
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def returned_mail(self, status: str | None) -> list[ReturnedMailView]:
        query = select(ReturnedMail).order_by(ReturnedMail.received_on, ReturnedMail.id)
        if status is not None:
            query = query.where(ReturnedMail.status == status)
        async with self.db.session() as s:
            return [self._mail_view(r) for r in (await s.scalars(query)).all()]

    async def returned_mail_item(self, item_id: str) -> ReturnedMailView:
        async with self.db.session() as s:
            row = await s.get(ReturnedMail, item_id)
            if row is None:
                raise NotFound("returned_mail", item_id)
            return self._mail_view(row)

    async def resolve_returned_mail(
        self,
        access: ContactAccess,
        item_id: str,
        outcome: Literal["new_address", "new_contact_needed"],
        address: p.Address | None,
        note: str | None,
    ) -> ReturnedMailView:
        """Record the outcome of a returned-mail item (task 13).

        A new address is written to the account in CCB (the account's mailing-address override) before
        the item is closed; "new contact needed" is recorded for the next contact with the customer.
        """
        item = await self.returned_mail_item(item_id)
        if item.status != "open":
            raise IllegalTransition("returned_mail", item_id, item.status, "resolve")
        if outcome == "new_address" and address is None:
            raise Invalid("address", "is required when the outcome is new_address")
        todo_id: str | None = None
        if outcome == "new_address" and address is not None:
            await self.ccb.set_mailing_address(
                p.SetMailingAddress(account_id=item.account_id, address=address),
                actor=access.actor,
                idempotency_key=f"returned-mail:{item_id}",
            )
        async with self.db.session() as s:
            row = await s.get(ReturnedMail, item_id, with_for_update=True)
            assert row is not None
            if row.status == "open":
                row.status = "resolved"
                row.outcome = outcome
                row.new_address = msgspec.to_builtins(address) if address is not None else None
                row.followup_todo_id = todo_id
                row.contact_id = access.contact_id
                row.resolved_by = access.actor
                row.resolved_at = self.clock.now()
                words = "new mailing address taken" if outcome == "new_address" else "new contact needed"
                if note and note.strip():
                    words += f" ({redact(note.strip())[:200]})"
                if access.contact_id is not None:
                    self._add_action(
                        s,
                        access.contact_id,
                        access.actor,
                        "change.mail",
                        f"returned mail {item_id}: {words}",
                        row.account_id,
                    )
                self.events.emit(
                    s,
                    ev.RETURNED_MAIL_RESOLVED,
                    ev.ReturnedMailResolved(
                        item_id=row.id, account_id=row.account_id, outcome=outcome, followup_todo_id=todo_id
                    ),
                    actor=access.actor,
                )
            return self._mail_view(row)


def service_for(hub: Any) -> ContactService | None:
    """The running contact service of ``hub`` (for plugins' routes using the verified-contact guard)."""
    rec = hub.plugins.records.get(PART_ID)
    if rec is None or not rec.running or rec.ctx is None:
        return None
    found = rec.ctx.extras.get(SERVICE_KEY)
    return found if isinstance(found, ContactService) else None
