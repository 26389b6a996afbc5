"""Use cases of the e-team plugin: pull the Contact Us requests, answer them, note action in CCB.

The pull reads unresolved incidents from Customer Connect and upserts them into the queue — on request and
as a periodic job (:func:`pull_job`); a response goes back to Customer Connect as a thread (a staff response
for e-mail, which moves the incident to Waiting; a private note for a phone answer) and, when action was
taken on the account, a CCB customer contact carrying the reference number is added from a contact verified
for that account (issue 7 §3). When the action follows the answer, the CCB note is added to the answer
afterwards (:func:`add_note`). The e-team also opens and verifies its own contacts through the contact layer
(:func:`verify_customer`, :func:`close_contact`).

Failures raise :class:`InputError`: a bad field 422, an unknown incident or account 404, a missing verified
contact 403, an action the incident's state forbids or Customer Connect not configured 409, and Customer
Connect failing 502. Customer Connect is reached through :func:`client_for` (the hub's ``crm`` connector for
the configured site); a transport set on the plugin's runtime (:class:`EteamRuntime`) replaces the network
(tests route it to the simulator in process).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field

import httpx

from core.contract import JobSpec, PluginContext
from core.contract.ccb import CcbError, IllegalTransition, Invalid, NotFound
from core.contract.ccb import port as p
from core.contract.contact import (
    AccessDenied,
    ContactAccess,
    ContactDesk,
    ContactGuard,
    ContactSummary,
    Locked,
)
from core.contract.customer_connect import (
    CustomerConnect,
    CustomerConnectError,
    IncidentNotFound,
    InvalidRequest,
    Thread,
    customer_connect,
)
from core.contract.customer_connect import Incident as CcIncident
from core.contract.inputs import InputError
from core.contract.redact import redact
from core.contract.staff import Staff
from plugins.eteam import events, queries
from plugins.eteam.models import Incident
from plugins.eteam.models import Response as ResponseRow
from plugins.eteam.queries import by_reference, responses_of
from plugins.eteam.rules import (
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
from plugins.eteam.schemas import IncidentView, NoteIn, PullView, RespondIn, ResponseView, VerifyIn

SYSTEM_ACTOR = "system:eteam"


@dataclass(kw_only=True)
class EteamRuntime:
    """What the e-team's handlers and its job share in one process (``ctx.runtime``)."""

    # One pull at a time per process, so the job and a manual pull do not insert the same incident.
    pull_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Replaces the network to Customer Connect when set (tests route it to the simulator in process).
    transport: httpx.AsyncBaseTransport | None = None


def install_runtime(ctx: PluginContext) -> EteamRuntime:
    """Put the plugin's runtime on its context (at registration); idempotent."""
    if not isinstance(ctx.runtime, EteamRuntime):
        ctx.runtime = EteamRuntime()
    return ctx.runtime


def runtime_of(ctx: PluginContext) -> EteamRuntime:
    """The plugin's runtime, typed."""
    return install_runtime(ctx)


