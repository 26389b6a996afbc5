"""HTTP side of the agency lookup: the directory and its transfer targets, and the disclosure desk.

JSON routes live under /api/agency_lookup, pages under /ui/agency_lookup. The directory is open to any staff
of a section where the plugin is enabled; disclosures only to CROs, supervisors and admins (issue 7 §5).

A disclosure moves request → decision → (second person's approval) → release. Each step runs in one
transaction together with its event, its audit record and its disclosure-log entry (``events.record_step``),
so nothing is released without a logged decision. Bodies are decoded here: malformed JSON answers 400, a
well-formed body with a bad field answers 422 naming the field, an unknown account answers 404.
"""

from __future__ import annotations

import datetime as dt
import hmac
from typing import Annotated, Any, Literal

import msgspec
from litestar import Request, Response, get, post
from litestar.exceptions import PermissionDeniedException
from litestar.middleware.csrf import CSRF_SECRET_LENGTH, generate_csrf_hash
from litestar.params import FromPath, FromQuery
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.ccb.errors import CcbError, NotFound
from core.clock import LOCAL_TZ, local
from core.contract import PageSpec, PluginContext
from core.contract.inputs import InputError, convert, decode_json
from core.redact import redact
from core.security import current_staff
from core.staff import Staff
from core.web.pages import render
from plugins.agency_lookup import events
from plugins.agency_lookup.models import Disclosure, DisclosureLogEntry, monthly_counts
from plugins.agency_lookup.service import (
    AgencyConfig,
    Basis,
    Element,
    Outcome,
    RequesterKind,
    RequestFacts,
    decide,
    is_bulk,
    limit_fields,
    month_bounds,
    retention_until,
    search,
    transfer_targets,
)

# Disclosures are for the customer-relations office and those above it (issue 7 §5); the directory is for
# any staff of an enabled section.
CRO = {"roles": ["cro", "supervisor", "admin"]}
STAFF = {"access": "staff"}
FORM = {"exclude_from_csrf": True}
MAX_ACCOUNTS = 50

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
LongText = Annotated[str, msgspec.Meta(min_length=1, max_length=2000, pattern=r"\S")]
AccountId = Annotated[str, msgspec.Meta(pattern=r"^\d{10}$")]


class DisclosureIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A request from an outside agency; ``legal_basis`` may be left out, and the request is then denied."""

    requester_kind: RequesterKind
    requester_name: Annotated[str, msgspec.Meta(min_length=1, max_length=120, pattern=r"\S")]
    requester_agency: Annotated[str, msgspec.Meta(min_length=1, max_length=120, pattern=r"\S")]
    requester_contact: Annotated[str, msgspec.Meta(min_length=1, max_length=160, pattern=r"\S")]
    identity_verified_by: Text
    elements: Annotated[list[Element], msgspec.Meta(min_length=1, max_length=len(Element))]
    account_ids: Annotated[list[AccountId], msgspec.Meta(max_length=MAX_ACCOUNTS)] = []
    criteria: LongText | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    legal_basis: Basis | None = None
    requester_badge: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    channel: Literal["phone", "counter", "mail", "email", "fax", "portal"] = "phone"
    instrument_ref: Text | None = None
    case_or_incident_no: Annotated[str, msgspec.Meta(min_length=1, max_length=60)] | None = None
    stated_purpose: LongText | None = None
    consent_ref: Text | None = None
    public_interest_determination: LongText | None = None
    delivery_method: Literal["read_aloud", "secure_email", "mail", "in_person"] = "read_aloud"
    encryption: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    customer_notified: Literal["yes", "no", "deferred"] = "no"
    linked_pra_request_no: Annotated[str, msgspec.Meta(max_length=60)] | None = None


class DisclosureView(msgspec.Struct, kw_only=True):
    id: int
    status: str
    decision: str
    denial_reason: str | None
    legal_basis: str | None
    requester_kind: str
    requester_name: str
    requester_agency: str
    identity_verified_by: str
    elements_requested: list[str]
    elements_allowed: list[str]
    elements_disclosed: list[str]
    accounts_affected: list[str]
    record_count: int
    bulk_flag: bool
    needs_approval: bool
    reviewed_by: str
    approved_by: str | None
    received_at: dt.datetime
    disclosed_at: dt.datetime | None
    retention_until: dt.date


class ReleaseView(msgspec.Struct, kw_only=True):
    """What the CRO reads out: per account, only the elements the decision allows."""

    disclosure: DisclosureView
    records: list[dict[str, Any]]


class LogEntryView(msgspec.Struct, kw_only=True):
    id: int
    step: str
    at: dt.datetime
    actor: str
    entry: dict[str, Any]
    prev_entry_hash: str
    entry_hash: str
    audit_seq: int


class DirectoryHit(msgspec.Struct, kw_only=True):
    id: str
    name: str
    organization: str
    kind: str
    number: str
    dial: str
    notes: str
    score: int
    matched: list[str]


class TransferTarget(msgspec.Struct, kw_only=True):
    """One entry for telephony's single-step or warm transfer: ``label`` → ``dial`` (digits only)."""

    label: str
    dial: str
    number: str
    organization: str
    entry_id: str


