"""The append-only audit log: a keyed hash chain, signed checkpoints outside the database, and its verifier.

Threat model. The attacker can write to the database (SQL access, a stolen backup restored over the live
one, a compromised plugin's session) but holds neither the audit key nor write access to the checkpoint
file. Against that attacker:

* Each record's digest is ``HMAC-SHA256(audit key, prev digest | canonical fields)`` and the sequence is
  gap-free from 1, so editing a record, deleting one, re-ordering, or recomputing the chain with the
  unkeyed function (or any key but the hub's) fails verification at the first touched record.
* The head row (last sequence, last digest) changes in the same transaction as each append, so deleting
  records is seen unless the head is moved back too; deleting the newest records *and* moving the head
  back, or emptying log and head, leaves a consistent but shorter chain that only something outside the
  database can expose: the signed checkpoints (:mod:`core.audit_checkpoints`). Each holds (count, last
  sequence, head digest, keyed_from, time) signed with the audit key; they are written every
  ``HUB_AUDIT_CHECKPOINT_EVERY`` records (after the commit, from memory: no extra round trip), by the
  core's ``audit_checkpoint`` job every ``HUB_AUDIT_CHECKPOINT_INTERVAL_S`` and at hub stop, appended
  to the checkpoint file (mode 0600) and logged as one JSON line on the ``ccbhub.audit`` logger (so a
  log shipper keeps a copy elsewhere). ``ccbhub audit verify`` checks every checkpoint against the table.
* Not covered: an attacker holding the key, or one who can also rewrite or delete the checkpoint file and
  the shipped logs. A missing checkpoint file is reported ("cannot prove the log was not truncated");
  ``--require-checkpoints`` makes it an error. Records appended after the latest checkpoint and then
  deleted together with a moved-back head are invisible until a checkpoint covers them: that window is
  at most N records or the job's interval.

The audit key. ``HUB_AUDIT_KEY`` if set; else ``HUB_SECRET_KEY``; either way the key used is
``HMAC-SHA256(material, "ccbhub audit v1")`` (domain separation from the secret's other uses). A hub
running without either (development) keeps a random key in ``audit.key`` (0600) beside the checkpoint
file, because a per-process secret would make yesterday's records unverifiable. Changing the key makes
every keyed record fail: rotate by keeping the old key for verification, not by replacing it.

Legacy records. Rows written before the keyed chain (migration ``0009_audit_keyed``) keep the unkeyed
``sha256(prev | canonical)`` rule up to ``keyed_from - 1`` (recorded in the head and in every
checkpoint). The first keyed record's digest covers the last legacy hash, so the legacy part cannot be
re-chained either without breaking it; ``verify`` says how many legacy records there are.

Appends serialize: SQLite writers already hold the write lock (BEGIN IMMEDIATE), PostgreSQL takes a
transaction-level advisory lock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy import event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit_checkpoints import Checkpoint, CheckpointFile, TableState, check_against
from core.clock import Clock
from core.models import AuditHead, AuditRecord
from core.redact import redact

if TYPE_CHECKING:
    from core.db import Database
    from core.settings import Settings

log = logging.getLogger("ccbhub.audit")

GENESIS = "0" * 64
KEY_LABEL = b"ccbhub audit v1"
_AUDIT_LOCK_KEY = 0x4155444954  # "AUDIT": the advisory-lock key on PostgreSQL
_PENDING = "ccbhub.audit.checkpoint"  # session.info key: the checkpoint to write once the append commits
_HOOKED = "ccbhub.audit.hooked"
# verify lists this many failing records one by one, then counts the rest.
MAX_LISTED = 20


class AuditKey:
    """The audit key: record digests and checkpoint signatures. ``kid`` names it without revealing it."""

    def __init__(self, material: bytes) -> None:
        if not material:
            raise ValueError("the audit key material is empty")
        key = hmac.new(material, KEY_LABEL, hashlib.sha256).digest()
        # Keyed once; each digest copies the prepared state (cheaper than re-keying per record).
        self._mac = hmac.new(key, digestmod=hashlib.sha256)
        self.kid = self._hex(b"kid")[:16]

    def _hex(self, data: bytes) -> str:
        mac = self._mac.copy()
        mac.update(data)
        return mac.hexdigest()

    def digest(self, prev_hash: str, canonical: bytes) -> str:
        """A record's digest. ``prev_hash`` is 64 hex characters, so it never collides with :meth:`sign`."""
        return self._hex(prev_hash.encode() + b"|" + canonical)

    def sign(self, payload: bytes) -> str:
        return self._hex(b"checkpoint|" + payload)


