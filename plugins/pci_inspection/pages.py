"""The card-terminal inspection's pages under /ui/pci_inspection: the phone checklist, inventory, risk.

Forms post back here; the app's CSRF middleware checks each post before it reaches a handler (the
templates carry ``csrf_input``). A refused form re-renders its page with the error beside the fields.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect

from core.contract.inputs import InputError, decode_form
from core.contract.scope import NONE
from core.contract.staff import Staff
from core.contract.web import CurrentStaff, render
from plugins.pci_inspection.api import (
    EXPORT,
    INSPECT,
    MANAGE,
    PHOTO_BODY,
    SERVICE,
    VIEW,
    Service,
    csv_response,
    photo_response,
)
from plugins.pci_inspection.rules import (
    CHECKLIST,
    MAX_PHOTO_BYTES,
    SITE_CODE,
    TRANSITIONS,
    DeviceStatus,
    InspectionInput,
    PciConfig,
    form_field,
)
from plugins.pci_inspection.schemas import (
    DeviceForm,
    IncidentIn,
    RiskAnalysisIn,
    RiskReviewIn,
    checklist_answers,
    device_patch,
    problems_of,
    uploaded,
)
from plugins.pci_inspection.service import PciService

STATUS_TITLES = {
    "in_stock": "In stock",
    "deployed": "Deployed",
    "out_of_service": "Out of service",
    "quarantined": "Quarantined",
    "in_repair": "In repair",
    "decommissioned": "Decommissioned",
    "lost": "Lost",
}
# A checklist post carries at most one photo per item.
CHECKLIST_BODY = len(CHECKLIST) * MAX_PHOTO_BYTES + 1_000_000
Html = Response[Any]
Req = Request[Any, Any, Any]


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


async def checklist_page(
    request: Req,
    service: PciService,
    staff: Staff,
    site: str | None,
    *,
    status_code: int = 200,
    errors: dict[int, dict[str, str]] | None = None,
    answers: dict[int, dict[int, dict[str, str]]] | None = None,
    done: int | None = None,
) -> Html:
    shown = await service.checklist(site, done)
    return render(
        request,
        "pci_inspection/checklist.html",
        status_code=status_code,
        # A one-time token per terminal's form: a resent form is recorded once.
        tokens={a.device.id: secrets.token_urlsafe(18) for a in shown["deployed"]},
        errors=errors or {},
        answers=answers or {},
        **shown,
        **_page_context(staff, service.config),
    )


async def inventory_page(
    request: Req,
    service: PciService,
    staff: Staff,
    *,
    status_code: int = 200,
    error: str | None = None,
    values: dict[str, Any] | None = None,
) -> Html:
    found, analyses = await service.inventory()
    return render(
        request,
        "pci_inspection/inventory.html",
        status_code=status_code,
        devices=found,
        analyses=analyses,
        error=error,
        values=values or {},
        statuses=[s.value for s in DeviceStatus],
        **_page_context(staff, service.config),
    )


async def device_page(
    request: Req,
    service: PciService,
    staff: Staff,
    device_id: int,
    *,
    status_code: int = 200,
    error: str | None = None,
) -> Html:
    view = await service.history(device_id)
    return render(
        request,
        "pci_inspection/device.html",
        status_code=status_code,
        h=view,
        error=error,
        analyses=await service.analyses(),
        next_statuses=sorted(s.value for s in TRANSITIONS[DeviceStatus(view.device.status)]),
        **_page_context(staff, service.config),
    )


async def risk_page(
    request: Req,
    service: PciService,
    staff: Staff,
    *,
    status_code: int = 200,
    error: str | None = None,
) -> Html:
    return render(
        request,
        "pci_inspection/risk.html",
        status_code=status_code,
        analyses=await service.analyses(),
        error=error,
        default_frequency=service.config.default_frequency_days,
        **_page_context(staff, service.config),
    )


class ChecklistPages(Controller):
    """The phone checklist of a site, the photos it shows and the assessors' export."""

    path = "/"
    dependencies = SERVICE

    @get("/", opt=VIEW, customer_data=NONE)
    async def checklist(
        self,
        request: Req,
        service: Service,
        staff: CurrentStaff,
        site: FromQuery[str | None] = None,
        done: FromQuery[int | None] = None,
    ) -> Html:
        return await checklist_page(request, service, staff, site, done=done)

    @post(
        "/devices/{device_id:int}/inspect",
        opt=INSPECT,
        request_max_body_size=CHECKLIST_BODY,
        customer_data=NONE,
    )
    async def inspect(
        self, request: Req, service: Service, staff: CurrentStaff, device_id: FromPath[int]
    ) -> Html:
        form = await request.form()
        answers: dict[int, dict[str, str]] = {}
        try:
            photos: dict[int, bytes] = {}
            for item in CHECKLIST:
                data = await uploaded(form, f"photo_{item.number}", service.config.max_photo_bytes)
                if data is not None:
                    photos[item.number] = data
            items, answers, token = checklist_answers(form, set(photos))
            data_in = InspectionInput(
                items=items,
                photo_ids={},
                key=f"form:{token}" if token else None,
                field_name=form_field,
                key_field="form_token",
            )
            site, done = await service.inspect_with_photos(staff, device_id, data_in, photos)
        except InputError as exc:
            if exc.status_code == 404:
                raise  # no such terminal or analysis: nothing to show the form on
            errors = {device_id: dict(problems_of(exc))}
            return await checklist_page(
                request,
                service,
                staff,
                await service.device_site(device_id),
                status_code=exc.status_code,
                errors=errors,
                answers={device_id: answers},
            )
        return Redirect(f"/ui/pci_inspection/?site={site}&done={done}#recorded", status_code=303)

    @get("/photos/{photo_id:int}", opt=VIEW, customer_data=NONE)
    async def photo(self, service: Service, photo_id: FromPath[int]) -> Response[bytes]:
        return await photo_response(service, photo_id)

    @get("/inspections.csv", opt=EXPORT, customer_data=NONE)
    async def export(
        self,
        service: Service,
        staff: CurrentStaff,
        site: Annotated[str | None, QueryParameter(pattern=SITE_CODE)] = None,
    ) -> Response[str]:
        return csv_response(*await service.export_csv(staff, site, None, None))