class ReportRow(msgspec.Struct, kw_only=True):
    legal_basis: str
    agency: str
    decision: str
    count: int


class MonthlyReport(msgspec.Struct, kw_only=True):
    month: str
    total: int
    rows: list[ReportRow]


def view(d: Disclosure) -> DisclosureView:
    return DisclosureView(
        id=d.id,
        status=d.status,
        decision=d.decision,
        denial_reason=d.denial_reason,
        legal_basis=d.legal_basis,
        requester_kind=d.requester_kind,
        requester_name=d.requester_name,
        requester_agency=d.requester_agency,
        identity_verified_by=d.identity_verified_by,
        elements_requested=list(d.elements_requested),
        elements_allowed=list(d.elements_allowed),
        elements_disclosed=list(d.elements_disclosed),
        accounts_affected=list(d.accounts_affected),
        record_count=d.record_count,
        bulk_flag=d.bulk_flag,
        needs_approval=d.needs_approval,
        reviewed_by=d.reviewed_by,
        approved_by=d.approved_by,
        received_at=d.received_at,
        disclosed_at=d.disclosed_at,
        retention_until=d.retention_until,
    )


# -- errors and decoding ---------------------------------------------------------------------------------
def _clean(text: str | None) -> str | None:
    """Free text is redacted before storage (ARCHITECTURE §6); blank means none."""
    if text is None or not text.strip():
        return None
    return redact(" ".join(text.split()))


# -- the disclosure workflow (shared by the API and the desk's forms) -------------------------------------
async def _check_accounts(ctx: PluginContext, account_ids: list[str]) -> None:
    for i, account_id in enumerate(account_ids):
        try:
            await ctx.ccb.get_account_summary(account_id)
        except NotFound:
            raise InputError(f"account_ids[{i}]", f"no account {account_id}", 404) from None


async def request_disclosure(ctx: PluginContext, staff: Staff, data: DisclosureIn) -> Disclosure:
    """Record a request and decide it at once (rules.md §5.4); a request without a basis is denied."""
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
        await events.record_step(ctx, session, d, "decided", staff.actor)
    return d


async def _locked(session: AsyncSession, disclosure_id: int) -> Disclosure:
    found = await session.get(Disclosure, disclosure_id, with_for_update=True)
    if found is None:
        raise InputError("disclosure_id", f"no disclosure #{disclosure_id}", 404)
    return found


async def approve(ctx: PluginContext, staff: Staff, disclosure_id: int) -> Disclosure:
    """The second person of the two-person rule (rules.md §5.5): never the one who recorded the request."""
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        d = await _locked(session, disclosure_id)
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
        await events.record_step(ctx, session, d, "approved", staff.actor)
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
        d = await _locked(session, disclosure_id)
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
        d = await _locked(session, disclosure_id)
        _releasable(d)  # again, under the lock: a concurrent release must not release twice
        d.elements_disclosed = sorted(e.value for e in allowed)
        d.record_count = len(records)
        d.disclosed_at, d.released_by, d.status = now, staff.actor, "released"
        ctx.events.emit(session, events.RELEASED, events.released_payload(d), actor=staff.actor)
        await events.record_step(ctx, session, d, "released", staff.actor)
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


async def _report(ctx: PluginContext, month: str) -> MonthlyReport:
    try:
        start, end = month_bounds(month, LOCAL_TZ)
    except ValueError as exc:
        raise InputError("month", str(exc)) from None
    async with ctx.db.session() as session:
        rows = await monthly_counts(session, start, end)
    return MonthlyReport(
        month=month,
        total=sum(n for *_, n in rows),
        rows=[ReportRow(legal_basis=b, agency=a, decision=d, count=n) for b, a, d, n in rows],
    )


def _query_text(q: str | None) -> str:
    if q is not None and len(q) > 200:
        raise InputError("q", "is longer than 200 characters").http()
    return q or ""


