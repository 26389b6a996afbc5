"""HTTP side of the card-terminal inspection: JSON routes under /api/pci_inspection and pages under /ui.

The write operations (add or change a terminal, store a photo, record an inspection, open an incident,
record or review a risk analysis) live here once and serve both the JSON API and the phone-friendly pages;
each runs in one database transaction with its change log, events, mails and audit record, so a refused
request leaves nothing half-written. Bodies are decoded here rather than by the framework so that malformed
JSON answers 400 and a well-formed body with a bad field answers 422 naming that field.

Page forms post back to /ui (the session cookie only authenticates there). Their handlers opt out of the
framework's CSRF middleware and verify the token themselves after the access guard, so an anonymous post is
sent to the login page rather than refused with a bare CSRF error, and a signed-in one is still checked
before anything is read or written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Request, Response, get, patch, post
from litestar.datastructures import UploadFile
from litestar.exceptions import ClientException, NotFoundException, PermissionDeniedException
from litestar.middleware.csrf import CSRF_SECRET_LENGTH, generate_csrf_hash
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect
from litestar.utils.scope.state import ScopeState
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.contract import PageSpec, PluginContext
from core.contract.inputs import field_of
from core.redact import redact
from core.security import current_staff
from core.staff import Staff
from core.web.pages import render
from plugins.pci_inspection import events
from plugins.pci_inspection.models import (
    MAX_ID,
    Assessment,
    PciDevice,
    PciDeviceChange,
    PciIncident,
    PciInspection,
    PciInspectionItem,
    PciPhoto,
    PciRiskAnalysis,
    PciRiskReview,
    assess,
    terminal_usable,
)
from plugins.pci_inspection.service import (
    CHECKLIST,
    INSPECTABLE,
    ITEMS_BY_NUMBER,
    LOCAL_TZ,
    SERIAL,
    SITE_CODE,
    TRANSITIONS,
    CsvInspection,
    DeviceStatus,
    ItemResult,
    ItemSubmission,
    PciConfig,
    TransitionError,
    check_transition,
    image_type,
    inspections_csv,
    local_day,
    outcome,
    review_state,
    usable,
    validate_checklist,
)

# Who may do what (issue: security staff inspect; security, supervisors and admins keep the inventory and
# the risk analysis; the assessors' export is for security and admins). Cash/card pages of any section
# where the plugin is enabled may ask whether a terminal is usable.
INSPECT = {"roles": ["security"]}
MANAGE = {"roles": ["security", "supervisor", "admin"]}
VIEW = MANAGE
EXPORT = {"roles": ["security", "admin"]}
ANY_STAFF = {"access": "staff"}
# Page forms check their CSRF token in the handler, after the guard (see the module docstring).
FORM = {"exclude_from_csrf": True}

Short = Annotated[str, msgspec.Meta(min_length=1, max_length=80, pattern=r"\S")]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=4000, pattern=r"\S")]
SealId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$")]
IdempotencyKey = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._:-]{8,120}$")]
Frequency = Annotated[int, msgspec.Meta(ge=1, le=92)]
RowId = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
T = TypeVar("T")


# -- request bodies --------------------------------------------------------------------------------------
class DeviceIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A terminal to add to the inventory; make, model, serial and location are required (9.5.1.1)."""

    make: Short
    model: Short
    serial_number: Annotated[str, msgspec.Meta(pattern=SERIAL)]
    site: Annotated[str, msgspec.Meta(pattern=SITE_CODE)]
    window: Short
    status: DeviceStatus = DeviceStatus.IN_STOCK
    attended: bool = True
    public_area: bool = True
    seal_ids: Annotated[list[SealId], msgspec.Meta(max_length=20)] = []
    terminal_id: Annotated[str, msgspec.Meta(min_length=1, max_length=40)] | None = None
    assigned_to: Short | None = None
    risk_analysis_id: RowId | None = None


class DevicePatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A change to a terminal; ``reason`` goes into the change log. The serial number never changes."""

    reason: Annotated[str, msgspec.Meta(max_length=1000)] = ""
    status: DeviceStatus | msgspec.UnsetType = msgspec.UNSET
    site: Annotated[str, msgspec.Meta(pattern=SITE_CODE)] | msgspec.UnsetType = msgspec.UNSET
    window: Short | msgspec.UnsetType = msgspec.UNSET
    make: Short | msgspec.UnsetType = msgspec.UNSET
    model: Short | msgspec.UnsetType = msgspec.UNSET
    attended: bool | msgspec.UnsetType = msgspec.UNSET
    public_area: bool | msgspec.UnsetType = msgspec.UNSET
    seal_ids: Annotated[list[SealId], msgspec.Meta(max_length=20)] | msgspec.UnsetType = msgspec.UNSET
    terminal_id: Annotated[str, msgspec.Meta(max_length=40)] | msgspec.UnsetType | None = msgspec.UNSET
    assigned_to: Annotated[str, msgspec.Meta(max_length=80)] | msgspec.UnsetType | None = msgspec.UNSET
    risk_analysis_id: RowId | msgspec.UnsetType | None = msgspec.UNSET


class ItemIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    item: int
    result: ItemResult
    note: Annotated[str, msgspec.Meta(max_length=2000)] = ""
    photo_id: RowId | None = None


class InspectionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    items: Annotated[list[ItemIn], msgspec.Meta(max_length=40)]
    idempotency_key: IdempotencyKey | None = None


class IncidentIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An incident record (rules.md §1.4 step 3); ``found_by`` defaults to the caller, ``found_at`` to now."""

    reference: Short
    description: Text
    found_at: Annotated[dt.datetime, msgspec.Meta(tz=True)] | None = None
    found_by: Short | None = None
    inspection_id: RowId | None = None


class RiskAnalysisIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A targeted risk analysis with the contents PCI DSS 12.3.1 asks for."""

    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
    scope: Text
    assets: Text
    threats: Text
    factors: Text
    frequency_days: Frequency
    justification: Text


class RiskReviewIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    notes: Text
    frequency_days: Frequency | None = None  # a review that changes the frequency says the new one


# -- responses -------------------------------------------------------------------------------------------
class DeviceView(msgspec.Struct, kw_only=True):
    id: int
    make: str
    model: str
    serial_number: str
    terminal_id: str | None
    site: str
    site_title: str
    window: str
    status: str
    usable: bool
    attended: bool
    public_area: bool
    seal_ids: list[str]
    assigned_to: str | None
    risk_analysis_id: int | None
    frequency_days: int
    inspection: str | None  # ok | due | overdue for a deployed terminal
    last_pass_on: dt.date | None
    next_due_on: dt.date | None
    incident_recorded: bool
    status_since: dt.datetime
    deployed_at: dt.datetime | None


class ItemView(msgspec.Struct, kw_only=True):
    item: int
    title: str
    result: str
    note: str
    photo_id: int | None


class InspectionView(msgspec.Struct, kw_only=True):
    id: int
    device_id: int
    site: str
    window: str
    inspected_at: dt.datetime
    local_date: dt.date
    inspector: str
    outcome: str
    items: list[ItemView]
    device_status: str
    usable: bool
    replayed: bool = False


class PhotoView(msgspec.Struct, kw_only=True):
    id: int
    device_id: int
    kind: str
    label: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: dt.datetime
    uploaded_by: str


class ChangeView(msgspec.Struct, kw_only=True):
    at: dt.datetime
    actor: str
    field: str
    old_value: str | None
    new_value: str | None
    reason: str


class IncidentView(msgspec.Struct, kw_only=True):
    id: int
    device_id: int
    inspection_id: int | None
    reference: str
    found_at: dt.datetime
    found_by: str
    description: str
    opened_at: dt.datetime
    opened_by: str


class RiskAnalysisView(msgspec.Struct, kw_only=True):
    id: int
    title: str
    scope: str
    assets: str
    threats: str
    factors: str
    frequency_days: int
    justification: str
    performed_at: dt.datetime
    performed_by: str
    reviewed_at: dt.datetime
    reviewed_by: str
    review_state: str
    review_due_on: dt.date
    devices: list[int]


class HistoryView(msgspec.Struct, kw_only=True):
    device: DeviceView
    changes: list[ChangeView]
    inspections: list[InspectionView]
    incidents: list[IncidentView]
    photos: list[PhotoView]


# -- errors and decoding ---------------------------------------------------------------------------------
class InputError(Exception):
    """Bad input naming the field(s) at fault; 422 unless a status says otherwise (409, 413)."""

    def __init__(self, problems: Sequence[tuple[str, str]], status_code: int = 422) -> None:
        super().__init__("; ".join(f"{k}: {m}" for k, m in problems))
        self.problems = list(problems)
        self.status_code = status_code

    def http(self) -> ClientException:
        return ClientException(
            status_code=self.status_code,
            detail=str(self),
            extra=[{"key": k, "message": m} for k, m in self.problems],
        )


def decode_body(raw: bytes, type_: type[T]) -> T:
    """Malformed JSON → 400; a well-formed body that does not fit the Struct → 422 naming the field."""
    if not raw.strip():
        raise ClientException(status_code=400, detail="body: a JSON object is required")
    try:
        return msgspec.json.decode(raw, type=type_)
    except msgspec.ValidationError as exc:
        raise InputError([(field_of(exc), str(exc).split(" - at ")[0])]).http() from None
    except msgspec.DecodeError as exc:
        raise ClientException(status_code=400, detail=f"body: malformed JSON ({exc})") from None


def convert_form(values: dict[str, Any], type_: type[T]) -> T:
    """Form fields (all strings) into a request Struct; a bad field is an :class:`InputError`."""
    try:
        return msgspec.convert(values, type_, strict=False)
    except msgspec.ValidationError as exc:
        raise InputError([(field_of(exc), str(exc).split(" - at ")[0])]) from None


def _tokens_match(submitted: str, cookie: str, secret: str) -> bool:
    def secret_of(token: str) -> str | None:
        if len(token) <= CSRF_SECRET_LENGTH:
            return None
        body, signature = token[:CSRF_SECRET_LENGTH], token[CSRF_SECRET_LENGTH:]
        return body if hmac.compare_digest(signature, generate_csrf_hash(body, secret)) else None

    a, b = secret_of(submitted), secret_of(cookie)
    return a is not None and b is not None and hmac.compare_digest(a, b)


async def form_of(request: Request[Any, Any, Any]) -> Any:
    """The posted form once its CSRF token matches the cookie (the same double-submit rule as the shell)."""
    config = request.app.csrf_config
    if config is None:  # pragma: no cover - the hub always configures CSRF
        raise PermissionDeniedException("CSRF protection is not configured")
    form = await request.form()
    submitted = request.headers.get(config.header_name) or form.get("_csrf_token")
    cookie = request.cookies.get(config.cookie_name)
    if not (isinstance(submitted, str) and cookie and _tokens_match(submitted, cookie, config.secret)):
        raise PermissionDeniedException("CSRF token verification failed")
    ScopeState.from_scope(request.scope).csrf_token = submitted  # re-rendered forms carry it again
    return form


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


# -- views -----------------------------------------------------------------------------------------------
def site_title(config: PciConfig, site: str) -> str:
    return config.sites.get(site, site)


def device_view(config: PciConfig, a: Assessment) -> DeviceView:
    d = a.device
    return DeviceView(
        id=d.id,
        make=d.make,
        model=d.model,
        serial_number=d.serial_number,
        terminal_id=d.terminal_id,
        site=d.site,
        site_title=site_title(config, d.site),
        window=d.window,
        status=d.status,
        usable=usable(d.device_status),
        attended=d.attended,
        public_area=d.public_area,
        seal_ids=list(d.seal_ids),
        assigned_to=d.assigned_to,
        risk_analysis_id=d.risk_analysis_id,
        frequency_days=a.frequency_days,
        inspection=a.due.state.value if a.due else None,
        last_pass_on=a.due.last_pass_on if a.due else None,
        next_due_on=a.due.due_on if a.due else None,
        incident_recorded=a.incident_recorded,
        status_since=d.status_since,
        deployed_at=d.deployed_at,
    )


def photo_view(p: PciPhoto) -> PhotoView:
    return PhotoView(
        id=p.id,
        device_id=p.device_id,
        kind=p.kind,
        label=p.label,
        content_type=p.content_type,
        size=p.size,
        sha256=p.sha256,
        uploaded_at=p.uploaded_at,
        uploaded_by=p.uploaded_by,
    )


def incident_view(i: PciIncident) -> IncidentView:
    return IncidentView(
        id=i.id,
        device_id=i.device_id,
        inspection_id=i.inspection_id,
        reference=i.reference,
        found_at=i.found_at,
        found_by=i.found_by,
        description=i.description,
        opened_at=i.opened_at,
        opened_by=i.opened_by,
    )


async def inspection_view(
    session: AsyncSession, inspection: PciInspection, device: PciDevice, *, replayed: bool = False
) -> InspectionView:
    items = (
        await session.scalars(
            select(PciInspectionItem)
            .where(PciInspectionItem.inspection_id == inspection.id)
            .order_by(PciInspectionItem.item_no)
        )
    ).all()
    return InspectionView(
        id=inspection.id,
        device_id=inspection.device_id,
        site=inspection.site,
        window=inspection.window,
        inspected_at=inspection.inspected_at,
        local_date=local_day(inspection.inspected_at),
        inspector=inspection.inspector,
        outcome=inspection.outcome,
        items=[
            ItemView(
                item=i.item_no,
                title=ITEMS_BY_NUMBER[i.item_no].title,
                result=i.result,
                note=i.note,
                photo_id=i.photo_id,
            )
            for i in items
        ],
        device_status=device.status,
        usable=usable(device.device_status),
        replayed=replayed,
    )


async def analysis_views(
    session: AsyncSession, config: PciConfig, now: dt.datetime
) -> list[RiskAnalysisView]:
    analyses = (await session.scalars(select(PciRiskAnalysis).order_by(PciRiskAnalysis.id))).all()
    linked = (await session.execute(select(PciDevice.risk_analysis_id, PciDevice.id))).all()
    views = []
    for a in analyses:
        review = review_state(
            now,
            a.reviewed_at,
            interval_months=config.review_interval_months,
            warning_days=config.review_warning_days,
        )
        views.append(
            RiskAnalysisView(
                id=a.id,
                title=a.title,
                scope=a.scope,
                assets=a.assets,
                threats=a.threats,
                factors=a.factors,
                frequency_days=a.frequency_days,
                justification=a.justification,
                performed_at=a.performed_at,
                performed_by=a.performed_by,
                reviewed_at=a.reviewed_at,
                reviewed_by=a.reviewed_by,
                review_state=review.state.value,
                review_due_on=review.due_on,
                devices=sorted(d for ra, d in linked if ra == a.id),
            )
        )
    return views


async def history(session: AsyncSession, config: PciConfig, now: dt.datetime, device_id: int) -> HistoryView:
    found = await assess(session, config, now, device_id=device_id)
    if not found:
        raise NotFoundException(f"no terminal {device_id}")
    device = found[0].device
    changes = (
        await session.scalars(
            select(PciDeviceChange)
            .where(PciDeviceChange.device_id == device_id)
            .order_by(PciDeviceChange.at.desc(), PciDeviceChange.id.desc())
        )
    ).all()
    inspections = (
        await session.scalars(
            select(PciInspection)
            .where(PciInspection.device_id == device_id)
            .order_by(PciInspection.inspected_at.desc(), PciInspection.id.desc())
        )
    ).all()
    incidents = (
        await session.scalars(
            select(PciIncident).where(PciIncident.device_id == device_id).order_by(PciIncident.id.desc())
        )
    ).all()
    photos = (
        await session.scalars(select(PciPhoto).where(PciPhoto.device_id == device_id).order_by(PciPhoto.id))
    ).all()
    return HistoryView(
        device=device_view(config, found[0]),
        changes=[
            ChangeView(
                at=c.at,
                actor=c.actor,
                field=c.field,
                old_value=c.old_value,
                new_value=c.new_value,
                reason=c.reason,
            )
            for c in changes
        ],
        inspections=[await inspection_view(session, i, device) for i in inspections],
        incidents=[incident_view(i) for i in incidents],
        photos=[photo_view(p) for p in photos],
    )


# -- write operations ------------------------------------------------------------------------------------
def _log_change(
    session: AsyncSession,
    device: PciDevice,
    name: str,
    old: Any,
    new: Any,
    *,
    reason: str,
    actor: str,
    at: dt.datetime,
) -> None:
    def text(value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return str(value)

    session.add(
        PciDeviceChange(
            device_id=device.id,
            at=at,
            actor=actor,
            field=name,
            old_value=text(old),
            new_value=text(new),
            reason=redact(reason),
        )
    )


def _set_status(
    ctx: PluginContext,
    session: AsyncSession,
    device: PciDevice,
    new: DeviceStatus,
    *,
    reason: str,
    actor: str,
    cause: str,
) -> None:
    """Change a terminal's status with its change-log entry and event (9.5.1.1: the list stays current)."""
    now = ctx.clock.now()
    old = device.status
    device.status = new.value
    device.status_since = now
    if new is DeviceStatus.DEPLOYED:
        device.deployed_at = now  # a new service period: it needs a fresh passing inspection
    _log_change(session, device, "status", old, new.value, reason=reason, actor=actor, at=now)
    ctx.events.emit(
        session,
        events.STATUS_CHANGED,
        events.TerminalStatusChanged(
            device_id=device.id,
            serial_number=device.serial_number,
            site=device.site,
            window=device.window,
            old_status=old,
            new_status=new.value,
            usable=usable(new),
            cause=cause,
        ),
        actor=actor,
    )


