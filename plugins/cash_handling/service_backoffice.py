"""Use cases of the cash back office: the custody of seized notes and the drop box.

The supervisor takes custody of a seized note and records the Secret Service submission; the lead records a
drop-box collection and hands its slips to CSRs, who post each one to the account written on it. Like the
window's use cases (``service``), each write checks everything first and is idempotent: a slip is posted
once whatever the retries, a collection once per key.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from core.contract import PluginContext
from core.contract.ccb import BILLABLE_SA_STATUSES, CcbError, NotFound
from core.contract.ccb import port as p
from core.contract.clock import local
from core.contract.redact import redact
from core.contract.staff import Role, Staff
from plugins.cash_handling import events, queries
from plugins.cash_handling.models import CashDropboxCollection, CashDropboxSlip, CashSeizedNote
from plugins.cash_handling.rules import (
    CashConfig,
    CashError,
    SlipLine,
    SlipType,
    ccb_refusal,
    custody_time,
    reconcile,
)
from plugins.cash_handling.schemas import CollectionIn, CustodyIn, SlipPostIn, SubmissionIn


class BackOffice:
    """The back office's use cases; :class:`~plugins.cash_handling.service.CashService` offers them too."""

    ctx: PluginContext
    config: CashConfig

    # -- seized notes ------------------------------------------------------------------------------------
    async def record_custody(self, staff: Staff, note_id: int, data: CustodyIn) -> CashSeizedNote:
        """Log a hand-over; only the current holder (or a supervisor) may hand the note on (docs/rules.md
        §2.3).

        A surrender goes only to an identified police officer or Secret Service agent, with the badge and
        the case number (step 7); both are written into the SSF 1604 reporter block.
        """
        if data.action == "surrendered":
            missing = [
                (name, f"a surrender needs the officer's or agent's {what} (docs/rules.md §2.3 step 7)")
                for name, what in (("badge", "badge or ID number"), ("case_no", "case or report number"))
                if not getattr(data, name).strip()
            ]
            if missing:
                raise CashError(missing)
        async with self.ctx.db.session() as session:
            note = await session.get(CashSeizedNote, note_id, with_for_update=True)
            if note is None:
                raise CashError.refused(f"no seized note {note_id}", 404)
            if note.status == "surrendered":
                raise CashError.refused(f"seized note {note_id} was already surrendered", 409)
            if note.holder != staff.name and staff.role is not Role.SUPERVISOR:
                raise CashError.refused(f"seized note {note_id} is held by {note.holder}", 403)
            earliest = await queries.latest_custody_at(session, note)
            at = custody_time(data.at, self.ctx.clock.now(), earliest)
            to_holder = data.to_holder.strip()
            remarks = redact(data.remarks.strip())
            if data.action == "surrendered":
                identified = f"badge {data.badge.strip()}, case {data.case_no.strip()}"
                remarks = f"{identified}. {remarks}".strip() if remarks else identified
                note.reporter = {
                    **note.reporter,
                    "surrendered_to": f"{to_holder} (badge {data.badge.strip()})",
                    "date_surrendered": local(at).date().isoformat(),
                    "police_report_no": note.reporter.get("police_report_no") or data.case_no.strip(),
                }
            queries.add_custody(
                session,
                note,
                to_holder=to_holder,
                action=data.action,
                at=at,
                recorded_by=staff.name,
                remarks=remarks,
            )
            note.holder = to_holder
            note.status = "surrendered" if data.action == "surrendered" else "handed_over"
            await self.ctx.audit.append(
                session,
                actor=staff.actor,
                action="cash.counterfeit.custody",
                target=f"cash_seized_note:{note.id}",
                detail={"to": note.holder, "action": data.action, "at": at.isoformat()},
            )
            return note

    async def record_submission(self, staff: Staff, note_id: int, data: SubmissionIn) -> CashSeizedNote:
        """The supervisor records the Secret Service submission (docs/rules.md §2.3 step 8)."""
        async with self.ctx.db.session() as session:
            note = await session.get(CashSeizedNote, note_id, with_for_update=True)
            if note is None:
                raise CashError.refused(f"no seized note {note_id}", 404)
            if note.usss_submission_id is not None and note.usss_submission_id != data.usss_submission_id:
                raise CashError.refused(
                    f"seized note {note_id} was already submitted as {note.usss_submission_id}", 409
                )
            now = self.ctx.clock.now()
            note.usss_submission_id = data.usss_submission_id
            note.submitted_at = now
            note.submitted_by = staff.name
            note.reporter = {
                **note.reporter,
                "usss_submission_id": data.usss_submission_id,
                "police_report_no": data.police_report_no or note.reporter.get("police_report_no", ""),
                "surrendered_to": data.surrendered_to or note.reporter.get("surrendered_to", ""),
                "date_surrendered": local(now).date().isoformat() if data.surrendered_to else None,
            }
            await self.ctx.audit.append(
                session,
                actor=staff.actor,
                action="cash.counterfeit.submitted",
                target=f"cash_seized_note:{note.id}",
                detail={"usss_submission_id": data.usss_submission_id},
            )
            return note

    # -- the drop box ------------------------------------------------------------------------------------
    async def record_collection(
        self, staff: Staff, data: CollectionIn, client_key: str
    ) -> tuple[CashDropboxCollection, bool]:
        """A drop-box collection with its slips, distributed to CSRs for posting (tasks 20, 22)."""
        ctx = self.ctx
        key = f"cash:dropbox:{client_key}"
        problems: list[tuple[str, str]] = []
        seen: set[int] = set()
        for i, slip in enumerate(data.slips):
            if slip.slip_no in seen:
                problems.append((f"slips[{i}].slip_no", f"slip {slip.slip_no} appears twice"))
            seen.add(slip.slip_no)
            if slip.slip_type is SlipType.CHECK and not slip.check_number:
                problems.append((f"slips[{i}].check_number", "a check slip needs its check number"))
        if data.slips and data.envelopes == 0:
            problems.append(("envelopes", "slips came from at least one envelope"))
        if problems:
            raise CashError(problems)
        now = ctx.clock.now()
        rec = reconcile(
            data.counter_cents, [SlipLine(s.amount_cents, s.slip_type, False) for s in data.slips]
        )
        try:
            async with ctx.db.session() as session:
                existing = await queries.collection_by_key(session, key)
                if existing is not None:
                    return existing, True
                c = await queries.add_collection(
                    session,
                    kind=data.kind,
                    envelopes=data.envelopes,
                    counter_cents=data.counter_cents,
                    slips=data.slips,
                    collected_by=staff.name,
                    types_verified=data.types_verified,
                    key=key,
                    now=now,
                )
                ctx.events.emit(
                    session,
                    events.DROPBOX_COLLECTED,
                    events.DropboxCollected(
                        collection_id=c.id,
                        kind=c.kind,
                        envelopes=c.envelopes,
                        slips=len(data.slips),
                        counter_cents=c.counter_cents,
                        cash_slips_cents=rec.cash_slips_cents,
                        counter_variance_cents=rec.counter_variance_cents,
                        collected_by=staff.name,
                        at=now,
                    ),
                    actor=staff.actor,
                )
                await ctx.audit.append(
                    session,
                    actor=staff.actor,
                    action="cash.dropbox.collected",
                    target=f"cash_dropbox_collection:{c.id}",
                    detail={
                        "slips": len(data.slips),
                        "counter_variance_cents": rec.counter_variance_cents,
                        "types_verified": data.types_verified,
                    },
                )
        except IntegrityError:
            async with ctx.db.session() as session:
                again = await queries.collection_by_key(session, key)
            if again is None:
                raise
            return again, True
        return c, False

    async def post_slip(self, staff: Staff, slip_id: int, data: SlipPostIn) -> CashDropboxSlip:
        """Post one slip to the account written on it; posted once whatever the retries (ARCHITECTURE §7)."""
        ctx = self.ctx
        async with ctx.db.session() as session:
            slip = await session.get(CashDropboxSlip, slip_id)
        if slip is None:
            raise CashError.refused(f"no slip {slip_id}", 404)
        if slip.assigned_to != staff.name and staff.role is Role.CSR:
            raise CashError.refused(f"slip {slip_id} was given to {slip.assigned_to}", 403)
        if data.account_id != slip.account_id:
            raise CashError([("account_id", f"does not match the slip's account {slip.account_id}")])
        if slip.payment_id is not None:
            return slip
        try:
            summary = await ctx.ccb.get_account_summary(slip.account_id)
        except NotFound:
            raise CashError([("account_id", f"no account {slip.account_id}")]) from None
        except CcbError as exc:
            raise ccb_refusal(exc) from None
        if not any(sa.status in BILLABLE_SA_STATUSES for sa in summary.service_agreements):
            raise CashError([("account_id", f"account {slip.account_id} has no active service")])
        tender = p.TenderInput(
            tender_type="check" if slip.slip_type in ("check", "money_order") else "cash",
            amount_cents=slip.amount_cents,
            # A money order carries a serial number, posted like a check number; slips without one use the
            # slip's number.
            check_number=(slip.check_number or str(slip.slip_no)) if slip.slip_type != "cash" else None,
        )
        try:
            posted = await ctx.ccb.post_payment(
                p.PostPayment(account_id=slip.account_id, tenders=(tender,)),
                idempotency_key=f"cash:slip:{slip.id}",
                actor=staff.actor,
            )
        except CcbError as exc:
            raise ccb_refusal(exc) from None
        now = ctx.clock.now()
        async with ctx.db.session() as session:
            row = await session.get(CashDropboxSlip, slip_id, with_for_update=True)
            assert row is not None
            if row.payment_id is None:
                row.payment_id = posted.payment_id
                row.posted_at = now
                row.posted_by = staff.name
                ctx.events.emit(
                    session,
                    events.PAYMENT_POSTED,
                    events.PaymentPosted(
                        source="dropbox",
                        account_id=row.account_id,
                        amount_cents=row.amount_cents,
                        tender_type=tender.tender_type,
                        payment_id=posted.payment_id,
                        receipt_no=None,
                        drawer_id=None,
                        slip_id=row.id,
                        taken_by=staff.name,
                        at=now,
                    ),
                    actor=staff.actor,
                )
                await ctx.audit.append(
                    session,
                    actor=staff.actor,
                    action="cash.dropbox.posted",
                    target=f"account:{row.account_id}",
                    detail={"slip": row.id, "payment": posted.payment_id, "amount_cents": row.amount_cents},
                )
            return row
