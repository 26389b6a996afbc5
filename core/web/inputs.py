"""Request bodies into Structs, with errors that name the field: the one place plugins decode JSON input.

The contract (foundation issue, "Bad input"): a body that is not JSON, or empty, is a 400; a well-formed
body that does not fit the Struct is a 422 whose ``extra`` names the field (``[{"key", "message"}]``);
never a 500. Route handlers decode with :func:`decode_json` and raise :class:`InputError` for their own
rule checks, turned into the HTTP answer by ``.http()``.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec
from litestar.exceptions import ClientException, HTTPException

__all__ = ["InputError", "convert", "decode_json", "field_of"]

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
