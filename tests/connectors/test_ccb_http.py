"""The HTTP CCB connector with nothing listening: a refused connection is CcbUnavailable.

Its reads, typed errors, retries and circuit breaker against the simulated CCB server are tested with the
remote CCB (tests/core/ccb/test_remote.py).
"""

from __future__ import annotations

import socket

import pytest

from connectors.ccb_http import HttpCcb
from core.ccb.errors import CcbUnavailable


async def test_connection_refused_is_unavailable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    http = HttpCcb(f"http://127.0.0.1:{port}", timeout=1.0, retries=1, backoff_s=0.001)
    try:
        with pytest.raises(CcbUnavailable, match="ConnectError"):
            await http.get_balance("1234567890")
    finally:
        await http.aclose()
