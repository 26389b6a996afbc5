"""Request and response Structs of the card-terminal inspection: JSON bodies, page forms and views.

JSON bodies are decoded by Litestar (``data: DeviceIn``); page forms go through the web kit's
``decode_form`` into the ``*Form`` Structs here, which turn into the same request Structs so a rule is
checked once whichever way a change arrives.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar.datastructures import UploadFile
from litestar.exceptions import ClientException, HTTPException

from core.contract.inputs import InputError, convert, decode_form
from plugins.pci_inspection.models import MAX_ID, PciIncident, PciPhoto
from plugins.pci_inspection.rules import (
    CHECKLIST,
    SERIAL,
    SITE_CODE,
    DeviceStatus,
    ItemResult,
    ItemSubmission,
    PciConfig,
)

Short = Annotated[str, msgspec.Meta(min_length=1, max_length=80, pattern=r"\S")]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=4000, pattern=r"\S")]
SealId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$")]
Frequency = Annotated[int, msgspec.Meta(ge=1, le=92)]
RowId = Annotated[int, msgspec.Meta(ge=1, le=MAX_ID)]
SiteCode = Annotated[str, msgspec.Meta(pattern=SITE_CODE)]
Seals = Annotated[list[SealId], msgspec.Meta(max_length=20)]


# -- errors ---------------------------------------------------------------------------------------------
class InputErrors(InputError):
    """Several fields at fault at once; answered as one 4xx whose ``extra`` names each of them."""

    def __init__(self, problems: list[tuple[str, str]], status_code: int = 422) -> None:
        super().__init__(problems[0][0], problems[0][1], status_code)
        self.args = ("; ".join(f"{k}: {m}" for k, m in problems),)
        self.problems = problems

    def http(self) -> HTTPException:
        return ClientException(
            status_code=self.status_code,
            detail=str(self),
            extra=[{"key": k, "message": m} for k, m in self.problems],
        )


def problems_of(exc: InputError) -> list[tuple[str, str]]:
    """Each field at fault with its message, for a page that shows them beside the fields."""
    if isinstance(exc, InputErrors):
        return exc.problems
    return [(exc.field, str(exc).removeprefix(f"{exc.field}: "))]


# -- request bodies --------------------------------------------------------------------------------------
class DeviceIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A terminal to add to the inventory; make, model, serial and location are required (9.5.1.1)."""

    make: Short
    model: Short
    serial_number: Annotated[str, msgspec.Meta(pattern=SERIAL)]
    site: SiteCode
    window: Short
    status: DeviceStatus = DeviceStatus.IN_STOCK
    attended: bool = True
    public_area: bool = True
    seal_ids: Seals = []
    terminal_id: Annotated[str, msgspec.Meta(min_length=1, max_length=40)] | None = None
    assigned_to: Short | None = None
    risk_analysis_id: RowId | None = None


class DevicePatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A change to a terminal; ``reason`` goes into the change log. The serial number never changes."""

    reason: Annotated[str, msgspec.Meta(max_length=1000)] = ""
    status: DeviceStatus | msgspec.UnsetType = msgspec.UNSET
    site: SiteCode | msgspec.UnsetType = msgspec.UNSET
    window: Short | msgspec.UnsetType = msgspec.UNSET
    make: Short | msgspec.UnsetType = msgspec.UNSET
    model: Short | msgspec.UnsetType = msgspec.UNSET
    attended: bool | msgspec.UnsetType = msgspec.UNSET
    public_area: bool | msgspec.UnsetType = msgspec.UNSET
    seal_ids: Seals | msgspec.UnsetType = msgspec.UNSET
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
    # The phone app's retry key in the body (the ``Idempotency-Key`` header works too); checked with the
    # hub's one rule for keys.
    idempotency_key: str | None = None


class IncidentIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An incident record (docs/rules.md §1.4 step 3); ``found_by`` defaults to the caller, ``found_at`` to
    now."""

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


# -- page forms ------------------------------------------------------------------------------------------
# The risk-analysis, review and incident forms decode straight into their request Structs (a blank field
# counts as absent); the two terminal forms below differ from the JSON bodies in how seal ids are typed.
def _seals(text: str) -> list[str]:
    return [s.strip() for s in text.split(",") if s.strip()]


