"""Reads and writes of the card-terminal inspection's own tables (async functions on an AsyncSession).

``assess`` is the one view of a terminal that the pages, the checks and the card-terminal service share:
its status, the frequency its risk analysis sets, whether today's inspection is on record, and whether an
out-of-service terminal has its incident record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.contract.redact import redact
from plugins.pci_inspection.models import (
    MAX_ID,
    PciDevice,
    PciDeviceChange,
    PciIncident,
    PciInspection,
    PciInspectionItem,
    PciPhoto,
    PciRiskAnalysis,
)
from plugins.pci_inspection.rules import (
    ITEMS_BY_NUMBER,
    CsvInspection,
    DeviceStatus,
    Due,
    PciConfig,
    inspection_due,
    local_day,
    review_state,
    usable,
)
from plugins.pci_inspection.schemas import (
    ChangeView,
    DeviceIn,
    DeviceView,
    HistoryView,
    IncidentIn,
    InspectionView,
    ItemView,
    RiskAnalysisIn,
    RiskAnalysisView,
    incident_view,
    photo_view,
    site_title,
)


async def terminal_usable(session: AsyncSession, config: PciConfig, now: dt.datetime, device_id: int) -> bool:
    """Whether the cash/card pages may take a card on this terminal now (``rules.usable``); an unknown
    terminal is not usable."""
    found = await assess(session, config, now, device_id=device_id)
    return bool(found) and found[0].usable


async def last_passes(session: AsyncSession) -> dict[int, dt.datetime]:
    """Per terminal, its latest passing inspection since it was last deployed."""
    rows = await session.execute(
        select(PciInspection.device_id, func.max(PciInspection.inspected_at))
        .join(PciDevice, PciDevice.id == PciInspection.device_id)
        .where(PciInspection.outcome == "pass")
        .where(PciDevice.deployed_at.is_not(None))
        .where(PciInspection.inspected_at >= PciDevice.deployed_at)
        .group_by(PciInspection.device_id)
    )
    found: dict[int, dt.datetime] = {}
    for device_id, at in rows.all():
        if at is not None:
            # func.max loses the column type on SQLite, so the value may come back naive (stored as UTC).
            found[device_id] = at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at
    return found


async def frequencies(session: AsyncSession) -> dict[int, tuple[int, dt.datetime, str]]:
    """Every risk analysis: id → (frequency in days, last review, title)."""
    rows = await session.execute(
        select(
            PciRiskAnalysis.id,
            PciRiskAnalysis.frequency_days,
            PciRiskAnalysis.reviewed_at,
            PciRiskAnalysis.title,
        )
    )
    return {r[0]: (r[1], r[2], r[3]) for r in rows.all()}


async def latest_incidents(session: AsyncSession) -> dict[int, dt.datetime]:
    """Per terminal, when its most recent incident record was opened."""
    rows = await session.execute(
        select(PciIncident.device_id, func.max(PciIncident.opened_at)).group_by(PciIncident.device_id)
    )
    return {d: (at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at) for d, at in rows.all() if at}


@dataclass(frozen=True)
class Assessment:
    """A terminal as the checks and the pages see it at one instant."""

    device: PciDevice
    frequency_days: int
    # The risk analysis that sets the frequency; None means the configured default stands in for one.
    risk_analysis_id: int | None
    due: Due | None  # for deployed terminals only
    # An incident opened since the terminal was last deployed: for an out-of-service terminal, the record
    # its fail needs; for a deployed one, an open incident (it stays open until the terminal is redeployed).
    incident_recorded: bool

    @property
    def usable(self) -> bool:
        """May it take cards now (``rules.usable``: deployed, inspected within its frequency, no incident)."""
        return usable(self.device.device_status, self.due, open_incident=self.incident_recorded)


async def assess(
    session: AsyncSession, config: PciConfig, now: dt.datetime, *, device_id: int | None = None
) -> list[Assessment]:
    """Every terminal (or one) with its due state and incident coverage, by site and window."""
    query = select(PciDevice).order_by(PciDevice.site, PciDevice.window, PciDevice.id)
    if device_id is not None:
        if not 1 <= device_id <= MAX_ID:
            return []
        query = query.where(PciDevice.id == device_id)
    devices = (await session.scalars(query)).all()
    passes = await last_passes(session)
    analyses = await frequencies(session)
    incidents = await latest_incidents(session)
    found: list[Assessment] = []
    for device in devices:
        analysis = analyses.get(device.risk_analysis_id) if device.risk_analysis_id is not None else None
        frequency = analysis[0] if analysis else config.default_frequency_days
        due = None
        if device.status == DeviceStatus.DEPLOYED:
            due = inspection_due(now, passes.get(device.id), frequency, due_by_hour=config.due_by_hour)
        last_incident = incidents.get(device.id)
        covered = last_incident is not None and (
            device.deployed_at is None or last_incident >= device.deployed_at
        )
        found.append(
            Assessment(
                device=device,
                frequency_days=frequency,
                risk_analysis_id=device.risk_analysis_id if analysis else None,
                due=due,
                incident_recorded=covered,
            )
        )
    return found


# -- one terminal and its records --------------------------------------------------------------------------
async def device(session: AsyncSession, device_id: int, *, lock: bool = False) -> PciDevice | None:
    """The terminal, or None (an id beyond the 32-bit range is simply not there)."""
    if not 1 <= device_id <= MAX_ID:
        return None
    query = select(PciDevice).where(PciDevice.id == device_id)
    if lock:
        query = query.with_for_update()
    found: PciDevice | None = await session.scalar(query)
    return found


async def device_id_by_serial(session: AsyncSession, serial_number: str) -> int | None:
    found: int | None = await session.scalar(
        select(PciDevice.id).where(PciDevice.serial_number == serial_number)
    )
    return found


async def row(session: AsyncSession, model: Any, row_id: int, *, lock: bool = False) -> Any:
    """A photo, inspection or risk analysis by id, or None."""
    if not 1 <= row_id <= MAX_ID:
        return None
    return await session.get(model, row_id, with_for_update=lock)


async def inspection_by_key(session: AsyncSession, key: str) -> PciInspection | None:
    found: PciInspection | None = await session.scalar(
        select(PciInspection).where(PciInspection.idempotency_key == key)
    )
    return found


async def reference_photos(session: AsyncSession, site: str) -> dict[int, list[tuple[int, str]]]:
    """Per terminal at ``site``, its reference photos (id, label): what the inspector compares against."""
    rows = await session.execute(
        select(PciPhoto.device_id, PciPhoto.id, PciPhoto.label)
        .join(PciDevice, PciDevice.id == PciPhoto.device_id)
        .where(PciDevice.site == site, PciPhoto.kind == "reference")
        .order_by(PciPhoto.id)
    )
    found: dict[int, list[tuple[int, str]]] = {}
    for device_id, photo_id, label in rows.all():
        found.setdefault(device_id, []).append((photo_id, label))
    return found


# -- views -----------------------------------------------------------------------------------------------
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
        usable=a.usable,
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


async def device_views(
    session: AsyncSession, config: PciConfig, now: dt.datetime, *, device_id: int | None = None
) -> list[DeviceView]:
    return [device_view(config, a) for a in await assess(session, config, now, device_id=device_id)]


async def inspection_view(
    session: AsyncSession,
    inspection: PciInspection,
    device: PciDevice,
    *,
    usable_now: bool,
    replayed: bool = False,
) -> InspectionView:
    """An inspection with the terminal's status and whether it may take cards now (``Assessment.usable``)."""
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
        usable=usable_now,
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


