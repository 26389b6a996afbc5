"""Card numbers and SSNs out of free text: one detector, used wherever text is stored, logged or published.

PCI DSS 3.4 / 3.5 (reference docs/rules.md §1.5): a PAN is never stored, logged or sent in clear; only a
masked
PAN keeping the last four digits (``[card ****1111]``). SSNs (docs/rules.md §4.3) are masked whole except the
last four (``[ssn ***-**-6789]``).

The PAN detector (:func:`find_pans`) is the only place that decides what a card number looks like; the
redaction of free text, the input checks, the log filter, the event payload rule and ``ccbhub security
scan`` all call it. A PAN is 13 to 19 digits that pass the Luhn check and start like a payment card (3–6,
or 22–27), written whole or in groups with any separators between them: one or several spaces, ``.``,
``-``, ``/``, ``_``, ``" - "``, mixed. What is not one stays as written: phone numbers (10–11 digits), CCB
ids (10 or 12) and dates are shorter; a window of groups never spans a two-digit group (dates, times,
amounts, expiry dates), a group of nine digits or more, or starts with a 3-3-4 phone number; digits
inside a word belong to it (a hash, a code mixing letters and digits); a number failing Luhn is no card.
"""

from __future__ import annotations

import logging
import re

__all__ = [
    "RedactingLogFilter",
    "contains_pan",
    "contains_sensitive",
    "find_pans",
    "install_log_redaction",
    "luhn_valid",
    "mask_pan",
    "redact",
    "redact_pans",
]

MIN_PAN_DIGITS = 13
MAX_PAN_DIGITS = 19
# What people and systems put between digit groups: spaces (also no-break and thin ones), tabs, dots,
# dashes (also en and em dashes), slashes and underscores; up to three in a row covers "4111 - 1111".
_SEP = "[ \t\u00a0\u2009._/\\-\u2013\u2014]{1,3}"
# A maximal run of digit groups; card numbers are looked for inside it, because a PAN is often followed
# or preceded by more digits ("4111 1111 1111 1111 12/25").
_DIGIT_RUN = re.compile(f"[0-9]+(?:{_SEP}[0-9]+)*")
_GROUP = re.compile("[0-9]+")
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


def _card_prefix(digits: str) -> bool:
    """Whether the number starts like a payment card of a PCI brand (ISO/IEC 7812 industry 3–6, or the
    22–27 ranges of Mir and Mastercard's 2-series).

    The other first digits are airlines (1), petroleum (7), telecoms and health (8), national schemes (9):
    no PCI card, while epoch-millisecond stamps (1…) and compact timestamps (2026…) would pass Luhn one
    time in ten.
    """
    first = digits[0]
    return (first in "3456" or (first == "2" and "2" <= digits[1] <= "7")) and _card_length(digits)


def _card_length(digits: str) -> bool:
    """Whether the length is one the brand of that prefix issues (ISO/IEC 7812 issuers' published ranges).

    CCB's own identifiers are 10, 12 or 14 digits (docs/ccb-domain.md §1.2): a 14-digit id is a card only
    where a brand issues 14 digits (Diners Club, 30/36/38/39), never a 2-series, Visa or Discover number.
    """
    n, two = len(digits), digits[:2]
    if digits[0] == "2":
        return n == 16  # Mastercard 2-series, Mir
    if two in ("34", "37"):
        return n == 15  # American Express
    if digits[0] == "3":
        return 14 <= n <= 19  # Diners Club (30, 36, 38, 39), JCB (35)
    if digits[0] == "4":
        return n in (13, 16, 19)  # Visa
    return 16 <= n <= 19 or (two in ("50", "56", "57", "58") and n >= 13)  # Mastercard, Maestro, Discover


def _has_digit(word: str | None) -> bool:
    return word is not None and any(ch.isdigit() for ch in word)


def _glued_word(text: str, pos: int, step: int) -> str | None:
    """The letters and digits glued to a digit group at ``pos`` (going left with step -1, right with 1),
    or None when a separator, punctuation or the end of the text is there."""
    end = pos
    while 0 <= end < len(text) and text[end].isalnum():
        end += step
    if end == pos:
        return None
    return text[end + 1 : pos + 1] if step < 0 else text[pos:end]


