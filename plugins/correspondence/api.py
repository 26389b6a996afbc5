"""HTTP side of the correspondence plugin: JSON routes under /api/correspondence, the letters page under /ui.

Routes decode their bodies themselves so that malformed JSON answers 400 and a well-formed body with a bad
field answers 422 naming it (``template``, ``fields.refund_amount``); an unknown account or letter is 404.
The work itself lives in :mod:`plugins.correspondence.service_api`, shared with other plugins.

``GET /letters/{id}.docx`` serves the document; the framework's router cannot match a parameter followed by a
suffix in one segment, so one route takes ``{ref}`` and answers JSON for ``12`` and the document for
``12.docx``.

The letters page generates a letter from a template and an account with the same checks as the JSON route
(``LetterIn``), then offers its .docx at /ui/correspondence/letters/{id}.docx for the signed-in user.
Page forms post back to /ui and opt out of the framework's CSRF middleware: they check the double-submit
token themselves after the access guard, so an anonymous post goes to the login page instead of a 403.
"""

from __future__ import annotations

import hmac
import re
import secrets
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.exceptions import ClientException, PermissionDeniedException
from litestar.middleware.csrf import CSRF_SECRET_LENGTH, generate_csrf_hash
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect
from litestar.utils.scope.state import ScopeState

from core.contract import PageSpec, PluginContext
from core.contract.inputs import decode_json, field_of
from core.security import current_staff
from core.web.pages import render
from plugins.correspondence import service_api
from plugins.correspondence.render import DOCX_MEDIA_TYPE
from plugins.correspondence.service import LetterStatus
from plugins.correspondence.service_api import KEY_PATTERN, LetterError, LetterRecord

# Who may do what: any staff of an enabled section reads; customer-facing staff send letters; the people
# who run the mail room (leads, supervisors, admins) mark letters printed and mailed.
STAFF = {"access": "staff"}
WRITER = {"roles": ["csr", "lead", "supervisor", "cro", "admin"]}
MAILER = {"roles": ["lead", "supervisor", "admin"]}
FORM = {"exclude_from_csrf": True}

AccountId = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{10}$")]
TemplateId = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class LetterIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A letter to send: the template, the account, and the template's fields (checked by the template)."""

    account_id: AccountId
    template: TemplateId
    fields: dict[str, Any] = {}
    idempotency_key: Annotated[str, msgspec.Meta(pattern=KEY_PATTERN)] | None = None


class StatusIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    status: LetterStatus


class FieldView(msgspec.Struct, kw_only=True):
    name: str
    label: str
    kind: str
    required: bool
    choices: list[str]


class TemplateView(msgspec.Struct, kw_only=True):
    id: str
    title: str
    description: str
    fields: list[FieldView]


def _http(exc: LetterError) -> ClientException:
    detail = str(exc)
    return ClientException(
        status_code=exc.status_code, detail=detail, extra=[{"key": exc.field, "message": detail}]
    )


def template_views() -> list[TemplateView]:
    return [
        TemplateView(
            id=t.id,
            title=t.title,
            description=t.description,
            fields=[
                FieldView(
                    name=f.name, label=f.label, kind=f.kind, required=f.required, choices=list(f.choices)
                )
                for f in t.fields
            ],
        )
        for t in service_api.templates()
    ]


async def letter_response(ctx: PluginContext, ref: str, *, document_only: bool = False) -> Response[Any]:
    """``12`` → the letter as JSON, ``12.docx`` → its Word document; anything else a 404 LetterError."""
    match = re.fullmatch(r"([0-9]{1,12})(\.docx)?", ref)
    if match is None or (document_only and not match.group(2)):
        raise LetterError("letter_id", f"no letter {ref!r}", 404)
    letter = await service_api.load_letter(ctx, int(match.group(1)))
    record = service_api.record_of(letter)
    if match.group(2):
        return _docx_response(record, letter.document)
    return Response(record)


def _docx_response(record: LetterRecord, document: bytes) -> Response[bytes]:
    return Response(
        document,
        media_type=DOCX_MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="letter-{record.id}-{record.template}.docx"',
            "ETag": f'"{record.sha256}"',
        },
    )


