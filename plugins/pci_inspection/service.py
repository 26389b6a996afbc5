"""Use cases of the card-terminal inspection: each one transaction over its tables, events, mail and audit.

Adding or changing a terminal, storing a photo, recording an inspection, opening an incident and recording
or reviewing a risk analysis live here once and serve both the JSON API and the phone-friendly pages; a
refused request leaves nothing half-written. Bad input is an :class:`InputError` naming the field (several
at once for a checklist answered wrong in more than one place: :class:`InputErrors`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import msgspec
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.contract import PluginContext
from core.contract.inputs import InputError
from core.contract.redact import redact
from core.contract.staff import Staff
from plugins.pci_inspection import events, queries
from plugins.pci_inspection.models import (
    PciDevice,
    PciIncident,
    PciInspection,
    PciPhoto,
    PciRiskAnalysis,
    PciRiskReview,
)
from plugins.pci_inspection.rules import (
    INSPECTABLE,
    DeviceStatus,
    FailedTerminal,
    InspectionInput,
    ItemResult,
    PciConfig,
    TransitionError,
    check_transition,
    failure_mail,
    image_type,
    inspections_csv,
    local_bounds,
    local_day,
    outcome,
    usable,
)
from plugins.pci_inspection.schemas import (
    DeviceIn,
    DevicePatch,
    DeviceView,
    HistoryView,
    IncidentIn,
    IncidentView,
    InputErrors,
    InspectionView,
    PhotoView,
    RiskAnalysisIn,
    RiskAnalysisView,
    RiskReviewIn,
    UsableView,
    incident_view,
    photo_view,
    site_title,
)


@dataclass(frozen=True)
class Photo:
    """A stored photo's bytes, as served back to staff."""

    id: int
    content_type: str
    data: bytes


def _not_found(field: str, what: str) -> InputError:
    return InputError(field, f"no {what}", 404)