def checkpoint_path(settings: Settings) -> Path:
    """``HUB_AUDIT_CHECKPOINT_FILE``, else beside a SQLite database file, else ``var/``."""
    if settings.audit_checkpoint_file:
        return Path(settings.audit_checkpoint_file)
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).parent / "audit-checkpoints.jsonl"
    return Path("var") / "audit-checkpoints.jsonl"


def audit_key_for(settings: Settings) -> AuditKey:
    """The hub's audit key (see the module docstring for where it comes from)."""
    from core.settings import secret_key_generated

    if settings.audit_key:
        return AuditKey(settings.audit_key.encode())
    if not secret_key_generated(settings):
        return AuditKey(settings.secret_key.encode())
    return AuditKey(_key_file(checkpoint_path(settings).parent / "audit.key"))


def _key_file(path: Path) -> bytes:
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_bytes().strip()
    try:
        os.write(fd, secrets.token_urlsafe(32).encode())
    finally:
        os.close(fd)
    log.warning("no HUB_AUDIT_KEY or HUB_SECRET_KEY: the audit key is kept in %s", path)
    return path.read_bytes().strip()


def _canonical(
    seq: int, at: dt.datetime, actor: str, action: str, target: str, detail: dict[str, Any]
) -> bytes:
    at_utc = at.astimezone(dt.UTC).isoformat(timespec="microseconds")
    return msgspec.json.encode([seq, at_utc, actor, action, target, detail], order="sorted")


def _canonical_of(rec: AuditRecord) -> bytes:
    return _canonical(rec.seq, rec.at, rec.actor, rec.action, rec.target, rec.detail)


def chain_hash(prev_hash: str, canonical: bytes) -> str:
    """The legacy, unkeyed rule: records before ``keyed_from`` only. Anyone can recompute it."""
    return hashlib.sha256(prev_hash.encode() + b"|" + canonical).hexdigest()