def _pans_in_run(text: str, run_start: int, run_end: int) -> list[tuple[int, int]]:
    groups = [m.span() for m in _GROUP.finditer(text, run_start, run_end)]
    # Digits inside a word belong to it: a hex digest ("deadbeef4111…abcd"), a code mixing letters and
    # digits ("a1b2c4111…"). A card glued to a plain word ("VISA4111111111111111") is still a card.
    left = _glued_word(text, run_start - 1, -1) if run_start > 0 else None
    right = _glued_word(text, run_end, 1)
    if len(groups) == 1:
        if (left is not None and right is not None) or _has_digit(left) or _has_digit(right):
            return []
    else:
        if _has_digit(left):
            groups.pop(0)
        if _has_digit(right):
            groups.pop()
    sizes = [end - start for start, end in groups]
    spans: list[tuple[int, int]] = []
    for i in range(len(groups)):
        # A North American phone number (213-555-1234, 1 213 555 1234) followed by a year or an amount is
        # not a card number; cards are never grouped 3-3-4.
        if sizes[i : i + 3] == [3, 3, 4] or sizes[i : i + 4] == [1, 3, 3, 4]:
            continue
        # Every window of whole groups holding 13–19 digits that passes Luhn is a card number. The windows
        # that overlap are merged below, so a Luhn-valid prefix ("ref 12 4111…") cannot leave the rest of
        # the PAN in clear.
        digits = ""
        for j in range(i, len(groups)):
            # Two-digit groups are how dates, times, amounts and expiry dates are written (2026-12-06,
            # 12/25, 10.50), and groups of 9 digits or more are ids (a CCB account, a phone without
            # separators): a card is written whole or in shorter groups, so a window of several groups
            # never spans one. "1234567890 2026" is no card; "4111 1111 1111 1111 12/25" masks the PAN.
            if j > i and (sizes[i] == 2 or sizes[i] > 8 or sizes[j] == 2 or sizes[j] > 8):
                break
            digits += text[groups[j][0] : groups[j][1]]
            if len(digits) > MAX_PAN_DIGITS:
                break
            if len(digits) >= MIN_PAN_DIGITS and _card_prefix(digits) and luhn_valid(digits):
                spans.append((groups[i][0], groups[j][1]))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def find_pans(text: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` spans of the card numbers in ``text``, in order and not overlapping."""
    if not text:
        return []
    found: list[tuple[int, int]] = []
    for run in _DIGIT_RUN.finditer(text):
        start, end = run.span()
        # Fewer than 13 digits in the whole run cannot hold a card number (most runs: dates, amounts).
        if end - start >= MIN_PAN_DIGITS and sum(ch.isdigit() for ch in run.group(0)) >= MIN_PAN_DIGITS:
            found.extend(_pans_in_run(text, start, end))
    return found


def contains_pan(text: str) -> bool:
    """True when ``text`` holds a card number in any written form."""
    return bool(find_pans(text))


def mask_pan(written: str) -> str:
    """The stored form of a card number: its last four digits only (PCI DSS 3.4.1)."""
    digits = re.sub("[^0-9]", "", written)
    return "[card ****" + digits[-4:] + "]"


def redact_pans(text: str) -> str:
    """Mask the card numbers only (SSN-like patterns stay): for values that are not free text."""
    spans = find_pans(text)
    if not spans:
        return text
    out: list[str] = []
    pos = 0
    for start, end in spans:
        out.append(text[pos:start])
        out.append(mask_pan(text[start:end]))
        pos = end
    out.append(text[pos:])
    return "".join(out)


def redact(text: str) -> str:
    """Mask card numbers (see :func:`find_pans`) and SSN patterns; everything else is left as written."""
    if not text:
        return text
    text = redact_pans(text)
    text = _SSN_GROUPED.sub(lambda m: "[ssn ***-**-" + m.group(4) + "]", text)
    text = _SSN_KEYWORD.sub(lambda m: m.group(1) + m.group(2) + "[ssn ***-**-" + m.group(3)[-4:] + "]", text)
    return text


def contains_sensitive(text: str) -> bool:
    """True when :func:`redact` would change the text."""
    return redact(text) != text


class RedactingLogFilter(logging.Filter):
    """Masks card numbers and SSNs in a log record's message, arguments, traceback and stack.

    The record is rewritten in place (its message formatted once and its arguments dropped) only when
    something had to be masked, so ordinary records keep their arguments for structured handlers.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: the handler reports it, with the arguments it has
            message = None
        if message is not None:
            masked = redact(message)
            if masked != message:
                record.msg = masked
                record.args = ()
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when it is set, so the masked traceback is the one written.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_FILTER = RedactingLogFilter()


def install_log_redaction() -> None:
    """Put the redacting filter on the root logger and on every handler records reach.

    A logger's filters see only records logged on that logger, not those propagated from its children,
    so the filter also goes on the root logger's handlers, on the handlers of already configured loggers
    (granian's) and on the last-resort handler used when no handler is configured. Calling it again after
    adding handlers covers them too.
    """
    root = logging.getLogger()
    handlers: list[logging.Handler] = list(root.handlers)
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger):
            handlers.extend(logger.handlers)
    if logging.lastResort is not None:
        handlers.append(logging.lastResort)
    for target in [root, *handlers]:
        if _FILTER not in target.filters:
            target.addFilter(_FILTER)
