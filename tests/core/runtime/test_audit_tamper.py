"""The audit log against an attacker who can write the database but holds neither the key nor the
checkpoint file: each way of rewriting history is caught, an intact log passes, checkpoints are written."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select, text, update

from core.audit import (
    GENESIS,
    AuditKey,
    AuditLog,
    VerifyResult,
    _canonical_of,
    audit_key_for,
    chain_hash,
    checkpoint_path,
    verify_chain,
)
from core.audit_checkpoints import Checkpoint, CheckpointFile
from core.cli import main
from core.clock import ManualClock
from core.db import Database
from core.migrate import upgrade
from core.models import AuditHead, AuditRecord
from core.settings import Settings, SettingsError, load_settings

KEY = AuditKey(b"the-hub-audit-key")
EVERY = 5


@pytest.fixture
async def db(hub_database_url: str) -> AsyncIterator[Database]:
    database = Database(hub_database_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def cps(tmp_path: Path) -> CheckpointFile:
    return CheckpointFile(tmp_path / "checkpoints" / "audit-checkpoints.jsonl")


@pytest.fixture
def audit(cps: CheckpointFile) -> AuditLog:
    return AuditLog(ManualClock(dt.datetime(2026, 12, 1, 9, tzinfo=dt.UTC)), KEY, cps, every=EVERY)


async def append(db: Database, audit: AuditLog, n: int) -> None:
    for i in range(n):
        async with db.session() as session:
            await audit.append(session, actor="staff:csr1", action="ccb.account.read", target=f"acct-{i}")


async def verify(
    db: Database, cps: CheckpointFile | None, key: AuditKey = KEY, *, require: bool = False
) -> VerifyResult:
    async with db.read() as session:
        return await verify_chain(session, key, cps, require_checkpoints=require)


def checkpoints_in(cps: CheckpointFile) -> list[Checkpoint]:
    return [cp for _, cp in cps.load().entries]


async def rechain(db: Database, digest: Any, *, keyed_from: int | None = None) -> None:
    """What an attacker does after editing: recompute every link and digest, then fix the head."""
    async with db.session() as session:
        prev = GENESIS
        records = (await session.execute(select(AuditRecord).order_by(AuditRecord.seq))).scalars().all()
        for rec in records:
            rec.prev_hash = prev
            rec.hash = prev = digest(prev, _canonical_of(rec))
        head = await session.get(AuditHead, 1)
        assert head is not None
        head.seq, head.hash = records[-1].seq, prev
        if keyed_from is not None:
            head.keyed_from = keyed_from


async def move_head_back(db: Database, to_seq: int) -> None:
    async with db.session() as session:
        await session.execute(delete(AuditRecord).where(AuditRecord.seq > to_seq))
        kept = await session.get(AuditRecord, to_seq)
        assert kept is not None
        await session.execute(update(AuditHead).values(seq=to_seq, hash=kept.hash))


async def test_intact_log_passes_with_checkpoints_every_n(
    db: Database, audit: AuditLog, cps: CheckpointFile
) -> None:
    await append(db, audit, 12)
    assert [cp.seq for cp in checkpoints_in(cps)] == [5, 10]
    assert stat.S_IMODE(cps.path.stat().st_mode) == 0o600
    written = await audit.checkpoint(db)
    assert written is not None and written.seq == 12 and written.count == 12
    assert await audit.checkpoint(db) is None  # the head has not moved since
    result = await verify(db, cps)
    assert result.ok, result.problems
    assert (result.records, result.checkpoints, result.warnings) == (12, 3, [])


async def test_a_rolled_back_append_writes_no_checkpoint(db: Database, cps: CheckpointFile) -> None:
    audit = AuditLog(ManualClock(dt.datetime(2026, 12, 1, tzinfo=dt.UTC)), KEY, cps, every=1)
    await append(db, audit, 1)
    with pytest.raises(RuntimeError):
        async with db.session() as session:
            await audit.append(session, actor="a", action="x", target="rolled back")
            raise RuntimeError("the caller's transaction fails")
    async with db.sessions() as session:  # one session, reused after its rollback
        await audit.append(session, actor="a", action="x", target="rolled back too")
        await session.rollback()
        await session.commit()
    assert [cp.seq for cp in checkpoints_in(cps)] == [1]
    await append(db, audit, 1)
    assert [cp.seq for cp in checkpoints_in(cps)] == [1, 2]
    assert (await verify(db, cps)).ok


async def test_deleting_the_newest_records_and_moving_the_head_back(
    db: Database, audit: AuditLog, cps: CheckpointFile
) -> None:
    await append(db, audit, 12)
    await audit.checkpoint(db)
    await move_head_back(db, 10)
    # The table alone is a consistent shorter chain: only the checkpoint outside the database shows it.
    assert (await verify(db, None)).ok
    result = await verify(db, cps)
    assert not result.ok
    assert any(
        "truncated" in p and "up to sequence 12" in p and "now has 10 records" in p for p in result.problems
    )


async def test_truncating_below_an_every_n_checkpoint(
    db: Database, audit: AuditLog, cps: CheckpointFile
) -> None:
    await append(db, audit, 12)
    await move_head_back(db, 7)
    result = await verify(db, cps)
    assert not result.ok
    assert any("truncated" in p and "sequence 10" in p for p in result.problems), result.problems


async def test_emptying_log_and_head(db: Database, audit: AuditLog, cps: CheckpointFile) -> None:
    await append(db, audit, 6)
    async with db.session() as session:
        await session.execute(delete(AuditRecord))
        await session.execute(delete(AuditHead))
    assert (await verify(db, None)).ok
    result = await verify(db, cps)
    assert not result.ok and result.records == 0
    assert any("emptied" in p and "now has 0 records" in p for p in result.problems)


async def test_editing_a_record(db: Database, audit: AuditLog, cps: CheckpointFile) -> None:
    await append(db, audit, 8)
    async with db.session() as session:
        await session.execute(update(AuditRecord).where(AuditRecord.seq == 3).values(actor="staff:nobody"))
    result = await verify(db, cps)
    assert not result.ok
    assert result.problems == [
        "record 3: contents do not match its keyed digest (edited, or re-chained without the key)"
    ]


async def test_recomputing_the_chain_with_the_unkeyed_function(
    db: Database, audit: AuditLog, cps: CheckpointFile
) -> None:
    await append(db, audit, 12)
    async with db.session() as session:
        await session.execute(update(AuditRecord).where(AuditRecord.seq == 4).values(target="acct-other"))
    await rechain(db, chain_hash)
    result = await verify(db, cps)
    assert not result.ok
    assert any("none of the 12 keyed records" in p for p in result.problems)
    assert any("record 5 is not the record the checkpoint" in p for p in result.problems)


async def test_recomputing_unkeyed_and_moving_the_boundary_to_pass_as_legacy(
    db: Database, audit: AuditLog, cps: CheckpointFile
) -> None:
    await append(db, audit, 12)
    await audit.checkpoint(db)
    await rechain(db, chain_hash, keyed_from=13)
    # Without the checkpoints this reads as a hub migrated from the unkeyed chain: that is the warning.
    alone = await verify(db, None)
    assert alone.ok and any("predate the keyed chain" in w for w in alone.warnings)
    result = await verify(db, cps)
    assert not result.ok
    assert any("boundary is 13" in p and "moved" in p for p in result.problems)
    assert any("record 12 is not the record the checkpoint" in p for p in result.problems)


async def test_recomputing_the_chain_with_a_wrong_key(
    db: Database, audit: AuditLog, cps: CheckpointFile
) -> None:
    await append(db, audit, 7)
    await rechain(db, AuditKey(b"a-guessed-key").digest)
    assert await audit.checkpoint(db) is None  # the hub never signs a head its key did not make
    result = await verify(db, cps)
    assert not result.ok
    assert any("none of the 7 keyed records" in p for p in result.problems)


async def test_verifying_with_another_key_says_so(db: Database, audit: AuditLog, cps: CheckpointFile) -> None:
    await append(db, audit, 6)
    result = await verify(db, cps, AuditKey(b"not-this-hubs-key"))
    assert not result.ok
    assert any("another audit key" in p for p in result.problems)


async def test_an_edited_checkpoint_does_not_verify(
    db: Database, audit: AuditLog, cps: CheckpointFile
) -> None:
    await append(db, audit, 10)
    lines = cps.path.read_text().splitlines()
    forged = json.loads(lines[1]) | {"count": 3, "seq": 3}
    cps.path.write_text("\n".join([lines[0], json.dumps(forged), ""]))
    result = await verify(db, cps)
    assert any("line 2: the signature does not verify" in p for p in result.problems)


async def test_a_missing_checkpoint_file_warns_or_fails_when_required(db: Database, audit: AuditLog) -> None:
    await append(db, audit, 3)
    absent = CheckpointFile(Path(audit.checkpoints.path.parent / "elsewhere.jsonl"))  # type: ignore[union-attr]
    relaxed = await verify(db, absent)
    assert relaxed.ok
    assert any(
        "no checkpoint file" in w and "cannot prove the log was not truncated" in w for w in relaxed.warnings
    )
    strict = await verify(db, absent, require=True)
    assert not strict.ok and any("no checkpoint file" in p for p in strict.problems)


async def test_the_migration_keeps_legacy_records_and_keys_the_new_ones(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'legacy.db'}"
    await asyncio.to_thread(upgrade, url, "0001_core")
    at = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    database = Database(url)
    prev = GENESIS
    async with database.session() as session:
        for seq in (1, 2, 3):
            row = AuditRecord(seq=seq, at=at, actor="a", action="old", target=str(seq), detail={})
            row.prev_hash, row.hash = prev, chain_hash(prev, _canonical_of(row))
            prev = row.hash
            session.add(row)
        # The head as the unkeyed hub wrote it: no keyed_from column before 0009.
        await session.execute(
            text("INSERT INTO hub_audit_head (id, seq, hash) VALUES (1, 3, :h)"), {"h": prev}
        )
    await database.dispose()
    await asyncio.to_thread(upgrade, url)
    database = Database(url)
    try:
        cps = CheckpointFile(tmp_path / "cp.jsonl")
        audit = AuditLog(ManualClock(at), KEY, cps, every=EVERY)
        assert await audit.checkpoint(database) is None  # nothing keyed to sign yet
        await append(database, audit, 4)
        async with database.read() as session:
            head = await session.get(AuditHead, 1)
            assert head is not None and (head.keyed_from, head.seq) == (4, 7)
        result = await verify(database, cps)
        assert result.ok, result.problems
        assert result.warnings == [
            "records 1..3 predate the keyed chain and are checked with the legacy unkeyed hash"
        ]
        # Re-chaining the legacy part breaks the first keyed record, whose digest covers the last
        # legacy hash: relinking it does not help.
        async with database.session() as session:
            records = (await session.execute(select(AuditRecord).order_by(AuditRecord.seq))).scalars().all()
            records[1].target = "x"
            prev = GENESIS
            for rec in records[:3]:
                rec.prev_hash = prev
                rec.hash = prev = chain_hash(prev, _canonical_of(rec))
            records[3].prev_hash = prev
        rewritten = await verify(database, cps)
        assert rewritten.problems == [
            "record 4: contents do not match its keyed digest (edited, or re-chained without the key)"
        ]
    finally:
        await database.dispose()


# -- the hub: checkpoints on the timer and at stop; the key's origin ---------------------------------------


async def test_the_hub_checkpoints_on_its_timer_job_and_at_stop(
    hub_settings: Settings, hub_clock: ManualClock
) -> None:
    from core.hub import Hub

    hub = Hub(hub_settings, entry_points=False, clock=hub_clock)
    await hub.start(run_jobs=False)
    try:
        for i in range(3):
            async with hub.db.session() as session:
                await hub.audit.append(session, actor="a", action="x", target=str(i))
        await hub.jobs.run_now("core", "audit_checkpoint")
        assert hub.audit.checkpoints is not None
        after_job = checkpoints_in(hub.audit.checkpoints)
        async with hub.db.session() as session:
            await hub.audit.append(session, actor="a", action="x", target="last")
    finally:
        await hub.stop()
    path = checkpoint_path(hub_settings)
    assert path.parent == Path(hub_settings.database_url.removeprefix("sqlite+aiosqlite:///")).parent
    seqs = [cp.seq for _, cp in CheckpointFile(path).load().entries]
    assert seqs[: len(after_job)] == [cp.seq for cp in after_job] and len(after_job) == 1
    assert seqs[-1] == after_job[-1].seq + 1  # written at stop


def test_the_audit_key_comes_from_the_audit_key_else_the_secret_else_a_kept_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no ./hub.toml of a developer's `make run` may lend its secret
    base = {"database_url": f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"}
    own = audit_key_for(msgspec.convert({**base, "secret_key": "s1", "audit_key": "a1"}, Settings))
    assert own.kid == AuditKey(b"a1").kid
    from_secret = audit_key_for(msgspec.convert({**base, "secret_key": "s1"}, Settings))
    assert from_secret.kid == AuditKey(b"s1").kid != own.kid
    generated = load_settings(env={"HUB_DATABASE_URL": base["database_url"]}, config_path=None)
    first, second = (
        audit_key_for(generated),
        audit_key_for(load_settings(env={"HUB_DATABASE_URL": base["database_url"]})),
    )
    assert first.kid == second.kid  # one key across processes, though each made up its own secret
    assert stat.S_IMODE((tmp_path / "audit.key").stat().st_mode) == 0o600


def test_checkpoint_settings_are_validated(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="HUB_AUDIT_CHECKPOINT_EVERY"):
        load_settings(env={"HUB_AUDIT_CHECKPOINT_EVERY": "often"})
    s = load_settings(
        env={
            "HUB_SECRET_KEY": "k",
            "HUB_AUDIT_CHECKPOINT_FILE": str(tmp_path / "cp.jsonl"),
            "HUB_AUDIT_CHECKPOINT_EVERY": "50",
            "HUB_AUDIT_CHECKPOINT_INTERVAL_S": "60",
        }
    )
    assert (checkpoint_path(s), s.audit_checkpoint_every, s.audit_checkpoint_interval_s) == (
        tmp_path / "cp.jsonl",
        50,
        60.0,
    )


# -- the command line ---------------------------------------------------------------------------------------


@pytest.fixture
def cli_db(hub_database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.chdir(tmp_path)
    for var in ("HUB_CONFIG", "HUB_DISABLED_PLUGINS", "HUB_NO_PLUGINS", "HUB_AUDIT_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HUB_DATABASE_URL", hub_database_url)
    monkeypatch.setenv("HUB_SECRET_KEY", "cli-audit-secret")
    return Path(hub_database_url.removeprefix("sqlite+aiosqlite:///"))


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_cli_exit_codes(cli_db: Path) -> None:
    for slug in ("billing-office", "meter-shop", "field-ops"):
        assert run("sections", "add", slug, "--title", slug.title())[0] == 0  # each stop checkpoints
    code, out = run("audit", "verify", "--require-checkpoints")
    assert code == 0 and "intact" in out and "3 checkpoints agree" in out, out

    checkpoints = cli_db.parent / "audit-checkpoints.jsonl"
    saved = checkpoints.read_bytes()
    checkpoints.unlink()
    code, out = run("audit", "verify")
    assert code == 0 and "no checkpoint file" in out and "intact" in out
    code, out = run("audit", "verify", "--require-checkpoints")
    assert code == 1 and "cannot prove the log was not truncated" in out
    checkpoints.write_bytes(saved)

    con = sqlite3.connect(cli_db)
    (newest,) = con.execute("SELECT max(seq) FROM hub_audit_log").fetchone()
    (kept,) = con.execute("SELECT hash FROM hub_audit_log WHERE seq = ?", (newest - 1,)).fetchone()
    con.execute("DELETE FROM hub_audit_log WHERE seq = ?", (newest,))
    con.execute("UPDATE hub_audit_head SET seq = ?, hash = ?", (newest - 1, kept))
    con.commit()
    code, out = run("audit", "verify")
    assert code == 1 and "truncated" in out and f"up to sequence {newest}" in out, out


async def test_the_api_reports_checkpoints(hub: Any, hub_client: Any, staff_token: Any) -> None:
    token = await staff_token("admin")
    async with hub.db.session() as session:
        await hub.audit.append(session, actor="a", action="x", target="t")
    await hub.audit.checkpoint(hub.db)
    body = (await hub_client.get("/api/audit/verify", headers={"Authorization": f"Bearer {token}"})).json()
    assert body["ok"] and body["checkpoints"] == 1 and body["warnings"] == []
    async with hub.db.session() as session:
        await session.execute(text("DELETE FROM hub_audit_log"))
        await session.execute(text("DELETE FROM hub_audit_head"))
    body = (await hub_client.get("/api/audit/verify", headers={"Authorization": f"Bearer {token}"})).json()
    assert not body["ok"] and any("emptied" in p for p in body["problems"])
