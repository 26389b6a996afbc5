"""HTTP side of the outage plugin: JSON routes under /api/outage, pages and the banner stream under /ui.

Declare, update and restore an outage, and confirm or dismiss a suggested one, live here once and serve both
the JSON API and the lead's forms. Each runs in one transaction with its event and audit record, so a refused
request leaves nothing half-written. Bodies are decoded here rather than by the framework so that malformed
JSON answers 400 and a well-formed body with a bad field answers 422 naming the field.

Streams: ``GET /api/outage/stream`` (bearer token) sends each outage event as JSON; ``GET /ui/outage/stream``
(session cookie, so a browser's EventSource can open it) sends the rendered banner. Both start with the
current state and take ``?limit=N`` to end after N events, which bounded clients (tests, probes) use.

Page forms post back to /ui and opt out of the framework's CSRF middleware: they verify the token themselves
after the access guard, so an anonymous post is sent to the login page rather than refused as a bad token.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import secrets
from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, patch, post
from litestar.exceptions import HTTPException, NotFoundException, PermissionDeniedException
from litestar.middleware.csrf import CSRF_SECRET_LENGTH, generate_csrf_hash
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, ServerSentEvent, ServerSentEventMessage
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.ccb.errors import CcbError
from core.contract import ContactHint, PageSpec, PluginContext
from core.contract.inputs import InputError, decode_json, field_of
from core.redact import redact
from core.security import current_staff
from core.staff import Staff
from core.web.pages import render
from plugins.outage import events
from plugins.outage.models import Outage, OutageSuggestion, OutageTicket, active_outages
from plugins.outage.service import (
    AREA_CODE,
    LOCAL_TZ,
    PREMISE_ID,
    ZIP_CODE,
    OutageConfig,
    OutageStatus,
    PremiseLocation,
    SuggestionStatus,
    Utility,
    area_of_key,
    caller_script,
    etr_text,
    hint_text,
    make_area,
    matching,
)

# Who may do what (issue 6 §3): leads, supervisors and admins declare, update, restore and decide on
# suggestions; any staff of a section where the plugin is enabled reads and streams.
LEAD = {"roles": ["lead", "supervisor", "admin"]}
STAFF = {"access": "staff"}
FORM = {"exclude_from_csrf": True}
MAX_AREA_ITEMS = 500

Cause = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
Message = Annotated[str, msgspec.Meta(max_length=2000)]
AreaCode = Annotated[str, msgspec.Meta(pattern=AREA_CODE)]
Zip = Annotated[str, msgspec.Meta(pattern=ZIP_CODE)]
PremiseId = Annotated[str, msgspec.Meta(pattern=PREMISE_ID)]
IdempotencyKey = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._:-]{8,120}$")]
When = Annotated[dt.datetime, msgspec.Meta(tz=True)]


# -- request bodies --------------------------------------------------------------------------------------
class DeclareIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An outage to declare; the area needs at least one service area, ZIP code or premise."""

    utility: Utility
    cause: Cause
    service_areas: Annotated[list[AreaCode], msgspec.Meta(max_length=MAX_AREA_ITEMS)] = []
    zips: Annotated[list[Zip], msgspec.Meta(max_length=MAX_AREA_ITEMS)] = []
    premise_ids: Annotated[list[PremiseId], msgspec.Meta(max_length=MAX_AREA_ITEMS)] = []
    estimated_restoration: When | None = None
    message: Message | None = None
    idempotency_key: IdempotencyKey | None = None


class UpdateIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A change to an active outage; only the fields given change. ``revision`` guards lost updates."""

    cause: Cause | msgspec.UnsetType = msgspec.UNSET
    service_areas: Annotated[list[AreaCode], msgspec.Meta(max_length=MAX_AREA_ITEMS)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    zips: Annotated[list[Zip], msgspec.Meta(max_length=MAX_AREA_ITEMS)] | msgspec.UnsetType = msgspec.UNSET
    premise_ids: Annotated[list[PremiseId], msgspec.Meta(max_length=MAX_AREA_ITEMS)] | msgspec.UnsetType = (
        msgspec.UNSET
    )
    estimated_restoration: When | msgspec.UnsetType | None = msgspec.UNSET
    message: Message | msgspec.UnsetType | None = msgspec.UNSET
    revision: Annotated[int, msgspec.Meta(ge=1)] | None = None


class RestoreIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    message: Message | None = None


class ConfirmIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Turn a suggestion into an outage; the area is the suggestion's unless given."""

    utility: Utility
    cause: Cause
    estimated_restoration: When | None = None
    message: Message | None = None


# -- responses -------------------------------------------------------------------------------------------
class OutageView(msgspec.Struct, kw_only=True):
    id: int
    revision: int
    utility: str
    status: str
    cause: str
    message: str | None
    service_areas: list[str]
    zips: list[str]
    premise_ids: list[str]
    estimated_restoration: dt.datetime | None
    declared_at: dt.datetime
    declared_by: str
    updated_at: dt.datetime
    restored_at: dt.datetime | None
    suggestion_id: int | None
    replayed: bool = False


class SuggestionView(msgspec.Struct, kw_only=True):
    id: int
    status: str
    service_areas: list[str]
    zips: list[str]
    ticket_count: int
    first_at: dt.datetime
    last_at: dt.datetime
    outage_id: int | None


class TicketView(msgspec.Struct, kw_only=True):
    field_activity_id: str
    premise_id: str
    action: str
    outage_id: int | None
    received_at: dt.datetime
    remarks: str | None


def outage_view(o: Outage, *, replayed: bool = False) -> OutageView:
    return OutageView(
        id=o.id,
        revision=o.revision,
        utility=o.utility,
        status=o.status,
        cause=o.cause,
        message=o.message,
        service_areas=sorted(o.service_areas),
        zips=sorted(o.zips),
        premise_ids=sorted(o.premise_ids),
        estimated_restoration=o.estimated_restoration,
        declared_at=o.declared_at,
        declared_by=o.declared_by,
        updated_at=o.updated_at,
        restored_at=o.restored_at,
        suggestion_id=o.suggestion_id,
        replayed=replayed,
    )


def suggestion_view(s: OutageSuggestion) -> SuggestionView:
    area = area_of_key(s.burst_key)
    return SuggestionView(
        id=s.id,
        status=s.status,
        service_areas=sorted(area.service_areas),
        zips=sorted(area.zips),
        ticket_count=s.ticket_count,
        first_at=s.first_at,
        last_at=s.last_at,
        outage_id=s.outage_id,
    )


# -- errors and decoding ---------------------------------------------------------------------------------
def _clean(text: str | None) -> str | None:
    """Free text is redacted before storage (ARCHITECTURE §6) and blank means none."""
    if text is None or not text.strip():
        return None
    return redact(" ".join(text.split()))


# -- write operations (shared by the API and the forms) ---------------------------------------------------
async def _get(session: AsyncSession, outage_id: int) -> Outage:
    found = await session.get(Outage, outage_id, with_for_update=True)
    if found is None:
        raise InputError("outage_id", f"no outage #{outage_id}", 404)
    return found


async def _replay(session: AsyncSession, key: str) -> Outage | None:
    found: Outage | None = await session.scalar(select(Outage).where(Outage.idempotency_key == key))
    return found


