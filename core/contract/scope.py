"""Customer-data scopes: what customer data a route handler may answer with, declared in its ``opt``.

Every route handler — the core's, a core part's, a plugin's, API or page — declares one::

    @get("/{account_id:str}", customer_data=account(path="account_id"))   # Litestar puts it in ``opt``
    @get("/", opt={"roles": [...], "customer_data": NONE})

The values:

* :data:`NONE` — the answer holds no customer's data (names, addresses, phones, e-mails, balances,
  documents, letters);
* ``account(path="account_id")`` / ``account(body="account_id")`` — one account's data, the account named
  by a path parameter or a field of the JSON body: the core runs the verified-contact guard *before* the
  handler (a plugin cannot forget it);
* ``account(record="claim")`` — one account's data, the account being the one stored on a record the
  handler loads: the handler calls ``guard.account(record.account_id, …)`` itself, and the core refuses
  the answer (500, nothing sent) when a request ends with a success but the guard was never asked;
* ``premise(path="premise_id")`` — one premise's data; the handler calls ``guard.premise`` (checked like
  ``account(record=…)``);
* :data:`CONTACT` — the caller's own contact: the contact part shows customer data only for accounts
  verified in it (and only to its owner or a supervising role);
* ``QUEUE(roles=("cro",))`` — a staff work queue: a list or a record of it shows reference, status, dates
  and assignee; the customer's fields only inside a contact verified for the record's account or to the
  listed roles whose job the queue is, every such read audited (:func:`customer_view`).

The core's access guard (``core.security``) refuses a handler without a declaration, at start-up
(``core.app``) and at request time. ``tests/core/runtime/test_customer_data_scope.py`` proves the
declarations by calling every operation and page as every role and looking for the seeded customers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import msgspec
from litestar.exceptions import NotFoundException, PermissionDeniedException

if TYPE_CHECKING:
    from core.contract.contact import ContactGuard
    from core.contract.descriptors import PluginContext
    from core.contract.staff import Staff

__all__ = [
    "CONTACT",
    "NONE",
    "OPT_KEY",
    "QUEUE",
    "SCOPE_STATE",
    "Scope",
    "account",
    "account_from_record",
    "customer_view",
    "guard_was_asked",
    "mark_checked",
    "mark_guard_asked",
    "own_contact_for",
    "premise",
    "withhold",
]

T = TypeVar("T")

OPT_KEY = "customer_data"
# Where a request records that the verified-contact guard passed for it (the ASGI scope's state).
SCOPE_STATE = "ccbhub.customer_data"

Kind = Literal["none", "account", "premise", "contact", "queue"]


@dataclass(frozen=True, slots=True)
class Scope:
    """One handler's declaration; build it with the names below rather than by hand."""

    kind: Kind
    path: str | None = None
    body: str | None = None
    record: str | None = None
    roles: tuple[str, ...] = ()

    @property
    def checked_by_core(self) -> bool:
        """The core runs the guard before the handler (the account is in the path or the body)."""
        return self.kind == "account" and (self.path is not None or self.body is not None)

    @property
    def needs_guard(self) -> bool:
        """A success must have passed the guard (for the account or premise) during the request."""
        return self.kind in ("account", "premise")


NONE = Scope("none")
CONTACT = Scope("contact")


def account(*, path: str | None = None, body: str | None = None, record: str | None = None) -> Scope:
    """One account's data, the account found in exactly one way (see the module docstring)."""
    given = [v for v in (path, body, record) if v is not None]
    if len(given) != 1:
        raise ValueError("account(): give exactly one of path=, body=, record=")
    return Scope("account", path=path, body=body, record=record)


def account_from_record(record: str) -> Scope:
    """``account(record=record)``: the handler asks the guard for the account stored on ``record``."""
    return account(record=record)


def premise(*, path: str) -> Scope:
    """One premise's data (the handler calls ``guard.premise``)."""
    return Scope("premise", path=path)


def QUEUE(*, roles: tuple[str, ...] | list[str] = ()) -> Scope:
    """A staff work queue whose customer fields only ``roles`` (or a verified contact) may see."""
    return Scope("queue", roles=tuple(roles))


def mark_guard_asked(scope: Any, account_id: str | None, premise_id: str | None = None) -> None:
    """Record in the request's ASGI scope that the guard passed (called by the guard itself)."""
    state = scope.setdefault(SCOPE_STATE, {"accounts": set(), "premises": set()})
    if account_id is not None:
        state["accounts"].add(account_id)
    if premise_id is not None:
        state["premises"].add(premise_id)


def mark_checked(scope: Any) -> None:
    """Record that the core's check before the handler passed (``account(path=…)``/``account(body=…)``)."""
    state = scope.setdefault(SCOPE_STATE, {"accounts": set(), "premises": set()})
    state["checked"] = True


def guard_was_asked(scope: Any, *, checked: bool = False) -> bool:
    """Whether the guard passed at least once for this request (``checked``: or the core's own check)."""
    state = scope.get(SCOPE_STATE)
    if not state:
        return False
    return bool(state["accounts"] or state["premises"] or (checked and state.get("checked")))


async def customer_view(
    ctx: PluginContext,
    guard: ContactGuard,
    staff: Staff,
    account_id: str | None,
    declared: Scope,
    *,
    purpose: str,
    contact_id: str | None = None,
) -> bool:
    """Whether a queue record's customer fields may be shown to ``staff`` (every yes is audited).

    Yes to the queue's roles (the read is audited as their work: ``customer_data.queue``), or inside the
    caller's contact verified for ``account_id`` (``X-Contact-Id``, or ``contact_id`` from a page form;
    audited and logged on the contact by the guard). Otherwise no — the caller sees the reference,
    status, dates and assignee only.
    """
    if staff.role.value in declared.roles:
        async with ctx.db.session() as session:
            await ctx.audit.append(
                session,
                actor=staff.actor,
                action="customer_data.queue",
                target=f"account:{account_id}" if account_id else "account:none",
                detail={"purpose": purpose, "role": staff.role.value},
            )
        return True
    if account_id is None:  # a record for no account (e.g. a written complaint): the roles only
        return False
    try:
        await guard.account(account_id, purpose=purpose, topic="queue", contact_id=contact_id)
    except (PermissionDeniedException, NotFoundException):
        return False
    return True


def withhold(view: T, fields: tuple[str, ...]) -> T:
    """A copy of a response Struct with the customer's ``fields`` emptied ("", [], {} or None by kind).

    Its ``customer_hidden`` (when the view has one) says so, so a client can tell "withheld" from "empty".
    """
    changes: dict[str, Any] = {}
    for name in fields:
        value = getattr(view, name)
        empty: Any = "" if isinstance(value, str) else [] if isinstance(value, list) else None
        changes[name] = {} if isinstance(value, dict) else empty
    if "customer_hidden" in getattr(view, "__struct_fields__", ()):
        changes["customer_hidden"] = True
    return msgspec.structs.replace(view, **changes)  # type: ignore[type-var]


async def own_contact_for(ctx: PluginContext, staff: Staff, account_id: str) -> str | None:
    """The caller's open contact verified for ``account_id``, if any: what a page form acts inside when it
    names none (a page cannot send ``X-Contact-Id``; the guard still checks and audits the pass)."""
    from core.contract.contact import contact_desk

    desk = contact_desk(ctx)
    if desk is None:
        return None
    for contact in await desk.my_contacts(staff):
        if account_id in contact.verified_accounts and not contact.locked and contact.status != "closed":
            return contact.contact_id
    return None
