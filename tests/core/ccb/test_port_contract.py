"""The CCB port's contract: serialisable Structs, a journalable write table, typed errors, safe events."""

from __future__ import annotations

import inspect
import typing

import msgspec
import pytest

from core.ccb import codes
from core.ccb import port as p
from core.ccb.errors import IllegalTransition, Invalid, NotFound, VerificationLocked
from core.ccb.events import CCB_EVENT_TYPES
from core.ccb.local import LocalCcb
from core.outbox import EventCatalogue

PORT_METHODS = {
    name: fn
    for name, fn in inspect.getmembers(p.CcbPort, predicate=inspect.isfunction)
    if not name.startswith("_")
}
WRITES = {name: fn for name, fn in PORT_METHODS.items() if "request" in inspect.signature(fn).parameters}


def test_every_write_is_in_the_journal_table_with_its_request_and_result_types() -> None:
    assert set(WRITES) == set(p.WRITE_OPERATIONS)
    for name, fn in WRITES.items():
        hints = typing.get_type_hints(fn, globalns=vars(p))
        request_type, result_type = p.WRITE_OPERATIONS[name]
        assert hints["request"] is request_type, name
        assert hints["return"] == result_type, name
        params = inspect.signature(fn).parameters
        assert params["idempotency_key"].kind is inspect.Parameter.KEYWORD_ONLY, name
        assert params["actor"].kind is inspect.Parameter.KEYWORD_ONLY, name
    # A payment without a key could be credited twice on a retry: there the key is required.
    assert (
        inspect.signature(WRITES["post_payment"]).parameters["idempotency_key"].default
        is inspect.Parameter.empty
    )


def test_local_mock_implements_every_port_method_with_the_same_signature() -> None:
    for name, fn in PORT_METHODS.items():
        impl = getattr(LocalCcb, name)
        assert inspect.iscoroutinefunction(impl), name
        assert list(inspect.signature(impl).parameters) == list(inspect.signature(fn).parameters), name


def test_port_structs_are_frozen_strict_and_have_json_schemas() -> None:
    structs = [
        obj
        for obj in vars(p).values()
        if isinstance(obj, type) and issubclass(obj, msgspec.Struct) and obj is not p.Model
    ]
    assert len(structs) > 60
    for struct in structs:
        assert struct.__struct_config__.frozen, struct.__name__
        assert struct.__struct_config__.forbid_unknown_fields, struct.__name__
    msgspec.json.schema_components(structs)  # every type is serialisable


def test_requests_round_trip_through_json_like_a_journal_would() -> None:
    request = p.PostPayment(
        account_id="1234567890",
        tenders=(
            p.TenderInput(tender_type="cash", amount_cents=1000),
            p.TenderInput(tender_type="card", amount_cents=250, card_last4="4242"),
        ),
    )
    request_type, _ = p.WRITE_OPERATIONS["post_payment"]
    assert msgspec.json.decode(msgspec.json.encode(request), type=request_type) == request
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"account_id": "1", "tenders": [], "pan": "4111"}', type=p.PostPayment)
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"tender_type": "bitcoin", "amount_cents": 5}', type=p.TenderInput)


def test_errors_carry_what_the_api_needs() -> None:
    err = IllegalTransition("service_agreement", "1234567890", "30", "stop", "pending stop")
    assert (err.kind, err.id, err.current_status, err.action) == (
        "service_agreement",
        "1234567890",
        "30",
        "stop",
    )
    assert "30 (pending stop)" in str(err)
    assert Invalid("tenders[1].amount_cents", "must be positive").field == "tenders[1].amount_cents"
    assert (NotFound("bill", "1").kind, NotFound("bill", "1").id) == ("bill", "1")
    locked = VerificationLocked("1234567890")
    assert isinstance(locked, IllegalTransition) and locked.current_status == "locked"


def test_event_types_register_and_carry_no_personal_data() -> None:
    catalogue = EventCatalogue()
    for et in CCB_EVENT_TYPES:
        catalogue.register(et.subject, et.payload, "core", et.description)
        assert et.subject.startswith("hub.ccb.")
        for field in et.payload.__struct_fields__:
            assert not any(
                word in field for word in ("name", "phone", "ssn", "code", "pan", "card", "address")
            )
    subjects = {e.subject for e in catalogue.entries()}
    assert {
        "hub.ccb.service.started",
        "hub.ccb.service.stopped",
        "hub.ccb.service.restored",
        "hub.ccb.payment.posted",
        "hub.ccb.read.estimated_streak",
        "hub.ccb.case.opened",
        "hub.ccb.trouble_ticket.created",
        "hub.ccb.read.access_failed",
    } <= subjects


def test_lifecycles_are_data_and_every_status_is_reachable() -> None:
    reached = {"10"}
    frontier = ["10"]
    while frontier:
        current = frontier.pop()
        for (source, _action), target in codes.SA_TRANSITIONS.items():
            if source == current and target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(codes.SA_STATUS_LABELS)
    assert codes.sa_next_status("40", "restore") == "50"
    assert codes.sa_next_status("20", "restore") is None
    for ctype in codes.CASE_TYPES.values():
        assert ctype.initial in ctype.transitions
        assert ctype.final and not (ctype.final & set(ctype.transitions))
    for adj in codes.ADJUSTMENT_TYPES.values():
        assert adj.sign in (1, -1)