# -- JSON routes -----------------------------------------------------------------------------------------
def routes(ctx: PluginContext) -> list[Any]:
    @get("/templates", opt=STAFF, summary="Letter templates and the fields each needs")
    async def list_templates() -> list[TemplateView]:
        return template_views()

    @post("/letters", opt=WRITER, summary="Generate a letter, record it on the account and queue it")
    async def create_letter(request: Request[Any, Any, Any]) -> Response[LetterRecord]:
        """Body: ``LetterIn``. Idempotent on ``idempotency_key`` (or the ``Idempotency-Key`` header): a repeat
        answers 200 with the first letter and ``replayed: true``."""
        data: LetterIn = decode_json(await request.body(), LetterIn)
        header = request.headers.get("idempotency-key")
        if header is not None and data.idempotency_key not in (None, header):
            raise _http(LetterError("idempotency_key", "differs from the Idempotency-Key header"))
        # Without a key every request is a new letter; the generated key only fills the unique column.
        key = header or data.idempotency_key or f"api:{secrets.token_urlsafe(24)}"
        try:
            record = await service_api.create_letter(
                ctx,
                data.account_id,
                data.template,
                data.fields,
                actor=current_staff(request).actor,
                idempotency_key=key,
                source="api",
            )
        except LetterError as exc:
            raise _http(exc) from None
        return Response(record, status_code=200 if record.replayed else 201)

    @get("/letters", opt=STAFF, summary="Letters, newest first")
    async def list_letters(
        account_id: Annotated[str | None, QueryParameter()] = None,
        status: Annotated[LetterStatus | None, QueryParameter()] = None,
    ) -> list[LetterRecord]:
        return await service_api.list_letters(
            ctx, account_id=account_id, status=status.value if status else None
        )

    @get("/letters/{ref:str}", opt=STAFF, summary="One letter (JSON), or its Word document with .docx")
    async def get_letter(ref: FromPath[str]) -> Response[Any]:
        try:
            return await letter_response(ctx, ref)
        except LetterError as exc:
            raise _http(exc) from None

    @post("/letters/{letter_id:int}/status", opt=MAILER, status_code=200, summary="Mark printed or mailed")
    async def set_status(request: Request[Any, Any, Any], letter_id: FromPath[int]) -> LetterRecord:
        data: StatusIn = decode_json(await request.body(), StatusIn)
        try:
            return await service_api.move_letter(
                ctx, letter_id, data.status.value, actor=current_staff(request).actor
            )
        except LetterError as exc:
            raise _http(exc) from None

    return [list_templates, create_letter, list_letters, get_letter, set_status]


# -- pages -----------------------------------------------------------------------------------------------
def _signed_secret(token: str, key: str) -> str | None:
    """The random half of a CSRF token, when the other half is its valid signature under ``key``."""
    if len(token) <= CSRF_SECRET_LENGTH:
        return None
    secret, signature = token[:CSRF_SECRET_LENGTH], token[CSRF_SECRET_LENGTH:]
    return secret if hmac.compare_digest(signature, generate_csrf_hash(secret, key)) else None