async def _device(session: AsyncSession, device_id: int, *, lock: bool = False) -> PciDevice:
    if not 1 <= device_id <= MAX_ID:
        raise NotFoundException(f"no terminal {device_id}")
    query = select(PciDevice).where(PciDevice.id == device_id)
    if lock:
        query = query.with_for_update()
    device = await session.scalar(query)
    if device is None:
        raise NotFoundException(f"no terminal {device_id}")
    return device


async def _check_analysis(session: AsyncSession, analysis_id: int | None) -> None:
    if analysis_id is not None and await session.get(PciRiskAnalysis, analysis_id) is None:
        raise InputError([("risk_analysis_id", f"there is no risk analysis {analysis_id}")])


def _check_site(config: PciConfig, site: str) -> None:
    if site not in config.sites:
        raise InputError([("site", f"unknown site {site!r}; known sites: {', '.join(sorted(config.sites))}")])


async def create_device(ctx: PluginContext, session: AsyncSession, staff: Staff, data: DeviceIn) -> PciDevice:
    _check_site(ctx.config, data.site)
    await _check_analysis(session, data.risk_analysis_id)
    existing = await session.scalar(select(PciDevice.id).where(PciDevice.serial_number == data.serial_number))
    if existing is not None:
        raise InputError([("serial_number", f"already in the inventory as terminal {existing}")], 409)
    now = ctx.clock.now()
    device = PciDevice(
        make=data.make.strip(),
        model=data.model.strip(),
        serial_number=data.serial_number,
        terminal_id=data.terminal_id,
        site=data.site,
        window=data.window.strip(),
        status=data.status.value,
        attended=data.attended,
        public_area=data.public_area,
        seal_ids=list(data.seal_ids),
        assigned_to=data.assigned_to,
        risk_analysis_id=data.risk_analysis_id,
        created_at=now,
        status_since=now,
        deployed_at=now if data.status is DeviceStatus.DEPLOYED else None,
    )
    session.add(device)
    await session.flush()
    _log_change(
        session,
        device,
        "created",
        None,
        f"{data.status.value} at {data.site} {device.window}",
        reason="added to the inventory",
        actor=staff.actor,
        at=now,
    )
    ctx.events.emit(
        session,
        events.STATUS_CHANGED,
        events.TerminalStatusChanged(
            device_id=device.id,
            serial_number=device.serial_number,
            site=device.site,
            window=device.window,
            old_status=None,
            new_status=device.status,
            usable=usable(data.status),
            cause="inventory",
        ),
        actor=staff.actor,
    )
    await ctx.audit.append(
        session,
        actor=staff.actor,
        action="pci.device.added",
        target=f"pci_device:{device.id}",
        detail={"serial_number": device.serial_number, "site": device.site, "status": device.status},
    )
    return device


async def update_device(
    ctx: PluginContext, session: AsyncSession, staff: Staff, device_id: int, data: DevicePatch
) -> PciDevice:
    device = await _device(session, device_id, lock=True)
    reason = data.reason.strip()
    changes = {
        name: getattr(data, name)
        for name in DevicePatch.__struct_fields__
        if name != "reason" and getattr(data, name) is not msgspec.UNSET
    }
    changes = {k: v for k, v in changes.items() if getattr(device, k) != (v.value if k == "status" else v)}
    if not changes:
        raise InputError([("body", "nothing to change: every given field already has that value")])
    if not reason:
        raise InputError([("reason", "say why; the reason is kept in the terminal's change log")])
    if "site" in changes:
        _check_site(ctx.config, changes["site"])
    if "risk_analysis_id" in changes:
        await _check_analysis(session, changes["risk_analysis_id"])
    new_status = changes.pop("status", None)
    if new_status is not None:
        try:
            check_transition(device.device_status, new_status)
        except TransitionError as exc:
            raise InputError([("status", str(exc))], 409) from None
    now = ctx.clock.now()
    old_site, old_window = device.site, device.window
    for name, value in changes.items():
        _log_change(
            session, device, name, getattr(device, name), value, reason=reason, actor=staff.actor, at=now
        )
        setattr(device, name, list(value) if isinstance(value, list) else value)
    if "site" in changes or "window" in changes:
        ctx.events.emit(
            session,
            events.RELOCATED,
            events.TerminalRelocated(
                device_id=device.id,
                serial_number=device.serial_number,
                old_site=old_site,
                old_window=old_window,
                site=device.site,
                window=device.window,
            ),
            actor=staff.actor,
        )
    if new_status is not None:
        _set_status(ctx, session, device, new_status, reason=reason, actor=staff.actor, cause="inventory")
    await ctx.audit.append(
        session,
        actor=staff.actor,
        action="pci.device.changed",
        target=f"pci_device:{device.id}",
        detail={
            "fields": sorted([*changes, *(["status"] if new_status is not None else [])]),
            "reason": reason,
        },
    )
    return device


