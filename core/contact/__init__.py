"""The customer contact layer: contacts, identity verification, the verified-contact guard, CSR workflows.

The hub's own parts import what they use of the layer from here: the guard (:func:`require_verified`,
its headers and roles, :class:`ContactAccess`, :class:`AccessDenied`), the running service
(:func:`service_for`) with its contact views, and :func:`dollars` for showing cents. Plugins never do:
they reach the guard, the contact desk, the roles and the errors through ``core.contract.contact``.
"""

from core.contact.common import dollars
from core.contact.contacts import ContactView
from core.contact.guard import (
    CONTACT_HEADER,
    CONTACT_ROLES,
    REASON_HEADER,
    REASON_ROLES,
    AccessDenied,
    ContactAccess,
    require_verified,
    require_verified_premise,
)
from core.contact.service import ContactService, service_for
from core.contact.verification import Locked

__all__ = [
    "CONTACT_HEADER",
    "CONTACT_ROLES",
    "REASON_HEADER",
    "REASON_ROLES",
    "AccessDenied",
    "ContactAccess",
    "ContactService",
    "ContactView",
    "Locked",
    "dollars",
    "require_verified",
    "require_verified_premise",
    "service_for",
]