async def declare(
    ctx: PluginContext, staff: Staff, data: DeclareIn, *, suggestion: OutageSuggestion | None = None
) -> tuple[Outage, bool]:
    """Declare an outage once per idempotency key, even when two identical submissions race.

    Returns the outage and whether it is a replay of an earlier declaration with the same key.
    """
    area = make_area(data.service_areas, data.zips, data.premise_ids)
    if area.empty:
        raise InputError(
            "area", "give at least one service area, ZIP code or premise (service_areas, zips, premise_ids)"
        )
    now = ctx.clock.now()
    if data.estimated_restoration is not None and data.estimated_restoration < now - dt.timedelta(hours=1):
        raise InputError("estimated_restoration", "is in the past")
    try:
        async with ctx.db.session() as session:
            if data.idempotency_key is not None:
                earlier = await _replay(session, data.idempotency_key)
                if earlier is not None:
                    return earlier, True
            outage = Outage(
                utility=data.utility.value,
                status=OutageStatus.ACTIVE.value,
                cause=_clean(data.cause) or data.cause,
                message=_clean(data.message),
                service_areas=sorted(area.service_areas),
                zips=sorted(area.zips),
                premise_ids=sorted(area.premise_ids),
                estimated_restoration=data.estimated_restoration,
                etr_missing_since=None if data.estimated_restoration else now,
                declared_at=now,
                declared_by=staff.actor,
                updated_at=now,
                updated_by=staff.actor,
                revision=1,
                idempotency_key=data.idempotency_key,
                suggestion_id=suggestion.id if suggestion else None,
            )
            session.add(outage)
            await session.flush()
            if suggestion is not None:
                current = await session.get(OutageSuggestion, suggestion.id, with_for_update=True)
                if current is None or current.status != SuggestionStatus.OPEN:
                    raise InputError("suggestion_id", "was already decided", 409)
                current.status = SuggestionStatus.CONFIRMED.value
                current.decided_at, current.decided_by, current.outage_id = now, staff.actor, outage.id
            ctx.events.emit(
                session, events.DECLARED, events.changed_payload(outage, staff.actor, now), actor=staff.actor
            )
            await ctx.audit.append(
                session,
                actor=staff.actor,
                action="outage.declared",
                target=f"outage_outage:{outage.id}",
                detail={"utility": outage.utility, "area": area.describe()},
            )
    except IntegrityError:
        if data.idempotency_key is None:
            raise
        # The same key committed first in another transaction: answer with that record.
        async with ctx.db.session() as session:
            earlier = await _replay(session, data.idempotency_key)
        if earlier is None:
            raise
        return earlier, True
    return outage, False


async def update(ctx: PluginContext, staff: Staff, outage_id: int, data: UpdateIn) -> Outage:
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        outage = await _get(session, outage_id)
        if outage.status != OutageStatus.ACTIVE:
            raise InputError("status", f"outage #{outage_id} is {outage.status}; declare a new one", 409)
        if data.revision is not None and data.revision != outage.revision:
            raise InputError("revision", f"is {outage.revision} now; reload and try again", 409)
        if not isinstance(data.cause, msgspec.UnsetType):
            outage.cause = _clean(data.cause) or data.cause
        if not isinstance(data.message, msgspec.UnsetType):
            outage.message = _clean(data.message)
        area = make_area(
            outage.service_areas if isinstance(data.service_areas, msgspec.UnsetType) else data.service_areas,
            outage.zips if isinstance(data.zips, msgspec.UnsetType) else data.zips,
            outage.premise_ids if isinstance(data.premise_ids, msgspec.UnsetType) else data.premise_ids,
        )
        if area.empty:
            raise InputError("area", "an outage needs at least one service area, ZIP code or premise")
        outage.service_areas = sorted(area.service_areas)
        outage.zips = sorted(area.zips)
        outage.premise_ids = sorted(area.premise_ids)
        if not isinstance(data.estimated_restoration, msgspec.UnsetType):
            if data.estimated_restoration is None:
                outage.etr_missing_since = outage.etr_missing_since or now
            else:
                outage.etr_missing_since = None
            outage.estimated_restoration = data.estimated_restoration
        outage.revision += 1
        outage.updated_at, outage.updated_by = now, staff.actor
        ctx.events.emit(
            session, events.UPDATED, events.changed_payload(outage, staff.actor, now), actor=staff.actor
        )
        await ctx.audit.append(
            session,
            actor=staff.actor,
            action="outage.updated",
            target=f"outage_outage:{outage.id}",
            detail={},
        )
    return outage


