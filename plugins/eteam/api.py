"""HTTP side of the e-team plugin: JSON routes under /api/eteam, the queue page under /ui/eteam.

The pull reads unresolved incidents from Customer Connect and upserts them into the queue; a response
goes back to Customer Connect as a thread (a staff response for e-mail, which moves the incident to
Waiting; a private note for a phone answer) and, when action was taken on the account, a CCB customer
contact carrying the reference number is added from a contact verified for that account (issue 7 §3).
When the action follows the answer, the CCB note is added to the answer afterwards (``add_note``).

The page works the same operations (``pull``, ``respond``, ``add_note``) through HTML forms, plus what the
e-team needs of the contact layer, whose own pages are for CSRs: opening a contact on the account and
verifying the customer, from the request's details (e-mail) or on a call-back (phone), and closing it.

Bodies are decoded strictly: malformed JSON answers 400, a bad field 422 naming it (``extra[0].key``),
an unknown incident or account 404, a missing verified contact 403, an action the incident's state
forbids or Customer Connect not configured 409, and Customer Connect failing 502. The page answers with
the same codes, re-rendered with the message naming the field.

Customer Connect is reached through :func:`make_client`; a transport put in ``ctx.extras`` under
:data:`TRANSPORT_KEY` replaces the network (tests route it to the simulator in process).

Page forms opt out of the framework's CSRF middleware and check the token themselves after the access
guard, so an anonymous post is sent to the login page rather than refused as a bad token.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import httpx
import msgspec
from litestar import Request, Response, get, post
from litestar.exceptions import (
    NotFoundException,
    PermissionDeniedException,
    ServiceUnavailableException,
)
from litestar.middleware.csrf import CSRF_SECRET_LENGTH, generate_csrf_hash
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect
from litestar.utils.scope.state import ScopeState
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
from core.ccb.errors import CcbError, IllegalTransition, Invalid, NotFound
from core.ccb.identity import IdentityMethod
from core.ccb.offline import RecordedOffline
from core.contact import ContactAccess, require_verified
from core.contact.service import AccessDenied, ContactService, ContactView, Locked, service_for
from core.contract import PageSpec, PluginContext
from core.contract.inputs import InputError, convert, decode_json
from core.redact import redact
from core.security import current_staff, hub_of
from core.staff import Staff
from core.web.pages import render
from plugins.eteam import events
from plugins.eteam.models import (
    Incident,
    answered_open,
    by_reference,
    queue,
    responses_by_incident,
    responses_of,
)
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
FORM = {"exclude_from_csrf": True}
TRANSPORT_KEY = "customer_connect_transport"
SYSTEM_ACTOR = "system:eteam"

AccountId = Annotated[str, msgspec.Meta(pattern=ACCOUNT_ID)]
ContactId = Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=8000, pattern=r"\S")]


# -- request and response bodies -------------------------------------------------------------------------
class RespondIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An answer to an incident; ``contact_id`` (or ``X-Contact-Id``) is needed when ``action_taken``."""

    channel: Channel
    text: Text
    action_taken: bool = False
    contact_id: ContactId | None = None
    # The account acted on, when the customer did not write it (found during the investigation).
    account_id: AccountId | None = None


class NoteIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A CCB note for action taken after the answer; ``contact_id`` (or ``X-Contact-Id``) is required."""

    text: Text
    contact_id: ContactId | None = None
    account_id: AccountId | None = None


class VerifyIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Identify the customer of a request: from its details (``email``) or on a call-back (``phone``)."""

    channel: Channel
    account_id: AccountId
    method: IdentityMethod
    value: Annotated[str, msgspec.Meta(min_length=1, max_length=32, pattern=r"\S")]


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


async def _acting_contact(
    ctx: PluginContext,
    request: Request[Any, Any, Any],
    account: str | None,
    contact_id: str | None,
    purpose: str,
) -> ContactAccess:
    """The caller's contact verified for ``account``: the only way the e-team may act on an account."""
    if account is None:
        raise InputError("account_id", "the request names no account; give the account acted on")
    await _account_exists(ctx, account)
    access = await require_verified(
        request, account, purpose=purpose, topic="eteam", change=True, contact_id=contact_id
    )
    if access.contact_id is None:
        # Issue 7 §3: action on an account follows a contact verified from the request or a call-back.
        raise PermissionDeniedException("action on an account needs a verified contact (X-Contact-Id)")
    return access


