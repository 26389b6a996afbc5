"""Pure correspondence rules: the config, letter templates as data, field checks, filling and addresses.

Nothing here touches HTTP, the bus, the CCB or the database, so every rule is unit-tested on plain values.

A letter template is a strict :class:`LetterTemplate` read from a TOML file in ``letters/``: its fields (each
with a kind that says how a value is checked and printed) and its body paragraphs with ``{placeholders}``.
A placeholder names a declared field or a built-in (:data:`BUILTINS`), never an attribute or an index, so a
template can print values but never reach into objects. A paragraph that names an optional field with no
value is left out, which is how one template covers "approved, with an amount" and "denied".
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import string
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import msgspec

# Letters are dated in the utility's zone (ARCHITECTURE §5); times are stored in UTC.
LOCAL_TZ = ZoneInfo("America/Los_Angeles")
LETTERS_DIR = Path(__file__).parent / "templates" / "letters"
TEMPLATE_ID = r"^[a-z][a-z0-9_]{1,39}$"
FIELD_NAME = r"^[a-z][a-z0-9_]{0,39}$"
# Filled in by the plugin for every letter; a template may use them without declaring them.
BUILTINS = frozenset(
    {"account_id", "customer_name", "first_name", "last_name", "letter_date", "utility_name"}
)
MAX_TEXT = 2000


class LetterStatus(enum.StrEnum):
    """Where a letter is on its way to the customer: queued → printed → mailed (printing may be skipped)."""

    QUEUED = "queued"
    PRINTED = "printed"
    MAILED = "mailed"


# The order a letter moves in; a step back is refused.
_STATUS_ORDER = {LetterStatus.QUEUED: 0, LetterStatus.PRINTED: 1, LetterStatus.MAILED: 2}


class CorrespondenceConfig(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """The plugin's settings; every default works (the contract suite converts ``{}``)."""

    # The letterhead: who the letter is from.
    utility_name: Annotated[str, msgspec.Meta(min_length=1, max_length=120)] = "City Water & Power"
    utility_address: Annotated[
        list[Annotated[str, msgspec.Meta(max_length=120)]], msgspec.Meta(max_length=4)
    ] = msgspec.field(default_factory=lambda: ["111 N Hope St", "Los Angeles, CA 90012"])
    utility_phone: Annotated[str, msgspec.Meta(max_length=40)] = "1-800-555-0199"
    utility_website: Annotated[str, msgspec.Meta(max_length=120)] = ""
    # The signature block.
    signer_name: Annotated[str, msgspec.Meta(min_length=1, max_length=120)] = "Customer Service Division"
    signer_title: Annotated[str, msgspec.Meta(max_length=120)] = ""
    # The mailing check fails once a letter has waited this many business days without being mailed.
    mail_within_business_days: Annotated[int, msgspec.Meta(ge=1, le=30)] = 3
    # Also send the letter's text by e-mail when the customer has an address on file.
    email_copy: bool = True


