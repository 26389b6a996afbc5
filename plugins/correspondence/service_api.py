"""The public service of the correspondence plugin: other plugins send letters through it.

A plugin that writes to customers (claims, payment plans, deposits, …) declares
``depends_on=("correspondence",)`` in its manifest and calls, with its own context::

    from plugins.correspondence import service_api

    record = await service_api.send_letter(
        ctx,                                   # the caller's PluginContext (or the hub's Database)
        account_id="1234567890",
        template="claim_decision",
        fields={"claim_number": "CLM-1", "decision": "denied", "explanation": "…"},
        actor="system:claims",                 # who asked, for the audit trail and the CCB contact
        idempotency_key="claims:CLM-1:decision",
    )
    record.id, record.status, record.sha256   # a LetterRecord

``send_letter`` checks the template and fields, reads the account and its main customer from the CCB,
renders the Word document, records a CCB customer contact (NOTIFY/OUTBOUND, method ``letter``) on the
account, stores the letter queued for mailing, queues an e-mail copy when the customer has an address and
the plugin is configured to, and publishes ``hub.correspondence.letter.created``. Repeating the call with
the same ``idempotency_key`` returns the first letter (``replayed=True``) and changes nothing, so a caller
can retry after a crash; reusing a key for another account or template is refused (409).

Errors are :class:`LetterError` with the field at fault and an HTTP-like status: 422 (unknown template,
missing or malformed field), 404 (unknown account or letter), 409 (key reuse, status moving back), 503 (the
correspondence plugin is not running in this hub). Other functions: :func:`get_letter`,
:func:`letter_document` (the .docx bytes), :func:`mark_letter` (printed / mailed), :func:`templates`.

Why a context and not a session: the letter is written with the correspondence plugin's own context (its
config, event writer and mailer — a plugin may publish only its own subjects), which the plugin registers
for the hub's database while it runs; the caller's context only says which hub it belongs to. The letter
commits in its own transaction, after the CCB contact, because the CCB is a separate system in production.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer

from core.ccb.errors import CcbError, Invalid, NotFound
from core.ccb.port import AddCustomerContact
from core.mail import ADDRESS
from core.redact import redact
from plugins.correspondence import events
from plugins.correspondence.models import CorrLetter, by_key
from plugins.correspondence.render import LetterContent, render_docx
from plugins.correspondence.service import (
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

if TYPE_CHECKING:
    from core.contract import PluginContext
    from core.db import Database

__all__ = [
    "LetterError",
    "LetterRecord",
    "get_letter",
    "letter_document",
    "mark_letter",
    "send_letter",
    "templates",
]

KEY_PATTERN = r"^[A-Za-z0-9._:-]{8,80}$"
IdempotencyKey = Annotated[str, msgspec.Meta(pattern=KEY_PATTERN)]
# The CCB records letters as outbound notifications (ccb-domain §1.12), method "letter".
CONTACT_CLASS, CONTACT_TYPE = "NOTIFY", "OUTBOUND"

# The running correspondence context of each hub, found through the database every context shares.
_RUNNING: weakref.WeakKeyDictionary[Database, PluginContext] = weakref.WeakKeyDictionary()


class LetterError(Exception):
    """A request the service refuses, naming the field at fault; ``status_code`` is the HTTP answer."""

    def __init__(self, field: str, message: str, status_code: int = 422) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.status_code = status_code


class LetterRecord(msgspec.Struct, frozen=True, kw_only=True):
    """A letter as callers see it (without the document; fetch that with :func:`letter_document`)."""

    id: int
    account_id: str
    person_id: str | None
    template: str
    title: str
    subject: str
    fields: dict[str, str]
    address: list[str]
    status: str
    sha256: str
    size: int
    contact_id: str | None
    emailed: bool
    source: str
    created_at: dt.datetime
    created_by: str
    printed_at: dt.datetime | None
    mailed_at: dt.datetime | None
    mailed_by: str | None
    replayed: bool = False


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


# -- registration ----------------------------------------------------------------------------------------
def register(ctx: PluginContext) -> None:
    """Called by the plugin's lifespan: from now on other plugins of this hub reach this context."""
    _RUNNING[ctx.db] = ctx


def unregister(ctx: PluginContext) -> None:
    if _RUNNING.get(ctx.db) is ctx:
        del _RUNNING[ctx.db]


def _own(caller: PluginContext | Database) -> PluginContext:
    db = getattr(caller, "db", caller)
    found = _RUNNING.get(db)  # type: ignore[arg-type]
    if found is None:
        raise LetterError("correspondence", "the correspondence plugin is not running in this hub", 503)
    return found


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


# -- sending ---------------------------------------------------------------------------------------------
async def send_letter(
    caller: PluginContext | Database,
    account_id: str,
    template: str,
    fields: Mapping[str, Any],
    *,
    actor: str,
    idempotency_key: str,
) -> LetterRecord:
    """Generate, record and queue a letter once per ``idempotency_key`` (see the module docstring)."""
    ctx = _own(caller)
    source = getattr(caller, "plugin_id", ctx.plugin_id)
    return await create_letter(
        ctx, account_id, template, fields, actor=actor, idempotency_key=idempotency_key, source=source
    )


