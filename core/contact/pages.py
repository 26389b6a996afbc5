"""The CSR's web page for working a customer contact: open, verify, see the account, note, wrap up.

The pages are one controller at ``/ui/contact``, mounted as it is next to the core's own pages. They
call the contact service directly (not the JSON API) and go through the same verified-contact guard,
passing the contact the form carries since a browser form cannot send headers.

CCB offline mode shows on the page rather than as an error: a write journaled for later replay
(``RecordedOffline``) says which offline form holds it, and a read answered from the last stored copy
(``StaleRead``) says how old that copy is.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from core.ccb import port as p
from core.ccb.errors import CcbUnavailable, IllegalTransition, Invalid, NotFound
from core.ccb.offline import RecordedOffline, StaleRead
from core.contact.common import OPEN, dollars
from core.contact.contacts import ContactView
from core.contact.guard import CONTACT_ROLES, AccessDenied, ContactAccess, require_verified
from core.contact.service import ContactService
from core.contact.verification import Locked
from core.contact.web import SERVICE, Service
from core.contact.workflows.bills import AccountView
from core.contract import PageSpec
from core.contract.scope import CONTACT
from core.security import current_staff
from core.web.pages import error_page, render

__all__ = ["PAGE_PREFIX", "ContactPages", "dollars", "pages"]

PAGE_PREFIX = "/ui/contact"
# The roles of the brief's page flow; eteam and solar staff work contacts through their own pages.
PAGE_ROLES = {"roles": [r for r in CONTACT_ROLES if r in ("csr", "lead", "supervisor", "cro")]}
CHANNELS = ("phone", "counter", "email")
METHODS = (("access_code", "Access code"), ("ssn_last4", "SSN last 4"))


def offline_recorded(form_id: int) -> str:
    return f"CCB offline — recorded as form {form_id}"


def offline_stale(exc: StaleRead) -> str:
    minutes = max(0, round(exc.age_s / 60))
    return f"CCB offline — showing data from {minutes} minutes ago"


# ---------------------------------------------------------------------------------------------------
# Forms (URL-encoded; every field a string so a blank input is not a decoding error)


class OpenForm(msgspec.Struct):
    channel: str = "phone"
    ani: str = ""
    account_id: str = ""


class VerifyForm(msgspec.Struct):
    account_id: str = ""
    method: str = "access_code"
    value: str = ""


class NoteForm(msgspec.Struct):
    account_id: str = ""
    text: str = ""


class WrapUpForm(msgspec.Struct):
    note_kind: str = "customer"
    note: str = ""
    premise_id: str = ""


# ---------------------------------------------------------------------------------------------------
# Errors: domain errors from the service become HTML pages, not the JSON the API gives


def _page_error(status: int) -> Callable[[Request[Any, Any, Any], Exception], Response[Any]]:
    def handle(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
        return error_page(request, status, str(exc))

    return handle


def _ccb_down(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # A read with no stored copy to fall back on: nothing to show but the outage itself.
    return error_page(request, 503, f"CCB offline — {exc}")


ERROR_PAGES: MutableMapping[int | type[Exception], Callable[[Request[Any, Any, Any], Any], Response[Any]]] = {
    AccessDenied: _page_error(403),
    NotFound: _page_error(404),
    IllegalTransition: _page_error(409),
    Invalid: _page_error(422),
    CcbUnavailable: _ccb_down,
}


# ---------------------------------------------------------------------------------------------------
# The contact screen


async def _summary(
    request: Request[Any, Any, Any], service: ContactService, contact: ContactView, account_id: str
) -> tuple[ContactAccess, p.AccountSummary | None, str | None]:
    """The verified account's summary, or the last stored copy with its age while CCB is offline."""
    access = await require_verified(
        request,
        account_id,
        purpose=f"account summary of {account_id}",
        topic="account",
        contact_id=contact.contact_id,
    )
    try:
        view: AccountView = await service.account_view(access, account_id)
        return access, view, None
    except StaleRead as exc:
        stale = exc.value if isinstance(exc.value, p.AccountSummary) else None
        return access, stale, offline_stale(exc)