async def store_photo(
    ctx: PluginContext,
    session: AsyncSession,
    staff: Staff,
    device: PciDevice,
    upload: UploadFile,
    *,
    kind: str,
    label: str,
    field_name: str = "file",
) -> PciPhoto:
    """Keep an uploaded photo's bytes with its type, size and SHA-256 (served back to staff only)."""
    limit = ctx.config.max_photo_bytes
    data = await upload.read(limit + 1)
    if not data:
        raise InputError([(field_name, "the photo is empty")])
    if len(data) > limit:
        raise InputError([(field_name, f"the photo is larger than {limit // 1_000_000} MB")], 413)
    content_type = image_type(data[:16])
    if content_type is None:
        raise InputError([(field_name, "not a JPEG, PNG, WebP, GIF or HEIC image")])
    photo = PciPhoto(
        device_id=device.id,
        kind=kind,
        label=label[:40],
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        uploaded_at=ctx.clock.now(),
        uploaded_by=staff.name,
    )
    session.add(photo)
    await session.flush()
    return photo


def _upload(form: Any, name: str) -> UploadFile | None:
    value = form.get(name)
    # A file input left empty still sends a part, with no file name and no bytes.
    if isinstance(value, UploadFile) and value.filename:
        return value
    return None


@dataclass
class InspectionInput:
    """A checklist submission from either transport, with how that transport names a field in errors."""

    items: list[ItemSubmission]
    photo_ids: dict[int, int]  # item number → photo id
    key: str | None
    # (item number, answer position or None, "item"/"result"/"note"/"photo") → the field's name
    field_name: Callable[[int, int | None, str], str]


def json_field(number: int, position: int | None, kind: str) -> str:
    if position is None:
        return "items"
    return f"items[{position}]." + {"photo": "photo_id", "result": "item"}.get(kind, kind)


def form_field(number: int, position: int | None, kind: str) -> str:
    return {"note": "note_", "photo": "photo_"}.get(kind, "item_") + str(number)


def _problems(data: InspectionInput) -> list[tuple[str, str]]:
    return [(data.field_name(p.item, p.position, p.field), p.message) for p in validate_checklist(data.items)]


async def _replay(session: AsyncSession, key: str, device_id: int) -> PciInspection | None:
    existing = await session.scalar(select(PciInspection).where(PciInspection.idempotency_key == key))
    if existing is not None and existing.device_id != device_id:
        raise InputError([("idempotency_key", f"already used for terminal {existing.device_id}")], 409)
    return existing


async def record_inspection(
    ctx: PluginContext,
    session: AsyncSession,
    staff: Staff,
    device: PciDevice,
    data: InspectionInput,
) -> PciInspection:
    """Store an inspection; a fail takes the terminal out of service and alerts (rules.md §1.4 steps 1, 3)."""
    config: PciConfig = ctx.config
    if device.device_status not in INSPECTABLE:
        raise InputError(
            [("device", f"terminal {device.id} is {device.status} and cannot be inspected")], 409
        )
    problems = _problems(data)
    if problems:
        raise InputError(problems)
    positions = {s.number: i for i, s in reversed(list(enumerate(data.items)))}
    for number, photo_id in data.photo_ids.items():
        photo = await session.get(PciPhoto, photo_id)
        if photo is None or photo.device_id != device.id:
            name = data.field_name(number, positions.get(number), "photo")
            raise InputError([(name, f"no photo {photo_id} of this terminal")])
    now = ctx.clock.now()
    result = outcome(data.items)
    inspection = PciInspection(
        device_id=device.id,
        inspected_at=now,
        inspector=staff.name,
        inspector_id=staff.id,
        outcome=result,
        site=device.site,
        window=device.window,
        idempotency_key=data.key,
    )
    session.add(inspection)
    await session.flush()
    for sub in sorted(data.items, key=lambda s: s.number):
        session.add(
            PciInspectionItem(
                inspection_id=inspection.id,
                item_no=sub.number,
                result=sub.result.value,
                note=redact(sub.note.strip()),
                photo_id=data.photo_ids.get(sub.number),
            )
        )
    failed = sorted(s.number for s in data.items if s.result is ItemResult.FAIL)
    ctx.events.emit(
        session,
        events.INSPECTION_RECORDED,
        events.InspectionRecorded(
            inspection_id=inspection.id,
            device_id=device.id,
            serial_number=device.serial_number,
            site=device.site,
            window=device.window,
            inspector=staff.name,
            inspected_at=now,
            outcome=result,
            results=[
                events.ItemOutcome(item=s.number, result=s.result.value)
                for s in sorted(data.items, key=lambda s: s.number)
            ],
        ),
        actor=staff.actor,
    )
    if failed:
        if device.device_status is not DeviceStatus.OUT_OF_SERVICE:
            _set_status(
                ctx,
                session,
                device,
                DeviceStatus.OUT_OF_SERVICE,
                reason=f"failed inspection #{inspection.id} (items {', '.join(map(str, failed))})",
                actor=staff.actor,
                cause="failed_inspection",
            )
        ctx.events.emit(
            session,
            events.FAILED_INSPECTION,
            events.TerminalFailedInspection(
                inspection_id=inspection.id,
                device_id=device.id,
                serial_number=device.serial_number,
                make=device.make,
                model=device.model,
                site=device.site,
                window=device.window,
                inspector=staff.name,
                inspected_at=now,
                failed_items=failed,
            ),
            actor=staff.actor,
        )
        notes = {s.number: redact(s.note.strip()) for s in data.items if s.result is ItemResult.FAIL}
        subject = f"PCI terminal {device.serial_number} failed inspection at {device.site} {device.window}"
        body = _failure_mail(config, device, inspection, notes)
        for group, recipients in (
            ("security", config.security_emails),
            ("supervisor", config.supervisor_emails),
        ):
            await ctx.mail.queue(
                session,
                to=list(recipients),
                subject=subject[:200],
                body=body,
                idempotency_key=f"pci_inspection:{inspection.id}:{group}",
            )
    await ctx.audit.append(
        session,
        actor=staff.actor,
        action="pci.inspection.recorded",
        target=f"pci_device:{device.id}",
        detail={"inspection_id": inspection.id, "outcome": result, "failed_items": failed},
    )
    return inspection


def _failure_mail(
    config: PciConfig, device: PciDevice, inspection: PciInspection, notes: dict[int, str]
) -> str:
    at = inspection.inspected_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M %Z")
    lines = [
        f"Terminal {device.make} {device.model}, serial {device.serial_number} (terminal #{device.id})",
        f"at {site_title(config, device.site)} ({device.site}), {device.window},",
        f"failed its inspection #{inspection.id} by {inspection.inspector} at {at}.",
        "",
        "Failed items:",
        *(f"  {n}. {ITEMS_BY_NUMBER[n].title}: {note}" for n, note in sorted(notes.items())),
        "",
        "The terminal is now OUT OF SERVICE in the inventory; the cash/card pages refuse it.",
        "What to do now (PCI DSS 9.5.1, incident response 12.10.1):",
        "  - Do not power it off, unplug, clean or remove anything unless the acquirer or police say so.",
        "  - Keep others away and preserve CCTV for the period since it was last verified clean.",
        "  - Open an incident record for the terminal in the hub, then notify the acquirer and vendor.",
        "  - Inspect every other terminal at this site.",
        "",
        f"History: /ui/pci_inspection/devices/{device.id}",
    ]
    return "\n".join(lines)


