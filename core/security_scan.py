"""``ccbhub security scan``: look for card numbers and demo customers' secrets kept in clear.

PCI DSS 3.4 / 3.5 (docs/rules.md §1.5) and docs/rules.md §4.3: a PAN is stored only masked, an access code or
an
SSN-last-4 only as a keyed hash. This command checks the data actually stored rather than the code that
wrote it: every text column of every table (the audit log, the mail outbox, the event outbox and the
plugins' tables included; binary and JSON columns are read as text too), and any log files named with
``--logs``. Card numbers are found with the hub's one detector (:func:`core.redact.find_pans`).

The synthetic customers' clear secrets come from the file ``ccbhub demo seed`` / ``make run`` writes
(``var/demo-customers.jsonl``, read when present) or from ``--secrets FILE`` (the same JSON lines
``ccbhub seed --json`` prints). Outside the tables that hold their keyed hashes:

* an access code (6–10 digits) is a hit wherever it stands as a whole number — not inside a longer
  number, a date, a time, a decimal or an id such as ``2026-12-06`` or ``12.482913``;
* an SSN-last-4 has only 10,000 values, so years, street numbers and amounts match one by chance; it is a
  hit when it stands as a whole number in a row (or log line) that also names its customer's account.

Every finding is printed with where it is (table, column and row key, or file and line) and the value
masked; the clear value is never printed. Exit 0 with a one-line summary when nothing is found, 1 on any
finding, 2 for bad options.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from sqlalchemy import JSON, LargeBinary, MetaData, String, Table, select

from core.cli import HubContext, pass_hub
from core.redact import find_pans, mask_pan

__all__ = [
    "DEFAULT_SECRETS",
    "Finding",
    "ScanReport",
    "Secrets",
    "load_secrets",
    "scan_database",
    "scan_logs",
    "security_group",
]

DEFAULT_SECRETS = Path("var/demo-customers.jsonl")
# Columns holding the customers' identity factors as keyed hashes: their tables are where the secrets
# are expected (hashed), so they are not searched for the clear values.
HASHED_SECRET_COLUMNS = frozenset({"access_code_hash", "ssn_last4_hash"})
MAX_PRINTED = 200
# A whole number: not glued to a letter or digit, and not one part of a compound written with separators
# (a date, a time, a decimal, a phone number, a UUID group), where a short secret would match by chance.
_WHOLE_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])(?<![0-9A-Za-z][.:/-])[0-9]{4,10}(?![0-9A-Za-z])(?![.:/-][0-9A-Za-z])"
)


@dataclass(frozen=True)
class Finding:
    """One value in clear: where it is, what it is and its masked form."""

    where: str
    kind: str
    masked: str

    def line(self) -> str:
        return f"{self.where}: {self.kind} {self.masked}"


@dataclass
class Secrets:
    """The demo customers' clear secrets, indexed by value."""

    access_codes: dict[str, set[str]] = field(default_factory=dict)
    ssn_last4: dict[str, set[str]] = field(default_factory=dict)
    customers: int = 0

    def find(self, texts: list[str]) -> list[tuple[str, str]]:
        """``(kind, masked)`` for each secret standing in clear in ``texts`` (the cells of one row)."""
        if not self.customers:
            return []
        found: list[tuple[str, str]] = []
        joined: str | None = None
        for text in texts:
            for match in _WHOLE_NUMBER.finditer(text):
                value = match.group(0)
                for account in sorted(self.access_codes.get(value, ())):
                    found.append(("access code", f"of account {account} ({'*' * len(value)})"))
                owners = self.ssn_last4.get(value)
                if owners:
                    joined = joined if joined is not None else "\n".join(texts)
                    for account in sorted(owners):
                        if account in joined:
                            found.append(("SSN last 4", f"of account {account} (****)"))
        return found


def load_secrets(path: Path) -> Secrets:
    """Read the demo customers file (one JSON object per line with access_code, ssn_last4, account_id)."""
    secrets = Secrets()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            account = str(row["account_id"])
            code = str(row["access_code"])
            ssn4 = str(row["ssn_last4"])
        except (ValueError, KeyError, TypeError):
            raise click.BadParameter(
                f"line {number} is not a demo customer (a JSON object with account_id, access_code "
                "and ssn_last4)",
                param_hint="--secrets",
            ) from None
        if not (re.fullmatch(r"[0-9]{6,10}", code) and re.fullmatch(r"[0-9]{4}", ssn4)):
            raise click.BadParameter(
                f"line {number}: access_code must be 6-10 digits and ssn_last4 4 digits",
                param_hint="--secrets",
            )
        secrets.access_codes.setdefault(code, set()).add(account)
        secrets.ssn_last4.setdefault(ssn4, set()).add(account)
        secrets.customers += 1
    return secrets


def _card_numbers(where: str, text: str) -> Iterator[Finding]:
    for part in _free_text(text):
        for start, end in find_pans(part):
            yield Finding(where, "card number", mask_pan(part[start:end]))


