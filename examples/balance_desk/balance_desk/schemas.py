"""What the balance desk answers, and the page's form."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import msgspec

AccountId = Annotated[str, msgspec.Meta(pattern=r"^\d{10}$")]


class BalanceView(msgspec.Struct, frozen=True, kw_only=True):
    account_id: str
    as_of: dt.date
    balance_cents: int
    past_due_cents: int
    balance: str  # "$1,234.50", as a CSR reads it out
    past_due: str


class BalanceForm(msgspec.Struct, kw_only=True):
    contact_id: Annotated[str, msgspec.Meta(pattern=r"^\d{10}$")]
    account_id: AccountId
