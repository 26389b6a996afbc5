"""Persons, accounts and premises (docs/ccb-domain.md §1.3, §1.4): the customer and premise writes and
views."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from core.ccb.codes import RegisterFlow
from core.ccb.port.base import Model, ServiceKind

__all__ = [
    "AddAccountPerson",
    "Address",
    "CreateCustomer",
    "CreatePremise",
    "CustomerCreated",
    "MeterView",
    "NewPerson",
    "PersonBrief",
    "PersonView",
    "PremiseBrief",
    "PremiseView",
    "ServicePointView",
    "SetAccessCode",
    "SetMailingAddress",
    "SetMainCustomer",
    "SetPropertyAccess",
    "UnlockVerification",
]


class Address(Model, frozen=True):
    line1: str
    city: str
    zip: str
    state: str = "CA"
    line2: str | None = None


class NewPerson(Model, frozen=True):
    """A person to create; the identity factors are hashed on arrival and never returned."""

    first_name: str
    last_name: str
    phone: str
    mailing_address: Address
    alt_phone: str | None = None
    email: str | None = None
    language: str = "en"
    life_support: bool = False
    access_code: str | None = None
    ssn_last4: str | None = None


class CreateCustomer(Model, frozen=True):
    """A new person as main customer of a new account (§1.3)."""

    person: NewPerson
    customer_class: str = "RES"
    bill_cycle: str | None = None
    setup_date: dt.date | None = None


class CustomerCreated(Model, frozen=True):
    account_id: str
    person_id: str


class AddAccountPerson(Model, frozen=True):
    """Link an existing person (``person_id``) or a new one (``person``) to an account, not as main."""

    account_id: str
    relationship: str
    person_id: str | None = None
    person: NewPerson | None = None
    financially_responsible: bool = False
    receives_bill_copy: bool = False


class SetMainCustomer(Model, frozen=True):
    account_id: str
    person_id: str


class SetAccessCode(Model, frozen=True):
    person_id: str
    access_code: str


class UnlockVerification(Model, frozen=True):
    account_id: str


class SetMailingAddress(Model, frozen=True):
    """A mailing address for the account's bills and letters (e.g. after returned mail, task 13)."""

    account_id: str
    address: Address


class PersonBrief(Model, frozen=True):
    person_id: str
    name: str
    phone: str
    email: str | None
    is_main_customer: bool
    financially_responsible: bool
    relationship: str


class PersonView(Model, frozen=True):
    """A person as staff may see it: no identity factors, only whether they are on file."""

    person_id: str
    first_name: str
    last_name: str
    phone: str
    alt_phone: str | None
    email: str | None
    mailing_address: Address
    language: str
    life_support: bool
    has_access_code: bool
    has_ssn_last4: bool
    account_ids: list[str]


class CreatePremise(Model, frozen=True):
    """A premise with one SP and one meter per service (§1.4).

    ``net_metered`` installs a net (bidirectional, digital) electric meter with a delivered and a received
    register; electric service started there is then net-metered (SA type E-NEM, §4.1).
    """

    address: Address
    service_area_code: str
    electric_zone: Literal["1", "2"]
    water_temperature_zone: Literal["low", "medium", "high"]
    lot_size_sqft: int
    services: tuple[ServiceKind, ...] = ("electric", "water")
    meter_type: Literal["dial", "digital"] = "digital"
    premise_type: str = "SFR"
    net_metered: bool = False


class MeterView(Model, frozen=True):
    meter_id: str
    badge_number: str
    meter_type: str
    service: str
    unit: str
    register_digits: int
    registers: tuple[RegisterFlow, ...] = ("delivered",)


class ServicePointView(Model, frozen=True):
    sp_id: str
    service: str
    connected: bool
    meter: MeterView | None


class PremiseView(Model, frozen=True):
    premise_id: str
    premise_type: str
    address: Address
    service_area_code: str
    electric_zone: str
    water_temperature_zone: str
    lot_size_sqft: int
    gate_code: str | None
    has_dog: bool
    hazards: str | None
    reader_notes: str | None
    service_points: list[ServicePointView]


class PremiseBrief(Model, frozen=True):
    premise_id: str
    address: Address
    service_area_code: str


class SetPropertyAccess(Model, frozen=True):
    """Property access for field crews; ``None`` leaves a field as it is, ``""`` clears a text field."""

    premise_id: str
    gate_code: str | None = None
    has_dog: bool | None = None
    hazards: str | None = None
    reader_notes: str | None = None