def _scrub(value: Any) -> Any:
    """Audit details are text a person reads later: mask card numbers and SSNs in every string."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {str(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


class AuditLog:
    """Appends audit records inside the caller's transaction and writes the signed checkpoints."""

    def __init__(
        self,
        clock: Clock,
        key: AuditKey,
        checkpoints: CheckpointFile | None = None,
        *,
        every: int = 100,
        interval_s: float = 300.0,
    ) -> None:
        self._clock = clock
        self.key = key
        self.checkpoints = checkpoints
        self.every = every
        self.interval_s = interval_s
        self._last_checkpoint_seq: int | None = None
        self._last_appended_seq = 0  # this process's newest record (only what it added before a commit)

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock) -> AuditLog:
        return cls(
            clock,
            audit_key_for(settings),
            CheckpointFile(checkpoint_path(settings)),
            every=settings.audit_checkpoint_every,
            interval_s=settings.audit_checkpoint_interval_s,
        )

    async def append(
        self,
        session: AsyncSession,
        *,
        actor: str,
        action: str,
        target: str,
        detail: dict[str, Any] | None = None,
    ) -> AuditRecord:
        if session.bind is not None and session.bind.dialect.name == "postgresql":
            await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _AUDIT_LOCK_KEY})
        head = await session.get(AuditHead, 1, with_for_update=True)
        prev_seq, prev_hash = (head.seq, head.hash) if head else (0, GENESIS)
        seq = prev_seq + 1
        at = self._clock.now()
        clean = _scrub(detail or {})
        digest = self.key.digest(prev_hash, _canonical(seq, at, actor, action, target, clean))
        record = AuditRecord(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            target=target,
            detail=clean,
            prev_hash=prev_hash,
            hash=digest,
        )
        session.add(record)
        if head is None:
            keyed_from = 1
            session.add(AuditHead(id=1, seq=seq, hash=digest, keyed_from=keyed_from))
        else:
            keyed_from = head.keyed_from
            head.seq, head.hash = seq, digest
        await session.flush()
        self._last_appended_seq = max(self._last_appended_seq, seq)
        if self.checkpoints is not None and seq % self.every == 0:
            self._checkpoint_after_commit(session, seq, digest, keyed_from, at)
        return record

    def _checkpoint_after_commit(
        self, session: AsyncSession, seq: int, digest: str, keyed_from: int, at: dt.datetime
    ) -> None:
        # Written only once the transaction commits: a checkpoint for a rolled-back record would later
        # read as truncation. From memory, so the hot path gains no round trip.
        sync = session.sync_session
        sync.info[_PENDING] = (seq, digest, keyed_from, at)
        if sync.info.get(_HOOKED):
            return
        sync.info[_HOOKED] = True

        def committed(s: Any) -> None:
            pending = s.info.pop(_PENDING, None)
            if pending is not None:
                self._write(*pending)

        def rolled_back(s: Any) -> None:
            s.info.pop(_PENDING, None)

        event.listen(sync, "after_commit", committed)
        event.listen(sync, "after_rollback", rolled_back)

    def _write(self, seq: int, digest: str, keyed_from: int, at: dt.datetime) -> Checkpoint | None:
        assert self.checkpoints is not None
        cp = Checkpoint.make(self.key, seq=seq, head=digest, keyed_from=keyed_from, at=at)
        try:
            self.checkpoints.append(cp)
        except OSError as exc:
            # The audit record is committed and stays verifiable; only the truncation proof is late.
            log.error("cannot write the audit checkpoint to %s: %s", self.checkpoints.path, exc)
            return None
        if self._last_checkpoint_seq is None or seq > self._last_checkpoint_seq:
            self._last_checkpoint_seq = seq
        return cp

    async def checkpoint(self, db: Database, *, own_records: bool = False) -> Checkpoint | None:
        """Sign the current head (the timer job; hub stop with ``own_records``, when this process added
        records since its last checkpoint); nothing when the head has not moved since the last checkpoint
        this process wrote, or when the newest record does not verify under the key."""
        if self.checkpoints is None:
            return None
        if own_records and self._last_appended_seq <= (self._last_checkpoint_seq or 0):
            return None
        async with db.read() as session:
            head = await session.get(AuditHead, 1)
            if head is None or head.seq == self._last_checkpoint_seq:
                return None
            if head.seq < head.keyed_from:  # a migrated hub that has not added a keyed record yet
                return None
            newest = await session.get(AuditRecord, head.seq)
            seq, digest, keyed_from = head.seq, head.hash, head.keyed_from
        if (
            newest is None
            or newest.hash != digest
            or self.key.digest(newest.prev_hash, _canonical_of(newest)) != digest
        ):
            # Never sign a head the key did not make: that would bless a rewritten chain.
            log.error("audit head %s does not verify under the audit key: no checkpoint written", seq)
            return None
        return self._write(seq, digest, keyed_from, self._clock.now())


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    records: int
    problems: list[str]
    warnings: list[str] = field(default_factory=list)
    checkpoints: int = 0


