"""Mail delivery: mails/s through ``MailSender`` (claim, build, send, mark) vs raw aiosmtplib sends.

Both sides send to the same local aiosmtpd server (running in its own thread, counting messages). The
baseline is the floor the sender stands on: pre-built ``EmailMessage`` objects sent with ``send_message`` over
one reused connection. The sender's figure adds what delivery with a record costs: claiming rows from a real
migrated SQLite outbox, building each message, marking it sent in the claiming transaction.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import socket
import tempfile
import threading
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import func, insert, select

from benchmarks.registry import Result, RunOptions, benchmark, median, ratio
from connectors.smtp import MailSender, SmtpConfig
from core.clock import SystemClock
from core.db import Database
from core.mail import MailMessage
from core.migrate import upgrade

HOST = "127.0.0.1"
BODY = "Drawer 3 closed out of balance by -$20.00; please recount before the end of the day.\n" * 4


class _Counter:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.count += 1
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


async def _through_sender(url: str, n: int, config: SmtpConfig) -> float:
    db = Database(url)
    try:
        now = dt.datetime.now(dt.UTC)
        rows = [
            {
                "created_at": now,
                "source": "bench",
                "to_addrs": "csr@example.org",
                "subject": f"Bench {i}",
                "body": BODY,
                "status": "queued",
                "attempts": 0,
            }
            for i in range(n)
        ]
        async with db.session() as session:
            await session.execute(insert(MailMessage), rows)
        sender = MailSender(db, config, SystemClock(), batch=50)
        started = time.perf_counter()
        while await sender.run_once() > 0:
            pass
        elapsed = time.perf_counter() - started
        async with db.session() as session:
            sent = await session.scalar(
                select(func.count()).select_from(MailMessage).where(MailMessage.status == "sent")
            )
        if sent != n:
            raise RuntimeError(f"sender marked {sent} of {n} sent")
        return elapsed
    finally:
        await db.dispose()


async def _through_raw(n: int, config: SmtpConfig) -> float:
    messages = []
    for i in range(n):
        msg = EmailMessage()
        msg["From"] = config.from_addr
        msg["To"] = "csr@example.org"
        msg["Subject"] = f"Bench {i}"
        msg.set_content(BODY)
        messages.append(msg)
    smtp = config.client()
    await smtp.connect()
    try:
        started = time.perf_counter()
        for msg in messages:
            await smtp.send_message(msg)
        return time.perf_counter() - started
    finally:
        await smtp.quit()


@benchmark("smtp", order=60)
def smtp_throughput(opts: RunOptions) -> Result:
    """MailSender outbox→SMTP mails/s vs raw aiosmtplib send_message on one reused connection."""
    n = 300 if opts.quick else 2000
    trials = 1 if opts.quick else 3
    counter = _Counter()
    port = _free_port()
    controller = Controller(counter, hostname=HOST, port=port)
    controller.start()
    sender_times: list[float] = []
    raw_times: list[float] = []
    try:
        config = SmtpConfig.from_url(f"smtp://{HOST}:{port}?from=hub@bench.example.org")
        with tempfile.TemporaryDirectory(prefix="smtp-bench-") as tmp:
            template = Path(tmp) / "template.db"
            upgrade(f"sqlite+aiosqlite:///{template}")
            for i in range(trials):
                order = ["raw", "sender"] if i % 2 == 0 else ["sender", "raw"]
                for label in order:
                    gc.collect()
                    if label == "raw":
                        elapsed = asyncio.run(_through_raw(n, config))
                        raw_times.append(elapsed)
                    else:
                        db_path = Path(tmp) / f"trial{i}.db"
                        db_path.write_bytes(template.read_bytes())
                        elapsed = asyncio.run(_through_sender(f"sqlite+aiosqlite:///{db_path}", n, config))
                        sender_times.append(elapsed)
                    opts.progress(f"trial {i + 1}/{trials} {label}: {n / elapsed:,.0f} mails/s")
    finally:
        controller.stop()
    if counter.count != 2 * n * trials:
        raise RuntimeError(f"server received {counter.count} of {2 * n * trials} messages")
    sender_rate = n / median(sender_times)
    raw_rate = n / median(raw_times)
    return Result(
        name="smtp MailSender outbox→aiosmtpd",
        baseline_label="raw aiosmtplib send_message, reused connection",
        value=sender_rate,
        baseline_value=raw_rate,
        unit="mails/s",
        goal="report only (≥ 0.7× raw expected)",
        ratio=ratio(sender_rate, raw_rate),
        notes=f"{n:,} mails, batch 50, SQLite outbox; median of {trials}",
        met=None,
        details={"mails": n, "sender_seconds": sender_times, "raw_seconds": raw_times},
    )
