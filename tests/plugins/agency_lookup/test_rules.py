"""Pure rules of the agency lookup: directory search, the §5.4 decision table, field limiting, config.

Section signs (§) cite docs/rules.md.
"""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest

from plugins.agency_lookup.rules import (
    AgencyConfig,
    Basis,
    Element,
    Outcome,
    RequesterKind,
    RequestFacts,
    chain_entry,
    decide,
    default_directory,
    entry_digest,
    is_bulk,
    limit_fields,
    month_bounds,
    search,
    transfer_targets,
)

E = Element
K = RequesterKind
B = Basis
NAME_ADDR_USAGE = frozenset({E.NAME, E.ADDRESS, E.BILLING_USAGE})


@pytest.mark.parametrize(
    ("query", "organization", "entry_id"),
    [
        ("permit for new construction", "City of Los Angeles", "ladbs"),
        ("gas leak", "SoCalGas", "socalgas_emergency"),
        ("I smell gas in the kitchen", "SoCalGas", "socalgas_emergency"),
        ("missed trash pickup", "City of Los Angeles", "lasan"),
        ("pothole on my street", "City of Los Angeles", "city_311"),
        ("Edison power outage", "Southern California Edison", "sce_outages"),
        ("complaint about SoCalGas", "California Public Utilities Commission", "cpuc"),
        ("net metering credit on my solar bill", "LADWP", "ladwp_solar_billing"),
    ],
)
def test_search_finds_the_place_for_the_need(query: str, organization: str, entry_id: str) -> None:
    best = search(default_directory(), query, 5)[0]
    assert (best.entry.organization, best.entry.id) == (organization, entry_id)


def test_search_without_a_fit_is_empty_and_a_blank_query_lists_all() -> None:
    assert search(default_directory(), "zebra xylophone", 5) == []
    assert len(search(default_directory(), "  ", 50)) == len(default_directory())


def test_transfer_targets_fit_telephony_labels_and_digits() -> None:
    targets = transfer_targets(default_directory())
    assert targets["SoCalGas gas leak/emergency"] == "18004272200"
    assert targets["City of LA 311 (MyLA311)"] == "311"
    assert all(len(label) <= 40 and dial.isdigit() for label, dial in targets.items())


def test_config_is_strict_and_refuses_duplicate_ids() -> None:
    assert isinstance(msgspec.convert({}, AgencyConfig), AgencyConfig)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"nope": 1}, AgencyConfig)
    entry = msgspec.to_builtins(default_directory()[0])
    with pytest.raises(msgspec.ValidationError, match="duplicate"):
        msgspec.convert({"directory": [entry, entry]}, AgencyConfig)
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"directory": [{**entry, "dial": "1-800-x"}]}, AgencyConfig)


def facts(
    requester: K, basis: B | None, elements: set[E], *, bulk: bool = False, **docs: str
) -> RequestFacts:
    return RequestFacts(requester=requester, basis=basis, elements=frozenset(elements), bulk=bulk, **docs)


CASE = {"case_or_incident_no": "LAPD-24-001"}
ORDER = {"instrument_ref": "LASC 24STCV0001, 2026-11-01"}
CONSENT = {"consent_ref": "signed consent 2026-10-02"}
DUTY = {"stated_purpose": "code enforcement inspection"}

