"""The e-team's queue page under /ui/eteam: pull, verify the customer, answer, note action in CCB, close.

The forms work the same use cases as the JSON API (:mod:`plugins.eteam.service`), plus what the e-team needs
of the contact layer, whose own pages are for CSRs: opening a contact on the account and verifying the
customer, from the request's details (e-mail) or on a call-back (phone), and closing it. A form that fails
re-renders the queue with the message naming the field and the status the API would answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException, PermissionDeniedException, ServiceUnavailableException
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect

from core.contract import PluginContext
from core.contract.ccb import RecordedOffline
from core.contract.contact import Guard, provide_guard
from core.contract.inputs import InputError, convert, decode_form
from core.contract.scope import CONTACT, QUEUE, account
from core.contract.staff import Staff
from core.contract.web import Ctx, CurrentStaff, render
from plugins.eteam import queries, service
from plugins.eteam.api import ETEAM, STAFF, contacts_of, require_contacts
from plugins.eteam.rules import REFERENCE_RE, EteamConfig
from plugins.eteam.schemas import NoteForm, NoteIn, RespondForm, RespondIn, VerifyForm, VerifyIn, shown


async def queue_view(
    request: Request[Any, Any, Any],
    ctx: PluginContext,
    staff: Staff,
    *,
    status_code: int = 200,
    error: str | None = None,
    notice: str | None = None,
    action: dict[str, Any] | None = None,
) -> Response[Any]:
    """The queue with its actions, answered requests still open, and the member's open contacts."""
    config: EteamConfig = ctx.config
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        waiting = await queries.queue(session)
        answered = await queries.answered_open(session)
        responses = await queries.responses_by_incident(session, [i.id for i in answered])
    contacts_service = contacts_of(ctx)
    contacts = await contacts_service.my_contacts(staff) if contacts_service is not None else []
    guard = await provide_guard(request)
    contact_id = request.query_params.get("contact_id") or None
    items = [
        await shown(ctx, guard, staff, service.view(i, now, config), contact_id, page=True) for i in waiting
    ]
    done = [
        await shown(ctx, guard, staff, service.view(i, now, config, responses[i.id]), contact_id, page=True)
        for i in answered
    ]
    return render(
        request,
        "eteam/queue.html",
        status_code=status_code,
        title="E-team: Contact Us requests",
        items=items,
        answered=done,
        contacts=contacts,
        verified=[c for c in contacts if c.verified_accounts],
        configured=config.base_url is not None,
        limit_hours=config.unanswered_business_hours,
        can_work=staff.role.value in ETEAM["roles"],
        error=error,
        notice=notice,
        action=action or {},
    )


async def attempt(
    request: Request[Any, Any, Any],
    ctx: PluginContext,
    staff: Staff,
    run: Callable[[], Awaitable[str]],
    *,
    action: dict[str, Any] | None = None,
) -> Response[Any]:
    """Run a form's operation; go to the page it names, or re-render the queue with the error."""
    try:
        target = await run()
    except InputError as exc:
        error, status_code = str(exc), exc.status_code
    except (PermissionDeniedException, NotFoundException, ServiceUnavailableException) as exc:
        error, status_code = str(exc.detail), exc.status_code
    except RecordedOffline as exc:
        error = (
            f"CCB is offline: the note was recorded as offline form {exc.form_id} and is written when "
            "CCB is back."
        )
        status_code = 202
    else:
        return Redirect(target, status_code=303)
    return await queue_view(request, ctx, staff, status_code=status_code, error=error, action=action)


