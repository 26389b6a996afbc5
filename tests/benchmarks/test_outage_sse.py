"""The socket benchmark's SSE reader counts each declaration once, however the bytes are split into reads."""

from __future__ import annotations

import asyncio

from benchmarks.outage_sse import MARKER, _Subscriber

FRAME = b"event: declared\r\ndata: {}\r\n\r\n"
SNAPSHOT = b"event: snapshot\r\ndata: []\r\nretry: 3000\r\n\r\n"


def _feed(chunks: list[bytes], expected: int) -> _Subscriber:
    async def run() -> _Subscriber:
        loop = asyncio.get_running_loop()
        sub = _Subscriber(b"", loop.create_future(), expected, loop.create_future())
        for chunk in chunks:
            sub.data_received(chunk)
        return sub

    return asyncio.run(run())


def test_counts_frames_split_anywhere() -> None:
    stream = SNAPSHOT + FRAME * 3
    for cut in range(1, len(stream)):
        for second in (cut + 1, cut + len(MARKER) // 2, len(stream)):
            chunks = [stream[:cut], stream[cut:second], stream[second:]]
            sub = _feed([c for c in chunks if c], expected=3)
            assert len(sub.arrivals) == 3, (cut, second)
            assert sub.ready.done() and sub.complete.done()


def test_not_complete_until_every_frame_arrived() -> None:
    sub = _feed([SNAPSHOT, FRAME], expected=2)
    assert sub.ready.done()
    assert len(sub.arrivals) == 1 and not sub.complete.done()
