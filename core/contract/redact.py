"""Card numbers and SSNs out of free text: every note, e-mail and claim is redacted before it is stored.

:func:`find_pans` is the hub's one card-number detector (13–19 Luhn-valid digits, with any separators);
plugins use :func:`redact` on free text and :func:`contains_pan` to refuse a card number in an input.
"""

from __future__ import annotations

from core.redact import contains_pan, contains_sensitive, find_pans, luhn_valid, mask_pan, redact

__all__ = ["contains_pan", "contains_sensitive", "find_pans", "luhn_valid", "mask_pan", "redact"]