async def open_incident(
    ctx: PluginContext, session: AsyncSession, staff: Staff, device_id: int, data: IncidentIn
) -> PciIncident:
    device = await _device(session, device_id)
    now = ctx.clock.now()
    found_at = data.found_at.astimezone(dt.UTC) if data.found_at else now
    if found_at > now + dt.timedelta(minutes=5):
        raise InputError([("found_at", "cannot be in the future")])
    if data.inspection_id is not None:
        inspection = await session.get(PciInspection, data.inspection_id)
        if inspection is None or inspection.device_id != device.id:
            raise InputError([("inspection_id", f"no inspection {data.inspection_id} of this terminal")])
    incident = PciIncident(
        device_id=device.id,
        inspection_id=data.inspection_id,
        reference=redact(data.reference.strip()),
        found_at=found_at,
        found_by=(data.found_by or staff.name).strip(),
        description=redact(data.description.strip()),
        opened_at=now,
        opened_by=staff.name,
    )
    session.add(incident)
    await session.flush()
    ctx.events.emit(
        session,
        events.INCIDENT_OPENED,
        events.IncidentOpened(
            incident_id=incident.id,
            reference=incident.reference,
            device_id=device.id,
            serial_number=device.serial_number,
            site=device.site,
            inspection_id=data.inspection_id,
        ),
        actor=staff.actor,
    )
    await ctx.audit.append(
        session,
        actor=staff.actor,
        action="pci.incident.opened",
        target=f"pci_device:{device.id}",
        detail={"incident_id": incident.id, "reference": incident.reference},
    )
    return incident


async def create_analysis(
    ctx: PluginContext, session: AsyncSession, staff: Staff, data: RiskAnalysisIn
) -> PciRiskAnalysis:
    now = ctx.clock.now()
    analysis = PciRiskAnalysis(
        title=data.title.strip(),
        scope=redact(data.scope.strip()),
        assets=redact(data.assets.strip()),
        threats=redact(data.threats.strip()),
        factors=redact(data.factors.strip()),
        frequency_days=data.frequency_days,
        justification=redact(data.justification.strip()),
        performed_at=now,
        performed_by=staff.name,
        reviewed_at=now,
        reviewed_by=staff.name,
    )
    session.add(analysis)
    await session.flush()
    await ctx.audit.append(
        session,
        actor=staff.actor,
        action="pci.risk_analysis.recorded",
        target=f"pci_risk_analysis:{analysis.id}",
        detail={"title": analysis.title, "frequency_days": analysis.frequency_days},
    )
    return analysis


async def review_analysis(
    ctx: PluginContext, session: AsyncSession, staff: Staff, analysis_id: int, data: RiskReviewIn
) -> PciRiskAnalysis:
    analysis = (
        await session.get(PciRiskAnalysis, analysis_id, with_for_update=True)
        if 1 <= analysis_id <= MAX_ID
        else None
    )
    if analysis is None:
        raise NotFoundException(f"no risk analysis {analysis_id}")
    now = ctx.clock.now()
    if data.frequency_days is not None:
        analysis.frequency_days = data.frequency_days
    analysis.reviewed_at = now
    analysis.reviewed_by = staff.name
    session.add(
        PciRiskReview(
            analysis_id=analysis.id,
            reviewed_at=now,
            reviewed_by=staff.name,
            notes=redact(data.notes.strip()),
            frequency_days=analysis.frequency_days,
        )
    )
    await ctx.audit.append(
        session,
        actor=staff.actor,
        action="pci.risk_analysis.reviewed",
        target=f"pci_risk_analysis:{analysis.id}",
        detail={"frequency_days": analysis.frequency_days},
    )
    return analysis


async def csv_rows(
    session: AsyncSession, *, site: str | None, start: dt.datetime | None, end: dt.datetime | None
) -> list[CsvInspection]:
    query = (
        select(PciInspection, PciDevice)
        .join(PciDevice, PciDevice.id == PciInspection.device_id)
        .order_by(PciInspection.inspected_at, PciInspection.id)
    )
    if site:
        query = query.where(PciInspection.site == site)
    if start is not None:
        query = query.where(PciInspection.inspected_at >= start)
    if end is not None:
        query = query.where(PciInspection.inspected_at < end)
    pairs = (await session.execute(query)).all()
    ids = [i.id for i, _d in pairs]
    items: dict[int, list[PciInspectionItem]] = {i: [] for i in ids}
    if ids:
        for item in await session.scalars(
            select(PciInspectionItem).where(PciInspectionItem.inspection_id.in_(ids))
        ):
            items[item.inspection_id].append(item)
    return [
        CsvInspection(
            inspection_id=i.id,
            device_id=d.id,
            serial_number=d.serial_number,
            make=d.make,
            model=d.model,
            site=i.site,
            window=i.window,
            inspected_at=i.inspected_at,
            inspector=i.inspector,
            outcome=i.outcome,
            results={it.item_no: it.result for it in items[i.id]},
            notes={it.item_no: it.note for it in items[i.id] if it.note},
        )
        for i, d in pairs
    ]


def _local_bounds(
    start: dt.date | None, end: dt.date | None
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """Local calendar days (inclusive) as a half-open UTC interval; midnight is taken in Los Angeles."""
    lo = dt.datetime.combine(start, dt.time(), tzinfo=LOCAL_TZ).astimezone(dt.UTC) if start else None
    hi = (
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=LOCAL_TZ).astimezone(dt.UTC)
        if end
        else None
    )
    return lo, hi


async def export_csv(
    ctx: PluginContext, staff: Staff, site: str | None, start: dt.date | None, end: dt.date | None
) -> Response[str]:
    for name, day in (("from", start), ("to", end)):
        if day is not None and not 2000 <= day.year <= 2999:
            raise InputError([(name, "a date between the years 2000 and 2999")]).http()
    if start and end and end < start:
        raise InputError([("to", "must not be before from")]).http()
    lo, hi = _local_bounds(start, end)
    async with ctx.db.session() as session:
        rows = await csv_rows(session, site=site, start=lo, end=hi)
        # Assessors' exports are recorded: who took which inspection records, and when.
        await ctx.audit.append(
            session,
            actor=staff.actor,
            action="pci.inspections.exported",
            target="pci_inspection",
            detail={"site": site, "from": str(start or ""), "to": str(end or ""), "rows": len(rows)},
        )
    today = local_day(ctx.clock.now()).isoformat()
    return Response(
        inspections_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="pci-inspections-{today}.csv"'},
    )


async def photo_response(ctx: PluginContext, photo_id: int) -> Response[bytes]:
    async with ctx.db.session() as session:
        photo = await session.get(PciPhoto, photo_id) if 1 <= photo_id <= MAX_ID else None
        if photo is None:
            raise NotFoundException(f"no photo {photo_id}")
    return Response(
        photo.data,
        media_type=photo.content_type,
        headers={
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f'inline; filename="pci-photo-{photo.id}"',
        },
    )


# -- JSON routes -----------------------------------------------------------------------------------------
def _api_inspection(raw: InspectionIn, header_key: str | None) -> InspectionInput:
    key = raw.idempotency_key
    if header_key is not None:
        if not re.fullmatch(r"[A-Za-z0-9._:-]{8,120}", header_key):
            raise InputError([("Idempotency-Key", "8-120 letters, digits or . _ : -")])
        if key is not None and key != header_key:
            raise InputError([("idempotency_key", "differs from the Idempotency-Key header")])
        key = header_key
    return InspectionInput(
        items=[ItemSubmission(i.item, i.result, i.note, i.photo_id is not None) for i in raw.items],
        photo_ids={i.item: i.photo_id for i in raw.items if i.photo_id is not None},
        key=key,
        field_name=json_field,
    )


