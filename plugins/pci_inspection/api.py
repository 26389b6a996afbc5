"""The card-terminal inspection's JSON API under /api/pci_inspection: decode, call the service, encode.

Bodies are Litestar's ``data`` (malformed → 400, a misfit → 422 naming the field); the service's
``InputError`` answers as a 4xx naming the field (several, for a checklist wrong in several places).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, JSONBody, QueryParameter

from core.contract.idempotency import HEADER, Idempotency, IdempotencyKey, request_key
from core.contract.inputs import decode_form
from core.contract.scope import NONE
from core.contract.web import Ctx, CurrentStaff
from plugins.pci_inspection.rules import (
    CHECKLIST,
    MAX_PHOTO_BYTES,
    SITE_CODE,
    DeviceStatus,
    InspectionInput,
    ItemSubmission,
    json_field,
)
from plugins.pci_inspection.schemas import (
    ChecklistItemView,
    DeviceIn,
    DevicePatch,
    DeviceView,
    HistoryView,
    IncidentIn,
    IncidentView,
    InspectionIn,
    InspectionView,
    PhotoForm,
    PhotoView,
    RiskAnalysisIn,
    RiskAnalysisView,
    RiskReviewIn,
    UsableView,
    uploaded,
)
from plugins.pci_inspection.service import PciService

# Who may do what (issue: security staff inspect; security, supervisors and admins keep the inventory and
# the risk analysis; the assessors' export is for security and admins). Cash/card pages of any section
# where the plugin is enabled may ask whether a terminal is usable.
INSPECT = {"roles": ["security"]}
MANAGE = {"roles": ["security", "supervisor", "admin"]}
VIEW = MANAGE
EXPORT = {"roles": ["security", "admin"]}
ANY_STAFF = {"access": "staff"}
# Uploads are bounded by the largest photo the config may allow; the service holds each to the configured
# limit (413 beyond it).
PHOTO_BODY = MAX_PHOTO_BYTES + 100_000
# The controllers' use cases, built per request from the plugin's context.
Service = NamedDependency[PciService]


def provide_service(ctx: Ctx) -> PciService:
    """Dependency ``service`` of the controllers: the use cases over the plugin's context."""
    return PciService(ctx)


SERVICE = {"service": Provide(provide_service, sync_to_thread=False)}


def inspection_input(raw: InspectionIn, header: IdempotencyKey | None) -> InspectionInput:
    """The JSON checklist as the service takes it; the key comes from the body or the header (not two)."""
    key = request_key(raw.idempotency_key, header)
    # A reused key with another checklist is refused naming where the key came from.
    key_field = HEADER if header is not None and raw.idempotency_key is None else "idempotency_key"
    return InspectionInput(
        items=[ItemSubmission(i.item, i.result, i.note, i.photo_id is not None) for i in raw.items],
        photo_ids={i.item: i.photo_id for i in raw.items if i.photo_id is not None},
        key=key,
        field_name=json_field,
        key_field=key_field,
    )


def csv_response(body: str, filename: str) -> Response[str]:
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def photo_response(service: Service, photo_id: int) -> Response[bytes]:
    photo = await service.photo(photo_id)
    return Response(
        photo.data,
        media_type=photo.content_type,
        headers={
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f'inline; filename="pci-photo-{photo.id}"',
        },
    )


