"""Use cases of the solar plugin: program answers, the voicemail callback queue, a net-metered bill explained.

Each write is one transaction with its event and audit record. A bill is explained from the CCB's own
billing of the account's net-metered service agreement (``ctx.ccb.get_net_metering``), and only through
the verified-contact guard. Bad input is an :class:`InputError` naming the field: an unknown account,
period or voicemail 404, a voicemail returned twice or an account that is not net-metered 409, a CCB that
cannot be reached 503.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from sqlalchemy.exc import IntegrityError

from core.contract import PluginContext
from core.contract.ccb import CcbError, NotFound, format_cents
from core.contract.contact import ContactGuard
from core.contract.inputs import InputError
from core.contract.redact import redact
from core.contract.staff import Staff
from plugins.solar import events, queries
from plugins.solar.models import Voicemail
from plugins.solar.rules import (
    ACCOUNT_ID,
    PERIOD,
    PERIOD_HINT,
    PeriodNotBilled,
    Program,
    SolarConfig,
    callback_due,
    explain_net_metering,
    match_answers,
    pick_period,
)
from plugins.solar.schemas import (
    AnswerView,
    BillExplanationView,
    ReturnIn,
    VoicemailIn,
    VoicemailView,
    vm_view,
)

# Two years of bimonthly bills: enough to answer "why was my bill last summer so low?".
NEM_HISTORY = 12


def _clean(text: str | None) -> str | None:
    """Free text is redacted before storage; blank means none."""
    if text is None or not text.strip():
        return None
    return redact(text.strip())


class SolarService:
    """The plugin's use cases over its context (built per request by the controllers)."""

    def __init__(self, ctx: PluginContext) -> None:
        self.ctx = ctx
        self.config: SolarConfig = ctx.config

    # -- programs and answers ------------------------------------------------------------------------------
    def programs(self) -> list[Program]:
        return list(self.config.programs)

    def answers(self, question: str) -> list[AnswerView]:
        return [
            AnswerView(id=a.id, question=a.question, answer=a.answer, program=a.program, score=s)
            for a, s in match_answers(question, self.config.answers, self.config.max_answers)
        ]

    # -- the callback queue --------------------------------------------------------------------------------
    async def voicemails(self, status: Literal["open", "returned", "all"] = "open") -> list[VoicemailView]:
        now = self.ctx.clock.now()
        async with self.ctx.db.session() as session:
            rows = await queries.voicemails(session, status)
        return [vm_view(v, now) for v in rows]

    async def leave(self, staff: Staff, data: VoicemailIn) -> tuple[VoicemailView, bool]:
        """Queue a message from the phone system; the view and whether it is new (a retried call is not)."""
        now = self.ctx.clock.now()
        left_at = data.left_at or now
        if left_at.tzinfo is None:
            raise InputError("left_at", "give a time zone offset")
        if left_at > now + dt.timedelta(minutes=5):
            raise InputError("left_at", "is in the future")
        if data.call_id is not None:
            async with self.ctx.db.session() as session:
                earlier = await queries.by_call_id(session, data.call_id)
            if earlier is not None:
                return vm_view(earlier, now), False
        vm = Voicemail(
            ani=data.ani,
            callback_number=data.callback_number or data.ani,
            account_id=data.account_id,
            duration_s=data.duration_s,
            call_id=data.call_id,
            left_at=left_at,
            due_at=callback_due(left_at, self.config.callback_business_days, self.config.holidays),
            left_by=staff.actor,
        )
        try:
            async with self.ctx.db.session() as session:
                session.add(vm)
                await session.flush()
                self.ctx.events.emit(
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
                await self.ctx.audit.append(
                    session,
                    actor=staff.actor,
                    action="solar.voicemail.left",
                    target=f"solar_voicemail:{vm.id}",
                )
        except IntegrityError:  # the same call posted twice at once: answer the stored one
            if data.call_id is None:
                raise
            async with self.ctx.db.session() as session:
                earlier = await queries.by_call_id(session, data.call_id)
            if earlier is None:
                raise
            return vm_view(earlier, now), False
        return vm_view(vm, now), True

    async def give_back(self, staff: Staff, voicemail_id: int, data: ReturnIn) -> VoicemailView:
        """Record a callback and its outcome; a message is returned once."""
        now = self.ctx.clock.now()
        async with self.ctx.db.session() as session:
            vm = await queries.for_update(session, voicemail_id)
            if vm is None:
                raise InputError("voicemail_id", f"no voicemail #{voicemail_id}", 404)
            if vm.returned_at is not None:
                raise InputError("status", f"voicemail #{vm.id} was already returned ({vm.outcome})", 409)
            late = now > vm.due_at  # the deadline fixed when the message was left
            vm.returned_at, vm.returned_by = now, staff.actor
            vm.outcome, vm.notes = data.outcome.value, _clean(data.notes)
            self.ctx.events.emit(
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
            await self.ctx.audit.append(
                session,
                actor=staff.actor,
                action="solar.voicemail.returned",
                target=f"solar_voicemail:{vm.id}",
                detail={"outcome": vm.outcome, "late": late},
            )
        return vm_view(vm, now)

    # -- a net-metered bill explained ----------------------------------------------------------------------
    async def explain(
        self, guard: ContactGuard, account_id: str, period: str | None, *, contact_id: str | None = None
    ) -> BillExplanationView:
        """A net-metered bill of ``account_id`` explained, for a caller verified for that account.

        The account is looked up first (so an unknown one is a 404, as the guard expects), then the guard
        runs (a verified contact, or a reason from a lead, supervisor or the CRO), and only then is the
        answer used: an account without a net-metered SA is a 409, a period not billed a 404.
        """
        if re.fullmatch(ACCOUNT_ID, account_id) is None:
            raise InputError("account_id", "must be the 10-digit CCB account id")
        if period is not None and re.fullmatch(PERIOD, period) is None:
            raise InputError("period", PERIOD_HINT)
        try:
            view = await self.ctx.ccb.get_net_metering(account_id, NEM_HISTORY)
        except NotFound:
            raise InputError("account_id", f"no account {account_id}", 404) from None
        except CcbError as exc:
            raise InputError("ccb", f"the billing system could not answer: {exc}", 503) from None
        await guard.account(account_id, purpose="explain a solar bill", topic="solar", contact_id=contact_id)
        if view is None:
            raise InputError(
                "account_id",
                f"account {account_id} is not on net energy metering: it has no net-metered electric "
                "service agreement, so its bill has no kWh received to explain",
                409,
            )
        try:
            chosen = pick_period(view.periods, period)
        except PeriodNotBilled as exc:
            raise InputError("period", str(exc), 404) from None
        except ValueError as exc:
            raise InputError("period", str(exc)) from None
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
            other_periods=[
                x.period_start for x in view.periods if x.bill_segment_id != chosen.bill_segment_id
            ],
            lines=explain_net_metering(view, chosen),
        )
