"""A CCB over HTTP: ``HttpCcb`` implements the CCB port against a REST server (the real CCB's facade or the
simulator), with a timeout on every call, retries only where they are safe, and a circuit breaker.

Why retries are limited (ARCHITECTURE §7): a read can be repeated freely, and so can a write that carries an
idempotency key, because the server answers a repeated key with the first answer and changes nothing. A
write without a key, or identity verification (which counts failures, rules §4.2), is sent once: repeating it
after a lost answer could apply it twice. Such a call that times out raises ``CcbUnavailable`` and its outcome
is unknown; the offline layer avoids that case by always sending a key.

The breaker (closed → open → half-open) stops the hub hammering a CCB that is down: after
``failure_threshold`` consecutive failures (refused, timed out, 5xx) every call fails fast with
``CcbUnavailable(breaker_open=True)`` for ``reset_timeout_s``; then ONE trial call is let through, and its
outcome closes the breaker again or reopens it for another cool-down. Domain answers (404/409/422/423) are
a healthy server's answers and count as successes.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
import msgspec

from core.ccb import port as p
from core.ccb import rest
from core.ccb.errors import CcbError, CcbUnavailable
from core.ccb.identity import IdentityMethod

__all__ = ["BreakerState", "CircuitBreaker", "HttpCcb"]


class BreakerState(enum.StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Consecutive-failure circuit breaker; ``now`` is injectable so tests need not sleep a cool-down."""

    def __init__(
        self,
        failure_threshold: int = 5,
        reset_timeout_s: float = 30.0,
        *,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if reset_timeout_s <= 0:
            raise ValueError("reset_timeout_s must be positive")
        self.failure_threshold = failure_threshold
        self.reset_timeout_s = reset_timeout_s
        self._now = now
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._trial_in_flight = False
        self.last_error: str | None = None

    @property
    def state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self._now() - self._opened_at >= self.reset_timeout_s:
            return BreakerState.HALF_OPEN
        return self._state

    @property
    def failures(self) -> int:
        return self._failures

    def before_call(self) -> None:
        """Raise ``CcbUnavailable`` when the call must not go out (open, or a half-open trial is running)."""
        state = self.state
        if state is BreakerState.CLOSED:
            return
        if state is BreakerState.HALF_OPEN and not self._trial_in_flight:
            self._state = BreakerState.HALF_OPEN
            self._trial_in_flight = True
            return
        wait = max(0.0, self.reset_timeout_s - (self._now() - self._opened_at))
        raise CcbUnavailable(
            f"circuit breaker open after {self._failures} failures ({self.last_error}); "
            f"next try in {wait:.0f}s",
            breaker_open=True,
        )

    def record_success(self) -> None:
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._trial_in_flight = False

    def record_failure(self, reason: str) -> None:
        self._failures += 1
        self.last_error = reason
        if self._trial_in_flight or self._failures >= self.failure_threshold:
            self._state = BreakerState.OPEN
            self._opened_at = self._now()
        self._trial_in_flight = False


class _Retryable(Exception):
    """An attempt failed in a way that says nothing about the request (refused, timed out, 5xx)."""


class HttpCcb:
    """The CCB port over HTTP (implements ``CcbPort``); see the module docstring for the retry rules."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 5.0,
        retries: int = 2,
        breaker: CircuitBreaker | None = None,
        backoff_s: float = 0.1,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if retries < 0:
            raise ValueError("retries must be 0 or more")
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.backoff_s = backoff_s
        self.breaker = breaker or CircuitBreaker()
        # One timeout for connect, read, write and pool: no call can hang longer (ARCHITECTURE §7).
        self._client = httpx.AsyncClient(
            base_url=self.base_url, timeout=httpx.Timeout(timeout), transport=transport
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    # -- transport ------------------------------------------------------------------------------------
    async def _attempt(
        self, method: str, path: str, params: dict[str, Any] | None, body: bytes | None
    ) -> Any:
        self.breaker.before_call()
        try:
            response = await self._client.request(
                method,
                path,
                params=params,
                content=body,
                headers={"content-type": "application/json"} if body is not None else None,
            )
        except httpx.TransportError as exc:
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            self.breaker.record_failure(reason)
            raise _Retryable(reason) from exc
        if response.status_code >= 500:
            reason = f"HTTP {response.status_code}"
            self.breaker.record_failure(reason)
            raise _Retryable(reason)
        self.breaker.record_success()
        if response.status_code >= 400:
            try:
                problem = msgspec.json.decode(response.content, type=rest.Problem)
            except msgspec.MsgspecError:
                raise CcbError(f"CCB answered HTTP {response.status_code}") from None
            raise rest.error_from_problem(problem)
        return response.content

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: bytes | None = None,
        idempotent: bool,
    ) -> bytes:
        attempts = 1 + (self.retries if idempotent else 0)
        last = "no attempt"
        for attempt in range(attempts):
            if attempt:
                # Exponential backoff: gives a struggling server room instead of a burst of retries.
                await asyncio.sleep(self.backoff_s * (2 ** (attempt - 1)))
            try:
                content: bytes = await self._attempt(method, path, params, body)
                return content
            except _Retryable as exc:
                last = str(exc)
        raise CcbUnavailable(f"{method} {path} failed after {attempts} attempt(s): {last}")

    async def _read(self, name: str, **kwargs: Any) -> Any:
        route = rest.READ_ROUTES[name]
        path = route.path
        for param in route.path_params:
            path = path.replace("{" + param + "}", quote(str(kwargs[param]), safe=""))
        params = {k: kwargs[k] for k in route.query if kwargs.get(k) is not None}
        content = await self._call("GET", path, params=params or None, idempotent=True)
        return msgspec.json.decode(content, type=route.result)

    async def _write(
        self, name: str, request: msgspec.Struct, actor: str, idempotency_key: str | None
    ) -> Any:
        _request_type, result_type = p.WRITE_OPERATIONS[name]
        body = rest.WriteBody(
            request=msgspec.Raw(msgspec.json.encode(request)), actor=actor, idempotency_key=idempotency_key
        )
        content = await self._call(
            "POST",
            f"/ccb/ops/{name}",
            body=msgspec.json.encode(body),
            idempotent=idempotency_key is not None,
        )
        answer = msgspec.json.decode(content, type=rest.WriteAnswer)
        return msgspec.json.decode(answer.result, type=result_type)

    # -- reads ----------------------------------------------------------------------------------------
    async def get_account_summary(self, account_id: str) -> p.AccountSummary:
        return await self._read("get_account_summary", account_id=account_id)

    async def find_accounts_by_phone(self, phone: str) -> list[str]:
        return await self._read("find_accounts_by_phone", phone=phone)

    async def find_accounts_by_address(self, line1: str, zip: str) -> list[str]:
        return await self._read("find_accounts_by_address", line1=line1, zip=zip)

    async def get_person(self, person_id: str) -> p.PersonView:
        return await self._read("get_person", person_id=person_id)

    async def get_premise(self, premise_id: str) -> p.PremiseView:
        return await self._read("get_premise", premise_id=premise_id)

    async def get_service_agreement(self, sa_id: str) -> p.ServiceAgreementView:
        return await self._read("get_service_agreement", sa_id=sa_id)

    async def get_balance(self, account_id: str) -> p.Balance:
        return await self._read("get_balance", account_id=account_id)

    async def list_financial_transactions(self, account_id: str) -> list[p.FinancialTransactionView]:
        return await self._read("list_financial_transactions", account_id=account_id)

    async def get_bill(self, bill_id: str) -> p.BillView:
        return await self._read("get_bill", bill_id=bill_id)

    async def list_bills(self, account_id: str, limit: int = 6) -> list[p.BillView]:
        return await self._read("list_bills", account_id=account_id, limit=limit)

    async def bill_explanation(self, bill_id: str) -> p.BillExplanation:
        return await self._read("bill_explanation", bill_id=bill_id)

    async def list_reads(self, meter_id: str, register: p.RegisterFlow = "delivered") -> list[p.ReadView]:
        return await self._read("list_reads", meter_id=meter_id, register=register)

    async def get_net_metering(self, account_id: str, limit: int = 6) -> p.NetMeteringView | None:
        return await self._read("get_net_metering", account_id=account_id, limit=limit)

    async def get_adjustment(self, adjustment_id: str) -> p.AdjustmentView:
        return await self._read("get_adjustment", adjustment_id=adjustment_id)

    async def get_payment(self, payment_id: str) -> p.PaymentResult:
        return await self._read("get_payment", payment_id=payment_id)

    async def get_tender_control(self, tender_control_id: str) -> p.TenderControlView:
        return await self._read("get_tender_control", tender_control_id=tender_control_id)

    async def get_pay_plan(self, pay_plan_id: str) -> p.PayPlanView:
        return await self._read("get_pay_plan", pay_plan_id=pay_plan_id)

    async def list_customer_contacts(self, account_id: str) -> list[p.CustomerContactView]:
        return await self._read("list_customer_contacts", account_id=account_id)

    async def list_premise_notes(self, premise_id: str) -> list[p.PremiseNoteView]:
        return await self._read("list_premise_notes", premise_id=premise_id)

    async def get_case(self, case_id: str) -> p.CaseView:
        return await self._read("get_case", case_id=case_id)

    async def get_field_activity(self, field_activity_id: str) -> p.FieldActivityView:
        return await self._read("get_field_activity", field_activity_id=field_activity_id)

    async def list_todos(self, role: str | None = None, status: str | None = None) -> list[p.ToDoView]:
        return await self._read("list_todos", role=role, status=status)

    async def verify_identity(
        self, account_id: str, method: IdentityMethod, value: str, *, actor: str = "system"
    ) -> bool:
        body = msgspec.json.encode(rest.VerifyBody(method=method, value=value, actor=actor))
        path = rest.VERIFY_PATH.replace("{account_id}", quote(account_id, safe=""))
        # Not idempotent: every attempt counts towards the lock-out (rules §4.2), so it is sent once.
        content = await self._call("POST", path, body=body, idempotent=False)
        return msgspec.json.decode(content, type=rest.VerifyAnswer).verified

    # -- writes (one request Struct each; see WRITE_OPERATIONS) ---------------------------------------
    async def create_customer(
        self, request: p.CreateCustomer, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.CustomerCreated:
        return await self._write("create_customer", request, actor, idempotency_key)

    async def add_account_person(
        self, request: p.AddAccountPerson, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.PersonBrief:
        return await self._write("add_account_person", request, actor, idempotency_key)

    async def set_main_customer(
        self, request: p.SetMainCustomer, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.PersonBrief:
        return await self._write("set_main_customer", request, actor, idempotency_key)

    async def set_access_code(
        self, request: p.SetAccessCode, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.PersonView:
        return await self._write("set_access_code", request, actor, idempotency_key)

    async def unlock_verification(
        self, request: p.UnlockVerification, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.AccountSummary:
        return await self._write("unlock_verification", request, actor, idempotency_key)

    async def set_mailing_address(
        self, request: p.SetMailingAddress, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.AccountSummary:
        return await self._write("set_mailing_address", request, actor, idempotency_key)

    async def create_premise(
        self, request: p.CreatePremise, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.PremiseView:
        return await self._write("create_premise", request, actor, idempotency_key)

    async def set_property_access(
        self, request: p.SetPropertyAccess, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.PremiseView:
        return await self._write("set_property_access", request, actor, idempotency_key)

    async def start_service(
        self, request: p.StartService, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.StartServiceResult:
        return await self._write("start_service", request, actor, idempotency_key)

    async def cancel_start(
        self, request: p.CancelStart, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.ServiceAgreementView:
        return await self._write("cancel_start", request, actor, idempotency_key)

    async def stop_service(
        self, request: p.StopService, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.ServiceAgreementView:
        return await self._write("stop_service", request, actor, idempotency_key)

    async def cancel_stop(
        self, request: p.CancelStop, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.ServiceAgreementView:
        return await self._write("cancel_stop", request, actor, idempotency_key)

    async def restore_service(
        self, request: p.RestoreService, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.ServiceAgreementView:
        return await self._write("restore_service", request, actor, idempotency_key)

    async def add_meter_read(
        self, request: p.AddMeterRead, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.ReadResult:
        return await self._write("add_meter_read", request, actor, idempotency_key)

    async def bill_account(
        self, request: p.BillAccount, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.BillView | None:
        return await self._write("bill_account", request, actor, idempotency_key)

    async def freeze_bill_segment(
        self, request: p.FreezeBillSegment, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.BillSegmentView:
        return await self._write("freeze_bill_segment", request, actor, idempotency_key)

    async def cancel_bill_segment(
        self, request: p.CancelBillSegment, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.BillSegmentView:
        return await self._write("cancel_bill_segment", request, actor, idempotency_key)

    async def rebill(
        self, request: p.Rebill, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.RebillResult:
        return await self._write("rebill", request, actor, idempotency_key)

    async def create_adjustment(
        self, request: p.CreateAdjustment, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.AdjustmentView:
        return await self._write("create_adjustment", request, actor, idempotency_key)

    async def approve_adjustment(
        self, request: p.ApproveAdjustment, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.AdjustmentView:
        return await self._write("approve_adjustment", request, actor, idempotency_key)

    async def cancel_adjustment(
        self, request: p.CancelAdjustment, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.AdjustmentView:
        return await self._write("cancel_adjustment", request, actor, idempotency_key)

    async def post_payment(
        self, request: p.PostPayment, *, idempotency_key: str, actor: str = "system"
    ) -> p.PaymentResult:
        return await self._write("post_payment", request, actor, idempotency_key)

    async def cancel_payment(
        self, request: p.CancelPayment, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.PaymentResult:
        return await self._write("cancel_payment", request, actor, idempotency_key)

    async def cancel_tender(
        self, request: p.CancelTender, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.TenderCanceled:
        return await self._write("cancel_tender", request, actor, idempotency_key)

    async def open_tender_control(
        self, request: p.OpenTenderControl, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.TenderControlView:
        return await self._write("open_tender_control", request, actor, idempotency_key)

    async def start_balancing(
        self, request: p.StartBalancing, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.TenderControlView:
        return await self._write("start_balancing", request, actor, idempotency_key)

    async def balance_tender_control(
        self, request: p.BalanceTenderControl, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.TenderControlView:
        return await self._write("balance_tender_control", request, actor, idempotency_key)

    async def create_deposit_control(
        self, request: p.CreateDepositControl, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.DepositControlView:
        return await self._write("create_deposit_control", request, actor, idempotency_key)

    async def create_pay_plan(
        self, request: p.CreatePayPlan, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.PayPlanView:
        return await self._write("create_pay_plan", request, actor, idempotency_key)

    async def cancel_pay_plan(
        self, request: p.CancelPayPlan, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.PayPlanView:
        return await self._write("cancel_pay_plan", request, actor, idempotency_key)

    async def create_payment_arrangement(
        self,
        request: p.CreatePaymentArrangement,
        *,
        actor: str = "system",
        idempotency_key: str | None = None,
    ) -> p.PaymentArrangementView:
        return await self._write("create_payment_arrangement", request, actor, idempotency_key)

    async def request_deposit(
        self, request: p.RequestDeposit, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.DepositView:
        return await self._write("request_deposit", request, actor, idempotency_key)

    async def add_customer_contact(
        self, request: p.AddCustomerContact, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.CustomerContactView:
        return await self._write("add_customer_contact", request, actor, idempotency_key)

    async def resolve_customer_contact(
        self, request: p.ResolveCustomerContact, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.CustomerContactView:
        return await self._write("resolve_customer_contact", request, actor, idempotency_key)

    async def add_premise_note(
        self, request: p.AddPremiseNote, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.PremiseNoteView:
        return await self._write("add_premise_note", request, actor, idempotency_key)

    async def add_alert(
        self, request: p.AddAlert, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.AlertView:
        return await self._write("add_alert", request, actor, idempotency_key)

    async def create_case(
        self, request: p.CreateCase, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.CaseView:
        return await self._write("create_case", request, actor, idempotency_key)

    async def transition_case(
        self, request: p.TransitionCase, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.CaseView:
        return await self._write("transition_case", request, actor, idempotency_key)

    async def create_field_activity(
        self, request: p.CreateFieldActivity, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.FieldActivityView:
        return await self._write("create_field_activity", request, actor, idempotency_key)

    async def complete_field_activity(
        self, request: p.CompleteFieldActivity, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.FieldActivityView:
        return await self._write("complete_field_activity", request, actor, idempotency_key)

    async def cancel_field_activity(
        self, request: p.CancelFieldActivity, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.FieldActivityView:
        return await self._write("cancel_field_activity", request, actor, idempotency_key)

    async def create_todo(
        self, request: p.CreateToDo, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.ToDoView:
        return await self._write("create_todo", request, actor, idempotency_key)

    async def update_todo(
        self, request: p.UpdateToDo, *, actor: str = "system", idempotency_key: str | None = None
    ) -> p.ToDoView:
        return await self._write("update_todo", request, actor, idempotency_key)
