"""Typed errors of the CCB port; the API maps them to 404, 409 and 422 without inspecting messages.

Every implementation of the port (the local mock, a remote CCB over HTTP, the offline journal) raises these
and nothing else for domain problems, so callers handle one set of exceptions whatever sits behind the port.
"""

from __future__ import annotations

__all__ = [
    "CcbError",
    "CcbUnavailable",
    "IllegalTransition",
    "Invalid",
    "NotFound",
    "RecordedOffline",
    "VerificationLocked",
]


class CcbError(Exception):
    """Base of every domain error the CCB port raises."""


class NotFound(CcbError):
    """No object of ``kind`` with ``id`` (HTTP 404)."""

    def __init__(self, kind: str, id: str) -> None:
        super().__init__(f"{kind} {id} not found")
        self.kind = kind
        self.id = id


class IllegalTransition(CcbError):
    """``action`` is not allowed on ``kind`` ``id`` in its ``current_status`` (HTTP 409 naming the status)."""

    def __init__(
        self, kind: str, id: str, current_status: str, action: str, status_label: str | None = None
    ) -> None:
        shown = f"{current_status} ({status_label})" if status_label else current_status
        super().__init__(f"cannot {action} {kind} {id}: its status is {shown}")
        self.kind = kind
        self.id = id
        self.current_status = current_status
        self.action = action
        self.status_label = status_label


class VerificationLocked(IllegalTransition):
    """Identity verification is locked for the account after too many failures (docs/rules.md §4.2)."""

    def __init__(self, account_id: str) -> None:
        super().__init__("account", account_id, "locked", "verify_identity")


class Invalid(CcbError):
    """Input the domain refuses; ``field`` names the offending input (HTTP 422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class CcbUnavailable(CcbError):
    """CCB cannot be reached: connection refused, timed out, answered 5xx, or the circuit breaker is open.

    Not a domain answer: the request may be retried later (HTTP 503 naming the outage, ARCHITECTURE §7).
    ``breaker_open`` tells callers the hub stopped trying for a cool-down rather than failing just now.
    """

    def __init__(self, reason: str, *, breaker_open: bool = False) -> None:
        super().__init__(f"CCB is unavailable: {reason}")
        self.reason = reason
        self.breaker_open = breaker_open


class RecordedOffline(Exception):
    """The write was journaled as offline form ``form_id`` and will be replayed (HTTP 202).

    Deliberately not a ``CcbError``: nothing went wrong from the caller's point of view, the write is
    accepted and pending, and code that catches domain errors must not swallow it by accident.
    """

    def __init__(self, form_id: int, idempotency_key: str, operation: str) -> None:
        super().__init__(f"CCB is unavailable: {operation} recorded as offline form {form_id}")
        self.form_id = form_id
        self.idempotency_key = idempotency_key
        self.operation = operation