def pull_job(ctx: PluginContext) -> JobSpec | None:
    """The periodic pull: every ``pull_interval_s`` while Customer Connect is configured (0 turns it off).

    It waits one period before its first run, so start-up stays fast and a site that is down does not delay
    the hub; a failed pull raises, and the job runner retries it and logs it.
    """
    config: EteamConfig = ctx.config
    if config.base_url is None or config.pull_interval_s <= 0:
        return None

    async def pull_once() -> None:
        result = await pull(ctx)
        ctx.log.info("eteam: pulled %d new, %d updated", result.new, result.updated)

    return JobSpec(
        name="pull",
        run=pull_once,
        every_s=config.pull_interval_s,
        timeout_s=max(60.0, config.timeout_s * 6),
        run_at_start=False,
        description="Pull unresolved Contact Us requests from Customer Connect into the e-team queue.",
    )


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
def reference(ref: str) -> str:
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
def client_for(ctx: PluginContext) -> CustomerConnect:
    """A client for the configured site (409 when none is configured, 502 when its URL is unusable)."""
    config: EteamConfig = ctx.config
    if config.base_url is None:
        raise InputError("base_url", "Customer Connect is not configured", 409)
    try:
        return customer_connect(
            ctx,
            config.base_url,
            user=config.user,
            password=config.password,
            timeout=config.timeout_s,
            transport=runtime_of(ctx).transport,
        )
    except ValueError as exc:
        raise InputError("base_url", f"Customer Connect cannot be reached: {exc}", 502) from None


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
    async with runtime_of(ctx).pull_lock, client_for(ctx) as cc:
        try:
            incidents = await cc.list_incidents(status_type="unresolved", limit=config.pull_limit)
            seen = {i.id for i in incidents}
            async with ctx.db.session() as session:
                known = await queries.known_by_cc_id(session)
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
            row = await queries.by_cc_id(session, incident.id)
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
            row = await queries.by_cc_id(session, cc_id)
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
    guard: ContactGuard,
    account: str | None,
    contact_id: str | None,
    purpose: str,
) -> ContactAccess:
    """The caller's contact verified for ``account``: the only way the e-team may act on an account."""
    if account is None:
        raise InputError("account_id", "the request names no account; give the account acted on")
    await _account_exists(ctx, account)
    access = await guard.account(account, purpose=purpose, topic="eteam", change=True, contact_id=contact_id)
    if access.contact_id is None:
        # Issue 7 §3: action on an account follows a contact verified from the request or a call-back.
        raise InputError("contact_id", "action on an account needs a verified contact (X-Contact-Id)", 403)
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


async def respond(
    ctx: PluginContext,
    staff: Staff,
    guard: ContactGuard,
    reference_number: str,
    data: RespondIn,
) -> tuple[Incident, list[ResponseRow]]:
    """Answer by e-mail (a staff response) or phone (a private note); with ``action_taken`` also the CCB note,
    from a contact verified for the account."""
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        incident = await by_reference(session, reference_number)
    if incident is None:
        raise InputError("reference_number", f"no incident {reference_number} in the e-team queue", 404)
    text = redact(data.text.strip())
    account = data.account_id or incident.account_id
    actor = staff.actor
    contact_id: str | None = None
    access = None
    if data.action_taken:
        access = await _acting_contact(ctx, guard, account, data.contact_id, "answer a Contact Us request")
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
        # Logged on the contact, so its wrap-up note mentions it.
        await guard.note_change(
            access, "eteam", f"answered Customer Connect {reference_number} ({data.channel})"
        )
    return row, rows


async def add_note(
    ctx: PluginContext,
    guard: ContactGuard,
    reference_number: str,
    data: NoteIn,
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
        ctx, guard, account, data.contact_id, "note action on a Contact Us request"
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
    await guard.note_change(access, "eteam", f"noted Customer Connect {reference_number} in CCB")
    return row, rows


async def verify_customer(
    service: ContactDesk, staff: Staff, reference_number: str, data: VerifyIn
) -> ContactSummary:
    """Open (or reuse) the caller's contact on the account and check one identity factor in it.

    A contact the caller already has open on the account is reused, so failed attempts count against one
    contact and its limit (docs/rules.md §4.2) instead of starting afresh with every try.
    """
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
        raise InputError("contact_id", str(exc), 403) from None
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


async def close_contact(service: ContactDesk, staff: Staff, contact_id: str) -> None:
    """Wrap the contact up; the contact layer drafts its note from the contact's log (what was done)."""
    try:
        await service.wrap_up(staff, contact_id, note_kind="customer", note=None)
    except NotFound:
        raise InputError("contact_id", f"no contact {contact_id}", 404) from None
    except IllegalTransition:
        raise InputError("contact_id", f"contact {contact_id} is already closed", 409) from None
    except AccessDenied as exc:
        raise InputError("contact_id", str(exc), 403) from None
    except Invalid as exc:
        raise InputError(exc.field or "note", exc.message) from None
