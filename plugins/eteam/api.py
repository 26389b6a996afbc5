"""HTTP side of the e-team plugin: JSON routes under /api/eteam, the queue page under /ui/eteam.

The pull reads unresolved incidents from Customer Connect and upserts them into the queue; a response
goes back to Customer Connect as a thread (a staff response for e-mail, which moves the incident to
Waiting; a private note for a phone answer) and, when action was taken on the account, a CCB customer
contact carrying the reference number is added from a contact verified for that account (issue 7 §3).

Bodies are decoded strictly: malformed JSON answers 400, a bad field 422 naming it (``extra[0].key``),
an unknown incident or account 404, a missing verified contact 403, Customer Connect not configured 409
and Customer Connect failing 502.

Customer Connect is reached through :func:`make_client`; a transport put in ``ctx.extras`` under
:data:`TRANSPORT_KEY` replaces the network (tests route it to the simulator in process).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated, Any

import httpx
import msgspec
from litestar import Request, Response, get, post
from litestar.exceptions import ClientException, HTTPException, PermissionDeniedException
from litestar.params import FromPath, QueryParameter
from sqlalchemy import select

from connectors.customer_connect import (
    CustomerConnectClient,
    CustomerConnectError,
    IncidentNotFound,
    InvalidRequest,
    Thread,
)
from connectors.customer_connect import Incident as CcIncident
from core.ccb import port as p
from core.ccb.errors import Invalid, NotFound
from core.contact import require_verified
from core.contact.service import service_for
from core.contract import PageSpec, PluginContext
from core.redact import redact
from core.security import current_staff, hub_of
from core.web.pages import render
from plugins.eteam import events
from plugins.eteam.models import Incident, by_reference, queue, responses_of
from plugins.eteam.models import Response as ResponseRow
from plugins.eteam.service import (
    ACCOUNT_ID,
    REFERENCE_RE,
    Channel,
    EteamConfig,
    Status,
    business_hours_between,
    ccb_note,
    extract_account_number,
    is_unanswered_too_long,
    phone_note,
)

# The e-team works the queue; a lead covers for it (issue 7 §3).
ETEAM = {"roles": ["eteam", "lead"]}
STAFF = {"access": "staff"}
TRANSPORT_KEY = "customer_connect_transport"
SYSTEM_ACTOR = "system:eteam"

AccountId = Annotated[str, msgspec.Meta(pattern=ACCOUNT_ID)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=8000, pattern=r"\S")]


# -- request and response bodies -------------------------------------------------------------------------
class RespondIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An answer to an incident; ``contact_id`` (or ``X-Contact-Id``) is needed when ``action_taken``."""

    channel: Channel
    text: Text
    action_taken: bool = False
    contact_id: Annotated[str, msgspec.Meta(min_length=1, max_length=20)] | None = None
    # The account acted on, when the customer did not write it (found during the investigation).
    account_id: AccountId | None = None


class ResponseView(msgspec.Struct, kw_only=True):
    id: int
    channel: str
    text: str
    action_taken: bool
    account_id: str | None
    contact_id: str | None
    cc_thread_id: int
    ccb_contact_id: str | None
    responded_by: str
    responded_at: dt.datetime


class IncidentView(msgspec.Struct, kw_only=True):
    reference_number: str
    cc_id: int
    subject: str
    customer_text: str
    account_id: str | None
    contact_name: str | None
    status: str
    received_at: dt.datetime
    answered_at: dt.datetime | None
    answered_by: str | None
    business_hours_waiting: float
    overdue: bool
    responses: list[ResponseView] | None = None


class PullView(msgspec.Struct, kw_only=True):
    new: int
    updated: int
    unresolved: int
    pulled_at: dt.datetime


def view(
    i: Incident, now: dt.datetime, config: EteamConfig, responses: list[ResponseRow] | None = None
) -> IncidentView:
    waited = business_hours_between(
        i.received_at, i.answered_at or now, config.business_start_hour, config.business_end_hour
    )
    return IncidentView(
        reference_number=i.reference_number,
        cc_id=i.cc_id,
        subject=i.subject,
        customer_text=i.customer_text,
        account_id=i.account_id,
        contact_name=i.contact_name,
        status=i.status,
        received_at=i.received_at,
        answered_at=i.answered_at,
        answered_by=i.answered_by,
        business_hours_waiting=round(waited, 2),
        overdue=is_unanswered_too_long(i.status, i.answered_at, i.received_at, now, config),
        responses=None
        if responses is None
        else [
            ResponseView(
                id=r.id,
                channel=r.channel,
                text=r.text,
                action_taken=r.action_taken,
                account_id=r.account_id,
                contact_id=r.contact_id,
                cc_thread_id=r.cc_thread_id,
                ccb_contact_id=r.ccb_contact_id,
                responded_by=r.responded_by,
                responded_at=r.responded_at,
            )
            for r in responses
        ],
    )


