"""The pure parts of the CCB benchmarks: the header-carrying request, the JSON comparison, the raw rows."""

from __future__ import annotations

import datetime as dt

import pytest

from benchmarks.ccb import person_rows, same_json
from benchmarks.ccb_load import build_request


def test_request_carries_the_headers_and_ends_the_head() -> None:
    raw = build_request(8000, "/api/x", {"Authorization": "Bearer t", "X-Contact-Id": "0000000001"})
    assert raw.startswith(b"GET /api/x HTTP/1.1\r\n")
    assert b"\r\nAuthorization: Bearer t\r\n" in raw
    assert b"\r\nX-Contact-Id: 0000000001\r\n" in raw
    assert raw.endswith(b"\r\n\r\n") and raw.count(b"\r\n\r\n") == 1


def test_request_refuses_a_header_that_would_split_the_request() -> None:
    with pytest.raises(ValueError):
        build_request(8000, "/", {"X-Bad": "a\r\nHost: elsewhere"})


def test_same_json_ignores_key_order_but_not_values_or_types() -> None:
    assert same_json(b'{"a": 1, "b": [1, 2]}', b'{"b":[1,2],"a":1}')
    assert not same_json(b'{"a": 1}', b'{"a": "1"}')
    assert not same_json(b'{"a": true}', b'{"a": 1}')


def test_person_rows_have_unique_ten_digit_ids() -> None:
    rows = person_rows(3, dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    ids = [r["id"] for r in rows]
    assert len(set(ids)) == 3 and all(len(i) == 10 and i.isdigit() for i in ids)
