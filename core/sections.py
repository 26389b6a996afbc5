"""Sections and per-section plugin enablement, stored in the database and cached in each hub process.

The database row is the truth. Every change is audited and announced on the bus
(``hub.plugins.enablement_changed``), and each process reloads its cache from that event, so a change made
through one process takes effect in all of them without a restart.
"""

from __future__ import annotations

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import AuditLog
from core.db import Database
from core.models import PluginSection, Section
from core.outbox import EventWriter


class EnablementChanged(msgspec.Struct, frozen=True, kw_only=True):
    """Payload of ``hub.plugins.enablement_changed``."""

    plugin_id: str
    section: str
    enabled: bool


class SectionAdded(msgspec.Struct, frozen=True, kw_only=True):
    """Payload of ``hub.sections.added``."""

    section: str
    title: str


class UnknownSection(LookupError):
    pass


class Enablement:
    """Which plugin is enabled for which section; read on every guarded request, so kept in memory."""

    def __init__(self) -> None:
        self._enabled: dict[str, frozenset[str]] = {}
        self.sections: dict[str, str] = {}

    async def load(self, db: Database) -> None:
        async with db.session() as session:
            rows = (await session.execute(select(PluginSection))).scalars().all()
            sections = (await session.execute(select(Section).order_by(Section.slug))).scalars().all()
        enabled: dict[str, set[str]] = {}
        for row in rows:
            if row.enabled:
                enabled.setdefault(row.plugin_id, set()).add(row.section_slug)
        self._enabled = {k: frozenset(v) for k, v in enabled.items()}
        self.sections = {s.slug: s.title for s in sections}

    def sections_for(self, plugin_id: str) -> frozenset[str]:
        return self._enabled.get(plugin_id, frozenset())

    def allows(self, plugin_id: str, staff_sections: frozenset[str]) -> bool:
        return not self._enabled.get(plugin_id, frozenset()).isdisjoint(staff_sections)


async def ensure_sections(session: AsyncSession, wanted: dict[str, str]) -> list[str]:
    """Create missing sections (from config); returns the slugs created."""
    existing = set((await session.execute(select(Section.slug))).scalars())
    created = [slug for slug in wanted if slug not in existing]
    for slug in created:
        session.add(Section(slug=slug, title=wanted[slug]))
    return created


async def add_section(
    session: AsyncSession, events: EventWriter, audit: AuditLog, slug: str, title: str, actor: str
) -> bool:
    """Add a section; False when it already exists."""
    if await session.get(Section, slug) is not None:
        return False
    session.add(Section(slug=slug, title=title))
    await audit.append(session, actor=actor, action="section.add", target=slug, detail={"title": title})
    events.emit(session, "hub.sections.added", SectionAdded(section=slug, title=title), actor=actor)
    return True


async def set_enabled(
    session: AsyncSession,
    events: EventWriter,
    audit: AuditLog,
    *,
    plugin_id: str,
    section: str,
    enabled: bool,
    actor: str,
) -> bool:
    """Enable or disable a plugin for a section; returns False when nothing changed."""
    if await session.get(Section, section) is None:
        raise UnknownSection(section)
    row = await session.get(PluginSection, (plugin_id, section))
    if row is not None and row.enabled == enabled:
        return False
    if row is None:
        session.add(
            PluginSection(plugin_id=plugin_id, section_slug=section, enabled=enabled, changed_by=actor)
        )
    else:
        row.enabled = enabled
        row.changed_by = actor
    await audit.append(
        session,
        actor=actor,
        action="plugin.enable" if enabled else "plugin.disable",
        target=f"{plugin_id}@{section}",
        detail={"plugin": plugin_id, "section": section},
    )
    events.emit(
        session,
        "hub.plugins.enablement_changed",
        EnablementChanged(plugin_id=plugin_id, section=section, enabled=enabled),
        actor=actor,
    )
    return True


async def seed_from_config(
    session: AsyncSession, plugins_by_section: dict[str, list[str]], actor: str
) -> None:
    """Apply config's initial enablement only where no row exists yet: runtime changes win afterwards."""
    for section, plugin_ids in plugins_by_section.items():
        for pid in plugin_ids:
            if await session.get(PluginSection, (pid, section)) is None:
                session.add(
                    PluginSection(plugin_id=pid, section_slug=section, enabled=True, changed_by=actor)
                )