# -- errors and decoding ---------------------------------------------------------------------------------
class InputError(Exception):
    """Bad input naming the field at fault; 422 unless a status says otherwise (403, 404, 409, 502)."""

    def __init__(self, field: str, message: str, status_code: int = 422) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.status_code = status_code

    def http(self) -> HTTPException:
        detail = str(self)
        kind = ClientException if self.status_code < 500 else HTTPException
        return kind(
            status_code=self.status_code, detail=detail, extra=[{"key": self.field, "message": detail}]
        )


def _field_in(error: msgspec.ValidationError) -> str:
    """The field a msgspec error names: ``… - at `$.text` `` or ``missing required field `text` ``."""
    text = str(error)
    for marker in ("field `", "at `$."):
        if marker in text:
            return text.split(marker, 1)[1].split("`", 1)[0] or "body"
    return "body"


def decode(raw: bytes, type_: type[Any]) -> Any:
    if not raw.strip():
        raise ClientException(status_code=400, detail="body: a JSON object is required")
    try:
        return msgspec.json.decode(raw, type=type_)
    except msgspec.ValidationError as exc:
        raise InputError(_field_in(exc), str(exc).split(" - at ")[0]).http() from None
    except msgspec.DecodeError as exc:
        raise ClientException(status_code=400, detail=f"body: malformed JSON ({exc})") from None


def _reference(ref: str) -> str:
    if not REFERENCE_RE.match(ref):
        raise InputError("reference_number", "must be YYMMDD-NNNNNN")
    return ref


def _upstream(exc: CustomerConnectError) -> InputError:
    """A Customer Connect failure as the hub's answer: a vanished incident is 404, anything else 502."""
    if isinstance(exc, IncidentNotFound):
        return InputError("reference_number", "the incident no longer exists in Customer Connect", 404)
    if isinstance(exc, InvalidRequest):
        return InputError("text", f"Customer Connect refused it: {exc}", 502)
    return InputError("customer_connect", f"Customer Connect failed: {exc}", 502)


# -- Customer Connect ------------------------------------------------------------------------------------
def make_client(
    config: EteamConfig, transport: httpx.AsyncBaseTransport | None = None
) -> CustomerConnectClient:
    """A client for the configured site; only called when ``base_url`` is set."""
    assert config.base_url is not None
    return CustomerConnectClient(
        config.base_url, config.user, config.password, timeout=config.timeout_s, transport=transport
    )


def client_for(ctx: PluginContext) -> CustomerConnectClient:
    config: EteamConfig = ctx.config
    if config.base_url is None:
        raise InputError("base_url", "Customer Connect is not configured", 409)
    transport = ctx.extras.get(TRANSPORT_KEY)
    return make_client(config, transport if isinstance(transport, httpx.AsyncBaseTransport) else None)


def _pull_lock(ctx: PluginContext) -> asyncio.Lock:
    """One pull at a time per process, so the loop and a manual pull do not insert the same incident."""
    lock = ctx.extras.get("eteam.pull_lock")
    if not isinstance(lock, asyncio.Lock):
        lock = asyncio.Lock()
        ctx.extras["eteam.pull_lock"] = lock
    return lock


def _customer_entries(threads: list[Thread]) -> list[Thread]:
    """What the customer wrote: customer entries, oldest first (staff responses and notes are ours)."""
    mine = [t for t in threads if (t.entry_type.lookup_name or "").lower() == "customer entry"]
    return sorted(mine, key=lambda t: (t.created_time, t.display_order, t.id))


def _fill(row: Incident, incident: CcIncident, threads: list[Thread]) -> None:
    entries = _customer_entries(threads)
    body = "\n\n---\n\n".join(t.text for t in entries)
    row.subject = redact(incident.subject)[:240]
    row.customer_text = redact(body)
    # The account number is read from the subject first ("... - acct 1234567890"), then the body.
    found = extract_account_number(incident.subject, body)
    if found is not None or row.account_id is None:
        row.account_id = found
    row.contact_name = (incident.primary_contact.lookup_name if incident.primary_contact else None) or None
    row.cc_updated_at = incident.updated_time
    if row.answered_at is not None and entries and entries[-1].created_time > row.answered_at:
        # The customer wrote again after our answer: back into the queue.
        row.answered_at = None
        row.answered_by = None


