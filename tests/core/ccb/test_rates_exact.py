"""The rate engine's integer rounding gives exactly what the Fraction formulas it replaced give."""

from __future__ import annotations

import random
from decimal import Decimal
from fractions import Fraction
from math import floor

import pytest

from core.ccb.rates import QTY_QUANTUM, _product_cents, round_half_up, to_cents


def reference_round(value: Fraction | Decimal | int, quantum: Decimal = QTY_QUANTUM) -> Decimal:
    steps = Fraction(value) / Fraction(quantum)
    magnitude = floor(abs(steps) + Fraction(1, 2))
    n = magnitude if steps >= 0 else -magnitude
    return (Decimal(n) * quantum).quantize(quantum)


def reference_cents(dollars: Fraction | Decimal | int) -> int:
    return int(reference_round(Fraction(dollars) * 100, Decimal(1)))


def values(rng: random.Random) -> list[Fraction | Decimal | int]:
    out: list[Fraction | Decimal | int] = []
    for _ in range(3000):
        sign = rng.choice((1, -1))
        out.append(Fraction(sign * rng.randrange(10**7), rng.randrange(1, 400)))
        out.append(Decimal(sign * rng.randrange(10**8)).scaleb(-rng.randrange(0, 7)))
        out.append(sign * rng.randrange(10**6))
    # Exact halves at every scale, both signs: the cases half-up rounding is about.
    out += [Fraction(2 * k + 1, 2 * 10**s) * sign for k in range(50) for s in range(4) for sign in (1, -1)]
    out += [Decimal("0.005"), Decimal("-0.005"), Decimal("0.015"), Decimal("2.675"), Decimal("-2.675")]
    return out


@pytest.mark.parametrize("quantum", [QTY_QUANTUM, Decimal(1), Decimal("0.1"), Decimal("0.001")])
def test_round_half_up_matches_the_fraction_formula(quantum: Decimal) -> None:
    for value in values(random.Random(7)):
        got = round_half_up(value, quantum)
        want = reference_round(value, quantum)
        assert got == want and str(got) == str(want), value


def test_to_cents_matches_the_fraction_formula() -> None:
    for value in values(random.Random(8)):
        assert to_cents(value) == reference_cents(value), value


def test_a_line_amount_matches_the_fraction_product() -> None:
    rng = random.Random(9)
    for _ in range(5000):
        quantity = Decimal(rng.randrange(10**7)).scaleb(-2)
        price = Decimal(rng.randrange(1, 10**6)).scaleb(-rng.randrange(2, 7))
        assert _product_cents(quantity, price) == reference_cents(Fraction(quantity) * Fraction(price))