async def restore(ctx: PluginContext, staff: Staff, outage_id: int, data: RestoreIn) -> Outage:
    """Mark an outage restored; restoring it again is a no-op that answers the same record."""
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        outage = await _get(session, outage_id)
        if outage.status == OutageStatus.RESTORED:
            return outage
        outage.status = OutageStatus.RESTORED.value
        outage.restored_at, outage.restored_by = now, staff.actor
        outage.etr_missing_since = None
        if data.message is not None:
            outage.message = _clean(data.message)
        outage.revision += 1
        outage.updated_at, outage.updated_by = now, staff.actor
        ctx.events.emit(
            session, events.RESTORED, events.changed_payload(outage, staff.actor, now), actor=staff.actor
        )
        await ctx.audit.append(
            session,
            actor=staff.actor,
            action="outage.restored",
            target=f"outage_outage:{outage.id}",
            detail={},
        )
    return outage


async def _open_suggestion(ctx: PluginContext, suggestion_id: int) -> OutageSuggestion:
    async with ctx.db.session() as session:
        found = await session.get(OutageSuggestion, suggestion_id)
    if found is None:
        raise InputError("suggestion_id", f"no suggestion #{suggestion_id}", 404)
    if found.status != SuggestionStatus.OPEN:
        raise InputError("suggestion_id", f"suggestion #{suggestion_id} is already {found.status}", 409)
    return found


async def confirm(ctx: PluginContext, staff: Staff, suggestion_id: int, data: ConfirmIn) -> Outage:
    suggestion = await _open_suggestion(ctx, suggestion_id)
    area = area_of_key(suggestion.burst_key)
    outage, _ = await declare(
        ctx,
        staff,
        DeclareIn(
            utility=data.utility,
            cause=data.cause,
            service_areas=sorted(area.service_areas),
            zips=sorted(area.zips),
            estimated_restoration=data.estimated_restoration,
            message=data.message,
            # A second click on "confirm" must not declare a second outage.
            idempotency_key=f"suggestion:{suggestion_id}",
        ),
        suggestion=suggestion,
    )
    return outage


async def dismiss(ctx: PluginContext, staff: Staff, suggestion_id: int) -> OutageSuggestion:
    await _open_suggestion(ctx, suggestion_id)
    async with ctx.db.session() as session:
        found = await session.get(OutageSuggestion, suggestion_id, with_for_update=True)
        assert found is not None  # checked just above; suggestions are never deleted
        if found.status == SuggestionStatus.OPEN:
            found.status = SuggestionStatus.DISMISSED.value
            found.decided_at, found.decided_by = ctx.clock.now(), staff.actor
            await ctx.audit.append(
                session,
                actor=staff.actor,
                action="outage.suggestion_dismissed",
                target=f"outage_suggestion:{found.id}",
                detail={"tickets": found.ticket_count},
            )
    return found


# -- streams ---------------------------------------------------------------------------------------------
async def event_stream(
    ctx: PluginContext, *, limit: int | None, banner: bool
) -> AsyncIterator[ServerSentEventMessage]:
    """The current state, then one message per outage event until ``limit`` events (or the client leaves)."""
    config: OutageConfig = ctx.config
    async with events.broadcaster_for(ctx).subscribe() as sub:
        # Subscribed before reading the state, so nothing published in between is missed. A read
        # session: a thousand screens reconnecting at once must not queue on the write lock.
        async with ctx.db.read() as session:
            active = await active_outages(session)
        if banner:
            yield ServerSentEventMessage(event="banner", data=events.banner_html(active), retry=3000)
        else:
            snapshot = [outage_view(o) for o in active]
            yield ServerSentEventMessage(
                event="snapshot", data=msgspec.json.encode(snapshot).decode(), retry=3000
            )
        sent = 0
        while limit is None or sent < limit:
            try:
                notice = await asyncio.wait_for(sub.queue.get(), timeout=config.stream_keepalive_s)
            except TimeoutError:
                yield ServerSentEventMessage(comment="keep-alive")
                continue
            if banner:
                yield ServerSentEventMessage(event="banner", data=notice.banner)
            else:
                yield ServerSentEventMessage(event=notice.event, data=notice.data)
            sent += 1


