"""HTTP side of the solar plugin: JSON routes under /api/solar and the team page under /ui/solar.

Program facts and FAQ answers are config (``SolarConfig``) read by any staff member. Net-metering data is
entered by the Solar team per account and period; the bill explanation reads an account's data only
through the verified-contact guard (``require_verified``). The voicemail queue takes messages from the
phone system (which calls with a lead's token) and records each callback with its outcome.

Bodies are decoded strictly: malformed JSON answers 400, a bad field 422 naming it (``extra[0].key``), an
unknown account, period or voicemail 404, the wrong role 403, a voicemail returned twice 409.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, get, post, put
from litestar.exceptions import ClientException
from litestar.params import FromPath, QueryParameter
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.ccb.errors import NotFound
from core.ccb.rates import RateError, format_cents, load_default_config
from core.contact import require_verified
from core.contract import PageSpec, PluginContext
from core.redact import redact
from core.security import current_staff
from core.web.pages import render
from plugins.solar import events
from plugins.solar.models import NemAccount, NemPeriod, Voicemail, open_voicemails, periods_of
from plugins.solar.service import (
    ACCOUNT_ID,
    PHONE,
    NemPeriodInput,
    NemResult,
    Outcome,
    Program,
    SolarConfig,
    callback_due,
    explain_nem,
    match_answers,
    settle_chain,
)

# Who may call what (issue 7 §4). Everyone in an enabled section reads programs and answers; the phone
# system leaves voicemails with a lead's token; the Solar team works the queue and the NEM data.
STAFF = {"access": "staff"}
LEAVERS = {"roles": ["lead", "admin", "solar"]}
QUEUE_VIEWERS = {"roles": ["solar", "lead", "supervisor", "admin"]}
RETURNERS = {"roles": ["solar"]}
NEM_EDITORS = {"roles": ["solar", "lead", "supervisor", "admin"]}
EXPLAINERS = {"roles": ["solar", "csr", "lead", "supervisor", "cro"]}

AccountId = Annotated[str, msgspec.Meta(pattern=ACCOUNT_ID)]
Phone = Annotated[str, msgspec.Meta(pattern=PHONE)]
Kwh = Annotated[int, msgspec.Meta(ge=0, le=10_000_000)]
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


class NemAccountIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    interconnected_on: dt.date
    carried_credit_kwh: Kwh = 0
    carried_credit_cents: Annotated[int, msgspec.Meta(ge=0, le=100_000_000)] = 0


class NemPeriodIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    start: dt.date
    end: dt.date  # the end-read date (exclusive), as on the bill segment
    delivered_kwh: Kwh
    received_kwh: Kwh
    source: Literal["entered", "import"] = "entered"


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


class NemAccountView(msgspec.Struct, kw_only=True):
    account_id: str
    interconnected_on: dt.date
    carried_credit_kwh: int
    carried_credit_cents: int
    periods: list[dict[str, Any]]


class BillExplanationView(msgspec.Struct, kw_only=True):
    account_id: str
    zone: str
    start: dt.date
    end: dt.date
    days: int
    delivered_kwh: int
    received_kwh: int
    net_kwh: int
    credit_in_kwh: int
    credit_in_cents: int
    billed_kwh: int
    tier_kwh: list[str]
    credit_out_kwh: int
    credit_out_cents: int
    energy_cents: int
    charges_cents: int
    total_cents: int
    total: str
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


def decode(raw: bytes, type_: type[Any]) -> Any:
    if not raw.strip():
        raise ClientException(status_code=400, detail="body: a JSON object is required")
    try:
        return msgspec.json.decode(raw, type=type_)
    except msgspec.ValidationError as exc:
        text = str(exc)
        field = "body"
        for marker in ("field `", "at `$."):
            if marker in text:
                field = text.split(marker, 1)[1].split("`", 1)[0] or "body"
                break
        raise fail(field, text.split(" - at ")[0]) from None
    except msgspec.DecodeError as exc:
        raise ClientException(status_code=400, detail=f"body: malformed JSON ({exc})") from None


def _clean(text: str | None) -> str | None:
    """Free text is redacted before storage; blank means none."""
    if text is None or not text.strip():
        return None
    return redact(text.strip())


async def _account_exists(ctx: PluginContext, account_id: str) -> None:
    if re.fullmatch(ACCOUNT_ID, account_id) is None:
        raise fail("account_id", "must be the 10-digit CCB account id")
    try:
        await ctx.ccb.get_balance(account_id)  # read and dropped: the port has no existence probe
    except NotFound:
        raise fail("account_id", f"no account {account_id}", 404) from None


async def electric_zone(ctx: PluginContext, account_id: str) -> str:
    """The R-1A temperature zone of the account's electric premise (ccb-domain §2.2: by ZIP)."""
    summary = await ctx.ccb.get_account_summary(account_id)
    electric = [sa for sa in summary.service_agreements if sa.sa_type == "E-RES"]
    electric.sort(key=lambda sa: sa.start_date, reverse=True)  # the latest electric service is the one billed
    for sa in electric:
        if sa.premise_id is not None:
            return (await ctx.ccb.get_premise(sa.premise_id)).electric_zone
        if sa.zone:
            return sa.zone
    raise fail("account_id", f"account {account_id} has no electric service", 409)


