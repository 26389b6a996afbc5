"""Start, stop and restore service (docs/ccb-domain.md §1.5, §1.6), each one CCB port write logged on the
contact."""

from __future__ import annotations

import datetime as dt

from core.ccb import port as p
from core.ccb.errors import Invalid
from core.contact.guard import ContactAccess, Guard
from core.redact import redact

__all__ = ["StartStop"]


class StartStop(Guard):
    """Service orders: a start at a premise, a stop (or taking a pending stop back), a restore."""

    def _not_past(self, day: dt.date, field: str) -> None:
        today = self.today()
        if day < today:
            raise Invalid(field, f"is in the past: it must be today ({today.isoformat()}) or later")

    async def start_service(
        self,
        access: ContactAccess,
        account_id: str,
        premise_id: str,
        start_date: dt.date,
        services: tuple[p.ServiceKind, ...],
        key: str | None,
    ) -> p.StartServiceResult:
        self._not_past(start_date, "start_date")
        result = await self.ccb.start_service(
            p.StartService(
                account_id=account_id, premise_id=premise_id, start_date=start_date, services=services
            ),
            actor=access.actor,
            idempotency_key=key,
        )
        await self.note_change(
            access,
            "service",
            f"start of {', '.join(services)} service at premise {premise_id} on {start_date.isoformat()}",
        )
        return result

    async def stop_service(
        self,
        access: ContactAccess,
        sa: p.ServiceAgreementView,
        stop_date: dt.date,
        stop_reading: int | None,
        key: str | None,
    ) -> p.ServiceAgreementView:
        self._not_past(stop_date, "stop_date")
        result = await self.ccb.stop_service(
            p.StopService(sa_id=sa.sa_id, stop_date=stop_date, stop_reading=stop_reading),
            actor=access.actor,
            idempotency_key=key,
        )
        await self.note_change(access, "service", f"stop of SA {sa.sa_id} on {stop_date.isoformat()}")
        return result

    async def cancel_stop(
        self, access: ContactAccess, sa: p.ServiceAgreementView, key: str | None
    ) -> p.ServiceAgreementView:
        result = await self.ccb.cancel_stop(
            p.CancelStop(sa_id=sa.sa_id), actor=access.actor, idempotency_key=key
        )
        await self.note_change(access, "service", f"canceled the pending stop of SA {sa.sa_id}")
        return result

    async def restore_service(
        self,
        access: ContactAccess,
        sa: p.ServiceAgreementView,
        restore_date: dt.date,
        reason: str,
        key: str | None,
    ) -> p.ServiceAgreementView:
        self._not_past(restore_date, "restore_date")
        result = await self.ccb.restore_service(
            p.RestoreService(sa_id=sa.sa_id, restore_date=restore_date, reason=redact(reason)),
            actor=access.actor,
            idempotency_key=key,
        )
        await self.note_change(access, "service", f"restore of SA {sa.sa_id} on {restore_date.isoformat()}")
        return result