def _free_text(text: str) -> list[str]:
    """The strings of a JSON document other than its identifier fields (``id``, ``…_id``: the hub's own
    keys); any other text as it is."""
    if not text.lstrip().startswith(("{", "[")):
        return [text]
    try:
        value = json.loads(text)
    except ValueError:
        return [text]
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, str):
            found.append(node)
        elif isinstance(node, dict):
            for key, item in node.items():
                if not (key == "id" or str(key).endswith(("_id", "_ids"))):
                    walk(item)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(value)
    return found


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    # JSON columns come back as Python values on PostgreSQL.
    return json.dumps(value, ensure_ascii=False, default=str)


def _scanned_columns(table: Table) -> list[str]:
    return [
        c.name
        for c in table.columns
        if isinstance(c.type, String | LargeBinary | JSON)
        and c.name not in HASHED_SECRET_COLUMNS
        # The hub's own keys (CCB ids are 10, 12 or 14 random digits) are identifiers, not free text.
        and not (c.name == "id" or c.name.endswith("_id"))
    ]


@dataclass
class ScanReport:
    """What was read and what was found."""

    findings: list[Finding] = field(default_factory=list)
    tables: int = 0
    rows: int = 0
    log_lines: int = 0


async def scan_database(url: str, secrets: Secrets, report: ScanReport) -> None:
    """Every text, binary and JSON column of every table of the database at ``url``."""
    from core.db import create_engine

    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            metadata = MetaData()
            await conn.run_sync(lambda sync: metadata.reflect(sync))
            for table in metadata.sorted_tables:
                columns = _scanned_columns(table)
                if not columns:
                    continue
                report.tables += 1
                holds_hashes = any(c.name in HASHED_SECRET_COLUMNS for c in table.columns)
                keys = [c.name for c in table.primary_key.columns]
                stmt = select(*[table.c[k] for k in keys], *[table.c[c] for c in columns])
                result = await conn.stream(stmt.execution_options(yield_per=1000))
                number = 0
                async for row in result:
                    number += 1
                    report.rows += 1
                    values = row._mapping
                    key = ", ".join(f"{k}={values[k]}" for k in keys) if keys else f"row {number}"
                    cells = [(c, t) for c in columns if (t := _as_text(values[c])) is not None]
                    for column, text in cells:
                        report.findings.extend(_card_numbers(f"{table.name}.{column} [{key}]", text))
                    if not holds_hashes:
                        for kind, masked in secrets.find([t for _c, t in cells]):
                            report.findings.append(Finding(f"{table.name} [{key}]", kind, masked))
    finally:
        await engine.dispose()


def _log_files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file())
        else:
            yield path


def scan_logs(paths: Iterable[Path], secrets: Secrets, report: ScanReport) -> None:
    """Every line of the log files (a directory stands for every file under it)."""
    for path in _log_files(paths):
        with path.open(encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines, 1):
                report.log_lines += 1
                report.findings.extend(_card_numbers(f"{path}:{number}", line))
                for kind, masked in secrets.find([line]):
                    report.findings.append(Finding(f"{path}:{number}", kind, masked))


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


@click.group("security")
def security_group() -> None:
    """Security checks over the data the hub has stored."""


@security_group.command("scan")
@click.option(
    "--logs",
    "logs",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="A log file, or a directory of them, to search too (repeatable).",
)
@click.option(
    "--secrets",
    "secrets_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help=f"Demo customers' clear secrets to look for (default {DEFAULT_SECRETS} when present).",
)
@pass_hub
def scan_command(hc: HubContext, logs: tuple[Path, ...], secrets_file: Path | None) -> None:
    """Search the database and logs for card numbers and demo secrets in clear; exit 1 on any finding."""
    settings = hc.settings
    if secrets_file is None and DEFAULT_SECRETS.is_file():
        secrets_file = DEFAULT_SECRETS
    secrets = load_secrets(secrets_file) if secrets_file is not None else Secrets()
    report = ScanReport()
    started = time.perf_counter()
    asyncio.run(scan_database(settings.database_url, secrets, report))
    scan_logs(logs, secrets, report)
    elapsed = time.perf_counter() - started
    read = _count(report.rows, "row") + " in " + _count(report.tables, "table")
    if logs:
        read += " and " + _count(report.log_lines, "log line")
    looked = (
        f"no card number and no secret of the {secrets.customers} demo customers"
        if secrets.customers
        else "no card number (no demo customers' secrets to look for)"
    )
    if not report.findings:
        click.echo(f"clean: {looked} in clear in {read} ({elapsed:.1f} s)")
        return
    for finding in report.findings[:MAX_PRINTED]:
        click.echo(finding.line())
    if len(report.findings) > MAX_PRINTED:
        click.echo(f"… and {len(report.findings) - MAX_PRINTED} more")
    click.echo(f"{_count(len(report.findings), 'value')} in clear found in {read}")
    raise SystemExit(1)
