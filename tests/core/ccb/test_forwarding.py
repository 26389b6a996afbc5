"""The operation table and the forwarding base: each operation declared once, relayed as the port says."""

from __future__ import annotations

import inspect
import typing
from typing import Any

import msgspec
import pytest

from connectors.ccb_http import HttpCcb
from core.ccb import port as p
from core.ccb.forwarding import ForwardingCcb
from core.ccb.identity import IdentityMethod
from core.ccb.offline import OfflineCcb
from core.ccb.rest import READ_ROUTES

PORT_METHODS = {
    name: fn
    for name, fn in inspect.getmembers(p.CcbPort, predicate=inspect.isfunction)
    if not name.startswith("_")
}


class Recorder(ForwardingCcb):
    """Records what the generated methods relay, and answers with a marker."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    async def _read(self, name: str, **arguments: Any) -> Any:
        self.calls.append(("read", name, list(arguments.items())))
        return f"read:{name}"

    async def _write(
        self, name: str, request: msgspec.Struct, actor: str, idempotency_key: str | None
    ) -> Any:
        self.calls.append(("write", name, request, actor, idempotency_key))
        return f"write:{name}"

    async def verify_identity(
        self, account_id: str, method: IdentityMethod, value: str, *, actor: str = "system"
    ) -> bool:
        return False


def test_the_table_holds_every_port_operation_but_identity_verification_with_the_protocol_types() -> None:
    assert set(p.OPERATIONS) == set(PORT_METHODS) - {"verify_identity"}
    assert list(p.OPERATIONS) == [name for name in p.OPERATIONS if name in PORT_METHODS]
    for name, op in p.OPERATIONS.items():
        hints = typing.get_type_hints(PORT_METHODS[name], globalns=vars(p))
        assert hints["return"] == op.result, name
        params = inspect.signature(PORT_METHODS[name]).parameters
        if isinstance(op, p.WriteOperation):
            assert hints["request"] is op.request, name
            assert set(params) == {"self", "request", "actor", "idempotency_key"}, name
        else:
            assert "request" not in params and "idempotency_key" not in params, name
    assert set(p.READ_OPERATIONS) | set(p.WRITE_OPERATIONS) == set(p.OPERATIONS)


def test_every_read_has_a_rest_route_decoding_the_table_result() -> None:
    assert set(READ_ROUTES) == set(p.READ_OPERATIONS)
    for name, route in READ_ROUTES.items():
        assert route.result == p.READ_OPERATIONS[name].result, name


def test_generated_methods_carry_the_protocol_signatures() -> None:
    for name in p.OPERATIONS:
        method = getattr(ForwardingCcb, name)
        assert inspect.iscoroutinefunction(method), name
        assert method.__name__ == name
        assert inspect.signature(method) == inspect.signature(PORT_METHODS[name]), name


def test_remote_and_offline_ports_inherit_the_forwarders_instead_of_writing_them() -> None:
    for cls in (HttpCcb, OfflineCcb):
        assert issubclass(cls, ForwardingCcb)
        assert not set(vars(cls)) & set(p.OPERATIONS), cls.__name__
    assert isinstance(Recorder(), p.CcbPort)


async def test_reads_arrive_by_name_in_protocol_order_with_defaults_filled_in() -> None:
    ccb = Recorder()
    assert await ccb.list_bills("1234567890") == "read:list_bills"
    await ccb.list_reads("M1", register="received")
    await ccb.list_todos(status="O")
    await ccb.find_accounts_by_address("1 Main St", zip="94000")
    assert ccb.calls == [
        ("read", "list_bills", [("account_id", "1234567890"), ("limit", 6)]),
        ("read", "list_reads", [("meter_id", "M1"), ("register", "received")]),
        ("read", "list_todos", [("role", None), ("status", "O")]),
        ("read", "find_accounts_by_address", [("line1", "1 Main St"), ("zip", "94000")]),
    ]


async def test_writes_arrive_with_actor_and_key_and_keep_the_protocol_rules() -> None:
    ccb = Recorder()
    stop = p.CancelStop(sa_id="1234567890")
    assert await ccb.cancel_stop(stop) == "write:cancel_stop"
    payment = p.PostPayment(
        account_id="1234567890", tenders=(p.TenderInput(tender_type="cash", amount_cents=100),)
    )
    await ccb.post_payment(payment, idempotency_key="k1", actor="csr:7")
    assert ccb.calls == [
        ("write", "cancel_stop", stop, "system", None),
        ("write", "post_payment", payment, "csr:7", "k1"),
    ]
    # A wrong call fails as it would on the protocol, before anything is relayed.
    with pytest.raises(TypeError):
        await ccb.post_payment(payment)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        await ccb.cancel_stop(stop, "csr:7")  # type: ignore[misc]
    with pytest.raises(TypeError):
        await ccb.get_bill("B1", limit=3)  # type: ignore[call-arg]
    assert len(ccb.calls) == 2