async def pull(ctx: PluginContext, actor: str = SYSTEM_ACTOR) -> PullView:
    """Upsert the unresolved incidents into the queue and refresh the status of those that left it."""
    config: EteamConfig = ctx.config
    now = ctx.clock.now()
    async with _pull_lock(ctx), client_for(ctx) as cc:
        try:
            incidents = await cc.list_incidents(status_type="unresolved", limit=config.pull_limit)
            seen = {i.id for i in incidents}
            async with ctx.db.session() as session:
                known = {r.cc_id: r for r in await session.scalars(select(Incident))}
            stale = [i for i in incidents if i.id not in known or known[i.id].cc_updated_at != i.updated_time]
            threads = await asyncio.gather(*(cc.list_threads(i.id) for i in stale))
            gone_ids = [
                r.cc_id for r in known.values() if r.status == Status.UNRESOLVED and r.cc_id not in seen
            ]
            gone = await asyncio.gather(
                *(cc.get_incident(i, threads=False) for i in gone_ids), return_exceptions=True
            )
        except CustomerConnectError as exc:
            raise _upstream(exc) from None
    new = updated = 0
    async with ctx.db.session() as session:
        for incident, its_threads in zip(stale, threads, strict=True):
            row = await session.scalar(select(Incident).where(Incident.cc_id == incident.id))
            if row is None:
                row = Incident(
                    reference_number=incident.reference_number,
                    cc_id=incident.id,
                    status=Status.UNRESOLVED.value,
                    received_at=incident.created_time,
                    pulled_at=now,
                )
                _fill(row, incident, its_threads)
                session.add(row)
                await session.flush()
                new += 1
                ctx.events.emit(
                    session,
                    events.PULLED,
                    events.IncidentPulled(
                        reference_number=row.reference_number,
                        cc_id=row.cc_id,
                        account_id=row.account_id,
                        status=row.status,
                        received_at=row.received_at,
                        pulled_at=now,
                    ),
                    actor=actor,
                )
            else:
                _fill(row, incident, its_threads)
                row.status = Status.UNRESOLVED.value
                row.pulled_at = now
                updated += 1
        for cc_id, result in zip(gone_ids, gone, strict=True):
            row = await session.scalar(select(Incident).where(Incident.cc_id == cc_id))
            if row is None:
                continue
            if isinstance(result, IncidentNotFound):
                row.status = Status.SOLVED.value  # deleted at the site: nothing left to answer
            elif isinstance(result, CcIncident):
                row.status = result.status_type or row.status
                row.cc_updated_at = result.updated_time
            else:
                continue  # a failed read changes nothing; the next pull tries again
            row.pulled_at = now
            updated += 1
        if new or updated:
            await ctx.audit.append(
                session,
                actor=actor,
                action="eteam.pulled",
                target="eteam_incident",
                detail={"new": new, "updated": updated, "unresolved": len(incidents)},
            )
    return PullView(new=new, updated=updated, unresolved=len(incidents), pulled_at=now)


async def _account_exists(ctx: PluginContext, account_id: str) -> None:
    try:
        await ctx.ccb.get_balance(account_id)  # read and dropped: the port has no existence probe
    except NotFound:
        raise InputError("account_id", f"no account {account_id}", 404) from None


