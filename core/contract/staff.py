"""Who is calling: the staff roles and the authenticated member of staff, as guards and handlers see them.

These are plain values (the staff store in ``core.staff`` builds them); a plugin's handler receives the
caller as ``staff: Staff`` through the web kit's dependency.
"""

from __future__ import annotations

import enum

import msgspec


class Role(enum.StrEnum):
    """The roles of ARCHITECTURE §6; a handler names the ones it allows in ``opt={"roles": [...]}``."""

    CSR = "csr"
    LEAD = "lead"
    SUPERVISOR = "supervisor"
    SECURITY = "security"
    ETEAM = "eteam"
    SOLAR = "solar"
    CRO = "cro"
    ADMIN = "admin"


class Staff(msgspec.Struct, frozen=True, kw_only=True):
    """The authenticated caller."""

    id: int
    name: str
    role: Role
    sections: frozenset[str]

    @property
    def actor(self) -> str:
        return f"staff:{self.name}"
