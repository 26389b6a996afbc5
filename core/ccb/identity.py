"""Keyed hashes of the identity factors (access code, SSN last four) and their validation rules.

docs/rules.md §4.3: SSN-last-4 has only 10,000 values, so a plain or salted hash is brute-forced offline in an
instant; the stored value is an HMAC-SHA-256 under a secret key kept outside the database, bound to the
person id so equal codes of two people do not hash alike. Comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import Literal

from core.ccb.errors import Invalid

__all__ = [
    "IdentityMethod",
    "check_access_code",
    "check_ssn_last4",
    "identity_hash",
    "matches",
    "normalize_phone",
]

IdentityMethod = Literal["access_code", "ssn_last4"]

# Codes a customer may not choose (docs/rules.md §4.2: reject trivial codes).
_TRIVIAL = {"123456", "654321", "012345", "123123", "111222", "121212"}


def identity_hash(key: bytes, method: IdentityMethod, person_id: str, value: str) -> str:
    """HMAC-SHA-256(key, method | person id | value) as hex."""
    message = f"{method}|{person_id}|{value}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def matches(key: bytes, method: IdentityMethod, person_id: str, value: str, stored: str | None) -> bool:
    """Whether ``value`` hashes to ``stored``; always computes the hash so timing says nothing."""
    candidate = identity_hash(key, method, person_id, value)
    return stored is not None and hmac.compare_digest(candidate, stored)


def check_ssn_last4(value: str) -> str:
    digits = value.strip()
    if not re.fullmatch(r"\d{4}", digits):
        raise Invalid("ssn_last4", "must be exactly four digits")
    return digits


def check_access_code(value: str, *, phone: str | None = None) -> str:
    """An access code is 6-10 digits, not trivial, not the end of the phone number (docs/rules.md §4.2)."""
    code = value.strip()
    if not re.fullmatch(r"\d{6,10}", code):
        raise Invalid("access_code", "must be 6 to 10 digits")
    if len(set(code)) == 1 or code in _TRIVIAL:
        raise Invalid("access_code", "is too easy to guess")
    if phone and normalize_phone(phone).endswith(code):
        raise Invalid("access_code", "must not be the last digits of the phone number")
    return code


def normalize_phone(phone: str) -> str:
    """The 10 digits of a North American number (a leading country code 1 is dropped)."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) != 10:
        raise Invalid("phone", "must be a 10-digit phone number")
    return digits
