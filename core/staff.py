"""Staff users, their roles and sections, API tokens, password login with lockout, and web sessions."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import time

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import AuditLog
from core.clock import Clock
from core.contract.staff import Role, Staff
from core.db import Database
from core.models import ApiToken, Section, StaffSection, StaffUser, WebSession
from core.passwords import hash_password, new_token, token_hash, verify_password

# ARCHITECTURE §6 / issue 2: lockout after 10 failed logins, for 30 minutes.
MAX_FAILED_LOGINS = 10
LOCKOUT = dt.timedelta(minutes=30)
SESSION_LIFETIME = dt.timedelta(hours=10)  # one shift plus overtime
USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 10
# Resolved credentials are cached briefly: every API request needs them, and a token lookup is a DB read.
CACHE_SECONDS = 10.0


class StaffError(ValueError):
    """Bad input for a staff operation; ``field`` names what was wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class LoginResult(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool
    session_token: str | None = None
    locked_until: dt.datetime | None = None
    reason: str = ""


def _snapshot(user: StaffUser) -> Staff:
    return Staff(id=user.id, name=user.name, role=Role(user.role), sections=frozenset(user.section_slugs))


class StaffService:
    """Creates users and resolves credentials; owns the short credential cache."""

    def __init__(self, db: Database, audit: AuditLog, clock: Clock) -> None:
        self._db = db
        self._audit = audit
        self._clock = clock
        self._cache: dict[str, tuple[float, Staff | None]] = {}

    def invalidate(self) -> None:
        self._cache.clear()

    async def add_user(
        self,
        session: AsyncSession,
        *,
        name: str,
        role: str,
        sections: list[str],
        password: str | None,
        actor: str,
    ) -> tuple[StaffUser, str]:
        """Create a user and their first API token; returns (user, token) — the token is shown once."""
        if not USERNAME.fullmatch(name):
            raise StaffError(
                "name", "use 2-64 lower-case letters, digits, '.', '_' or '-', starting with a letter"
            )
        try:
            role_value = Role(role)
        except ValueError:
            raise StaffError("role", f"expected one of {', '.join(r.value for r in Role)}") from None
        if password is not None and len(password) < MIN_PASSWORD:
            raise StaffError("password", f"must be at least {MIN_PASSWORD} characters")
        if await session.scalar(select(StaffUser.id).where(StaffUser.name == name)) is not None:
            raise StaffError("name", f"a user named {name!r} already exists")
        known = set((await session.execute(select(Section.slug))).scalars())
        for slug in sections:
            if slug not in known:
                raise StaffError("section", f"unknown section {slug!r} (known: {', '.join(sorted(known))})")
        user = StaffUser(
            name=name,
            role=role_value.value,
            password_hash=hash_password(password) if password else None,
            created_at=self._clock.now(),
        )
        user.sections = [StaffSection(section_slug=s) for s in dict.fromkeys(sections)]
        session.add(user)
        await session.flush()
        token = await self.issue_token(session, user, label="initial")
        await self._audit.append(
            session,
            actor=actor,
            action="staff.add",
            target=f"staff:{name}",
            detail={"role": role_value.value, "sections": sorted(set(sections))},
        )
        return user, token

    async def issue_token(self, session: AsyncSession, user: StaffUser, label: str = "cli") -> str:
        token = new_token()
        session.add(
            ApiToken(user_id=user.id, token_hash=token_hash(token), label=label, created_at=self._clock.now())
        )
        return token

    async def resolve_token(self, token: str) -> Staff | None:
        key = "t:" + token_hash(token)
        return await self._cached(key, self._load_by_token)

    async def resolve_session(self, session_token: str) -> Staff | None:
        key = "s:" + token_hash(session_token)
        return await self._cached(key, self._load_by_session)

    async def _cached(self, key: str, loader: object) -> Staff | None:
        hit = self._cache.get(key)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            return hit[1]
        staff = await loader(key[2:])  # type: ignore[operator]
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[key] = (now + CACHE_SECONDS, staff)
        return staff

    async def _load_by_token(self, digest: str) -> Staff | None:
        async with self._db.read() as session:
            user = await session.scalar(
                select(StaffUser)
                .join(ApiToken, ApiToken.user_id == StaffUser.id)
                .where(
                    ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None), StaffUser.active.is_(True)
                )
            )
            return _snapshot(user) if user else None

    async def _load_by_session(self, digest: str) -> Staff | None:
        async with self._db.read() as session:
            row = await session.get(WebSession, digest)
            if row is None or row.expires_at <= self._clock.now():
                return None
            user = await session.get(StaffUser, row.user_id)
            return _snapshot(user) if user and user.active else None

    async def login(self, name: str, password: str) -> LoginResult:
        """Check a password; 10 failures lock the account for 30 minutes. Every attempt is audited."""
        now = self._clock.now()
        async with self._db.session() as session:
            user = await session.scalar(select(StaffUser).where(StaffUser.name == name))
            if user is not None and user.locked_until is not None and user.locked_until > now:
                await self._audit.append(
                    session, actor=f"staff:{name}", action="login.locked", target=f"staff:{name}"
                )
                return LoginResult(ok=False, locked_until=user.locked_until, reason="locked")
            ok = verify_password(user.password_hash if user else None, password) and bool(
                user and user.active
            )
            if not ok:
                if user is not None:
                    user.failed_logins += 1
                    if user.failed_logins >= MAX_FAILED_LOGINS:
                        user.locked_until = now + LOCKOUT
                        user.failed_logins = 0
                await self._audit.append(
                    session,
                    actor=f"staff:{name}",
                    action="login.failed",
                    target=f"staff:{name}",
                    detail={"locked": bool(user and user.locked_until and user.locked_until > now)},
                )
                locked = user.locked_until if user and user.locked_until and user.locked_until > now else None
                return LoginResult(ok=False, locked_until=locked, reason="locked" if locked else "invalid")
            assert user is not None
            user.failed_logins = 0
            user.locked_until = None
            raw = secrets.token_urlsafe(32)
            session.add(
                WebSession(
                    id_hash=token_hash(raw),
                    user_id=user.id,
                    created_at=now,
                    expires_at=now + SESSION_LIFETIME,
                )
            )
            await self._audit.append(
                session, actor=f"staff:{name}", action="login.ok", target=f"staff:{name}"
            )
            return LoginResult(ok=True, session_token=raw)

    async def logout(self, session_token: str) -> None:
        digest = token_hash(session_token)
        async with self._db.session() as session:
            row = await session.get(WebSession, digest)
            if row is not None:
                await session.delete(row)
        self._cache.pop("s:" + digest, None)