class DeviceForm(msgspec.Struct, kw_only=True):
    """The inventory page's new-terminal form: seal ids typed comma-separated, boxes ticked or not."""

    make: Short
    model: Short
    serial_number: Annotated[str, msgspec.Meta(pattern=SERIAL)]
    site: SiteCode
    window: Short
    status: DeviceStatus = DeviceStatus.IN_STOCK
    attended: bool = False
    public_area: bool = False
    seal_ids: str = ""
    terminal_id: Annotated[str, msgspec.Meta(min_length=1, max_length=40)] | None = None
    assigned_to: Short | None = None
    risk_analysis_id: RowId | None = None

    def device_in(self) -> DeviceIn:
        raw = msgspec.to_builtins(self)
        raw["seal_ids"] = _seals(self.seal_ids)
        return convert(raw, DeviceIn)


class DeviceUpdateForm(msgspec.Struct, kw_only=True):
    """The terminal page's change form; a blank choice leaves the field as it is."""

    reason: Annotated[str, msgspec.Meta(max_length=1000)] = ""
    status: DeviceStatus | None = None
    site: SiteCode | None = None
    window: Short | None = None
    seal_ids: str | None = None
    risk_analysis_id: RowId | None = None


def device_patch(form: Any) -> DevicePatch:
    """The change form into a ``DevicePatch``.

    The risk-analysis choice is always posted, and its blank option ("none") clears the link; seal ids,
    when the form has the field, are replaced by what was typed (blank clears them).
    """
    fields = decode_form(form, DeviceUpdateForm)
    raw: dict[str, Any] = {"reason": fields.reason}
    for name in ("status", "site", "window"):
        if getattr(fields, name) is not None:
            raw[name] = getattr(fields, name)
    if "seal_ids" in form:
        raw["seal_ids"] = _seals(fields.seal_ids or "")
    if "risk_analysis_id" in form:
        raw["risk_analysis_id"] = fields.risk_analysis_id
    return convert(msgspec.to_builtins(raw), DevicePatch)


class PhotoForm(msgspec.Struct, kw_only=True):
    """The text fields sent with an uploaded photo (the file itself is read from the form apart)."""

    kind: str = "evidence"
    label: str = ""


# Every checklist item's answer and note, and the form's one-time token, named as the phone form names them.
ChecklistForm: type[msgspec.Struct] = msgspec.defstruct(
    "ChecklistForm",
    [
        *((f"{prefix}_{item.number}", str, "") for item in CHECKLIST for prefix in ("item", "note")),
        ("form_token", str, ""),
    ],
    kw_only=True,
)


def checklist_answers(
    form: Any, photographed: set[int]
) -> tuple[list[ItemSubmission], dict[int, dict[str, str]], str | None]:
    """The phone checklist's answers (``photographed``: items sent with a photo), what to show again, and
    the form's one-time token."""
    fields = msgspec.structs.asdict(decode_form(form, ChecklistForm))
    items: list[ItemSubmission] = []
    answers: dict[int, dict[str, str]] = {}
    for item in CHECKLIST:
        raw, note = fields[f"item_{item.number}"], fields[f"note_{item.number}"]
        answers[item.number] = {"result": raw, "note": note}
        if raw in ItemResult.__members__.values():
            items.append(ItemSubmission(item.number, ItemResult(raw), note, item.number in photographed))
    return items, answers, fields["form_token"] or None


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


class UsableView(msgspec.Struct, kw_only=True):
    """Whether the cash/card pages may take a card on a terminal."""

    device_id: int
    serial_number: str
    site: str
    window: str
    status: str
    usable: bool


class ChecklistItemView(msgspec.Struct, kw_only=True):
    item: int
    title: str
    guidance: str


def site_title(config: PciConfig, site: str) -> str:
    return config.sites.get(site, site)


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


async def uploaded(form: Any, name: str, limit: int) -> bytes | None:
    """The bytes of a file field (at most ``limit + 1``, so an oversized one can be refused), or None.

    A file input left empty still sends a part, with no file name and no bytes: that counts as no file.
    """
    value = form.get(name)
    if isinstance(value, UploadFile) and value.filename:
        data: bytes = await value.read(limit + 1)
        return data
    return None
