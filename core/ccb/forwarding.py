"""One forwarding base for CCB ports that relay every operation: ``ForwardingCcb``.

The remote port (``connectors.ccb_http.HttpCcb``) and the offline port (``core.ccb.offline.OfflineCcb``)
do the same thing for every operation — hand a read to one code path and a write to another — and differ
only in those two paths. So neither spells out the operations: this base generates one method per entry
of the port's operation table (``core.ccb.port.operations.OPERATIONS``), with the signature of the
``CcbPort`` method of the same name, and a subclass implements only

* ``_read(name, **arguments)`` — ``arguments`` are the method's, by name, in the protocol's order, with
  the defaults filled in (so ``list_bills(a)`` arrives as ``account_id=a, limit=6``);
* ``_write(name, request, actor, idempotency_key)``;
* ``verify_identity``, the one operation outside the table (see ``core.ccb.port.operations``).

Type checkers cannot see generated methods, so the class body declares each one, for type checking only,
as the protocol's own function: the signatures stay written once, in ``CcbPort``.
"""

from __future__ import annotations

import abc
import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import msgspec

from core.ccb.identity import IdentityMethod
from core.ccb.port import OPERATIONS, CcbPort, ReadOperation

__all__ = ["ForwardingCcb"]


class ForwardingCcb(abc.ABC):
    """A CCB port whose table operations all go through ``_read`` / ``_write`` (see the module docstring)."""

    @abc.abstractmethod
    async def _read(self, name: str, **arguments: Any) -> Any:
        """Answer the read ``name`` of the operation table."""

    @abc.abstractmethod
    async def _write(
        self, name: str, request: msgspec.Struct, actor: str, idempotency_key: str | None
    ) -> Any:
        """Apply the write ``name`` of the operation table."""

    @abc.abstractmethod
    async def verify_identity(
        self, account_id: str, method: IdentityMethod, value: str, *, actor: str = "system"
    ) -> bool:
        """Check an identity factor; never retried, journaled or answered from a snapshot (docs/rules.md
        §4.2)."""

    # For type checkers only: the methods generated below, typed as the protocol declares them. A missing
    # line fails the ``_conforms`` checks of the subclasses; at run time the table alone decides.
    if TYPE_CHECKING:
        get_account_summary = CcbPort.get_account_summary
        find_accounts_by_phone = CcbPort.find_accounts_by_phone
        find_accounts_by_address = CcbPort.find_accounts_by_address
        get_person = CcbPort.get_person
        get_premise = CcbPort.get_premise
        get_service_agreement = CcbPort.get_service_agreement
        get_balance = CcbPort.get_balance
        list_financial_transactions = CcbPort.list_financial_transactions
        get_bill = CcbPort.get_bill
        list_bills = CcbPort.list_bills
        bill_explanation = CcbPort.bill_explanation
        list_reads = CcbPort.list_reads
        get_net_metering = CcbPort.get_net_metering
        get_adjustment = CcbPort.get_adjustment
        get_payment = CcbPort.get_payment
        get_tender_control = CcbPort.get_tender_control
        get_pay_plan = CcbPort.get_pay_plan
        list_customer_contacts = CcbPort.list_customer_contacts
        list_premise_notes = CcbPort.list_premise_notes
        get_case = CcbPort.get_case
        get_field_activity = CcbPort.get_field_activity
        list_todos = CcbPort.list_todos
        create_customer = CcbPort.create_customer
        add_account_person = CcbPort.add_account_person
        set_main_customer = CcbPort.set_main_customer
        set_access_code = CcbPort.set_access_code
        unlock_verification = CcbPort.unlock_verification
        set_mailing_address = CcbPort.set_mailing_address
        create_premise = CcbPort.create_premise
        set_property_access = CcbPort.set_property_access
        start_service = CcbPort.start_service
        cancel_start = CcbPort.cancel_start
        stop_service = CcbPort.stop_service
        cancel_stop = CcbPort.cancel_stop
        restore_service = CcbPort.restore_service
        add_meter_read = CcbPort.add_meter_read
        bill_account = CcbPort.bill_account
        freeze_bill_segment = CcbPort.freeze_bill_segment
        cancel_bill_segment = CcbPort.cancel_bill_segment
        rebill = CcbPort.rebill
        create_adjustment = CcbPort.create_adjustment
        approve_adjustment = CcbPort.approve_adjustment
        cancel_adjustment = CcbPort.cancel_adjustment
        post_payment = CcbPort.post_payment
        cancel_payment = CcbPort.cancel_payment
        cancel_tender = CcbPort.cancel_tender
        open_tender_control = CcbPort.open_tender_control
        start_balancing = CcbPort.start_balancing
        balance_tender_control = CcbPort.balance_tender_control
        create_deposit_control = CcbPort.create_deposit_control
        create_pay_plan = CcbPort.create_pay_plan
        cancel_pay_plan = CcbPort.cancel_pay_plan
        create_payment_arrangement = CcbPort.create_payment_arrangement
        request_deposit = CcbPort.request_deposit
        add_customer_contact = CcbPort.add_customer_contact
        resolve_customer_contact = CcbPort.resolve_customer_contact
        add_premise_note = CcbPort.add_premise_note
        add_alert = CcbPort.add_alert
        create_case = CcbPort.create_case
        transition_case = CcbPort.transition_case
        create_field_activity = CcbPort.create_field_activity
        complete_field_activity = CcbPort.complete_field_activity
        cancel_field_activity = CcbPort.cancel_field_activity
        create_todo = CcbPort.create_todo
        update_todo = CcbPort.update_todo


def _forwarder(name: str, read: bool) -> Callable[..., Awaitable[Any]]:
    """The method for operation ``name``: bind the call as ``CcbPort.<name>`` would, then relay it."""
    signature = inspect.signature(getattr(CcbPort, name))

    async def forward(self: ForwardingCcb, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)  # a wrong call fails as it would on the protocol
        bound.apply_defaults()
        arguments = bound.arguments
        if read:
            del arguments["self"]
            return await self._read(name, **arguments)
        return await self._write(name, arguments["request"], arguments["actor"], arguments["idempotency_key"])

    forward.__name__ = name
    forward.__qualname__ = f"{ForwardingCcb.__qualname__}.{name}"
    forward.__doc__ = f"``CcbPort.{name}``, relayed to ``{'_read' if read else '_write'}``."
    forward.__signature__ = signature  # type: ignore[attr-defined]
    return forward


for _name, _operation in OPERATIONS.items():
    setattr(ForwardingCcb, _name, _forwarder(_name, isinstance(_operation, ReadOperation)))