async def _contact_page(
    request: Request[Any, Any, Any],
    service: ContactService,
    contact_id: str,
    *,
    status_code: int = 200,
    message: str | None = None,
    banner: str | None = None,
    account_id: str | None = None,
    **extra: Any,
) -> Template:
    staff = current_staff(request)
    contact = await service.get_contact(staff, contact_id)
    summary: p.AccountSummary | None = None
    chosen = account_id if account_id in contact.verified_accounts else None
    if chosen is None and contact.verified_accounts:
        chosen = contact.verified_accounts[0]
    if chosen is not None and contact.status != "closed" and not contact.locked:
        _access, summary, stale = await _summary(request, service, contact, chosen)
        banner = banner or stale
        # The guard logged this read on the contact: load it again so the log shows it.
        contact = await service.get_contact(staff, contact_id)
    return render(
        request,
        "contact/contact.html",
        status_code=status_code,
        contact=contact,
        summary=summary,
        account_id=chosen,
        message=message,
        offline_banner=banner,
        channels=CHANNELS,
        methods=METHODS,
        dollars=dollars,
        is_open=contact.status == OPEN,
        **extra,
    )


# ---------------------------------------------------------------------------------------------------
# Handlers


class ContactPages(Controller):
    """The contact pages under :data:`PAGE_PREFIX`, for the roles of the brief's page flow."""

    path = PAGE_PREFIX
    opt = PAGE_ROLES
    include_in_schema = False
    exception_handlers = ERROR_PAGES
    dependencies = SERVICE

    @get("/", customer_data=CONTACT)
    async def contact_home(self, request: Request[Any, Any, Any], service: Service) -> Template:
        """Open a contact, or go back to one of the caller's open contacts."""
        mine = await service.my_contacts(current_staff(request))
        return render(request, "contact/home.html", mine=mine, channels=CHANNELS, error=None, form=OpenForm())

    @post("/open", customer_data=CONTACT)
    async def open_contact(
        self, request: Request[Any, Any, Any], service: Service, data: URLEncodedBody[OpenForm]
    ) -> Response[Any]:
        staff = current_staff(request)
        error: str | None = None
        account_id = data.account_id.strip() or None
        if data.channel not in CHANNELS:
            error = "Choose phone, counter or email."
        elif account_id is not None and not (account_id.isdigit() and len(account_id) == 10):
            error = "An account id has 10 digits."
        if error is None:
            try:
                opened = await service.open_contact(
                    channel=data.channel,
                    actor=staff.actor,
                    owner=staff.name,
                    ani=data.ani.strip() or None,
                    account_id=account_id,
                )
                return Redirect(f"{PAGE_PREFIX}/{opened.contact_id}")
            except Invalid as exc:
                error = f"{exc.field}: {exc.message}" if exc.field else str(exc)
            except NotFound:
                error = f"No account {account_id}."
        mine = await service.my_contacts(staff)
        return render(
            request,
            "contact/home.html",
            status_code=422,
            mine=mine,
            channels=CHANNELS,
            error=error,
            form=data,
        )

    @get("/{contact_id:str}", customer_data=CONTACT)
    async def contact_page(
        self,
        request: Request[Any, Any, Any],
        service: Service,
        contact_id: FromPath[str],
        account: FromQuery[str | None] = None,
    ) -> Template:
        """The contact: candidates and verification, then the verified account, hints, log and wrap-up."""
        return await _contact_page(request, service, contact_id, account_id=account)

    @post("/{contact_id:str}/verify", customer_data=CONTACT)
    async def verify(
        self,
        request: Request[Any, Any, Any],
        service: Service,
        contact_id: FromPath[str],
        data: URLEncodedBody[VerifyForm],
    ) -> Template:
        account_id = data.account_id.strip()
        value = data.value.strip()
        methods = {m for m, _ in METHODS}
        if not (account_id.isdigit() and len(account_id) == 10) or data.method not in methods or not value:
            return await _contact_page(
                request, service, contact_id, message="Choose an account and a method, and enter the value."
            )
        try:
            outcome = await service.verify(
                current_staff(request),
                contact_id,
                account_id,
                data.method,  # type: ignore[arg-type]  # checked against METHODS above
                value[:32],
            )
        except Locked as exc:
            return await _contact_page(request, service, contact_id, message=str(exc))
        if outcome.verified:
            return await _contact_page(
                request, service, contact_id, account_id=account_id, message="Verified."
            )
        if outcome.locked == "account":
            message = "Not verified. The account is now locked for verification: a lead must clear it."
        elif outcome.locked == "contact":
            message = "Not verified. This contact is locked: offer a one-time code or a visit with ID."
        else:
            message = f"Not verified: {outcome.attempts_left} attempts left."
        return await _contact_page(request, service, contact_id, message=message)

    @post("/{contact_id:str}/note", customer_data=CONTACT)
    async def add_note(
        self,
        request: Request[Any, Any, Any],
        service: Service,
        contact_id: FromPath[str],
        data: URLEncodedBody[NoteForm],
    ) -> Template:
        """A note on the verified account, written to CCB as a customer contact log entry."""
        text = data.text.strip()
        if not text or len(text) > 1000:
            return await _contact_page(
                request,
                service,
                contact_id,
                message="A note needs 1 to 1000 characters.",
                account_id=data.account_id,
            )
        contact = await service.get_contact(current_staff(request), contact_id)
        access = await require_verified(
            request,
            data.account_id,
            purpose="add a note to the account",
            topic="note",
            change=True,
            contact_id=contact_id,
        )
        banner: str | None = None
        try:
            await service.ccb.add_customer_contact(
                p.AddCustomerContact(
                    contact_class="CSR",
                    contact_type="NOTE",
                    log_text=text,
                    method=contact.channel,  # type: ignore[arg-type]  # Channel is a subset of the port's
                    account_id=data.account_id,
                ),
                actor=access.actor,
            )
            summary = "note added to the account"
        except RecordedOffline as exc:
            banner = offline_recorded(exc.form_id)
            summary = f"note recorded as offline form {exc.form_id}"
        await service.note_change(access, "note", summary)
        return await _contact_page(
            request, service, contact_id, account_id=data.account_id, banner=banner, message="Note added."
        )

    @post("/{contact_id:str}/wrap-up", customer_data=CONTACT)
    async def wrap_up(
        self,
        request: Request[Any, Any, Any],
        service: Service,
        contact_id: FromPath[str],
        data: URLEncodedBody[WrapUpForm],
    ) -> Template:
        """Close the contact; the note (or the one drafted from the log) goes to CCB."""
        if data.note_kind not in ("customer", "premise"):
            return await _contact_page(
                request, service, contact_id, message="Choose a customer or premise note."
            )
        try:
            closed = await service.wrap_up(
                current_staff(request),
                contact_id,
                note_kind=data.note_kind,  # type: ignore[arg-type]  # checked just above
                note=data.note[:4000] or None,
                premise_id=data.premise_id.strip() or None,
            )
        except Invalid as exc:
            return await _contact_page(request, service, contact_id, message=exc.message)
        # With CCB down the note is journaled and the contact closes anyway; the CSR sees the form number.
        banner = offline_recorded(closed.offline_form) if closed.offline_form else None
        return await _contact_page(request, service, contact_id, banner=banner, message="Contact closed.")

    @get("/{contact_id:str}/bills/{bill_id:str}", customer_data=CONTACT)
    async def bill_page(
        self,
        request: Request[Any, Any, Any],
        service: Service,
        contact_id: FromPath[str],
        bill_id: FromPath[str],
    ) -> Template:
        """A bill in plain words, for the CSR to read to the customer."""
        banner: str | None = None
        try:
            bill = await service.ccb.get_bill(bill_id)
        except StaleRead as exc:
            if not isinstance(exc.value, p.BillView):
                raise
            bill, banner = exc.value, offline_stale(exc)
        access = await require_verified(
            request,
            bill.account_id,
            purpose=f"explanation of bill {bill_id}",
            topic="billing",
            contact_id=contact_id,
        )
        explained = await service.explain_bill(access, bill)
        return render(
            request,
            "contact/bill.html",
            contact_id=contact_id,
            bill=explained,
            dollars=dollars,
            offline_banner=banner,
        )


def pages() -> list[PageSpec]:
    """The contact pages, one controller; its start page is in the navigation."""
    return [PageSpec(handler=ContactPages, nav_title="Customer contact")]