async def _ccb_note(
    ctx: PluginContext, reference_number: str, channel: Channel, text: str, account: str, actor: str, key: str
) -> str:
    """Add the CCB customer contact quoting the reference number; returns its id. Idempotent on ``key``."""
    try:
        note = await ctx.ccb.add_customer_contact(
            p.AddCustomerContact(
                contact_class="GENERAL",
                contact_type="INQUIRY",
                method=channel,
                account_id=account,
                log_text=ccb_note(reference_number, channel, text),
            ),
            actor=actor,
            idempotency_key=key,
        )
    except Invalid as exc:
        raise InputError(getattr(exc, "field", "account_id"), str(exc)) from None
    except CcbError as exc:
        raise InputError("ccb", f"CCB refused the note: {exc}", 502) from None
    return note.contact_id


async def _logged_on_contact(request: Request[Any, Any, Any], access: ContactAccess, summary: str) -> None:
    """Log the change on the contact, so its wrap-up note mentions it."""
    service = service_for(hub_of(request))
    if service is not None:
        await service.note_change(access, "eteam", summary)


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
        access = await _acting_contact(ctx, request, account, data.contact_id, "answer a Contact Us request")
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
        # Keyed on the thread: a retry of this step after a failure below replays, not duplicates.
        key = f"eteam:{reference_number}:{thread.id}:ccb"
        ccb_contact_id = await _ccb_note(ctx, reference_number, data.channel, text, account, actor, key)
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
        await _logged_on_contact(
            request, access, f"answered Customer Connect {reference_number} ({data.channel})"
        )
    return row, rows


async def add_note(
    ctx: PluginContext, request: Request[Any, Any, Any], reference_number: str, data: NoteIn
) -> tuple[Incident, list[ResponseRow]]:
    """Action was taken after the answer: add the CCB note quoting the reference to the latest answer.

    One note per answer, so a double submission cannot log the action twice; the CCB call is keyed on the
    answer and replays if the commit below fails and the note is submitted again.
    """
    async with ctx.db.session() as session:
        incident = await by_reference(session, reference_number)
        if incident is None:
            raise InputError("reference_number", f"no incident {reference_number} in the e-team queue", 404)
        answers = await responses_of(session, incident.id)
    if not answers:
        raise InputError("reference_number", f"{reference_number} is not answered yet: answer it first", 409)
    latest = answers[-1]
    if latest.ccb_contact_id is not None:
        raise InputError(
            "reference_number",
            f"the answer to {reference_number} is already noted in CCB (contact {latest.ccb_contact_id})",
            409,
        )
    account = data.account_id or latest.account_id or incident.account_id
    access = await _acting_contact(
        ctx, request, account, data.contact_id, "note action on a Contact Us request"
    )
    assert account is not None  # _acting_contact refuses a missing account
    text = redact(data.text.strip())
    channel: Channel = "phone" if latest.channel == "phone" else "email"
    key = f"eteam:{reference_number}:{latest.cc_thread_id}:ccb"
    ccb_contact_id = await _ccb_note(ctx, reference_number, channel, text, account, access.actor, key)
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        row = await by_reference(session, reference_number)
        response = await session.get(ResponseRow, latest.id, with_for_update=True)
        assert row is not None and response is not None
        if response.ccb_contact_id not in (None, ccb_contact_id):
            raise InputError("reference_number", f"the answer to {reference_number} was noted meanwhile", 409)
        response.action_taken = True
        response.account_id, response.contact_id = account, access.contact_id
        response.ccb_contact_id = ccb_contact_id
        ctx.events.emit(
            session,
            events.NOTED,
            events.IncidentNoted(
                reference_number=reference_number,
                cc_id=row.cc_id,
                response_id=response.id,
                account_id=account,
                ccb_contact_id=ccb_contact_id,
                noted_by=access.actor,
                noted_at=now,
            ),
            actor=access.actor,
        )
        await ctx.audit.append(
            session,
            actor=access.actor,
            action="eteam.noted",
            target=f"eteam_incident:{reference_number}",
            detail={"response_id": response.id, "account_id": account, "ccb_contact_id": ccb_contact_id},
        )
        await session.flush()
        rows = await responses_of(session, row.id)
    await _logged_on_contact(request, access, f"noted Customer Connect {reference_number} in CCB")
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
            data: RespondIn = decode_json(await request.body(), RespondIn)
            row, rows = await respond(ctx, request, reference_number, data)
        except InputError as exc:
            raise exc.http() from None
        return view(row, ctx.clock.now(), ctx.config, rows)

    @post(
        "/incidents/{ref:str}/ccb-note",
        opt=ETEAM,
        status_code=201,
        summary="Note action taken after the answer",
    )
    async def note_route(request: Request[Any, Any, Any], ref: FromPath[str]) -> IncidentView:
        """Body ``NoteIn``; a verified contact (``X-Contact-Id``) for the account. 409 when the latest answer
        already carries a CCB note or the incident is not answered yet."""
        try:
            reference_number = _reference(ref)
            data: NoteIn = decode_json(await request.body(), NoteIn)
            row, rows = await add_note(ctx, request, reference_number, data)
        except InputError as exc:
            raise exc.http() from None
        return view(row, ctx.clock.now(), ctx.config, rows)

    return [pull_route, list_route, get_route, respond_route, note_route]


