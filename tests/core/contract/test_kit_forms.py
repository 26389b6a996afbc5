"""The web kit's form decoding: posted HTML forms into Structs, with the field at fault named."""

from __future__ import annotations

from typing import Annotated

import msgspec
import pytest
from litestar.datastructures import FormMultiDict

from core.contract.inputs import Cents, InputError, decode_form, dollars_to_cents


class DrawerForm(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    teller: Annotated[str, msgspec.Meta(min_length=2)]
    float_cents: Cents
    windows: list[int] = []
    supervisor_present: bool = False
    note: str | None = None
    count: int = 1


def form(*pairs: tuple[str, str]) -> FormMultiDict:
    return FormMultiDict(list(pairs))


def test_a_posted_form_is_read_with_the_rules_of_html_forms() -> None:
    found = decode_form(
        form(
            ("teller", "  ana  "),
            ("float_cents", "$1,234.50"),
            ("windows", "3"),
            ("windows", "4"),
            ("supervisor_present", "on"),
            ("note", "   "),
            ("_csrf_token", "token"),
        ),
        DrawerForm,
    )
    assert found == DrawerForm(
        teller="ana", float_cents=123450, windows=[3, 4], supervisor_present=True, note=None, count=1
    )


def test_an_unticked_box_is_false_and_one_value_of_a_list_is_a_list() -> None:
    found = decode_form(form(("teller", "ana"), ("float_cents", "10"), ("windows", "7")), DrawerForm)
    assert found.supervisor_present is False and found.windows == [7] and found.float_cents == 1000


@pytest.mark.parametrize(
    ("pairs", "field"),
    [
        ((("float_cents", "10"),), "teller"),  # missing
        ((("teller", "a"), ("float_cents", "10")), "teller"),  # too short
        ((("teller", "ana"), ("float_cents", "10.005")), "float_cents"),  # three decimals
        ((("teller", "ana"), ("float_cents", "ten")), "float_cents"),
        ((("teller", "ana"), ("float_cents", "-5")), "float_cents"),  # below the Cents minimum
        ((("teller", "ana"), ("float_cents", "5"), ("count", "x")), "count"),
        ((("teller", "ana"), ("float_cents", "5"), ("windows", "two")), "windows[0]"),
        ((("teller", "ana"), ("float_cents", "5"), ("supervisor_present", "maybe")), "supervisor_present"),
        ((("teller", "ana"), ("float_cents", "5"), ("colour", "red")), "colour"),  # unknown field
    ],
)
def test_a_form_that_does_not_fit_names_the_field(pairs: tuple[tuple[str, str], ...], field: str) -> None:
    with pytest.raises(InputError) as caught:
        decode_form(form(*pairs), DrawerForm)
    assert caught.value.field == field
    assert caught.value.status_code == 422


@pytest.mark.parametrize(
    ("text", "cents"),
    [("0.07", 7), ("12", 1200), ("$12.5", 1250), ("1,234.56", 123456), ("-3.50", -350), (".5", 50)],
)
def test_dollars_become_cents(text: str, cents: int) -> None:
    assert dollars_to_cents(text) == cents


@pytest.mark.parametrize("text", ["", "$", "1.234", "12,34", "1 2", "abc", "1e3"])
def test_what_is_not_an_amount_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="dollars"):
        dollars_to_cents(text)
