"""Signed audit checkpoints: what the audit table looked like, kept where a database writer cannot reach.

A checkpoint is one JSON line ``{v, kid, count, seq, head, keyed_from, at, sig}``: the number of records,
the last sequence (records are 1..seq, so ``count == seq``), the head digest, the first keyed sequence and
the time, signed with the audit key (``sig = HMAC(key, "checkpoint|" + canonical fields)``; ``kid`` names
the key). Lines are appended to the checkpoint file (created 0600; each line is one ``write`` on an
``O_APPEND`` descriptor, so hub processes sharing the file do not interleave) and logged on the
``ccbhub.audit`` logger. :func:`check_against` holds every valid checkpoint against the table: a table
shorter than a checkpoint was truncated (its newest records deleted and the head moved back, or emptied);
a record whose digest differs from the one a checkpoint signed was rewritten; a moved ``keyed_from`` tried
to pass re-chained records off as legacy ones. See :mod:`core.audit` for the threat model.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from core.audit import AuditKey

log = logging.getLogger("ccbhub.audit")

VERSION = 1
# verify lists this many rewritten checkpointed records one by one, then counts the rest.
MAX_LISTED = 10


class Checkpoint(msgspec.Struct, kw_only=True, frozen=True):
    """One signed statement of the audit table's extent and head."""

    v: int
    kid: str
    count: int
    seq: int
    head: str
    keyed_from: int
    at: str
    sig: str

    def payload(self) -> bytes:
        return msgspec.json.encode(
            [self.v, self.kid, self.count, self.seq, self.head, self.keyed_from, self.at]
        )

    @classmethod
    def make(cls, key: AuditKey, *, seq: int, head: str, keyed_from: int, at: dt.datetime) -> Checkpoint:
        unsigned = cls(
            v=VERSION,
            kid=key.kid,
            count=seq,
            seq=seq,
            head=head,
            keyed_from=keyed_from,
            at=at.astimezone(dt.UTC).isoformat(timespec="seconds"),
            sig="",
        )
        return msgspec.structs.replace(unsigned, sig=key.sign(unsigned.payload()))

    def verifies(self, key: AuditKey) -> bool:
        return hmac.compare_digest(key.sign(self.payload()), self.sig)


@dataclass
class Loaded:
    """A checkpoint file as read: whether it exists, its checkpoints and its unreadable lines."""

    path: Path
    exists: bool
    entries: list[tuple[int, Checkpoint]] = field(default_factory=list)
    unreadable: list[int] = field(default_factory=list)

    def sequences(self) -> set[int]:
        return {cp.seq for _, cp in self.entries}


class CheckpointFile:
    """The append-only checkpoint file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, cp: Checkpoint) -> None:
        line = msgspec.json.encode(cp) + b"\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.fchmod(fd, 0o600)  # also when an operator created the file with a wider mode
            os.write(fd, line)
        finally:
            os.close(fd)
        log.info(line.decode().rstrip())

    def load(self) -> Loaded:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return Loaded(self.path, exists=False)
        loaded = Loaded(self.path, exists=True)
        for number, line in enumerate(raw.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                loaded.entries.append((number, msgspec.json.decode(line, type=Checkpoint)))
            except msgspec.DecodeError:
                loaded.unreadable.append(number)
        return loaded


@dataclass(frozen=True)
class TableState:
    """What verify found in the table: its extent, boundary, and the digests at checkpointed sequences."""

    count: int
    last_seq: int
    keyed_from: int
    hashes: dict[int, str]


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    checked: int = 0


def check_against(loaded: Loaded, key: AuditKey, state: TableState, *, require: bool) -> Report:
    """Hold every checkpoint in the file against the table."""
    report = Report()
    if not loaded.exists:
        _missing(report, f"no checkpoint file ({loaded.path})", require)
        return report
    if loaded.unreadable:
        # A torn last line after a crash is possible; an attacker without file access cannot add lines.
        lines = ", ".join(str(n) for n in loaded.unreadable[:MAX_LISTED])
        report.warnings.append(f"checkpoint file lines {lines} are not checkpoints (ignored)")
    valid: list[Checkpoint] = []
    foreign: list[int] = []
    for number, cp in loaded.entries:
        if cp.kid != key.kid:
            foreign.append(number)
        elif not cp.verifies(key):
            report.problems.append(
                f"checkpoint file line {number}: the signature does not verify (the checkpoint was edited)"
            )
        else:
            valid.append(cp)
    if foreign:
        report.problems.append(
            f"{len(foreign)} checkpoints (first on line {foreign[0]}) were signed with another audit key "
            f"than this hub's (key id {key.kid}): is HUB_AUDIT_KEY / HUB_SECRET_KEY the one that wrote them?"
        )
    report.checked = len(valid)
    if not valid:
        if not report.problems:
            _missing(report, f"the checkpoint file {loaded.path} holds no checkpoint yet", require)
        return report
    _extent(report, valid, state)
    _contents(report, valid, state)
    moved = sorted({cp.keyed_from for cp in valid if cp.keyed_from != state.keyed_from})
    if moved:
        report.problems.append(
            f"the keyed-chain boundary is {state.keyed_from} but checkpoints signed "
            f"{', '.join(str(k) for k in moved)}: it was moved"
        )
    return report


def _missing(report: Report, what: str, require: bool) -> None:
    message = f"{what}: cannot prove the log was not truncated"
    (report.problems if require else report.warnings).append(message)


def _extent(report: Report, valid: list[Checkpoint], state: TableState) -> None:
    beyond = [cp for cp in valid if cp.seq > state.last_seq]
    if not beyond:
        return
    top = max(beyond, key=lambda cp: cp.seq)
    now = f"{state.count} records" + (f" (newest {state.last_seq})" if state.count else "")
    what = "emptied" if state.count == 0 else "truncated"
    report.problems.append(
        f"the audit log was {what}: the checkpoint of {top.at} signed {top.count} records up to "
        f"sequence {top.seq}, the table now has {now}"
    )


def _contents(report: Report, valid: list[Checkpoint], state: TableState) -> None:
    rewritten: list[Checkpoint] = []
    for cp in sorted(valid, key=lambda cp: cp.seq):
        if cp.seq > state.last_seq:
            continue
        stored = state.hashes.get(cp.seq)
        if stored is not None and stored != cp.head:
            rewritten.append(cp)
        elif stored is None:
            report.problems.append(f"record {cp.seq}, signed by the checkpoint of {cp.at}, is missing")
    seqs = sorted({cp.seq for cp in rewritten})
    for seq in seqs[:MAX_LISTED]:
        first = next(cp for cp in rewritten if cp.seq == seq)
        report.problems.append(
            f"record {seq} is not the record the checkpoint of {first.at} signed: the chain was rewritten"
        )
    if len(seqs) > MAX_LISTED:
        report.problems.append(f"... and {len(seqs) - MAX_LISTED} more checkpointed records differ")