# -- pages -----------------------------------------------------------------------------------------------
def _signed_secret(token: str, key: str) -> str | None:
    """The random part of a CSRF token, if its signature checks out under ``key``."""
    if len(token) <= CSRF_SECRET_LENGTH:
        return None
    secret = token[:CSRF_SECRET_LENGTH]
    signature = generate_csrf_hash(secret, key)
    return secret if hmac.compare_digest(token[CSRF_SECRET_LENGTH:], signature) else None


async def posted_form(request: Request[Any, Any, Any]) -> Any:
    """The form, once the posted CSRF token and the cookie carry the same signed secret (double submit)."""
    config = request.app.csrf_config
    if config is None:  # pragma: no cover - the hub always configures CSRF
        raise PermissionDeniedException("CSRF protection is not configured")
    form = await request.form()
    sent = request.headers.get(config.header_name) or form.get("_csrf_token")
    cookie = request.cookies.get(config.cookie_name)
    if not isinstance(sent, str) or not cookie:
        raise PermissionDeniedException("CSRF token verification failed")
    mine, theirs = _signed_secret(sent, config.secret), _signed_secret(cookie, config.secret)
    if mine is None or theirs is None or not hmac.compare_digest(mine, theirs):
        raise PermissionDeniedException("CSRF token verification failed")
    # The middleware is skipped for these handlers, so hand the token on to a page re-rendered with an error.
    ScopeState.from_scope(request.scope).csrf_token = sent
    return form


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _contacts(request: Request[Any, Any, Any]) -> ContactService:
    service = service_for(hub_of(request))
    if service is None:
        raise ServiceUnavailableException("the contact layer is not running")
    return service