class EteamPages(Controller):
    """The queue and its forms."""

    # Every member of staff sees the queue (and its nav entry); the forms are the e-team's.
    opt = STAFF

    @get("/", opt=STAFF, customer_data=QUEUE(roles=("eteam",)))
    async def queue_page(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        staff: CurrentStaff,
        pulled: Annotated[int | None, QueryParameter(ge=0)] = None,
        updated: Annotated[int | None, QueryParameter(ge=0)] = None,
        answered: Annotated[str | None, QueryParameter()] = None,
        noted: Annotated[str | None, QueryParameter()] = None,
        verified: Annotated[str | None, QueryParameter()] = None,
        closed: Annotated[str | None, QueryParameter()] = None,
    ) -> Response[Any]:
        # The notice only confirms what the last form did; a value of the wrong shape is not echoed.
        notice = None
        if pulled is not None:
            notice = f"Pulled from Customer Connect: {pulled} new, {updated or 0} updated."
        elif answered is not None and REFERENCE_RE.match(answered):
            notice = f"Answered {answered}."
        elif noted is not None and REFERENCE_RE.match(noted):
            notice = f"CCB note added for {noted}."
        elif verified is not None and verified.isdigit():
            notice = f"Customer verified in contact {verified}; act on the account from it."
        elif closed is not None and closed.isdigit():
            notice = f"Contact {closed} closed."
        return await queue_view(request, ctx, staff, notice=notice)

    @post("/pull", opt=ETEAM, customer_data=QUEUE(roles=("eteam",)))
    async def pull_form(
        self, request: Request[Any, Any, Any], ctx: Ctx, staff: CurrentStaff
    ) -> Response[Any]:
        async def run() -> str:
            done = await service.pull(ctx, staff.actor)
            return f"/ui/eteam/?pulled={done.new}&updated={done.updated}"

        return await attempt(request, ctx, staff, run)

    @post("/incidents/{ref:str}/verify", opt=ETEAM, customer_data=CONTACT)
    async def verify_form(
        self, request: Request[Any, Any, Any], ctx: Ctx, staff: CurrentStaff, ref: FromPath[str]
    ) -> Response[Any]:
        form = decode_form(await request.form(), VerifyForm)
        # The factor is never echoed back into the page.
        fields = {"channel": form.channel, "account_id": form.account_id, "method": form.method}

        async def run() -> str:
            reference_number = service.reference(ref)
            data = convert({**fields, "value": form.value}, VerifyIn)
            contact = await service.verify_customer(require_contacts(ctx), staff, reference_number, data)
            return f"/ui/eteam/?verified={contact.contact_id}#incident-{reference_number}"

        return await attempt(request, ctx, staff, run, action={"ref": ref, "form": "verify", **fields})

    @post("/incidents/{ref:str}/respond", opt=ETEAM, customer_data=QUEUE(roles=("eteam",)))
    async def respond_form(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        staff: CurrentStaff,
        guard: Guard,
        ref: FromPath[str],
    ) -> Response[Any]:
        form = decode_form(await request.form(), RespondForm)
        fields = {
            "channel": form.channel,
            "text": form.text,
            "account_id": form.account_id,
            "contact_id": form.contact_id,
        }
        acted = form.action_taken == "yes"

        async def run() -> str:
            reference_number = service.reference(ref)
            raw = {
                "channel": form.channel,
                "text": form.text,
                "action_taken": acted,
                "account_id": form.account_id or None,
                "contact_id": form.contact_id or None,
            }
            data = convert(raw, RespondIn)
            await service.respond(ctx, staff, guard, reference_number, data)
            return f"/ui/eteam/?answered={reference_number}"

        action = {"ref": ref, "form": form.channel, "action_taken": acted, **fields}
        return await attempt(request, ctx, staff, run, action=action)

    @post("/incidents/{ref:str}/ccb-note", opt=ETEAM, customer_data=account(record="incident"))
    async def note_form(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        staff: CurrentStaff,
        guard: Guard,
        ref: FromPath[str],
    ) -> Response[Any]:
        form = decode_form(await request.form(), NoteForm)
        fields = {"text": form.text, "account_id": form.account_id, "contact_id": form.contact_id}

        async def run() -> str:
            reference_number = service.reference(ref)
            raw = {
                "text": form.text,
                "account_id": form.account_id or None,
                "contact_id": form.contact_id or None,
            }
            await service.add_note(ctx, guard, reference_number, convert(raw, NoteIn))
            return f"/ui/eteam/?noted={reference_number}"

        return await attempt(request, ctx, staff, run, action={"ref": ref, "form": "note", **fields})

    @post("/contacts/{contact_id:str}/close", opt=ETEAM, customer_data=CONTACT)
    async def close_form(
        self, request: Request[Any, Any, Any], ctx: Ctx, staff: CurrentStaff, contact_id: FromPath[str]
    ) -> Response[Any]:
        async def run() -> str:
            await service.close_contact(require_contacts(ctx), staff, contact_id)
            return f"/ui/eteam/?closed={contact_id}"

        return await attempt(request, ctx, staff, run)
