"""The hub's Customer Connect client on its own: which requests it retries, and what a timeout becomes.

Its behaviour against the simulated service is tested with the simulator
(tests/simulators/customer_connect/test_simulator.py).
"""

from __future__ import annotations

import httpx
import pytest

from connectors.customer_connect import CustomerConnectClient, ServiceUnavailable


async def test_only_gets_are_retried() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        return httpx.Response(503, json={"detail": "maintenance"})

    transport = httpx.MockTransport(handler)
    async with CustomerConnectClient("http://x", "u", "p", retries=2, backoff=0, transport=transport) as c:
        with pytest.raises(ServiceUnavailable):
            await c.list_incidents()
        assert calls == ["GET"] * 3
        calls.clear()
        with pytest.raises(ServiceUnavailable):
            await c.add_thread(1, "staff_response", "hello")
        assert calls == ["POST"]


async def test_timeouts_are_service_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    transport = httpx.MockTransport(handler)
    async with CustomerConnectClient("http://x", "u", "p", retries=1, backoff=0, transport=transport) as c:
        with pytest.raises(ServiceUnavailable, match="timed out"):
            await c.get_incident(1)