def _check_key(key: str) -> str:
    try:
        return msgspec.convert(key, IdempotencyKey)
    except msgspec.ValidationError:
        raise LetterError(
            "idempotency_key", "must be 8-80 characters of letters, digits and . _ : -"
        ) from None


async def _replay(ctx: PluginContext, key: str, account_id: str, template_id: str) -> LetterRecord | None:
    async with ctx.db.session() as session:
        earlier = await by_key(session, key)
    if earlier is None:
        return None
    if (earlier.account_id, earlier.template_id) != (account_id, template_id):
        raise LetterError(
            "idempotency_key", f"was used for letter #{earlier.id} to another account or template", 409
        )
    return record_of(earlier, replayed=True)


async def create_letter(
    ctx: PluginContext,
    account_id: str,
    template_id: str,
    fields: Mapping[str, Any],
    *,
    actor: str,
    idempotency_key: str,
    source: str,
) -> LetterRecord:
    """The work behind :func:`send_letter`, for a context known to be the plugin's own (its API routes)."""
    config: CorrespondenceConfig = ctx.config
    key = _check_key(idempotency_key)
    earlier = await _replay(ctx, key, account_id, template_id)
    if earlier is not None:
        return earlier
    template = template_for(template_id)
    try:
        # Free text is redacted before it is printed or stored (ARCHITECTURE §6).
        values = check_fields(
            template, {k: redact(v) if isinstance(v, str) else v for k, v in fields.items()}
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
        for line in (f"Phone {config.utility_phone}" if config.utility_phone else "", config.utility_website)
        if line
    ]
    signature = [line for line in (config.signer_name, config.signer_title, config.utility_name) if line]
    content = LetterContent(
        title=template.title,
        letterhead=letterhead,
        date_line=date_text(day),
        address=address,
        reference=f"Account {account_id}",
        subject=fill_subject(template, filled),
        greeting=salutation(person.first_name, person.last_name),
        body=fill(template, filled),
        closing=template.closing,
        signature=signature,
        created_at=now,
        author=config.utility_name,
    )
    document = render_docx(content)
    digest = hashlib.sha256(document).hexdigest()
    email = person.email if config.email_copy and person.email and ADDRESS.fullmatch(person.email) else None

    try:
        # Recorded on the account first: the CCB is its own system, and its idempotency key makes a retry
        # after a failure below find the same contact instead of adding a second one.
        contact = await ctx.ccb.add_customer_contact(
            AddCustomerContact(
                contact_class=CONTACT_CLASS,
                contact_type=CONTACT_TYPE,
                method="letter",
                account_id=account_id,
                person_id=person.person_id,
                log_text=f"Letter queued for mailing: {template.title} ({content.subject}); "
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
                template_id=template.id,
                title=template.title,
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
                    template=template.id,
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
                    "template": template.id,
                    "sha256": digest,
                    "source": source,
                },
            )
            record = record_of(letter)
    except IntegrityError:
        # The same key committed first in a concurrent request: answer with that letter.
        replayed = await _replay(ctx, key, account_id, template_id)
        if replayed is None:
            raise
        return replayed
    return record


# -- reading and mailing ---------------------------------------------------------------------------------
async def load_letter(ctx: PluginContext, letter_id: int) -> CorrLetter:
    async with ctx.db.session() as session:
        found = await session.get(CorrLetter, letter_id)
    if found is None:
        raise LetterError("letter_id", f"no letter #{letter_id}", 404)
    return found


async def get_letter(caller: PluginContext | Database, letter_id: int) -> LetterRecord:
    return record_of(await load_letter(_own(caller), letter_id))


async def letter_document(caller: PluginContext | Database, letter_id: int) -> bytes:
    """The letter's Word document exactly as generated."""
    return (await load_letter(_own(caller), letter_id)).document


async def mark_letter(
    caller: PluginContext | Database, letter_id: int, status: str, *, actor: str
) -> LetterRecord:
    """Move a letter forward (queued → printed → mailed); the same status again is a no-op."""
    return await move_letter(_own(caller), letter_id, status, actor=actor)


async def move_letter(ctx: PluginContext, letter_id: int, status: str, *, actor: str) -> LetterRecord:
    try:
        target = LetterStatus(status)
    except ValueError:
        raise LetterError("status", f"must be one of {', '.join(s.value for s in LetterStatus)}") from None
    now = ctx.clock.now()
    async with ctx.db.session() as session:
        letter = await session.get(CorrLetter, letter_id, with_for_update=True)
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


async def list_letters(
    ctx: PluginContext, *, account_id: str | None = None, status: str | None = None, limit: int = 200
) -> list[LetterRecord]:
    async with ctx.db.session() as session:
        # The documents stay in the database until one is asked for.
        query = (
            select(CorrLetter).options(defer(CorrLetter.document)).order_by(CorrLetter.id.desc()).limit(limit)
        )
        if account_id is not None:
            query = query.where(CorrLetter.account_id == account_id)
        if status is not None:
            query = query.where(CorrLetter.status == status)
        return [record_of(row) for row in await session.scalars(query)]
