"""pytest fixtures of the phone simulator (registered as the ``ccbhub_phone`` pytest11 plugin).

``phone`` drives the test hub's telephony API in-process; it builds on the hub fixtures of
:mod:`core.contract.testing` (``hub``, ``hub_client``, ``staff_token``, ``hub_clock``, ``drain``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from core.clock import ManualClock


@pytest.fixture
async def phone(
    hub: Any,
    hub_client: Any,
    staff_token: Callable[..., Awaitable[str]],
    hub_clock: ManualClock,
    drain: Callable[[], Awaitable[None]],
) -> AsyncIterator[Any]:
    """A phone-system simulator bound to the test hub (:class:`simulators.phone.driver.PhoneDriver`).

    It acts through ``hub_client`` with the token of an admin named ``phone-sim``: it announces calls,
    and acts for any agent the telephony config or the staff list knows (as a supervisor would).  Every
    command waits for ``drain``, so ``phone.events`` (the ``hub.phone.*`` envelopes seen on the bus) is up
    to date when it returns::

        async def test_screen_pop(phone):
            await phone.sign_in("csr", "1001")
            await phone.ready("csr")
            dialog_id = await phone.call("2135550142", queue="Billing")
            await phone.answer("csr")
            await phone.hang_up("csr")
            summary = await phone.run(calls=10, seed=7)   # the hub's clock moves; nothing sleeps

    ``run`` advances ``hub_clock`` and applies the telephony timers with the service's ``tick``.
    """
    from core.telephony.events import ALL_EVENTS
    from core.telephony.plugin import telephony_service
    from simulators.phone.driver import PhoneDriver
    from simulators.phone.load import VirtualTimeline

    service = telephony_service(hub)
    if service is None:
        pytest.fail("the phone fixture needs the hub's telephony part running (is it disabled?)")
    token = await staff_token("admin", name="phone-sim")
    driver = PhoneDriver(
        hub_client,
        token,
        settle=drain,
        timeline=VirtualTimeline(hub_clock, service.tick, drain),
        extensions=[e.extension for e in service.config.extensions if e.status == "valid"],
    )
    subscription = await hub.bus.subscribe(ALL_EVENTS, driver.receive)
    try:
        yield driver
    finally:
        await subscription.unsubscribe()
