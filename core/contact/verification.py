"""Identity verification inside a contact (docs/rules.md §4.2): one factor checked at a time, pass or fail
only.

At most three failed factor checks per contact lock the contact; the CCB port counts failures per
account and locks verification at the fifth within 24 hours, until a lead clears it. The contact row is
locked while an attempt is counted, so parallel guesses cannot get past the per-contact limit.

A verify against an account that does not exist is a failed attempt like a wrong factor, with the same
answer and the same keyed-hash work: otherwise the contact could probe which account ids exist without
limit (a 404 used no attempt).
"""

from __future__ import annotations

import secrets
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from core.ccb import port as p
from core.ccb.errors import IllegalTransition, Invalid, NotFound, VerificationLocked
from core.ccb.identity import IdentityMethod, matches
from core.contact import events as ev
from core.contact.common import OPEN, View, clean_reason
from core.contact.contacts import Contacts
from core.contact.models import Contact, ContactVerification
from core.contract.contact import Locked  # the contract's class: plugins catch what the part raises
from core.staff import Staff

__all__ = ["Locked", "Verification", "VerifyOutcome"]

# The key of the stand-in check for an unknown account: a fresh random one per process, so the hash it
# computes can match nothing; only its cost matters (the same HMAC a real factor check computes).
_STAND_IN_KEY = secrets.token_bytes(32)


class VerifyOutcome(View, frozen=True):
    """Pass or fail only (docs/rules.md §4.2: never which factor or what is on file)."""

    verified: bool
    attempts_left: int
    locked: Literal["contact", "account"] | None = None


class Verification(Contacts):
    """Factor checks with their per-contact and per-account locks, and a lead's clearing of the latter."""

    async def verify(
        self, staff: Staff, contact_id: str, account_id: str, method: IdentityMethod, value: str
    ) -> VerifyOutcome:
        """Check one identity factor for ``account_id`` inside the contact; only pass/fail comes back.

        An attempt counts against the contact before the factor is checked (and is given back on a pass),
        so parallel guesses cannot get past the per-contact limit.
        """
        limit = self.config.max_failures_per_contact
        async with self.db.session() as s:
            row = await self._load(s, contact_id, lock=True)
            if row.status != OPEN:
                raise IllegalTransition("contact", row.id, row.status, "verify")
            self._claim(staff, row)
            refused = row.locked or row.verify_failures >= limit
            if refused:
                await self._audit_attempt(s, staff, row, account_id, method, "contact_locked")
            else:
                row.verify_failures += 1
                row.updated_at = self.clock.now()
        if refused:
            raise Locked(
                f"contact {contact_id} is locked after {limit} failed verification attempts: offer a "
                "one-time code or an in-person visit with ID",
                scope="contact",
                attempts_left=0,
            )
        try:
            ok = await self.ccb.verify_identity(account_id, method, value, actor=staff.actor)
        except NotFound:
            # No such account: a failed attempt, answered as a wrong factor after the same hash work.
            ok = matches(_STAND_IN_KEY, method, account_id, value.strip(), None)
        except VerificationLocked:
            await self._give_back(contact_id)
            async with self.db.session() as s:
                row = await self._load(s, contact_id)
                await self._audit_attempt(s, staff, row, account_id, method, "account_locked")
                left = max(0, limit - row.verify_failures)
            raise Locked(
                f"identity verification is locked for account {account_id} after repeated failures; a "
                "lead must clear it once the customer is identified another way",
                scope="account",
                attempts_left=left,
            ) from None
        except Exception:
            await self._give_back(contact_id)
            raise
        account_locked = False
        if not ok:
            # Only the lock flag is used: the caller is not verified and sees nothing else of the account.
            # An unknown account has no lock; the look-up is still made so the answer takes as long.
            try:
                account_locked = (await self.ccb.get_account_summary(account_id)).verification_locked
            except NotFound:
                account_locked = False
        async with self.db.session() as s:
            row = await self._load(s, contact_id, lock=True)
            if ok:
                row.verify_failures = max(0, row.verify_failures - 1)
                if await s.get(ContactVerification, (row.id, account_id)) is None:
                    s.add(
                        ContactVerification(
                            contact_id=row.id,
                            account_id=account_id,
                            method=method,
                            verified_by=staff.actor,
                            verified_at=self.clock.now(),
                        )
                    )
                words = "access code" if method == "access_code" else "last four SSN digits"
                self._add_action(
                    s, row.id, staff.actor, "verify.pass", f"account {account_id} by {words}", account_id
                )
                self.events.emit(
                    s,
                    ev.VERIFIED,
                    ev.ContactVerified(contact_id=row.id, account_id=account_id, method=method),
                    actor=staff.actor,
                )
            else:
                row.locked = row.verify_failures >= limit
                self._add_action(
                    s,
                    row.id,
                    staff.actor,
                    "verify.fail",
                    f"verification failed for account {account_id} (attempt {row.verify_failures})",
                    account_id,
                )
                self.events.emit(
                    s,
                    ev.VERIFICATION_FAILED,
                    ev.VerificationFailed(
                        contact_id=row.id,
                        account_id=account_id,
                        method=method,
                        attempts_left=max(0, limit - row.verify_failures),
                        contact_locked=row.locked,
                        account_locked=account_locked,
                    ),
                    actor=staff.actor,
                )
            row.updated_at = self.clock.now()
            await self._audit_attempt(
                s, staff, row, account_id, method, "pass" if ok else "fail", account_locked=account_locked
            )
            left = max(0, limit - row.verify_failures)
            locked: Literal["contact", "account"] | None = None
            if not ok:
                locked = "account" if account_locked else ("contact" if row.locked else None)
        return VerifyOutcome(verified=ok, attempts_left=left, locked=locked)

    async def _give_back(self, contact_id: str) -> None:
        """Undo the provisional count of an attempt that never reached a factor check."""
        async with self.db.session() as s:
            row = await self._load(s, contact_id, lock=True)
            row.verify_failures = max(0, row.verify_failures - 1)

    async def _audit_attempt(
        self,
        s: AsyncSession,
        staff: Staff,
        row: Contact,
        account_id: str,
        method: str,
        result: str,
        *,
        account_locked: bool | None = None,
    ) -> None:
        # docs/rules.md §4.2 log fields: channel, agent, account, factor types presented, result, failure
        # count,
        # lock state, call id. Never the value.
        detail: dict[str, Any] = {
            "contact": row.id,
            "channel": row.channel,
            "method": method,
            "result": result,
            "contact_failures": row.verify_failures,
            "contact_locked": row.locked,
            "call": row.dialog_id,
        }
        if account_locked is not None:
            detail["account_locked"] = account_locked
        await self.audit.append(
            s, actor=staff.actor, action="contact.verify", target=f"account:{account_id}", detail=detail
        )

    async def clear_verification_lock(self, staff: Staff, account_id: str, reason: str) -> p.AccountSummary:
        """A lead clears an account's verification lock once the customer is identified another way."""
        why = clean_reason(reason)
        if why is None:
            raise Invalid("reason", "say why the lock may be cleared (how the customer was identified)")
        summary = await self.ccb.unlock_verification(
            p.UnlockVerification(account_id=account_id), actor=staff.actor
        )
        async with self.db.session() as s:
            await self.audit.append(
                s,
                actor=staff.actor,
                action="contact.verification_lock.cleared",
                target=f"account:{account_id}",
                detail={"reason": why},
            )
            self.events.emit(
                s, ev.LOCK_CLEARED, ev.VerificationLockCleared(account_id=account_id), actor=staff.actor
            )
        return summary