Limit = Annotated[int | None, QueryParameter(ge=1, le=10_000)]


# -- contact hints ---------------------------------------------------------------------------------------
def _ids(contact: Any, name: str) -> list[str]:
    value = contact.get(name) if isinstance(contact, dict) else getattr(contact, name, None)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


async def contact_hints(ctx: PluginContext, contact: Any) -> list[ContactHint]:
    """Hints for a contact whose premise lies in an active outage.

    The contact is the core's snapshot (``account_id``, ``verified_accounts``) or anything with
    ``premise_ids``; premises are located through the CCB port (ZIP and service-area code).
    """
    async with ctx.db.session() as session:
        facts = [o.facts() for o in await active_outages(session)]
    if not facts:
        return []  # the usual case: no CCB call at all
    places: dict[str, PremiseLocation] = {}
    for premise_id in _ids(contact, "premise_ids"):
        premise = await ctx.ccb.get_premise(premise_id)
        places[premise_id] = PremiseLocation(premise_id, premise.address.zip, premise.service_area_code)
    accounts = dict.fromkeys(_ids(contact, "account_id") + _ids(contact, "verified_accounts"))
    for account_id in accounts:
        summary = await ctx.ccb.get_account_summary(account_id)
        for p in summary.premises:
            places.setdefault(p.premise_id, PremiseLocation(p.premise_id, p.address.zip, p.service_area_code))
    found: dict[int, ContactHint] = {}
    for where in places.values():
        for o in matching(facts, where):
            found.setdefault(
                o.outage_id,
                ContactHint(kind="outage", text=hint_text(o), severity="warning", script=caller_script(o)),
            )
    return list(found.values())


