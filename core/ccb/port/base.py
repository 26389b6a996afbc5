"""The base of every CCB port Struct and the small literal types several areas share."""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = ["Model", "ServiceKind", "TenderType"]

ServiceKind = Literal["electric", "water"]
TenderType = Literal["cash", "check", "card"]


class Model(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of every port Struct: immutable, keyword-built, strict when decoded."""
