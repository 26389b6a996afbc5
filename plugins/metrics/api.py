"""HTTP side of the metrics plugin: the daily view, the monthly report (JSON and Excel) and counter requests.

Nothing here writes a count. ``POST /counter-requests`` only emits ``hub.metrics.counter_request.recorded``
(with its outbox row, in one transaction); the tally handler counts it like any other event, so a request
recorded by click and a payment posted at the window take the same path into the numbers.

Bad input answers 422 naming the field (``month``, ``day``, ``kind``, ``section``); a body that is not JSON
answers 400. CSRs see their own rows in the daily view; leads, supervisors and admins see everyone's and get
the monthly report.

The page under /ui/metrics is the same work for staff signed in to the web UI: one button per counter
request kind (posting to :func:`record_counter_request`), the daily view, and the monthly workbook at
/ui/metrics/monthly.xlsx (:func:`monthly_workbook`); its forms re-render with the same 422 message.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.exceptions import ClientException
from litestar.params import QueryParameter
from litestar.response import Redirect

from core.contract import PageSpec, PluginContext
from core.contract.inputs import decode_json
from core.security import current_staff
from core.staff import Role, Staff
from core.web.pages import render
from plugins.metrics import events
from plugins.metrics.models import rows_between
from plugins.metrics.service import (
    LOCAL_TZ,
    SECTION_SLUG,
    MetricsConfig,
    MonthError,
    Row,
    build_workbook,
    kind_order,
    label,
    local_day,
    month_days,
    parse_month,
)

LEAD = {"roles": ["lead", "supervisor", "admin"]}
STAFF = {"access": "staff"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Query = Annotated[str | None, QueryParameter()]


class CounterRequestIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One click: what the customer asked for at the counter, and optionally the section it counts in."""

    kind: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    section: Annotated[str, msgspec.Meta(pattern=SECTION_SLUG)] | None = None


class CounterRequestOut(msgspec.Struct, kw_only=True):
    event_id: str
    kind: str
    section: str
    staff: str
    day: dt.date


class KindView(msgspec.Struct, kw_only=True):
    kind: str
    label: str


class RowView(msgspec.Struct, kw_only=True):
    section: str
    staff: str
    kind: str
    label: str
    count: int


class DailyView(msgspec.Struct, kw_only=True):
    day: dt.date
    rows: list[RowView]
    # section → kind → count, over the rows shown
    by_section: dict[str, dict[str, int]]


class MonthlyView(msgspec.Struct, kw_only=True):
    month: str
    sections: dict[str, dict[str, int]]
    staff: dict[str, dict[str, dict[str, int]]]  # section → staff → kind → count


# -- input ------------------------------------------------------------------------------------------------
def unprocessable(field: str, message: str) -> ClientException:
    detail = f"{field}: {message}"
    return ClientException(status_code=422, detail=detail, extra=[{"key": field, "message": detail}])


def month_of(text: str | None, today: dt.date) -> tuple[int, int]:
    if text is None:
        return today.year, today.month
    try:
        return parse_month(text)
    except MonthError as exc:
        raise unprocessable("month", str(exc)) from None


def day_of(text: str | None, today: dt.date) -> dt.date:
    if text is None:
        return today
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise unprocessable("day", f"expected YYYY-MM-DD, got {text!r}") from None


def counter_section(staff: Staff, asked: str | None, config: MetricsConfig) -> str:
    """The section a counter request counts in: the one asked for (the CSR's own), else the counter
    section when the CSR belongs to it, else their only section."""
    if asked is not None:
        if asked not in staff.sections:
            raise unprocessable("section", f"{asked!r} is not one of your sections")
        return asked
    if config.counter_section in staff.sections:
        return config.counter_section
    if len(staff.sections) == 1:
        return next(iter(staff.sections))
    raise unprocessable("section", "you belong to several sections: say which one this request counts in")


def sees_everyone(staff: Staff) -> bool:
    return staff.role.value in LEAD["roles"]