async def verified_form(request: Request[Any, Any, Any]) -> Any:
    """The posted form once the form's token and the cookie carry the same signed secret."""
    config = request.app.csrf_config
    if config is None:  # pragma: no cover - the hub always configures CSRF
        raise PermissionDeniedException("CSRF protection is not configured")
    form = await request.form()
    sent = request.headers.get(config.header_name) or form.get("_csrf_token")
    cookie = request.cookies.get(config.cookie_name)
    ours = _signed_secret(sent, config.secret) if isinstance(sent, str) else None
    theirs = _signed_secret(cookie, config.secret) if cookie else None
    if ours is None or theirs is None or not hmac.compare_digest(ours, theirs):
        raise PermissionDeniedException("CSRF token verification failed")
    assert isinstance(sent, str)  # a token that is not a string failed the check above
    # The route skips the CSRF middleware, so a page re-rendered with an error gets its forms' token here.
    ScopeState.from_scope(request.scope).csrf_token = sent
    return form


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def pages(ctx: PluginContext) -> list[PageSpec]:
    """Letters: pick a template and an account, generate the letter, download its .docx; the mail room
    marks letters printed and mailed."""

    async def letters_page(
        request: Request[Any, Any, Any],
        *,
        status_code: int = 200,
        error: str | None = None,
        values: dict[str, str] | None = None,
        created: LetterRecord | None = None,
    ) -> Response[Any]:
        staff = current_staff(request)
        return render(
            request,
            "correspondence/letters.html",
            status_code=status_code,
            letters=await service_api.list_letters(ctx, limit=100),
            templates=template_views(),
            can_send=staff.role.value in WRITER["roles"],
            can_mail=staff.role.value in MAILER["roles"],
            error=error,
            values=values or {},
            created=created,
            # A fresh key per rendered form: submitting it twice makes one letter.
            form_key=f"form:{secrets.token_urlsafe(18)}",
        )

    @get("/", opt=STAFF)
    async def index(
        request: Request[Any, Any, Any],
        created: Annotated[str | None, QueryParameter()] = None,
        account_id: Annotated[str | None, QueryParameter()] = None,
    ) -> Response[Any]:
        made = None
        if created and created.isdigit():
            try:
                made = service_api.record_of(await service_api.load_letter(ctx, int(created)))
            except LetterError:
                made = None
        return await letters_page(request, created=made, values={"account_id": account_id or ""})

    @post("/letters", opt={**WRITER, **FORM})
    async def create_form(request: Request[Any, Any, Any]) -> Response[Any]:
        form = await verified_form(request)
        template = _text(form, "template")
        values = {"template": template, "account_id": _text(form, "account_id")}
        fields: dict[str, Any] = {}
        # Form values are strings; money and counts are typed as whole numbers on the form.
        for spec in next((t.fields for t in template_views() if t.id == template), []):
            value = _text(form, f"field.{spec.name}")
            values[f"field.{spec.name}"] = value
            if value:
                fields[spec.name] = (
                    int(value) if spec.kind in ("money", "count") and value.isdigit() else value
                )
        key = _text(form, "idempotency_key") or f"form:{secrets.token_urlsafe(18)}"
        try:
            # The same body the JSON route takes, so the account and template are checked the same way.
            data = msgspec.convert(
                {"account_id": values["account_id"], "template": template, "fields": fields}, LetterIn
            )
            record = await service_api.create_letter(
                ctx,
                data.account_id,
                data.template,
                data.fields,
                actor=current_staff(request).actor,
                idempotency_key=key,
                source="page",
            )
        except msgspec.ValidationError as exc:
            error = f"{field_of(exc)}: {str(exc).split(' - at ')[0]}"
            return await letters_page(request, status_code=422, error=error, values=values)
        except LetterError as exc:
            return await letters_page(request, status_code=exc.status_code, error=str(exc), values=values)
        return Redirect(f"/ui/correspondence/?created={record.id}", status_code=303)

    @get("/letters/{ref:str}", opt=STAFF)
    async def document(request: Request[Any, Any, Any], ref: FromPath[str]) -> Response[Any]:
        """``/ui/correspondence/letters/12.docx``: the Word document, for staff signed in to the web UI."""
        try:
            return await letter_response(ctx, ref, document_only=True)
        except LetterError as exc:
            return await letters_page(request, status_code=exc.status_code, error=str(exc))

    @post("/letters/{letter_id:int}/status", opt={**MAILER, **FORM})
    async def status_form(request: Request[Any, Any, Any], letter_id: FromPath[int]) -> Response[Any]:
        form = await verified_form(request)
        try:
            await service_api.move_letter(
                ctx, letter_id, _text(form, "status"), actor=current_staff(request).actor
            )
        except LetterError as exc:
            return await letters_page(request, status_code=exc.status_code, error=str(exc))
        return Redirect("/ui/correspondence/", status_code=303)

    return [
        PageSpec(handler=index, nav_title="Letters"),
        PageSpec(handler=create_form),
        PageSpec(handler=document),
        PageSpec(handler=status_form),
    ]
