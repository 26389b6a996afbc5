"""Use cases of the agency lookup: the disclosure workflow (request → decision → approval → release).

Each step runs in one transaction together with its event, its audit record and its disclosure-log entry
(:func:`record_step`), so nothing is released without a logged decision. Errors are :class:`InputError`
naming the field (404 for an unknown account or disclosure, 409 for a step the status forbids).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.contract import PluginContext
from core.contract.ccb import CcbError, NotFound
from core.contract.clock import LOCAL_TZ, local
from core.contract.inputs import InputError
from core.contract.redact import redact
from core.contract.staff import Staff
from plugins.agency_lookup import events, queries
from plugins.agency_lookup.models import Disclosure, DisclosureLogEntry
from plugins.agency_lookup.rules import (
    GENESIS,
    AgencyConfig,
    Element,
    Outcome,
    RequestFacts,
    chain_entry,
    decide,
    entry_digest,
    is_bulk,
    limit_fields,
    month_bounds,
    retention_until,
)
from plugins.agency_lookup.schemas import DisclosureIn, MonthlyReport, ReportRow


def _clean(text: str | None) -> str | None:
    """Free text is redacted before storage (ARCHITECTURE §6); blank means none."""
    if text is None or not text.strip():
        return None
    return redact(" ".join(text.split()))


async def record_step(
    ctx: PluginContext, session: AsyncSession, d: Disclosure, step: str, actor: str
) -> DisclosureLogEntry:
    """Append the step to the audit log, then to the disclosure log, chained to both.

    The audit append comes first: it takes the hub-wide audit lock, which also serializes the disclosure
    log's chain, so two steps committing at once cannot both link to the same previous entry.
    """
    await session.flush()
    entry = d.log_fields()
    digest = entry_digest(entry)
    record = await ctx.audit.append(
        session,
        actor=actor,
        action=f"agency.disclosure.{step}",
        target=f"agency_disclosure:{d.id}",
        detail={
            "legal_basis": d.legal_basis,
            "requester_agency": d.requester_agency,
            "decision": d.decision,
            "elements": list(d.elements_disclosed if step == "released" else d.elements_allowed),
            "accounts_affected": list(d.accounts_affected),
            "record_count": d.record_count,
            "entry_digest": digest,
        },
    )
    last = await queries.last_log_entry(session)
    prev = last.entry_hash if last is not None else GENESIS
    row = DisclosureLogEntry(
        disclosure_id=d.id,
        step=step,
        at=ctx.clock.now(),
        actor=actor,
        entry=entry,
        prev_entry_hash=prev,
        entry_hash=chain_entry(prev, step, digest),
        audit_seq=record.seq,
    )
    session.add(row)
    await session.flush()
    return row


async def _check_accounts(ctx: PluginContext, account_ids: list[str]) -> None:
    for i, account_id in enumerate(account_ids):
        try:
            await ctx.ccb.get_account_summary(account_id)
        except NotFound:
            raise InputError(f"account_ids[{i}]", f"no account {account_id}", 404) from None


async def request_disclosure(ctx: PluginContext, staff: Staff, data: DisclosureIn) -> Disclosure:
    """Record a request and decide it at once (docs/rules.md §5.4); a request without a basis is denied."""
    config: AgencyConfig = ctx.config
    accounts = list(dict.fromkeys(data.account_ids))
    if not accounts and not data.criteria:
        raise InputError("account_ids", "name the accounts, or give the criteria of a bulk query")
    if data.date_from and data.date_to and data.date_from > data.date_to:
        raise InputError("date_to", "is before date_from")
    await _check_accounts(ctx, accounts)
    bulk = is_bulk(len(accounts), data.criteria, config.bulk_account_limit)
    facts = RequestFacts(
        requester=data.requester_kind,
        basis=data.legal_basis,
        elements=frozenset(data.elements),
        bulk=bulk,
        case_or_incident_no=data.case_or_incident_no,
        instrument_ref=data.instrument_ref,
        stated_purpose=data.stated_purpose,
        consent_ref=data.consent_ref,
        determination=data.public_interest_determination,
    )
    decision = decide(facts)
    now = ctx.clock.now()
    if decision.outcome is Outcome.DENIED:
        status = "denied"
    else:
        status = "awaiting_approval" if decision.needs_approval else "ready"
    async with ctx.db.session() as session:
        d = Disclosure(
            received_at=now,
            channel=data.channel,
            requester_kind=data.requester_kind.value,
            requester_name=_clean(data.requester_name) or data.requester_name,
            requester_agency=_clean(data.requester_agency) or data.requester_agency,
            requester_badge=_clean(data.requester_badge),
            requester_contact=_clean(data.requester_contact) or data.requester_contact,
            identity_verified_by=_clean(data.identity_verified_by) or data.identity_verified_by,
            legal_basis=data.legal_basis.value if data.legal_basis else None,
            instrument_ref=_clean(data.instrument_ref),
            case_or_incident_no=_clean(data.case_or_incident_no),
            stated_purpose=_clean(data.stated_purpose),
            consent_ref=_clean(data.consent_ref),
            public_interest_determination=_clean(data.public_interest_determination),
            scope_requested={
                "account_count": len(accounts),
                "criteria": _clean(data.criteria),
                "date_from": data.date_from.isoformat() if data.date_from else None,
                "date_to": data.date_to.isoformat() if data.date_to else None,
                "elements": sorted(e.value for e in data.elements),
            },
            elements_requested=sorted(e.value for e in data.elements),
            elements_allowed=sorted(e.value for e in decision.allowed),
            elements_disclosed=[],
            accounts_affected=accounts,
            record_count=0,
            bulk_flag=bulk,
            decision=decision.outcome.value,
            denial_reason=decision.reason,
            needs_approval=decision.needs_approval,
            status=status,
            reviewed_by=staff.actor,
            reviewed_role=staff.role.value,
            delivery_method=data.delivery_method,
            encryption=_clean(data.encryption),
            customer_notified=data.customer_notified,
            retention_until=retention_until(now, config.retention_years),
            linked_pra_request_no=_clean(data.linked_pra_request_no),
        )
        session.add(d)
        await session.flush()
        ctx.events.emit(session, events.REQUESTED, events.requested_payload(d), actor=staff.actor)
        ctx.events.emit(
            session, events.DECIDED, events.decided_payload(d, "decided", staff.actor, now), actor=staff.actor
        )
        await record_step(ctx, session, d, "decided", staff.actor)
    return d


async def approve(ctx: PluginContext, staff: Staff, disclosure_id: int) -> Disclosure:
    """The second person of the two-person rule (docs/rules.md §5.5): never the one who recorded the
    request."""
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        d = await queries.get(session, disclosure_id, lock=True)
        if d.status != "awaiting_approval":
            raise InputError("status", f"disclosure #{d.id} is {d.status}; nothing to approve", 409)
        if d.reviewed_by == staff.actor:
            raise InputError("approved_by", "the person who recorded the request cannot also approve it", 409)
        d.approved_by, d.approved_role, d.approved_at = staff.actor, staff.role.value, now
        d.status = "ready"
        ctx.events.emit(
            session,
            events.DECIDED,
            events.decided_payload(d, "approved", staff.actor, now),
            actor=staff.actor,
        )
        await record_step(ctx, session, d, "approved", staff.actor)
    return d


def _address(a: Any) -> str:
    return ", ".join(part for part in (a.line1, a.line2, a.city, a.state, a.zip) if part)


async def gather(ctx: PluginContext, account_id: str, elements: frozenset[Element]) -> dict[str, Any]:
    """Read from the CCB only the elements allowed, then cut the record to them once more."""
    summary = await ctx.ccb.get_account_summary(account_id)
    record: dict[str, Any] = {}
    if Element.NAME in elements:
        record["name"] = summary.main_customer.name
    if Element.ADDRESS in elements:
        record["address"] = _address(
            summary.premises[0].address if summary.premises else summary.mailing_address
        )
    if Element.PHONE in elements:
        record["phone"] = summary.main_customer.phone
    if Element.CREDIT in elements:
        record["credit"] = {
            "balance_cents": summary.balance_cents,
            "past_due_cents": summary.past_due_cents,
            "on_pay_plan": summary.active_pay_plan_id is not None,
        }
    if Element.BILLING_USAGE in elements:
        bills = await ctx.ccb.list_bills(account_id, limit=6)
        record["billing_usage"] = [
            {
                "bill_date": b.bill_date.isoformat(),
                "service": s.sa_type,
                "period": f"{s.period_start.isoformat()}..{s.period_end.isoformat()}",
                "quantity": s.quantity,
                "unit": s.unit,
            }
            for b in bills
            for s in b.segments
        ]
    if Element.PAYMENTS in elements:
        fts = await ctx.ccb.list_financial_transactions(account_id)
        record["payments"] = [
            {"date": f.accounting_date.isoformat(), "amount_cents": f.amount_cents}
            for f in fts
            if f.ft_type == "PS"
        ][-12:]
    if Element.AMI_INTERVAL in elements:
        reads: list[dict[str, Any]] = []
        for brief in summary.premises:
            premise = await ctx.ccb.get_premise(brief.premise_id)
            for sp in premise.service_points:
                if sp.service == "electric" and sp.meter is not None:
                    for r in (await ctx.ccb.list_reads(sp.meter.meter_id))[-24:]:
                        reads.append(
                            {"read_at": r.read_at.isoformat(), "reading": r.reading, "unit": sp.meter.unit}
                        )
        record["ami_interval"] = reads
    return {"account_id": account_id, **limit_fields(record, elements)}


async def release(
    ctx: PluginContext, staff: Staff, disclosure_id: int
) -> tuple[Disclosure, list[dict[str, Any]]]:
    """Release what the decision allows; only a decided (and, where needed, approved) request releases."""
    async with ctx.db.session() as session:
        d = await queries.get(session, disclosure_id, lock=True)
        _releasable(d)
        accounts, allowed = list(d.accounts_affected), frozenset(Element(e) for e in d.elements_allowed)
    if not accounts:
        raise InputError("account_ids", "a bulk request releases only for the accounts the order names", 409)
    try:
        records = [await gather(ctx, a, allowed) for a in accounts]
    except NotFound as exc:
        raise InputError("account_ids", str(exc), 404) from None
    except CcbError as exc:
        raise InputError("account_ids", str(exc), 409) from None
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        d = await queries.get(session, disclosure_id, lock=True)
        _releasable(d)  # again, under the lock: a concurrent release must not release twice
        d.elements_disclosed = sorted(e.value for e in allowed)
        d.record_count = len(records)
        d.disclosed_at, d.released_by, d.status = now, staff.actor, "released"
        ctx.events.emit(session, events.RELEASED, events.released_payload(d), actor=staff.actor)
        await record_step(ctx, session, d, "released", staff.actor)
    return d, records


def _releasable(d: Disclosure) -> None:
    if d.status == "denied":
        raise InputError(
            "decision", f"disclosure #{d.id} was denied: {d.denial_reason}; nothing is released", 409
        )
    if d.status == "awaiting_approval":
        raise InputError("approved_by", f"disclosure #{d.id} needs a second person's approval first", 409)
    if d.status != "ready":
        raise InputError("status", f"disclosure #{d.id} is {d.status}", 409)


async def report(ctx: PluginContext, month: str | None) -> MonthlyReport:
    """Disclosure counts by basis, agency and decision for ``month`` (YYYY-MM; default: this month)."""
    month = month or local(ctx.clock.now()).strftime("%Y-%m")
    try:
        start, end = month_bounds(month, LOCAL_TZ)
    except ValueError as exc:
        raise InputError("month", str(exc)) from None
    async with ctx.db.session() as session:
        rows = await queries.monthly_counts(session, start, end)
    return MonthlyReport(
        month=month,
        total=sum(n for *_, n in rows),
        rows=[ReportRow(legal_basis=b, agency=a, decision=d, count=n) for b, a, d, n in rows],
    )


async def list_disclosures(
    ctx: PluginContext, status: str | None = None, limit: int = 500
) -> list[Disclosure]:
    """Disclosure requests, newest first (optionally in one status)."""
    async with ctx.db.session() as session:
        return await queries.recent(session, status=status, limit=limit)


async def get_disclosure(ctx: PluginContext, disclosure_id: int) -> Disclosure:
    async with ctx.db.session() as session:
        return await queries.get(session, disclosure_id)


async def log_of(ctx: PluginContext, disclosure_id: int) -> list[DisclosureLogEntry]:
    """The disclosure's log entries, oldest first."""
    async with ctx.db.session() as session:
        return await queries.log_entries(session, disclosure_id)