class InventoryPages(Controller):
    """The inventory, one terminal's record, and the forms that change them."""

    path = "/devices"
    dependencies = SERVICE

    @get("/", opt=VIEW, customer_data=NONE)
    async def inventory(self, request: Req, service: Service, staff: CurrentStaff) -> Html:
        return await inventory_page(request, service, staff)

    @post("/", opt=MANAGE, customer_data=NONE)
    async def add_device(self, request: Req, service: Service, staff: CurrentStaff) -> Html:
        form = await request.form()
        try:
            device = await service.add_device(staff, decode_form(form, DeviceForm).device_in())
        except InputError as exc:
            if exc.status_code == 404:
                raise  # no such terminal or analysis: nothing to show the form on
            values = {k: v for k, v in form.items() if isinstance(v, str) and k != "_csrf_token"}
            return await inventory_page(
                request, service, staff, status_code=exc.status_code, error=str(exc), values=values
            )
        return Redirect(f"/ui/pci_inspection/devices/{device.id}", status_code=303)

    @get("/{device_id:int}", opt=VIEW, customer_data=NONE)
    async def device(
        self, request: Req, service: Service, staff: CurrentStaff, device_id: FromPath[int]
    ) -> Html:
        return await device_page(request, service, staff, device_id)

    @post("/{device_id:int}/update", opt=MANAGE, customer_data=NONE)
    async def update(
        self, request: Req, service: Service, staff: CurrentStaff, device_id: FromPath[int]
    ) -> Html:
        try:
            await service.change_device(staff, device_id, device_patch(await request.form()))
        except InputError as exc:
            if exc.status_code == 404:
                raise  # no such terminal or analysis: nothing to show the form on
            return await device_page(
                request, service, staff, device_id, status_code=exc.status_code, error=str(exc)
            )
        return Redirect(f"/ui/pci_inspection/devices/{device_id}", status_code=303)

    @post("/{device_id:int}/photos", opt=MANAGE, request_max_body_size=PHOTO_BODY, customer_data=NONE)
    async def photo(
        self, request: Req, service: Service, staff: CurrentStaff, device_id: FromPath[int]
    ) -> Html:
        form = await request.form()
        label = form.get("label")
        try:
            await service.add_photo(
                staff,
                device_id,
                await uploaded(form, "file", service.config.max_photo_bytes),
                kind="reference",
                label=label.strip() if isinstance(label, str) and label.strip() else "view",
                missing="choose a photo",
            )
        except InputError as exc:
            if exc.status_code == 404:
                raise  # no such terminal or analysis: nothing to show the form on
            return await device_page(
                request, service, staff, device_id, status_code=exc.status_code, error=str(exc)
            )
        return Redirect(f"/ui/pci_inspection/devices/{device_id}#photos", status_code=303)

    @post("/{device_id:int}/incidents", opt=MANAGE, customer_data=NONE)
    async def incident(
        self, request: Req, service: Service, staff: CurrentStaff, device_id: FromPath[int]
    ) -> Html:
        try:
            await service.add_incident(staff, device_id, decode_form(await request.form(), IncidentIn))
        except InputError as exc:
            if exc.status_code == 404:
                raise  # no such terminal or analysis: nothing to show the form on
            return await device_page(
                request, service, staff, device_id, status_code=exc.status_code, error=str(exc)
            )
        return Redirect(f"/ui/pci_inspection/devices/{device_id}#incidents", status_code=303)


class RiskPages(Controller):
    """The targeted risk analyses and their reviews."""

    path = "/risk"
    dependencies = SERVICE

    @get("/", opt=VIEW, customer_data=NONE)
    async def risk(self, request: Req, service: Service, staff: CurrentStaff) -> Html:
        return await risk_page(request, service, staff)

    @post("/", opt=MANAGE, customer_data=NONE)
    async def add_analysis(self, request: Req, service: Service, staff: CurrentStaff) -> Html:
        try:
            await service.add_analysis(staff, decode_form(await request.form(), RiskAnalysisIn))
        except InputError as exc:
            if exc.status_code == 404:
                raise  # no such terminal or analysis: nothing to show the form on
            return await risk_page(request, service, staff, status_code=exc.status_code, error=str(exc))
        return Redirect("/ui/pci_inspection/risk", status_code=303)

    @post("/{analysis_id:int}/review", opt=MANAGE, customer_data=NONE)
    async def review(
        self, request: Req, service: Service, staff: CurrentStaff, analysis_id: FromPath[int]
    ) -> Html:
        try:
            await service.review_analysis(staff, analysis_id, decode_form(await request.form(), RiskReviewIn))
        except InputError as exc:
            if exc.status_code == 404:
                raise  # no such terminal or analysis: nothing to show the form on
            return await risk_page(request, service, staff, status_code=exc.status_code, error=str(exc))
        return Redirect("/ui/pci_inspection/risk", status_code=303)
