"""SMTP connector: delivers the mail outbox (``core.mail``) over SMTP, configured by ``HUB_SMTP_URL``.

URL forms (user and password are percent-decoded)::

    smtp://host[:port]                       plain SMTP (port 25)
    smtp://user:pass@host[:port]?starttls=1  STARTTLS required before AUTH (port 587)
    smtps://user:pass@host[:port]            implicit TLS (port 465)

Optional query keys: ``from`` (envelope sender and From header, default ``ccbhub@localhost``),
``timeout`` (seconds per SMTP command, default 10), ``verify=0`` (accept any certificate: test rigs only),
``cafile`` (a PEM bundle to trust instead of the system store), ``helo`` (the name sent in EHLO).

Delivery and its guarantees
---------------------------
:class:`MailSender` claims queued rows in id order with ``FOR UPDATE SKIP LOCKED`` (on PostgreSQL two hub
processes skip each other's rows; on SQLite ``BEGIN IMMEDIATE`` serialises the claimers, so the second one
sees the rows already marked). It sends each claimed row over one SMTP connection and marks it ``sent`` in
the *same* transaction, only after the server answered 250 to the message's data. A row is therefore never
marked sent without having been accepted, and never handed to two senders at once.

The residual at-least-once window: if the process dies (or the database commit fails) after the server
accepted a message but before the claiming transaction commits, the row is still ``queued`` and will be
sent again. The window spans at most one batch (``batch`` messages, a few tens of milliseconds with a
healthy server). It is accepted because losing a mail is worse than a rare duplicate, and mitigated by a
stable ``Message-ID`` (:func:`message_id`, derived from the row id and creation time, identical on every
attempt) that mail stores and clients use to fold duplicates. A graceful :meth:`MailSender.stop` finishes
the message in flight and commits, so ordinary restarts do not open the window.

Retries: a temporary failure (4xx, a refused connection, a timeout, a dropped connection) adds one to
``attempts``, stores ``last_error`` and schedules the row again after ``base_delay * 2**(attempts-1)``
seconds (capped at ``max_delay``); after ``max_attempts`` the row becomes ``failed``. A permanent rejection
(5xx on every recipient or on the data) fails the row at once: retrying a 550 only delays the bad news.
The retry schedule lives in process memory because the outbox table has no "next attempt" column, so a
restart (or a second hub process) may retry a row earlier than its backoff; attempts still count in the
table, so ``max_attempts`` bounds the total either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import email.utils
import logging
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from typing import Literal
from urllib.parse import parse_qsl, unquote, urlsplit

import aiosmtplib
from sqlalchemy import Select, select

from core.clock import Clock
from core.contract import CheckContext, CheckKind, CheckResult, CheckSpec, Severity
from core.db import Database
from core.mail import MailMessage
from core.retry import RetryPolicy
from core.settings import SettingsError

log = logging.getLogger("ccbhub.smtp")

ENV_NAME = "HUB_SMTP_URL"
Security = Literal["plain", "starttls", "tls"]
_DEFAULT_PORTS: dict[Security, int] = {"plain": 25, "starttls": 587, "tls": 465}
_QUERY_KEYS = frozenset({"starttls", "from", "timeout", "verify", "cafile", "helo"})
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _flag(key: str, value: str) -> bool:
    low = value.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise SettingsError(ENV_NAME, f"?{key}= expects 1 or 0, got {value!r}")


@dataclass(frozen=True, kw_only=True)
class SmtpConfig:
    """Where and how to deliver; built from ``HUB_SMTP_URL`` by :meth:`from_url`."""

    host: str
    port: int
    security: Security = "plain"
    username: str | None = None
    # Kept out of repr so a logged config never shows the secret.
    password: str | None = field(default=None, repr=False)
    from_addr: str = "ccbhub@localhost"
    timeout: float = 10.0
    verify: bool = True
    cafile: str | None = None
    helo: str | None = None

    @classmethod
    def from_url(cls, url: str) -> SmtpConfig:
        """Parse ``smtp://`` / ``smtps://``; anything malformed raises SettingsError naming HUB_SMTP_URL."""
        expected = "expected smtp://[user:pass@]host[:port][?starttls=1] or smtps://[user:pass@]host[:port]"
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError as exc:
            raise SettingsError(ENV_NAME, f"{expected} ({exc})") from None
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise SettingsError(ENV_NAME, expected)
        if parts.path not in {"", "/"} or parts.fragment:
            raise SettingsError(ENV_NAME, f"{expected} (no path or #fragment)")
        query: dict[str, str] = {}
        for key, value in parse_qsl(parts.query, keep_blank_values=True, strict_parsing=False):
            if key not in _QUERY_KEYS:
                raise SettingsError(
                    ENV_NAME, f"unknown option ?{key}= (known: {', '.join(sorted(_QUERY_KEYS))})"
                )
            query[key] = value
        starttls = _flag("starttls", query["starttls"]) if "starttls" in query else False
        security: Security
        if parts.scheme == "smtps":
            if starttls:
                raise SettingsError(ENV_NAME, "smtps:// is already TLS; drop ?starttls=1")
            security = "tls"
        else:
            security = "starttls" if starttls else "plain"
        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password is not None else None
        if password is not None and not username:
            raise SettingsError(ENV_NAME, "a password needs a user name (smtp://user:pass@host)")
        if username and password is None:
            raise SettingsError(ENV_NAME, "a user name needs a password (smtp://user:pass@host)")
        from_addr = query.get("from", "ccbhub@localhost")
        if "@" not in from_addr or any(c in from_addr for c in " <>,\r\n"):
            raise SettingsError(
                ENV_NAME, f"?from= must be a bare address like hub@example.org, got {from_addr!r}"
            )
        try:
            timeout = float(query.get("timeout", "10"))
        except ValueError:
            raise SettingsError(ENV_NAME, "?timeout= expects a number of seconds") from None
        if not 0 < timeout <= 300:
            raise SettingsError(ENV_NAME, "?timeout= must be within (0, 300] seconds")
        return cls(
            host=parts.hostname,
            port=port or _DEFAULT_PORTS[security],
            security=security,
            username=username,
            password=password,
            from_addr=from_addr,
            timeout=timeout,
            verify=_flag("verify", query["verify"]) if "verify" in query else True,
            cafile=query.get("cafile") or None,
            helo=query.get("helo") or None,
        )

    @property
    def domain(self) -> str:
        return self.from_addr.rpartition("@")[2]

    def tls_context(self) -> ssl.SSLContext | None:
        if self.security == "plain":
            return None
        context = ssl.create_default_context(cafile=self.cafile)
        if not self.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def client(self, *, timeout: float | None = None) -> aiosmtplib.SMTP:
        """A not-yet-connected client; ``connect()`` does TLS/STARTTLS and AUTH as configured."""
        return aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            # An explicit name: the library's default looks up the FQDN, which can stall without DNS.
            local_hostname=self.helo or socket.gethostname(),
            timeout=timeout if timeout is not None else self.timeout,
            use_tls=self.security == "tls",
            # False (not None) for plain: never upgrade opportunistically to a certificate we don't verify.
            start_tls=self.security == "starttls",
            tls_context=self.tls_context(),
        )

    def describe(self) -> str:
        return f"{self.security} {self.host}:{self.port}" + (" with AUTH" if self.username else "")