async def verify_chain(
    session: AsyncSession,
    key: AuditKey,
    checkpoints: CheckpointFile | None = None,
    *,
    require_checkpoints: bool = False,
) -> VerifyResult:
    """Walk the whole chain and, given the checkpoint file, hold it against every checkpoint.

    Reports edited, deleted, re-ordered or re-chained records, a head that does not match, and a table
    shorter than (or different from) what a checkpoint signed.
    """
    problems: list[str] = []
    failing: list[int] = []
    # The file first: every checkpoint in it was written after its commit, so the table read next holds
    # at least what it signed (read the other way round, a live hub's new checkpoint would look ahead).
    loaded = checkpoints.load() if checkpoints is not None else None
    head = await session.get(AuditHead, 1)
    keyed_from = head.keyed_from if head is not None else 1
    wanted = loaded.sequences() if loaded is not None else set()
    seen: dict[int, str] = {}
    prev_hash = GENESIS
    expected_seq = 1
    count = 0
    result = await session.stream(
        select(AuditRecord).order_by(AuditRecord.seq).execution_options(yield_per=1000)
    )
    async for rec in result.scalars():
        count += 1
        if rec.seq != expected_seq:
            problems.append(f"records {expected_seq}..{rec.seq - 1} are missing (deleted)")
        if rec.prev_hash != prev_hash:
            problems.append(f"record {rec.seq}: link to the previous record is broken")
        canonical = _canonical_of(rec)
        if rec.seq >= keyed_from:
            if key.digest(rec.prev_hash, canonical) != rec.hash:
                failing.append(rec.seq)
        elif chain_hash(rec.prev_hash, canonical) != rec.hash:
            problems.append(f"record {rec.seq}: contents do not match its hash (edited; legacy record)")
        if rec.seq in wanted:
            seen[rec.seq] = rec.hash
        prev_hash = rec.hash
        expected_seq = rec.seq + 1
    last_seq = expected_seq - 1
    problems.extend(_digest_problems(failing, count, keyed_from, last_seq))
    if head is None and count:
        problems.append("the chain head is missing")
    elif head is not None and (head.seq != last_seq or head.hash != prev_hash):
        problems.append(f"the newest records after {last_seq} are missing (head is at {head.seq})")
    if head is not None and keyed_from > last_seq + 1:
        problems.append(
            f"the keyed-chain boundary ({keyed_from}) lies past the newest record ({last_seq}): "
            "it was moved to pass re-chained records off as legacy ones"
        )
    warnings: list[str] = []
    if count and keyed_from > 1:
        legacy = min(keyed_from - 1, last_seq)
        warnings.append(
            f"records 1..{legacy} predate the keyed chain and are checked with the legacy unkeyed hash"
        )
    checked = 0
    if loaded is not None:
        state = TableState(count=count, last_seq=last_seq, keyed_from=keyed_from, hashes=seen)
        report = check_against(loaded, key, state, require=require_checkpoints)
        problems.extend(report.problems)
        warnings.extend(report.warnings)
        checked = report.checked
    return VerifyResult(
        ok=not problems, records=count, problems=problems, warnings=warnings, checkpoints=checked
    )


def _digest_problems(failing: list[int], count: int, keyed_from: int, last_seq: int) -> list[str]:
    if not failing:
        return []
    keyed = max(0, last_seq - keyed_from + 1)
    if len(failing) == keyed and keyed > 1:
        return [
            f"none of the {keyed} keyed records ({keyed_from}..{last_seq}) verifies under the audit key: "
            "the chain was recomputed without the key (or with another one), or this hub's "
            "HUB_AUDIT_KEY / HUB_SECRET_KEY is not the one that wrote it"
        ]
    listed = [
        f"record {seq}: contents do not match its keyed digest (edited, or re-chained without the key)"
        for seq in failing[:MAX_LISTED]
    ]
    if len(failing) > MAX_LISTED:
        listed.append(f"... and {len(failing) - MAX_LISTED} more records do not verify (of {count})")
    return listed