async def verify_customer(
    request: Request[Any, Any, Any], reference_number: str, data: VerifyIn
) -> ContactView:
    """Open (or reuse) the caller's contact on the account and check one identity factor in it.

    A contact the caller already has open on the account is reused, so failed attempts count against one
    contact and its limit (rules §4.2) instead of starting afresh with every try.
    """
    service, staff = _contacts(request), current_staff(request)
    try:
        mine = [
            c
            for c in await service.my_contacts(staff)
            if c.account_id == data.account_id and c.status == "open" and not c.locked
        ]
        contact = mine[0] if mine else None
        if contact is None:
            contact = await service.open_contact(
                channel=data.channel, actor=staff.actor, owner=staff.name, account_id=data.account_id
            )
        outcome = await service.verify(staff, contact.contact_id, data.account_id, data.method, data.value)
    except NotFound:
        raise InputError("account_id", f"no account {data.account_id}", 404) from None
    except Invalid as exc:
        raise InputError(exc.field or "account_id", exc.message) from None
    except (Locked, IllegalTransition) as exc:
        raise InputError("value", str(exc), 409) from None
    except AccessDenied as exc:
        raise PermissionDeniedException(str(exc)) from None
    if not outcome.verified:
        if outcome.locked == "account":
            message = "not verified; the account is now locked for verification: a lead must clear it"
        elif outcome.locked == "contact":
            message = f"not verified; contact {contact.contact_id} is locked: call the customer back"
        else:
            message = f"not verified: {outcome.attempts_left} attempts left on contact {contact.contact_id}"
        raise InputError("value", message)
    # Through the guard, so the access is audited and the contact's log (its wrap-up note) names the request.
    await service.authorize(
        staff,
        contact_id=contact.contact_id,
        reason=None,
        purpose=f"investigate Customer Connect {reference_number}",
        account_id=data.account_id,
        topic="eteam",
    )
    return contact


async def close_contact(staff: Staff, service: ContactService, contact_id: str) -> None:
    """Wrap the contact up; the contact layer drafts its note from the contact's log (what was done)."""
    try:
        await service.wrap_up(staff, contact_id, note_kind="customer", note=None)
    except NotFound:
        raise InputError("contact_id", f"no contact {contact_id}", 404) from None
    except IllegalTransition:
        raise InputError("contact_id", f"contact {contact_id} is already closed", 409) from None
    except AccessDenied as exc:
        raise PermissionDeniedException(str(exc)) from None
    except Invalid as exc:
        raise InputError(exc.field or "note", exc.message) from None


