"""The customer contact layer: contacts, identity verification, the verified-contact guard, CSR workflows."""

from core.contact.api import ContactAccess, require_verified, require_verified_premise

__all__ = ["ContactAccess", "require_verified", "require_verified_premise"]