def routes(ctx: PluginContext) -> list[Any]:
    config: PciConfig = ctx.config

    @get("/checklist", opt=VIEW, summary="The 14 checklist items")
    async def checklist() -> list[dict[str, Any]]:
        return [{"item": i.number, "title": i.title, "guidance": i.guidance} for i in CHECKLIST]

    @get("/devices", opt=VIEW, summary="The terminal inventory")
    async def list_devices(
        site: Annotated[str | None, QueryParameter(pattern=SITE_CODE)] = None,
        status: Annotated[DeviceStatus | None, QueryParameter()] = None,
    ) -> list[DeviceView]:
        async with ctx.db.session() as session:
            found = await assess(session, config, ctx.clock.now())
        return [
            device_view(config, a)
            for a in found
            if (site is None or a.device.site == site) and (status is None or a.device.status == status)
        ]

    @post("/devices", opt=MANAGE, status_code=201, summary="Add a terminal to the inventory")
    async def add_device(request: Request[Any, Any, Any]) -> DeviceView:
        """Body: ``DeviceIn`` (make, model, serial_number, site, window required)."""
        data = decode_body(await request.body(), DeviceIn)
        staff = current_staff(request)
        try:
            async with ctx.db.session() as session:
                device = await create_device(ctx, session, staff, data)
                found = await assess(session, config, ctx.clock.now(), device_id=device.id)
        except InputError as exc:
            raise exc.http() from None
        return device_view(config, found[0])

    @get("/devices/{device_id:int}", opt=VIEW, summary="One terminal")
    async def get_device(device_id: FromPath[int]) -> DeviceView:
        async with ctx.db.session() as session:
            found = await assess(session, config, ctx.clock.now(), device_id=device_id)
        if not found:
            raise NotFoundException(f"no terminal {device_id}")
        return device_view(config, found[0])

    @patch("/devices/{device_id:int}", opt=MANAGE, summary="Change a terminal (status, location, seals …)")
    async def change_device(request: Request[Any, Any, Any], device_id: FromPath[int]) -> DeviceView:
        """Body: ``DevicePatch``; every change needs a ``reason`` and writes the change log."""
        data = decode_body(await request.body(), DevicePatch)
        try:
            async with ctx.db.session() as session:
                await update_device(ctx, session, current_staff(request), device_id, data)
                found = await assess(session, config, ctx.clock.now(), device_id=device_id)
        except InputError as exc:
            raise exc.http() from None
        return device_view(config, found[0])

    @get("/devices/{device_id:int}/usable", opt=ANY_STAFF, summary="May the cash/card pages use it?")
    async def device_usable(device_id: FromPath[int]) -> dict[str, Any]:
        async with ctx.db.session() as session:
            device = await _device(session, device_id)
            ok = await terminal_usable(session, device_id)
        return {
            "device_id": device.id,
            "serial_number": device.serial_number,
            "site": device.site,
            "window": device.window,
            "status": device.status,
            "usable": ok,
        }

    @get("/devices/{device_id:int}/history", opt=VIEW, summary="Changes, inspections, incidents, photos")
    async def device_history(device_id: FromPath[int]) -> HistoryView:
        async with ctx.db.session() as session:
            return await history(session, config, ctx.clock.now(), device_id)

    @post(
        "/devices/{device_id:int}/photos",
        opt=MANAGE,
        status_code=201,
        summary="Upload a photo (multipart: file, kind=reference|evidence, label)",
        request_max_body_size=config.max_photo_bytes + 100_000,
    )
    async def upload_photo(request: Request[Any, Any, Any], device_id: FromPath[int]) -> PhotoView:
        form = await request.form()
        kind = form.get("kind") or "evidence"
        if kind not in ("reference", "evidence"):
            raise InputError([("kind", "reference or evidence")]).http()
        label = form.get("label") or ""
        upload = _upload(form, "file")
        staff = current_staff(request)
        try:
            async with ctx.db.session() as session:
                device = await _device(session, device_id)
                if upload is None:
                    raise InputError([("file", "a photo file is required (multipart field 'file')")])
                photo = await store_photo(ctx, session, staff, device, upload, kind=kind, label=str(label))
                await ctx.audit.append(
                    session,
                    actor=staff.actor,
                    action="pci.photo.uploaded",
                    target=f"pci_device:{device.id}",
                    detail={"photo_id": photo.id, "kind": kind, "sha256": photo.sha256},
                )
        except InputError as exc:
            raise exc.http() from None
        return photo_view(photo)

    @get("/photos/{photo_id:int}", opt=VIEW, summary="A photo's bytes")
    async def get_photo(photo_id: FromPath[int]) -> Response[bytes]:
        return await photo_response(ctx, photo_id)

    @post("/devices/{device_id:int}/inspections", opt=INSPECT, summary="Record an inspection")
    async def inspect(request: Request[Any, Any, Any], device_id: FromPath[int]) -> Response[InspectionView]:
        """Body: ``InspectionIn``; all 14 items, a note and a ``photo_id`` on each fail.

        Idempotent on ``idempotency_key`` (or the ``Idempotency-Key`` header): a repeat answers 200 with the
        first record and ``replayed: true``.
        """
        raw = decode_body(await request.body(), InspectionIn)
        staff = current_staff(request)
        try:
            data = _api_inspection(raw, request.headers.get("idempotency-key"))
            view = await _inspect(ctx, staff, device_id, data)
        except InputError as exc:
            raise exc.http() from None
        return Response(view, status_code=200 if view.replayed else 201)

    @post(
        "/devices/{device_id:int}/incidents", opt=MANAGE, status_code=201, summary="Open an incident record"
    )
    async def add_incident(request: Request[Any, Any, Any], device_id: FromPath[int]) -> IncidentView:
        data = decode_body(await request.body(), IncidentIn)
        try:
            async with ctx.db.session() as session:
                incident = await open_incident(ctx, session, current_staff(request), device_id, data)
        except InputError as exc:
            raise exc.http() from None
        return incident_view(incident)

    @get("/risk-analyses", opt=VIEW, summary="Targeted risk analyses and their review state")
    async def list_analyses() -> list[RiskAnalysisView]:
        async with ctx.db.session() as session:
            return await analysis_views(session, config, ctx.clock.now())

    @post("/risk-analyses", opt=MANAGE, status_code=201, summary="Record a targeted risk analysis")
    async def add_analysis(request: Request[Any, Any, Any]) -> RiskAnalysisView:
        data = decode_body(await request.body(), RiskAnalysisIn)
        async with ctx.db.session() as session:
            analysis = await create_analysis(ctx, session, current_staff(request), data)
            views = await analysis_views(session, config, ctx.clock.now())
        return next(v for v in views if v.id == analysis.id)

    @post(
        "/risk-analyses/{analysis_id:int}/reviews",
        opt=MANAGE,
        status_code=201,
        summary="Record a review of a risk analysis",
    )
    async def add_review(request: Request[Any, Any, Any], analysis_id: FromPath[int]) -> RiskAnalysisView:
        data = decode_body(await request.body(), RiskReviewIn)
        async with ctx.db.session() as session:
            await review_analysis(ctx, session, current_staff(request), analysis_id, data)
            views = await analysis_views(session, config, ctx.clock.now())
        return next(v for v in views if v.id == analysis_id)

    @get("/inspections.csv", opt=EXPORT, summary="Inspections as CSV for assessors")
    async def inspections_export(
        request: Request[Any, Any, Any],
        site: Annotated[str | None, QueryParameter(pattern=SITE_CODE)] = None,
        start: Annotated[dt.date | None, QueryParameter(name="from")] = None,
        end: Annotated[dt.date | None, QueryParameter(name="to")] = None,
    ) -> Response[str]:
        """Local dates (America/Los_Angeles), both inclusive."""
        return await export_csv(ctx, current_staff(request), site, start, end)

    return [
        checklist,
        list_devices,
        add_device,
        get_device,
        change_device,
        device_usable,
        device_history,
        upload_photo,
        get_photo,
        inspect,
        add_incident,
        list_analyses,
        add_analysis,
        add_review,
        inspections_export,
    ]


