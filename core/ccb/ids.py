"""CCB-style random, non-sequential numeric identifiers (10-, 12- and 14-digit keys).

Section signs (§) cite docs/ccb-domain.md.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Callable, Iterable
from enum import Enum

__all__ = [
    "IdGenerator",
    "IdKind",
    "id_length",
    "is_valid_id",
    "luhn_check_digit",
    "new_id",
]


class IdKind(Enum):
    """Entity kinds and their key lengths (docs/ccb-domain.md §1.2 table).

    The value is ``(column name, length)``. Kinds marked [~] in the reference (payment, tender, FT) or
    not in its table at all (meter) use the length of their closest verified sibling.
    """

    # 10-digit keys (§1.2, all [V] except METER)
    PERSON = ("PER_ID", 10)
    ACCOUNT = ("ACCT_ID", 10)
    PREMISE = ("PREM_ID", 10)
    SERVICE_AGREEMENT = ("SA_ID", 10)
    SERVICE_POINT = ("SP_ID", 10)
    METER = ("MTR_ID", 10)  # not in §1.2; same width as MTR_CONFIG_ID [~]
    METER_CONFIG = ("MTR_CONFIG_ID", 10)
    CONTACT = ("CC_ID", 10)
    CASE = ("CASE_ID", 10)
    PAY_PLAN = ("PP_ID", 10)
    # 12-digit keys (§1.2; payment/tender/FT are [~] there)
    BILL = ("BILL_ID", 12)
    BILL_SEGMENT = ("BSEG_ID", 12)
    ADJUSTMENT = ("ADJ_ID", 12)
    PAYMENT_EVENT = ("PAY_EVENT_ID", 12)
    PAYMENT = ("PAY_ID", 12)
    TENDER = ("PAY_TENDER_ID", 12)
    METER_READ = ("MR_ID", 12)
    REGISTER_READ = ("REG_READ_ID", 12)
    FINANCIAL_TRANSACTION = ("FT_ID", 12)
    # 14-digit key: the C2M service-order field activity id (§1.2, [V] D1 side)
    FIELD_ACTIVITY = ("activityId", 14)

    @property
    def column(self) -> str:
        return self.value[0]

    @property
    def length(self) -> int:
        return self.value[1]


def id_length(kind: IdKind | str) -> int:
    """Number of digits of an id of ``kind`` (an ``IdKind`` or its name, case-insensitive)."""
    return _kind(kind).length


def _kind(kind: IdKind | str) -> IdKind:
    if isinstance(kind, IdKind):
        return kind
    try:
        return IdKind[kind.upper()]
    except KeyError:
        raise ValueError(f"unknown id kind: {kind!r}") from None


def luhn_check_digit(payload: str) -> str:
    """The Luhn (mod 10) digit that makes ``payload + digit`` pass the Luhn check."""
    if not payload.isdigit():
        raise ValueError("payload must be digits")
    total = 0
    # Walking right to left, the digit next to the (future) check digit is doubled first.
    for position, char in enumerate(reversed(payload)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return str((10 - total % 10) % 10)


def is_valid_id(kind: IdKind | str, value: str, *, account_check_digit: bool = False) -> bool:
    """Whether ``value`` is a well-formed id of ``kind``.

    Well-formed: ASCII digits only, exactly the kind's length, no leading zero. With
    ``account_check_digit`` an account id must also end in its Luhn digit (§1.2 flag).
    """
    k = _kind(kind)
    if len(value) != k.length or not value.isascii() or not value.isdigit() or value[0] == "0":
        return False
    if account_check_digit and k is IdKind.ACCOUNT:
        return luhn_check_digit(value[:-1]) == value[-1]
    return True


def _draw(kind: IdKind, check_digit: bool, randbelow: Callable[[int], int]) -> str:
    """Build one id of ``kind`` from ``randbelow(n)``, a uniform draw in ``[0, n)``."""
    payload_len = kind.length - 1 if check_digit else kind.length
    # First digit 1-9: the reference's examples never start with 0 and CHAR keys with a leading zero are
    # easy to mangle in spreadsheets and integer columns (§1.2 says nothing about leading zeros).
    low = 10 ** (payload_len - 1)
    text = str(low + randbelow(9 * low))
    return text + luhn_check_digit(text) if check_digit else text


# (lowest id, how many ids) of each kind without a check digit: ``_draw``'s range, computed once.
_RANGES = {k: (10 ** (k.length - 1), 9 * 10 ** (k.length - 1)) for k in IdKind}


def new_id(kind: IdKind | str, *, account_check_digit: bool = False) -> str:
    """A production id of ``kind`` drawn from the ``secrets`` CSPRNG.

    Stateless: uniqueness across the database is left to the table's primary key (a collision among
    9x10^9 values is rare; the caller retries on an integrity error).
    """
    k = _kind(kind)
    check = account_check_digit and k is IdKind.ACCOUNT
    return _draw(k, check, secrets.randbelow)


class IdGenerator:
    """Random, non-sequential ids like CCB's OUAF "random" key generation (§1.2).

    Pass a seeded ``random.Random`` for a deterministic sequence (same seed, same calls → same ids);
    without one a fresh ``random.Random()`` seeded from the OS is used. The generator never returns the
    same digit string twice, whatever the kind, so an id in a log or a test always names one object.
    ``account_check_digit`` turns on the optional Luhn last digit for account ids (§1.2: a check digit
    is "commonly assumed but not confirmed", so it is off by default).
    """

    # Give up after this many consecutive collisions: it would mean the id space is nearly exhausted.
    _MAX_ATTEMPTS = 1000

    def __init__(self, rng: random.Random | None = None, *, account_check_digit: bool = False) -> None:
        self._rng = rng if rng is not None else random.Random()
        self._account_check_digit = account_check_digit
        self._issued: set[str] = set()

    def reserve(self, ids: Iterable[str]) -> None:
        """Mark ids that already exist (e.g. loaded from storage) so they are never generated."""
        self._issued.update(ids)

    def new(self, kind: IdKind | str) -> str:
        """A fresh id of ``kind`` not returned before by this generator."""
        k = _kind(kind)
        check = self._account_check_digit and k is IdKind.ACCOUNT
        randrange, issued = self._rng.randrange, self._issued
        # The same single draw as ``_draw`` without its per-call arithmetic: the seeder draws ~100 ids per
        # customer, and a seeded generator must keep giving the same sequence.
        low, span = _RANGES[k]
        for _ in range(self._MAX_ATTEMPTS):
            value = _draw(k, check, randrange) if check else str(low + randrange(span))
            if value not in issued:
                issued.add(value)
                return value
        raise RuntimeError(f"could not find an unused {k.name} id after {self._MAX_ATTEMPTS} attempts")

    # One method per entity kind, so call sites read like the CCB object they create.
    def person_id(self) -> str:
        return self.new(IdKind.PERSON)

    def account_id(self) -> str:
        return self.new(IdKind.ACCOUNT)

    def premise_id(self) -> str:
        return self.new(IdKind.PREMISE)

    def sa_id(self) -> str:
        return self.new(IdKind.SERVICE_AGREEMENT)

    def sp_id(self) -> str:
        return self.new(IdKind.SERVICE_POINT)

    def meter_id(self) -> str:
        return self.new(IdKind.METER)

    def meter_config_id(self) -> str:
        return self.new(IdKind.METER_CONFIG)

    def contact_id(self) -> str:
        return self.new(IdKind.CONTACT)

    def case_id(self) -> str:
        return self.new(IdKind.CASE)

    def pay_plan_id(self) -> str:
        return self.new(IdKind.PAY_PLAN)

    def bill_id(self) -> str:
        return self.new(IdKind.BILL)

    def bill_segment_id(self) -> str:
        return self.new(IdKind.BILL_SEGMENT)

    def adjustment_id(self) -> str:
        return self.new(IdKind.ADJUSTMENT)

    def payment_event_id(self) -> str:
        return self.new(IdKind.PAYMENT_EVENT)

    def payment_id(self) -> str:
        return self.new(IdKind.PAYMENT)

    def tender_id(self) -> str:
        return self.new(IdKind.TENDER)

    def meter_read_id(self) -> str:
        return self.new(IdKind.METER_READ)

    def register_read_id(self) -> str:
        return self.new(IdKind.REGISTER_READ)

    def ft_id(self) -> str:
        return self.new(IdKind.FINANCIAL_TRANSACTION)

    def field_activity_id(self) -> str:
        return self.new(IdKind.FIELD_ACTIVITY)