# -- JSON routes -----------------------------------------------------------------------------------------
def routes(ctx: PluginContext) -> list[Any]:
    def body_error(exc: InputError) -> HTTPException:
        return exc.http()

    @get("/outages", opt=STAFF, summary="Outages (active by default)")
    async def list_outages(
        status: Annotated[OutageStatus | None, QueryParameter()] = OutageStatus.ACTIVE,
    ) -> list[OutageView]:
        async with ctx.db.session() as session:
            query = select(Outage).order_by(Outage.declared_at.desc(), Outage.id.desc()).limit(500)
            if status is not None:
                query = query.where(Outage.status == status)
            return [outage_view(o) for o in await session.scalars(query)]

    @post("/outages", opt=LEAD, summary="Declare an outage")
    async def declare_outage(request: Request[Any, Any, Any]) -> Response[OutageView]:
        """Body: ``DeclareIn``. Idempotent on ``idempotency_key`` (or the ``Idempotency-Key`` header): a
        repeat answers 200 with the first record and ``replayed: true``."""
        data: DeclareIn = decode_json(await request.body(), DeclareIn)
        header = request.headers.get("idempotency-key")
        if header is not None:
            if data.idempotency_key not in (None, header):
                raise InputError("idempotency_key", "differs from the Idempotency-Key header").http()
            try:
                data = msgspec.convert({**msgspec.to_builtins(data), "idempotency_key": header}, DeclareIn)
            except msgspec.ValidationError as exc:
                raise InputError("idempotency_key", str(exc).split(" - at ")[0]).http() from None
        try:
            outage, replayed = await declare(ctx, current_staff(request), data)
        except InputError as exc:
            raise body_error(exc) from None
        return Response(outage_view(outage, replayed=replayed), status_code=200 if replayed else 201)

    @get("/outages/{outage_id:int}", opt=STAFF, summary="One outage")
    async def get_outage(outage_id: FromPath[int]) -> OutageView:
        async with ctx.db.session() as session:
            found = await session.get(Outage, outage_id)
        if found is None:
            raise NotFoundException(f"outage_id: no outage #{outage_id}")
        return outage_view(found)

    @patch("/outages/{outage_id:int}", opt=LEAD, summary="Update an active outage")
    async def update_outage(request: Request[Any, Any, Any], outage_id: FromPath[int]) -> OutageView:
        data: UpdateIn = decode_json(await request.body(), UpdateIn)
        try:
            return outage_view(await update(ctx, current_staff(request), outage_id, data))
        except InputError as exc:
            raise body_error(exc) from None

    @post("/outages/{outage_id:int}/restore", opt=LEAD, status_code=200, summary="Restore an outage")
    async def restore_outage(request: Request[Any, Any, Any], outage_id: FromPath[int]) -> OutageView:
        raw = await request.body()
        data: RestoreIn = decode_json(raw, RestoreIn) if raw.strip() else RestoreIn()
        try:
            return outage_view(await restore(ctx, current_staff(request), outage_id, data))
        except InputError as exc:
            raise body_error(exc) from None

    @get("/outages/{outage_id:int}/tickets", opt=STAFF, summary="Trouble tickets linked to an outage")
    async def outage_tickets(outage_id: FromPath[int]) -> list[TicketView]:
        async with ctx.db.session() as session:
            rows = await session.scalars(
                select(OutageTicket).where(OutageTicket.outage_id == outage_id).order_by(OutageTicket.id)
            )
            return [
                TicketView(
                    field_activity_id=t.field_activity_id,
                    premise_id=t.premise_id,
                    action=t.action,
                    outage_id=t.outage_id,
                    received_at=t.received_at,
                    remarks=t.remarks,
                )
                for t in rows
            ]

    @get("/premises/{premise_id:str}", opt=STAFF, summary="Active outages affecting a premise")
    async def premise_outages(premise_id: FromPath[str]) -> list[OutageView]:
        try:
            premise = await ctx.ccb.get_premise(premise_id)
        except CcbError:
            raise NotFoundException(f"premise_id: no premise {premise_id}") from None
        where = PremiseLocation(premise_id, premise.address.zip, premise.service_area_code)
        async with ctx.db.session() as session:
            active = await active_outages(session)
        ids = {o.outage_id for o in matching([o.facts() for o in active], where)}
        return [outage_view(o) for o in active if o.id in ids]

    @get("/suggestions", opt=STAFF, summary="Suggested outages (open by default)")
    async def list_suggestions(
        status: Annotated[SuggestionStatus | None, QueryParameter()] = SuggestionStatus.OPEN,
    ) -> list[SuggestionView]:
        async with ctx.db.session() as session:
            query = select(OutageSuggestion).order_by(OutageSuggestion.id.desc()).limit(500)
            if status is not None:
                query = query.where(OutageSuggestion.status == status)
            return [suggestion_view(s) for s in await session.scalars(query)]

    @post("/suggestions/{suggestion_id:int}/confirm", opt=LEAD, status_code=201, summary="Declare it")
    async def confirm_suggestion(request: Request[Any, Any, Any], suggestion_id: FromPath[int]) -> OutageView:
        data: ConfirmIn = decode_json(await request.body(), ConfirmIn)
        try:
            return outage_view(await confirm(ctx, current_staff(request), suggestion_id, data))
        except InputError as exc:
            raise body_error(exc) from None

    @post("/suggestions/{suggestion_id:int}/dismiss", opt=LEAD, status_code=200, summary="Dismiss it")
    async def dismiss_suggestion(
        request: Request[Any, Any, Any], suggestion_id: FromPath[int]
    ) -> SuggestionView:
        try:
            return suggestion_view(await dismiss(ctx, current_staff(request), suggestion_id))
        except InputError as exc:
            raise body_error(exc) from None

    @get("/stream", opt=STAFF, summary="Outage events as server-sent events")
    async def stream(limit: Limit = None) -> ServerSentEvent:
        """``snapshot`` (active outages) first, then ``declared``/``updated``/``restored``/``suggested``."""
        return ServerSentEvent(event_stream(ctx, limit=limit, banner=False))

    return [
        list_outages,
        declare_outage,
        get_outage,
        update_outage,
        restore_outage,
        outage_tickets,
        premise_outages,
        list_suggestions,
        confirm_suggestion,
        dismiss_suggestion,
        stream,
    ]