async def _inspect(ctx: PluginContext, staff: Staff, device_id: int, data: InspectionInput) -> InspectionView:
    """Record an inspection once per idempotency key, even when two identical submissions race."""
    try:
        async with ctx.db.session() as session:
            if data.key is not None:
                existing = await _replay(session, data.key, device_id)
                if existing is not None:
                    device = await _device(session, device_id)
                    return await inspection_view(session, existing, device, replayed=True)
            device = await _device(session, device_id, lock=True)
            inspection = await record_inspection(ctx, session, staff, device, data)
            view = await inspection_view(session, inspection, device)
    except IntegrityError:
        if data.key is None:
            raise
        # The same key committed first in another transaction: answer with that record.
        async with ctx.db.session() as session:
            existing = await _replay(session, data.key, device_id)
            if existing is None:
                raise
            device = await _device(session, device_id)
            return await inspection_view(session, existing, device, replayed=True)
    return view


# -- pages -----------------------------------------------------------------------------------------------
STATUS_TITLES = {
    "in_stock": "In stock",
    "deployed": "Deployed",
    "out_of_service": "Out of service",
    "quarantined": "Quarantined",
    "in_repair": "In repair",
    "decommissioned": "Decommissioned",
    "lost": "Lost",
}


def _page_context(staff: Staff, config: PciConfig) -> dict[str, Any]:
    role = staff.role.value
    return {
        "can_inspect": role in INSPECT["roles"],
        "can_manage": role in MANAGE["roles"],
        "can_export": role in EXPORT["roles"],
        "sites": config.sites,
        "status_titles": STATUS_TITLES,
        "checklist": CHECKLIST,
    }


