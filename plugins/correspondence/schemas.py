"""Request and response Structs of the correspondence plugin: the letter body, the status change, forms."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from plugins.correspondence.rules import LetterStatus, LetterTemplate

AccountId = Annotated[str, msgspec.Meta(pattern=r"^[0-9]{10}$")]
TemplateId = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


class LetterIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A letter to send: the template, the account, and the template's fields (checked by the template).

    ``idempotency_key`` (or the ``Idempotency-Key`` header) makes a repeat answer with the first letter.
    """

    account_id: AccountId
    template: TemplateId
    fields: dict[str, Any] = {}
    idempotency_key: str | None = None


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


def template_view(t: LetterTemplate) -> TemplateView:
    return TemplateView(
        id=t.id,
        title=t.title,
        description=t.description,
        fields=[
            FieldView(name=f.name, label=f.label, kind=f.kind, required=f.required, choices=list(f.choices))
            for f in t.fields
        ],
    )


class LetterForm(msgspec.Struct, kw_only=True):
    """The fixed part of the letters page's form; the template's own fields come as ``field.<name>``."""

    template: str = ""
    account_id: str = ""
    idempotency_key: str | None = None
    # The caller's contact verified for the account, or a lead's recorded reason (the guard's form inputs).
    contact_id: str | None = None
    reason: str | None = None

    def field_values(self, form: Any, template: TemplateView | None) -> dict[str, str]:
        """The ``field.<name>`` values posted for ``template``'s fields, stripped (blank ones too)."""
        values: dict[str, str] = {}
        for spec in template.fields if template else []:
            raw = form.get(f"field.{spec.name}")
            values[spec.name] = raw.strip() if isinstance(raw, str) else ""
        return values


class StatusForm(msgspec.Struct, kw_only=True):
    """The mail room's buttons: the status to move a letter to (checked by the service)."""

    status: str = ""
