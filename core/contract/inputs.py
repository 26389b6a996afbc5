"""Request bodies into Structs, with errors that name the field: the one place input is decoded.

The contract (foundation issue, "Bad input"): a body that is not JSON, or empty, is a 400; a well-formed
body that does not fit the Struct is a 422 whose ``extra`` names the field (``[{"key", "message"}]``);
never a 500.

* JSON: a handler declares ``data: SomeStruct`` and Litestar decodes it with msgspec; the app's one
  validation handler (:func:`body_error`) turns a misfit into that 422 with the full field path.
* Forms: HTML forms post strings, unticked boxes post nothing, a multi-select posts one value or many,
  and staff type money as dollars. :func:`decode_form` reads a posted form into a Struct with those rules
  (see :data:`DOLLARS`), so no plugin writes its own ``_text``/``_int``/``_cents`` helpers.
* A handler's own rule checks raise :class:`InputError`, which the app answers as a 4xx naming the field.
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar

import msgspec
from litestar.exceptions import ClientException, HTTPException

__all__ = [
    "DOLLARS",
    "Cents",
    "InputError",
    "convert",
    "decode_form",
    "decode_json",
    "dollars_to_cents",
    "field_of",
]

T = TypeVar("T")

_MISSING_OR_UNKNOWN = re.compile(r"(?:missing required|unknown) field `([^`]+)`")
_AT_PATH = re.compile(r" - at `\$\.?([^`]*)`")


class InputError(Exception):
    """Bad input naming the field at fault; 422 unless a status says otherwise (403, 404, 409, 502…)."""

    def __init__(self, field: str, message: str, status_code: int = 422) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.status_code = status_code

    def http(self) -> HTTPException:
        detail = str(self)
        # A 4xx is the client's to fix; an upstream failure (502) is not a ClientException.
        kind = ClientException if self.status_code < 500 else HTTPException
        return kind(
            status_code=self.status_code, detail=detail, extra=[{"key": self.field, "message": detail}]
        )


def field_of(error: msgspec.ValidationError) -> str:
    """The field a msgspec error is about, as a path: ``cause``, ``zips[0]``, ``terms.installments``."""
    message = str(error)
    at = _AT_PATH.search(message)
    path = at.group(1) if at else ""
    named = _MISSING_OR_UNKNOWN.search(message)
    if named:
        return f"{path}.{named.group(1)}" if path else named.group(1)
    return path or "body"


def convert(raw: Any, type_: type[T]) -> T:
    """Already-parsed data (form fields, a JSON part) into ``type_``; a misfit is an :class:`InputError`."""
    try:
        return msgspec.convert(raw, type_)
    except msgspec.ValidationError as exc:
        raise InputError(field_of(exc), str(exc).split(" - at ")[0]) from None


def decode_json(raw: bytes, type_: type[T]) -> T:
    """Malformed or empty JSON → 400; a body that does not fit the Struct → 422 naming the field."""
    if not raw.strip():
        raise ClientException(status_code=400, detail="body: a JSON object is required")
    try:
        return msgspec.json.decode(raw, type=type_)
    except msgspec.ValidationError as exc:
        raise InputError(field_of(exc), str(exc).split(" - at ")[0]).http() from None
    except msgspec.DecodeError as exc:
        raise ClientException(status_code=400, detail=f"body: malformed JSON ({exc})") from None


class _DollarsMarker:
    """Marks an ``int`` field of cents that staff type in dollars on a form ("$1,234.50" → 123450)."""

    def __repr__(self) -> str:
        return "DOLLARS"


DOLLARS = _DollarsMarker()
# An amount of money typed in dollars on a form and kept as integer cents (ARCHITECTURE §5: money is cents).
Cents = Annotated[int, msgspec.Meta(ge=0, le=100_000_000_00), DOLLARS]

_MONEY = re.compile(r"^\$?\s*(-?)\s*\$?\s*([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)?(?:\.([0-9]{1,2}))?$")
_TRUE = frozenset({"on", "true", "1", "yes"})
_FALSE = frozenset({"off", "false", "0", "no"})


def dollars_to_cents(text: str) -> int:
    """ "1,234.5", "$12", "0.07" → cents; anything else (three decimals, letters) is a ``ValueError``."""
    found = _MONEY.match(text.strip())
    if found is None or (found.group(2) is None and found.group(3) is None):
        raise ValueError("must be an amount in dollars, like 45.00")
    sign, whole, frac = found.groups()
    try:
        amount = Decimal((whole or "0").replace(",", "") + "." + (frac or "0"))
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        raise ValueError("must be an amount in dollars, like 45.00") from None
    cents = int(amount * 100)
    return -cents if sign else cents


def _unwrap(tp: Any) -> tuple[Any, tuple[Any, ...]]:
    """The type under ``Annotated`` and ``X | None``, with the Annotated extras."""
    extras: tuple[Any, ...] = ()
    if typing.get_origin(tp) is Annotated:
        tp, *rest = typing.get_args(tp)
        extras = tuple(rest)
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if typing.get_origin(tp) in (typing.Union, types.UnionType) and len(args) == 1:
        inner, more = _unwrap(args[0])
        return inner, extras + more
    return tp, extras


def _values(form: Any, name: str) -> list[str]:
    if hasattr(form, "getall"):
        found = form.getall(name, [])
    else:
        raw = form.get(name) if isinstance(form, Mapping) else None
        found = raw if isinstance(raw, list) else ([] if raw is None else [raw])
    return [v for v in found if isinstance(v, str)]


def decode_form(form: Any, type_: type[T], *, ignore: Iterable[str] = ("_csrf_token",)) -> T:
    """A posted form (Litestar's ``FormMultiDict`` or a plain mapping) into ``type_``.

    Rules: text is stripped and a blank field counts as absent (its default applies, or it is "missing");
    a list field takes every value posted under its name; a bool field is true for a ticked box ("on") and
    false when absent; an ``int`` marked :data:`DOLLARS` reads dollars into cents. Fields the Struct does
    not know are ignored unless it forbids unknown fields. A misfit is an :class:`InputError` naming it.
    """
    data: dict[str, Any] = {}
    skipped = set(ignore)
    fields = {f.encode_name: f for f in msgspec.structs.fields(type_)}  # type: ignore[arg-type]
    for name, field in fields.items():
        inner, extras = _unwrap(field.type)
        values = [v.strip() for v in _values(form, name)]
        origin = typing.get_origin(inner) or inner
        if origin in (list, tuple, set, frozenset):
            data[name] = [v for v in values if v]
            if not data[name] and field.required is False:
                del data[name]
            continue
        present = [v for v in values if v]
        if inner is bool:
            if present:
                lowered = present[-1].lower()
                if lowered not in _TRUE | _FALSE:
                    raise InputError(name, "must be ticked or not")
                data[name] = lowered in _TRUE
            elif not field.required:
                data[name] = False
            continue
        if not present:
            continue
        value = present[-1]
        if DOLLARS in extras:
            try:
                data[name] = dollars_to_cents(value)
            except ValueError as exc:
                raise InputError(name, str(exc)) from None
            continue
        data[name] = value
    config = getattr(type_, "__struct_config__", None)
    if config is not None and config.forbid_unknown_fields:
        for name in _names(form):
            if name not in fields and name not in skipped:
                raise InputError(name, "is not a field of this form")
    try:
        return msgspec.convert(data, type_, strict=False)
    except msgspec.ValidationError as exc:
        raise InputError(field_of(exc), str(exc).split(" - at ")[0]) from None


def _names(form: Any) -> list[str]:
    if hasattr(form, "multi_items"):
        return [k for k, _ in form.multi_items()]
    return list(form) if isinstance(form, Mapping) else []
