"""The wire contract of the CCB REST surface: read routes, the write envelope and the problem document.

Shared by the simulated CCB server (which serves a ``CcbPort`` over HTTP) and the HTTP connector (which
calls it), so the two cannot drift apart. The shape follows docs/ccb-domain.md §1.18: resources under one base
path, writes as POSTs, errors as a ``problemDetailDocument`` (``httpStatus``, ``problemType``, ``title``,
``detail``) extended with the fields our typed errors carry, so the client rebuilds the exact exception.

Reads map one port method to one ``GET`` path; writes are ``POST /ccb/ops/{operation}`` where the
operation is a key of ``WRITE_OPERATIONS`` (an RPC-ish surface, faithful to the port rather than to every
CCB business-object path).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import msgspec

from core.ccb import port as p
from core.ccb.errors import CcbError, CcbUnavailable, IllegalTransition, Invalid, NotFound, VerificationLocked

__all__ = [
    "READ_ROUTES",
    "VERIFY_PATH",
    "WRITE_PATH",
    "Problem",
    "ReadRoute",
    "VerifyAnswer",
    "VerifyBody",
    "WriteAnswer",
    "WriteBody",
    "error_from_problem",
    "problem_for",
]

WRITE_PATH = "/ccb/ops/{operation}"
VERIFY_PATH = "/ccb/accounts/{account_id}/verify-identity"


@dataclass(frozen=True, slots=True)
class ReadRoute:
    """One read: the ``GET`` path (``{name}`` segments are the method's positional ids) and query args."""

    path: str
    result: Any
    query: tuple[str, ...] = ()
    int_query: frozenset[str] = frozenset()

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)


def _route(
    name: str, path: str, query: tuple[str, ...] = (), int_query: frozenset[str] = frozenset()
) -> tuple[str, ReadRoute]:
    # The result type is the one the port's operation table declares for the read, not a second copy.
    return name, ReadRoute(path, p.READ_OPERATIONS[name].result, query, int_query)


READ_ROUTES: dict[str, ReadRoute] = dict(
    [
        _route("get_account_summary", "/ccb/accounts/{account_id}"),
        _route("find_accounts_by_phone", "/ccb/account-search/phone", ("phone",)),
        _route("find_accounts_by_address", "/ccb/account-search/address", ("line1", "zip")),
        _route("get_person", "/ccb/persons/{person_id}"),
        _route("get_premise", "/ccb/premises/{premise_id}"),
        _route("get_service_agreement", "/ccb/service-agreements/{sa_id}"),
        _route("get_balance", "/ccb/accounts/{account_id}/balance"),
        _route("list_financial_transactions", "/ccb/accounts/{account_id}/financial-transactions"),
        _route("get_bill", "/ccb/bills/{bill_id}"),
        _route("list_bills", "/ccb/accounts/{account_id}/bills", ("limit",), frozenset({"limit"})),
        _route("bill_explanation", "/ccb/bills/{bill_id}/explanation"),
        _route("list_reads", "/ccb/meters/{meter_id}/reads", ("register",)),
        # ``null`` when the account has no net-metered service agreement (an unknown account is a 404).
        _route(
            "get_net_metering", "/ccb/accounts/{account_id}/net-metering", ("limit",), frozenset({"limit"})
        ),
        _route("get_adjustment", "/ccb/adjustments/{adjustment_id}"),
        _route("get_payment", "/ccb/payments/{payment_id}"),
        _route("get_tender_control", "/ccb/tender-controls/{tender_control_id}"),
        _route("get_pay_plan", "/ccb/pay-plans/{pay_plan_id}"),
        _route("list_customer_contacts", "/ccb/accounts/{account_id}/customer-contacts"),
        _route("list_premise_notes", "/ccb/premises/{premise_id}/notes"),
        _route("get_case", "/ccb/cases/{case_id}"),
        _route("get_field_activity", "/ccb/field-activities/{field_activity_id}"),
        _route("list_todos", "/ccb/todos", ("role", "status")),
    ]
)


class WriteBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """``POST /ccb/ops/{operation}``: the request Struct travels raw and is decoded by its operation."""

    request: msgspec.Raw
    actor: str = "system"
    idempotency_key: str | None = None


class WriteAnswer(msgspec.Struct, frozen=True, kw_only=True):
    """A write's answer; wrapped because ``bill_account`` may answer ``None``."""

    result: msgspec.Raw


class VerifyBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    method: str
    value: str
    actor: str = "system"


class VerifyAnswer(msgspec.Struct, frozen=True, kw_only=True):
    verified: bool


class Problem(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, rename="camel"):
    """A ``problemDetailDocument`` (docs/ccb-domain.md §1.18) plus the typed error's own fields."""

    http_status: int
    problem_type: str
    title: str
    detail: str
    kind: str | None = None
    id: str | None = None
    current_status: str | None = None
    action: str | None = None
    status_label: str | None = None
    field: str | None = None
    message: str | None = None


def problem_for(exc: CcbError) -> Problem:
    """The document (and so the HTTP status) for a domain error; order matters: subclasses first."""
    if isinstance(exc, VerificationLocked):
        return Problem(
            http_status=423,
            problem_type="verification_locked",
            title="Verification locked",
            detail=str(exc),
            id=exc.id,
        )
    if isinstance(exc, IllegalTransition):
        return Problem(
            http_status=409,
            problem_type="illegal_transition",
            title="Illegal transition",
            detail=str(exc),
            kind=exc.kind,
            id=exc.id,
            current_status=exc.current_status,
            action=exc.action,
            status_label=exc.status_label,
        )
    if isinstance(exc, NotFound):
        return Problem(
            http_status=404,
            problem_type="not_found",
            title="Not found",
            detail=str(exc),
            kind=exc.kind,
            id=exc.id,
        )
    if isinstance(exc, Invalid):
        return Problem(
            http_status=422,
            problem_type="invalid",
            title="Invalid input",
            detail=str(exc),
            field=exc.field,
            message=exc.message,
        )
    if isinstance(exc, CcbUnavailable):
        return Problem(http_status=503, problem_type="unavailable", title="Unavailable", detail=str(exc))
    return Problem(http_status=500, problem_type="ccb_error", title="CCB error", detail=str(exc))


def error_from_problem(problem: Problem) -> CcbError:
    """The typed error a problem document stands for (the inverse of :func:`problem_for`)."""
    kind = problem.kind or "object"
    ident = problem.id or ""
    if problem.problem_type == "verification_locked":
        return VerificationLocked(ident)
    if problem.problem_type == "illegal_transition":
        return IllegalTransition(
            kind, ident, problem.current_status or "", problem.action or "change", problem.status_label
        )
    if problem.problem_type == "not_found":
        return NotFound(kind, ident)
    if problem.problem_type == "invalid":
        return Invalid(problem.field or "request", problem.message or problem.detail)
    if problem.http_status >= 500:
        return CcbUnavailable(f"HTTP {problem.http_status}: {problem.detail}")
    return CcbError(problem.detail)
