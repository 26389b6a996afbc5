"""Card numbers and SSNs out of free text: every note, e-mail and claim is redacted before it is stored."""

from __future__ import annotations

from core.redact import contains_sensitive, luhn_valid, redact

__all__ = ["contains_sensitive", "luhn_valid", "redact"]
