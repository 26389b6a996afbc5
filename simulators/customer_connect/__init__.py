"""Simulated Oracle B2C Service ("Customer Connect", formerly RightNow) site: incidents over Connect REST.

- :mod:`.app`: the Litestar app (``/services/rest/connect/v1.4/incidents`` and its ``threads``).
- :mod:`.store`: the simulator's own SQLite database (``cc_`` tables) and the reference-number counter.
- :mod:`.contact_us`: deterministic synthetic "Contact Us" e-mails and their intake as incidents.
- :mod:`.cli`: ``ccbhub simulate customer-connect``.
"""

from simulators.customer_connect.app import SimulatorConfig, create_app
from simulators.customer_connect.contact_us import ContactUsEmail, generate_contact_us, ingest_contact_us
from simulators.customer_connect.store import IncidentStore

__all__ = [
    "ContactUsEmail",
    "IncidentStore",
    "SimulatorConfig",
    "create_app",
    "generate_contact_us",
    "ingest_contact_us",
]