async def respond(
    ctx: PluginContext, request: Request[Any, Any, Any], reference_number: str, data: RespondIn
) -> tuple[Incident, list[ResponseRow]]:
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        incident = await by_reference(session, reference_number)
    if incident is None:
        raise InputError("reference_number", f"no incident {reference_number} in the e-team queue", 404)
    text = redact(data.text.strip())
    account = data.account_id or incident.account_id
    actor = current_staff(request).actor
    contact_id: str | None = None
    access = None
    if data.action_taken:
        if account is None:
            raise InputError("account_id", "the request names no account; give the account acted on")
        await _account_exists(ctx, account)
        access = await require_verified(
            request,
            account,
            purpose="answer a Contact Us request",
            topic="eteam",
            change=True,
            contact_id=data.contact_id,
        )
        if access.contact_id is None:
            # Issue 7 §3: action on an account follows a contact verified from the request or a call-back.
            raise PermissionDeniedException("action on an account needs a verified contact (X-Contact-Id)")
        actor, contact_id = access.actor, access.contact_id
    async with client_for(ctx) as cc:
        try:
            if data.channel == "email":
                thread = await cc.add_thread(incident.cc_id, "staff_response", text)
            else:
                thread = await cc.add_thread(incident.cc_id, "private_note", phone_note(text, actor))
            status = (await cc.get_incident(incident.cc_id, threads=False)).status_type or incident.status
        except CustomerConnectError as exc:
            raise _upstream(exc) from None
    ccb_contact_id: str | None = None
    if data.action_taken and account is not None:
        try:
            note = await ctx.ccb.add_customer_contact(
                p.AddCustomerContact(
                    contact_class="GENERAL",
                    contact_type="INQUIRY",
                    method=data.channel,
                    account_id=account,
                    log_text=ccb_note(reference_number, data.channel, text),
                ),
                actor=actor,
                # Keyed on the thread: a retry of this step after a failure below replays, not duplicates.
                idempotency_key=f"eteam:{reference_number}:{thread.id}:ccb",
            )
        except Invalid as exc:
            raise InputError(getattr(exc, "field", "account_id"), str(exc)) from None
        ccb_contact_id = note.contact_id
    async with ctx.db.session() as session:
        row = await by_reference(session, reference_number)
        assert row is not None
        response = ResponseRow(
            incident_id=row.id,
            channel=data.channel,
            text=text,
            action_taken=data.action_taken,
            account_id=account if data.action_taken else None,
            contact_id=contact_id,
            cc_thread_id=thread.id,
            ccb_contact_id=ccb_contact_id,
            responded_by=actor,
            responded_at=now,
        )
        session.add(response)
        row.status = status
        if row.answered_at is None:
            row.answered_at, row.answered_by = now, actor
        await session.flush()
        ctx.events.emit(
            session,
            events.RESPONDED,
            events.IncidentResponded(
                reference_number=reference_number,
                cc_id=row.cc_id,
                response_id=response.id,
                channel=data.channel,
                action_taken=data.action_taken,
                account_id=response.account_id,
                ccb_contact_id=ccb_contact_id,
                status=status,
                responded_by=actor,
                responded_at=now,
            ),
            actor=actor,
        )
        await ctx.audit.append(
            session,
            actor=actor,
            action="eteam.responded",
            target=f"eteam_incident:{reference_number}",
            detail={
                "channel": data.channel,
                "action_taken": data.action_taken,
                "ccb_contact_id": ccb_contact_id,
            },
        )
        rows = await responses_of(session, row.id)
    if access is not None:
        service = service_for(hub_of(request))
        if service is not None:
            await service.note_change(
                access, "eteam", f"answered Customer Connect {reference_number} ({data.channel})"
            )
    return row, rows


# -- JSON routes -----------------------------------------------------------------------------------------
def routes(ctx: PluginContext) -> list[Any]:
    @post("/pull", opt=ETEAM, status_code=200, summary="Pull unresolved incidents from Customer Connect")
    async def pull_route(request: Request[Any, Any, Any]) -> PullView:
        try:
            return await pull(ctx, current_staff(request).actor)
        except InputError as exc:
            raise exc.http() from None

    @get("/incidents", opt=ETEAM, summary="The e-team queue: unresolved incidents not yet answered")
    async def list_route(answered: Annotated[bool, QueryParameter()] = False) -> list[IncidentView]:
        now = ctx.clock.now()
        async with ctx.db.session() as session:
            return [view(i, now, ctx.config) for i in await queue(session, include_answered=answered)]

    @get("/incidents/{ref:str}", opt=ETEAM, summary="One incident with the e-team's responses")
    async def get_route(ref: FromPath[str]) -> IncidentView:
        try:
            reference_number = _reference(ref)
            async with ctx.db.session() as session:
                found = await by_reference(session, reference_number)
                if found is None:
                    raise InputError(
                        "reference_number", f"no incident {reference_number} in the e-team queue", 404
                    )
                rows = await responses_of(session, found.id)
        except InputError as exc:
            raise exc.http() from None
        return view(found, ctx.clock.now(), ctx.config, rows)

    @post("/incidents/{ref:str}/respond", opt=ETEAM, status_code=201, summary="Answer by e-mail or phone")
    async def respond_route(request: Request[Any, Any, Any], ref: FromPath[str]) -> IncidentView:
        """Body ``RespondIn``; with ``action_taken`` a verified contact (``X-Contact-Id``) for the account."""
        try:
            reference_number = _reference(ref)
            data: RespondIn = decode(await request.body(), RespondIn)
            row, rows = await respond(ctx, request, reference_number, data)
        except InputError as exc:
            raise exc.http() from None
        return view(row, ctx.clock.now(), ctx.config, rows)

    return [pull_route, list_route, get_route, respond_route]


# -- pages -----------------------------------------------------------------------------------------------
def pages(ctx: PluginContext) -> list[PageSpec]:
    @get("/", opt=STAFF)
    async def queue_page(request: Request[Any, Any, Any]) -> Response[Any]:
        config: EteamConfig = ctx.config
        now = ctx.clock.now()
        async with ctx.db.session() as session:
            rows = await queue(session)
        return render(
            request,
            "eteam/queue.html",
            title="E-team: Contact Us requests",
            items=[view(i, now, config) for i in rows],
            configured=config.base_url is not None,
            limit_hours=config.unanswered_business_hours,
        )

    return [PageSpec(handler=queue_page, nav_title="E-team")]