async def history(
    session: AsyncSession, config: PciConfig, now: dt.datetime, device_id: int
) -> HistoryView | None:
    """A terminal with its change log, inspections, incidents and photos, newest first; None if unknown."""
    found = await assess(session, config, now, device_id=device_id)
    if not found:
        return None
    terminal = found[0].device
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
        inspections=[
            await inspection_view(session, i, terminal, usable_now=found[0].usable) for i in inspections
        ],
        incidents=[incident_view(i) for i in incidents],
        photos=[photo_view(p) for p in photos],
    )


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


def log_change(
    session: AsyncSession,
    terminal: PciDevice,
    name: str,
    old: Any,
    new: Any,
    *,
    reason: str,
    actor: str,
    at: dt.datetime,
) -> None:
    """One line of the inventory's change log (9.5.1.1: the list is kept up to date, and says who did it)."""

    def text(value: Any) -> str | None:
        if value is None:
            return None
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return str(value)

    session.add(
        PciDeviceChange(
            device_id=terminal.id,
            at=at,
            actor=actor,
            field=name,
            old_value=text(old),
            new_value=text(new),
            reason=reason,
        )
    )


async def item_answers(session: AsyncSession, inspection_id: int) -> dict[int, tuple[str, str]]:
    """An inspection's answers as item number → (result, stored note): what a retry is compared with."""
    rows = await session.execute(
        select(PciInspectionItem.item_no, PciInspectionItem.result, PciInspectionItem.note).where(
            PciInspectionItem.inspection_id == inspection_id
        )
    )
    return {n: (r, note) for n, r, note in rows.all()}