# -- JSON routes -----------------------------------------------------------------------------------------
def routes(ctx: PluginContext) -> list[Any]:
    config: AgencyConfig = ctx.config

    @get("/directory", opt=STAFF, summary="Search the transfer directory by need")
    async def directory(q: FromQuery[str | None] = None) -> list[DirectoryHit]:
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
            for m in search(
                config.directory, _query_text(q), config.max_results if q else len(config.directory)
            )
        ]

    @get("/transfer-targets", opt=STAFF, summary="Directory entries as telephony transfer targets")
    async def targets() -> list[TransferTarget]:
        """Label → digits for telephony's single-step and warm transfers (its ``external_directory``)."""
        labels = transfer_targets(config.directory)
        by_name = {e.name: e for e in config.directory}
        return [
            TransferTarget(
                label=label,
                dial=dial,
                number=by_name[label].number,
                organization=by_name[label].organization,
                entry_id=by_name[label].id,
            )
            for label, dial in labels.items()
        ]

    @post("/disclosures", opt=CRO, summary="Record and decide a request from an outside agency")
    async def create(request: Request[Any, Any, Any]) -> Response[DisclosureView]:
        data: DisclosureIn = decode_json(await request.body(), DisclosureIn)
        try:
            d = await request_disclosure(ctx, current_staff(request), data)
        except InputError as exc:
            raise exc.http() from None
        return Response(view(d), status_code=201)

    @get("/disclosures", opt=CRO, summary="Disclosure requests, newest first")
    async def list_disclosures(status: FromQuery[str | None] = None) -> list[DisclosureView]:
        async with ctx.db.session() as session:
            query = select(Disclosure).order_by(Disclosure.id.desc()).limit(500)
            if status:
                query = query.where(Disclosure.status == status)
            return [view(d) for d in await session.scalars(query)]

    @get("/disclosures/{disclosure_id:int}", opt=CRO, summary="One disclosure request")
    async def get_disclosure(disclosure_id: FromPath[int]) -> DisclosureView:
        async with ctx.db.session() as session:
            found = await session.get(Disclosure, disclosure_id)
        if found is None:
            raise InputError("disclosure_id", f"no disclosure #{disclosure_id}", 404).http()
        return view(found)

    @post("/disclosures/{disclosure_id:int}/approve", opt=CRO, status_code=200, summary="Second approval")
    async def approve_route(request: Request[Any, Any, Any], disclosure_id: FromPath[int]) -> DisclosureView:
        try:
            return view(await approve(ctx, current_staff(request), disclosure_id))
        except InputError as exc:
            raise exc.http() from None

    @post("/disclosures/{disclosure_id:int}/release", opt=CRO, status_code=200, summary="Release the data")
    async def release_route(request: Request[Any, Any, Any], disclosure_id: FromPath[int]) -> ReleaseView:
        try:
            d, records = await release(ctx, current_staff(request), disclosure_id)
        except InputError as exc:
            raise exc.http() from None
        return ReleaseView(disclosure=view(d), records=records)

    @get("/disclosures/{disclosure_id:int}/log", opt=CRO, summary="The disclosure's log entries")
    async def log(disclosure_id: FromPath[int]) -> list[LogEntryView]:
        async with ctx.db.session() as session:
            rows = await session.scalars(
                select(DisclosureLogEntry)
                .where(DisclosureLogEntry.disclosure_id == disclosure_id)
                .order_by(DisclosureLogEntry.id)
            )
            return [
                LogEntryView(
                    id=r.id,
                    step=r.step,
                    at=r.at,
                    actor=r.actor,
                    entry=r.entry,
                    prev_entry_hash=r.prev_entry_hash,
                    entry_hash=r.entry_hash,
                    audit_seq=r.audit_seq,
                )
                for r in rows
            ]

    @get("/reports/monthly", opt=CRO, summary="Disclosure counts by basis and agency for a month")
    async def monthly(month: FromQuery[str | None] = None) -> MonthlyReport:
        try:
            return await _report(ctx, month or local(ctx.clock.now()).strftime("%Y-%m"))
        except InputError as exc:
            raise exc.http() from None

    return [
        directory,
        targets,
        create,
        list_disclosures,
        get_disclosure,
        approve_route,
        release_route,
        log,
        monthly,
    ]


# -- pages -----------------------------------------------------------------------------------------------
def _signed_secret(token: str, key: str) -> str | None:
    """The random part of a CSRF token, when its signature is valid under ``key``."""
    if len(token) <= CSRF_SECRET_LENGTH:
        return None
    secret, signature = token[:CSRF_SECRET_LENGTH], token[CSRF_SECRET_LENGTH:]
    return secret if hmac.compare_digest(signature, generate_csrf_hash(secret, key)) else None