def message_id(row_id: int, created_at: dt.datetime, domain: str) -> str:
    """The row's Message-ID: the same on every attempt, so a duplicate after a crash can be folded.

    The creation time is part of it so that a rebuilt database reusing ids does not collide with old mail.
    """
    stamp = int(created_at.timestamp() * 1000)
    return f"<hub-{row_id}.{stamp}@{domain}>"


def _plain_ascii(text: str) -> bool:
    return text.isascii() and "\r" not in text and "\n" not in text


def build_message(row: MailMessage, config: SmtpConfig) -> bytes:
    """The RFC 5322 bytes for one outbox row (text/plain, UTF-8).

    Most hub mail is ASCII with short lines, and the stdlib's header objects cost over a millisecond per
    message, half of the sender's time: such mail is written directly (7bit needs no encoding at all).
    Anything else (non-ASCII, long lines) goes through ``EmailMessage`` for RFC 2047 and transfer encoding.
    """
    mid = message_id(row.id, row.created_at, config.domain)
    to = ", ".join(row.to_addrs.split(","))
    date = email.utils.format_datetime(row.created_at)
    body = row.body if row.body.endswith("\n") else row.body + "\n"
    simple = (
        all(_plain_ascii(v) for v in (row.subject, row.source, to, config.from_addr))
        and body.isascii()
        and max(map(len, body.splitlines()), default=0) <= 998
    )
    if simple:
        head = (
            f"From: {config.from_addr}\r\nTo: {to}\r\nSubject: {row.subject}\r\nDate: {date}\r\n"
            f"Message-ID: {mid}\r\nAuto-Submitted: auto-generated\r\nX-Hub-Source: {row.source}\r\n"
            'MIME-Version: 1.0\r\nContent-Type: text/plain; charset="utf-8"\r\n'
            "Content-Transfer-Encoding: 7bit\r\n\r\n"
        )
        return (head + body.replace("\r\n", "\n").replace("\n", "\r\n")).encode("ascii")
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["From"] = config.from_addr
    msg["To"] = to
    msg["Subject"] = row.subject
    msg["Date"] = date
    msg["Message-ID"] = mid
    # RFC 3834: tells auto-responders (vacation replies) not to answer a machine.
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Hub-Source"] = row.source
    msg.set_content(row.body)
    return msg.as_bytes()