# -- writes -----------------------------------------------------------------------------------------------
async def record_counter_request(
    ctx: PluginContext, staff: Staff, data: CounterRequestIn
) -> CounterRequestOut:
    """Emit ``hub.metrics.counter_request.recorded`` (with its outbox row, in one transaction); the tally
    handler counts it like any other event. Raises a 422 naming ``kind`` or ``section``."""
    config: MetricsConfig = ctx.config
    if data.kind not in config.counter_request_kinds:
        raise unprocessable("kind", f"expected one of {', '.join(config.counter_request_kinds)}")
    section = counter_section(staff, data.section, config)
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        env = ctx.events.emit(
            session,
            events.COUNTER_REQUEST_RECORDED,
            events.CounterRequestRecorded(kind=data.kind, section=section, staff=staff.name, at=now),
            actor=staff.actor,
        )
    return CounterRequestOut(
        event_id=env.id, kind=data.kind, section=section, staff=staff.name, day=local_day(now)
    )


# -- reads ------------------------------------------------------------------------------------------------
def _nested(rows: list[Row]) -> dict[str, dict[str, int]]:
    found: dict[str, dict[str, int]] = {}
    for r in rows:
        kinds = found.setdefault(r.section, {})
        kinds[r.kind] = kinds.get(r.kind, 0) + r.count
    return {s: {k: found[s][k] for k in kind_order(found[s])} for s in sorted(found)}


async def daily(
    ctx: PluginContext, staff: Staff, day: dt.date, section: str | None, who: str | None
) -> DailyView:
    # A CSR's daily view is their own; the lead's is the section's.
    who = who if sees_everyone(staff) else staff.name
    async with ctx.db.session() as session:
        rows = await rows_between(session, day, day, section=section, staff=who)
    return DailyView(
        day=day,
        rows=[
            RowView(section=r.section, staff=r.staff, kind=r.kind, label=label(r.kind), count=r.count)
            for r in rows
        ],
        by_section=_nested(rows),
    )


async def month_rows(ctx: Any, year: int, month: int) -> list[Row]:
    days = month_days(year, month)
    async with ctx.db.session() as session:
        return await rows_between(session, days[0], days[-1])