class PciService:
    """The plugin's use cases over its context (built per request by the controllers)."""

    def __init__(self, ctx: PluginContext) -> None:
        self.ctx = ctx
        self.config: PciConfig = ctx.config

    def now(self) -> dt.datetime:
        return self.ctx.clock.now()

    # -- reads ---------------------------------------------------------------------------------------------
    async def devices(self, site: str | None = None, status: DeviceStatus | None = None) -> list[DeviceView]:
        async with self.ctx.db.session() as session:
            found = await queries.device_views(session, self.config, self.now())
        return [
            d for d in found if (site is None or d.site == site) and (status is None or d.status == status)
        ]

    async def device(self, device_id: int) -> DeviceView:
        async with self.ctx.db.session() as session:
            found = await queries.device_views(session, self.config, self.now(), device_id=device_id)
        if not found:
            raise _not_found("device_id", f"terminal {device_id}")
        return found[0]

    async def usable(self, device_id: int) -> UsableView:
        async with self.ctx.db.session() as session:
            terminal = await self._device(session, device_id)
            ok = await queries.terminal_usable(session, self.config, self.now(), device_id)
        return UsableView(
            device_id=terminal.id,
            serial_number=terminal.serial_number,
            site=terminal.site,
            window=terminal.window,
            status=terminal.status,
            usable=ok,
        )

    async def history(self, device_id: int) -> HistoryView:
        async with self.ctx.db.session() as session:
            found = await queries.history(session, self.config, self.now(), device_id)
        if found is None:
            raise _not_found("device_id", f"terminal {device_id}")
        return found

    async def analyses(self) -> list[RiskAnalysisView]:
        async with self.ctx.db.session() as session:
            return await queries.analysis_views(session, self.config, self.now())

    async def photo(self, photo_id: int) -> Photo:
        async with self.ctx.db.session() as session:
            found = await queries.row(session, PciPhoto, photo_id)
            if found is None:
                raise _not_found("photo_id", f"photo {photo_id}")
            return Photo(id=found.id, content_type=found.content_type, data=found.data)

    async def export_csv(
        self, staff: Staff, site: str | None, start: dt.date | None, end: dt.date | None
    ) -> tuple[str, str]:
        """The assessors' CSV and its file name; local dates (Los Angeles), both inclusive."""
        for name, day in (("from", start), ("to", end)):
            if day is not None and not 2000 <= day.year <= 2999:
                raise InputError(name, "a date between the years 2000 and 2999")
        if start and end and end < start:
            raise InputError("to", "must not be before from")
        lo, hi = local_bounds(start, end)
        async with self.ctx.db.session() as session:
            rows = await queries.csv_rows(session, site=site, start=lo, end=hi)
            # Assessors' exports are recorded: who took which inspection records, and when.
            await self.ctx.audit.append(
                session,
                actor=staff.actor,
                action="pci.inspections.exported",
                target="pci_inspection",
                detail={"site": site, "from": str(start or ""), "to": str(end or ""), "rows": len(rows)},
            )
        return inspections_csv(rows), f"pci-inspections-{local_day(self.now()).isoformat()}.csv"

    # -- the inventory -------------------------------------------------------------------------------------
    async def add_device(self, staff: Staff, data: DeviceIn) -> DeviceView:
        async with self.ctx.db.session() as session:
            terminal = await self._create_device(session, staff, data)
            found = await queries.device_views(session, self.config, self.now(), device_id=terminal.id)
        return found[0]

    async def change_device(self, staff: Staff, device_id: int, data: DevicePatch) -> DeviceView:
        async with self.ctx.db.session() as session:
            await self._update_device(session, staff, device_id, data)
            found = await queries.device_views(session, self.config, self.now(), device_id=device_id)
        return found[0]

    async def add_photo(
        self,
        staff: Staff,
        device_id: int,
        data: bytes | None,
        *,
        kind: str,
        label: str,
        missing: str,
    ) -> PhotoView:
        """Store a reference or evidence photo of a terminal (``missing`` says what to do with no file)."""
        if kind not in ("reference", "evidence"):
            raise InputError("kind", "reference or evidence")
        async with self.ctx.db.session() as session:
            terminal = await self._device(session, device_id)
            if data is None:
                raise InputError("file", missing)
            photo = await self._store_photo(session, staff, terminal, data, kind=kind, label=label)
            await self.ctx.audit.append(
                session,
                actor=staff.actor,
                action="pci.photo.uploaded",
                target=f"pci_device:{terminal.id}",
                detail={"photo_id": photo.id, "kind": kind, "sha256": photo.sha256},
            )
        return photo_view(photo)

    async def add_incident(self, staff: Staff, device_id: int, data: IncidentIn) -> IncidentView:
        async with self.ctx.db.session() as session:
            return incident_view(await self._open_incident(session, staff, device_id, data))

    # -- inspections ---------------------------------------------------------------------------------------
    async def inspect(self, staff: Staff, device_id: int, data: InspectionInput) -> InspectionView:
        """Record an inspection once per idempotency key, even when two identical submissions race."""
        try:
            async with self.ctx.db.session() as session:
                if data.key is not None:
                    existing = await self._replay(session, data, device_id)
                    if existing is not None:
                        terminal = await self._device(session, device_id)
                        return await self._inspection_view(session, existing, terminal, replayed=True)
                terminal = await self._device(session, device_id, lock=True)
                inspection = await self._record_inspection(session, staff, terminal, data)
                view = await self._inspection_view(session, inspection, terminal)
        except IntegrityError:
            if data.key is None:
                raise
            # The same key committed first in another transaction: answer with that record.
            async with self.ctx.db.session() as session:
                existing = await self._replay(session, data, device_id)
                if existing is None:
                    raise
                terminal = await self._device(session, device_id)
                return await self._inspection_view(session, existing, terminal, replayed=True)
        return view

    async def _inspection_view(
        self, session: AsyncSession, inspection: PciInspection, terminal: PciDevice, *, replayed: bool = False
    ) -> InspectionView:
        usable_now = await queries.terminal_usable(session, self.config, self.now(), terminal.id)
        return await queries.inspection_view(
            session, inspection, terminal, usable_now=usable_now, replayed=replayed
        )

    async def inspect_with_photos(
        self, staff: Staff, device_id: int, data: InspectionInput, photos: dict[int, bytes]
    ) -> tuple[str, int]:
        """The phone form: store the fail photos and the inspection together; the site and inspection id.

        Photos are stored only for a submission that will be recorded, so a refused form leaves none.
        """
        try:
            async with self.ctx.db.session() as session:
                terminal = await self._device(session, device_id, lock=True)
                existing = await self._replay(session, data, device_id) if data.key else None
                if existing is None:
                    if not data.problems():
                        for n, raw in photos.items():
                            photo = await self._store_photo(
                                session,
                                staff,
                                terminal,
                                raw,
                                kind="evidence",
                                label=f"item {n}",
                                field_name=f"photo_{n}",
                            )
                            data.photo_ids[n] = photo.id
                    existing = await self._record_inspection(session, staff, terminal, data)
                return terminal.site, existing.id
        except IntegrityError:
            async with self.ctx.db.session() as session:
                replay = await self._replay(session, data, device_id) if data.key else None
                terminal = await self._device(session, device_id)
            if replay is None:
                raise
            return terminal.site, replay.id

    # -- risk analyses -------------------------------------------------------------------------------------
    async def add_analysis(self, staff: Staff, data: RiskAnalysisIn) -> RiskAnalysisView:
        now = self.now()
        async with self.ctx.db.session() as session:
            analysis = await queries.add_analysis(session, data, by=staff.name, at=now)
            await self.ctx.audit.append(
                session,
                actor=staff.actor,
                action="pci.risk_analysis.recorded",
                target=f"pci_risk_analysis:{analysis.id}",
                detail={"title": analysis.title, "frequency_days": analysis.frequency_days},
            )
            views = await queries.analysis_views(session, self.config, now)
        return next(v for v in views if v.id == analysis.id)

    async def review_analysis(self, staff: Staff, analysis_id: int, data: RiskReviewIn) -> RiskAnalysisView:
        now = self.now()
        async with self.ctx.db.session() as session:
            analysis = await queries.row(session, PciRiskAnalysis, analysis_id, lock=True)
            if analysis is None:
                raise _not_found("analysis_id", f"risk analysis {analysis_id}")
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
            await self.ctx.audit.append(
                session,
                actor=staff.actor,
                action="pci.risk_analysis.reviewed",
                target=f"pci_risk_analysis:{analysis.id}",
                detail={"frequency_days": analysis.frequency_days},
            )
            views = await queries.analysis_views(session, self.config, now)
        return next(v for v in views if v.id == analysis_id)

    # -- pages' reads --------------------------------------------------------------------------------------
    async def checklist(self, site: str | None, done: int | None) -> dict[str, Any]:
        """What the phone checklist shows for a site (the first one when not a known site)."""
        chosen = site if site in self.config.sites else next(iter(sorted(self.config.sites)))
        async with self.ctx.db.session() as session:
            return await queries.checklist(session, self.config, self.now(), chosen, done)

    async def inventory(self) -> tuple[list[queries.Assessment], list[RiskAnalysisView]]:
        async with self.ctx.db.session() as session:
            found = await queries.assess(session, self.config, self.now())
            analyses = await queries.analysis_views(session, self.config, self.now())
        return found, analyses

    async def device_site(self, device_id: int) -> str | None:
        async with self.ctx.db.session() as session:
            terminal = await queries.device(session, device_id)
        return terminal.site if terminal else None

    # -- the writes, inside a caller's transaction ---------------------------------------------------------
    async def _device(self, session: AsyncSession, device_id: int, *, lock: bool = False) -> PciDevice:
        found = await queries.device(session, device_id, lock=lock)
        if found is None:
            raise _not_found("device_id", f"terminal {device_id}")
        return found

    async def _check_analysis(self, session: AsyncSession, analysis_id: int | None) -> None:
        if analysis_id is not None and await queries.row(session, PciRiskAnalysis, analysis_id) is None:
            raise InputError("risk_analysis_id", f"there is no risk analysis {analysis_id}")

    def _check_site(self, site: str) -> None:
        if site not in self.config.sites:
            known = ", ".join(sorted(self.config.sites))
            raise InputError("site", f"unknown site {site!r}; known sites: {known}")

    def _status_event(
        self, session: AsyncSession, terminal: PciDevice, old: str | None, cause: str, actor: str
    ) -> None:
        self.ctx.events.emit(
            session,
            events.STATUS_CHANGED,
            events.TerminalStatusChanged(
                device_id=terminal.id,
                serial_number=terminal.serial_number,
                site=terminal.site,
                window=terminal.window,
                old_status=old,
                new_status=terminal.status,
                # A status change ends a service period or starts a new one that no passing inspection
                # covers yet, so by the rule the terminal takes no cards until one is recorded.
                usable=usable(terminal.device_status, None, open_incident=False),
                cause=cause,
            ),
            actor=actor,
        )

    def _set_status(
        self,
        session: AsyncSession,
        terminal: PciDevice,
        new: DeviceStatus,
        *,
        reason: str,
        actor: str,
        cause: str,
    ) -> None:
        """Change a terminal's status with its change-log entry and event (9.5.1.1: the list is current)."""
        now = self.now()
        old = terminal.status
        terminal.status = new.value
        terminal.status_since = now
        if new is DeviceStatus.DEPLOYED:
            terminal.deployed_at = now  # a new service period: it needs a fresh passing inspection
        queries.log_change(
            session, terminal, "status", old, new.value, reason=redact(reason), actor=actor, at=now
        )
        self._status_event(session, terminal, old, cause, actor)

    async def _create_device(self, session: AsyncSession, staff: Staff, data: DeviceIn) -> PciDevice:
        self._check_site(data.site)
        await self._check_analysis(session, data.risk_analysis_id)
        existing = await queries.device_id_by_serial(session, data.serial_number)
        if existing is not None:
            raise InputError("serial_number", f"already in the inventory as terminal {existing}", 409)
        now = self.now()
        terminal = await queries.add_device(session, data, at=now)
        queries.log_change(
            session,
            terminal,
            "created",
            None,
            f"{data.status.value} at {data.site} {terminal.window}",
            reason="added to the inventory",
            actor=staff.actor,
            at=now,
        )
        self._status_event(session, terminal, None, "inventory", staff.actor)
        await self.ctx.audit.append(
            session,
            actor=staff.actor,
            action="pci.device.added",
            target=f"pci_device:{terminal.id}",
            detail={
                "serial_number": terminal.serial_number,
                "site": terminal.site,
                "status": terminal.status,
            },
        )
        return terminal

    async def _update_device(
        self, session: AsyncSession, staff: Staff, device_id: int, data: DevicePatch
    ) -> None:
        terminal = await self._device(session, device_id, lock=True)
        reason = data.reason.strip()
        changes = {
            name: getattr(data, name)
            for name in DevicePatch.__struct_fields__
            if name != "reason" and getattr(data, name) is not msgspec.UNSET
        }
        changes = {
            k: v for k, v in changes.items() if getattr(terminal, k) != (v.value if k == "status" else v)
        }
        if not changes:
            raise InputError("body", "nothing to change: every given field already has that value")
        if not reason:
            raise InputError("reason", "say why; the reason is kept in the terminal's change log")
        if "site" in changes:
            self._check_site(changes["site"])
        if "risk_analysis_id" in changes:
            await self._check_analysis(session, changes["risk_analysis_id"])
        new_status = changes.pop("status", None)
        if new_status is not None:
            try:
                check_transition(terminal.device_status, new_status)
            except TransitionError as exc:
                raise InputError("status", str(exc), 409) from None
        now = self.now()
        old_site, old_window = terminal.site, terminal.window
        for name, value in changes.items():
            queries.log_change(
                session,
                terminal,
                name,
                getattr(terminal, name),
                value,
                reason=redact(reason),
                actor=staff.actor,
                at=now,
            )
            setattr(terminal, name, list(value) if isinstance(value, list) else value)
        if "site" in changes or "window" in changes:
            self.ctx.events.emit(
                session,
                events.RELOCATED,
                events.TerminalRelocated(
                    device_id=terminal.id,
                    serial_number=terminal.serial_number,
                    old_site=old_site,
                    old_window=old_window,
                    site=terminal.site,
                    window=terminal.window,
                ),
                actor=staff.actor,
            )
        if new_status is not None:
            self._set_status(
                session, terminal, new_status, reason=reason, actor=staff.actor, cause="inventory"
            )
        await self.ctx.audit.append(
            session,
            actor=staff.actor,
            action="pci.device.changed",
            target=f"pci_device:{terminal.id}",
            detail={
                "fields": sorted([*changes, *(["status"] if new_status is not None else [])]),
                "reason": reason,
            },
        )

    async def _store_photo(
        self,
        session: AsyncSession,
        staff: Staff,
        terminal: PciDevice,
        data: bytes,
        *,
        kind: str,
        label: str,
        field_name: str = "file",
    ) -> PciPhoto:
        """Keep an uploaded photo's bytes with its type, size and SHA-256 (served back to staff only)."""
        limit = self.config.max_photo_bytes
        if not data:
            raise InputError(field_name, "the photo is empty")
        if len(data) > limit:
            raise InputError(field_name, f"the photo is larger than {limit // 1_000_000} MB", 413)
        content_type = image_type(data[:16])
        if content_type is None:
            raise InputError(field_name, "not a JPEG, PNG, WebP, GIF or HEIC image")
        photo = await queries.add_photo(
            session,
            terminal,
            kind=kind,
            label=label[:40],
            content_type=content_type,
            data=data,
            at=self.now(),
            by=staff.name,
        )
        return photo

    async def _replay(
        self, session: AsyncSession, data: InspectionInput, device_id: int
    ) -> PciInspection | None:
        """The inspection already recorded under this key; the key of another terminal is a 409."""
        if data.key is None:
            return None
        existing = await queries.inspection_by_key(session, data.key)
        if existing is None:
            return None
        if existing.device_id != device_id:
            raise InputError(data.key_field, f"already used for terminal {existing.device_id}", 409)
        stored = await queries.item_answers(session, existing.id)
        if stored != {s.number: (s.result.value, redact(s.note.strip())) for s in data.items}:
            raise InputError(data.key_field, "was already used for a different inspection of this terminal")
        return existing

    async def _record_inspection(
        self, session: AsyncSession, staff: Staff, terminal: PciDevice, data: InspectionInput
    ) -> PciInspection:
        """Store an inspection; a fail takes the terminal out of service and alerts (docs/rules.md §1.4)."""
        if terminal.device_status not in INSPECTABLE:
            raise InputError(
                "device", f"terminal {terminal.id} is {terminal.status} and cannot be inspected", 409
            )
        problems = data.problems()
        if problems:
            raise InputErrors(problems)
        positions = {s.number: i for i, s in reversed(list(enumerate(data.items)))}
        for number, photo_id in data.photo_ids.items():
            photo = await queries.row(session, PciPhoto, photo_id)
            if photo is None or photo.device_id != terminal.id:
                raise InputError(
                    data.field_name(number, positions.get(number), "photo"),
                    f"no photo {photo_id} of this terminal",
                )
        now = self.now()
        result = outcome(data.items)
        answered = sorted(data.items, key=lambda s: s.number)
        inspection = await queries.add_inspection(
            session,
            terminal,
            at=now,
            inspector=staff.name,
            inspector_id=staff.id,
            outcome=result,
            key=data.key,
            answers=[(s.number, s.result.value, redact(s.note.strip())) for s in answered],
            photo_ids=data.photo_ids,
        )
        self.ctx.events.emit(
            session,
            events.INSPECTION_RECORDED,
            events.InspectionRecorded(
                inspection_id=inspection.id,
                device_id=terminal.id,
                serial_number=terminal.serial_number,
                site=terminal.site,
                window=terminal.window,
                inspector=staff.name,
                inspected_at=now,
                outcome=result,
                results=[events.ItemOutcome(item=s.number, result=s.result.value) for s in answered],
            ),
            actor=staff.actor,
        )
        failed = [s.number for s in answered if s.result is ItemResult.FAIL]
        if failed:
            await self._failed(session, staff, terminal, inspection, data, failed)
        await self.ctx.audit.append(
            session,
            actor=staff.actor,
            action="pci.inspection.recorded",
            target=f"pci_device:{terminal.id}",
            detail={"inspection_id": inspection.id, "outcome": result, "failed_items": failed},
        )
        return inspection

    async def _failed(
        self,
        session: AsyncSession,
        staff: Staff,
        terminal: PciDevice,
        inspection: PciInspection,
        data: InspectionInput,
        failed: list[int],
    ) -> None:
        """A failed item: out of service at once, the event, and mail to security and the supervisor."""
        if terminal.device_status is not DeviceStatus.OUT_OF_SERVICE:
            self._set_status(
                session,
                terminal,
                DeviceStatus.OUT_OF_SERVICE,
                reason=f"failed inspection #{inspection.id} (items {', '.join(map(str, failed))})",
                actor=staff.actor,
                cause="failed_inspection",
            )
        self.ctx.events.emit(
            session,
            events.FAILED_INSPECTION,
            events.TerminalFailedInspection(
                inspection_id=inspection.id,
                device_id=terminal.id,
                serial_number=terminal.serial_number,
                make=terminal.make,
                model=terminal.model,
                site=terminal.site,
                window=terminal.window,
                inspector=staff.name,
                inspected_at=inspection.inspected_at,
                failed_items=failed,
            ),
            actor=staff.actor,
        )
        notes = {s.number: redact(s.note.strip()) for s in data.items if s.result is ItemResult.FAIL}
        subject = (
            f"PCI terminal {terminal.serial_number} failed inspection at {terminal.site} {terminal.window}"
        )
        body = failure_mail(
            FailedTerminal(
                device_id=terminal.id,
                make=terminal.make,
                model=terminal.model,
                serial_number=terminal.serial_number,
                site=terminal.site,
                site_title=site_title(self.config, terminal.site),
                window=terminal.window,
                inspection_id=inspection.id,
                inspector=inspection.inspector,
                inspected_at=inspection.inspected_at,
            ),
            notes,
        )
        for group, recipients in (
            ("security", self.config.security_emails),
            ("supervisor", self.config.supervisor_emails),
        ):
            await self.ctx.mail.queue(
                session,
                to=list(recipients),
                subject=subject[:200],
                body=body,
                idempotency_key=f"pci_inspection:{inspection.id}:{group}",
            )

    async def _open_incident(
        self, session: AsyncSession, staff: Staff, device_id: int, data: IncidentIn
    ) -> PciIncident:
        terminal = await self._device(session, device_id)
        now = self.now()
        found_at = data.found_at.astimezone(dt.UTC) if data.found_at else now
        if found_at > now + dt.timedelta(minutes=5):
            raise InputError("found_at", "cannot be in the future")
        if data.inspection_id is not None:
            inspection = await queries.row(session, PciInspection, data.inspection_id)
            if inspection is None or inspection.device_id != terminal.id:
                raise InputError("inspection_id", f"no inspection {data.inspection_id} of this terminal")
        incident = await queries.add_incident(
            session, terminal, data, found_at=found_at, by=staff.name, at=now
        )
        self.ctx.events.emit(
            session,
            events.INCIDENT_OPENED,
            events.IncidentOpened(
                incident_id=incident.id,
                reference=incident.reference,
                device_id=terminal.id,
                serial_number=terminal.serial_number,
                site=terminal.site,
                inspection_id=data.inspection_id,
            ),
            actor=staff.actor,
        )
        await self.ctx.audit.append(
            session,
            actor=staff.actor,
            action="pci.incident.opened",
            target=f"pci_device:{terminal.id}",
            detail={"incident_id": incident.id, "reference": incident.reference},
        )
        return incident