@dataclass(frozen=True, slots=True)
class _Outcome:
    """How one send attempt ended."""

    sent: bool
    permanent: bool = False
    connection_lost: bool = False
    error: str | None = None


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _classify(exc: BaseException, smtp: aiosmtplib.SMTP) -> _Outcome:
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [r.code for r in exc.recipients]
        permanent = bool(codes) and all(code >= 500 for code in codes)
        return _Outcome(False, permanent, not smtp.is_connected, _describe(exc))
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        # 421 and friends close the session; a 5xx on MAIL/DATA is the server's final word on this mail.
        return _Outcome(False, exc.code >= 500, not smtp.is_connected, _describe(exc))
    # Timeouts, disconnects, socket errors: the message may or may not have arrived; retry it later.
    return _Outcome(False, False, True, _describe(exc))


class MailSender:
    """Background delivery of the mail outbox: ``start()``, ``stop()``, and ``kick()`` after queueing."""

    def __init__(
        self,
        db: Database,
        config: SmtpConfig,
        clock: Clock,
        *,
        batch: int = 50,
        max_attempts: int = 8,
        base_delay: float = 30.0,
        max_delay: float = 3600.0,
        poll_interval: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if batch < 1 or max_attempts < 1:
            raise ValueError("batch and max_attempts must be at least 1")
        self._db = db
        self.config = config
        self._clock = clock
        self._batch = batch
        self._max_attempts = max_attempts
        # No jitter: rows are retried one by one on their own schedule, never as a herd.
        self._retry = RetryPolicy(
            attempts=max_attempts, wait_initial_s=base_delay, wait_max_s=max_delay, jitter_s=0
        )
        self._poll = poll_interval
        self._monotonic = monotonic
        # Row id -> monotonic time before which it is not retried (see the module docstring on why here).
        self._not_before: dict[int, float] = {}
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self.sent = 0
        self.failed = 0
        self.deferred = 0
        self.last_error: str | None = None

    # -- life ------------------------------------------------------------------------------------------
    def kick(self) -> None:
        """Wake the sender now (e.g. after a transaction that queued mail committed)."""
        self._wake.set()

    async def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.get_running_loop().create_task(self._run(), name="mail-sender")

    async def stop(self, timeout: float = 10.0) -> None:
        """Finish the message in flight and commit, then stop; cancel if that takes over ``timeout``."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            async with asyncio.timeout(timeout):
                await asyncio.shield(task)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt (the hub's retry curve, no jitter)."""
        return self._retry.delay(max(1, attempts))

    async def _run(self) -> None:
        while not self._stopping:
            # Cleared before the work, so a kick that arrives while sending triggers another round.
            self._wake.clear()
            try:
                while await self.run_once() > 0 and not self._stopping:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Database trouble, typically; the rows stay queued and the next round retries.
                self.last_error = _describe(exc)
                log.warning("mail sender: %s", self.last_error)
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._next_delay()):
                    await self._wake.wait()

    def _next_delay(self) -> float:
        if not self._not_before:
            return self._poll
        soonest = min(self._not_before.values()) - self._monotonic()
        return max(0.0, min(self._poll, soonest))

    def _waiting(self) -> list[int]:
        """Ids still inside their backoff; expired entries are dropped on the way."""
        now = self._monotonic()
        self._not_before = {k: v for k, v in self._not_before.items() if v > now}
        return list(self._not_before)

    # -- one round -------------------------------------------------------------------------------------
    def _due_query(self, waiting: Sequence[int], limit: int) -> Select[MailMessage]:
        query = select(MailMessage).where(MailMessage.status == "queued")
        if waiting:
            query = query.where(MailMessage.id.not_in(waiting))
        return query.order_by(MailMessage.id).limit(limit)

    async def run_once(self) -> int:
        """Deliver due mail over one connection until none is left; returns rows handled (any outcome)."""
        # Look before connecting, and connect before claiming: on SQLite the claiming transaction holds the
        # database's write lock, so it must not also wait for a TCP/TLS handshake or an idle server.
        async with self._db.session() as session:
            first = await session.scalar(
                self._due_query(self._waiting(), 1).with_only_columns(MailMessage.id)
            )
        if first is None:
            return 0
        smtp = self.config.client()
        try:
            await smtp.connect()
        except Exception as exc:
            self.last_error = _describe(exc)
            log.warning("mail sender: cannot connect (%s): %s", self.config.describe(), self.last_error)
            return await self._record_unreachable(self.last_error)
        handled = 0
        try:
            while not self._stopping:
                count, lost = await self._send_batch(smtp)
                handled += count
                if lost or count < self._batch:
                    break
        finally:
            if smtp.is_connected:
                with contextlib.suppress(Exception):
                    await smtp.quit()
            smtp.close()
        return handled

    async def _record_unreachable(self, error: str) -> int:
        """The server could not be reached: one attempt for each due row of a batch, then back off."""
        async with self._db.session() as session:
            rows = (
                await session.execute(
                    self._due_query(self._waiting(), self._batch).with_for_update(skip_locked=True)
                )
            ).scalars()
            count = 0
            for row in rows:
                self._retry_or_fail(row, _Outcome(False, error=error))
                count += 1
        return count

    async def _send_batch(self, smtp: aiosmtplib.SMTP) -> tuple[int, bool]:
        """Claim, send and mark one batch in one transaction; returns (rows handled, connection lost)."""
        handled = 0
        lost = False
        async with self._db.session() as session:
            rows = (
                await session.execute(
                    self._due_query(self._waiting(), self._batch).with_for_update(skip_locked=True)
                )
            ).scalars()
            for row in rows:
                if self._stopping or lost:
                    # Claimed but not tried: left queued with no attempt counted.
                    break
                recipients = row.to_addrs.split(",")
                try:
                    data = build_message(row, self.config)
                except ValueError as exc:
                    # A row that cannot become a valid message (e.g. a CR in a header) never will.
                    self._retry_or_fail(row, _Outcome(False, permanent=True, error=_describe(exc)))
                    handled += 1
                    continue
                try:
                    refused, _reply = await smtp.sendmail(self.config.from_addr, recipients, data)
                except Exception as exc:
                    outcome = _classify(exc, smtp)
                else:
                    partial = "; ".join(f"{addr}: {err.code} {err.message}" for addr, err in refused.items())
                    outcome = _Outcome(True, error=f"refused by server: {partial}" if partial else None)
                handled += 1
                if outcome.sent:
                    row.status = "sent"
                    row.sent_at = self._clock.now()
                    row.attempts += 1
                    row.last_error = outcome.error
                    self.sent += 1
                else:
                    self.last_error = outcome.error
                    self._retry_or_fail(row, outcome)
                    lost = outcome.connection_lost
        return handled, lost

    def _retry_or_fail(self, row: MailMessage, outcome: _Outcome) -> None:
        row.attempts += 1
        row.last_error = outcome.error
        if outcome.permanent or row.attempts >= self._max_attempts:
            row.status = "failed"
            self._not_before.pop(row.id, None)
            self.failed += 1
            log.warning("mail %s failed after %s attempt(s): %s", row.id, row.attempts, outcome.error)
        else:
            self._not_before[row.id] = self._monotonic() + self.backoff(row.attempts)
            self.deferred += 1