def pages(ctx: PluginContext) -> list[PageSpec]:
    config: PciConfig = ctx.config

    async def checklist_page(
        request: Request[Any, Any, Any],
        site: str | None,
        *,
        status_code: int = 200,
        errors: dict[int, dict[str, str]] | None = None,
        answers: dict[int, dict[int, dict[str, str]]] | None = None,
        done: int | None = None,
    ) -> Response[Any]:
        staff = current_staff(request)
        chosen = site if site in config.sites else next(iter(sorted(config.sites)))
        now = ctx.clock.now()
        async with ctx.db.session() as session:
            found = [a for a in await assess(session, config, now) if a.device.site == chosen]
            photos = (
                await session.execute(
                    select(PciPhoto.device_id, PciPhoto.id, PciPhoto.label)
                    .join(PciDevice, PciDevice.id == PciPhoto.device_id)
                    .where(PciDevice.site == chosen, PciPhoto.kind == "reference")
                    .order_by(PciPhoto.id)
                )
            ).all()
            recorded = None
            if done is not None and 1 <= done <= MAX_ID:
                inspection = await session.get(PciInspection, done)
                if inspection is not None:
                    device = await _device(session, inspection.device_id)
                    recorded = {"inspection": inspection, "device": device}
        references: dict[int, list[tuple[int, str]]] = {}
        for device_id, photo_id, label in photos:
            references.setdefault(device_id, []).append((photo_id, label))
        deployed = [a for a in found if a.device.status == DeviceStatus.DEPLOYED]
        return render(
            request,
            "pci_inspection/checklist.html",
            status_code=status_code,
            site=chosen,
            deployed=deployed,
            others=[
                a for a in found if a.device.status in (DeviceStatus.OUT_OF_SERVICE, DeviceStatus.QUARANTINED)
            ],
            references=references,
            tokens={a.device.id: secrets.token_urlsafe(18) for a in deployed},
            errors=errors or {},
            answers=answers or {},
            recorded=recorded,
            today=local_day(now),
            **_page_context(staff, config),
        )

    @get("/", opt=VIEW)
    async def checklist(
        request: Request[Any, Any, Any],
        site: FromQuery[str | None] = None,
        done: FromQuery[int | None] = None,
    ) -> Response[Any]:
        return await checklist_page(request, site, done=done)

    @post(
        "/devices/{device_id:int}/inspect",
        opt={**INSPECT, **FORM},
        request_max_body_size=len(CHECKLIST) * config.max_photo_bytes + 1_000_000,
    )
    async def inspect_form(request: Request[Any, Any, Any], device_id: FromPath[int]) -> Response[Any]:
        form = await form_of(request)
        staff = current_staff(request)
        items: list[ItemSubmission] = []
        answers: dict[int, dict[str, str]] = {}
        uploads: dict[int, UploadFile] = {}
        for item in CHECKLIST:
            n = item.number
            raw = _text(form, f"item_{n}")
            note = _text(form, f"note_{n}")
            answers[n] = {"result": raw, "note": note}
            upload = _upload(form, f"photo_{n}")
            if upload is not None:
                uploads[n] = upload
            if raw in ItemResult.__members__.values():
                items.append(ItemSubmission(n, ItemResult(raw), note, upload is not None))
        key = _text(form, "form_token") or None
        data = InspectionInput(
            items=items,
            photo_ids={},
            key=f"form:{key}" if key else None,
            field_name=form_field,
        )
        site = None
        try:
            async with ctx.db.session() as session:
                device = await _device(session, device_id, lock=True)
                site = device.site
                existing = await _replay(session, data.key, device_id) if data.key else None
                if existing is None:
                    if not _problems(data):  # store photos only for a submission that will be recorded
                        for n, upload in uploads.items():
                            photo = await store_photo(
                                ctx,
                                session,
                                staff,
                                device,
                                upload,
                                kind="evidence",
                                label=f"item {n}",
                                field_name=f"photo_{n}",
                            )
                            data.photo_ids[n] = photo.id
                    existing = await record_inspection(ctx, session, staff, device, data)
                done = existing.id
        except IntegrityError:
            async with ctx.db.session() as session:
                replay = await _replay(session, data.key, device_id) if data.key else None
            if replay is None:
                raise
            done = replay.id
        except InputError as exc:
            errors: dict[int, dict[str, str]] = {device_id: {}}
            for key_name, message in exc.problems:
                errors[device_id][key_name] = message
            return await checklist_page(
                request, site, status_code=exc.status_code, errors=errors, answers={device_id: answers}
            )
        return Redirect(f"/ui/pci_inspection/?site={site}&done={done}#recorded", status_code=303)

    async def inventory_page(
        request: Request[Any, Any, Any],
        *,
        status_code: int = 200,
        error: str | None = None,
        values: dict[str, str] | None = None,
    ) -> Response[Any]:
        staff = current_staff(request)
        async with ctx.db.session() as session:
            found = await assess(session, config, ctx.clock.now())
            analyses = await analysis_views(session, config, ctx.clock.now())
        return render(
            request,
            "pci_inspection/inventory.html",
            status_code=status_code,
            devices=found,
            analyses=analyses,
            error=error,
            values=values or {},
            statuses=[s.value for s in DeviceStatus],
            **_page_context(staff, config),
        )

    @get("/devices", opt=VIEW)
    async def inventory(request: Request[Any, Any, Any]) -> Response[Any]:
        return await inventory_page(request)

    @post("/devices", opt={**MANAGE, **FORM})
    async def add_device_form(request: Request[Any, Any, Any]) -> Response[Any]:
        form = await form_of(request)
        fields = ("make", "model", "serial_number", "site", "window", "status", "terminal_id", "assigned_to")
        values = {name: _text(form, name) for name in (*fields, "seal_ids", "risk_analysis_id")}
        raw: dict[str, Any] = {k: v for k, v in values.items() if v and k in fields}
        for required in ("make", "model", "serial_number", "site", "window"):
            raw.setdefault(required, "")
        raw["attended"] = form.get("attended") == "on"
        raw["public_area"] = form.get("public_area") == "on"
        raw["seal_ids"] = [s.strip() for s in values["seal_ids"].split(",") if s.strip()]
        if values["risk_analysis_id"]:
            raw["risk_analysis_id"] = values["risk_analysis_id"]
        try:
            data = convert_form(raw, DeviceIn)
            async with ctx.db.session() as session:
                device = await create_device(ctx, session, current_staff(request), data)
        except InputError as exc:
            return await inventory_page(request, status_code=exc.status_code, error=str(exc), values=values)
        return Redirect(f"/ui/pci_inspection/devices/{device.id}", status_code=303)

    async def device_page(
        request: Request[Any, Any, Any], device_id: int, *, status_code: int = 200, error: str | None = None
    ) -> Response[Any]:
        staff = current_staff(request)
        async with ctx.db.session() as session:
            view = await history(session, config, ctx.clock.now(), device_id)
            analyses = await analysis_views(session, config, ctx.clock.now())
        return render(
            request,
            "pci_inspection/device.html",
            status_code=status_code,
            h=view,
            error=error,
            analyses=analyses,
            next_statuses=sorted(s.value for s in TRANSITIONS[DeviceStatus(view.device.status)]),
            **_page_context(staff, config),
        )

    @get("/devices/{device_id:int}", opt=VIEW)
    async def device_detail(request: Request[Any, Any, Any], device_id: FromPath[int]) -> Response[Any]:
        return await device_page(request, device_id)

    @post("/devices/{device_id:int}/update", opt={**MANAGE, **FORM})
    async def update_form(request: Request[Any, Any, Any], device_id: FromPath[int]) -> Response[Any]:
        form = await form_of(request)
        raw: dict[str, Any] = {"reason": _text(form, "reason")}
        for name in ("status", "site", "window"):
            if _text(form, name):
                raw[name] = _text(form, name)
        if "seal_ids" in form:
            raw["seal_ids"] = [s.strip() for s in _text(form, "seal_ids").split(",") if s.strip()]
        if "risk_analysis_id" in form:
            raw["risk_analysis_id"] = _text(form, "risk_analysis_id") or None
        try:
            data = convert_form(raw, DevicePatch)
            async with ctx.db.session() as session:
                await update_device(ctx, session, current_staff(request), device_id, data)
        except InputError as exc:
            return await device_page(request, device_id, status_code=exc.status_code, error=str(exc))
        return Redirect(f"/ui/pci_inspection/devices/{device_id}", status_code=303)

    @post(
        "/devices/{device_id:int}/photos",
        opt={**MANAGE, **FORM},
        request_max_body_size=config.max_photo_bytes + 100_000,
    )
    async def photo_form(request: Request[Any, Any, Any], device_id: FromPath[int]) -> Response[Any]:
        form = await form_of(request)
        staff = current_staff(request)
        upload = _upload(form, "file")
        try:
            async with ctx.db.session() as session:
                device = await _device(session, device_id)
                if upload is None:
                    raise InputError([("file", "choose a photo")])
                photo = await store_photo(
                    ctx,
                    session,
                    staff,
                    device,
                    upload,
                    kind="reference",
                    label=_text(form, "label") or "view",
                )
                await ctx.audit.append(
                    session,
                    actor=staff.actor,
                    action="pci.photo.uploaded",
                    target=f"pci_device:{device.id}",
                    detail={"photo_id": photo.id, "kind": "reference", "sha256": photo.sha256},
                )
        except InputError as exc:
            return await device_page(request, device_id, status_code=exc.status_code, error=str(exc))
        return Redirect(f"/ui/pci_inspection/devices/{device_id}#photos", status_code=303)

    @post("/devices/{device_id:int}/incidents", opt={**MANAGE, **FORM})
    async def incident_form(request: Request[Any, Any, Any], device_id: FromPath[int]) -> Response[Any]:
        form = await form_of(request)
        raw: dict[str, Any] = {
            "reference": _text(form, "reference"),
            "description": _text(form, "description"),
        }
        if _text(form, "inspection_id"):
            raw["inspection_id"] = _text(form, "inspection_id")
        try:
            data = convert_form(raw, IncidentIn)
            async with ctx.db.session() as session:
                await open_incident(ctx, session, current_staff(request), device_id, data)
        except InputError as exc:
            return await device_page(request, device_id, status_code=exc.status_code, error=str(exc))
        return Redirect(f"/ui/pci_inspection/devices/{device_id}#incidents", status_code=303)

    @get("/photos/{photo_id:int}", opt=VIEW)
    async def photo(photo_id: FromPath[int]) -> Response[bytes]:
        return await photo_response(ctx, photo_id)

    async def risk_page(
        request: Request[Any, Any, Any], *, status_code: int = 200, error: str | None = None
    ) -> Response[Any]:
        staff = current_staff(request)
        async with ctx.db.session() as session:
            analyses = await analysis_views(session, config, ctx.clock.now())
        return render(
            request,
            "pci_inspection/risk.html",
            status_code=status_code,
            analyses=analyses,
            error=error,
            default_frequency=config.default_frequency_days,
            **_page_context(staff, config),
        )

    @get("/risk", opt=VIEW)
    async def risk(request: Request[Any, Any, Any]) -> Response[Any]:
        return await risk_page(request)

    @post("/risk", opt={**MANAGE, **FORM})
    async def add_analysis_form(request: Request[Any, Any, Any]) -> Response[Any]:
        form = await form_of(request)
        names = ("title", "scope", "assets", "threats", "factors", "frequency_days", "justification")
        try:
            data = convert_form({n: _text(form, n) for n in names}, RiskAnalysisIn)
            async with ctx.db.session() as session:
                await create_analysis(ctx, session, current_staff(request), data)
        except InputError as exc:
            return await risk_page(request, status_code=exc.status_code, error=str(exc))
        return Redirect("/ui/pci_inspection/risk", status_code=303)

    @post("/risk/{analysis_id:int}/review", opt={**MANAGE, **FORM})
    async def review_form(request: Request[Any, Any, Any], analysis_id: FromPath[int]) -> Response[Any]:
        form = await form_of(request)
        raw: dict[str, Any] = {"notes": _text(form, "notes")}
        if _text(form, "frequency_days"):
            raw["frequency_days"] = _text(form, "frequency_days")
        try:
            data = convert_form(raw, RiskReviewIn)
            async with ctx.db.session() as session:
                await review_analysis(ctx, session, current_staff(request), analysis_id, data)
        except InputError as exc:
            return await risk_page(request, status_code=exc.status_code, error=str(exc))
        return Redirect("/ui/pci_inspection/risk", status_code=303)

    @get("/inspections.csv", opt=EXPORT)
    async def export(
        request: Request[Any, Any, Any],
        site: Annotated[str | None, QueryParameter(pattern=SITE_CODE)] = None,
    ) -> Response[str]:
        return await export_csv(ctx, current_staff(request), site, None, None)

    return [
        PageSpec(handler=checklist, nav_title="Terminal checklist"),
        PageSpec(handler=inspect_form),
        PageSpec(handler=inventory, nav_title="Terminal inventory"),
        PageSpec(handler=add_device_form),
        PageSpec(handler=device_detail),
        PageSpec(handler=update_form),
        PageSpec(handler=photo_form),
        PageSpec(handler=incident_form),
        PageSpec(handler=photo),
        PageSpec(handler=risk, nav_title="Terminal risk analysis"),
        PageSpec(handler=add_analysis_form),
        PageSpec(handler=review_form),
        PageSpec(handler=export),
    ]
