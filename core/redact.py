"""Redaction of card numbers and SSNs in free text, applied before any text is stored, logged or published.

PCI DSS (reference rules.md §1.5): only a masked PAN may ever be stored; we keep the last four digits.
SSNs (rules.md §4.3) are masked whole except the last four.
"""

from __future__ import annotations

import re

# A maximal run of digit groups joined by single spaces or hyphens; card numbers are looked for inside it,
# because a PAN is often followed by more digits ("4111 1111 1111 1111 12/25").
_DIGIT_RUN = re.compile(r"\d+(?:[ -]\d+)*")
# 123-45-6789 or 123 45 6789; a bare 9-digit run is also masked when preceded by an SSN keyword.
_SSN_GROUPED = re.compile(r"(?<!\d)(\d{3})([- ])(\d{2})\2(\d{4})(?!\d)")
_SSN_KEYWORD = re.compile(r"(?i)\b(ssn|social security(?: number| no\.?| #)?|ss#)(\s*[:#]?\s*)(\d{9})(?!\d)")


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check every payment card number satisfies."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _mask_run(match: re.Match[str]) -> str:
    run = match.group(0)
    if sum(ch.isdigit() for ch in run) < 13:
        return run
    groups = [(m.start(), m.end()) for m in re.finditer(r"\d+", run)]
    out: list[str] = []
    pos = 0
    i = 0
    while i < len(groups):
        # Longest span of whole groups starting here that is a Luhn-valid 13–19 digit number.
        found = None
        for j in range(len(groups) - 1, i - 1, -1):
            start, end = groups[i][0], groups[j][1]
            digits = re.sub(r"\D", "", run[start:end])
            if 13 <= len(digits) <= 19 and luhn_valid(digits):
                found = (j, start, end, digits)
                break
        if found is None:
            i += 1
            continue
        j, start, end, digits = found
        out.append(run[pos:start])
        out.append("[card ****" + digits[-4:] + "]")
        pos = end
        i = j + 1
    out.append(run[pos:])
    return "".join(out)


def redact(text: str) -> str:
    """Mask Luhn-valid 13–19-digit card numbers and SSN patterns; everything else is left as written."""
    if not text:
        return text
    text = _DIGIT_RUN.sub(_mask_run, text)
    text = _SSN_GROUPED.sub(lambda m: "[ssn ***-**-" + m.group(4) + "]", text)
    text = _SSN_KEYWORD.sub(lambda m: m.group(1) + m.group(2) + "[ssn ***-**-" + m.group(3)[-4:] + "]", text)
    return text


def contains_sensitive(text: str) -> bool:
    """True when :func:`redact` would change the text."""
    return redact(text) != text
