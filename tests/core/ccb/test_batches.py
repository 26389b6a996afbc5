"""The hub runs CCB's daily batches: a pending stop becomes stopped (and final-billed) on its date."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.ccb import port as p
from core.ccb.seed import identity_key, seed_customers
from core.clock import local


async def test_daily_batches_finalize_a_stop_on_its_date(hub: Any, hub_clock: Any) -> None:
    (customer,) = await seed_customers(hub.db, 1, 3, identity_key(hub.settings.secret_key))
    summary = await hub.ccb.get_account_summary(customer.account_id)
    sa_id = summary.service_agreements[0].sa_id
    tomorrow = local(hub_clock.now()).date() + dt.timedelta(days=1)
    stopped = await hub.ccb.stop_service(p.StopService(sa_id=sa_id, stop_date=tomorrow), actor="test")
    assert stopped.status == "30"  # pending stop
    await hub.run_ccb_batches()
    assert (await hub.ccb.get_service_agreement(sa_id)).status == "30"  # not yet: the date has not come
    hub_clock.advance(dt.timedelta(days=2))
    await hub.run_ccb_batches()
    assert (await hub.ccb.get_service_agreement(sa_id)).status == "40"
