"""Who asks the telephony service (``Actor``) and how it refuses: synchronously (``PhoneRequestError``,
an HTTP status) or asynchronously (``Refused``, published as a ``hub.phone.agent.error`` event)."""

from __future__ import annotations

from dataclasses import dataclass

from core.telephony.events import AgentError

SUPERVISING_ROLES = frozenset({"lead", "supervisor"})
# Who may play the phone system (announce inbound calls, answer or hang up for outside parties).
PHONE_SYSTEM_ROLES = frozenset({"lead", "admin", "system"})
ALL_AGENTS_ROLES = frozenset({"admin", "system"})


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asks: a member of staff (name and role) or the hub itself (``SYSTEM``)."""

    name: str
    role: str

    @property
    def ref(self) -> str:
        return "system" if self.role == "system" else f"staff:{self.name}"


SYSTEM = Actor("system", "system")


class PhoneRequestError(Exception):
    """A request refused synchronously; ``status`` is the HTTP status the API answers with."""

    status = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message


class BadRequest(PhoneRequestError):
    status = 400


class Forbidden(PhoneRequestError):
    status = 403


class NotFound(PhoneRequestError):
    status = 404


class Conflict(PhoneRequestError):
    """A phone-system (network side) request that the call's state does not allow."""

    status = 409


class Refused(Exception):
    """Internal: refused asynchronously; the transaction is rolled back and the error published."""

    def __init__(self, error: AgentError) -> None:
        super().__init__(error.errorMessage)
        self.error = error
