"""Decoding request bodies: which answer each kind of bad input gets, and which field it names."""

from __future__ import annotations

from typing import Annotated

import msgspec
import pytest
from litestar.exceptions import ClientException, HTTPException

from core.contract.inputs import InputError, convert, decode_json, field_of


class Terms(msgspec.Struct, forbid_unknown_fields=True):
    installments: Annotated[int, msgspec.Meta(ge=1)]


class Plan(msgspec.Struct, forbid_unknown_fields=True):
    account_id: str
    zips: list[Annotated[str, msgspec.Meta(pattern=r"^\d{5}$")]] = []
    terms: Terms | None = None


def _error(raw: bytes) -> HTTPException:
    with pytest.raises(HTTPException) as caught:
        decode_json(raw, Plan)
    return caught.value


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"{}", "account_id"),  # missing at the top
        (b'{"account_id": 5}', "account_id"),  # wrong type
        (b'{"account_id": "1", "zips": ["9000"]}', "zips[0]"),  # a list item
        (b'{"account_id": "1", "terms": {}}', "terms.installments"),  # missing inside a nested object
        (b'{"account_id": "1", "terms": {"installments": 0}}', "terms.installments"),
        (b'{"account_id": "1", "colour": "red"}', "colour"),  # unknown field
    ],
)
def test_a_body_that_does_not_fit_is_422_naming_the_field(raw: bytes, field: str) -> None:
    error = _error(raw)
    assert error.status_code == 422 and isinstance(error, ClientException)
    assert error.extra == [{"key": field, "message": error.detail}]
    assert error.detail.startswith(f"{field}: ")


@pytest.mark.parametrize("raw", [b"", b"   ", b"{not json", b'{"account_id": "1"'])
def test_empty_or_malformed_json_is_400(raw: bytes) -> None:
    error = _error(raw)
    assert error.status_code == 400 and error.detail.startswith("body: ")


def test_a_good_body_decodes() -> None:
    plan = decode_json(b'{"account_id": "1", "terms": {"installments": 3}}', Plan)
    assert plan.terms == Terms(installments=3)


def test_convert_raises_input_error_and_upstream_failures_are_not_client_errors() -> None:
    with pytest.raises(InputError) as caught:
        convert({"account_id": "1", "zips": ["x"]}, Plan)
    assert caught.value.field == "zips[0]" and caught.value.http().status_code == 422
    upstream = InputError("reference_number", "Customer Connect answered 500", 502).http()
    assert upstream.status_code == 502 and not isinstance(upstream, ClientException)


def test_field_of_falls_back_to_body() -> None:
    with pytest.raises(msgspec.ValidationError) as caught:
        msgspec.json.decode(b"[]", type=Plan)
    assert field_of(caught.value) == "body"
