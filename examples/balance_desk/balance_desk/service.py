"""The one use case: the balance of an account, read through the CCB port after the guard passed."""

from __future__ import annotations

from balance_desk.schemas import BalanceView
from core.contract import PluginContext
from core.contract.ccb import NotFound, format_cents
from core.contract.contact import ContactGuard
from core.contract.web import fail


async def balance(
    ctx: PluginContext, guard: ContactGuard, account_id: str, contact_id: str | None = None
) -> BalanceView:
    """Customer data only inside a verified contact: the guard passes (and audits) or answers 403."""
    try:
        found = await ctx.ccb.get_balance(account_id)
    except NotFound:
        raise fail("account_id", f"no account {account_id}", 404) from None
    await guard.account(
        account_id, purpose="tell the caller their balance", topic="balance", contact_id=contact_id
    )
    return BalanceView(
        account_id=found.account_id,
        as_of=found.as_of,
        balance_cents=found.balance_cents,
        past_due_cents=found.past_due_cents,
        balance=format_cents(found.balance_cents),
        past_due=format_cents(found.past_due_cents),
    )
