"""HTTP side of the solar plugin: JSON routes under /api/solar and the team page under /ui/solar.

Program facts and FAQ answers are config (``SolarConfig``) read by any staff member. A net-metered bill is
explained from the CCB's own billing of the account's net-metered service agreement (``ccb.get_net_metering``
on the CCB port: the local mock or a remote CCB), and only through the verified-contact guard
(``require_verified``). The voicemail queue takes messages from the phone system (which calls with a
lead's token) and records each callback with its outcome.

Bodies are decoded strictly: malformed JSON answers 400, a bad field 422 naming it (``extra[0].key``), an
unknown account, period or voicemail 404, the wrong role 403, a voicemail returned twice or an account
that is not net-metered 409, a CCB that cannot be reached 503.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, get, post
from litestar.exceptions import ClientException, HTTPException
from litestar.params import FromPath, FromQuery, QueryParameter
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.ccb.errors import CcbError, NotFound
from core.ccb.port import NetMeteringCharge, NetMeteringTierLine
from core.ccb.rates import format_cents
from core.contact import require_verified
from core.contract import PageSpec, PluginContext
from core.contract.inputs import decode_json
from core.redact import redact
from core.security import current_staff
from core.web.pages import render
from plugins.solar import events
from plugins.solar.models import Voicemail, open_voicemails
from plugins.solar.service import (
    ACCOUNT_ID,
    PERIOD,
    PERIOD_HINT,
    PHONE,
    Outcome,
    PeriodNotBilled,
    Program,
    SolarConfig,
    callback_due,
    explain_net_metering,
    kwh_text,
    match_answers,
    pick_period,
)

# Who may call what (issue 7 §4). Everyone in an enabled section reads programs and answers; the phone
# system leaves voicemails with a lead's token; the Solar team works the queue and the NEM data.
STAFF = {"access": "staff"}
LEAVERS = {"roles": ["lead", "admin", "solar"]}
QUEUE_VIEWERS = {"roles": ["solar", "lead", "supervisor", "admin"]}
RETURNERS = {"roles": ["solar"]}
EXPLAINERS = {"roles": ["solar", "csr", "lead", "supervisor", "cro"]}
# Two years of bimonthly bills: enough to answer "why was my bill last summer so low?".
NEM_HISTORY = 12

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
    tier_lines: list[NetMeteringTierLine]
    charges: list[NetMeteringCharge]
    credit_earned_kwh: str
    credit_out_kwh: str
    credit_forfeited_kwh: str
    energy_cents: int
    charges_cents: int
    total_cents: int
    total: str
    other_periods: list[dt.date]  # start dates of the other billed periods, newest first
    lines: list[str]


def vm_view(v: Voicemail, now: dt.datetime, config: SolarConfig) -> VoicemailView:
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


# -- errors and decoding ---------------------------------------------------------------------------------
def fail(field: str, message: str, status_code: int = 422) -> ClientException:
    detail = f"{field}: {message}"
    return ClientException(status_code=status_code, detail=detail, extra=[{"key": field, "message": detail}])


def _clean(text: str | None) -> str | None:
    """Free text is redacted before storage; blank means none."""
    if text is None or not text.strip():
        return None
    return redact(text.strip())


async def explain(
    ctx: PluginContext,
    request: Request[Any, Any, Any],
    account_id: str,
    period: str | None,
    *,
    contact_id: str | None = None,
) -> BillExplanationView:
    """A net-metered bill of ``account_id`` explained, for a caller verified for that account.

    The account is looked up first (so an unknown one is a 404, as the guard expects), then the guard
    runs (a verified contact, or a reason from a lead, supervisor or the CRO), and only then is the answer
    used: an account without a net-metered SA is a 409, a period not billed a 404.
    """
    if re.fullmatch(ACCOUNT_ID, account_id) is None:
        raise fail("account_id", "must be the 10-digit CCB account id")
    if period is not None and re.fullmatch(PERIOD, period) is None:
        raise fail("period", PERIOD_HINT)
    try:
        view = await ctx.ccb.get_net_metering(account_id, NEM_HISTORY)
    except NotFound:
        raise fail("account_id", f"no account {account_id}", 404) from None
    except CcbError as exc:
        raise fail("ccb", f"the billing system could not answer: {exc}", 503) from None
    await require_verified(
        request, account_id, purpose="explain a solar bill", topic="solar", contact_id=contact_id
    )
    if view is None:
        raise fail(
            "account_id",
            f"account {account_id} is not on net energy metering: it has no net-metered electric "
            "service agreement, so its bill has no kWh received to explain",
            409,
        )
    try:
        chosen = pick_period(view.periods, period)
    except PeriodNotBilled as exc:
        raise fail("period", str(exc), 404) from None
    except ValueError as exc:
        raise fail("period", str(exc)) from None
    return BillExplanationView(
        account_id=account_id,
        sa_id=view.sa_id,
        bill_id=chosen.bill_id,
        bill_date=chosen.bill_date,
        start=chosen.period_start,
        end=chosen.period_end,
        days=chosen.days,
        zone=chosen.zone,
        estimated=chosen.estimated,
        delivered_kwh=chosen.delivered_kwh,
        received_kwh=chosen.received_kwh,
        net_kwh=chosen.net_kwh,
        credit_in_kwh=chosen.credit_in_kwh,
        credit_used_kwh=chosen.credit_used_kwh,
        billed_kwh=chosen.billed_kwh,
        tier_kwh=chosen.tier_kwh,
        tier_lines=chosen.tier_lines,
        charges=chosen.charges,
        credit_earned_kwh=chosen.credit_earned_kwh,
        credit_out_kwh=chosen.credit_out_kwh,
        credit_forfeited_kwh=chosen.credit_forfeited_kwh,
        energy_cents=chosen.energy_cents,
        charges_cents=chosen.charges_cents,
        total_cents=chosen.amount_cents,
        total=format_cents(chosen.amount_cents),
        other_periods=[x.period_start for x in view.periods if x.bill_segment_id != chosen.bill_segment_id],
        lines=explain_net_metering(view, chosen),
    )


# -- JSON routes -----------------------------------------------------------------------------------------
def routes(ctx: PluginContext) -> list[Any]:
    def config() -> SolarConfig:
        cfg: SolarConfig = ctx.config
        return cfg

    @get("/programs", opt=STAFF, summary="Solar Incentive, net metering and Charge Up L.A.! facts")
    async def programs_route() -> list[Program]:
        return list(config().programs)

    @get("/answers", opt=STAFF, summary="Configured answers matching a customer's question")
    async def answers_route(
        q: Annotated[str, QueryParameter(min_length=2, max_length=300)],
    ) -> list[AnswerView]:
        cfg = config()
        return [
            AnswerView(id=a.id, question=a.question, answer=a.answer, program=a.program, score=s)
            for a, s in match_answers(q, cfg.answers, cfg.max_answers)
        ]

    @post("/voicemails", opt=LEAVERS, summary="A voicemail left for the Solar team (from the phone system)")
    async def leave_route(request: Request[Any, Any, Any]) -> Response[VoicemailView]:
        data: VoicemailIn = decode_json(await request.body(), VoicemailIn)
        cfg = config()
        now = ctx.clock.now()
        left_at = data.left_at or now
        if left_at.tzinfo is None:
            raise fail("left_at", "give a time zone offset")
        if left_at > now + dt.timedelta(minutes=5):
            raise fail("left_at", "is in the future")
        staff = current_staff(request)
        if data.call_id is not None:
            async with ctx.db.session() as session:
                earlier = await session.scalar(select(Voicemail).where(Voicemail.call_id == data.call_id))
            if earlier is not None:
                return Response(vm_view(earlier, now, cfg), status_code=200)
        vm = Voicemail(
            ani=data.ani,
            callback_number=data.callback_number or data.ani,
            account_id=data.account_id,
            duration_s=data.duration_s,
            call_id=data.call_id,
            left_at=left_at,
            due_at=callback_due(left_at, cfg.callback_business_days, cfg.holidays),
            left_by=staff.actor,
        )
        try:
            async with ctx.db.session() as session:
                session.add(vm)
                await session.flush()
                ctx.events.emit(
                    session,
                    events.VOICEMAIL_LEFT,
                    events.VoicemailLeft(
                        voicemail_id=vm.id,
                        account_id=vm.account_id,
                        duration_s=vm.duration_s,
                        left_at=vm.left_at,
                        due_at=vm.due_at,
                        left_by=staff.actor,
                    ),
                    actor=staff.actor,
                )
                await ctx.audit.append(
                    session,
                    actor=staff.actor,
                    action="solar.voicemail.left",
                    target=f"solar_voicemail:{vm.id}",
                )
        except IntegrityError:  # the same call posted twice at once: answer the stored one
            async with ctx.db.session() as session:
                earlier = await session.scalar(select(Voicemail).where(Voicemail.call_id == data.call_id))
            if earlier is None:
                raise
            return Response(vm_view(earlier, now, cfg), status_code=200)
        return Response(vm_view(vm, now, cfg), status_code=201)

    @get("/voicemails", opt=QUEUE_VIEWERS, summary="The callback queue (open by default)")
    async def list_route(
        status: Annotated[Literal["open", "returned", "all"], QueryParameter()] = "open",
    ) -> list[VoicemailView]:
        now = ctx.clock.now()
        async with ctx.db.session() as session:
            if status == "open":
                rows = await open_voicemails(session)
            else:
                query = select(Voicemail).order_by(Voicemail.left_at.desc(), Voicemail.id.desc()).limit(500)
                if status == "returned":
                    query = query.where(Voicemail.returned_at.is_not(None))
                rows = list(await session.scalars(query))
        return [vm_view(v, now, config()) for v in rows]

    @post(
        "/voicemails/{voicemail_id:int}/return", opt=RETURNERS, status_code=200, summary="Record a callback"
    )
    async def return_route(request: Request[Any, Any, Any], voicemail_id: FromPath[int]) -> VoicemailView:
        data: ReturnIn = decode_json(await request.body(), ReturnIn)
        staff = current_staff(request)
        cfg = config()
        now = ctx.clock.now()
        async with ctx.db.session() as session:
            vm = await session.get(Voicemail, voicemail_id, with_for_update=True)
            if vm is None:
                raise fail("voicemail_id", f"no voicemail #{voicemail_id}", 404)
            if vm.returned_at is not None:
                raise fail("status", f"voicemail #{vm.id} was already returned ({vm.outcome})", 409)
            late = now > vm.due_at  # the deadline fixed when the message was left
            vm.returned_at, vm.returned_by = now, staff.actor
            vm.outcome, vm.notes = data.outcome.value, _clean(data.notes)
            ctx.events.emit(
                session,
                events.VOICEMAIL_RETURNED,
                events.VoicemailReturned(
                    voicemail_id=vm.id,
                    account_id=vm.account_id,
                    outcome=vm.outcome,
                    left_at=vm.left_at,
                    returned_at=now,
                    returned_by=staff.actor,
                    late=late,
                ),
                actor=staff.actor,
            )
            await ctx.audit.append(
                session,
                actor=staff.actor,
                action="solar.voicemail.returned",
                target=f"solar_voicemail:{vm.id}",
                detail={"outcome": vm.outcome, "late": late},
            )
        return vm_view(vm, now, cfg)

    @get(
        "/accounts/{account_id:str}/bill-explanation",
        opt=EXPLAINERS,
        summary="A net-metered bill from the CCB in plain words (needs a verified contact or a reason)",
    )
    async def explanation_route(
        request: Request[Any, Any, Any],
        account_id: FromPath[str],
        period: Annotated[str | None, QueryParameter(max_length=12)] = None,
    ) -> BillExplanationView:
        return await explain(ctx, request, account_id, period)

    return [
        programs_route,
        answers_route,
        leave_route,
        list_route,
        return_route,
        explanation_route,
    ]


# -- pages ---------------------------------------------------------------------------------------------
def pages(ctx: PluginContext) -> list[PageSpec]:
    @get("/", opt=STAFF)
    async def team_page(
        request: Request[Any, Any, Any],
        account_id: FromQuery[str | None] = None,
        contact_id: FromQuery[str | None] = None,
        period: FromQuery[str | None] = None,
    ) -> Response[Any]:
        """The team's page: callbacks, program facts, and a net-metered bill explained on request."""
        cfg: SolarConfig = ctx.config
        now = ctx.clock.now()
        async with ctx.db.session() as session:
            rows = await open_voicemails(session)
        # Only trimmed and capped for echoing back; ``explain`` validates them (a long id is refused,
        # never cut down to some other account's id).
        asked = {
            "account_id": (account_id or "").strip()[:40],
            "contact_id": (contact_id or "").strip()[:64],
            "period": (period or "").strip()[:40],
        }
        explanation: BillExplanationView | None = None
        error: str | None = None
        status_code = 200
        if asked["account_id"]:
            if current_staff(request).role not in EXPLAINERS["roles"]:
                error, status_code = "Your role cannot open a customer's bill.", 403
            else:
                try:
                    explanation = await explain(
                        ctx,
                        request,
                        asked["account_id"],
                        asked["period"] or None,
                        contact_id=asked["contact_id"] or None,
                    )
                except HTTPException as exc:  # shown on the page, with the API's status and message
                    error, status_code = str(exc.detail), exc.status_code
        return render(
            request,
            "solar/team.html",
            status_code=status_code,
            title="Solar team",
            programs=cfg.programs,
            voicemails=[vm_view(v, now, cfg) for v in rows],
            asked=asked,
            explanation=explanation,
            error=error,
            kwh=kwh_text,
        )

    return [PageSpec(handler=team_page, nav_title="Solar")]
