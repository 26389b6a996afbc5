"""The page: a CSR types the contact and account ids and reads the balance out to the caller."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Template

from balance_desk import service
from balance_desk.schemas import BalanceForm
from core.contract.contact import Guard
from core.contract.inputs import InputError, decode_form
from core.contract.scope import NONE, account
from core.contract.web import Ctx, render


class BalancePages(Controller):
    path = "/"
    opt = {"roles": ["csr", "lead", "supervisor"]}
    include_in_schema = False

    @get("/", customer_data=NONE)
    async def form(self, request: Request[Any, Any, Any]) -> Template:
        return render(request, "balance_desk/desk.html", answer=None, error=None, values={})

    @post("/", status_code=200, customer_data=account(record="form"))
    async def look_up(self, request: Request[Any, Any, Any], ctx: Ctx, guard: Guard) -> Template:
        posted = await request.form()  # the app checked its CSRF token before we got here
        try:
            form = decode_form(posted, BalanceForm)
            answer = await service.balance(ctx, guard, form.account_id, contact_id=form.contact_id)
        except InputError as exc:
            return render(request, "balance_desk/desk.html", 422, answer=None, error=str(exc), values=posted)
        return render(request, "balance_desk/desk.html", answer=answer, error=None, values=posted)