async def monthly_workbook(ctx: PluginContext, month: str | None) -> Response[bytes]:
    """The month's workbook as a download (``metrics-YYYY-MM.xlsx``); a bad ``month`` is a 422 naming it."""
    year, mon = month_of(month, local_day(ctx.clock.now()))
    body = build_workbook(year, mon, await month_rows(ctx, year, mon), generated_at=ctx.clock.now())
    name = f"metrics-{year}-{mon:02d}.xlsx"
    return Response(body, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def monthly_view(year: int, month: int, rows: list[Row]) -> MonthlyView:
    per_staff: dict[str, dict[str, dict[str, int]]] = {}
    for r in rows:
        kinds = per_staff.setdefault(r.section, {}).setdefault(r.staff, {})
        kinds[r.kind] = kinds.get(r.kind, 0) + r.count
    return MonthlyView(month=f"{year}-{month:02d}", sections=_nested(rows), staff=per_staff)


# -- JSON routes -------------------------------------------------------------------------------------------
def routes(ctx: PluginContext) -> list[Any]:
    config: MetricsConfig = ctx.config

    def today() -> dt.date:
        return local_day(ctx.clock.now())

    @get("/counter-requests/kinds", opt=STAFF, summary="The counter requests a CSR can record")
    async def counter_kinds() -> list[KindView]:
        return [KindView(kind=k, label=label(f"counter.{k}")) for k in config.counter_request_kinds]

    @post("/counter-requests", opt=STAFF, status_code=201, summary="Record a counter request (one click)")
    async def counter_request_route(request: Request[Any, Any, Any]) -> CounterRequestOut:
        """Body ``{"kind": …, "section"?: …}``; counted through the bus like every other metric."""
        return await record_counter_request(
            ctx, current_staff(request), decode_json(await request.body(), CounterRequestIn)
        )

    @get("/daily", opt=STAFF, summary="Counts of one local day by section, staff member and kind")
    async def daily_counts(
        request: Request[Any, Any, Any], day: Query = None, section: Query = None, staff: Query = None
    ) -> DailyView:
        return await daily(ctx, current_staff(request), day_of(day, today()), section, staff)

    @get("/monthly", opt=LEAD, summary="Monthly totals by section and staff member (JSON)")
    async def monthly(month: Query = None) -> MonthlyView:
        year, mon = month_of(month, today())
        return monthly_view(year, mon, await month_rows(ctx, year, mon))

    @get("/monthly.xlsx", opt=LEAD, summary="The monthly report as an Excel workbook")
    async def monthly_xlsx(month: Query = None) -> Response[bytes]:
        return await monthly_workbook(ctx, month)

    return [counter_kinds, counter_request_route, daily_counts, monthly, monthly_xlsx]


# -- pages -------------------------------------------------------------------------------------------------
FORM = {"exclude_from_csrf": True}


async def _form(request: Request[Any, Any, Any]) -> Any:
    """The posted form once its CSRF token matches (the same double-submit rule as the shell's forms)."""
    from plugins.pci_inspection.api import form_of  # one implementation of the check for every plugin page

    return await form_of(request)


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def pages(ctx: PluginContext) -> list[PageSpec]:
    """The daily view with one-click counter requests, and the monthly workbook for leads (session auth)."""
    config: MetricsConfig = ctx.config

    async def daily_page(
        request: Request[Any, Any, Any],
        chosen: dt.date | None = None,
        *,
        status_code: int = 200,
        error: str | None = None,
        recorded: str | None = None,
    ) -> Response[Any]:
        staff = current_staff(request)
        today = local_day(ctx.clock.now())
        chosen = chosen or today
        view = await daily(ctx, staff, chosen, None, None)
        kinds = {s: list(k) for s, k in view.by_section.items()}
        counter_kinds = [(k, label(f"counter.{k}")) for k in config.counter_request_kinds]
        return render(
            request,
            "metrics/daily.html",
            status_code=status_code,
            view=view,
            kinds=kinds,
            label=label,
            rows=view.rows,
            previous=chosen - dt.timedelta(days=1),
            following=chosen + dt.timedelta(days=1),
            today=today,
            everyone=sees_everyone(staff),
            counter_kinds=counter_kinds,
            recorded=dict(counter_kinds).get(recorded or ""),
            # A CSR in several sections says where the request counts (the counter section first).
            sections=sorted(staff.sections, key=lambda s: (s != config.counter_section, s)),
            month=chosen.strftime("%Y-%m"),
            zone=LOCAL_TZ.key,
            is_lead=staff.role in (Role.LEAD, Role.SUPERVISOR, Role.ADMIN),
            error=error,
        )

    @get("/", opt=STAFF)
    async def daily_view(
        request: Request[Any, Any, Any], day: Query = None, recorded: Query = None
    ) -> Response[Any]:
        try:
            chosen = day_of(day, local_day(ctx.clock.now()))
        except ClientException as exc:
            return await daily_page(request, status_code=422, error=str(exc.detail))
        return await daily_page(request, chosen, recorded=recorded)

    @post("/counter-requests", opt={**STAFF, **FORM})
    async def counter_form(request: Request[Any, Any, Any]) -> Response[Any]:
        form = await _form(request)
        raw = {"kind": _text(form, "kind"), "section": _text(form, "section") or None}
        try:
            data = msgspec.convert(raw, CounterRequestIn)
            out = await record_counter_request(ctx, current_staff(request), data)
        except msgspec.ValidationError as exc:
            field = "kind" if "$.kind" in str(exc) else "section"
            return await daily_page(request, status_code=422, error=f"{field}: {str(exc).split(' - at ')[0]}")
        except ClientException as exc:
            return await daily_page(request, status_code=exc.status_code, error=str(exc.detail))
        return Redirect(f"/ui/metrics/?recorded={out.kind}", status_code=303)

    @get("/monthly.xlsx", opt=LEAD)
    async def monthly_download(request: Request[Any, Any, Any], month: Query = None) -> Response[Any]:
        """The same workbook as ``GET /api/metrics/monthly.xlsx``, for a lead signed in to the web UI."""
        try:
            return await monthly_workbook(ctx, month)
        except ClientException as exc:
            return await daily_page(request, status_code=exc.status_code, error=str(exc.detail))

    return [
        PageSpec(handler=daily_view, nav_title="Metrics"),
        PageSpec(handler=counter_form),
        PageSpec(handler=monthly_download),
    ]
