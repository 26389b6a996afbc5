"""The SMTP connector against a real aiosmtpd server on 127.0.0.1 and a real migrated database.

Covers plain, AUTH, STARTTLS and implicit TLS delivery, the outage path (attempts recorded, nothing sent,
then everything delivered exactly once when the server comes up), giving up after ``max_attempts``,
permanent rejections, two senders sharing one database, and the health check. Delivery is counted by
Message-ID on the server side, so "exactly once" means what a mailbox would see.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from email.parser import BytesHeaderParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import func, select

from connectors.smtp import MailSender, SmtpConfig, smtp_check
from core.clock import ManualClock
from core.contract import CheckContext
from core.db import Database
from core.mail import Mailer, MailMessage, list_outbox
from core.migrate import upgrade

# aiosmtpd warns when AUTH is allowed without TLS; the plain-text AUTH variant does that on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

HOST = "127.0.0.1"
USER, PASSWORD = "hub", "s3cret:/@x"
PASSWORD_IN_URL = "s3cret%3A%2F%40x"
BOUNCE = "nobody@bounce.example.org"

try:
    import cryptography  # noqa: F401

    HAVE_CRYPTOGRAPHY = True
except ImportError:
    HAVE_CRYPTOGRAPHY = False

needs_tls = pytest.mark.skipif(
    not HAVE_CRYPTOGRAPHY,
    reason="the 'cryptography' package is not installed, so no self-signed certificate can be made",
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class Collector:
    """aiosmtpd handler keeping every accepted message's Message-ID (the server runs in its own thread)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.message_ids: list[str] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address == BOUNCE:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        headers = BytesHeaderParser().parsebytes(envelope.content)
        with self.lock:
            self.message_ids.append(str(headers["Message-ID"]))
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def counts(self) -> collections.Counter[str]:
        with self.lock:
            return collections.Counter(self.message_ids)


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