# -- health check -------------------------------------------------------------------------------------------


async def smtp_check(ctx: CheckContext) -> CheckResult:
    """Connect (with TLS/AUTH as configured) and NOOP under a short timeout."""
    url = getattr(ctx.settings, "smtp_url", None)
    if not url:
        return CheckResult(passed=True, message="no HUB_SMTP_URL: mail stays in the outbox")
    try:
        config = SmtpConfig.from_url(url)
    except SettingsError as exc:
        return CheckResult(passed=False, message=str(exc))
    details: dict[str, object] = {"server": config.describe()}
    client = config.client(timeout=min(config.timeout, 3.0))
    started = time.perf_counter()
    try:
        await client.connect()
        reply = await client.noop()
    except Exception as exc:
        return CheckResult(
            passed=False, message=f"SMTP {config.describe()}: {_describe(exc)}", details=details
        )
    finally:
        if client.is_connected:
            with contextlib.suppress(Exception):
                await client.quit()
        client.close()
    details["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return CheckResult(
        passed=200 <= reply.code < 300,
        message=f"SMTP {config.describe()} answers {reply.code}",
        details=details,
    )


class SmtpConnector:
    """The ``mail.smtp`` / ``mail.smtps`` connector: ``HUB_SMTP_URL`` parsed once, its sender and check."""

    def __init__(self, url: str) -> None:
        self.config = SmtpConfig.from_url(url)

    def sender(self, db: Database, clock: Clock) -> MailSender:
        return MailSender(db, self.config, clock)

    async def check(self, ctx: CheckContext) -> CheckResult:
        return await smtp_check(ctx)


SMTP_CHECK = CheckSpec(
    name="smtp",
    run=smtp_check,
    kind=CheckKind.HEALTH,
    timeout_s=5.0,
    severity=Severity.WARNING,
    description="The mail server in HUB_SMTP_URL accepts a connection (TLS and AUTH as configured) and NOOP.",
)