def _pick(results: list[NemResult], period: str | None) -> NemResult:
    """``period`` is a period's start date (YYYY-MM-DD) or its bill month (YYYY-MM, the end-read month)."""
    if not results:
        raise fail("period", "no net-metering periods are recorded for this account", 404)
    if period is None:
        return results[-1]
    try:
        if len(period) == 7:
            month = dt.date.fromisoformat(period + "-01")
            found = [r for r in results if (r.end.year, r.end.month) == (month.year, month.month)]
        else:
            day = dt.date.fromisoformat(period)
            found = [r for r in results if r.start == day]
    except ValueError:
        raise fail("period", "give a start date YYYY-MM-DD or a bill month YYYY-MM") from None
    if not found:
        raise fail("period", f"no net-metering period {period}", 404)
    return found[-1]


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
        data: VoicemailIn = decode(await request.body(), VoicemailIn)
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
        data: ReturnIn = decode(await request.body(), ReturnIn)
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

    async def nem_view(account_id: str) -> NemAccountView:
        async with ctx.db.session() as session:
            acct = await session.get(NemAccount, account_id)
            if acct is None:
                raise fail("account_id", f"account {account_id} is not on net metering here", 404)
            periods = await periods_of(session, account_id)
        return NemAccountView(
            account_id=acct.account_id,
            interconnected_on=acct.interconnected_on,
            carried_credit_kwh=acct.carried_credit_kwh,
            carried_credit_cents=acct.carried_credit_cents,
            periods=[
                {
                    "start": p.start_date.isoformat(),
                    "end": p.end_date.isoformat(),
                    "delivered_kwh": p.delivered_kwh,
                    "received_kwh": p.received_kwh,
                    "source": p.source,
                }
                for p in periods
            ],
        )

    @put("/accounts/{account_id:str}/nem", opt=NEM_EDITORS, status_code=200, summary="Put an account on NEM")
    async def nem_account_route(request: Request[Any, Any, Any], account_id: FromPath[str]) -> NemAccountView:
        data: NemAccountIn = decode(await request.body(), NemAccountIn)
        await _account_exists(ctx, account_id)
        staff = current_staff(request)
        now = ctx.clock.now()
        async with ctx.db.session() as session:
            acct = await session.get(NemAccount, account_id, with_for_update=True)
            if acct is None:
                acct = NemAccount(account_id=account_id)
                session.add(acct)
            acct.interconnected_on = data.interconnected_on
            acct.carried_credit_kwh = data.carried_credit_kwh
            acct.carried_credit_cents = data.carried_credit_cents
            acct.updated_by, acct.updated_at = staff.actor, now
            await ctx.audit.append(
                session,
                actor=staff.actor,
                action="solar.nem.account",
                target=f"solar_nem_account:{account_id}",
                detail=msgspec.to_builtins(data),
            )
        return await nem_view(account_id)

    @post("/accounts/{account_id:str}/nem/periods", opt=NEM_EDITORS, summary="Record one NEM billing period")
    async def nem_period_route(request: Request[Any, Any, Any], account_id: FromPath[str]) -> Response[Any]:
        data: NemPeriodIn = decode(await request.body(), NemPeriodIn)
        await _account_exists(ctx, account_id)
        if data.end <= data.start:
            raise fail("end", "must be after start")
        if (data.end - data.start).days > 70:
            raise fail("end", "a billing period is at most about two months")
        staff = current_staff(request)
        now = ctx.clock.now()
        async with ctx.db.session() as session:
            acct = await session.get(NemAccount, account_id)
            if acct is None:
                raise fail("account_id", f"account {account_id} is not on net metering here", 404)
            if data.start < acct.interconnected_on:
                raise fail("start", "is before the interconnection date")
            for p in await periods_of(session, account_id):
                if p.start_date < data.end and data.start < p.end_date:
                    raise fail("start", f"overlaps the period starting {p.start_date.isoformat()}", 409)
            session.add(
                NemPeriod(
                    account_id=account_id,
                    start_date=data.start,
                    end_date=data.end,
                    delivered_kwh=data.delivered_kwh,
                    received_kwh=data.received_kwh,
                    source=data.source,
                    entered_by=staff.actor,
                    entered_at=now,
                )
            )
            await ctx.audit.append(
                session,
                actor=staff.actor,
                action="solar.nem.period",
                target=f"solar_nem_account:{account_id}",
                detail={"start": data.start.isoformat(), "end": data.end.isoformat()},
            )
        return Response(await nem_view(account_id), status_code=201)

    @get("/accounts/{account_id:str}/nem", opt=NEM_EDITORS, summary="An account's NEM data as entered")
    async def nem_get_route(account_id: FromPath[str]) -> NemAccountView:
        await _account_exists(ctx, account_id)
        return await nem_view(account_id)

    @get(
        "/accounts/{account_id:str}/bill-explanation",
        opt=EXPLAINERS,
        summary="A net-metered bill in plain words (needs a verified contact or a reason)",
    )
    async def explanation_route(
        request: Request[Any, Any, Any],
        account_id: FromPath[str],
        period: Annotated[str | None, QueryParameter(max_length=10)] = None,
    ) -> BillExplanationView:
        await _account_exists(ctx, account_id)
        await require_verified(request, account_id, purpose="explain a solar bill", topic="solar")
        cfg = config()
        async with ctx.db.session() as session:
            acct = await session.get(NemAccount, account_id)
            rows = await periods_of(session, account_id) if acct is not None else []
        if acct is None:
            raise fail("account_id", f"account {account_id} is not on net metering here", 404)
        zone = await electric_zone(ctx, account_id)
        try:
            results = settle_chain(
                load_default_config(),
                zone,
                [NemPeriodInput(r.start_date, r.end_date, r.delivered_kwh, r.received_kwh) for r in rows],
                opening_credit_kwh=acct.carried_credit_kwh,
                opening_credit_cents=acct.carried_credit_cents,
                mode=cfg.credit_mode,
                export_rate=cfg.export_rate,
            )
        except RateError as exc:
            raise fail("period", f"cannot price this period: {exc}") from None
        r = _pick(results, period)
        calc = r.calculation
        return BillExplanationView(
            account_id=account_id,
            zone=zone,
            start=r.start,
            end=r.end,
            days=calc.days,
            delivered_kwh=r.delivered_kwh,
            received_kwh=r.received_kwh,
            net_kwh=r.net_kwh,
            credit_in_kwh=r.credit_in_kwh,
            credit_in_cents=r.credit_in_cents,
            billed_kwh=r.billed_kwh,
            tier_kwh=[str(q) for q in calc.tier_quantities],
            credit_out_kwh=r.credit_out_kwh,
            credit_out_cents=r.credit_out_cents,
            energy_cents=r.energy_cents,
            charges_cents=calc.charges_cents,
            total_cents=r.total_cents,
            total=format_cents(r.total_cents),
            lines=explain_nem(r),
        )

    return [
        programs_route,
        answers_route,
        leave_route,
        list_route,
        return_route,
        nem_account_route,
        nem_period_route,
        nem_get_route,
        explanation_route,
    ]


# -- pages -----------------------------------------------------------------------------------------------
def pages(ctx: PluginContext) -> list[PageSpec]:
    @get("/", opt=STAFF)
    async def team_page(request: Request[Any, Any, Any]) -> Response[Any]:
        cfg: SolarConfig = ctx.config
        now = ctx.clock.now()
        async with ctx.db.session() as session:
            rows = await open_voicemails(session)
        return render(
            request,
            "solar/team.html",
            title="Solar team",
            programs=cfg.programs,
            voicemails=[vm_view(v, now, cfg) for v in rows],
        )

    return [PageSpec(handler=team_page, nav_title="Solar")]