class Server:
    """A controllable aiosmtpd server on a fixed port (so it can be 'down' first and started later)."""

    def __init__(self, port: int, **smtp_kwargs: Any) -> None:
        self.port = port
        self.handler = Collector()
        self._kwargs = smtp_kwargs
        self._controller: Controller | None = None

    def start(self) -> None:
        self._controller = Controller(
            self.handler, hostname=HOST, port=self.port, server_hostname="localhost", **self._kwargs
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def server_factory() -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []

    def make(*, start: bool = True, port: int | None = None, **kwargs: Any) -> Server:
        srv = Server(port or free_port(), **kwargs)
        if start:
            srv.start()
        servers.append(srv)
        return srv

    yield make
    for srv in servers:
        srv.stop()


@pytest.fixture
async def db(hub_database_url: str) -> AsyncIterator[Database]:
    database = Database(hub_database_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(dt.datetime(2025, 3, 4, 16, 0, tzinfo=dt.UTC))


async def queue_mails(db: Database, clock: ManualClock, n: int, *, to: str = "csr@example.org") -> list[int]:
    mailer = Mailer(clock, "test")
    async with db.session() as session:
        rows = [await mailer.queue(session, to=[to], subject=f"Mail {i}", body=f"body {i}") for i in range(n)]
        return [r.id for r in rows]


async def statuses(db: Database) -> dict[str, int]:
    async with db.session() as session:
        result = await session.execute(select(MailMessage.status, func.count()).group_by(MailMessage.status))
        return {status: int(count) for status, count in result.all()}


async def wait_for(condition: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


def sender(db: Database, url: str, clock: ManualClock, **kwargs: Any) -> MailSender:
    kwargs.setdefault("base_delay", 0.05)
    kwargs.setdefault("max_delay", 0.2)
    kwargs.setdefault("poll_interval", 0.05)
    return MailSender(db, SmtpConfig.from_url(url), clock, **kwargs)


async def test_plain_delivery_marks_sent(db: Database, clock: ManualClock, server_factory: Any) -> None:
    srv = server_factory()
    ids = await queue_mails(db, clock, 7)
    s = sender(db, f"smtp://{HOST}:{srv.port}?from=hub@utility.example.org", clock)
    assert await s.run_once() == 7
    async with db.session() as session:
        rows = (await session.execute(select(MailMessage).order_by(MailMessage.id))).scalars().all()
    assert [r.status for r in rows] == ["sent"] * 7
    assert all(r.sent_at == clock.now() and r.attempts == 1 and r.last_error is None for r in rows)
    counts = srv.handler.counts()
    assert len(counts) == 7 and set(counts.values()) == {1}
    assert all(mid.endswith("@utility.example.org>") for mid in counts)
    assert srv.handler.envelopes[0] == ("hub@utility.example.org", ["csr@example.org"])
    # Sent in queue order.
    assert [int(m.split("-")[1].split(".")[0]) for m in srv.handler.message_ids] == ids


async def test_outage_then_recovery_delivers_each_mail_exactly_once(
    db: Database, clock: ManualClock, server_factory: Any
) -> None:
    srv = server_factory(start=False)
    await queue_mails(db, clock, 30)
    s = sender(db, f"smtp://{HOST}:{srv.port}", clock, batch=10)
    await s.start()
    try:
        # Server down: every mail gets an attempt recorded, nothing is sent.
        async def all_tried() -> bool:
            async with db.session() as session:
                untried = await session.scalar(
                    select(func.count()).select_from(MailMessage).where(MailMessage.attempts == 0)
                )
            return untried == 0

        await wait_for(all_tried)
        assert (await statuses(db)).get("sent", 0) == 0
        queued = [m for m in await list_outbox_all(db) if m.status == "queued"]
        assert len(queued) == 30 and all(m.last_error for m in queued)
        assert srv.handler.counts() == {}

        srv.start()
        s.kick()

        async def all_sent() -> bool:
            return await statuses(db) == {"sent": 30}

        await wait_for(all_sent)
    finally:
        await s.stop()
    counts = srv.handler.counts()
    assert len(counts) == 30 and set(counts.values()) == {1}


async def list_outbox_all(db: Database) -> list[Any]:
    async with db.session() as session:
        return await list_outbox(session, limit=1000)


async def test_gives_up_after_max_attempts(db: Database, clock: ManualClock) -> None:
    await queue_mails(db, clock, 3)
    s = sender(db, f"smtp://{HOST}:{free_port()}?timeout=2", clock, max_attempts=3, base_delay=0.01)
    for _ in range(3):
        await asyncio.sleep(0.03)  # past the (short) backoff
        assert await s.run_once() == 3
    async with db.session() as session:
        failed = await list_outbox(session, status="failed")
    assert len(failed) == 3
    assert all(m.attempts == 3 and m.last_error and m.sent_at is None for m in failed)
    # Nothing left to do: failed rows are never picked up again.
    assert await s.run_once() == 0


async def test_backoff_defers_a_failed_mail(db: Database, clock: ManualClock) -> None:
    await queue_mails(db, clock, 1)
    s = sender(db, f"smtp://{HOST}:{free_port()}", clock, base_delay=60, max_delay=600)
    assert await s.run_once() == 1
    assert await s.run_once() == 0  # inside its backoff window
    assert (s.backoff(1), s.backoff(3), s.backoff(10)) == (60, 240, 600)


async def test_permanent_rejection_fails_at_once_and_others_go_on(
    db: Database, clock: ManualClock, server_factory: Any
) -> None:
    srv = server_factory()
    await queue_mails(db, clock, 2)
    await queue_mails(db, clock, 1, to=BOUNCE)
    await queue_mails(db, clock, 2)
    s = sender(db, f"smtp://{HOST}:{srv.port}", clock)
    assert await s.run_once() == 5
    assert await statuses(db) == {"sent": 4, "failed": 1}
    async with db.session() as session:
        (bounced,) = await list_outbox(session, status="failed")
    assert bounced.attempts == 1 and "550" in (bounced.last_error or "")
    assert len(srv.handler.counts()) == 4


async def test_auth_delivery_and_wrong_password(
    db: Database, clock: ManualClock, server_factory: Any
) -> None:
    srv = server_factory(authenticator=authenticator, auth_required=True, auth_require_tls=False)
    await queue_mails(db, clock, 3)
    bad = sender(db, f"smtp://{USER}:wrong@{HOST}:{srv.port}", clock)
    assert await bad.run_once() == 3
    assert await statuses(db) == {"queued": 3}
    assert "535" in (bad.last_error or "") or "Authentication" in (bad.last_error or "")
    good = sender(db, f"smtp://{USER}:{PASSWORD_IN_URL}@{HOST}:{srv.port}", clock)
    assert good.config.password == PASSWORD
    assert await good.run_once() == 3
    assert await statuses(db) == {"sent": 3}
    assert len(srv.handler.counts()) == 3


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_two_senders_never_deliver_twice(
    backend: str,
    request: pytest.FixtureRequest,
    hub_database_url: str,
    clock: ManualClock,
    server_factory: Any,
) -> None:
    if backend == "postgres":
        url = request.getfixturevalue("postgres_url")
        await asyncio.to_thread(upgrade, url)
    else:
        url = hub_database_url
    srv = server_factory()
    # Two Database objects: two connection pools, as two hub processes would have.
    db_a, db_b = Database(url), Database(url)
    try:
        await queue_mails(db_a, clock, 120)
        smtp_url = f"smtp://{HOST}:{srv.port}"
        a, b = sender(db_a, smtp_url, clock, batch=7), sender(db_b, smtp_url, clock, batch=7)
        await a.start()
        await b.start()
        try:

            async def all_sent() -> bool:
                return await statuses(db_a) == {"sent": 120}

            await wait_for(all_sent, timeout=20)
        finally:
            await a.stop()
            await b.stop()
    finally:
        await db_a.dispose()
        await db_b.dispose()
    counts = srv.handler.counts()
    assert len(counts) == 120 and set(counts.values()) == {1}
    assert a.sent + b.sent == 120


async def test_health_check(db: Database, clock: ManualClock, server_factory: Any) -> None:
    srv = server_factory(authenticator=authenticator, auth_required=True, auth_require_tls=False)

    def ctx(url: str | None) -> CheckContext:
        return CheckContext(db=db, bus=None, clock=clock, settings=type("S", (), {"smtp_url": url})())  # type: ignore[arg-type]

    ok = await smtp_check(ctx(f"smtp://{USER}:{PASSWORD_IN_URL}@{HOST}:{srv.port}"))
    assert ok.passed and "250" in ok.message
    down = await smtp_check(ctx(f"smtp://{HOST}:{free_port()}"))
    assert not down.passed and "Connect" in down.message
    bad_auth = await smtp_check(ctx(f"smtp://{USER}:nope@{HOST}:{srv.port}"))
    assert not bad_auth.passed
    assert (await smtp_check(ctx(None))).passed


async def test_stop_waits_for_the_batch_in_flight(
    db: Database, clock: ManualClock, server_factory: Any
) -> None:
    srv = server_factory()
    await queue_mails(db, clock, 40)
    s = sender(db, f"smtp://{HOST}:{srv.port}", clock, batch=40)
    await s.start()
    await asyncio.sleep(0.03)
    await s.stop()
    # Whatever the server accepted is marked sent: nothing accepted-but-queued is left behind.
    done = await statuses(db)
    assert done.get("sent", 0) == len(srv.handler.counts())


# -- TLS variants (need a self-signed certificate) ---------------------------------------------------------


def make_certificate(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@needs_tls
async def test_starttls_with_auth(
    db: Database, clock: ManualClock, server_factory: Any, tmp_path: Path
) -> None:
    cert, key = make_certificate(tmp_path)
    srv = server_factory(
        tls_context=server_context(cert, key),
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    await queue_mails(db, clock, 4)
    url = f"smtp://{USER}:{PASSWORD_IN_URL}@{HOST}:{srv.port}?starttls=1&cafile={cert}"
    s = sender(db, url, clock)
    assert s.config.security == "starttls"
    assert await s.run_once() == 4
    assert await statuses(db) == {"sent": 4}
    assert len(srv.handler.counts()) == 4
    # Without trusting the certificate the handshake must fail, not fall back to plain text.
    untrusting = sender(db, f"smtp://{USER}:{PASSWORD_IN_URL}@{HOST}:{srv.port}?starttls=1", clock)
    await queue_mails(db, clock, 1)
    assert await untrusting.run_once() == 1
    assert (await statuses(db)).get("queued") == 1


@needs_tls
async def test_implicit_tls(db: Database, clock: ManualClock, server_factory: Any, tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path)
    srv = server_factory(ssl_context=server_context(cert, key))
    await queue_mails(db, clock, 3)
    s = sender(db, f"smtps://{HOST}:{srv.port}?cafile={cert}", clock)
    assert s.config.security == "tls"
    assert await s.run_once() == 3
    assert await statuses(db) == {"sent": 3}
    assert len(srv.handler.counts()) == 3
