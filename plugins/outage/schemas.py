"""Request and response Structs of the outage plugin: JSON bodies, the lead's forms, and the views."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec

from core.contract.idempotency import check_key
from core.contract.inputs import InputError, convert
from plugins.outage.models import Outage, OutageSuggestion, OutageTicket
from plugins.outage.rules import AREA_CODE, PREMISE_ID, ZIP_CODE, Utility, area_of_key, local_input

MAX_AREA_ITEMS = 500

Cause = Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=r"\S")]
Message = Annotated[str, msgspec.Meta(max_length=2000)]
AreaCode = Annotated[str, msgspec.Meta(pattern=AREA_CODE)]
Zip = Annotated[str, msgspec.Meta(pattern=ZIP_CODE)]
PremiseId = Annotated[str, msgspec.Meta(pattern=PREMISE_ID)]
When = Annotated[dt.datetime, msgspec.Meta(tz=True)]
AreaCodes = Annotated[list[AreaCode], msgspec.Meta(max_length=MAX_AREA_ITEMS)]
Zips = Annotated[list[Zip], msgspec.Meta(max_length=MAX_AREA_ITEMS)]
PremiseIds = Annotated[list[PremiseId], msgspec.Meta(max_length=MAX_AREA_ITEMS)]


# -- request bodies --------------------------------------------------------------------------------------
class DeclareIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """An outage to declare; the area needs at least one service area, ZIP code or premise.

    ``idempotency_key`` (or the ``Idempotency-Key`` header): a repeat answers the first record.
    """

    utility: Utility
    cause: Cause
    service_areas: AreaCodes = []
    zips: Zips = []
    premise_ids: PremiseIds = []
    estimated_restoration: When | None = None
    message: Message | None = None
    idempotency_key: str | None = None


class UpdateIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A change to an active outage; only the fields given change. ``revision`` guards lost updates."""

    cause: Cause | msgspec.UnsetType = msgspec.UNSET
    service_areas: AreaCodes | msgspec.UnsetType = msgspec.UNSET
    zips: Zips | msgspec.UnsetType = msgspec.UNSET
    premise_ids: PremiseIds | msgspec.UnsetType = msgspec.UNSET
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


# -- the lead's forms (text fields as posted; read into the JSON bodies above) -----------------------------
def _words(text: str) -> list[str]:
    """A list typed into one text field, separated by commas or spaces."""
    return text.replace(",", " ").split()


def _when(text: str) -> dt.datetime | None:
    try:
        return local_input(text)
    except ValueError:
        raise InputError("estimated_restoration", "is not a date and time") from None


class DeclareForm(msgspec.Struct, kw_only=True):
    utility: str = ""
    cause: str = ""
    service_areas: str = ""
    zips: str = ""
    premise_ids: str = ""
    etr: str = ""
    message: str = ""
    idempotency_key: str | None = None

    def values(self) -> dict[str, str]:
        """What the lead typed, to show the form again with an error."""
        names = ("utility", "cause", "service_areas", "zips", "premise_ids", "etr", "message")
        return {name: getattr(self, name) for name in names}

    def declaration(self) -> DeclareIn:
        raw: dict[str, Any] = {
            "utility": self.utility,
            "cause": self.cause,
            "service_areas": [s.upper() for s in _words(self.service_areas)],
            "zips": _words(self.zips),
            "premise_ids": _words(self.premise_ids),
            "estimated_restoration": _when(self.etr),
            "message": self.message or None,
            "idempotency_key": check_key(self.idempotency_key, "idempotency_key")
            if self.idempotency_key
            else None,
        }
        return convert(raw, DeclareIn)


class EtrForm(msgspec.Struct, kw_only=True):
    etr: str = ""

    def update(self) -> UpdateIn:
        return UpdateIn(estimated_restoration=_when(self.etr))


class ConfirmForm(msgspec.Struct, kw_only=True):
    utility: str = ""
    cause: str = ""

    def confirmation(self) -> ConfirmIn:
        return convert({"utility": self.utility, "cause": self.cause}, ConfirmIn)


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
    customer_hidden: bool = False  # the remarks are withheld (not a lead's or a supervisor's queue)


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


def ticket_view(t: OutageTicket) -> TicketView:
    return TicketView(
        field_activity_id=t.field_activity_id,
        premise_id=t.premise_id,
        action=t.action,
        outage_id=t.outage_id,
        received_at=t.received_at,
        remarks=t.remarks,
    )