def pages(ctx: PluginContext) -> list[PageSpec]:
    async def queue_view(
        request: Request[Any, Any, Any],
        *,
        status_code: int = 200,
        error: str | None = None,
        notice: str | None = None,
        action: dict[str, Any] | None = None,
    ) -> Response[Any]:
        """The queue with its actions, answered requests still open, and the member's open contacts."""
        config: EteamConfig = ctx.config
        staff = current_staff(request)
        now = ctx.clock.now()
        async with ctx.db.session() as session:
            waiting = await queue(session)
            answered = await answered_open(session)
            responses = await responses_by_incident(session, [i.id for i in answered])
        service = service_for(hub_of(request))
        contacts = await service.my_contacts(staff) if service is not None else []
        return render(
            request,
            "eteam/queue.html",
            status_code=status_code,
            title="E-team: Contact Us requests",
            items=[view(i, now, config) for i in waiting],
            answered=[view(i, now, config, responses[i.id]) for i in answered],
            contacts=contacts,
            verified=[c for c in contacts if c.verified_accounts],
            configured=config.base_url is not None,
            limit_hours=config.unanswered_business_hours,
            can_work=staff.role.value in ETEAM["roles"],
            error=error,
            notice=notice,
            action=action or {},
        )

    async def attempt(
        request: Request[Any, Any, Any],
        run: Callable[[], Awaitable[str]],
        *,
        action: dict[str, Any] | None = None,
    ) -> Response[Any]:
        """Run a form's operation; go to the page it names, or re-render the queue with the error."""
        try:
            target = await run()
        except InputError as exc:
            error, status_code = str(exc), exc.status_code
        except (PermissionDeniedException, NotFoundException, ServiceUnavailableException) as exc:
            error, status_code = str(exc.detail), exc.status_code
        except RecordedOffline as exc:
            error = (
                f"CCB is offline: the note was recorded as offline form {exc.form_id} and is written when "
                "CCB is back."
            )
            status_code = 202
        else:
            return Redirect(target, status_code=303)
        return await queue_view(request, status_code=status_code, error=error, action=action)

    @get("/", opt=STAFF)
    async def queue_page(
        request: Request[Any, Any, Any],
        pulled: Annotated[int | None, QueryParameter(ge=0)] = None,
        updated: Annotated[int | None, QueryParameter(ge=0)] = None,
        answered: Annotated[str | None, QueryParameter()] = None,
        noted: Annotated[str | None, QueryParameter()] = None,
        verified: Annotated[str | None, QueryParameter()] = None,
        closed: Annotated[str | None, QueryParameter()] = None,
    ) -> Response[Any]:
        # The notice only confirms what the last form did; a value of the wrong shape is not echoed.
        notice = None
        if pulled is not None:
            notice = f"Pulled from Customer Connect: {pulled} new, {updated or 0} updated."
        elif answered is not None and REFERENCE_RE.match(answered):
            notice = f"Answered {answered}."
        elif noted is not None and REFERENCE_RE.match(noted):
            notice = f"CCB note added for {noted}."
        elif verified is not None and verified.isdigit():
            notice = f"Customer verified in contact {verified}; act on the account from it."
        elif closed is not None and closed.isdigit():
            notice = f"Contact {closed} closed."
        return await queue_view(request, notice=notice)

    @post("/pull", opt={**ETEAM, **FORM})
    async def pull_form(request: Request[Any, Any, Any]) -> Response[Any]:
        await posted_form(request)

        async def run() -> str:
            done = await pull(ctx, current_staff(request).actor)
            return f"/ui/eteam/?pulled={done.new}&updated={done.updated}"

        return await attempt(request, run)

    @post("/incidents/{ref:str}/verify", opt={**ETEAM, **FORM})
    async def verify_form(request: Request[Any, Any, Any], ref: FromPath[str]) -> Response[Any]:
        form = await posted_form(request)
        fields = {k: _text(form, k) for k in ("channel", "account_id", "method")}

        async def run() -> str:
            reference_number = _reference(ref)
            # The factor is never echoed back into the page.
            data: VerifyIn = convert({**fields, "value": _text(form, "value")}, VerifyIn)
            contact = await verify_customer(request, reference_number, data)
            return f"/ui/eteam/?verified={contact.contact_id}#incident-{reference_number}"

        return await attempt(request, run, action={"ref": ref, "form": "verify", **fields})

    @post("/incidents/{ref:str}/respond", opt={**ETEAM, **FORM})
    async def respond_form(request: Request[Any, Any, Any], ref: FromPath[str]) -> Response[Any]:
        form = await posted_form(request)
        fields = {k: _text(form, k) for k in ("channel", "text", "account_id", "contact_id")}
        acted = _text(form, "action_taken") == "yes"

        async def run() -> str:
            reference_number = _reference(ref)
            raw = {
                "channel": fields["channel"],
                "text": fields["text"],
                "action_taken": acted,
                "account_id": fields["account_id"] or None,
                "contact_id": fields["contact_id"] or None,
            }
            await respond(ctx, request, reference_number, convert(raw, RespondIn))
            return f"/ui/eteam/?answered={reference_number}"

        action = {"ref": ref, "form": fields["channel"], "action_taken": acted, **fields}
        return await attempt(request, run, action=action)

    @post("/incidents/{ref:str}/ccb-note", opt={**ETEAM, **FORM})
    async def note_form(request: Request[Any, Any, Any], ref: FromPath[str]) -> Response[Any]:
        form = await posted_form(request)
        fields = {k: _text(form, k) for k in ("text", "account_id", "contact_id")}

        async def run() -> str:
            reference_number = _reference(ref)
            raw = {
                "text": fields["text"],
                "account_id": fields["account_id"] or None,
                "contact_id": fields["contact_id"] or None,
            }
            await add_note(ctx, request, reference_number, convert(raw, NoteIn))
            return f"/ui/eteam/?noted={reference_number}"

        return await attempt(request, run, action={"ref": ref, "form": "note", **fields})

    @post("/contacts/{contact_id:str}/close", opt={**ETEAM, **FORM})
    async def close_form(request: Request[Any, Any, Any], contact_id: FromPath[str]) -> Response[Any]:
        await posted_form(request)

        async def run() -> str:
            await close_contact(current_staff(request), _contacts(request), contact_id)
            return f"/ui/eteam/?closed={contact_id}"

        return await attempt(request, run)

    forms = (pull_form, verify_form, respond_form, note_form, close_form)
    return [PageSpec(handler=queue_page, nav_title="E-team"), *(PageSpec(handler=h) for h in forms)]