class FieldSpec(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """One value a template asks for. ``money`` is whole cents, ``date`` an ISO date, ``choice`` one of."""

    name: Annotated[str, msgspec.Meta(pattern=FIELD_NAME)]
    label: str
    kind: Literal["text", "money", "date", "count", "choice"] = "text"
    required: bool = True
    choices: list[str] = []
    max_length: Annotated[int, msgspec.Meta(ge=1, le=MAX_TEXT)] = 500


class LetterTemplate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A letter as data: what it is called, what it needs, and what it says."""

    id: Annotated[str, msgspec.Meta(pattern=TEMPLATE_ID)]
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
    description: str = ""
    subject: Annotated[str, msgspec.Meta(min_length=1, max_length=150)]
    fields: list[FieldSpec] = []
    paragraphs: Annotated[list[str], msgspec.Meta(min_length=1)]
    closing: str = "Sincerely,"

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)


class FieldError(ValueError):
    """A value or template at fault, named the way the API reports it (``template``, ``fields.amount``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class TemplateError(ValueError):
    """A letter template file that is not well-formed; raised at load time so a bad file never ships."""


# -- templates -------------------------------------------------------------------------------------------
def placeholders(text: str) -> list[str]:
    """The placeholder names of one paragraph; an attribute, index, conversion or format spec is refused."""
    names: list[str] = []
    for _literal, name, spec, conversion in string.Formatter().parse(text):
        if name is None:
            continue
        if not re.fullmatch(FIELD_NAME, name) or spec or conversion:
            raise TemplateError(f"placeholder {{{name}}} must be a plain field name")
        names.append(name)
    return names


def check_template(template: LetterTemplate) -> LetterTemplate:
    """Every placeholder is declared, names are unique, a choice field has choices."""
    declared = [f.name for f in template.fields]
    if len(set(declared)) != len(declared):
        raise TemplateError(f"{template.id}: a field is declared twice")
    clash = set(declared) & BUILTINS
    if clash:
        raise TemplateError(f"{template.id}: fields {sorted(clash)} shadow built-ins")
    for f in template.fields:
        if (f.kind == "choice") != bool(f.choices):
            raise TemplateError(f"{template.id}.{f.name}: choices go with kind 'choice' and only with it")
    for text in [template.subject, *template.paragraphs]:
        try:
            names = placeholders(text)
        except (TemplateError, ValueError) as exc:
            raise TemplateError(f"{template.id}: {exc}") from None
        unknown = [n for n in names if n not in BUILTINS and n not in declared]
        if unknown:
            raise TemplateError(f"{template.id}: undeclared placeholder(s) {unknown}")
    return template


def parse_template(text: str, source: str = "template") -> LetterTemplate:
    try:
        template = msgspec.convert(tomllib.loads(text), LetterTemplate)
    except (tomllib.TOMLDecodeError, msgspec.ValidationError) as exc:
        raise TemplateError(f"{source}: {exc}") from None
    return check_template(template)


def load_templates(folder: Path = LETTERS_DIR) -> dict[str, LetterTemplate]:
    """Every ``*.toml`` letter in ``folder`` by id; the file name must be the id (one place to look)."""
    found: dict[str, LetterTemplate] = {}
    for path in sorted(folder.glob("*.toml")):
        template = parse_template(path.read_text(encoding="utf-8"), path.name)
        if template.id != path.stem:
            raise TemplateError(f"{path.name}: id {template.id!r} differs from the file name")
        found[template.id] = template
    return found


# -- values ----------------------------------------------------------------------------------------------
def money_text(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}${whole:,}.{rest:02d}"


def date_text(day: dt.date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def _value(spec: FieldSpec, raw: Any) -> str:
    """One field's printed text, or a FieldError saying what is wrong with it."""
    key = f"fields.{spec.name}"
    if spec.kind == "money":
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise FieldError(key, "must be a whole number of cents")
        if not 0 <= raw <= 100_000_000:
            raise FieldError(key, "must be between 0 and 100000000 cents")
        return money_text(raw)
    if spec.kind == "count":
        if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= 1000:
            raise FieldError(key, "must be a whole number from 1 to 1000")
        return str(raw)
    if not isinstance(raw, str):
        raise FieldError(key, "must be a string")
    text = " ".join(raw.split())
    if not text:
        raise FieldError(key, "must not be blank")
    if spec.kind == "date":
        try:
            return date_text(dt.date.fromisoformat(text))
        except ValueError:
            raise FieldError(key, "must be a date as YYYY-MM-DD") from None
    if spec.kind == "choice":
        if text not in spec.choices:
            raise FieldError(key, f"must be one of {', '.join(spec.choices)}")
        return text
    if len(text) > spec.max_length:
        raise FieldError(key, f"must be at most {spec.max_length} characters")
    return text


def check_fields(template: LetterTemplate, fields: Mapping[str, Any]) -> dict[str, str]:
    """The printed text of each given field; unknown and missing required fields are refused by name."""
    for name in fields:
        if template.field(name) is None:
            known = ", ".join(f.name for f in template.fields) or "none"
            raise FieldError(f"fields.{name}", f"is not a field of {template.id} (fields: {known})")
    values: dict[str, str] = {}
    for spec in template.fields:
        raw = fields.get(spec.name)
        if raw is None:
            if spec.required:
                raise FieldError(f"fields.{spec.name}", f"is required for {template.id} ({spec.label})")
            continue
        values[spec.name] = _value(spec, raw)
    return values


def fill_subject(template: LetterTemplate, values: Mapping[str, str]) -> str:
    """The subject line; an optional value it names that is missing prints as nothing."""
    return " ".join(
        template.subject.format_map({n: values.get(n, "") for n in placeholders(template.subject)}).split()
    )


def fill(template: LetterTemplate, values: Mapping[str, str]) -> list[str]:
    """The body paragraphs filled in; a paragraph naming an optional field with no value is dropped."""
    body: list[str] = []
    for text in template.paragraphs:
        names = placeholders(text)
        if all(n in values for n in names):
            body.append(text.format_map({n: values[n] for n in names}))
    return body


# -- addresses and dates ---------------------------------------------------------------------------------
def address_lines(
    name: str, line1: str, line2: str | None, city: str, state: str, zip_code: str
) -> list[str]:
    """A US mailing block: name, street line(s), then ``City, ST ZIP``; blank parts are left out."""
    lines = [" ".join(part.split()) for part in (name, line1, line2 or "") if part and part.strip()]
    last = f"{' '.join(city.split())}, {state.strip().upper()} {zip_code.strip()}".strip(", ")
    return [*lines, last]


def letter_date(now: dt.datetime) -> dt.date:
    """The date printed on a letter: today in the utility's zone (late evening UTC is still yesterday)."""
    return now.astimezone(LOCAL_TZ).date()


def business_days_between(start: dt.date, end: dt.date) -> int:
    """Weekdays after ``start`` up to and including ``end`` (0 when end is not later)."""
    days = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            days += 1
    return days


def can_move(current: str, target: LetterStatus) -> bool:
    """A letter only moves forward; the same status again is allowed (a repeat is a no-op)."""
    return _STATUS_ORDER[target] >= _STATUS_ORDER[LetterStatus(current)]


def salutation(first_name: str, last_name: str) -> str:
    name = " ".join(f"{first_name} {last_name}".split())
    return f"Dear {name}:" if name else "Dear Customer:"


def plain_text(
    letterhead: Sequence[str],
    date_line: str,
    address: Sequence[str],
    greeting: str,
    body: Sequence[str],
    closing: str,
    signature: Sequence[str],
) -> str:
    """The letter as plain text, for the e-mail copy and the CCB contact's log."""
    blocks = [
        "\n".join(letterhead),
        date_line,
        "\n".join(address),
        greeting,
        *body,
        closing,
        "\n".join(signature),
    ]
    return "\n\n".join(b for b in blocks if b)
