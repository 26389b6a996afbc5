"""Field work from a contact (docs/ccb-domain.md §1.14-§1.15): a high-bill case with its re-read or leak
check, and
a trouble ticket with its dispatch priority.

The field investigation needs two port writes (case, then field activity): everything is validated
first, and the two writes share the caller's idempotency key so a retry completes the pair.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from core.ccb import port as p
from core.ccb.errors import Invalid
from core.contact.common import View
from core.contact.guard import ContactAccess, Guard
from core.redact import redact

__all__ = [
    "OUTAGE_PROBLEMS",
    "TROUBLE_PRIORITIES",
    "FieldWork",
    "InvestigationResult",
    "TroubleProblem",
    "trouble_priority",
]


class InvestigationResult(View, frozen=True):
    case: p.CaseView
    field_activity: p.FieldActivityView


# Dispatch priority of a trouble ticket (1 most urgent ... 5 routine, codes.FA_TYPES): danger to life and
# total loss of service first.
TROUBLE_PRIORITIES: dict[str, dict[str, int]] = {
    "electric": {"wires_down": 1, "no_power": 1, "sparks_or_smoke": 1, "partial_power": 2, "flickering": 3},
    "water": {"main_break": 1, "no_water": 1, "leak": 2, "water_quality": 2, "low_pressure": 3},
}
OUTAGE_PROBLEMS = frozenset({"no_power", "partial_power", "no_water"})
TroubleProblem = Literal[
    "wires_down",
    "no_power",
    "sparks_or_smoke",
    "partial_power",
    "flickering",
    "main_break",
    "no_water",
    "leak",
    "water_quality",
    "low_pressure",
    "other",
]


def trouble_priority(service: str, problem: str) -> int:
    """The dispatch priority of a reported problem; a problem of the other service is refused."""
    if problem == "other":
        return 3
    table = TROUBLE_PRIORITIES.get(service, {})
    if problem not in table:
        known = ", ".join([*table, "other"])
        raise Invalid("problem", f"{problem} is not a {service} problem; one of {known}")
    return table[problem]


class FieldWork(Guard):
    """Field investigations and trouble tickets."""

    async def _service_point(self, premise_id: str, service: str) -> p.ServicePointView:
        premise = await self.ccb.get_premise(premise_id)
        for sp in premise.service_points:
            if sp.service == service:
                return sp
        raise Invalid("service", f"premise {premise_id} has no {service} service point")

    async def field_investigation(
        self,
        access: ContactAccess,
        account_id: str,
        kind: Literal["re_read", "leak_check"],
        service: p.ServiceKind,
        premise_id: str | None,
        summary: str,
        key: str | None,
    ) -> InvestigationResult:
        """A case (high bill) with its field activity (re-read or leak check), docs/ccb-domain.md
        §1.14-§1.15."""
        if kind == "leak_check" and service != "water":
            raise Invalid("service", "a leak check is for water service")
        account = await self.ccb.get_account_summary(account_id)
        premise_ids = [prem.premise_id for prem in account.premises]
        if premise_id is None:
            if len(premise_ids) != 1:
                raise Invalid("premise_id", "the account has several premises (or none): name one")
            premise_id = premise_ids[0]
        elif premise_id not in premise_ids:
            raise Invalid("premise_id", f"premise {premise_id} is not a premise of account {account_id}")
        sp = await self._service_point(premise_id, service)
        sa_id = next((sa.sa_id for sa in account.service_agreements if sa.sp_id == sp.sp_id), None)
        text = redact(summary.strip())
        if not text:
            raise Invalid("summary", "must not be empty")
        # Validated up front; the two writes then share the caller's idempotency key, so a retry after a
        # failure between them completes the pair instead of opening a second case.
        case = await self.ccb.create_case(
            p.CreateCase(
                case_type="HIGH_BILL",
                summary=text,
                account_id=account_id,
                premise_id=premise_id,
                meter_id=sp.meter.meter_id if sp.meter else None,
            ),
            actor=access.actor,
            idempotency_key=f"{key}:case" if key else None,
        )
        fa = await self.ccb.create_field_activity(
            p.CreateFieldActivity(
                fa_type="RE_READ" if kind == "re_read" else "LEAK_CHECK",
                premise_id=premise_id,
                sp_id=sp.sp_id,
                sa_id=sa_id,
                case_id=case.case_id,
                scheduled_on=self.today() + dt.timedelta(days=3),
                instructions=text,
            ),
            actor=access.actor,
            idempotency_key=f"{key}:fa" if key else None,
        )
        await self.note_change(
            access,
            "field",
            f"opened case {case.case_id} with {kind.replace('_', ' ')} {fa.field_activity_id}",
        )
        return InvestigationResult(case=case, field_activity=fa)

    async def trouble_ticket(
        self,
        access: ContactAccess,
        premise_id: str,
        service: p.ServiceKind,
        problem: str,
        details: str | None,
        key: str | None,
    ) -> p.FieldActivityView:
        """A TROUBLE field activity with its dispatch priority (LocalCcb announces the trouble ticket)."""
        priority = trouble_priority(service, problem)
        sp = await self._service_point(premise_id, service)
        life_support = False
        sa_id: str | None = None
        if access.account_id is not None:
            summary = await self.ccb.get_account_summary(access.account_id)
            person = await self.ccb.get_person(summary.main_customer.person_id)
            life_support = person.life_support
            sa_id = next((sa.sa_id for sa in summary.service_agreements if sa.sp_id == sp.sp_id), None)
        if life_support and problem in OUTAGE_PROBLEMS:
            priority = 1  # a life-support customer without service goes first
        label = problem.replace("_", " ")
        instructions = f"{service} trouble: {label}"
        if life_support:
            instructions += " (life-support customer)"
        if details and details.strip():
            instructions += f". Caller says: {redact(details.strip())}"
        fa = await self.ccb.create_field_activity(
            p.CreateFieldActivity(
                fa_type="TROUBLE",
                premise_id=premise_id,
                sp_id=sp.sp_id,
                sa_id=sa_id,
                priority=priority,
                scheduled_on=self.today(),
                instructions=instructions[:1000],
            ),
            actor=access.actor,
            idempotency_key=key,
        )
        await self.note_change(
            access,
            "field",
            f"trouble ticket {fa.field_activity_id} ({service}, {label}, priority {priority})",
        )
        return fa