# Rows of docs/rules.md §5.4: (requester, basis, documents, requested, bulk) → (outcome, allowed, two-person).
MATRIX = [
    # default deny without a recorded basis
    (K.LAW_ENFORCEMENT, None, {}, {E.NAME}, False, Outcome.DENIED, set(), False),
    # police: written request naming the subject + case number → name, address, usage
    (K.LAW_ENFORCEMENT, B.GC_C, CASE, NAME_ADDR_USAGE, False, Outcome.GRANTED, NAME_ADDR_USAGE, False),
    (K.LAW_ENFORCEMENT, B.GC_C, {}, {E.NAME}, False, Outcome.DENIED, set(), False),
    # §7927.410(c) does not reach phone, credit or AMI interval data
    (
        K.LAW_ENFORCEMENT,
        B.GC_C,
        CASE,
        {E.NAME, E.PHONE, E.AMI_INTERVAL},
        False,
        Outcome.PARTIAL,
        {E.NAME},
        False,
    ),
    # subpoena on one account → everything it names; AMI interval then needs two people
    (
        K.LAW_ENFORCEMENT,
        B.SUBPOENA,
        ORDER,
        {E.NAME, E.PHONE},
        False,
        Outcome.GRANTED,
        {E.NAME, E.PHONE},
        False,
    ),
    (K.LAW_ENFORCEMENT, B.WARRANT, ORDER, {E.AMI_INTERVAL}, False, Outcome.GRANTED, {E.AMI_INTERVAL}, True),
    (K.LAW_ENFORCEMENT, B.SUBPOENA, {}, {E.NAME}, False, Outcome.DENIED, set(), False),
    # bulk/pattern queries: denied without a court order (SMUD), two-person with one
    (K.LAW_ENFORCEMENT, B.GC_C, CASE, {E.BILLING_USAGE}, True, Outcome.DENIED, set(), False),
    (K.LAW_ENFORCEMENT, B.SUBPOENA, ORDER, {E.BILLING_USAGE}, True, Outcome.DENIED, set(), False),
    (
        K.LAW_ENFORCEMENT,
        B.COURT_ORDER,
        ORDER,
        {E.BILLING_USAGE},
        True,
        Outcome.GRANTED,
        {E.BILLING_USAGE},
        True,
    ),
    # housing department: official-duty statement → name, address, usage; AMI needs §8381
    (K.GOVERNMENT_AGENCY, B.GC_B, DUTY, NAME_ADDR_USAGE, False, Outcome.GRANTED, NAME_ADDR_USAGE, False),
    (K.GOVERNMENT_AGENCY, B.GC_B, DUTY, {E.AMI_INTERVAL}, False, Outcome.DENIED, set(), False),
    (K.GOVERNMENT_AGENCY, B.GC_C, CASE, {E.NAME}, False, Outcome.DENIED, set(), False),
    # assistance programs: customer consent; consent reaches interval data (two-person)
    (
        K.ASSISTANCE_PROGRAM,
        B.PUC_CONSENT,
        CONSENT,
        {E.NAME, E.AMI_INTERVAL},
        False,
        Outcome.GRANTED,
        {E.NAME, E.AMI_INTERVAL},
        True,
    ),
    (K.ASSISTANCE_PROGRAM, B.PUC_CONSENT, {}, {E.NAME}, False, Outcome.DENIED, set(), False),
    (K.ASSISTANCE_PROGRAM, B.GC_B, DUTY, {E.NAME}, False, Outcome.DENIED, set(), False),
    # landlord / relative / agent: documented authorization
    (
        K.AUTHORIZED_AGENT,
        B.GC_A,
        CONSENT,
        {E.NAME, E.ADDRESS},
        False,
        Outcome.GRANTED,
        {E.NAME, E.ADDRESS},
        False,
    ),
    (K.AUTHORIZED_AGENT, B.GC_A, {}, {E.NAME}, False, Outcome.DENIED, set(), False),
    # Public Records Act: exempt unless (d)/(e)/(f) with a written determination
    (
        K.PRA_REQUESTER,
        B.GC_F,
        {"determination": "counsel memo 2026-12"},
        {E.NAME},
        False,
        Outcome.GRANTED,
        {E.NAME},
        False,
    ),
    (K.PRA_REQUESTER, B.GC_F, {}, {E.NAME}, False, Outcome.DENIED, set(), False),
    (K.PRA_REQUESTER, B.GC_C, CASE, {E.NAME}, False, Outcome.DENIED, set(), False),
]


@pytest.mark.parametrize(
    ("requester", "basis", "docs", "requested", "bulk", "outcome", "allowed", "two_person"), MATRIX
)
def test_decision_matrix(
    requester: K,
    basis: B | None,
    docs: dict[str, str],
    requested: set[E],
    bulk: bool,
    outcome: Outcome,
    allowed: set[E],
    two_person: bool,
) -> None:
    d = decide(facts(requester, basis, requested, bulk=bulk, **docs))
    assert (d.outcome, set(d.allowed), d.needs_approval) == (outcome, allowed, two_person), d.reason
    if outcome is Outcome.DENIED:
        assert d.reason


def test_bulk_is_criteria_or_too_many_accounts() -> None:
    assert is_bulk(0, "all homes over 3000 kWh in 91331", 3)
    assert is_bulk(4, None, 3) and not is_bulk(3, None, 3) and not is_bulk(1, "  ", 3)


def test_limit_fields_keeps_only_the_allowed_elements() -> None:
    record = {"name": "A", "address": "B", "phone": "C", "ami_interval": [1], "account_id": "1"}
    assert limit_fields(record, {E.NAME, E.ADDRESS}) == {"name": "A", "address": "B"}
    assert limit_fields(record, []) == {}


def test_month_bounds_and_chain() -> None:
    start, end = month_bounds("2026-12")
    assert (start, end) == (dt.datetime(2026, 12, 1, tzinfo=dt.UTC), dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
    with pytest.raises(ValueError):
        month_bounds("2026-13")
    digest = entry_digest({"b": 1, "a": 2})
    assert digest == entry_digest({"a": 2, "b": 1})
    assert chain_entry("0" * 64, "decided", digest) != chain_entry("0" * 64, "released", digest)
