"""JSON: GET /api/balance_desk/accounts/{account_id} for a caller inside a verified contact."""

from __future__ import annotations

from litestar import Controller, get

from balance_desk import service
from balance_desk.schemas import AccountId, BalanceView
from core.contract.contact import Guard
from core.contract.scope import account
from core.contract.web import Ctx, FromPath


class BalanceController(Controller):
    path = "/accounts"
    opt = {"roles": ["csr", "lead", "supervisor"]}  # every handler declares who may call it
    tags = ["balance_desk"]

    @get(
        "/{account_id:str}",
        summary="The balance of a verified caller's account",
        customer_data=account(path="account_id"),
    )
    async def balance(self, ctx: Ctx, guard: Guard, account_id: FromPath[AccountId]) -> BalanceView:
        return await service.balance(ctx, guard, account_id)
