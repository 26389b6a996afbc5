"""The pure parts of the benchmark package: response framing, wrk parsing, figures and goals.

No timing is asserted anywhere: performance is measured by ``python -m benchmarks``, not tested.
"""

from __future__ import annotations

import pytest

from benchmarks.loadgen import ResponseError, build_request, parse_response, parse_wrk
from benchmarks.registry import Result, median, meets, percentile, ratio
from benchmarks.report import build_table, format_ratio, format_value, met_cell, run_record

OK = b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 15\r\n\r\n{"status":"ok"}'


def test_frames_a_complete_response() -> None:
    status, body_start, end = parse_response(OK) or (0, 0, 0)
    assert status == 200
    assert OK[body_start:end] == b'{"status":"ok"}'
    assert end == len(OK)


@pytest.mark.parametrize("cut", [5, 20, OK.index(b"\r\n\r\n") + 2, len(OK) - 1])
def test_incomplete_response_needs_more_bytes(cut: int) -> None:
    assert parse_response(OK[:cut]) is None


def test_two_pipelined_responses_are_framed_one_at_a_time() -> None:
    buf = bytearray(OK + OK[:30])
    first = parse_response(buf)
    assert first is not None and first[2] == len(OK)
    del buf[: first[2]]
    assert parse_response(buf) is None
    buf += OK[30:]
    assert parse_response(buf) == first


def test_header_names_are_case_insensitive_and_offsets_respect_start() -> None:
    raw = b"xxHTTP/1.1 404 Not Found\r\nServer: s\r\nContent-Length:  3\r\n\r\nabc"
    assert parse_response(raw, start=2) == (404, len(raw) - 3, len(raw))


def test_bodyless_statuses_need_no_length() -> None:
    raw = b"HTTP/1.1 204 No Content\r\nserver: s\r\n\r\n"
    assert parse_response(raw) == (204, len(raw), len(raw))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "chunked"),
        (b"HTTP/1.1 200 OK\r\nserver: s\r\n\r\nbody", "without Content-Length"),
        (b"SPDY/9 200 OK\r\n\r\n", "HTTP/"),
        (b"HTTP/1.1 2x0 OK\r\ncontent-length: 0\r\n\r\n", "status"),
        (b"HTTP/1.1 200 OK\r\ncontent-length: many\r\n\r\n", "Content-Length"),
    ],
)
def test_unframeable_responses_are_rejected(raw: bytes, message: str) -> None:
    with pytest.raises(ResponseError, match=message):
        parse_response(raw)


def test_request_is_keep_alive_get_to_loopback() -> None:
    req = build_request(8123, "/health/live")
    assert req.startswith(b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1:8123\r\n")
    assert req.endswith(b"\r\n\r\n") and b"close" not in req.lower()


WRK = """Running 5s test @ http://127.0.0.1:8123/health/live
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.52ms  310.21us   9.87ms   91.20%
    Req/Sec    21.10k     1.02k   22.90k    80.00%
  Latency Distribution
     50%    1.48ms
     75%    1.60ms
     90%    1.77ms
     99%    2.90ms
  105012 requests in 5.00s, 14.82MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  21002.40
Transfer/sec:      2.96MB
"""


def test_wrk_output_is_read() -> None:
    stats = parse_wrk(WRK)
    assert stats.requests == 105012
    assert stats.seconds == pytest.approx(5.0)
    assert stats.p50_s == pytest.approx(0.00148)
    assert stats.p99_s == pytest.approx(0.0029)
    assert stats.errors == 3
    assert stats.non_200 == 4
    assert stats.rps == pytest.approx(105012 / 5)


def test_wrk_output_without_totals_is_an_error() -> None:
    with pytest.raises(ValueError):
        parse_wrk("unable to connect to 127.0.0.1:1 Connection refused")


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (21345.6, "req/s", "21.3k req/s"),
        (1_234_567.0, "events/s", "1.23M events/s"),
        (812.0, "evals/s", "812 evals/s"),
        (0.8046, "s", "805 ms"),
        (1.5, "s", "1.50 s"),
        (3.851, "ms", "3.85 ms"),
        (0.0, "ms", "0 ms"),
        (None, "req/s", "—"),
        (float("nan"), "s", "—"),
    ],
)
def test_values_are_compact(value: float | None, unit: str, shown: str) -> None:
    assert format_value(value, unit) == shown


@pytest.mark.parametrize(
    ("r", "shown"), [(0.8734, "0.87×"), (2.345, "2.35×"), (0.0123, "0.0123×"), (None, "—")]
)
def test_ratios(r: float | None, shown: str) -> None:
    assert format_ratio(r) == shown


def test_ratio_and_goal_helpers() -> None:
    assert ratio(85.0, 100.0) == pytest.approx(0.85)
    assert ratio(1.0, 0.0) is None and ratio(None, 1.0) is None
    assert meets(0.85, ">=", 0.85) is True
    assert meets(0.84, ">=", 0.85) is False
    assert meets(5.1, "<=", 5.0) is False
    assert meets(None, ">=", 1.0) is None
    with pytest.raises(ValueError):
        meets(1.0, "==", 1.0)
    assert [met_cell(m) for m in (True, False, None)] == ["yes", "NO", "—"]


def test_median_and_percentile() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 2.0, 3.0]) == 2.5
    data = [float(i) for i in range(1, 101)]
    assert percentile(data, 50) == 50.0
    assert percentile(data, 99) == 99.0
    assert percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError):
        median([])


def _row(name: str, value: float, r: float | None, met: bool | None, goal: str) -> Result:
    return Result(
        name=name,
        baseline_label="floor",
        value=value,
        baseline_value=100.0,
        unit="req/s",
        goal=goal,
        ratio=r,
        met=met,
    )


def test_table_has_the_agreed_columns_and_the_record_has_no_nan() -> None:
    rows = [_row("x", 90.0, 0.9, True, ">= 0.85"), _row("y", float("nan"), None, None, "")]
    table = build_table(rows, title="t")
    assert [c.header for c in table.columns] == ["name", "ours", "baseline", "ratio", "goal", "met?"]
    assert table.row_count == 2
    record = run_record(rows, quick=True, loadgen="built-in", errors={})
    assert record["results"][1]["value"] is None
    assert record["results"][0]["baseline_label"] == "floor"