# -- pages -----------------------------------------------------------------------------------------------
def _token_secret(token: str, key: str) -> str | None:
    """The random part of a CSRF token whose signature checks out under ``key``."""
    if len(token) <= CSRF_SECRET_LENGTH:
        return None
    secret, signature = token[:CSRF_SECRET_LENGTH], token[CSRF_SECRET_LENGTH:]
    return secret if hmac.compare_digest(signature, generate_csrf_hash(secret, key)) else None


async def checked_form(request: Request[Any, Any, Any]) -> Any:
    """The posted form, once its CSRF token and the cookie carry the same signed secret (double submit)."""
    config = request.app.csrf_config
    if config is None:  # pragma: no cover - the hub always configures CSRF
        raise PermissionDeniedException("CSRF protection is not configured")
    form = await request.form()
    sent = request.headers.get(config.header_name) or form.get("_csrf_token")
    cookie = request.cookies.get(config.cookie_name)
    a = _token_secret(sent, config.secret) if isinstance(sent, str) else None
    b = _token_secret(cookie, config.secret) if cookie else None
    if a is None or b is None or not hmac.compare_digest(a, b):
        raise PermissionDeniedException("CSRF token verification failed")
    return form


def _field(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _list(form: Any, name: str) -> list[str]:
    return [part for part in _field(form, name).replace(",", " ").split() if part]


def _local_input(value: str) -> dt.datetime | None:
    """A ``datetime-local`` form value, read in the utility's zone."""
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value).replace(tzinfo=LOCAL_TZ).astimezone(dt.UTC)
    except ValueError:
        raise InputError("estimated_restoration", "is not a date and time") from None