async def add_photo(
    session: AsyncSession,
    terminal: PciDevice,
    *,
    kind: str,
    label: str,
    content_type: str,
    data: bytes,
    at: dt.datetime,
    by: str,
) -> PciPhoto:
    """Keep a photo's bytes with its type, size and SHA-256."""
    photo = PciPhoto(
        device_id=terminal.id,
        kind=kind,
        label=label,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        uploaded_at=at,
        uploaded_by=by,
    )
    session.add(photo)
    await session.flush()
    return photo


async def add_inspection(
    session: AsyncSession,
    terminal: PciDevice,
    *,
    at: dt.datetime,
    inspector: str,
    inspector_id: int,
    outcome: str,
    key: str | None,
    answers: list[tuple[int, str, str]],
    photo_ids: dict[int, int],
) -> PciInspection:
    """An inspection where the terminal stands now, with each answer (item, result, stored note)."""
    inspection = PciInspection(
        device_id=terminal.id,
        inspected_at=at,
        inspector=inspector,
        inspector_id=inspector_id,
        outcome=outcome,
        site=terminal.site,
        window=terminal.window,
        idempotency_key=key,
    )
    session.add(inspection)
    await session.flush()
    for number, result, note in answers:
        session.add(
            PciInspectionItem(
                inspection_id=inspection.id,
                item_no=number,
                result=result,
                note=note,
                photo_id=photo_ids.get(number),
            )
        )
    return inspection


async def add_device(session: AsyncSession, data: DeviceIn, *, at: dt.datetime) -> PciDevice:
    """A terminal added to the inventory; a deployed one starts its service period now."""
    terminal = PciDevice(
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
        created_at=at,
        status_since=at,
        deployed_at=at if data.status is DeviceStatus.DEPLOYED else None,
    )
    session.add(terminal)
    await session.flush()
    return terminal


async def add_incident(
    session: AsyncSession,
    terminal: PciDevice,
    data: IncidentIn,
    *,
    found_at: dt.datetime,
    by: str,
    at: dt.datetime,
) -> PciIncident:
    """An incident record; free text is redacted before it is stored."""
    incident = PciIncident(
        device_id=terminal.id,
        inspection_id=data.inspection_id,
        reference=redact(data.reference.strip()),
        found_at=found_at,
        found_by=(data.found_by or by).strip(),
        description=redact(data.description.strip()),
        opened_at=at,
        opened_by=by,
    )
    session.add(incident)
    await session.flush()
    return incident


async def add_analysis(
    session: AsyncSession, data: RiskAnalysisIn, *, by: str, at: dt.datetime
) -> PciRiskAnalysis:
    """A targeted risk analysis, performed and reviewed now; free text is redacted before it is stored."""
    analysis = PciRiskAnalysis(
        title=data.title.strip(),
        scope=redact(data.scope.strip()),
        assets=redact(data.assets.strip()),
        threats=redact(data.threats.strip()),
        factors=redact(data.factors.strip()),
        frequency_days=data.frequency_days,
        justification=redact(data.justification.strip()),
        performed_at=at,
        performed_by=by,
        reviewed_at=at,
        reviewed_by=by,
    )
    session.add(analysis)
    await session.flush()
    return analysis


async def checklist(
    session: AsyncSession, config: PciConfig, now: dt.datetime, site: str, done: int | None
) -> dict[str, Any]:
    """A site's terminals for the phone checklist, their reference photos, and a just-recorded result."""
    found = [a for a in await assess(session, config, now) if a.device.site == site]
    recorded = None
    inspection = await row(session, PciInspection, done) if done is not None else None
    if inspection is not None:
        recorded = {"inspection": inspection, "device": await device(session, inspection.device_id)}
    return {
        "site": site,
        "deployed": [a for a in found if a.device.status == DeviceStatus.DEPLOYED],
        "others": [
            a for a in found if a.device.status in (DeviceStatus.OUT_OF_SERVICE, DeviceStatus.QUARANTINED)
        ],
        "references": await reference_photos(session, site),
        "recorded": recorded,
        "today": local_day(now),
    }