async def verified_form(request: Request[Any, Any, Any]) -> Any:
    """The posted form once the form's token and the CSRF cookie carry the same signed secret.

    The forms opt out of the framework's CSRF middleware so that the access guard runs first (an anonymous
    post is sent to sign in instead of being refused as a bad token); the check is made here instead.
    """
    config = request.app.csrf_config
    if config is None:  # pragma: no cover - the hub always configures CSRF
        raise PermissionDeniedException("CSRF protection is not configured")
    form = await request.form()
    sent = form.get("_csrf_token") or request.headers.get(config.header_name)
    cookie = request.cookies.get(config.cookie_name)
    mine = _signed_secret(sent, config.secret) if isinstance(sent, str) else None
    theirs = _signed_secret(cookie, config.secret) if cookie else None
    if mine is None or theirs is None or not hmac.compare_digest(mine, theirs):
        raise PermissionDeniedException("CSRF token verification failed")
    return form


def _form_text(form: Any, name: str) -> str | None:
    value = form.get(name)
    return value.strip() or None if isinstance(value, str) else None


def pages(ctx: PluginContext) -> list[PageSpec]:
    config: AgencyConfig = ctx.config

    @get("/", opt=STAFF)
    async def directory_page(
        request: Request[Any, Any, Any], q: FromQuery[str | None] = None
    ) -> Response[Any]:
        query = (q or "")[:200]
        hits = search(config.directory, query, config.max_results if query.strip() else len(config.directory))
        return render(request, "agency_lookup/directory.html", q=query, hits=hits)

    async def desk(
        request: Request[Any, Any, Any],
        *,
        status_code: int = 200,
        error: str | None = None,
        released: tuple[Disclosure, list[dict[str, Any]]] | None = None,
    ) -> Response[Any]:
        async with ctx.db.session() as session:
            recent = list(await session.scalars(select(Disclosure).order_by(Disclosure.id.desc()).limit(50)))
        return render(
            request,
            "agency_lookup/desk.html",
            status_code=status_code,
            error=error,
            disclosures=recent,
            released=released,
            me=current_staff(request).actor,
            requester_kinds=[k.value for k in RequesterKind],
            bases=[b.value for b in Basis],
            elements=[e.value for e in Element],
        )

    @get("/disclosures", opt=CRO)
    async def desk_page(request: Request[Any, Any, Any]) -> Response[Any]:
        return await desk(request)

    @post("/disclosures", opt={**CRO, **FORM})
    async def request_form(request: Request[Any, Any, Any]) -> Response[Any]:
        form = await verified_form(request)
        accounts = (_form_text(form, "account_ids") or "").replace(",", " ").split()
        raw = {
            "requester_kind": _form_text(form, "requester_kind"),
            "requester_name": _form_text(form, "requester_name"),
            "requester_agency": _form_text(form, "requester_agency"),
            "requester_contact": _form_text(form, "requester_contact"),
            "requester_badge": _form_text(form, "requester_badge"),
            "identity_verified_by": _form_text(form, "identity_verified_by"),
            "legal_basis": _form_text(form, "legal_basis"),
            "instrument_ref": _form_text(form, "instrument_ref"),
            "case_or_incident_no": _form_text(form, "case_or_incident_no"),
            "stated_purpose": _form_text(form, "stated_purpose"),
            "consent_ref": _form_text(form, "consent_ref"),
            "criteria": _form_text(form, "criteria"),
            "account_ids": accounts,
            "elements": [e for e in form.getall("elements") if isinstance(e, str)]
            if hasattr(form, "getall")
            else [],
        }
        try:
            data = convert({k: v for k, v in raw.items() if v is not None}, DisclosureIn)
            await request_disclosure(ctx, current_staff(request), data)
        except InputError as exc:
            return await desk(request, status_code=exc.status_code, error=str(exc))
        return Response(content=b"", status_code=303, headers={"Location": "/ui/agency_lookup/disclosures"})

    @post("/disclosures/{disclosure_id:int}/approve", opt={**CRO, **FORM})
    async def approve_form(request: Request[Any, Any, Any], disclosure_id: FromPath[int]) -> Response[Any]:
        await verified_form(request)
        try:
            await approve(ctx, current_staff(request), disclosure_id)
        except InputError as exc:
            return await desk(request, status_code=exc.status_code, error=str(exc))
        return Response(content=b"", status_code=303, headers={"Location": "/ui/agency_lookup/disclosures"})

    @post("/disclosures/{disclosure_id:int}/release", opt={**CRO, **FORM})
    async def release_form(request: Request[Any, Any, Any], disclosure_id: FromPath[int]) -> Response[Any]:
        await verified_form(request)
        try:
            done = await release(ctx, current_staff(request), disclosure_id)
        except InputError as exc:
            return await desk(request, status_code=exc.status_code, error=str(exc))
        return await desk(request, released=done)

    return [
        PageSpec(handler=directory_page, nav_title="Agency directory"),
        PageSpec(handler=desk_page, nav_title="Disclosure desk"),
        PageSpec(handler=request_form),
        PageSpec(handler=approve_form),
        PageSpec(handler=release_form),
    ]