def pages(ctx: PluginContext) -> list[PageSpec]:
    async def board(
        request: Request[Any, Any, Any],
        *,
        status_code: int = 200,
        error: str | None = None,
        values: dict[str, str] | None = None,
    ) -> Response[Any]:
        staff = current_staff(request)
        async with ctx.db.session() as session:
            active = await active_outages(session)
            suggestions = list(
                await session.scalars(
                    select(OutageSuggestion)
                    .where(OutageSuggestion.status == SuggestionStatus.OPEN)
                    .order_by(OutageSuggestion.id)
                )
            )
        return render(
            request,
            "outage/board.html",
            status_code=status_code,
            outages=active,
            suggestions=[suggestion_view(s) for s in suggestions],
            banner=events.banner_html(active),
            can_declare=staff.role.value in LEAD["roles"],
            error=error,
            values=values or {},
            # A fresh key per rendered form: submitting it twice declares one outage.
            form_key=f"form:{secrets.token_urlsafe(18)}",
            etr_text=etr_text,
            utilities=[u.value for u in Utility],
        )

    @get("/", opt=STAFF)
    async def board_page(request: Request[Any, Any, Any]) -> Response[Any]:
        return await board(request)

    @get("/banner", opt=STAFF)
    async def banner_fragment() -> Response[str]:
        async with ctx.db.session() as session:
            html = events.banner_html(await active_outages(session))
        return Response(html, media_type="text/html")

    @get("/stream", opt=STAFF)
    async def banner_stream(limit: Limit = None) -> ServerSentEvent:
        return ServerSentEvent(event_stream(ctx, limit=limit, banner=True))

    @post("/declare", opt={**LEAD, **FORM})
    async def declare_form(request: Request[Any, Any, Any]) -> Response[Any]:
        form = await checked_form(request)
        values = {
            k: _field(form, k)
            for k in ("utility", "cause", "service_areas", "zips", "premise_ids", "etr", "message")
        }
        try:
            raw: dict[str, Any] = {
                "utility": values["utility"],
                "cause": values["cause"],
                "service_areas": [s.upper() for s in _list(form, "service_areas")],
                "zips": _list(form, "zips"),
                "premise_ids": _list(form, "premise_ids"),
                "estimated_restoration": _local_input(values["etr"]),
                "message": values["message"] or None,
                "idempotency_key": _field(form, "idempotency_key") or None,
            }
            try:
                data = msgspec.convert(raw, DeclareIn)
            except msgspec.ValidationError as exc:
                raise InputError(field_of(exc), str(exc).split(" - at ")[0]) from None
            await declare(ctx, current_staff(request), data)
        except InputError as exc:
            return await board(request, status_code=exc.status_code, error=str(exc), values=values)
        return Redirect("/ui/outage/", status_code=303)

    @post("/{outage_id:int}/etr", opt={**LEAD, **FORM})
    async def etr_form(request: Request[Any, Any, Any], outage_id: FromPath[int]) -> Response[Any]:
        form = await checked_form(request)
        try:
            await update(
                ctx,
                current_staff(request),
                outage_id,
                UpdateIn(estimated_restoration=_local_input(_field(form, "etr"))),
            )
        except InputError as exc:
            return await board(request, status_code=exc.status_code, error=str(exc))
        return Redirect("/ui/outage/", status_code=303)

    @post("/{outage_id:int}/restore", opt={**LEAD, **FORM})
    async def restore_form(request: Request[Any, Any, Any], outage_id: FromPath[int]) -> Response[Any]:
        await checked_form(request)
        try:
            await restore(ctx, current_staff(request), outage_id, RestoreIn())
        except InputError as exc:
            return await board(request, status_code=exc.status_code, error=str(exc))
        return Redirect("/ui/outage/", status_code=303)

    @post("/suggestions/{suggestion_id:int}/confirm", opt={**LEAD, **FORM})
    async def confirm_form(request: Request[Any, Any, Any], suggestion_id: FromPath[int]) -> Response[Any]:
        form = await checked_form(request)
        try:
            raw = {"utility": _field(form, "utility"), "cause": _field(form, "cause")}
            try:
                data = msgspec.convert(raw, ConfirmIn)
            except msgspec.ValidationError as exc:
                raise InputError(field_of(exc), str(exc).split(" - at ")[0]) from None
            await confirm(ctx, current_staff(request), suggestion_id, data)
        except InputError as exc:
            return await board(request, status_code=exc.status_code, error=str(exc))
        return Redirect("/ui/outage/", status_code=303)

    @post("/suggestions/{suggestion_id:int}/dismiss", opt={**LEAD, **FORM})
    async def dismiss_form(request: Request[Any, Any, Any], suggestion_id: FromPath[int]) -> Response[Any]:
        await checked_form(request)
        try:
            await dismiss(ctx, current_staff(request), suggestion_id)
        except InputError as exc:
            return await board(request, status_code=exc.status_code, error=str(exc))
        return Redirect("/ui/outage/", status_code=303)

    handlers: Sequence[Any] = (
        banner_fragment,
        banner_stream,
        declare_form,
        etr_form,
        restore_form,
        confirm_form,
        dismiss_form,
    )
    return [PageSpec(handler=board_page, nav_title="Outages"), *(PageSpec(handler=h) for h in handlers)]
