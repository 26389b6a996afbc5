"""Unit tests for CCB-style id generation (docs/ccb-domain.md §1.2)."""

from __future__ import annotations

import random
from itertools import pairwise

import pytest

from core.ccb.ids import IdGenerator, IdKind, id_length, is_valid_id, luhn_check_digit, new_id


class _ScriptedRandom(random.Random):
    """A Random whose randrange returns a fixed script, to force collisions."""

    def __init__(self, script: list[int]) -> None:
        super().__init__(0)
        self._script = list(script)

    def randrange(self, *args: object, **kwargs: object) -> int:  # type: ignore[override]
        return self._script.pop(0) if len(self._script) > 1 else self._script[0]


@pytest.mark.parametrize(
    ("method", "length"),
    [
        ("person_id", 10),
        ("account_id", 10),
        ("premise_id", 10),
        ("sa_id", 10),
        ("sp_id", 10),
        ("meter_id", 10),
        ("meter_config_id", 10),
        ("contact_id", 10),
        ("case_id", 10),
        ("pay_plan_id", 10),
        ("bill_id", 12),
        ("bill_segment_id", 12),
        ("adjustment_id", 12),
        ("payment_event_id", 12),
        ("payment_id", 12),
        ("tender_id", 12),
        ("meter_read_id", 12),
        ("register_read_id", 12),
        ("ft_id", 12),
        ("field_activity_id", 14),
    ],
)
def test_each_kind_has_its_length_digits_only_and_no_leading_zero(method: str, length: int) -> None:
    gen = IdGenerator(random.Random(7))
    for _ in range(200):
        value = getattr(gen, method)()
        assert len(value) == length
        assert value.isascii() and value.isdigit()
        assert value[0] != "0"


def test_reference_lengths() -> None:
    # §1.2 table: ACCT_ID 10, BILL_ID 12, C2M activityId 14.
    assert id_length(IdKind.ACCOUNT) == 10
    assert id_length("bill") == 12
    assert id_length("FIELD_ACTIVITY") == 14
    assert IdKind.PAY_PLAN.column == "PP_ID"
    with pytest.raises(ValueError):
        id_length("spaceship")


def test_same_seed_same_sequence_and_different_seed_differs() -> None:
    def run(seed: int) -> list[str]:
        gen = IdGenerator(random.Random(seed))
        return [gen.account_id(), gen.bill_id(), gen.person_id(), gen.payment_event_id()]

    assert run(2024) == run(2024)
    assert run(2024) != run(2025)


def test_ids_are_not_sequential() -> None:
    gen = IdGenerator(random.Random(1))
    numbers = [int(gen.account_id()) for _ in range(50)]
    steps = {b - a for a, b in pairwise(numbers)}
    assert len(steps) > 40  # random keys, not a counter


def test_generator_never_repeats_an_id() -> None:
    gen = IdGenerator(random.Random(3))
    ids = [gen.new(kind) for _ in range(2000) for kind in (IdKind.ACCOUNT, IdKind.PERSON)]
    assert len(set(ids)) == len(ids)


def test_collision_is_skipped() -> None:
    # 10-digit ids are 10**9 + draw; the script draws 5 twice, then 7.
    gen = IdGenerator(_ScriptedRandom([5, 5, 7]))
    assert gen.account_id() == "1000000005"
    assert gen.person_id() == "1000000007"  # 1000000005 is taken, even for another kind


def test_reserved_ids_are_skipped() -> None:
    gen = IdGenerator(_ScriptedRandom([5, 7]))
    gen.reserve(["1000000005"])
    assert gen.account_id() == "1000000007"


def test_exhaustion_raises() -> None:
    gen = IdGenerator(_ScriptedRandom([5]))
    assert gen.account_id() == "1000000005"
    with pytest.raises(RuntimeError):
        gen.account_id()


def test_luhn_check_digit() -> None:
    # Classic worked example: 7992739871 + check digit 3 -> 79927398713.
    assert luhn_check_digit("7992739871") == "3"
    assert luhn_check_digit("0") == "0"
    with pytest.raises(ValueError):
        luhn_check_digit("12a")


def test_optional_account_check_digit() -> None:
    gen = IdGenerator(random.Random(9), account_check_digit=True)
    for _ in range(100):
        account = gen.account_id()
        assert len(account) == 10 and account[0] != "0"
        assert luhn_check_digit(account[:-1]) == account[-1]
        assert is_valid_id("account", account, account_check_digit=True)
    # Only accounts carry the check digit (§1.2 flag).
    person = gen.person_id()
    assert is_valid_id("person", person)


def test_is_valid_id() -> None:
    assert is_valid_id(IdKind.ACCOUNT, "1589800000")  # the example in §1.2
    assert is_valid_id(IdKind.BILL, "549133128888")
    assert not is_valid_id(IdKind.ACCOUNT, "0589800000")  # leading zero
    assert not is_valid_id(IdKind.ACCOUNT, "158980000")  # too short
    assert not is_valid_id(IdKind.BILL, "1589800000")  # 10 digits is not a bill id
    assert not is_valid_id(IdKind.ACCOUNT, "15898000a0")
    assert not is_valid_id(IdKind.ACCOUNT, "١٥٨٩٨٠٠٠٠٠")  # non-ASCII digits
    # 79927398713 is Luhn-valid; change the last digit and it is not.
    assert is_valid_id(IdKind.ACCOUNT, "7992739871")
    assert not is_valid_id(IdKind.ACCOUNT, "7992739872", account_check_digit=True)


def test_new_id_for_production() -> None:
    values = {new_id("bill") for _ in range(200)}
    assert len(values) == 200
    assert all(is_valid_id(IdKind.BILL, v) for v in values)
    account = new_id(IdKind.ACCOUNT, account_check_digit=True)
    assert is_valid_id(IdKind.ACCOUNT, account, account_check_digit=True)
