"""Use cases of the correspondence plugin: make a letter, read letters back, move a letter to the post.

:class:`CorrespondenceService` works with the plugin's own context (its config, event writer, mailer — a
plugin may publish only its own subjects); the plugin's routes use it, and other plugins reach it through
the :class:`~plugins.correspondence.public.LetterService` protocol it satisfies. A letter commits in its own
transaction, after the CCB contact, because the CCB is a separate system in production.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from typing import Any

from sqlalchemy.exc import IntegrityError

from core.contract import PluginContext
from core.contract.ccb import CcbError, Invalid, NotFound
from core.contract.ccb import port as p
from core.contract.idempotency import check_key
from core.contract.mail import ADDRESS
from core.contract.redact import redact
from plugins.correspondence import events, queries
from plugins.correspondence.models import CorrLetter
from plugins.correspondence.public import LetterError, LetterRecord
from plugins.correspondence.rules import (
    CorrespondenceConfig,
    FieldError,
    LetterStatus,
    LetterTemplate,
    address_lines,
    can_move,
    check_fields,
    date_text,
    fill,
    fill_subject,
    letter_date,
    load_templates,
    plain_text,
    salutation,
)
from plugins.correspondence.rules_docx import LetterContent, render_docx

# The CCB records letters as outbound notifications (docs/ccb-domain.md §1.12), method "letter".
CONTACT_CLASS, CONTACT_TYPE = "NOTIFY", "OUTBOUND"
# The CCB keeps idempotency keys of up to 100 characters, and the letter's contact key gets a prefix.
MAX_KEY = 80


def record_of(letter: CorrLetter, *, replayed: bool = False) -> LetterRecord:
    return LetterRecord(
        id=letter.id,
        account_id=letter.account_id,
        person_id=letter.person_id,
        template=letter.template_id,
        title=letter.title,
        subject=letter.subject,
        fields=dict(letter.fields),
        address=list(letter.address),
        status=letter.status,
        sha256=letter.sha256,
        size=letter.size,
        contact_id=letter.contact_id,
        emailed=letter.email_to is not None,
        source=letter.source,
        created_at=letter.created_at,
        created_by=letter.created_by,
        printed_at=letter.printed_at,
        mailed_at=letter.mailed_at,
        mailed_by=letter.mailed_by,
        replayed=replayed,
    )


@functools.cache
def _templates() -> dict[str, LetterTemplate]:
    return load_templates()


def templates() -> list[LetterTemplate]:
    """Every letter template, by id."""
    return [t for _, t in sorted(_templates().items())]


def template_for(template_id: str) -> LetterTemplate:
    found = _templates().get(template_id)
    if found is None:
        raise LetterError(
            "template", f"unknown template {template_id!r} (known: {', '.join(sorted(_templates()))})"
        )
    return found


class CorrespondenceService:
    """Letters made and kept with the correspondence plugin's context (satisfies ``LetterService``)."""

    def __init__(self, ctx: PluginContext) -> None:
        self.ctx = ctx

    # -- making a letter ---------------------------------------------------------------------------------
    async def send_letter(
        self,
        account_id: str,
        template: str,
        fields: Mapping[str, Any],
        *,
        actor: str,
        idempotency_key: str,
        source: str,
    ) -> LetterRecord:
        """Generate, record and queue a letter once per ``idempotency_key`` (see ``public``)."""
        ctx = self.ctx
        config: CorrespondenceConfig = ctx.config
        key = check_key(idempotency_key, "idempotency_key")
        if len(key) > MAX_KEY:
            raise LetterError("idempotency_key", f"must be at most {MAX_KEY} characters")
        earlier = await self._replay(key, account_id, template)
        if earlier is not None:
            return earlier
        spec = template_for(template)
        try:
            # Free text is redacted before it is printed or stored (ARCHITECTURE §6).
            values = check_fields(
                spec, {k: redact(v) if isinstance(v, str) else v for k, v in fields.items()}
            )
        except FieldError as exc:
            raise LetterError(exc.field, exc.message) from None
        try:
            summary = await ctx.ccb.get_account_summary(account_id)
            person = await ctx.ccb.get_person(summary.main_customer.person_id)
        except NotFound:
            raise LetterError("account_id", f"no account {account_id}", 404) from None

        now = ctx.clock.now()
        day = letter_date(now)
        name = f"{person.first_name} {person.last_name}"
        addr = summary.mailing_address
        address = address_lines(name, addr.line1, addr.line2, addr.city, addr.state, addr.zip)
        builtins = {
            "account_id": account_id,
            "customer_name": " ".join(name.split()),
            "first_name": person.first_name,
            "last_name": person.last_name,
            "letter_date": date_text(day),
            "utility_name": config.utility_name,
        }
        filled = {**builtins, **values}
        letterhead = [config.utility_name, *config.utility_address]
        letterhead += [
            line
            for line in (
                f"Phone {config.utility_phone}" if config.utility_phone else "",
                config.utility_website,
            )
            if line
        ]
        signature = [line for line in (config.signer_name, config.signer_title, config.utility_name) if line]
        content = LetterContent(
            title=spec.title,
            letterhead=letterhead,
            date_line=date_text(day),
            address=address,
            reference=f"Account {account_id}",
            subject=fill_subject(spec, filled),
            greeting=salutation(person.first_name, person.last_name),
            body=fill(spec, filled),
            closing=spec.closing,
            signature=signature,
            created_at=now,
            author=config.utility_name,
        )
        document = render_docx(content)
        digest = hashlib.sha256(document).hexdigest()
        email = (
            person.email if config.email_copy and person.email and ADDRESS.fullmatch(person.email) else None
        )

        try:
            # Recorded on the account first: the CCB is its own system, and its idempotency key makes a
            # retry after a failure below find the same contact instead of adding a second one.
            contact = await ctx.ccb.add_customer_contact(
                p.AddCustomerContact(
                    contact_class=CONTACT_CLASS,
                    contact_type=CONTACT_TYPE,
                    method="letter",
                    account_id=account_id,
                    person_id=person.person_id,
                    log_text=f"Letter queued for mailing: {spec.title} ({content.subject}); "
                    f"sha256 {digest[:16]}",
                ),
                actor=actor,
                idempotency_key=f"corr:{key}",
            )
        except Invalid as exc:
            raise LetterError(exc.field, str(exc)) from None
        except CcbError as exc:
            raise LetterError("ccb", f"the CCB refused the customer contact: {exc}", 502) from None

        try:
            async with ctx.db.session() as session:
                letter = CorrLetter(
                    account_id=account_id,
                    person_id=person.person_id,
                    template_id=spec.id,
                    title=spec.title,
                    subject=content.subject[:200],
                    fields=values,
                    address=address,
                    status=LetterStatus.QUEUED.value,
                    document=document,
                    sha256=digest,
                    size=len(document),
                    contact_id=contact.contact_id,
                    email_to=email,
                    source=source,
                    created_at=now,
                    created_by=actor,
                    idempotency_key=key,
                )
                session.add(letter)
                await session.flush()
                if email is not None:
                    text = plain_text(
                        letterhead,
                        content.date_line,
                        address,
                        content.greeting,
                        content.body,
                        content.closing,
                        signature,
                    )
                    await ctx.mail.queue(
                        session,
                        to=[email],
                        subject=f"{config.utility_name}: {content.subject}"[:200],
                        body=text + "\n\nA printed copy of this letter is being mailed to you.",
                        idempotency_key=f"corr:{key}",
                    )
                ctx.events.emit(
                    session,
                    events.LETTER_CREATED,
                    events.LetterCreated(
                        letter_id=letter.id,
                        account_id=account_id,
                        template=spec.id,
                        status=letter.status,
                        sha256=digest,
                        size=len(document),
                        contact_id=contact.contact_id,
                        emailed=email is not None,
                        source=source,
                        created_at=now,
                        created_by=actor,
                    ),
                    actor=actor,
                )
                await ctx.audit.append(
                    session,
                    actor=actor,
                    action="correspondence.letter.created",
                    target=f"corr_letter:{letter.id}",
                    detail={
                        "account_id": account_id,
                        "template": spec.id,
                        "sha256": digest,
                        "source": source,
                    },
                )
                record = record_of(letter)
        except IntegrityError:
            # The same key committed first in a concurrent request: answer with that letter.
            replayed = await self._replay(key, account_id, template)
            if replayed is None:
                raise
            return replayed
        return record

    async def _replay(self, key: str, account_id: str, template_id: str) -> LetterRecord | None:
        async with self.ctx.db.session() as session:
            earlier = await queries.by_key(session, key)
        if earlier is None:
            return None
        if (earlier.account_id, earlier.template_id) != (account_id, template_id):
            raise LetterError(
                "idempotency_key", f"was used for letter #{earlier.id} to another account or template", 409
            )
        return record_of(earlier, replayed=True)

    # -- reading and mailing -----------------------------------------------------------------------------
    async def load_letter(self, letter_id: int) -> CorrLetter:
        async with self.ctx.db.session() as session:
            found = await queries.get(session, letter_id)
        if found is None:
            raise LetterError("letter_id", f"no letter #{letter_id}", 404)
        return found

    async def get_letter(self, letter_id: int) -> LetterRecord:
        return record_of(await self.load_letter(letter_id))

    async def letter_document(self, letter_id: int) -> bytes:
        return (await self.load_letter(letter_id)).document

    async def list_letters(
        self, *, account_id: str | None = None, status: str | None = None, limit: int = 200
    ) -> list[LetterRecord]:
        async with self.ctx.db.session() as session:
            rows = await queries.recent(session, account_id=account_id, status=status, limit=limit)
            return [record_of(row) for row in rows]

    async def mark_letter(self, letter_id: int, status: str, *, actor: str) -> LetterRecord:
        """Move a letter forward (queued → printed → mailed); the same status again is a no-op."""
        ctx = self.ctx
        try:
            target = LetterStatus(status)
        except ValueError:
            raise LetterError(
                "status", f"must be one of {', '.join(s.value for s in LetterStatus)}"
            ) from None
        now = ctx.clock.now()
        async with ctx.db.session() as session:
            letter = await queries.get(session, letter_id, lock=True)
            if letter is None:
                raise LetterError("letter_id", f"no letter #{letter_id}", 404)
            if letter.status == target:
                return record_of(letter)
            if not can_move(letter.status, target):
                raise LetterError("status", f"letter #{letter_id} is already {letter.status}", 409)
            letter.status = target.value
            if target is LetterStatus.PRINTED:
                letter.printed_at, letter.printed_by = now, actor
            else:
                letter.mailed_at, letter.mailed_by = now, actor
                ctx.events.emit(
                    session,
                    events.LETTER_MAILED,
                    events.LetterMailed(
                        letter_id=letter.id,
                        account_id=letter.account_id,
                        template=letter.template_id,
                        mailed_at=now,
                        mailed_by=actor,
                    ),
                    actor=actor,
                )
            await ctx.audit.append(
                session,
                actor=actor,
                action=f"correspondence.letter.{target.value}",
                target=f"corr_letter:{letter.id}",
                detail={"account_id": letter.account_id},
            )
            return record_of(letter)


def service_of(ctx: PluginContext) -> CorrespondenceService:
    """The plugin's one service, kept as its runtime object (the routes and other plugins share it)."""
    if not isinstance(ctx.runtime, CorrespondenceService):
        ctx.runtime = CorrespondenceService(ctx)
    return ctx.runtime