class PciApi(Controller):
    """The inventory, inspections, incidents, risk analyses and the assessors' export."""

    path = "/"
    dependencies = SERVICE

    @get("/checklist", opt=VIEW, summary="The 14 checklist items", customer_data=NONE)
    async def checklist(self) -> list[ChecklistItemView]:
        return [ChecklistItemView(item=i.number, title=i.title, guidance=i.guidance) for i in CHECKLIST]

    @get("/devices", opt=VIEW, summary="The terminal inventory", customer_data=NONE)
    async def list_devices(
        self,
        service: Service,
        site: Annotated[str | None, QueryParameter(pattern=SITE_CODE)] = None,
        status: Annotated[DeviceStatus | None, QueryParameter()] = None,
    ) -> list[DeviceView]:
        return await service.devices(site, status)

    @post(
        "/devices", opt=MANAGE, status_code=201, summary="Add a terminal to the inventory", customer_data=NONE
    )
    async def add_device(self, service: Service, staff: CurrentStaff, data: JSONBody[DeviceIn]) -> DeviceView:
        """Body: ``DeviceIn`` (make, model, serial_number, site, window required)."""
        return await service.add_device(staff, data)

    @get("/devices/{device_id:int}", opt=VIEW, summary="One terminal", customer_data=NONE)
    async def get_device(self, service: Service, device_id: FromPath[int]) -> DeviceView:
        return await service.device(device_id)

    @patch(
        "/devices/{device_id:int}",
        opt=MANAGE,
        summary="Change a terminal (status, location, seals …)",
        customer_data=NONE,
    )
    async def change_device(
        self, service: Service, staff: CurrentStaff, device_id: FromPath[int], data: JSONBody[DevicePatch]
    ) -> DeviceView:
        """Body: ``DevicePatch``; every change needs a ``reason`` and writes the change log."""
        return await service.change_device(staff, device_id, data)

    @get(
        "/devices/{device_id:int}/usable",
        opt=ANY_STAFF,
        summary="May the cash/card pages use it?",
        customer_data=NONE,
    )
    async def device_usable(self, service: Service, device_id: FromPath[int]) -> UsableView:
        return await service.usable(device_id)

    @get(
        "/devices/{device_id:int}/history",
        opt=VIEW,
        summary="Changes, inspections, incidents, photos",
        customer_data=NONE,
    )
    async def device_history(self, service: Service, device_id: FromPath[int]) -> HistoryView:
        return await service.history(device_id)

    @post(
        "/devices/{device_id:int}/photos",
        opt=MANAGE,
        status_code=201,
        summary="Upload a photo (multipart: file, kind=reference|evidence, label)",
        request_max_body_size=PHOTO_BODY,
        customer_data=NONE,
    )
    async def upload_photo(
        self, request: Request[Any, Any, Any], service: Service, staff: CurrentStaff, device_id: FromPath[int]
    ) -> PhotoView:
        form = await request.form()
        fields = decode_form(form, PhotoForm)
        return await service.add_photo(
            staff,
            device_id,
            await uploaded(form, "file", service.config.max_photo_bytes),
            kind=fields.kind,
            label=fields.label,
            missing="a photo file is required (multipart field 'file')",
        )

    @get("/photos/{photo_id:int}", opt=VIEW, summary="A photo's bytes", customer_data=NONE)
    async def get_photo(self, service: Service, photo_id: FromPath[int]) -> Response[bytes]:
        return await photo_response(service, photo_id)

    @post(
        "/devices/{device_id:int}/inspections",
        opt=INSPECT,
        summary="Record an inspection",
        customer_data=NONE,
    )
    async def inspect(
        self,
        service: Service,
        staff: CurrentStaff,
        device_id: FromPath[int],
        data: JSONBody[InspectionIn],
        idempotency: Idempotency,
    ) -> Response[InspectionView]:
        """Body: ``InspectionIn``; all 14 items, a note and a ``photo_id`` on each fail.

        Idempotent on ``idempotency_key`` (or the ``Idempotency-Key`` header): a repeat answers 200 with the
        first record and ``replayed: true``; the same key with other answers is a 422 naming the key.
        """
        view = await service.inspect(staff, device_id, inspection_input(data, idempotency))
        return Response(view, status_code=200 if view.replayed else 201)

    @post(
        "/devices/{device_id:int}/incidents",
        opt=MANAGE,
        status_code=201,
        summary="Open an incident record",
        customer_data=NONE,
    )
    async def add_incident(
        self, service: Service, staff: CurrentStaff, device_id: FromPath[int], data: JSONBody[IncidentIn]
    ) -> IncidentView:
        return await service.add_incident(staff, device_id, data)

    @get(
        "/risk-analyses",
        opt=VIEW,
        summary="Targeted risk analyses and their review state",
        customer_data=NONE,
    )
    async def list_analyses(self, service: Service) -> list[RiskAnalysisView]:
        return await service.analyses()

    @post(
        "/risk-analyses",
        opt=MANAGE,
        status_code=201,
        summary="Record a targeted risk analysis",
        customer_data=NONE,
    )
    async def add_analysis(
        self, service: Service, staff: CurrentStaff, data: JSONBody[RiskAnalysisIn]
    ) -> RiskAnalysisView:
        return await service.add_analysis(staff, data)

    @post(
        "/risk-analyses/{analysis_id:int}/reviews",
        opt=MANAGE,
        status_code=201,
        summary="Record a review of a risk analysis",
        customer_data=NONE,
    )
    async def add_review(
        self, service: Service, staff: CurrentStaff, analysis_id: FromPath[int], data: JSONBody[RiskReviewIn]
    ) -> RiskAnalysisView:
        return await service.review_analysis(staff, analysis_id, data)

    @get("/inspections.csv", opt=EXPORT, summary="Inspections as CSV for assessors", customer_data=NONE)
    async def inspections_export(
        self,
        service: Service,
        staff: CurrentStaff,
        site: Annotated[str | None, QueryParameter(pattern=SITE_CODE)] = None,
        start: Annotated[dt.date | None, QueryParameter(name="from")] = None,
        end: Annotated[dt.date | None, QueryParameter(name="to")] = None,
    ) -> Response[str]:
        """Local dates (America/Los_Angeles), both inclusive."""
        return csv_response(*await service.export_csv(staff, site, start, end))
